#[anam::class(class = "tests.Person")]
#[derive(serde::Serialize, serde::Deserialize)]
struct Person {
    #[serde(rename = "order")]
    sequence: Vec<i64>,
    #[anam(name = "order")]
    _order: Vec<i64>,
}

fn main() {}

#[anam::class(class = "tests.Person")]
#[derive(serde::Serialize, serde::Deserialize)]
struct Person {
    #[anam(rename = "nom")]
    name: String,
}

fn main() {}

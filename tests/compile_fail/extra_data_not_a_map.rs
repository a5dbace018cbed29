#[anam::class(class = "tests.Person")]
#[derive(serde::Serialize, serde::Deserialize)]
struct Person {
    name: String,
    #[anam(extra_data)]
    extra: Vec<(String, i64)>,
}

fn main() {}

#[derive(serde::Serialize, serde::Deserialize)]
#[anam::class(class = "tests.Person")]
struct Person {
    name: String,
}

fn main() {}

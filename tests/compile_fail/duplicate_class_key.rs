#[anam::class(class = "tests.Person", default_group = "a", default_group = "b")]
#[derive(serde::Serialize, serde::Deserialize)]
struct Person {
    name: String,
}

fn main() {}

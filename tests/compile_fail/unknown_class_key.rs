#[anam::class(class = "tests.Person", group = "person")]
#[derive(serde::Serialize, serde::Deserialize)]
struct Person {
    name: String,
}

fn main() {}

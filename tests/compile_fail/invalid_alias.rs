#[anam::class(class = "tests.Person", aliases("tests.OldPerson", "tests..Person"))]
#[derive(serde::Serialize, serde::Deserialize)]
struct Person {
    name: String,
}

fn main() {}

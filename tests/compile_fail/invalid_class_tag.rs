#[anam::class(class = "tests.2nd-Person")]
#[derive(serde::Serialize, serde::Deserialize)]
struct Person {
    name: String,
}

fn main() {}

#[anam::class]
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename = "tests.Person")]
struct Person {
    name: String,
}

fn main() {}

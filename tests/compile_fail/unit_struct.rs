#[anam::class(class = "tests.Nothing")]
#[derive(serde::Serialize, serde::Deserialize)]
struct Nothing;

fn main() {}

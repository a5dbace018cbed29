#[anam::class(class = "tests.Meters")]
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
struct Meters {
    value: f64,
}

fn main() {}

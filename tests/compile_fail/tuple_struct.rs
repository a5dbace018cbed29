#[anam::class(class = "tests.Point")]
#[derive(serde::Serialize, serde::Deserialize)]
struct Point(f64, f64);

fn main() {}

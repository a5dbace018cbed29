#[anam::class(class = "tests.Shape")]
#[derive(serde::Serialize, serde::Deserialize)]
enum Shape {
    Circle { r: f64 },
    Square { side: f64 },
}

fn main() {}

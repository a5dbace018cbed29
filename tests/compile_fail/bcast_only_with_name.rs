#[anam::class(class = "tests.Person")]
#[derive(serde::Serialize, serde::Deserialize)]
struct Person {
    #[anam(bcast_only, name = "stored_cache")]
    cache: Vec<f64>,
}

fn main() {}

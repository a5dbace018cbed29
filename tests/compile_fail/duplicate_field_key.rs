#[anam::class(class = "tests.Person")]
#[derive(serde::Serialize, serde::Deserialize)]
struct Person {
    #[anam(bcast_only)]
    #[anam(bcast_only)]
    cache: Vec<f64>,
}

fn main() {}

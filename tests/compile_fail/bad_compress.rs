#[anam::class(class = "tests.Scan")]
#[derive(serde::Serialize, serde::Deserialize)]
struct Scan {
    #[anam(compress = "gzip:12")]
    image: Vec<f64>,
    #[anam(compress = "brotli")]
    other: Vec<f64>,
}

fn main() {}

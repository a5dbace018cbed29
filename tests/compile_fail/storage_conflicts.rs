#[anam::class(class = "tests.Scan")]
#[derive(serde::Serialize, serde::Deserialize)]
struct Scan {
    #[anam(contiguous, compress = "lzf")]
    image: Vec<f64>,
    #[anam(chunks = [64, 64], chunk_bytes = 4096)]
    other: Vec<f64>,
    #[anam(chunks = [0, 4])]
    zero: Vec<f64>,
    #[anam(bcast_only, shuffle)]
    cache: Vec<f64>,
}

fn main() {}

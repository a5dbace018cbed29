#[anam::class(class = "tests.Wrapper")]
#[derive(serde::Serialize, serde::Deserialize)]
struct Wrapper<T> {
    value: T,
}

fn main() {}

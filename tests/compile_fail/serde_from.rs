#[derive(serde::Deserialize)]
struct Raw {
    name: String,
}

impl From<Raw> for Person {
    fn from(raw: Raw) -> Self {
        Person { name: raw.name }
    }
}

#[anam::class(class = "tests.Person")]
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(from = "Raw")]
struct Person {
    name: String,
}

fn main() {}

#[derive(serde::Deserialize)]
struct Raw {
    name: String,
}

impl TryFrom<Raw> for Person {
    type Error = String;
    fn try_from(raw: Raw) -> Result<Self, String> {
        Ok(Person { name: raw.name })
    }
}

#[anam::class(class = "tests.Person")]
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(try_from = "Raw")]
struct Person {
    name: String,
}

fn main() {}

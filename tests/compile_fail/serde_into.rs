#[derive(serde::Serialize, Clone)]
struct Raw {
    name: String,
}

impl From<Person> for Raw {
    fn from(p: Person) -> Self {
        Raw { name: p.name }
    }
}

#[anam::class(class = "tests.Person")]
#[derive(serde::Serialize, serde::Deserialize, Clone)]
#[serde(into = "Raw")]
struct Person {
    name: String,
}

fn main() {}

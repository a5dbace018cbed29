#[anam::class(class = "tests.Person", init = Person::hook)]
#[derive(serde::Serialize, serde::Deserialize)]
struct Person {
    name: String,
}

impl Person {
    fn hook(&mut self, _extra: i64) {}
}

fn main() {}

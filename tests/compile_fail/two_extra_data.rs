use std::collections::BTreeMap;

#[anam::class(class = "tests.Person")]
#[derive(serde::Serialize, serde::Deserialize)]
struct Person {
    #[anam(extra_data)]
    extra: BTreeMap<String, i64>,
    #[anam(extra_data)]
    more: BTreeMap<String, i64>,
}

fn main() {}

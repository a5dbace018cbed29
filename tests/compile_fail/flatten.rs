// The case of issue 11: a flattened map, meant to keep the entries that are not members.
use std::collections::BTreeMap;

#[anam::class(class = "tests.Person")]
#[derive(serde::Serialize, serde::Deserialize)]
struct Person {
    name: String,
    #[serde(flatten)]
    extra: BTreeMap<String, i64>,
}

fn main() {}

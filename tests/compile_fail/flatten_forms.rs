// `flatten` among other serde items, on a struct field, on the `extra_data` field, and
// behind `cfg_attr` (refused whatever the predicate, here one that is never true: the class
// must keep its layout in every configuration): each is reported.
use std::collections::BTreeMap;

#[derive(serde::Serialize, serde::Deserialize, Default)]
struct Address {
    city: String,
}

#[anam::class(class = "tests.Person")]
#[derive(serde::Serialize, serde::Deserialize)]
struct Person {
    name: String,
    #[serde(default, flatten)]
    home: Address,
    #[serde(rename = "w", flatten)]
    work: Address,
    #[anam(extra_data)]
    #[serde(flatten)]
    extra: BTreeMap<String, i64>,
    #[cfg_attr(any(), serde(flatten))]
    other: BTreeMap<String, String>,
}

fn main() {}

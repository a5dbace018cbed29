// A container `tag` is allowed, except beside `extra_data` (`tag = "class"` excepted).
#[anam::class(class = "tests.Person")]
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, tag = "kind")]
struct Person {
    name: String,
    #[anam(extra_data)]
    extra: anam::ExtraData,
}

fn main() {}

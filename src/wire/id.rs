//! Ids and other short text fields travel as JSON strings, but some clients and servers
//! send numbers (Tableau's Java client sends strings, browsers and the 10.0 API guide send
//! numbers: docs/protocol.md §1.5). Both sides read them through this one rule.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, Visitor};
use serde_json::Value;

/// The text of a string or number value (`"55"` and `55` both give `55`); `None` for
/// anything else.
pub fn id_text(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

/// [`id_text`] as an owned string.
pub fn id_string(value: &Value) -> Option<String> {
    id_text(value).map(Cow::into_owned)
}

/// The first `shown` ids, comma-separated, then how many more there are (`1, 2, 3 and 61
/// more`): how messages list ids.
pub fn first_ids<T: fmt::Display>(ids: impl ExactSizeIterator<Item = T>, shown: usize) -> String {
    let total = ids.len();
    let mut text = ids
        .take(shown)
        .map(|id| id.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if total > shown {
        text.push_str(&format!(" and {} more", total - shown));
    }
    text
}

/// An id read straight from JSON by the same rule as [`id_text`], without a [`Value`] in
/// between: a string or a number gives its text (a string borrowed from the JSON text
/// where it can be), anything else (skipped) gives `None`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct IdText<'a>(pub Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for IdText<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<IdText<'a>, D::Error> {
        deserializer.deserialize_any(IdTextVisitor {
            numbers: true,
            borrowed: std::marker::PhantomData,
        })
    }
}

/// A JSON string's text read straight from JSON (borrowed where it can be); anything
/// else (skipped) gives `None`. For names, which only strings are.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StrText<'a>(pub Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for StrText<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<StrText<'a>, D::Error> {
        let visitor = IdTextVisitor {
            numbers: false,
            borrowed: std::marker::PhantomData,
        };
        deserializer
            .deserialize_any(visitor)
            .map(|id| StrText(id.0))
    }
}

/// Reads strings, and numbers too when `numbers` is set; skips anything else.
struct IdTextVisitor<'a> {
    numbers: bool,
    borrowed: std::marker::PhantomData<&'a ()>,
}

impl<'de: 'a, 'a> Visitor<'de> for IdTextVisitor<'a> {
    type Value = IdText<'a>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an id")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<IdText<'a>, E> {
        Ok(IdText(Some(Cow::Borrowed(v))))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<IdText<'a>, E> {
        Ok(IdText(Some(Cow::Owned(v.to_string()))))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<IdText<'a>, E> {
        Ok(IdText(Some(Cow::Owned(v))))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<IdText<'a>, E> {
        Ok(IdText(self.numbers.then(|| Cow::Owned(v.to_string()))))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<IdText<'a>, E> {
        Ok(IdText(self.numbers.then(|| Cow::Owned(v.to_string()))))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<IdText<'a>, E> {
        // As `id_text` gives it: serde_json writes a float as it reads one.
        Ok(IdText(
            self.numbers.then(|| Cow::Owned(Value::from(v).to_string())),
        ))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<IdText<'a>, E> {
        Ok(IdText(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<IdText<'a>, E> {
        Ok(IdText(None))
    }

    fn visit_none<E: de::Error>(self) -> Result<IdText<'a>, E> {
        Ok(IdText(None))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<IdText<'a>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(IdText(None))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<IdText<'a>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(IdText(None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_and_numbers_are_the_same_id() {
        assert_eq!(id_text(&json!("55")).as_deref(), Some("55"));
        for value in [
            json!("55"),
            json!(55),
            json!(5.5),
            json!(null),
            json!([1]),
            json!({"a": 1}),
        ] {
            let text = value.to_string();
            let read: IdText = serde_json::from_str(&text).unwrap();
            assert_eq!(read.0.as_deref(), id_text(&value).as_deref(), "{value}");
        }
        let name: StrText = serde_json::from_str("\"Daily\"").unwrap();
        assert!(matches!(name.0, Some(Cow::Borrowed("Daily"))));
        let name: StrText = serde_json::from_str("55").unwrap();
        assert_eq!(name.0, None, "a name is a string");
        let borrowed: IdText = serde_json::from_str("\"55\"").unwrap();
        assert!(
            matches!(borrowed.0, Some(Cow::Borrowed("55"))),
            "{borrowed:?}"
        );
        assert_eq!(id_text(&json!(55)).as_deref(), Some("55"));
        assert_eq!(id_text(&json!(["55"])), None);
        assert_eq!(id_text(&json!(null)), None);
    }
}

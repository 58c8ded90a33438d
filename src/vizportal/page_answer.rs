//! One list page's answer read in a single pass over its bytes: the items straight into
//! the caller's values (through a serde seed), `totalCount` and `moreItems`, the side
//! tables copied as JSON text for name lookups, and whether `errors` were listed. No tree
//! of the page is built, and nothing read keeps a part of the body.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use super::listing::{SideTables, as_count};
use crate::wire::{self, StrText};

/// A page as the server answered it, its items read by the caller's seed.
pub struct PageAnswer<V> {
    /// The items (the seed's value; its default when the result has none or `null`).
    pub items: V,
    /// The page's other members, for name lookups.
    pub side: SideTables,
    pub(super) total: Option<usize>,
    pub(super) more: Option<bool>,
    /// The result lists errors: the answer is a failure, to be classified as one.
    pub(super) failed: bool,
    /// How many items the server served on this page, when `items` holds fewer (a
    /// conversion kept only some): the next page starts after all it served.
    pub(super) served: Option<usize>,
}

impl<I> PageAnswer<Vec<I>> {
    /// The same page with its items converted by `convert` (given the side tables), which
    /// may keep only some of them.
    pub fn map_items<W>(self, convert: impl FnOnce(Vec<I>, &SideTables) -> W) -> PageAnswer<W> {
        let served = self.items.len();
        PageAnswer {
            items: convert(self.items, &self.side),
            side: self.side,
            total: self.total,
            more: self.more,
            failed: self.failed,
            served: Some(served),
        }
    }
}

/// An answer body as text (checked as UTF-8 once here: read from bytes, serde_json
/// would check every string), for [`read_page`].
pub fn page_text<'b>(body: &'b [u8], items_key: &str) -> Result<&'b str, String> {
    std::str::from_utf8(body)
        .map_err(|e| format!("the answer cannot be read as a page of `{items_key}`: {e}"))
}

/// Read an answer `{"result": {...}}` whose result holds the items under `items_key`,
/// read by `seed`. `Err` says why the text is not such an answer.
pub fn read_page<'de, S>(
    text: &'de str,
    items_key: &str,
    seed: S,
) -> Result<PageAnswer<S::Value>, String>
where
    S: DeserializeSeed<'de>,
    S::Value: Default,
{
    let unreadable =
        |e: serde_json::Error| format!("the answer cannot be read as a page of `{items_key}`: {e}");
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let page = deserializer
        .deserialize_map(AnswerVisitor {
            items_key,
            seed: Some(seed),
        })
        .map_err(unreadable)?;
    deserializer.end().map_err(unreadable)?;
    Ok(page)
}

/// The envelope: only `result` is read.
struct AnswerVisitor<'k, S> {
    items_key: &'k str,
    seed: Option<S>,
}

impl<'de, S> Visitor<'de> for AnswerVisitor<'_, S>
where
    S: DeserializeSeed<'de>,
    S::Value: Default,
{
    type Value = PageAnswer<S::Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an answer object")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut page = None;
        while let Some(StrText(key)) = map.next_key::<StrText<'de>>()? {
            let key = key.unwrap_or_default();
            match self.seed.take() {
                Some(seed) if key == "result" => {
                    page = Some(map.next_value_seed(ResultVisitor {
                        items_key: self.items_key,
                        seed: Some(seed),
                    })?);
                }
                seed => {
                    self.seed = seed;
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        page.ok_or_else(|| de::Error::missing_field("result"))
    }
}

/// The `result` object (read as a seed holding the items' seed).
struct ResultVisitor<'k, S> {
    items_key: &'k str,
    seed: Option<S>,
}

impl<'de, S> DeserializeSeed<'de> for ResultVisitor<'_, S>
where
    S: DeserializeSeed<'de>,
    S::Value: Default,
{
    type Value = PageAnswer<S::Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, S> Visitor<'de> for ResultVisitor<'_, S>
where
    S: DeserializeSeed<'de>,
    S::Value: Default,
{
    type Value = PageAnswer<S::Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a result object")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut items = None;
        let (mut total, mut more, mut failed) = (None, None, false);
        let mut tables = HashMap::new();
        while let Some(StrText(key)) = map.next_key::<StrText<'de>>()? {
            let key = key.unwrap_or_default();
            if key == self.items_key {
                match self.seed.take() {
                    Some(seed) => items = Some(map.next_value_seed(NullAsDefault(seed))?),
                    None => return Err(de::Error::duplicate_field("items")),
                }
                continue;
            }
            match key.as_ref() {
                "totalCount" => total = as_count(&map.next_value::<Value>()?),
                "moreItems" => more = map.next_value::<Value>()?.as_bool(),
                // Anything but an empty list counts as errors, as in `parse_answer`.
                wire::ERRORS => {
                    failed = !matches!(map.next_value::<Value>()?, Value::Array(a) if a.is_empty());
                }
                // A copy: what is read from a page keeps nothing of its body, which is
                // then free for the next page's answer.
                _ => {
                    tables.insert(key.into_owned(), map.next_value::<Box<RawValue>>()?);
                }
            }
        }
        Ok(PageAnswer {
            items: items.unwrap_or_default(),
            side: SideTables::new(tables),
            total,
            more,
            failed,
            served: None,
        })
    }
}

/// Reads `null` as the seed's default value, anything else through the seed.
struct NullAsDefault<S>(S);

impl<'de, S> DeserializeSeed<'de> for NullAsDefault<S>
where
    S: DeserializeSeed<'de>,
    S::Value: Default,
{
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de, S> Visitor<'de> for NullAsDefault<S>
where
    S: DeserializeSeed<'de>,
    S::Value: Default,
{
    type Value = S::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of items or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(S::Value::default())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(S::Value::default())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        self.0.deserialize(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::marker::PhantomData;

    type Ids = PhantomData<Vec<Value>>;

    fn read(body: &[u8]) -> Result<PageAnswer<Vec<Value>>, String> {
        read_page(page_text(body, "tasks")?, "tasks", Ids::default())
    }

    #[test]
    fn a_page_is_read_with_its_counts_and_side_tables() {
        let body = br#"{"result":{"workbooks":[{"id":"7","name":"Sales"}],"tasks":[{"id":"1"},{"id":"2"}],"totalCount":"40","moreItems":true}}"#;
        let page = read(body).unwrap();
        assert_eq!(page.items.len(), 2);
        assert_eq!(
            (page.total, page.more, page.failed),
            (Some(40), Some(true), false)
        );
        assert_eq!(page.side.names("workbooks", str::to_string)["7"], "Sales");
    }

    #[test]
    fn nothing_read_keeps_the_body() {
        let body = br#"{"result":{"workbooks":[{"id":"7","name":"Sales"}],"tasks":[{"id":"1"}]}}"#;
        let body = bytes::Bytes::from(body.to_vec());
        let page = read_page(page_text(&body, "tasks").unwrap(), "tasks", Ids::default());
        let page = page.unwrap();
        assert!(body.is_unique(), "the body is free once read");
        assert_eq!(page.side.names("workbooks", str::to_string)["7"], "Sales");
    }

    #[test]
    fn missing_or_null_items_are_none_and_errors_mark_a_failure() {
        let page = read(br#"{"result":{"tasks":null}}"#).unwrap();
        assert!(page.items.is_empty() && !page.failed);
        let page = read(br#"{"result":{"totalCount":0}}"#).unwrap();
        assert!(page.items.is_empty());
        let page = read(br#"{"result":{"errors":[{"code":9}]}}"#).unwrap();
        assert!(page.failed);
        let page = read(br#"{"result":{"errors":[]}}"#).unwrap();
        assert!(!page.failed);
    }

    #[test]
    fn anything_else_is_refused_with_the_reason() {
        for body in [
            &b"<html>sign in</html>"[..],
            br#"{"nothing":1}"#,
            br#"{"result":[1]}"#,
            br#"{"result":{"tasks":{"not":"a list"}}}"#,
            br#"{"result":{}} trailing"#,
        ] {
            let error = read(body).err().unwrap();
            assert!(error.contains("page of `tasks`"), "{error}");
        }
    }
}

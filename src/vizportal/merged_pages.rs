//! Every page of any list method as one result. The typed lists (`list_all`) know which
//! member holds the items; this pages through a method nobody typed: it finds the items
//! member (named by the caller, else guessed from the method name or the first page),
//! fetches the remaining pages a few at a time once `totalCount` is known, and merges
//! every array member of every page. Side tables (`schedules`, `workbooks`, ...) repeat
//! across pages, so elements with an `id` (and plain values) are kept once.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use super::error::VizportalError;
use super::listing::{PageShape, ProgressFn, as_count, pageable_params};
use super::session::Session;

/// The result members of every page, merged.
#[derive(Debug, Default)]
struct MergedPages {
    members: Map<String, Value>,
    seen: HashMap<String, HashSet<String>>,
}

impl MergedPages {
    /// Add one page: array members grow (without repeating an id or a plain value);
    /// other members keep the first page's value.
    fn absorb(&mut self, page: Map<String, Value>) {
        for (key, value) in page {
            let Value::Array(items) = value else {
                self.members.entry(key).or_insert(value);
                continue;
            };
            let seen = self.seen.entry(key.clone()).or_default();
            let merged = self
                .members
                .entry(key)
                .or_insert_with(|| Value::Array(Vec::new()));
            let Value::Array(merged) = merged else {
                continue;
            };
            for item in items {
                if identity(&item).is_none_or(|id| seen.insert(id)) {
                    merged.push(item);
                }
            }
        }
    }

    /// The merged result: shaped like one page holding everything.
    fn finish(mut self, items_key: &str) -> Map<String, Value> {
        let count = self
            .members
            .get(items_key)
            .and_then(Value::as_array)
            .map(Vec::len);
        if let (Some(count), true) = (count, self.members.contains_key("totalCount")) {
            self.members.insert("totalCount".into(), json!(count));
        }
        self.members.insert("moreItems".into(), Value::Bool(false));
        self.members
    }
}

/// What makes two elements of an array member the same: an object's `id`, or a plain
/// value itself. Objects without an id are never merged away.
fn identity(item: &Value) -> Option<String> {
    match item {
        Value::Object(fields) => match fields.get("id")? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        },
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The member of a list result that holds the items: `known` when given and present,
/// else the method's noun (`getViews` -> `views`), else the longest array (side tables
/// name at most one row per item, so they are never longer).
pub fn items_member(
    method: &str,
    known: Option<&str>,
    result: &Map<String, Value>,
) -> Option<String> {
    let is_array = |key: &str| result.get(key).is_some_and(Value::is_array);
    if let Some(key) = known.filter(|k| is_array(k)) {
        return Some(key.to_string());
    }
    let noun = method.strip_prefix("get").map(|rest| {
        let mut chars = rest.chars();
        chars
            .next()
            .map(|c| c.to_ascii_lowercase().to_string() + chars.as_str())
            .unwrap_or_default()
    });
    if let Some(noun) = noun.filter(|n| is_array(n)) {
        return Some(noun);
    }
    result
        .iter()
        .filter_map(|(key, value)| Some((key, value.as_array()?.len())))
        .max_by_key(|(_, len)| *len)
        .map(|(key, _)| key.clone())
}

fn array_len(page: &Map<String, Value>, key: &str) -> usize {
    page.get(key).and_then(Value::as_array).map_or(0, Vec::len)
}

impl Session {
    /// Every page of the list method `method`, merged into one result (see the module
    /// doc). `params` holds `filter`/`order`; `page` is set here. Only reads may be
    /// paged: anything else would repeat a change.
    pub fn all_pages(
        &self,
        method: &str,
        params: &Value,
        items_key: Option<&str>,
        progress: ProgressFn<'_>,
    ) -> Result<Map<String, Value>, VizportalError> {
        let base = pageable_params(method, params)?;
        let page = |start: usize, size: usize| -> Result<Map<String, Value>, VizportalError> {
            let mut body = base.clone();
            body.insert(
                "page".into(),
                json!({ "startIndex": start, "maxItems": size }),
            );
            match self.call(method, &Value::Object(body))? {
                Value::Object(result) => Ok(result),
                _ => Ok(Map::new()),
            }
        };
        let (first, page_size) = self.first_page(method, &page)?;
        let Some(key) = items_member(method, items_key, &first) else {
            return Ok(first);
        };
        // Each page with how many items it served, counted in the list `key` names.
        let shaped = |result: Map<String, Value>| MergedPage {
            served: array_len(&result, &key),
            result,
        };
        let fetch = |start: usize, size: usize| page(start, size).map(shaped);
        let total = first.get("totalCount").and_then(as_count);
        let mut merged = MergedPages::default();
        let mut next = 0;
        self.each_page(method, (shaped(first), page_size), &fetch, &mut |page| {
            next += page.served;
            merged.absorb(page.result);
            progress(next, total);
        })?;
        Ok(merged.finish(&key))
    }
}

/// A page of a merged list, with how many items it served.
struct MergedPage {
    result: Map<String, Value>,
    served: usize,
}

impl PageShape for MergedPage {
    fn served(&self) -> usize {
        self.served
    }
    fn more(&self) -> Option<bool> {
        self.result.get("moreItems").and_then(Value::as_bool)
    }
    fn total(&self) -> Option<usize> {
        self.result.get("totalCount").and_then(as_count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn pages_merge_with_side_tables_kept_once() {
        let mut merged = MergedPages::default();
        merged.absorb(object(json!({
            "totalCount": 3, "moreItems": true,
            "views": [{"id": "1"}, {"id": "2"}],
            "workbooks": [{"id": "9", "name": "Sales"}],
            "favorites": ["1"], "maxStats": {"hitsTotal": 5}
        })));
        merged.absorb(object(json!({
            "totalCount": 3, "moreItems": false,
            "views": [{"id": "3"}],
            "workbooks": [{"id": "9", "name": "Sales"}, {"id": "8", "name": "Ops"}],
            "favorites": ["1", "3"], "maxStats": {"hitsTotal": 7}
        })));
        let result = merged.finish("views");
        assert_eq!(
            result["views"],
            json!([{"id": "1"}, {"id": "2"}, {"id": "3"}])
        );
        assert_eq!(
            result["workbooks"],
            json!([{"id": "9", "name": "Sales"}, {"id": "8", "name": "Ops"}])
        );
        assert_eq!(result["favorites"], json!(["1", "3"]));
        assert_eq!(result["maxStats"], json!({"hitsTotal": 5}));
        assert_eq!(result["moreItems"], false);
        assert_eq!(result["totalCount"], 3);
    }

    #[test]
    fn only_reads_are_paged() {
        let refused = pageable_params("runExtractTasks", &json!({})).unwrap_err();
        assert!(
            refused.to_string().contains("not a list method"),
            "{refused}"
        );
        assert!(pageable_params("getViews", &json!([1])).is_err());
        assert!(
            pageable_params("getViews", &Value::Null)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn the_items_member_is_named_guessed_or_the_longest() {
        let page = object(json!({
            "tasks": [1, 2, 3], "schedules": [1], "backgroundJobs": [1]
        }));
        assert_eq!(
            items_member("getExtractTasks", Some("tasks"), &page).as_deref(),
            Some("tasks")
        );
        assert_eq!(
            items_member("getBackgroundJobs", None, &page).as_deref(),
            Some("backgroundJobs")
        );
        assert_eq!(
            items_member("getWhatever", None, &page).as_deref(),
            Some("tasks")
        );
        assert_eq!(items_member("getX", None, &Map::new()), None);
    }
}

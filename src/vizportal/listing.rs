//! List calls that fetch every page. Vizportal pages with `page {startIndex, maxItems}` and
//! answers `totalCount` and `moreItems`, plus side tables (`schedules`, `sites`, ...) that
//! the items refer to by id. The server may serve fewer items than asked; the next page
//! starts where the last one ended. Once `totalCount` is known, the remaining pages can be
//! fetched a few at a time.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value, json};

use super::error::VizportalError;
use super::parallel::in_order;
use super::session::Session;
use crate::wire::code;

/// Every item of a list call, with the side tables of all pages merged.
#[derive(Debug, Default)]
pub struct Listing {
    /// The items, in server order.
    pub items: Vec<Value>,
    /// Side tables by name (`schedules`, `sites`, `workbooks`, ...), de-duplicated by id.
    pub side: BTreeMap<String, Vec<Value>>,
    /// Pages requested.
    pub pages: usize,
}

impl Listing {
    /// Map `id -> name` of one side table.
    pub fn names(&self, table: &str) -> std::collections::HashMap<String, String> {
        self.side
            .get(table)
            .map(|rows| {
                rows.iter()
                    .filter_map(|row| {
                        Some((id_text(&row["id"])?, row["name"].as_str()?.to_string()))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Progress reports while paging: `(items so far, total if known)`.
pub type ProgressFn<'a> = &'a (dyn Fn(usize, Option<usize>) + Sync);

/// One page as the server answered it.
struct Page {
    items: Vec<Value>,
    side: Map<String, Value>,
    total: Option<usize>,
    more: Option<bool>,
}

impl Session {
    /// Fetch every page of a list method. `params` holds `filter`/`order`; `page` is set
    /// here. `items_key` names the item array in the result (`tasks`, `schedules`, ...).
    pub fn list_all(
        &self,
        method: &str,
        params: &Value,
        items_key: &str,
        progress: ProgressFn<'_>,
    ) -> Result<Listing, VizportalError> {
        let (first, page_size) = self.first_page(method, params, items_key)?;
        let mut listing = Listing::default();
        let mut seen_side: BTreeMap<String, HashSet<String>> = BTreeMap::new();
        let served = first.items.len();
        let (total, mut more) = (first.total, first.more);
        let mut next = served;
        absorb(&mut listing, &mut seen_side, first);
        progress(listing.items.len(), total);
        if let (Some(total), true) = (total, self.concurrency > 1 && served > 0) {
            let starts: Vec<usize> = (served..total).step_by(served).collect();
            for page in self.fetch_concurrently(method, params, items_key, &starts, served)? {
                more = page.more;
                next += page.items.len();
                absorb(&mut listing, &mut seen_side, page);
                progress(listing.items.len(), Some(total));
            }
        }
        while has_more(more, total, next) {
            let page = self.fetch_page(method, params, items_key, next, page_size)?;
            if page.items.is_empty() {
                break;
            }
            next += page.items.len();
            more = page.more;
            absorb(&mut listing, &mut seen_side, page);
            progress(listing.items.len(), total);
        }
        Ok(listing)
    }

    /// The first page, shrinking the page size if the server refuses it as too large.
    fn first_page(
        &self,
        method: &str,
        params: &Value,
        items_key: &str,
    ) -> Result<(Page, usize), VizportalError> {
        let mut size = self.page_size;
        loop {
            match self.fetch_page(method, params, items_key, 0, size) {
                Err(e) if e.code() == Some(code::INVALID_PAGE_SIZE) && size > 10 => {
                    size /= 2;
                    tracing::info!("{method}: the server refused the page size; trying {size}");
                }
                other => return other.map(|page| (page, size)),
            }
        }
    }

    fn fetch_concurrently(
        &self,
        method: &str,
        params: &Value,
        items_key: &str,
        starts: &[usize],
        size: usize,
    ) -> Result<Vec<Page>, VizportalError> {
        let fetch = |start: &usize| self.fetch_page(method, params, items_key, *start, size);
        in_order(self.concurrency, starts, fetch, Result::is_err)
            .into_iter()
            .flatten()
            .collect()
    }

    fn fetch_page(
        &self,
        method: &str,
        params: &Value,
        items_key: &str,
        start: usize,
        size: usize,
    ) -> Result<Page, VizportalError> {
        let mut body = match params {
            Value::Object(map) => map.clone(),
            Value::Null => Map::new(),
            _ => {
                return Err(VizportalError::Usage(format!(
                    "{method}: params must be a map"
                )));
            }
        };
        body.insert(
            "page".into(),
            json!({ "startIndex": start, "maxItems": size }),
        );
        let result = self.call(method, &Value::Object(body))?;
        let Value::Object(mut result) = result else {
            return Err(VizportalError::transport(
                method,
                "the result is not an object",
            ));
        };
        let items = match result.remove(items_key) {
            Some(Value::Array(items)) => items,
            None | Some(Value::Null) => Vec::new(),
            Some(_) => {
                return Err(VizportalError::transport(
                    method,
                    format!("`{items_key}` in the result is not an array"),
                ));
            }
        };
        let total = result.remove("totalCount").and_then(|v| as_count(&v));
        let more = result.remove("moreItems").and_then(|v| v.as_bool());
        Ok(Page {
            items,
            side: result,
            total,
            more,
        })
    }
}

fn as_count(value: &Value) -> Option<usize> {
    match value {
        Value::Number(n) => n.as_u64().map(|n| n as usize),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// `moreItems` when the server says it; otherwise compare with `totalCount`.
fn has_more(more: Option<bool>, total: Option<usize>, next: usize) -> bool {
    match (more, total) {
        (Some(more), _) => more,
        (None, Some(total)) => next < total,
        (None, None) => false,
    }
}

fn absorb(listing: &mut Listing, seen: &mut BTreeMap<String, HashSet<String>>, page: Page) {
    listing.pages += 1;
    listing.items.extend(page.items);
    for (table, rows) in page.side {
        let Value::Array(rows) = rows else { continue };
        let seen = seen.entry(table.clone()).or_default();
        let merged = listing.side.entry(table).or_default();
        for row in rows {
            let key = id_text(&row["id"]).unwrap_or_else(|| row.to_string());
            if seen.insert(key) {
                merged.push(row);
            }
        }
    }
}

/// Ids arrive as strings; some servers send numbers.
pub fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_items_wins_over_total_count() {
        assert!(has_more(Some(true), Some(5), 10));
        assert!(!has_more(Some(false), Some(50), 10));
        assert!(has_more(None, Some(50), 10));
        assert!(!has_more(None, None, 10));
    }

    #[test]
    fn side_tables_merge_without_duplicates() {
        let mut listing = Listing::default();
        let mut seen = BTreeMap::new();
        for _ in 0..2 {
            let mut side = Map::new();
            side.insert(
                "schedules".into(),
                json!([{"id": "1", "name": "Daily"}, {"id": 2, "name": "Hourly"}]),
            );
            absorb(
                &mut listing,
                &mut seen,
                Page {
                    items: vec![json!({"id": "9"})],
                    side,
                    total: None,
                    more: None,
                },
            );
        }
        assert_eq!(listing.items.len(), 2);
        assert_eq!(listing.side["schedules"].len(), 2);
        assert_eq!(listing.names("schedules")["2"], "Hourly");
    }
}

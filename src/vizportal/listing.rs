//! List calls that fetch every page. Vizportal pages with `page {startIndex, maxItems}` and
//! answers `totalCount` and `moreItems`, plus side tables (`schedules`, `sites`, ...) that
//! the items of that page refer to by id. The server may serve fewer items than asked;
//! the next page starts where the last one ended. Once `totalCount` is known, the
//! remaining pages are fetched a few at a time. Each page's items are converted as soon
//! as the page arrives (with that page's side tables at hand), so a list of 100,000 items
//! is never held twice.

use std::borrow::Cow;
use std::collections::HashMap;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::error::VizportalError;
use super::method::MethodKind;
use super::page_answer::PageAnswer;
use super::parallel::in_order;
use super::session::Session;
use crate::wire::{IdText, StrText, code};

/// Side tables of one page, with name lookups by id. Each table stays JSON text until a
/// lookup reads it, and then only rows' `id` and `name` are read.
#[derive(Default)]
pub struct SideTables {
    /// Each table's JSON text (copied from its page's answer).
    tables: HashMap<String, Box<RawValue>>,
}

/// What a name lookup reads of a side table's row, borrowed from the table's text; other
/// fields are skipped.
#[derive(Deserialize)]
struct NamedRow<'a> {
    #[serde(borrow, default)]
    id: IdText<'a>,
    #[serde(borrow, default)]
    name: StrText<'a>,
}

impl SideTables {
    pub(super) fn new(tables: HashMap<String, Box<RawValue>>) -> SideTables {
        SideTables { tables }
    }

    /// Side tables from a result object (tests build pages by hand).
    #[cfg(test)]
    pub(crate) fn from_value(value: Value) -> SideTables {
        let tables = match value {
            Value::Object(tables) => tables
                .into_iter()
                .map(|(k, v)| (k, serde_json::value::to_raw_value(&v).unwrap()))
                .collect(),
            _ => HashMap::new(),
        };
        SideTables { tables }
    }

    /// Map `id -> name` of one side table, each name made into a `T` by `make`; rows
    /// without a text id or a string name are left out, and so is a table that is not a
    /// list of objects. Ids are borrowed from the table where they can be.
    pub fn names<T>(
        &self,
        table: &str,
        make: impl Fn(&str) -> T,
    ) -> HashMap<Cow<'_, str>, T, ahash::RandomState> {
        let Some(raw) = self.tables.get(table) else {
            return HashMap::default();
        };
        let rows: Vec<NamedRow> = serde_json::from_str(raw.get()).unwrap_or_default();
        let mut names = HashMap::with_capacity_and_hasher(rows.len(), Default::default());
        names.extend(
            rows.into_iter()
                .filter_map(|row| Some((row.id.0?, make(&row.name.0?)))),
        );
        names
    }
}

/// Converts one page's items (read straight from the answer as `I`); gets the page's
/// side tables.
pub type ConvertFn<'a, I, T> = &'a (dyn Fn(Vec<I>, &SideTables) -> Vec<T> + Sync);

/// Progress reports while paging: `(items so far, total if known)`.
pub type ProgressFn<'a> = &'a (dyn Fn(usize, Option<usize>) + Sync);

/// One page's answer read into values.
type Page<T> = PageAnswer<Vec<T>>;

/// Reads one page's answer body with [`read_page`] (given the items key), the items
/// straight into the caller's values; `Err` says why it cannot.
pub type ReadFn<'a, T> = &'a (dyn Fn(&Bytes, &str) -> Result<Page<T>, String> + Sync);

/// What paging needs to know of a page.
pub(super) trait PageShape {
    /// How many items it served.
    fn served(&self) -> usize;
    /// Its `moreItems`.
    fn more(&self) -> Option<bool>;
    /// Its `totalCount`.
    fn total(&self) -> Option<usize>;
}

impl<T> PageShape for Page<T> {
    fn served(&self) -> usize {
        self.served.unwrap_or(self.items.len())
    }
    fn more(&self) -> Option<bool> {
        self.more
    }
    fn total(&self) -> Option<usize> {
        self.total
    }
}

/// Fetches the page that starts at `start`, of at most `size` items.
pub(super) type FetchFn<'a, P> = &'a (dyn Fn(usize, usize) -> Result<P, VizportalError> + Sync);

impl Session {
    /// Fetch every page of a list method. `params` holds `filter`/`order`; `page` is set
    /// here. `items_key` names the item array in the result (`tasks`, `schedules`, ...);
    /// `read` reads each page's answer body in one pass (see [`read_page`]), the items
    /// straight into its values, so no intermediate tree is made.
    pub(crate) fn list_all_read<T: Send>(
        &self,
        method: &str,
        params: &Value,
        items_key: &str,
        read: ReadFn<'_, T>,
        progress: ProgressFn<'_>,
    ) -> Result<Vec<T>, VizportalError> {
        let base = pageable_params(method, params)?;
        let fetch = |start: usize, size: usize| {
            let mut body = base.clone();
            body.insert(
                "page".into(),
                json!({ "startIndex": start, "maxItems": size }),
            );
            // A page that lists errors is classified as a failure like any answer.
            let read = |body: &Bytes| match read(body, items_key)? {
                page if page.failed => Err(String::new()),
                page => Ok(page),
            };
            self.call_read(method, &Value::Object(body), &read)
        };
        let first = self.first_page(method, &fetch)?;
        let total = first.0.total;
        // Room for what the server says is coming, but not on its word alone.
        let mut items = Vec::with_capacity(total.unwrap_or(0).min(1 << 20));
        // Progress counts what the server served, which a conversion may keep part of.
        let mut served = 0;
        self.each_page(method, first, &fetch, &mut |page: Page<T>| {
            served += page.served();
            items.extend(page.items);
            progress(served, total);
        })?;
        Ok(items)
    }

    /// The first page of `method`, halving the page size while the server refuses it as
    /// too large; with the size that served it.
    pub(super) fn first_page<P>(
        &self,
        method: &str,
        fetch: FetchFn<'_, P>,
    ) -> Result<(P, usize), VizportalError> {
        let mut size = self.page_size;
        loop {
            match fetch(0, size) {
                Err(e) if e.code() == Some(code::INVALID_PAGE_SIZE) && size > 10 => {
                    size /= 2;
                    tracing::info!("{method}: the server refused the page size; trying {size}");
                }
                other => return other.map(|page| (page, size)),
            }
        }
    }

    /// Hand `first` (read at `page_size` items) and every page after it to `take`, in
    /// order. The server may serve fewer items than asked: the next page starts where
    /// the last one ended. Once the total is known, the pages it implies are fetched a
    /// few at a time (`--concurrency`); then pages follow one by one while the server
    /// says more come.
    pub(super) fn each_page<P: PageShape + Send>(
        &self,
        method: &str,
        (first, page_size): (P, usize),
        fetch: FetchFn<'_, P>,
        take: &mut dyn FnMut(P),
    ) -> Result<(), VizportalError> {
        let (served, total, mut more) = (first.served(), first.total(), first.more());
        pages_needed(method, total, served, self.server())?;
        take(first);
        let mut next = served;
        if let (Some(total), true) = (
            total,
            self.concurrency > 1 && served > 0 && more != Some(false),
        ) {
            let starts: Vec<usize> = (served..total).step_by(served).collect();
            let fetch_at = |start: &usize| fetch(*start, served);
            for page in in_order(self.window(), &starts, fetch_at, Result::is_err)
                .into_iter()
                .flatten()
            {
                let page = page?;
                more = page.more();
                next += page.served();
                take(page);
            }
        }
        let mut pages = 0;
        while has_more(more, total, next) {
            pages += 1;
            past_total(method, (total, next, served, pages), self.server())?;
            let page = fetch(next, page_size)?;
            if page.served() == 0 {
                break;
            }
            next += page.served();
            more = page.more();
            take(page);
        }
        Ok(())
    }
}

/// The params of every page but `page`; refuses methods that are not reads, whose
/// pages would repeat a change.
pub(super) fn pageable_params(
    method: &str,
    params: &Value,
) -> Result<Map<String, Value>, VizportalError> {
    if MethodKind::of(method) != MethodKind::Read {
        return Err(VizportalError::Usage(format!(
            "{method} is not a list method (only get... methods can be paged)"
        )));
    }
    match params {
        Value::Object(map) => Ok(map.clone()),
        Value::Null => Ok(Map::new()),
        _ => Err(VizportalError::Usage(format!(
            "{method}: params must be a map"
        ))),
    }
}

pub(super) fn as_count(value: &Value) -> Option<usize> {
    match value {
        Value::Number(n) => n.as_u64().map(|n| n as usize),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The most pages read one after another from a server that says `moreItems` but no
/// `totalCount` (10 million items in pages of 1,000).
const MAX_PAGES_WITHOUT_TOTAL: usize = 10_000;

/// A server that keeps answering `moreItems: true` long past its own `totalCount` (items
/// added while paging only take a little past it) would be paged forever: refused once
/// `next` is beyond twice the total (or twice the first page, `served`, when more), or,
/// without a total, after [`MAX_PAGES_WITHOUT_TOTAL`] pages (`pages` read so far).
pub(super) fn past_total(
    method: &str,
    (total, next, served, pages): (Option<usize>, usize, usize, usize),
    base: &str,
) -> Result<(), VizportalError> {
    let said = match total {
        Some(total) if next > total.max(served).saturating_mul(2) => {
            format!("its totalCount is {total}")
        }
        None if pages > MAX_PAGES_WITHOUT_TOTAL => format!("{pages} pages gave no totalCount"),
        _ => return Ok(()),
    };
    Err(VizportalError::odd_answer(
        base,
        method,
        format!(
            "{method} still says moreItems: true after {next} items, but {said}; paging stopped"
        ),
    ))
}

/// The most pages a list is read in. A `totalCount` that would take more (a server's
/// count of 10^15, say) is not believed: the pages are never asked for.
const MAX_PAGES: usize = 100_000;

/// Refuses a list whose `totalCount`, read in pages of `served` items, would take more
/// than [`MAX_PAGES`] pages.
pub(super) fn pages_needed(
    method: &str,
    total: Option<usize>,
    served: usize,
    base: &str,
) -> Result<(), VizportalError> {
    match total {
        Some(total) if total / served.max(1) > MAX_PAGES => Err(VizportalError::odd_answer(
            base,
            method,
            format!(
                "{method} says totalCount {total} in pages of {served}: more than {MAX_PAGES} pages; not read"
            ),
        )),
        _ => Ok(()),
    }
}

/// `moreItems` when the server says it; otherwise compare with `totalCount`.
pub(super) fn has_more(more: Option<bool>, total: Option<usize>, next: usize) -> bool {
    match (more, total) {
        (Some(more), _) => more,
        (None, Some(total)) => next < total,
        (None, None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_stops_well_past_the_total() {
        let m = "getExtractTasks";
        assert!(past_total(m, (Some(5), 10, 1, 9), "http://h").is_ok());
        assert!(past_total(m, (Some(0), 1000, 1000, 1), "http://h").is_ok());
        assert!(past_total(m, (None, 10_000, 1, 10_000), "http://h").is_ok());
        let error = past_total(m, (None, 10_001, 1, 10_001), "http://h").unwrap_err();
        assert!(error.to_string().contains("gave no totalCount"), "{error}");
        assert!(past_total(m, (Some(usize::MAX), usize::MAX, 1, 1), "http://h").is_ok());
        assert!(pages_needed(m, Some(100_000_000), 1000, "http://h").is_ok());
        let error = pages_needed(m, Some(1 << 50), 1, "http://h").unwrap_err();
        assert!(
            error.to_string().contains("more than 100000 pages"),
            "{error}"
        );
        let error = past_total(m, (Some(5), 11, 1, 10), "http://h").unwrap_err();
        assert!(error.to_string().contains("totalCount is 5"), "{error}");
    }

    #[test]
    fn more_items_wins_over_total_count() {
        assert!(has_more(Some(true), Some(5), 10));
        assert!(!has_more(Some(false), Some(50), 10));
        assert!(has_more(None, Some(50), 10));
        assert!(!has_more(None, None, 10));
    }

    #[test]
    fn side_table_names_accept_string_and_number_ids() {
        let side = SideTables::from_value(json!({
            "schedules": [
                {"id": "1", "name": "Daily", "frequency": "Daily"},
                {"id": 2, "name": "Hourly"},
                {"name": "no id"},
                {"id": "3", "name": 3}
            ],
            "sites": {"not": "a list"}
        }));
        let names = side.names("schedules", str::to_string);
        assert_eq!(names["1"], "Daily");
        assert_eq!(names["2"], "Hourly");
        assert_eq!(names.len(), 2);
        assert!(side.names("sites", str::to_string).is_empty());
        assert!(side.names("workbooks", str::to_string).is_empty());
    }
}

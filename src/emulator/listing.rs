//! The list-call conventions every `get*` method shares (docs/protocol.md §3): `filter` (a tree of
//! `and`/`or` over `eq`, `in`, `has`, `lt`, `lte`, `gt`, `gte`, `matches` leaves), `order`
//! (fields with a direction) and `page` (`startIndex`, `maxItems`), answered with
//! `totalCount` and `moreItems`. Each list names the fields it can filter and sort on;
//! anything else is refused with an error naming the field, as a strict server would.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashSet;

use serde_json::{Map, Value};

use super::config::{Limits, PageOverflow};
use super::entities::Id;
use super::lenient;
use crate::wire::{WireError, code};

/// A field value as filters and sorting see it. Ids are numbers so that `"4"` equals `4`
/// and ids sort numerically.
#[derive(Clone, Debug)]
pub(crate) enum Val<'a> {
    Null,
    Bool(bool),
    Num(f64),
    Str(Cow<'a, str>),
    List(Vec<Val<'a>>),
}

impl<'a> Val<'a> {
    pub(crate) fn id(id: Id) -> Val<'static> {
        Val::Num(id.0 as f64)
    }

    pub(crate) fn text(text: &'a str) -> Val<'a> {
        Val::Str(Cow::Borrowed(text))
    }

    pub(crate) fn opt_text(text: Option<&'a str>) -> Val<'a> {
        text.map_or(Val::Null, Val::text)
    }

    pub(crate) fn num(n: impl Into<f64>) -> Val<'static> {
        Val::Num(n.into())
    }

    fn from_json(value: &Value) -> Val<'static> {
        match value {
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => n.as_f64().map_or(Val::Null, Val::Num),
            Value::String(s) => Val::Str(Cow::Owned(s.clone())),
            Value::Array(items) => Val::List(items.iter().map(Val::from_json).collect()),
            Value::Null | Value::Object(_) => Val::Null,
        }
    }
}

/// A list item: which fields it has and their values. `C` is whatever the item needs to
/// look up related rows (names of targets, counts, ...).
pub(crate) trait Listed<C: ?Sized> {
    /// Fields a filter or an order may name.
    const FIELDS: &'static [&'static str];
    /// Fields a `matches` clause without a field searches.
    const TEXT_FIELDS: &'static [&'static str];
    /// The value of one of [`Self::FIELDS`].
    fn field<'a>(&'a self, name: &str, ctx: &'a C) -> Val<'a>;
}

/// One page of a list.
pub(crate) struct Page<I> {
    pub total: usize,
    pub more: bool,
    pub items: Vec<I>,
}

/// Filters, sorts and pages `items` as the call's `filter`, `order` and `page` ask.
pub(crate) fn list<'a, T, C>(
    items: impl Iterator<Item = &'a T>,
    params: &Map<String, Value>,
    ctx: &'a C,
    limits: &Limits,
) -> Result<Page<&'a T>, WireError>
where
    T: Listed<C> + 'a,
    C: ?Sized,
{
    let bounds = page_bounds(params, limits)?;
    let selected = select(items, params, ctx, limits.documented_filters)?;
    Ok(paginate(&selected, bounds))
}

/// The items the call's `filter` keeps, in the order its `order` asks; no paging. With
/// `documented_only`, a filter on a field outside [`DOCUMENTED_FILTER_FIELDS`] is refused.
pub(crate) fn select<'a, T, C>(
    items: impl Iterator<Item = &'a T>,
    params: &Map<String, Value>,
    ctx: &'a C,
    documented_only: bool,
) -> Result<Vec<&'a T>, WireError>
where
    T: Listed<C> + 'a,
    C: ?Sized,
{
    let filter = match params.get("filter").filter(|f| !f.is_null()) {
        Some(f) if documented_only && let Some(name) = undocumented_field(f) => {
            return Err(WireError::new(
                code::FILTER_FIELD_NOT_SUPPORTED,
                format!("the field \"{name}\" is not supported for filtering"),
            ));
        }
        Some(f) => Some(Filter::parse(f, T::FIELDS)?),
        None => None,
    };
    let order = order(params, T::FIELDS)?;
    let kept: Vec<&T> = match &filter {
        Some(f) => items.filter(|item| f.accepts(*item, ctx)).collect(),
        None => items.collect(),
    };
    if order.is_empty() {
        return Ok(kept);
    }
    let mut keyed: Vec<(Vec<Val<'a>>, &'a T)> = kept
        .into_iter()
        .map(|item| {
            let key = order.iter().map(|(f, _)| sort_key(item.field(f, ctx)));
            (key.collect(), item)
        })
        .collect();
    keyed.sort_by(|(a, _), (b, _)| compare_keys(a, b, &order));
    Ok(keyed.into_iter().map(|(_, item)| item).collect())
}

/// The filter fields public sources name (the protocol notes' list, from Tableau's own
/// clients), besides `taskType` of `getBackgroundJobs`.
pub const DOCUMENTED_FILTER_FIELDS: &[&str] = &[
    "connectionType",
    "createdAt",
    "databaseUsername",
    "datasourceId",
    "domainId",
    "groupId",
    "groupIds",
    "hasAlert",
    "hasExtracts",
    "hasEmbeddedPassword",
    "isDefaultPort",
    "isFavorite",
    "isPublished",
    "isRecent",
    "lastRefreshedAt",
    "maxSiteRole",
    "minimumSiteRole",
    "ownerId",
    "parentId",
    "parentType",
    "projectId",
    "scheduledAction",
    "scheduleId",
    "serverName",
    "serverPort",
    "siteId",
    "siteRole",
    "tags",
    "updatedAt",
    "workbookId",
    "taskType",
];

/// The first field of a filter (at any depth) that public sources do not name.
fn undocumented_field(filter: &Value) -> Option<&str> {
    let own = filter
        .get("field")
        .and_then(Value::as_str)
        .filter(|name| !DOCUMENTED_FILTER_FIELDS.contains(name));
    let clauses = filter.get("clauses").and_then(Value::as_array);
    own.or_else(|| clauses?.iter().find_map(undocumented_field))
}

/// The page `(startIndex, maxItems)` of a selection.
pub(crate) fn paginate<I: Clone>(selected: &[I], (start, max): (usize, usize)) -> Page<I> {
    let total = selected.len();
    let from = start.min(total);
    let to = from.saturating_add(max).min(total);
    Page {
        total,
        more: to < total,
        items: selected[from..to].to_vec(),
    }
}

/// `(startIndex, maxItems)`; no `page` means the first `max_page` items.
pub(crate) fn page_bounds(
    params: &Map<String, Value>,
    limits: &Limits,
) -> Result<(usize, usize), WireError> {
    let page = match params.get("page") {
        None | Some(Value::Null) => return Ok((0, limits.max_page)),
        Some(Value::Object(page)) => page,
        Some(_) => {
            return Err(WireError::new(
                code::BAD_PARAM_VALUE,
                "page must be an object",
            ));
        }
    };
    let number = |key: &str, default: i64, err: i64| match page.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => lenient::as_int(v)
            .ok_or_else(|| WireError::new(err, format!("page.{key} must be an integer"))),
    };
    let start = number("startIndex", 0, code::INVALID_START_INDEX)?;
    let max = number("maxItems", limits.max_page as i64, code::INVALID_PAGE_SIZE)?;
    let start = usize::try_from(start).map_err(|_| {
        WireError::new(
            code::INVALID_START_INDEX,
            format!("page.startIndex {start} is negative"),
        )
    })?;
    let max = usize::try_from(max).map_err(|_| {
        WireError::new(
            code::INVALID_PAGE_SIZE,
            format!("page.maxItems {max} is negative"),
        )
    })?;
    match limits.page_overflow {
        _ if max <= limits.max_page => Ok((start, max)),
        PageOverflow::Clamp => Ok((start, limits.max_page)),
        PageOverflow::Reject => Err(WireError::new(
            code::INVALID_PAGE_SIZE,
            format!(
                "page.maxItems {max} is above this server's limit of {}",
                limits.max_page
            ),
        )),
    }
}

/// The `order` clauses as (field, ascending).
fn order(
    params: &Map<String, Value>,
    fields: &'static [&'static str],
) -> Result<Vec<(&'static str, bool)>, WireError> {
    let clauses = match params.get("order") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(clauses)) => clauses.as_slice(),
        Some(clause @ Value::Object(_)) => std::slice::from_ref(clause),
        Some(_) => {
            return Err(WireError::new(
                code::BAD_PARAM_VALUE,
                "order must be an array of {field, ascending}",
            ));
        }
    };
    clauses
        .iter()
        .map(|clause| {
            let name = clause
                .get("field")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let field = known_field(fields, name).ok_or_else(|| {
                WireError::new(
                    code::INVALID_SORT_FIELD,
                    format!("cannot sort on field \"{name}\"; known: {fields:?}"),
                )
            })?;
            let ascending = clause
                .get("ascending")
                .map_or(Some(true), lenient::as_bool)
                .ok_or_else(|| {
                    WireError::new(
                        code::BAD_PARAM_VALUE,
                        format!("order ascending for \"{name}\" must be a boolean"),
                    )
                })?;
            Ok((field, ascending))
        })
        .collect()
}

fn known_field(fields: &'static [&'static str], name: &str) -> Option<&'static str> {
    fields.iter().find(|f| **f == name).copied()
}

fn compare_keys(a: &[Val<'_>], b: &[Val<'_>], order: &[(&str, bool)]) -> Ordering {
    for ((x, y), (_, ascending)) in a.iter().zip(b).zip(order) {
        let ord = sort_order(x, y);
        if ord != Ordering::Equal {
            return if *ascending { ord } else { ord.reverse() };
        }
    }
    Ordering::Equal
}

/// Text sorts ignoring case; the lower-case copy is made once per item, not per comparison.
fn sort_key(value: Val<'_>) -> Val<'_> {
    match value {
        Val::Str(text) => Val::Str(Cow::Owned(text.to_lowercase())),
        other => other,
    }
}

/// Sorting between [`sort_key`]s: numbers numerically, text lexically, missing values
/// last; ties keep id order.
fn sort_order(a: &Val<'_>, b: &Val<'_>) -> Ordering {
    match (a, b) {
        (Val::Null, Val::Null) => Ordering::Equal,
        (Val::Null, _) => Ordering::Greater,
        (_, Val::Null) => Ordering::Less,
        _ => compare(a, b).unwrap_or(Ordering::Equal),
    }
}

/// Filter comparison: numbers numerically (a numeric string counts as a number), other
/// text exactly and lexically (so ISO timestamps compare in time order), booleans also
/// against `"true"`/`"false"`. `None` when the two cannot be compared.
fn compare(a: &Val<'_>, b: &Val<'_>) -> Option<Ordering> {
    let number = |s: &str| s.trim().parse::<f64>().ok();
    match (a, b) {
        (Val::Num(x), Val::Num(y)) => x.partial_cmp(y),
        (Val::Num(x), Val::Str(s)) => number(s).and_then(|y| x.partial_cmp(&y)),
        (Val::Str(s), Val::Num(y)) => number(s).and_then(|x| x.partial_cmp(y)),
        (Val::Str(x), Val::Str(y)) => Some(x.cmp(y)),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(y)),
        (Val::Bool(x), Val::Str(s)) => {
            lenient::as_bool(&Value::String(s.to_string())).map(|y| x.cmp(&y))
        }
        (Val::Str(s), Val::Bool(y)) => {
            lenient::as_bool(&Value::String(s.to_string())).map(|x| x.cmp(y))
        }
        (Val::Null, Val::Null) => Some(Ordering::Equal),
        _ => None,
    }
}

/// A number as a set key: numbers equal by `compare` get the same key (0 and -0 too).
fn number_key(n: f64) -> u64 {
    (n + 0.0).to_bits()
}

/// Equality for `eq`, `in` and `has`: a list field equals a value it contains.
fn equals(field: &Val<'_>, wanted: &Val<'_>) -> bool {
    match field {
        Val::List(items) => items.iter().any(|item| equals(item, wanted)),
        _ => compare(field, wanted) == Some(Ordering::Equal),
    }
}

/// Case-insensitive substring search; `needle` is lower case.
fn contains_text(field: &Val<'_>, needle: &str) -> bool {
    match field {
        Val::Str(s) => s.to_lowercase().contains(needle),
        Val::Num(n) => n.to_string().contains(needle),
        Val::List(items) => items.iter().any(|item| contains_text(item, needle)),
        Val::Null | Val::Bool(_) => false,
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Eq,
    In,
    Has,
    Lt,
    Lte,
    Gt,
    Gte,
}

/// A parsed `filter`.
#[derive(Debug)]
enum Filter {
    All(Vec<Filter>),
    Any(Vec<Filter>),
    Compare {
        op: Op,
        field: &'static str,
        values: Vec<Val<'static>>,
        /// The numbers among `values` (numeric text too), for a long `in` list: a number
        /// field is looked up, not compared with each (`in` with 1,000 ids on 100,000
        /// tasks).
        numbers: Option<HashSet<u64>>,
    },
    /// Full-text search in one field or, without a field, in the list's text fields.
    Matches {
        field: Option<&'static str>,
        needle: String,
    },
}

impl Filter {
    fn parse(value: &Value, fields: &'static [&'static str]) -> Result<Filter, WireError> {
        let bad = |message: String| WireError::new(code::BAD_PARAM_VALUE, message);
        let Value::Object(clause) = value else {
            return Err(bad("a filter clause must be an object".to_owned()));
        };
        let operator = clause
            .get("operator")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match operator.to_ascii_lowercase().as_str() {
            "and" | "or" => {
                let clauses = match clause.get("clauses") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(items)) => items
                        .iter()
                        .map(|c| Filter::parse(c, fields))
                        .collect::<Result<_, _>>()?,
                    Some(_) => return Err(bad("filter clauses must be an array".to_owned())),
                };
                Ok(if operator.eq_ignore_ascii_case("and") {
                    Filter::All(clauses)
                } else {
                    Filter::Any(clauses)
                })
            }
            "matches" => Filter::parse_matches(clause, fields),
            other => {
                let op = match other {
                    "eq" => Op::Eq,
                    "in" => Op::In,
                    "has" => Op::Has,
                    "lt" => Op::Lt,
                    "lte" => Op::Lte,
                    "gt" => Op::Gt,
                    "gte" => Op::Gte,
                    _ => return Err(bad(format!("unknown filter operator \"{operator}\""))),
                };
                Filter::parse_compare(op, clause, fields)
            }
        }
    }

    fn parse_compare(
        op: Op,
        clause: &Map<String, Value>,
        fields: &'static [&'static str],
    ) -> Result<Filter, WireError> {
        let name = clause.get("field").and_then(Value::as_str).ok_or_else(|| {
            WireError::new(
                code::NULL_OR_EMPTY_PARAM,
                "a filter clause needs a \"field\"",
            )
        })?;
        let field = known_field(fields, name).ok_or_else(|| {
            WireError::new(
                code::BAD_PARAM_VALUE,
                format!("cannot filter on field \"{name}\"; known: {fields:?}"),
            )
        })?;
        let values = match (op, clause.get("values"), clause.get("value")) {
            (Op::In, Some(Value::Array(values)), _) => values.iter().map(Val::from_json).collect(),
            (Op::In, _, Some(Value::Array(values))) => values.iter().map(Val::from_json).collect(),
            (Op::In, _, _) => {
                return Err(WireError::new(
                    code::NULL_OR_EMPTY_PARAM,
                    format!("\"in\" on \"{name}\" needs \"values\""),
                ));
            }
            (_, _, Some(value)) => vec![Val::from_json(value)],
            (_, _, None) => {
                return Err(WireError::new(
                    code::NULL_OR_EMPTY_PARAM,
                    format!("the clause on \"{name}\" needs a \"value\""),
                ));
            }
        };
        let numbers = (op == Op::In && values.len() > 16).then(|| {
            values
                .iter()
                .filter_map(|v| match v {
                    Val::Num(n) => Some(*n),
                    Val::Str(s) => s.trim().parse::<f64>().ok(),
                    _ => None,
                })
                .map(number_key)
                .collect()
        });
        Ok(Filter::Compare {
            op,
            field,
            values,
            numbers,
        })
    }

    fn parse_matches(
        clause: &Map<String, Value>,
        fields: &'static [&'static str],
    ) -> Result<Filter, WireError> {
        let field = match clause.get("field").and_then(Value::as_str) {
            None => None,
            Some(name) => Some(known_field(fields, name).ok_or_else(|| {
                WireError::new(
                    code::BAD_PARAM_VALUE,
                    format!("cannot search field \"{name}\"; known: {fields:?}"),
                )
            })?),
        };
        let needle = clause
            .get("value")
            .and_then(lenient::as_text)
            .ok_or_else(|| {
                WireError::new(
                    code::NULL_OR_EMPTY_PARAM,
                    "\"matches\" needs a text \"value\"",
                )
            })?;
        Ok(Filter::Matches {
            field,
            needle: needle.to_lowercase(),
        })
    }

    fn accepts<T: Listed<C>, C: ?Sized>(&self, item: &T, ctx: &C) -> bool {
        match self {
            Filter::All(clauses) => clauses.iter().all(|c| c.accepts(item, ctx)),
            Filter::Any(clauses) => {
                clauses.is_empty() || clauses.iter().any(|c| c.accepts(item, ctx))
            }
            Filter::Matches {
                field: Some(field),
                needle,
            } => contains_text(&item.field(field, ctx), needle),
            Filter::Matches {
                field: None,
                needle,
            } => T::TEXT_FIELDS
                .iter()
                .any(|f| contains_text(&item.field(f, ctx), needle)),
            Filter::Compare {
                op,
                field,
                values,
                numbers,
            } => {
                let value = item.field(field, ctx);
                // A number equals a wanted number or numeric text only (see `compare`).
                if let (Some(numbers), Val::Num(n)) = (numbers, &value) {
                    return numbers.contains(&number_key(*n));
                }
                match op {
                    Op::Eq | Op::In | Op::Has => values.iter().any(|wanted| equals(&value, wanted)),
                    Op::Lt | Op::Lte | Op::Gt | Op::Gte => values
                        .first()
                        .and_then(|w| compare(&value, w))
                        .is_some_and(|o| match op {
                            Op::Lt => o.is_lt(),
                            Op::Lte => o.is_le(),
                            Op::Gt => o.is_gt(),
                            _ => o.is_ge(),
                        }),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Row {
        id: u64,
        name: &'static str,
        priority: i64,
        tags: Vec<&'static str>,
    }

    impl Listed<()> for Row {
        const FIELDS: &'static [&'static str] = &["id", "name", "priority", "tags"];
        const TEXT_FIELDS: &'static [&'static str] = &["name"];
        fn field<'a>(&'a self, name: &str, _: &'a ()) -> Val<'a> {
            match name {
                "id" => Val::id(Id(self.id)),
                "name" => Val::text(self.name),
                "priority" => Val::num(self.priority as f64),
                _ => Val::List(self.tags.iter().map(|t| Val::text(t)).collect()),
            }
        }
    }

    fn rows() -> Vec<Row> {
        vec![
            Row {
                id: 1,
                name: "beta",
                priority: 50,
                tags: vec!["x"],
            },
            Row {
                id: 2,
                name: "Alpha",
                priority: 10,
                tags: vec![],
            },
            Row {
                id: 10,
                name: "gamma",
                priority: 90,
                tags: vec!["x", "y"],
            },
        ]
    }

    const LIMITS: Limits = Limits {
        session_ttl: std::time::Duration::from_secs(60),
        max_page: 2,
        page_overflow: PageOverflow::Clamp,
        max_batch: 10,
        xsrf_failure_status: 403,
        rest_api_version: (3, 24),
        documented_filters: false,
        schedule_shape: crate::emulator::config::ScheduleShape {
            guide_spelling: false,
            without_enabled: false,
        },
        partial_schedule_updates: false,
    };

    fn ids(params: Value) -> Result<(Vec<u64>, usize, bool), WireError> {
        let rows = rows();
        let Value::Object(params) = params else {
            unreachable!()
        };
        let page = list(rows.iter(), &params, &(), &LIMITS)?;
        Ok((
            page.items.iter().map(|r| r.id).collect(),
            page.total,
            page.more,
        ))
    }

    #[test]
    fn documented_filters_refuse_fields_no_source_names() {
        let rows = rows();
        let strict = Limits {
            documented_filters: true,
            ..LIMITS
        };
        let by = |field: &str| {
            let clause = json!({"operator": "eq", "field": field, "value": "10"});
            let params = json!({"filter": {"operator": "and", "clauses": [clause]}});
            let Value::Object(params) = params else {
                unreachable!()
            };
            list(rows.iter(), &params, &(), &strict).map(|page| page.total)
        };
        let refused = by("id").expect_err("refused");
        assert_eq!(refused.code, Some(code::FILTER_FIELD_NOT_SUPPORTED));
        assert!(by("tags").is_ok(), "a field public sources name");
    }

    #[test]
    fn filters_compare_leniently() {
        assert_eq!(
            ids(json!({"filter": {"operator": "eq", "field": "id", "value": "10"}}))
                .unwrap()
                .0,
            [10]
        );
        assert_eq!(
            ids(json!({"filter": {"operator": "eq", "field": "priority", "value": 50}}))
                .unwrap()
                .0,
            [1]
        );
        let either = json!({"filter": {"operator": "or", "clauses": [
            {"operator": "lt", "field": "priority", "value": "20"},
            {"operator": "has", "field": "tags", "value": "y"}]}});
        assert_eq!(ids(either).unwrap().0, [2, 10]);
        let within = json!({"filter": {"operator": "in", "field": "id", "values": [1, "2"]}});
        assert_eq!(ids(within).unwrap().0, [1, 2]);
        // A long list is looked up: the same matches, numbers and numeric text alike.
        let mut many: Vec<Value> = (100..130).map(|n| json!(n)).collect();
        many.extend([json!(" 10"), json!("x"), json!(1.0)]);
        let within = json!({"filter": {"operator": "in", "field": "id", "values": many}});
        assert_eq!(ids(within).unwrap().0, [1, 10]);
        let text = json!({"filter": {"operator": "matches", "value": "ALP"}});
        assert_eq!(ids(text).unwrap().0, [2]);
    }

    #[test]
    fn order_is_numeric_for_ids_and_case_blind_for_text() {
        let by_id =
            json!({"order": [{"field": "id", "ascending": false}], "page": {"maxItems": 2}});
        assert_eq!(ids(by_id).unwrap().0, [10, 2]);
        let by_name = json!({"order": [{"field": "name", "ascending": true}]});
        assert_eq!(ids(by_name).unwrap().0, [2, 1]);
    }

    #[test]
    fn paging_clamps_counts_and_refuses_nonsense() {
        assert_eq!(
            ids(json!({"page": {"startIndex": 0, "maxItems": 100}})).unwrap(),
            (vec![1, 2], 3, true)
        );
        assert_eq!(
            ids(json!({"page": {"startIndex": 0, "maxItems": 0}})).unwrap(),
            (vec![], 3, true)
        );
        assert_eq!(
            ids(json!({"page": {"startIndex": 2, "maxItems": 2}})).unwrap(),
            (vec![10], 3, false)
        );
        let code_of = |p| ids(p).unwrap_err().code;
        assert_eq!(
            code_of(json!({"page": {"startIndex": -1, "maxItems": 1}})),
            Some(code::INVALID_START_INDEX)
        );
        assert_eq!(
            code_of(json!({"page": {"startIndex": 0, "maxItems": -1}})),
            Some(code::INVALID_PAGE_SIZE)
        );
        assert_eq!(
            code_of(json!({"order": [{"field": "owner"}]})),
            Some(code::INVALID_SORT_FIELD)
        );
        assert_eq!(
            code_of(json!({"filter": {"operator": "eq", "field": "owner", "value": 1}})),
            Some(code::BAD_PARAM_VALUE)
        );
        assert_eq!(
            code_of(json!({"filter": {"operator": "near", "field": "id", "value": 1}})),
            Some(code::BAD_PARAM_VALUE)
        );
    }
}

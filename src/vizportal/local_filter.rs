//! A Vizportal filter applied to listed items here, for a server that refuses to filter
//! on a field. Which fields each list filters on is not known from public sources (the
//! field names seen are listed, not per list), and the client filters on some that no
//! source names (`id` on tasks, schedules, workbooks and data sources; `targetId`,
//! `targetType` and `type` on tasks), so a refused filter is applied here to the whole list.

use std::collections::HashSet;

use serde_json::Value;

use crate::wire::id_text;

/// A filter read once, to be applied to every item of a list: `and`/`or` of `eq` and `in`
/// clauses, values compared as text (ids come as strings or numbers), each clause's
/// values a set (an `in` of a thousand ids is looked up, not compared with each).
#[derive(Debug)]
pub enum LocalFilter {
    /// Every clause holds.
    All(Vec<LocalFilter>),
    /// One clause holds.
    Any(Vec<LocalFilter>),
    /// The field is one of the values (`eq` is `in` with one); an item without the field
    /// does not pass.
    In(String, HashSet<String>),
}

impl LocalFilter {
    /// `filter` read, if it holds only what this applies.
    pub fn new(filter: &Value) -> Option<LocalFilter> {
        let operator = filter.get("operator")?.as_str()?;
        let clauses = || -> Option<Vec<LocalFilter>> {
            let clauses = filter.get("clauses")?.as_array()?;
            clauses.iter().map(LocalFilter::new).collect()
        };
        match operator {
            "and" => Some(LocalFilter::All(clauses()?)),
            "or" => Some(LocalFilter::Any(clauses()?)),
            "eq" | "in" => {
                let field = filter.get("field")?.as_str()?.to_string();
                let values: Vec<&Value> =
                    match (operator, filter.get("values"), filter.get("value")) {
                        ("in", Some(Value::Array(values)), _)
                        | ("in", None, Some(Value::Array(values))) => values.iter().collect(),
                        ("eq", _, Some(value)) => vec![value],
                        _ => return None,
                    };
                Some(LocalFilter::In(
                    field,
                    values.into_iter().map(as_text).collect(),
                ))
            }
            _ => None,
        }
    }

    /// Whether `item` passes.
    pub fn accepts(&self, item: &Value) -> bool {
        match self {
            LocalFilter::All(clauses) => clauses.iter().all(|c| c.accepts(item)),
            LocalFilter::Any(clauses) => clauses.iter().any(|c| c.accepts(item)),
            LocalFilter::In(field, values) => item
                .get(field)
                .is_some_and(|have| values.contains(&as_text(have))),
        }
    }
}

/// A value as a filter compares it.
fn as_text(value: &Value) -> String {
    id_text(value).map_or_else(|| value.to_string(), |t| t.into_owned())
}

/// What `filter` asks of a server, without its values: each clause's operator and field,
/// sorted (a server may take `eq` on a field and not `in`).
pub fn shape(filter: &Value) -> String {
    fn clauses(filter: &Value, out: &mut Vec<String>) {
        let operator = filter.get("operator").and_then(Value::as_str).unwrap_or("");
        if let Some(field) = filter.get("field").and_then(Value::as_str) {
            out.push(format!("{operator} {field}"));
        }
        for clause in filter
            .get("clauses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            clauses(clause, out);
        }
    }
    let mut out = Vec::new();
    clauses(filter, &mut out);
    out.sort();
    out.dedup();
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filters_compare_ids_as_text_and_refuse_what_they_do_not_read() {
        let task = json!({"id": 7, "targetType": "Workbook", "scheduleId": "4"});
        let filter = json!({"operator": "and", "clauses": [
            {"operator": "in", "field": "id", "values": ["5", "7"]},
            {"operator": "eq", "field": "targetType", "value": "Workbook"},
        ]});
        let read = |f: &Value| LocalFilter::new(f).expect("read");
        assert!(read(&filter).accepts(&task));
        let other = json!({"operator": "eq", "field": "scheduleId", "value": 5});
        assert!(!read(&other).accepts(&task));
        let missing = json!({"operator": "eq", "field": "priority", "value": 5});
        assert!(!read(&missing).accepts(&task), "a field the item lacks");
        let search = json!({"operator": "matches", "value": "x"});
        assert!(LocalFilter::new(&search).is_none());
        assert_eq!(shape(&filter), "eq targetType, in id");
    }
}

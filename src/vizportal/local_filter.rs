//! A Vizportal filter applied to listed items here, for a server that refuses to filter
//! on a field. Which fields each list filters on is not known from public sources (the
//! field names seen are listed, not per list), and the client filters on some that no
//! source names (`id` on tasks, schedules, workbooks and data sources; `targetId`,
//! `targetType` and `type` on tasks), so a refused filter is applied here to the whole list.

use serde_json::Value;

use crate::wire::id_text;

/// Whether `item` passes `filter` (`and`/`or` of `eq` and `in` clauses, values compared
/// as text, since ids come as strings or numbers; an item without the field does not);
/// `None` for a filter with anything else.
pub fn accepts(filter: &Value, item: &Value) -> Option<bool> {
    let operator = filter.get("operator")?.as_str()?;
    let clauses = || filter.get("clauses").and_then(Value::as_array);
    match operator {
        "and" => clauses()?
            .iter()
            .try_fold(true, |all, clause| Some(accepts(clause, item)? && all)),
        "or" => clauses()?
            .iter()
            .try_fold(false, |any, clause| Some(accepts(clause, item)? || any)),
        "eq" | "in" => {
            let field = filter.get("field")?.as_str()?;
            let have = item.get(field).map(as_text);
            let wanted: Vec<&Value> = match (operator, filter.get("values"), filter.get("value")) {
                ("in", Some(Value::Array(values)), _)
                | ("in", None, Some(Value::Array(values))) => values.iter().collect(),
                ("eq", _, Some(value)) => vec![value],
                _ => return None,
            };
            Some(have.is_some_and(|have| wanted.into_iter().any(|w| as_text(w) == have)))
        }
        _ => None,
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

/// Whether `params` filter a list in a way [`accepts`] can apply here.
pub fn can_apply(params: &Value) -> bool {
    params.get("filter").is_some_and(only_simple)
}

/// Whether a filter holds only what [`accepts`] reads.
fn only_simple(filter: &Value) -> bool {
    match filter.get("operator").and_then(Value::as_str) {
        Some("and" | "or") => filter
            .get("clauses")
            .and_then(Value::as_array)
            .is_some_and(|clauses| clauses.iter().all(only_simple)),
        Some("eq") => filter.get("field").is_some() && filter.get("value").is_some(),
        Some("in") => {
            filter.get("field").is_some()
                && (filter.get("values").is_some_and(Value::is_array)
                    || filter.get("value").is_some_and(Value::is_array))
        }
        _ => false,
    }
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
        assert_eq!(accepts(&filter, &task), Some(true));
        let other = json!({"operator": "eq", "field": "scheduleId", "value": 5});
        assert_eq!(accepts(&other, &task), Some(false));
        let missing = json!({"operator": "eq", "field": "priority", "value": 5});
        assert_eq!(
            accepts(&missing, &task),
            Some(false),
            "a field the item lacks"
        );
        let search = json!({"operator": "matches", "value": "x"});
        assert_eq!(accepts(&search, &task), None);
        assert!(can_apply(&json!({ "filter": filter })));
        assert!(!can_apply(&json!({ "filter": search })));
        assert_eq!(shape(&filter), "eq targetType, in id");
    }
}

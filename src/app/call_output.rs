//! How `vizscript call` prints a result: JSON as the server sent it, or the result's list
//! (the member named for the method, else its longest array) as a table or as CSV.

use serde_json::{Map, Value};

use super::failure::Failure;
use crate::cli::CallOutput;
use crate::script::{table, to_dynamic};
use crate::vizportal::items_member;
use crate::wire::known_method;

/// The text to print for `result` of `method`.
pub fn render(method: &str, result: &Value, format: CallOutput) -> Result<String, Failure> {
    if format == CallOutput::Json {
        return Ok(serde_json::to_string_pretty(result).unwrap_or_default());
    }
    let rows = rows(method, result)?;
    Ok(match format {
        CallOutput::Table => {
            let rows = rows.iter().map(|r| to_dynamic(Value::Object(r.clone())));
            table::render(&rows.collect(), None)
        }
        _ => csv(&rows),
    })
}

/// The maps of the result's list.
fn rows(method: &str, result: &Value) -> Result<Vec<Map<String, Value>>, Failure> {
    let empty = Map::new();
    let fields = result.as_object().unwrap_or(&empty);
    let known = known_method(method).and_then(|m| m.items);
    let list = items_member(method, known, fields)
        .and_then(|key| fields.get(&key)?.as_array().cloned())
        .filter(|items| items.iter().all(Value::is_object));
    let Some(list) = list else {
        return Err(Failure::usage(format!(
            "the result of {method} has no list of maps to show as a table or CSV; use --output json"
        )));
    };
    Ok(list
        .into_iter()
        .filter_map(|item| match item {
            Value::Object(map) => Some(map),
            _ => None,
        })
        .collect())
}

/// RFC 4180 CSV: a header of every key (`id` and `name` first, then by name), one row
/// per map; nested values as compact JSON, null as an empty cell.
fn csv(rows: &[Map<String, Value>]) -> String {
    let mut columns: Vec<&str> = Vec::new();
    for row in rows {
        for key in row.keys() {
            if !columns.contains(&key.as_str()) {
                columns.push(key);
            }
        }
    }
    columns.sort_by_key(|k| (!matches!(*k, "id"), !matches!(*k, "name"), *k));
    let line = |cells: Vec<String>| cells.join(",");
    let mut out = vec![line(columns.iter().map(|c| quote(c)).collect())];
    for row in rows {
        let cells = columns.iter().map(|c| match row.get(*c) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => quote(s),
            Some(other) => quote(&other.to_string()),
        });
        out.push(line(cells.collect()));
    }
    out.join("\n")
}

/// A CSV cell: quoted (quotes doubled) when it holds a comma, quote or line break.
fn quote(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn csv_of_the_method_list() {
        let result = json!({
            "totalCount": 2,
            "schedules": [{"id": "1", "name": "Daily, early", "priority": 50},
                          {"id": "2", "name": "Say \"hi\"", "details": {"a": 1}}],
            "sites": [{"id": "1"}, {"id": "2"}, {"id": "3"}]
        });
        let text = render("getSchedules", &result, CallOutput::Csv).unwrap();
        assert_eq!(
            text,
            "id,name,details,priority\n1,\"Daily, early\",,50\n2,\"Say \"\"hi\"\"\",\"{\"\"a\"\":1}\","
        );
        assert!(render("getSessionInfo", &json!({"user": {}}), CallOutput::Table).is_err());
    }
}

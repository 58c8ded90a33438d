//! How the REPL shows a result: an array of maps as a table (a few telling columns, long
//! values cut), a map as indented JSON, a scalar plainly. `:fmt` picks another format.

use rhai::{Array, Dynamic};

use crate::script::{record, table, to_json};

/// The `:fmt` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Tables for arrays of maps, JSON for maps, scalars plain.
    Table,
    /// Everything as JSON.
    Json,
    /// Rhai's own notation.
    Rhai,
}

impl Format {
    /// Parse `table`, `json` or `rhai`.
    pub fn parse(text: &str) -> Option<Format> {
        match text {
            "table" => Some(Format::Table),
            "json" => Some(Format::Json),
            "rhai" => Some(Format::Rhai),
            _ => None,
        }
    }
}

/// Most rows a table shows before saying how many more there are.
const MAX_ROWS: usize = 50;
/// Most columns chosen automatically.
const MAX_COLUMNS: usize = 8;
/// Columns worth showing first, in this order, when rows have them.
const PREFERRED: &[&str] = &[
    "id",
    "name",
    "subject",
    "targetName",
    "targetType",
    "scheduleName",
    "siteName",
    "urlName",
    "username",
    "scheduleType",
    "scheduledAction",
    "type",
    "priority",
    "taskCount",
    "runNextAt",
    "lastRunAt",
    "siteRole",
];

/// Render a value for the REPL.
pub fn render(value: &Dynamic, format: Format) -> String {
    match format {
        Format::Rhai => format!("{:?}", record::with_maps(value)),
        Format::Json => json(value),
        Format::Table if value.is_string() => value.to_string(),
        Format::Table if record::is_map_like(value) => json(value),
        Format::Table => match value.read_lock::<Array>() {
            Some(rows) if !rows.is_empty() && rows.iter().all(record::is_map_like) => {
                rows_table(&rows)
            }
            Some(_) => json(value),
            None => value.to_string(),
        },
    }
}

fn json(value: &Dynamic) -> String {
    to_json(value)
        .ok()
        .and_then(|json| serde_json::to_string_pretty(&json).ok())
        .unwrap_or_else(|| format!("{value:?}"))
}

fn rows_table(rows: &Array) -> String {
    let columns = choose_columns(rows);
    let shown: Array = rows.iter().take(MAX_ROWS).cloned().collect();
    let mut text = table::render(&shown, Some(&columns));
    if rows.len() > MAX_ROWS {
        text.push_str(&format!(
            "\n… {} more rows ({} in all)",
            rows.len() - MAX_ROWS,
            rows.len()
        ));
    } else {
        text.push_str(&format!("\n{} rows", rows.len()));
    }
    text
}

/// Scalar columns, preferred names first, then the rest alphabetically, at most eight.
pub fn choose_columns(rows: &Array) -> Vec<String> {
    let mut scalar: Vec<String> = Vec::new();
    for row in rows.iter().take(20) {
        let Some(map) = record::as_map(row) else {
            continue;
        };
        for (key, value) in map.iter() {
            if !(value.is_map() || value.is_array() || scalar.iter().any(|k| k == key.as_str())) {
                scalar.push(key.to_string());
            }
        }
    }
    scalar.sort_by_key(|k| {
        (
            PREFERRED
                .iter()
                .position(|p| p == k)
                .unwrap_or(PREFERRED.len()),
            k.clone(),
        )
    });
    scalar.truncate(MAX_COLUMNS);
    scalar
}

#[cfg(test)]
mod tests {
    use super::*;
    use rhai::Map;

    #[test]
    fn arrays_of_maps_become_tables_with_telling_columns() {
        let mut m = Map::new();
        for (k, v) in [
            ("zz", "1"),
            ("targetName", "Sales"),
            ("id", "4"),
            ("scheduleName", "Daily"),
        ] {
            m.insert(k.into(), v.into());
        }
        m.insert("nested".into(), Dynamic::from_map(Map::new()));
        let rows: Array = vec![Dynamic::from_map(m)];
        assert_eq!(
            choose_columns(&rows),
            ["id", "targetName", "scheduleName", "zz"]
        );
        let text = render(&Dynamic::from_array(rows), Format::Table);
        assert!(text.contains("Sales") && text.ends_with("1 rows"), "{text}");
    }

    #[test]
    fn scalars_plain_maps_json() {
        assert_eq!(render(&Dynamic::from("hi"), Format::Table), "hi");
        assert_eq!(render(&Dynamic::from(3_i64), Format::Table), "3");
        let mut m = Map::new();
        m.insert("a".into(), Dynamic::from(1_i64));
        assert_eq!(
            render(&Dynamic::from_map(m), Format::Table),
            "{\n  \"a\": 1\n}"
        );
        assert_eq!(render(&Dynamic::from("hi"), Format::Rhai), "\"hi\"");
    }
}

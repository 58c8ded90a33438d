//! Aligned tables for arrays of maps: what `table(rows)` prints in scripts and what the
//! REPL shows for list results. Columns are the keys of the rows (or the ones asked for),
//! long values are cut so a row stays on one line.

use comfy_table::{ContentArrangement, Table, presets};
use rhai::{Array, Dynamic, Map};

use super::record;

/// Longest cell before it is cut with an ellipsis.
const MAX_CELL: usize = 40;

/// Render rows as a table. With `columns`, only those columns, in that order; without,
/// the keys of the first rows in sorted order, preferring `id` and `name` first.
pub fn render(rows: &Array, columns: Option<&[String]>) -> String {
    render_within(rows, columns, &|| false).unwrap_or_default()
}

/// [`render`], asking `over_budget` every thousand rows whether to stop (`None`: it did).
pub fn render_within(
    rows: &Array,
    columns: Option<&[String]>,
    over_budget: &dyn Fn() -> bool,
) -> Option<String> {
    let every_thousand = |i: usize| i % 1000 == 999 && over_budget();
    let mut maps: Vec<Map> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        if every_thousand(i) {
            return None;
        }
        maps.extend(record::as_map(row));
    }
    if maps.is_empty() {
        return Some(if rows.is_empty() {
            "(no rows)".to_string()
        } else {
            plain_rows(rows)
        });
    }
    let columns: Vec<String> = match columns {
        Some(c) => c.to_vec(),
        None => default_columns(&maps),
    };
    let mut table = Table::new();
    table.load_style(presets::UTF8_BORDERS_ONLY);
    table.set_content_arrangement(ContentArrangement::Disabled);
    table.set_header(columns.iter().map(String::as_str));
    for (i, map) in maps.iter().enumerate() {
        if every_thousand(i) {
            return None;
        }
        table.add_row(columns.iter().map(|c| cell(map.get(c.as_str()))));
    }
    // A column no row has is most likely a misspelt field name: say so under the table.
    let absent: Vec<String> = columns
        .iter()
        .filter(|c| !maps.iter().any(|m| m.contains_key(c.as_str())))
        .map(|c| format!("{c:?}"))
        .collect();
    Some(match absent.as_slice() {
        [] => table.to_string(),
        names => format!("{table}\n(no row has {})", names.join(", ")),
    })
}

fn default_columns(maps: &[Map]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for map in maps.iter().take(50) {
        for key in map.keys() {
            if !keys.iter().any(|k| k == key.as_str()) {
                keys.push(key.to_string());
            }
        }
    }
    keys.sort_by_key(|k| (rank(k), k.clone()));
    keys
}

fn rank(key: &str) -> u8 {
    match key {
        "id" => 0,
        "name" => 1,
        _ => 2,
    }
}

/// One cell: strings plain, unit empty, nested values compact, everything cut.
pub fn cell(value: Option<&Dynamic>) -> String {
    let text = match value {
        None => String::new(),
        Some(v) if v.is_unit() => String::new(),
        Some(v) if v.is_string() => v.to_string(),
        Some(v) if record::is_map_like(v) || v.is_array() => super::to_json(v)
            .map(|json| json.to_string())
            .unwrap_or_default(),
        Some(v) => v.to_string(),
    };
    cut(&text, MAX_CELL)
}

fn cut(text: &str, max: usize) -> String {
    let single: String = text.replace(['\n', '\r'], " ");
    if single.chars().count() <= max {
        single
    } else {
        let mut s: String = single.chars().take(max - 1).collect();
        s.push('…');
        s
    }
}

fn plain_rows(rows: &Array) -> String {
    rows.iter()
        .map(|r| cell(Some(r)))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, name: &str) -> Dynamic {
        let mut m = Map::new();
        m.insert("id".into(), id.into());
        m.insert("name".into(), name.into());
        m.insert("zeta".into(), Dynamic::from(3_i64));
        Dynamic::from_map(m)
    }

    #[test]
    fn columns_put_id_and_name_first_and_align() {
        let rows = vec![
            row("1", "Daily"),
            row("22", "A very long schedule name that goes on and on and on"),
        ];
        let text = render(&rows, None);
        let header = text.lines().nth(1).unwrap();
        assert!(header.find("id").unwrap() < header.find("name").unwrap());
        assert!(header.find("name").unwrap() < header.find("zeta").unwrap());
        assert!(text.contains('…'), "{text}");
        let widths: Vec<usize> = text.lines().map(|l| l.chars().count()).collect();
        assert!(widths.windows(2).all(|w| w[0] == w[1]), "{text}");
    }

    #[test]
    fn rendering_stops_when_the_budget_runs_out() {
        let rows: Array = (0..2500).map(|i| row(&i.to_string(), "n")).collect();
        assert!(render_within(&rows, None, &|| true).is_none());
        assert!(render_within(&rows, None, &|| false).is_some_and(|t| t.contains("2499")));
    }

    #[test]
    fn chosen_columns_only() {
        let text = render(&vec![row("1", "Daily")], Some(&["name".to_string()]));
        assert!(text.contains("Daily") && !text.contains("zeta"));
        assert!(!text.contains("no row has"), "{text}");
    }

    #[test]
    fn a_column_no_row_has_is_named_under_the_table() {
        let columns = ["name".to_string(), "nmae".to_string()];
        let text = render(&vec![row("1", "Daily")], Some(&columns));
        assert!(text.ends_with("(no row has \"nmae\")"), "{text}");
    }
}

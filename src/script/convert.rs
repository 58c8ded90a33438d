//! Moving values between the server's JSON and Rhai: server values keep their wire field
//! names; ids given as strings, integers, task maps or arrays of those become id strings;
//! a plain filter map becomes a Vizportal `and` of `eq` clauses.

use rhai::{Array, Dynamic, ImmutableString, Map};

use super::record;
use serde_json::{Value, json};

/// JSON to a Rhai value, without going through serde's data model (hot path for
/// 100,000-task lists).
pub fn to_dynamic(value: Value) -> Dynamic {
    match value {
        Value::Null => Dynamic::UNIT,
        Value::Bool(b) => b.into(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.into(),
            None => n.as_f64().map_or(Dynamic::UNIT, Dynamic::from),
        },
        Value::String(s) => ImmutableString::from(s).into(),
        Value::Array(items) => Dynamic::from_array(items.into_iter().map(to_dynamic).collect()),
        Value::Object(fields) => Dynamic::from_map(to_map(fields)),
    }
}

/// A JSON object as a Rhai map.
pub fn to_map(fields: serde_json::Map<String, Value>) -> Map {
    fields
        .into_iter()
        .map(|(k, v)| (k.into(), to_dynamic(v)))
        .collect()
}

/// A Rhai value as JSON (for params and `to_json`); records become objects.
pub fn to_json(value: &Dynamic) -> Result<Value, String> {
    // The same walk as JSON text (`to_json`, `save_json`), into a tree.
    serde_json::to_value(super::json_out::AsJson(value)).map_err(|e| e.to_string())
}

/// Ids from what a script passes: `"55"`, `55`, a task map with `id`, or an array of those.
pub fn ids(value: &Dynamic) -> Result<Vec<String>, String> {
    if value.is_array() {
        let items = value
            .read_lock::<Array>()
            .ok_or("cannot read the id array")?;
        items.iter().map(one_id).collect()
    } else {
        Ok(vec![one_id(value)?])
    }
}

/// Ids for `method`, as [`ids`] reads them; a map plainly of another kind than the method
/// takes (a schedule given to a task method, a task to a schedule method) is refused, since
/// its `id` would name an unrelated item of the method's kind.
pub fn ids_for(method: &str, value: &Dynamic) -> Result<Vec<String>, String> {
    check_kind(kind_of_method(method), value)?;
    ids(value)
}

/// One id for `method`'s `key` param, as [`one_id`] reads it; a task map where a schedule
/// is wanted (or the other way round) is refused, as in [`ids_for`].
pub fn id_for(method: &str, key: &str, value: &Dynamic) -> Result<String, String> {
    let wanted = if key == "scheduleId" {
        Some("schedule")
    } else {
        kind_of_method(method)
    };
    check_kind(wanted, value)?;
    one_id(value)
}

/// Refuse a map (or any in an array) plainly of another kind than `wanted`.
fn check_kind(wanted: Option<&'static str>, value: &Dynamic) -> Result<(), String> {
    let check = |item: &Dynamic| match (wanted, kind_of_map(item)) {
        (Some(wanted), Some(given)) if wanted != given => Err(format!(
            "a {given} map (id {}) was given where {wanted}s are expected; pass {}",
            one_id(item).unwrap_or_default(),
            match wanted {
                "task" => "extract tasks or their ids",
                "target" => "workbook or data source ids (a task's is t.targetId)",
                _ => "schedules or their ids (a task's schedule is t.scheduleId)",
            }
        )),
        _ => Ok(()),
    };
    match value.read_lock::<Array>() {
        Some(items) => items.iter().try_for_each(check),
        None => check(value),
    }
}

/// What a batch method's ids name: extract tasks or schedules (else no check).
fn kind_of_method(method: &str) -> Option<&'static str> {
    if method == crate::wire::method::CREATE_EXTRACT_TASKS {
        // Its ids are workbooks' or data sources': the targets.
        Some("target")
    } else if method.contains("ExtractTask") {
        Some("task")
    } else if method.ends_with("Schedules") {
        Some("schedule")
    } else {
        None
    }
}

/// A map (or task record) that is plainly a task or a schedule, by the fields only that
/// kind has.
fn kind_of_map(value: &Dynamic) -> Option<&'static str> {
    let has = |field: &str| record::field(value, field).is_some_and(|v| !v.is_unit());
    if !record::is_map_like(value) {
        None
    } else if has("targetType") && has("scheduleId") {
        // A task, even one a script gave its schedule's fields.
        Some("task")
    } else if has("scheduledAction") || has("scheduleType") {
        Some("schedule")
    } else {
        None
    }
}

/// One id from a string, an integer, or a map with an `id` field.
pub fn one_id(value: &Dynamic) -> Result<String, String> {
    if let Ok(s) = value.as_immutable_string_ref() {
        return Ok(s.to_string());
    }
    if let Ok(i) = value.as_int() {
        return Ok(i.to_string());
    }
    if let Some(id) = record::string_field(value, "id") {
        return Ok(id);
    }
    if let Some(id) = record::field(value, "id") {
        return one_id(&id);
    }
    let why = if value.is_unit() {
        " (a field that is not there reads as ())"
    } else {
        ""
    };
    Err(format!(
        "an id must be a string, an integer or a map with an `id`, not {}{why}",
        value.type_name()
    ))
}

/// A filter: a Vizportal filter map (has `operator`) passes through; a plain map of
/// field to value means "all equal". Integer values of `...Id` fields become strings, as
/// the server sends ids.
pub fn filter(value: &Map) -> Result<Value, String> {
    if value.contains_key("operator") {
        return to_json(&Dynamic::from_map(value.clone()));
    }
    let mut clauses = Vec::with_capacity(value.len());
    for (field, v) in value {
        let mut v = to_json(v)?;
        if field.ends_with("Id")
            && let Value::Number(n) = &v
        {
            v = Value::String(n.to_string());
        }
        let clause = match v {
            Value::Array(values) => {
                json!({"operator": "in", "field": field.as_str(), "values": values})
            }
            v => json!({"operator": "eq", "field": field.as_str(), "value": v}),
        };
        clauses.push(clause);
    }
    Ok(json!({"operator": "and", "clauses": clauses}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_every_accepted_shape() {
        let mut task = Map::new();
        task.insert("id".into(), "7".into());
        let array: Array = vec!["1".into(), Dynamic::from(2_i64), Dynamic::from_map(task)];
        assert_eq!(ids(&Dynamic::from_array(array)).unwrap(), ["1", "2", "7"]);
        assert_eq!(ids(&Dynamic::from(5_i64)).unwrap(), ["5"]);
        assert!(
            ids(&Dynamic::from(1.5_f64))
                .unwrap_err()
                .contains("string, an integer")
        );
    }

    #[test]
    fn a_map_of_another_kind_is_not_taken_for_its_id() {
        let map = |fields: &[(&str, &str)]| {
            let mut m = Map::new();
            for (k, v) in fields {
                m.insert((*k).into(), (*v).into());
            }
            Dynamic::from_map(m)
        };
        let schedule = map(&[("id", "7"), ("scheduledAction", "Extract")]);
        let task = map(&[("id", "9"), ("targetType", "Workbook"), ("scheduleId", "7")]);
        let error = ids_for("setExtractTasksSchedule", &schedule).unwrap_err();
        assert!(error.contains("a schedule map (id 7)"), "{error}");
        let both = Dynamic::from_array(vec![task.clone(), schedule.clone()]);
        assert!(ids_for("deleteExtractTasks", &both).is_err());
        let error = ids_for("runSchedules", &task).unwrap_err();
        assert!(error.contains("t.scheduleId"), "{error}");
        assert_eq!(ids_for("setExtractTasksPriority", &task).unwrap(), ["9"]);
        assert_eq!(ids_for("deleteSchedules", &schedule).unwrap(), ["7"]);
        // A map of only an id, and other methods, are taken as before.
        assert_eq!(
            ids_for("runExtractTasks", &map(&[("id", "3")])).unwrap(),
            ["3"]
        );
        assert_eq!(ids_for("setSubscriptionsSchedule", &task).unwrap(), ["9"]);
        // A task given its schedule's fields is still a task.
        let dressed = map(&[
            ("id", "9"),
            ("targetType", "Workbook"),
            ("scheduleId", "7"),
            ("scheduleType", "Weekly"),
        ]);
        assert_eq!(ids_for("setExtractTasksPriority", &dressed).unwrap(), ["9"]);
        // createExtractTasks takes targets: neither tasks nor schedules.
        let error = ids_for("createExtractTasks", &task).unwrap_err();
        assert!(error.contains("t.targetId"), "{error}");
        assert!(ids_for("createExtractTasks", &schedule).is_err());
        // The schedule a task function moves tasks to is a schedule, not a task.
        let error = id_for("setExtractTasksSchedule", "scheduleId", &task).unwrap_err();
        assert!(error.contains("t.scheduleId"), "{error}");
        assert_eq!(
            id_for("setExtractTasksSchedule", "scheduleId", &schedule).unwrap(),
            "7"
        );
    }

    #[test]
    fn plain_maps_become_eq_clauses() {
        let mut m = Map::new();
        m.insert("scheduleId".into(), Dynamic::from(4_i64));
        m.insert("type".into(), "RefreshExtract".into());
        let f = filter(&m).unwrap();
        assert_eq!(f["operator"], "and");
        assert_eq!(
            f["clauses"][0],
            json!({"operator": "eq", "field": "scheduleId", "value": "4"})
        );
        assert_eq!(f["clauses"][1]["value"], "RefreshExtract");
    }

    #[test]
    fn json_round_trips() {
        let v = json!({"id": "1", "n": 3, "x": 1.5, "ok": true, "none": null, "list": [1, "a"]});
        let d = to_dynamic(v.clone());
        assert_eq!(to_json(&d).unwrap(), v);
    }
}

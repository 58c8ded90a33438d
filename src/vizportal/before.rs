//! Before values: for each id a mutating call names, the values the call changes as they
//! were just before it, so an audit line says what to put back (`vizscript undo`). Callers
//! that listed the items first pass them in; otherwise the gate reads them here, with list
//! calls filtered to the ids (1,000 at a time), only when an audit is written.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::client::Client;
use super::error::VizportalError;
use super::listing::SideTables;
use super::schedule_fields::SCHEDULE_FIELDS;
use crate::wire::method;

/// Where the values a method changes are listed, and which fields it changes.
pub(crate) struct Changes {
    list: &'static str,
    items: &'static str,
    fields: Vec<&'static str>,
}

const TASKS: &str = "tasks";
const SCHEDULES: &str = "schedules";

/// What `method` changes, when it changes fields of listed items.
pub(crate) fn changes(method: &str) -> Option<Changes> {
    let tasks = |fields: &[&'static str]| (method::GET_EXTRACT_TASKS, TASKS, fields.to_vec());
    let schedules = |fields: &[&'static str]| (method::GET_SCHEDULES, SCHEDULES, fields.to_vec());
    let (list, items, fields) = match method {
        method::SET_EXTRACT_TASKS_SCHEDULE => tasks(&["scheduleId"][..]),
        method::SET_EXTRACT_TASKS_PRIORITY | method::SET_EXTRACT_TASK_PRIORITY => {
            tasks(&["priority"][..])
        }
        method::DELETE_EXTRACT_TASKS => {
            tasks(&["scheduleId", "priority", "targetType", "targetId", "type"][..])
        }
        method::SET_SUBSCRIPTIONS_SCHEDULE => (
            method::GET_SUBSCRIPTIONS,
            "subscriptions",
            vec!["scheduleId"],
        ),
        method::SET_ENABLED_STATUS_FOR_SCHEDULES => schedules(&["enabled"][..]),
        method::SET_SCHEDULE_NAME => schedules(&["name"][..]),
        // A whole schedule: its fields and whether it is enabled.
        method::UPDATE_SCHEDULE | method::DELETE_SCHEDULES => {
            schedules(&[SCHEDULE_FIELDS, &["enabled"]].concat())
        }
        _ => return None,
    };
    Some(Changes {
        list,
        items,
        fields,
    })
}

/// The ids a call's params name (`ids`, else `id`), as text.
pub(crate) fn ids_of(params: &Value) -> Vec<String> {
    match (params.get("ids"), params.get("id")) {
        (Some(Value::Array(ids)), _) => ids.iter().filter_map(text).collect(),
        (_, Some(id)) => text(id).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// The most ids one `in` filter names; more are read in several lists.
pub(crate) const FILTERED_READ: usize = 1000;

/// Each id's changed fields as they are now on the server, by id. Tasks and
/// subscriptions are read with `in` filters of up to [`FILTERED_READ`] ids (never more
/// requests than reading the whole list); schedules, a short list, whole.
pub(crate) fn read(
    client: &Client,
    changes: &Changes,
    ids: &[String],
) -> Result<Map<String, Value>, VizportalError> {
    if changes.list == method::GET_SCHEDULES {
        return read_listed(client, changes, ids, json!({}));
    }
    let mut values = Map::new();
    for (n, chunk) in ids.chunks(FILTERED_READ).enumerate() {
        let filter = json!({ "filter": { "operator": "in", "field": "id", "values": chunk } });
        // A server that does not filter on ids is read whole once, for the rest too.
        if client.refuses(changes.list, &filter) {
            let rest = &ids[n * FILTERED_READ..];
            values.extend(read_listed(client, changes, rest, json!({}))?);
            break;
        }
        values.extend(read_listed(client, changes, chunk, filter)?);
    }
    Ok(values)
}

/// The changed fields of those of `ids` that the list called with `params` holds.
fn read_listed(
    client: &Client,
    changes: &Changes,
    ids: &[String],
    params: Value,
) -> Result<Map<String, Value>, VizportalError> {
    let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
    let keep = |items: Vec<Value>, _: &SideTables| -> Vec<(String, Value)> {
        items
            .into_iter()
            .filter_map(|item| {
                let id = text(item.get("id")?)?;
                // A schedule with the fields a server may leave out or spell otherwise.
                let item = match changes.list == method::GET_SCHEDULES {
                    true => crate::wire::schedule::listed_as_read(item),
                    false => item,
                };
                wanted.contains(id.as_str()).then(|| {
                    let fields: Map<String, Value> = changes
                        .fields
                        .iter()
                        .filter_map(|f| Some((f.to_string(), item.get(*f)?.clone())))
                        .collect();
                    (id, Value::Object(fields))
                })
            })
            .collect()
    };
    let rows = client.list_filtered(changes.list, &params, changes.items, &keep)?;
    Ok(rows.into_iter().collect())
}

pub(crate) use crate::wire::id_string as text;

/// What a schedule's deletion takes with it on the session's site (lists are per site;
/// schedules are not), by schedule id: its extract tasks (what each refreshed, its type
/// and priority) and its subscriptions (their subjects), so the audit line says what to
/// rebuild.
pub(crate) fn schedule_contents(
    client: &Client,
    ids: &[String],
) -> Result<Map<String, Value>, VizportalError> {
    let params = json!({ "filter": { "operator": "in", "field": "scheduleId", "values": ids } });
    let keep_fields = |fields: &'static [&'static str]| {
        move |items: Vec<Value>, _: &SideTables| -> Vec<(String, Value)> {
            items
                .into_iter()
                .filter_map(|item| {
                    let schedule = text(item.get("scheduleId")?)?;
                    let kept: Map<String, Value> = fields
                        .iter()
                        .filter_map(|f| Some((f.to_string(), item.get(*f)?.clone())))
                        .collect();
                    Some((schedule, Value::Object(kept)))
                })
                .collect()
        }
    };
    let tasks = client.list_filtered(
        method::GET_EXTRACT_TASKS,
        &params,
        TASKS,
        &keep_fields(&["id", "targetType", "targetId", "type", "priority"]),
    )?;
    let subscriptions = client.list_filtered(
        method::GET_SUBSCRIPTIONS,
        &params,
        "subscriptions",
        &keep_fields(&["id", "subject"]),
    )?;
    let mut contents = Map::new();
    for (member, rows) in [("extractTasks", tasks), ("subscriptions", subscriptions)] {
        for (schedule, row) in rows {
            let entry = contents
                .entry(schedule)
                .or_insert_with(|| json!({ "extractTasks": [], "subscriptions": [] }));
            if let Some(Value::Array(list)) = entry.get_mut(member) {
                list.push(row);
            }
        }
    }
    Ok(contents)
}

/// What deleting the schedules `ids` takes, read once: each one's `keep` fields as the
/// server lists them and, when `contents`, the extract tasks and subscriptions of this
/// site on it (as the audit keeps them); and the schedules that also hold other sites'
/// (the server's `taskCount` counts every site's, and deleting such a schedule deletes
/// those too, out of this session's sight), each described as `12 "Nightly" (3 on the
/// server, 1 on this site)`. Without `contents` none is found.
pub(crate) fn schedule_deletion(
    client: &Client,
    ids: &[String],
    keep: &[&str],
    contents: bool,
) -> Result<(Map<String, Value>, Vec<String>), VizportalError> {
    let plain = |items: Vec<Value>, _: &SideTables| -> Vec<Value> {
        items
            .into_iter()
            .map(crate::wire::schedule::listed_as_read)
            .collect()
    };
    let all = client.list_all(
        method::GET_SCHEDULES,
        &json!({}),
        "schedules",
        &plain,
        &|_, _| {},
    )?;
    let here = match contents {
        true => schedule_contents(client, ids)?,
        false => Map::new(),
    };
    let (mut before, mut elsewhere) = (Map::new(), Vec::new());
    for schedule in &all {
        let Some(id) = schedule
            .get("id")
            .and_then(text)
            .filter(|id| ids.contains(id))
        else {
            continue;
        };
        let mut fields: Map<String, Value> = keep
            .iter()
            .filter_map(|k| Some((k.to_string(), schedule.get(*k)?.clone())))
            .collect();
        if contents {
            let on_site = here
                .get(&id)
                .cloned()
                .unwrap_or_else(|| json!({ "extractTasks": [], "subscriptions": [] }));
            let count: usize = ["extractTasks", "subscriptions"]
                .iter()
                .filter_map(|member| on_site.get(*member)?.as_array().map(Vec::len))
                .sum();
            let total = schedule.get("taskCount").and_then(super::listing::as_count);
            if let Some(total) = total.filter(|total| *total > count) {
                let name = schedule.get("name").and_then(Value::as_str).unwrap_or("");
                elsewhere.push(format!(
                    "{id} \"{name}\" ({total} on the server, {count} on this site)"
                ));
            }
            if let Value::Object(on_site) = on_site {
                fields.extend(on_site);
            }
        }
        before.insert(id, Value::Object(fields));
    }
    Ok((before, elsewhere))
}

//! Deleted extract tasks created again, for `vizscript undo`. The audit line of a deletion
//! holds what each task refreshed (target type and id, task type) and its schedule and
//! priority; undo creates such a task with `createExtractTasks` through the gate (so
//! dry-run, audit and the no-retry rule of a write apply). The server answers with no ids,
//! so the new tasks are read back by target, and a priority the new task did not get is
//! set back. A task that cannot be created (the target, or its schedule, is gone; the
//! target has such a task again) is reported with the server's reason.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::client::Client;
use super::error::VizportalError;
use super::listing::SideTables;
use super::undo::same;
use crate::wire::id_text;
use crate::wire::method;

/// A deleted extract task to create again as it was before the audited calls.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recreation {
    /// The newest audit line it undoes (the deletion).
    pub line: usize,
    /// The deleted task's id; the new task gets another.
    pub id: String,
    /// `Workbook` or `Datasource`.
    pub target_type: String,
    /// The workbook or data source it refreshed.
    pub target_id: String,
    /// `RefreshExtract` (full) or `IncrementExtract`.
    #[serde(rename = "type")]
    pub task_type: String,
    /// The schedule it was on.
    pub schedule_id: String,
    /// Its priority, when the audit recorded one.
    pub priority: Option<Value>,
}

/// The fields a task needs for it to be created again.
const NEEDED: [&str; 4] = ["targetType", "targetId", "type", "scheduleId"];

impl Recreation {
    /// Whether a task's recorded fields are enough to create it again.
    pub(crate) fn possible(fields: &Map<String, Value>) -> bool {
        NEEDED
            .iter()
            .all(|f| fields.get(*f).and_then(id_text).is_some())
    }

    /// The re-creation of task `id` with these fields, undoing audit line `line`.
    pub(crate) fn of(line: usize, id: &str, fields: &Map<String, Value>) -> Option<Recreation> {
        let text = |f: &str| Some(fields.get(f).and_then(id_text)?.into_owned());
        Some(Recreation {
            line,
            id: id.to_string(),
            target_type: text("targetType")?,
            target_id: text("targetId")?,
            task_type: text("type")?,
            schedule_id: text("scheduleId")?,
            priority: fields.get("priority").filter(|p| !p.is_null()).cloned(),
        })
    }
}

/// What became of one re-creation.
#[derive(Debug, Clone, PartialEq)]
pub enum Recreated {
    /// A dry run: the call is in the plan, nothing was sent.
    Planned,
    /// Created as task `new_id`; `note` says what could not be put back (its priority).
    Created {
        new_id: String,
        note: Option<String>,
    },
    /// The server accepted the call, but no new task of the target was found after it.
    Unconfirmed(String),
    /// Not created: the server's reason, or the error that stopped the call.
    Failed(String),
}

/// A task read back after its creation.
struct Found {
    id: String,
    target_id: String,
    schedule_id: String,
    priority: Value,
}

impl Client {
    /// Create `recreate`'s tasks again (one batch per target type, schedule and task
    /// type), find the new tasks and set back the priorities they did not get; each
    /// re-creation's outcome, in order.
    pub fn recreate_tasks(&self, recreate: &[Recreation]) -> Vec<Recreated> {
        let mut outcomes = vec![Recreated::Planned; recreate.len()];
        let mut groups: BTreeMap<(&str, &str, &str), Vec<usize>> = BTreeMap::new();
        for (i, r) in recreate.iter().enumerate() {
            let key = (&*r.target_type, &*r.schedule_id, &*r.task_type);
            groups.entry(key).or_default().push(i);
        }
        // Priority to set back (as text) -> (the value, [(re-creation, new task id)]).
        let mut priorities: BTreeMap<String, (Value, Vec<(usize, String)>)> = BTreeMap::new();
        for ((target_type, schedule_id, task_type), members) in groups {
            let targets = members
                .iter()
                .map(|&i| recreate[i].target_id.clone())
                .collect();
            let mut extra = Map::new();
            extra.insert("targetType".into(), json!(target_type));
            extra.insert("scheduleId".into(), json!(schedule_id));
            extra.insert("type".into(), json!(task_type));
            let summary = self.batch_noting(
                method::CREATE_EXTRACT_TASKS,
                "targetIds",
                targets,
                extra,
                None,
                &|_, _| {},
            );
            if summary.dry_run {
                continue;
            }
            let found = match summary.succeeded.is_empty() {
                true => Ok(Vec::new()),
                false => self.tasks_of_targets(target_type, task_type, &summary.succeeded),
            };
            for &i in &members {
                let r = &recreate[i];
                let failure = summary.failed.iter().find(|f| f.id == r.target_id);
                outcomes[i] = if let Some(failure) = failure {
                    Recreated::Failed(failure.message.clone())
                } else if !summary.succeeded.contains(&r.target_id) {
                    Recreated::Failed(summary.error.as_ref().map_or_else(
                        || "not sent: an earlier call failed".to_string(),
                        |e| e.to_string(),
                    ))
                } else {
                    match &found {
                        Err(e) => Recreated::Unconfirmed(format!("reading it back failed: {e}")),
                        Ok(found) => match found
                            .iter()
                            .find(|t| t.target_id == r.target_id && t.schedule_id == r.schedule_id)
                        {
                            None => Recreated::Unconfirmed(format!(
                                "no {} task of {} {} on schedule {} was found after it",
                                r.task_type, r.target_type, r.target_id, r.schedule_id
                            )),
                            Some(task) => {
                                if let Some(p) =
                                    r.priority.as_ref().filter(|p| !same(p, &task.priority))
                                {
                                    priorities
                                        .entry(p.to_string())
                                        .or_insert_with(|| (p.clone(), Vec::new()))
                                        .1
                                        .push((i, task.id.clone()));
                                }
                                Recreated::Created {
                                    new_id: task.id.clone(),
                                    note: None,
                                }
                            }
                        },
                    }
                };
            }
        }
        for (priority, tasks) in priorities.into_values() {
            let ids = tasks.iter().map(|(_, id)| id.clone()).collect();
            let mut extra = Map::new();
            extra.insert("priority".into(), priority.clone());
            let summary = self.batch(method::SET_EXTRACT_TASKS_PRIORITY, ids, extra, &|_, _| {});
            for (i, id) in tasks {
                if summary.succeeded.contains(&id) {
                    continue;
                }
                let why = match summary.failed.iter().find(|f| f.id == id) {
                    Some(failure) => failure.message.clone(),
                    None => summary
                        .error
                        .as_ref()
                        .map_or_else(|| "not sent".to_string(), |e| e.to_string()),
                };
                if let Recreated::Created { note, .. } = &mut outcomes[i] {
                    *note = Some(format!(
                        "its priority was not set back to {priority}: {why}"
                    ));
                }
            }
        }
        outcomes
    }

    /// The extract tasks of type `task_type` that refresh these targets.
    fn tasks_of_targets(
        &self,
        target_type: &str,
        task_type: &str,
        targets: &[String],
    ) -> Result<Vec<Found>, VizportalError> {
        let params = json!({ "filter": { "operator": "and", "clauses": [
            { "operator": "in", "field": "targetId", "values": targets },
            { "operator": "eq", "field": "targetType", "value": target_type },
            { "operator": "eq", "field": "type", "value": task_type },
        ] } });
        let keep = |items: Vec<Value>, _: &SideTables| -> Vec<Found> {
            items
                .iter()
                .filter_map(|task| {
                    let text = |f: &str| Some(task.get(f).and_then(id_text)?.into_owned());
                    Some(Found {
                        id: text("id")?,
                        target_id: text("targetId")?,
                        schedule_id: text("scheduleId")?,
                        priority: task.get("priority").cloned().unwrap_or(Value::Null),
                    })
                })
                .collect()
        };
        self.list_all(
            method::GET_EXTRACT_TASKS,
            &params,
            "tasks",
            &keep,
            &|_, _| {},
        )
    }
}

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

use super::before::FILTERED_READ;
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
    /// The audit line after its deletion that made a task for the same target and type,
    /// if one did: that task, not someone else's, is why its target may have one again.
    pub made_by_run: Option<usize>,
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
            made_by_run: None,
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
    /// Not created: the target has such a task again (this undo ran before, or someone
    /// made one), described here. Like an id changed since, it is left as it is.
    Present(String),
    /// The call was sent, but what it did cannot be told: why.
    Unconfirmed(String),
    /// Not created: the server's reason, or the error that stopped the call.
    Failed(String),
}

/// A task read back by target.
struct Found {
    id: String,
    target_id: String,
    schedule_id: String,
    priority: Value,
}

/// Tasks of some targets, by target id.
type ByTarget = BTreeMap<String, Vec<Found>>;

impl Client {
    /// Create `recreate`'s tasks again where their target has no such task (one batch per
    /// target type, schedule and task type), find the new tasks and set back the
    /// priorities they did not get; each re-creation's outcome, in order. Under dry-run
    /// the targets are still read, so the plan says which would be created.
    pub fn recreate_tasks(&self, recreate: &[Recreation]) -> Vec<Recreated> {
        let mut outcomes = vec![Recreated::Planned; recreate.len()];
        let mut kinds: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
        for (i, r) in recreate.iter().enumerate() {
            kinds
                .entry((&*r.target_type, &*r.task_type))
                .or_default()
                .push(i);
        }
        // Priority to set back (as text) -> (the value, [(re-creation, new task id)]).
        let mut priorities: BTreeMap<String, (Value, Vec<(usize, String)>)> = BTreeMap::new();
        for ((target_type, task_type), members) in kinds {
            let targets: Vec<String> = members
                .iter()
                .map(|&i| recreate[i].target_id.clone())
                .collect();
            let present = match self.tasks_of_targets(target_type, task_type, &targets) {
                Ok(present) => present,
                Err(e) => {
                    for &i in &members {
                        outcomes[i] = Recreated::Failed(format!(
                            "could not read whether its target has such a task again: {e}"
                        ));
                    }
                    continue;
                }
            };
            let mut by_schedule: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
            let mut claimed: BTreeMap<&str, &str> = BTreeMap::new();
            for &i in &members {
                let r = &recreate[i];
                if let Some(task) = present.get(&r.target_id).and_then(|t| t.first()) {
                    let whose = match r.made_by_run {
                        Some(line) => format!(
                            ", which the run made (line {line}); undo does not delete it: delete it and undo again to have task {} back",
                            r.id
                        ),
                        None => String::new(),
                    };
                    outcomes[i] = Recreated::Present(format!(
                        "{} {} has a {} task again (task {} on schedule {}){whose}",
                        r.target_type, r.target_id, r.task_type, task.id, task.schedule_id
                    ));
                } else if let Some(other) = claimed.get(&*r.target_id) {
                    outcomes[i] = Recreated::Present(format!(
                        "{} {} gets its {} task back as deleted task {other}",
                        r.target_type, r.target_id, r.task_type
                    ));
                } else {
                    claimed.insert(&r.target_id, &r.id);
                    by_schedule.entry(&r.schedule_id).or_default().push(i);
                }
            }
            for (schedule_id, members) in by_schedule {
                let made = self.create_for(recreate, target_type, task_type, schedule_id, &members);
                for (i, (outcome, given)) in members.iter().zip(made) {
                    if let Recreated::Created { new_id, .. } = &outcome
                        && let Some(p) = &recreate[*i].priority
                        && !same(p, &given)
                    {
                        priorities
                            .entry(p.to_string())
                            .or_insert_with(|| (p.clone(), Vec::new()))
                            .1
                            .push((*i, new_id.clone()));
                    }
                    outcomes[*i] = outcome;
                }
            }
        }
        self.set_priorities_back(priorities, &mut outcomes);
        outcomes
    }

    /// One `createExtractTasks` for `members` (targets with no such task), and what became
    /// of each, read back from the server (a new task is one its target now has), with the
    /// priority the new task got.
    fn create_for(
        &self,
        recreate: &[Recreation],
        target_type: &str,
        task_type: &str,
        schedule_id: &str,
        members: &[usize],
    ) -> Vec<(Recreated, Value)> {
        let targets: Vec<String> = members
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
            targets.clone(),
            extra,
            None,
            &|_, _| {},
        );
        if summary.dry_run {
            return vec![(Recreated::Planned, Value::Null); members.len()];
        }
        let sent: Vec<String> = targets
            .into_iter()
            .filter(|t| !summary.skipped.contains(t))
            .collect();
        let made = match sent.is_empty() {
            true => Ok(ByTarget::new()),
            false => self.tasks_of_targets(target_type, task_type, &sent),
        };
        members
            .iter()
            .map(|&i| {
                let r = &recreate[i];
                if summary.skipped.contains(&r.target_id) {
                    let why = "not sent: an earlier call of this undo failed as a whole";
                    return (Recreated::Failed(why.into()), Value::Null);
                }
                let refused = summary.failed.iter().find(|f| f.id == r.target_id);
                let made = match &made {
                    Ok(made) => made.get(&r.target_id).map_or(&[][..], Vec::as_slice),
                    Err(e) => {
                        let why = format!(
                            "createExtractTasks was sent, but reading its target back failed: {e}"
                        );
                        return (Recreated::Unconfirmed(why), Value::Null);
                    }
                };
                let outcome = match (made, refused) {
                    ([task], _) if task.schedule_id == r.schedule_id => {
                        let created = Recreated::Created {
                            new_id: task.id.clone(),
                            note: None,
                        };
                        return (created, task.priority.clone());
                    }
                    ([], Some(refused)) => Recreated::Failed(refused.message.clone()),
                    ([], None) => Recreated::Unconfirmed(format!(
                        "the server took the call, but {} {} has no {} task after it",
                        r.target_type, r.target_id, r.task_type
                    )),
                    (made, _) => Recreated::Unconfirmed(format!(
                        "{} {} has {} {} task(s) now ({}), none of them only on schedule {}",
                        r.target_type,
                        r.target_id,
                        made.len(),
                        r.task_type,
                        made.iter()
                            .map(|t| format!("task {} on schedule {}", t.id, t.schedule_id))
                            .collect::<Vec<_>>()
                            .join(", "),
                        r.schedule_id
                    )),
                };
                (outcome, Value::Null)
            })
            .collect()
    }

    /// Set the priorities the re-created tasks did not get (one batch per value); a
    /// failure is noted on the re-creation.
    fn set_priorities_back(
        &self,
        priorities: BTreeMap<String, (Value, Vec<(usize, String)>)>,
        outcomes: &mut [Recreated],
    ) {
        let made = |i: usize, outcomes: &[Recreated]| match &outcomes[i] {
            Recreated::Created { new_id, .. } => Some(new_id.clone()),
            _ => None,
        };
        for (priority, tasks) in priorities.into_values() {
            let ids = tasks.iter().map(|(_, id)| id.clone()).collect();
            let mut extra = Map::new();
            extra.insert("priority".into(), priority.clone());
            let summary = self.batch(method::SET_EXTRACT_TASKS_PRIORITY, ids, extra, &|_, _| {});
            for (i, id) in tasks {
                if summary.succeeded.contains(&id) || made(i, outcomes).is_none() {
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
    }

    /// The extract tasks of type `task_type` that refresh these targets, by target (read
    /// with `in` filters of up to [`FILTERED_READ`] targets).
    fn tasks_of_targets(
        &self,
        target_type: &str,
        task_type: &str,
        targets: &[String],
    ) -> Result<ByTarget, VizportalError> {
        let mut found = ByTarget::new();
        let of = |chunk: &[String]| {
            json!({ "filter": { "operator": "and", "clauses": [
                { "operator": "in", "field": "targetId", "values": chunk },
                { "operator": "eq", "field": "targetType", "value": target_type },
                { "operator": "eq", "field": "type", "value": task_type },
            ] } })
        };
        let mut start = 0;
        while start < targets.len() {
            let mut end = (start + FILTERED_READ).min(targets.len());
            // A server that does not filter so is read whole once, for the rest too.
            if self.refuses(method::GET_EXTRACT_TASKS, &of(&targets[start..end])) {
                end = targets.len();
            }
            let params = of(&targets[start..end]);
            start = end;
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
            let tasks = self.list_filtered(method::GET_EXTRACT_TASKS, &params, "tasks", &keep)?;
            for task in tasks {
                found.entry(task.target_id.clone()).or_default().push(task);
            }
        }
        Ok(found)
    }
}

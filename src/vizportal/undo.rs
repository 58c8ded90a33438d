//! Undo: the inverse of audited calls. Lines are taken newest first; each id's audited
//! value must still be what the server (or a newer line's undo) shows, else the id was
//! changed since by someone else and is skipped, never overwritten. What is left is put
//! back with as few calls as scripts make: one batch per target value. A deleted extract
//! task is created again as it was before the audited calls (see [`super::recreate`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::audit::{AuditLine, Outcome};
use super::before::{self, ids_of};
use super::client::Client;
use super::error::VizportalError;
use super::recreate::{Recreated, Recreation};
use crate::wire::method;

mod dry_run;

pub use dry_run::PutBack;

/// What kind of item an id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Kind {
    /// An extract task.
    Task,
    /// A subscription.
    Subscription,
    /// A schedule.
    Schedule,
}

/// One inverse call.
#[derive(Debug, Clone, Serialize)]
pub struct UndoCall {
    /// The newest audit line (1-based) whose change it takes back: calls are sent newest
    /// first.
    pub line: usize,
    /// The method.
    pub method: String,
    /// The ids it puts back.
    pub ids: Vec<String>,
    /// The other params (the value put back).
    pub params: Map<String, Value>,
}

/// An id not put back: changed since the audited call (or the call did not take).
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    /// The audit line (1-based).
    pub line: usize,
    /// The audited method.
    pub method: String,
    /// The id.
    pub id: String,
    /// The field.
    pub field: String,
    /// The value the audited call gave it.
    pub audited: Value,
    /// The value it has now.
    pub now: Value,
}

/// An audited call that cannot be undone (runs, deletions, creations, no before values).
#[derive(Debug, Clone, Serialize)]
pub struct NotUndoable {
    /// The audit line (1-based).
    pub line: usize,
    /// The method.
    pub method: String,
    /// The ids it named.
    pub ids: Vec<String>,
    /// Why.
    pub reason: String,
}

impl NotUndoable {
    /// `ids` of audit line `number` (`line`), with the reason.
    fn of(number: usize, line: &AuditLine, ids: Vec<String>, reason: impl Into<String>) -> Self {
        NotUndoable {
            line: number,
            method: line.method.clone(),
            ids,
            reason: reason.into(),
        }
    }

    /// Add `ids` of audit line `number` (`line`) to `list` with the reason, when there are
    /// any.
    fn note(
        list: &mut Vec<NotUndoable>,
        number: usize,
        line: &AuditLine,
        ids: Vec<String>,
        reason: impl Into<String>,
    ) {
        if !ids.is_empty() {
            list.push(NotUndoable::of(number, line, ids, reason));
        }
    }
}

/// What an undo will do.
#[derive(Debug, Clone, Default, Serialize)]
pub struct UndoPlan {
    /// The inverse calls.
    pub calls: Vec<UndoCall>,
    /// Ids changed since.
    pub skipped: Vec<Skipped>,
    /// Calls that cannot be undone.
    pub not_undoable: Vec<NotUndoable>,
    /// Deleted extract tasks to create again, after the calls.
    pub recreate: Vec<Recreation>,
    /// Audited changes with nothing to put back: a deletion the server shows did not
    /// happen, a task the run made and deleted again.
    pub unchanged: Vec<NotUndoable>,
    /// Ids the server no longer shows (deleted since, by someone or by a schedule's
    /// deletion): what the audited call changed on them cannot be put back.
    pub gone: Vec<NotUndoable>,
    /// The newest line that made a task still there, by what it refreshes.
    #[serde(skip)]
    made: BTreeMap<(String, String, String), usize>,
    /// Each changed item's fields as they were before the oldest line that changed them.
    #[serde(skip)]
    origin: Values,
    /// Deleted tasks to create again as they were before an older run of lines of the
    /// site (see [`UndoHistory`]), not as this run found them.
    #[serde(skip)]
    pub restored_from_earlier: BTreeSet<String>,
}

/// Field values by item.
type Values = BTreeMap<(Kind, String), Map<String, Value>>;

/// The newest audit line that changed an item's field, by item and field (`""`: the item
/// as a whole, for a deletion).
type Newest = BTreeMap<(Kind, String, String), usize>;

/// Deleted tasks to create again, by what they refresh (target type, target id, task
/// type): each one's id and the line that deleted it.
type Pending = BTreeMap<(String, String, String), Vec<(String, usize)>>;

/// What a task refreshes, as [`Pending`] is keyed: from its fields, or a creation's params
/// and one of its target ids.
fn refreshes(
    fields: &Map<String, Value>,
    target_id: Option<&str>,
) -> Option<(String, String, String)> {
    let text = |f: &str| before::text(fields.get(f)?);
    let target_id = match target_id {
        Some(id) => id.to_string(),
        None => text("targetId")?,
    };
    Some((text("targetType")?, target_id, text("type")?))
}

/// What an undoable method changed: the kind of item and each field's new value.
fn changed(line: &AuditLine) -> Option<(Kind, Vec<(&'static str, Value)>)> {
    let p = &line.params;
    let one =
        |kind, field: &'static str, key: &str| Some((kind, vec![(field, p.get(key)?.clone())]));
    match line.method.as_str() {
        method::SET_EXTRACT_TASKS_SCHEDULE => one(Kind::Task, "scheduleId", "scheduleId"),
        method::SET_EXTRACT_TASKS_PRIORITY | method::SET_EXTRACT_TASK_PRIORITY => {
            one(Kind::Task, "priority", "priority")
        }
        method::SET_SUBSCRIPTIONS_SCHEDULE => one(Kind::Subscription, "scheduleId", "scheduleId"),
        method::SET_ENABLED_STATUS_FOR_SCHEDULES => one(Kind::Schedule, "enabled", "enabled"),
        method::SET_SCHEDULE_NAME => one(Kind::Schedule, "name", "name"),
        method::UPDATE_SCHEDULE => {
            // Details as the server lists them again: in Tableau's spelling.
            let fields = UPDATED
                .iter()
                .filter_map(|f| {
                    let value = p.get(*f)?;
                    Some((*f, crate::wire::schedule::documented_field(f, value)))
                })
                .collect();
            Some((Kind::Schedule, fields))
        }
        _ => None,
    }
}

/// Why a call without an inverse cannot be undone.
fn why_not(method: &str) -> &'static str {
    if method.starts_with("run") {
        "a run cannot be taken back"
    } else if method.starts_with("delete") {
        "only deleted extract tasks are created again; this cannot be restored"
    } else if method == method::CREATE_EXTRACT_TASKS {
        "undo does not delete the tasks it created for these targets; extract_tasks(#{targetId: ...}) lists them, to delete yourself if they must go"
    } else if method.starts_with("create") {
        "undo does not delete what was created; delete it yourself if it must go"
    } else {
        "vizscript knows no inverse of this call"
    }
}

/// Why a schedule's deletion is not undone, and what went with it (from the audit line).
fn schedules_deleted(line: &AuditLine) -> String {
    let before = line.before.as_ref().and_then(Value::as_object);
    let listed = |member: &str| before.is_some_and(|s| s.values().any(|s| s.get(member).is_some()));
    if !listed("extractTasks") {
        return "a deleted schedule cannot be restored (what went with it was not recorded)".into();
    }
    let count = |member: &str| -> usize {
        before.map_or(0, |schedules| {
            schedules
                .values()
                .filter_map(|s| s.get(member)?.as_array().map(Vec::len))
                .sum()
        })
    };
    format!(
        "a deleted schedule cannot be restored; on site {:?} it took {} extract task(s) and {} subscription(s) with it (those of other sites are not listed): the tasks are created again where the audit shows them on another schedule before, the subscriptions are not",
        line.site,
        count("extractTasks"),
        count("subscriptions")
    )
}

/// The extract tasks of this site that went with the schedules a `deleteSchedules` line
/// deleted, by id, each with the schedule it was on (from the line's before values).
fn tasks_deleted_with(line: &AuditLine) -> Map<String, Value> {
    let before = line.before.as_ref().and_then(Value::as_object);
    let mut tasks = Map::new();
    for schedule in applied_ids(line) {
        let listed = before
            .and_then(|b| b.get(&schedule)?.get("extractTasks")?.as_array())
            .into_iter()
            .flatten();
        for task in listed.filter_map(Value::as_object) {
            let Some(id) = task.get("id").and_then(before::text) else {
                continue;
            };
            let mut fields = task.clone();
            fields.insert("scheduleId".into(), Value::String(schedule.clone()));
            tasks.insert(id, Value::Object(fields));
        }
    }
    tasks
}

/// The fields `updateSchedule` changes and an undo puts back.
const UPDATED: &[&str] = &[
    "name",
    "priority",
    "parallel",
    "scheduleType",
    "scheduleDetails",
];

/// The ids an audited call applied to.
fn applied_ids(line: &AuditLine) -> Vec<String> {
    ids_of(&line.params)
        .into_iter()
        .filter(|id| !line.failed_ids.contains(id))
        .collect()
}

/// What an undo of one run of lines knows of the rest of its site's audit lines. An audit
/// whose sites took turns is undone run by run, newest first, so a task may have been
/// changed in an older run of the same site and deleted in a newer one.
#[derive(Debug, Default)]
pub struct UndoHistory<'a> {
    /// The site's lines older than the run (1-based numbers, oldest first), not undone yet.
    pub earlier: &'a [&'a (usize, AuditLine)],
    /// Deleted tasks this undo already created again (for newer runs) as they were before
    /// the older runs' lines, by old id: the new id (`None` under `--dry-run`).
    pub recreated: BTreeMap<String, Option<String>>,
    /// The schedules any line of the whole undo deleted, with the line that did (see
    /// [`deleted_schedules`]): a task is not created again on one of them.
    pub deleted_schedules: BTreeMap<String, usize>,
    /// Under `--dry-run`, what the undo of the runs before this one would have put back
    /// (nothing was), which this run finds in place of the server's values.
    pub put_back: PutBack,
}

impl Client {
    /// The undo of `lines` (each with its 1-based line number, oldest first), checked
    /// against what the server shows now. A deleted task comes back as it was before the
    /// oldest line of `history` or `lines` that changed it.
    pub fn plan_undo(
        &self,
        lines: &[(usize, AuditLine)],
        history: &UndoHistory,
    ) -> Result<UndoPlan, VizportalError> {
        let mut current = self.current_values(lines)?;
        if self.dry_run() {
            history.put_back.over(&mut current);
        }
        let mut target = current.clone();
        let mut newest = Newest::new();
        let mut pending = Pending::new();
        let mut plan = UndoPlan {
            origin: first_and_last(lines).0,
            ..UndoPlan::default()
        };
        for (number, line) in lines.iter().rev() {
            let walk = (&mut target, &mut newest, &mut pending);
            undo_line(*number, line, walk, &history.recreated, &mut plan);
        }
        restore_from_earlier(&current, &mut target, history.earlier, &mut plan);
        (plan.calls, plan.recreate) = inverse_calls(&current, &target, &newest);
        for task in &mut plan.recreate {
            let what = (
                task.target_type.clone(),
                task.target_id.clone(),
                task.task_type.clone(),
            );
            task.made_by_run = plan
                .made
                .get(&what)
                .copied()
                .filter(|made| *made > task.line);
        }
        hold_back_on_deleted_schedules(lines, &history.deleted_schedules, &mut plan);
        plan.calls.sort_by_key(|call| std::cmp::Reverse(call.line));
        plan.calls = with_names_freed(&current, std::mem::take(&mut plan.calls));
        plan.recreate.sort_by_key(|r| std::cmp::Reverse(r.line));
        Ok(plan)
    }

    /// What the server shows now for every id the undoable lines name.
    fn current_values(&self, lines: &[(usize, AuditLine)]) -> Result<Values, VizportalError> {
        let mut wanted: BTreeMap<Kind, Vec<String>> = BTreeMap::new();
        for (_, line) in lines {
            let (kind, ids) = match changed(line) {
                Some((kind, _)) => (kind, applied_ids(line)),
                // Whether a deleted task is gone.
                None if line.method == method::DELETE_EXTRACT_TASKS => {
                    (Kind::Task, applied_ids(line))
                }
                None if line.method == method::DELETE_SCHEDULES => (
                    Kind::Task,
                    tasks_deleted_with(line).keys().cloned().collect(),
                ),
                None => continue,
            };
            wanted.entry(kind).or_default().extend(ids);
        }
        let mut values = Values::new();
        for (kind, mut ids) in wanted {
            ids.sort();
            ids.dedup();
            let reader = match kind {
                Kind::Task => method::DELETE_EXTRACT_TASKS,
                Kind::Subscription => method::SET_SUBSCRIPTIONS_SCHEDULE,
                Kind::Schedule => method::UPDATE_SCHEDULE,
            };
            let Some(changes) = before::changes(reader) else {
                continue;
            };
            for (id, fields) in before::read(self, &changes, &ids)? {
                if let Value::Object(fields) = fields {
                    values.insert((kind, id), fields);
                }
            }
        }
        Ok(values)
    }

    /// Send the inverse calls through the gate (dry-run, audit and retries apply), then
    /// create the deleted tasks again: each call's outcome, in order, and each task's.
    /// Under `--dry-run`, a call or task the server would refuse for its schedule (not
    /// there, or a name another holds, as `history` leaves them) fails as it would.
    pub fn apply_undo(
        &self,
        plan: &UndoPlan,
        history: &UndoHistory,
    ) -> (Vec<Result<Vec<String>, VizportalError>>, Vec<Recreated>) {
        let mut schedules = match self.dry_run() && dry_run::Schedules::asked_of(plan) {
            true => dry_run::Schedules::read(self, &history.put_back)
                .inspect_err(|e| tracing::warn!("undo: cannot check its schedule calls: {e}"))
                .ok(),
            false => None,
        };
        let calls = plan
            .calls
            .iter()
            .map(
                |call| match schedules.as_mut().and_then(|s| s.refusal(call)) {
                    Some(refused) => Err(refused),
                    None => self.apply_undo_call(call),
                },
            )
            .collect();
        // Under --dry-run, a task to create again on a schedule that is not there fails as
        // the server would fail it, and is not planned.
        let missing = |task: &Recreation| {
            let schedules = schedules.as_ref()?;
            (!schedules.has(&task.schedule_id)).then(|| {
                Recreated::Failed(format!(
                    "schedule {} does not exist (checked under --dry-run)",
                    task.schedule_id
                ))
            })
        };
        let refused: Vec<Option<Recreated>> = plan.recreate.iter().map(missing).collect();
        let planned: Vec<Recreation> = plan
            .recreate
            .iter()
            .zip(&refused)
            .filter(|(_, refused)| refused.is_none())
            .map(|(task, _)| task.clone())
            .collect();
        let mut made = self.recreate_tasks(&planned).into_iter();
        let recreated = refused
            .into_iter()
            .map(|refused| {
                refused
                    .or_else(|| made.next())
                    .unwrap_or(Recreated::Planned)
            })
            .collect();
        (calls, recreated)
    }

    /// Send one inverse call through the gate.
    fn apply_undo_call(&self, call: &UndoCall) -> Result<Vec<String>, VizportalError> {
        match call.method.as_str() {
            method::UPDATE_SCHEDULE | method::SET_SCHEDULE_NAME => {
                let mut params = call.params.clone();
                params.insert("id".into(), json!(call.ids[0]));
                self.call(&call.method, Value::Object(params))
                    .map(|_| call.ids.clone())
            }
            _ => {
                let summary = self.batch(
                    &call.method,
                    call.ids.clone(),
                    call.params.clone(),
                    &|_, _| {},
                );
                match summary.error {
                    Some(error) => Err(error),
                    None if summary.failed.is_empty() => Ok(summary.succeeded),
                    // The ids the server (or a dry run's check) refused, as the server's
                    // own errors: their codes stay.
                    None => Err(VizportalError::Api {
                        method: call.method.clone(),
                        status: 200,
                        errors: summary
                            .failed
                            .iter()
                            .map(|f| crate::wire::WireError {
                                code: f.code,
                                id: Some(f.id.clone()),
                                message: Some(f.message.clone()),
                            })
                            .collect(),
                    }),
                }
            }
        }
    }
}

/// The schedules `lines` deleted, each with the line (1-based) that did.
pub fn deleted_schedules<'a>(
    lines: impl IntoIterator<Item = &'a (usize, AuditLine)>,
) -> BTreeMap<String, usize> {
    lines
        .into_iter()
        .filter(|(_, line)| {
            line.method == method::DELETE_SCHEDULES && line.outcome != Outcome::DryRun
        })
        .flat_map(|(number, line)| applied_ids(line).into_iter().map(|id| (id, *number)))
        .collect()
}

/// A deleted task whose schedule before was one a line deleted (`deleted`, these lines'
/// and the whole undo's) cannot be created again (a deleted schedule is not restored): it
/// is named as not undoable instead.
fn hold_back_on_deleted_schedules(
    lines: &[(usize, AuditLine)],
    deleted: &BTreeMap<String, usize>,
    plan: &mut UndoPlan,
) {
    let mut deleted = deleted.clone();
    deleted.extend(deleted_schedules(lines));
    let (held, kept): (Vec<Recreation>, Vec<Recreation>) = std::mem::take(&mut plan.recreate)
        .into_iter()
        .partition(|task| deleted.contains_key(&task.schedule_id));
    plan.recreate = kept;
    // One note per deleting line and schedule.
    let mut by_schedule: BTreeMap<(usize, String), Vec<String>> = BTreeMap::new();
    for task in held {
        by_schedule
            .entry((task.line, task.schedule_id))
            .or_default()
            .push(task.id);
    }
    for ((number, schedule), ids) in by_schedule {
        let method = lines
            .iter()
            .find(|(n, _)| *n == number)
            .map_or_else(String::new, |(_, line)| line.method.clone());
        plan.not_undoable.push(NotUndoable {
            line: number,
            method,
            ids,
            reason: format!(
                "these tasks were on schedule {schedule}, which line {} deleted and undo cannot restore: the line's before values say what each refreshed, to create it on another schedule yourself",
                deleted[&schedule]
            ),
        });
    }
}

/// What `lines` (oldest first) changed: each item's fields as they were before the oldest
/// line that changed them, and as the newest line left them (with that line's number and
/// method).
fn first_and_last<'a>(
    lines: impl IntoIterator<Item = &'a (usize, AuditLine)>,
) -> (Values, BTreeMap<(Kind, String), Last>) {
    let (mut first, mut last) = (Values::new(), BTreeMap::new());
    for (number, line) in lines {
        let (Some((kind, fields)), Some(before)) = (
            changed(line),
            line.before.as_ref().and_then(Value::as_object),
        ) else {
            continue;
        };
        for id in applied_ids(line) {
            let Some(old) = before.get(&id).and_then(Value::as_object) else {
                continue;
            };
            let was = first.entry((kind, id.clone())).or_insert_with(Map::new);
            let left: &mut Last = last.entry((kind, id)).or_default();
            for (field, new) in &fields {
                if let Some(value) = old.get(*field) {
                    was.entry(field.to_string()).or_insert(value.clone());
                }
                left.fields.insert(field.to_string(), new.clone());
            }
            (left.line, left.method) = (*number, line.method.clone());
        }
    }
    (first, last)
}

/// How the newest audit line that changed an item left it.
#[derive(Debug, Default)]
struct Last {
    line: usize,
    method: String,
    fields: Map<String, Value>,
}

/// A task this run deleted that an older run of the site's lines (`earlier`) changed
/// comes back as it was before those lines, when it was still as they left it at this
/// run's start; when someone changed it in between, it comes back as this run found it
/// and the older line is named as one that cannot be undone.
fn restore_from_earlier(
    current: &Values,
    target: &mut Values,
    earlier: &[&(usize, AuditLine)],
    plan: &mut UndoPlan,
) {
    let (first, last) = first_and_last(earlier.iter().copied());
    for (key, was) in target.iter_mut() {
        let (Kind::Task, id) = key else { continue };
        let (Some(first), Some(last)) = (first.get(key), last.get(key)) else {
            continue;
        };
        if current.contains_key(key) {
            continue;
        }
        let changed_between = last
            .fields
            .iter()
            .find(|(f, v)| !was.get(*f).is_some_and(|w| same(v, w)));
        match changed_between {
            None => {
                was.extend(first.iter().map(|(f, v)| (f.clone(), v.clone())));
                plan.restored_from_earlier.insert(id.clone());
            }
            Some((field, _)) => plan.not_undoable.push(NotUndoable {
                line: last.line,
                method: last.method.clone(),
                ids: vec![id.clone()],
                reason: format!(
                    "its {field} was changed by someone else before a newer line deleted it; it is created again as that line found it"
                ),
            }),
        }
    }
}

/// Undo one line on `target` (what the items will look like): each applied id whose
/// fields still hold the audited values gets its before values.
fn undo_line(
    number: usize,
    line: &AuditLine,
    (target, newest, pending): (&mut Values, &mut Newest, &mut Pending),
    recreated: &BTreeMap<String, Option<String>>,
    plan: &mut UndoPlan,
) {
    let not_undoable = |reason: &str| {
        // A creation names what it made, when the server said.
        let ids = match (&line.created, ids_of(&line.params)) {
            (Some(made), ids) if ids.is_empty() => vec![made.clone()],
            (_, ids) => ids,
        };
        NotUndoable::of(number, line, ids, reason)
    };
    let Some((kind, fields)) = changed(line) else {
        match line.method.as_str() {
            method::DELETE_EXTRACT_TASKS => match line.before.as_ref().and_then(Value::as_object) {
                Some(before) => {
                    let ids = applied_ids(line);
                    undo_delete(number, line, ids, before, (target, newest, pending), plan);
                }
                None => plan
                    .not_undoable
                    .push(not_undoable("the audit line holds no before values")),
            },
            method::CREATE_EXTRACT_TASKS => undo_create(number, line, (target, pending), plan),
            method::DELETE_SCHEDULES => {
                let reason = schedules_deleted(line);
                plan.not_undoable.push(not_undoable(&reason));
                // The site's tasks that went with them come back like deleted ones.
                let tasks = tasks_deleted_with(line);
                let ids = tasks.keys().cloned().collect();
                undo_delete(number, line, ids, &tasks, (target, newest, pending), plan);
            }
            _ => plan.not_undoable.push(not_undoable(why_not(&line.method))),
        }
        return;
    };
    let Some(before) = line.before.as_ref().and_then(Value::as_object) else {
        plan.not_undoable
            .push(not_undoable("the audit line holds no before values"));
        return;
    };
    let (mut gone, mut without_values, mut made_again) = (Vec::new(), Vec::new(), Vec::new());
    for id in applied_ids(line) {
        let Some(now) = target.get_mut(&(kind, id.clone())) else {
            match recreated.get(&id) {
                Some(Some(new_id)) if kind == Kind::Task => {
                    made_again.push(format!("{id} (now {new_id})"));
                }
                Some(None) if kind == Kind::Task => made_again.push(id),
                _ => gone.push(id),
            }
            continue;
        };
        // Every changed field's value before (a server that does not list a field, such
        // as whether a schedule is enabled, leaves nothing to put back).
        let Some(old) = before
            .get(&id)
            .and_then(Value::as_object)
            .filter(|old| fields.iter().all(|(f, _)| old.contains_key(*f)))
        else {
            without_values.push(id);
            continue;
        };
        // What the call changed: `update_schedule` sends every field of the schedule,
        // most as they were, and a field it did not change is not its to put back (nor
        // does someone's change to it since stand in the way).
        let fields: Vec<&(&str, Value)> = fields
            .iter()
            .filter(|(f, new)| !old.get(*f).is_some_and(|was| still_as_set(new, was, None)))
            .collect();
        if fields.is_empty() {
            continue;
        }
        // Already as before the oldest line that changed it (an undo ran before, or someone
        // put it back): nothing to put back, and nothing changed since either.
        let first = plan.origin.get(&(kind, id.clone()));
        let as_before = fields.iter().all(|(f, _)| {
            let was = first.and_then(|o| o.get(*f)).or_else(|| old.get(*f));
            was.is_some_and(|was| same(was, member(now, f)) && same(member(now, f), was))
        });
        if as_before {
            continue;
        }
        let moved = fields
            .iter()
            .find(|(f, new)| !still_as_set(new, member(now, f), old.get(*f)));
        if let Some((field, new)) = moved {
            plan.skipped.push(Skipped {
                line: number,
                method: line.method.clone(),
                id,
                field: field.to_string(),
                audited: new.clone(),
                now: now.get(*field).cloned().unwrap_or(Value::Null),
            });
            continue;
        }
        for &(field, _) in &fields {
            // Details an older audit holds in the API guide's spelling go back in Tableau's.
            if let Some(value) = old.get(*field) {
                let value = crate::wire::schedule::documented_field(field, value);
                now.insert(field.to_string(), value);
            }
        }
        for &(field, _) in &fields {
            newest
                .entry((kind, id.clone(), field.to_string()))
                .or_insert(number);
        }
    }
    let reason =
        "deleted by a newer line, which this undo creates again as it was before this line";
    NotUndoable::note(&mut plan.unchanged, number, line, made_again, reason);
    let reason = "the server no longer has them (deleted since)";
    NotUndoable::note(&mut plan.gone, number, line, gone, reason);
    let reason = "the audit line holds no before values for these ids";
    NotUndoable::note(&mut plan.not_undoable, number, line, without_values, reason);
}

/// Undo a deletion of extract tasks `ids` on `target`: each one the server no longer shows
/// comes back with its `before` values (which older lines may change further), to be
/// created again; one it still shows was not deleted.
fn undo_delete(
    number: usize,
    line: &AuditLine,
    ids: Vec<String>,
    before: &Map<String, Value>,
    (target, newest, pending): (&mut Values, &mut Newest, &mut Pending),
    plan: &mut UndoPlan,
) {
    let mut without_values = Vec::new();
    let mut still_there = Vec::new();
    for id in ids {
        let key = (Kind::Task, id.clone());
        if target.contains_key(&key) {
            still_there.push(id);
            continue;
        }
        match before.get(&id).and_then(Value::as_object) {
            Some(old) if Recreation::possible(old) => {
                newest
                    .entry((Kind::Task, id.clone(), String::new()))
                    .or_insert(number);
                if let Some(what) = refreshes(old, None) {
                    pending.entry(what).or_default().push((id, number));
                }
                target.insert(key, old.clone());
            }
            _ => without_values.push(id),
        }
    }
    let reason = "not deleted: the server still has these tasks";
    NotUndoable::note(&mut plan.unchanged, number, line, still_there, reason);
    let reason = "the audit line does not say what these tasks refreshed";
    NotUndoable::note(&mut plan.not_undoable, number, line, without_values, reason);
}

/// Undo a creation of extract tasks: a task it made that a newer line deleted (one of the
/// `pending` re-creations of the same target and type) is not created again, since there
/// was none before the run. The tasks it made that are still there stay: undo does not
/// delete.
fn undo_create(
    number: usize,
    line: &AuditLine,
    (target, pending): (&mut Values, &mut Pending),
    plan: &mut UndoPlan,
) {
    let params = line.params.as_object();
    // A creation that may not have happened made nothing to pair with a deletion.
    let made = line.outcome != Outcome::Unknown;
    let schedule = params.and_then(|p| before::text(p.get("scheduleId")?));
    let targets: Vec<String> = match params.and_then(|p| p.get("targetIds")) {
        Some(Value::Array(ids)) => ids.iter().filter_map(before::text).collect(),
        Some(id) => before::text(id).into_iter().collect(),
        None => Vec::new(),
    };
    let (mut made_then_deleted, mut deleted_by, mut kept) = (Vec::new(), Vec::new(), Vec::new());
    for target_id in targets.into_iter().filter(|t| !line.failed_ids.contains(t)) {
        // The task it made, deleted by a newer line: on the schedule it was made on, once
        // newer lines are undone.
        let on_schedule = |id: &String| {
            let task = target.get(&(Kind::Task, id.clone()));
            task.and_then(|t| before::text(t.get("scheduleId")?)) == schedule
        };
        let found = params
            .filter(|_| made)
            .and_then(|p| refreshes(p, Some(&target_id)))
            .and_then(|what| {
                let ids = pending.get_mut(&what)?;
                let at = ids.iter().rposition(|(id, _)| on_schedule(id))?;
                Some(ids.remove(at))
            });
        match found {
            Some((id, deleted)) => {
                target.remove(&(Kind::Task, id.clone()));
                made_then_deleted.push(id);
                deleted_by.push(deleted.to_string());
            }
            None => {
                if let Some(what) = params.and_then(|p| refreshes(p, Some(&target_id))) {
                    plan.made.entry(what).or_insert(number);
                }
                kept.push(target_id);
            }
        }
    }
    deleted_by.dedup();
    let reason = format!(
        "the run made these tasks and deleted them again (line {})",
        deleted_by.join(", ")
    );
    NotUndoable::note(&mut plan.unchanged, number, line, made_then_deleted, reason);
    let reason = why_not(&line.method);
    NotUndoable::note(&mut plan.not_undoable, number, line, kept, reason);
}

/// The calls that take `current` to `target`, one batch per method and value, and the
/// deleted tasks to create again (those `target` holds and `current` does not).
fn inverse_calls(
    current: &Values,
    target: &Values,
    newest: &Newest,
) -> (Vec<UndoCall>, Vec<Recreation>) {
    let mut batches: BTreeMap<(String, String), UndoCall> = BTreeMap::new();
    let mut singles = Vec::new();
    let mut recreate = Vec::new();
    for ((kind, id), want) in target {
        // The newest line that changed this field (or deleted the item).
        let line_of = |field: &str| {
            let at = |f: &str| newest.get(&(*kind, id.clone(), f.to_string())).copied();
            at(field).or_else(|| at("")).unwrap_or(0)
        };
        let Some(have) = current.get(&(*kind, id.clone())) else {
            if *kind == Kind::Task {
                recreate.extend(Recreation::of(line_of(""), id, want));
            }
            continue;
        };
        let differs = |f: &str| !same(member(want, f), member(have, f));
        let mut batch = |method: &str, key: &str| {
            let line = line_of(key);
            let value = member(want, key).clone();
            let call = batches
                .entry((method.to_string(), value.to_string()))
                .or_insert_with(|| UndoCall {
                    line,
                    method: method.to_string(),
                    ids: Vec::new(),
                    params: [(key.to_string(), value)].into_iter().collect(),
                });
            call.ids.push(id.clone());
            call.line = call.line.max(line);
        };
        match kind {
            Kind::Task => {
                if differs("scheduleId") {
                    batch(method::SET_EXTRACT_TASKS_SCHEDULE, "scheduleId");
                }
                if differs("priority") {
                    batch(method::SET_EXTRACT_TASKS_PRIORITY, "priority");
                }
            }
            Kind::Subscription if differs("scheduleId") => {
                batch(method::SET_SUBSCRIPTIONS_SCHEDULE, "scheduleId");
            }
            Kind::Subscription => {}
            Kind::Schedule => {
                if differs("enabled") {
                    batch(method::SET_ENABLED_STATUS_FOR_SCHEDULES, "enabled");
                }
                let differing: Vec<&str> = UPDATED.iter().copied().filter(|f| differs(f)).collect();
                let line = differing.iter().map(|f| line_of(f)).max().unwrap_or(0);
                singles.extend(schedule_call(id, want, differing, line));
            }
        }
    }
    (batches.into_values().chain(singles).collect(), recreate)
}

/// `calls`, preceded by a rename to a stand-in name of each schedule whose name another
/// schedule of the undo takes back: names are unique, so two schedules whose names a run
/// swapped could not each take theirs back while the other held it. The stand-in is
/// `(undo at TIME: schedule ID)`, which no one else holds; the schedule's own call then
/// gives it its name.
fn with_names_freed(current: &Values, calls: Vec<UndoCall>) -> Vec<UndoCall> {
    let comparable = crate::wire::schedule::name_key;
    let name_now = |id: &str| {
        let fields = current.get(&(Kind::Schedule, id.to_string()))?;
        fields.get("name")?.as_str().map(comparable)
    };
    let renames: Vec<(&str, String)> = calls
        .iter()
        .filter(|c| {
            [method::SET_SCHEDULE_NAME, method::UPDATE_SCHEDULE].contains(&c.method.as_str())
        })
        .filter_map(|c| {
            let id = c.ids.first()?.as_str();
            let name = comparable(c.params.get("name")?.as_str()?);
            (name_now(id).as_ref() != Some(&name)).then_some((id, name))
        })
        .collect();
    let holders: BTreeSet<&str> = renames
        .iter()
        .filter_map(|(id, name)| {
            let (holder, _) = renames
                .iter()
                .find(|(other, _)| other != id && name_now(other).as_ref() == Some(name))?;
            Some(*holder)
        })
        .collect();
    let line = calls.iter().map(|c| c.line).max().unwrap_or(0);
    let at = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3f");
    let aside = holders.into_iter().map(|id| UndoCall {
        line,
        method: method::SET_SCHEDULE_NAME.to_string(),
        ids: vec![id.to_string()],
        params: [(
            "name".to_string(),
            json!(format!("(undo at {at}: schedule {id})")),
        )]
        .into_iter()
        .collect(),
    });
    aside.collect::<Vec<_>>().into_iter().chain(calls).collect()
}

/// Whether `value` is what a server shows for a member nobody set.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(members) => members.is_empty(),
    }
}

/// The call that puts a schedule's fields back: a rename when only the name differs.
fn schedule_call(
    id: &str,
    want: &Map<String, Value>,
    differing: Vec<&str>,
    line: usize,
) -> Option<UndoCall> {
    let (method, fields): (&str, Vec<&str>) = match differing.as_slice() {
        [] => return None,
        ["name"] => (method::SET_SCHEDULE_NAME, vec!["name"]),
        _ => (
            method::UPDATE_SCHEDULE,
            crate::vizportal::SCHEDULE_FIELDS.to_vec(),
        ),
    };
    let params = fields
        .iter()
        .filter_map(|f| Some((f.to_string(), want.get(*f)?.clone())))
        .collect();
    Some(UndoCall {
        line,
        method: method.to_string(),
        ids: vec![id.to_string()],
        params,
    })
}

/// A member of an item's fields (null when absent).
fn member<'a>(fields: &'a Map<String, Value>, name: &str) -> &'a Value {
    fields.get(name).unwrap_or(&Value::Null)
}

/// Whether the value the server shows (`now`) is the one expected: ids and numbers
/// compare as text, and a map holds at least the expected members.
pub(super) fn same(expected: &Value, now: &Value) -> bool {
    match (expected, now) {
        (Value::Object(want), Value::Object(have)) => want
            .iter()
            .all(|(k, v)| same(v, have.get(k).unwrap_or(&Value::Null))),
        (Value::Array(want), Value::Array(have)) => {
            want.len() == have.len() && want.iter().zip(have).all(|(a, b)| same(a, b))
        }
        (Value::String(a), Value::Number(b)) | (Value::Number(b), Value::String(a)) => {
            *a == b.to_string()
        }
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => expected == now,
    }
}

/// Whether what an audited call set (`set`) is what the server shows now, as the server
/// stores it: like [`same`], but a string without the spaces around it, since a server
/// trims the names it stores ("End of month " is kept as "End of month"); and a map (a
/// schedule's details) holds no member the call did not set unless it is empty (null, 0,
/// false, "", [] or {}, as a server fills in a default: `endTime: 0`) or as it was `before`
/// the call: an `endTime` of 720 someone set since is their change.
fn still_as_set(set: &Value, now: &Value, before: Option<&Value>) -> bool {
    match (set, now) {
        (Value::String(a), Value::String(b)) => a.trim() == b.trim(),
        (Value::Object(given), Value::Object(shown)) => {
            let kept = |(name, value): (&String, &Value)| {
                given.contains_key(name)
                    || is_empty(value)
                    || before
                        .and_then(|b| b.get(name))
                        .is_some_and(|was| same(was, value))
            };
            same(set, now) && shown.iter().all(kept)
        }
        _ => same(set, now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An audit line of `method` with these params and before values.
    fn line(method: &str, params: Value, before: Value) -> AuditLine {
        serde_json::from_value(json!({
            "time": "2026-11-30T08:00:00Z", "server": "https://tableau", "site": "",
            "method": method, "params": params, "outcome": "ok", "before": before,
        }))
        .unwrap()
    }

    fn workbook_task(schedule: &str, priority: i64) -> Value {
        json!({ "targetType": "Workbook", "targetId": "3", "type": "RefreshExtract",
                "scheduleId": schedule, "priority": priority })
    }

    #[test]
    fn a_field_the_server_did_not_list_before_is_not_put_back() {
        let now = json!({ "name": "Nightly", "enabled": false });
        let current: Values = [(
            (Kind::Schedule, "4".to_string()),
            now.as_object().unwrap().clone(),
        )]
        .into_iter()
        .collect();
        // The server listed no `enabled` when the call was audited.
        let disabled = line(
            method::SET_ENABLED_STATUS_FOR_SCHEDULES,
            json!({ "ids": ["4"], "enabled": false }),
            json!({ "4": { "name": "Nightly" } }),
        );
        let (mut target, mut newest, mut pending) =
            (current.clone(), Newest::new(), Pending::new());
        let mut plan = UndoPlan::default();
        undo_line(
            1,
            &disabled,
            (&mut target, &mut newest, &mut pending),
            &BTreeMap::new(),
            &mut plan,
        );
        assert!(plan.skipped.is_empty(), "{:?}", plan.skipped);
        assert_eq!(plan.not_undoable[0].ids, ["4"]);
        assert!(inverse_calls(&current, &target, &newest).0.is_empty());
    }

    #[test]
    fn each_call_of_the_plan_names_the_line_that_changed_its_field() {
        let now = json!({ "scheduleId": "9", "priority": 70 });
        let current: Values = [(
            (Kind::Task, "7".to_string()),
            now.as_object().unwrap().clone(),
        )]
        .into_iter()
        .collect();
        let lines = [
            line(
                method::SET_EXTRACT_TASKS_SCHEDULE,
                json!({ "ids": ["7"], "scheduleId": "9" }),
                json!({ "7": { "scheduleId": "1" } }),
            ),
            line(
                method::SET_EXTRACT_TASKS_PRIORITY,
                json!({ "ids": ["7"], "priority": 70 }),
                json!({ "7": { "priority": 50 } }),
            ),
        ];
        let (mut target, mut newest, mut pending) =
            (current.clone(), Newest::new(), Pending::new());
        let mut plan = UndoPlan::default();
        for (number, line) in lines.iter().enumerate().rev() {
            let walk = (&mut target, &mut newest, &mut pending);
            undo_line(number + 1, line, walk, &BTreeMap::new(), &mut plan);
        }
        let (calls, _) = inverse_calls(&current, &target, &newest);
        let named: Vec<(&str, usize)> = calls.iter().map(|c| (c.method.as_str(), c.line)).collect();
        assert_eq!(
            named,
            [
                (method::SET_EXTRACT_TASKS_PRIORITY, 2),
                (method::SET_EXTRACT_TASKS_SCHEDULE, 1)
            ]
        );
    }

    #[test]
    fn a_task_the_run_made_and_deleted_is_not_made_again_but_the_one_before_it_is() {
        let create = |schedule: &str| {
            let params = json!({ "targetType": "Workbook", "targetIds": ["3"],
                                 "type": "RefreshExtract", "scheduleId": schedule });
            line(method::CREATE_EXTRACT_TASKS, params, Value::Null)
        };
        let delete = |id: &str, schedule: &str, priority: i64| {
            let before = json!({ id: workbook_task(schedule, priority) });
            line(method::DELETE_EXTRACT_TASKS, json!({ "ids": [id] }), before)
        };
        let lines = [
            delete("7", "2", 10),
            create("5"),
            delete("20", "5", 50),
            create("6"),
            delete("21", "6", 50),
        ];
        let (mut target, mut newest, mut pending) = (Values::new(), Newest::new(), Pending::new());
        let mut plan = UndoPlan::default();
        for (number, line) in lines.iter().enumerate().rev() {
            let walk = (&mut target, &mut newest, &mut pending);
            undo_line(number + 1, line, walk, &BTreeMap::new(), &mut plan);
        }
        let (calls, recreate) = inverse_calls(&Values::new(), &target, &newest);
        assert!(calls.is_empty());
        let [task] = &recreate[..] else {
            panic!("{recreate:?}")
        };
        assert_eq!((&*task.id, &*task.schedule_id), ("7", "2"));
        assert_eq!(task.priority, Some(json!(10)));
        let made: Vec<(usize, &[String])> = plan
            .unchanged
            .iter()
            .map(|u| (u.line, &u.ids[..]))
            .collect();
        assert_eq!(
            made,
            [(4, &["21".to_string()][..]), (2, &["20".to_string()][..])]
        );
        assert!(plan.not_undoable.is_empty(), "{:?}", plan.not_undoable);
    }

    #[test]
    fn a_creation_of_unknown_outcome_is_not_taken_for_the_task_a_newer_line_deleted() {
        let params = json!({ "targetType": "Workbook", "targetIds": ["3"],
                             "type": "RefreshExtract", "scheduleId": "2" });
        let mut create = line(method::CREATE_EXTRACT_TASKS, params, Value::Null);
        create.outcome = Outcome::Unknown;
        let delete = line(
            method::DELETE_EXTRACT_TASKS,
            json!({ "ids": ["7"] }),
            json!({ "7": workbook_task("2", 10) }),
        );
        let (mut target, mut newest, mut pending) = (Values::new(), Newest::new(), Pending::new());
        let mut plan = UndoPlan::default();
        for (number, line) in [create, delete].iter().enumerate().rev() {
            undo_line(
                number + 1,
                line,
                (&mut target, &mut newest, &mut pending),
                &BTreeMap::new(),
                &mut plan,
            );
        }
        let (_, recreate) = inverse_calls(&Values::new(), &target, &newest);
        assert_eq!(recreate.len(), 1, "task 7 comes back: {plan:?}");
        assert!(plan.unchanged.is_empty(), "{:?}", plan.unchanged);
    }

    #[test]
    fn values_compare_as_the_wire_sends_them() {
        assert!(same(&json!("5"), &json!(5)));
        assert!(still_as_set(
            &json!("End of month "),
            &json!("End of month"),
            None
        ));
        // Details someone gave an end time since the call set them.
        let set = json!({"startTime": 0, "recurrenceMinutes": 60});
        let before = json!({"startTime": 0, "endTime": 0, "recurrenceMinutes": 240});
        let shown = |end: Value| json!({"startTime": 0, "endTime": end, "recurrenceMinutes": 60});
        assert!(!still_as_set(&set, &shown(json!(720)), Some(&before)));
        assert!(still_as_set(&set, &shown(json!(0)), Some(&before)));
        let filled = json!({"startTime": 0, "endTime": 1080, "recurrenceMinutes": 240});
        assert!(
            still_as_set(&set, &shown(json!(0)), Some(&filled)),
            "a default the server filled in"
        );
        assert!(still_as_set(&set, &shown(Value::Null), None));
        assert!(!same(&json!("End of month "), &json!("End of month")));
        assert!(same(&json!(50), &json!(50.0)));
        assert!(same(
            &json!({"startTime": 240}),
            &json!({"startTime": 240, "endTime": null})
        ));
        assert!(!same(&json!({"startTime": 240}), &json!({"startTime": 60})));
        assert!(!same(&json!(true), &json!(false)));
    }
}

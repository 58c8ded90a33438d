//! The checks of a dry run: a held-back call fails for the ids the server would fail it
//! for, given what the server lists and what the plan so far deletes or moves.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::super::before;
use super::{BatchSummary, Client, ItemFailure, is_planned_id};

impl Client {
    /// Under dry-run, the tasks and subscriptions a batch names that the server does not
    /// list fail as the real call would fail them, instead of passing as planned. (What
    /// `before` holds was read from the server; a schedule is checked by the script
    /// function, against the plan.)
    pub(super) fn fail_the_absent(
        &self,
        method: &str,
        before: Option<&Map<String, Value>>,
        planned_before: usize,
        summary: &mut BatchSummary,
    ) {
        let failed = self.absent_under_dry_run(method, &summary.succeeded, before, planned_before);
        let gone: HashSet<&str> = failed.iter().map(|f| f.id.as_str()).collect();
        summary.succeeded.retain(|id| !gone.contains(id.as_str()));
        summary.failed.extend(failed);
    }

    /// Whether this dry run's plan creates a task of `task_type` for a target that is
    /// still there (its schedule not deleted since).
    pub fn plans_task_for(&self, (target_type, target_id, task_type): (&str, &str, &str)) -> bool {
        let plan = self.plan.lock().unwrap_or_else(|p| p.into_inner());
        let made = (
            target_type.to_string(),
            target_id.to_string(),
            task_type.to_string(),
        );
        plan.created_tasks
            .get(&made)
            .is_some_and(|(at, on)| plan.deleted_schedules.get(on).is_none_or(|gone| gone < at))
    }

    /// Forget the planned creations of these targets: the dry run failed them, so they
    /// make no task.
    pub fn unplan_tasks_for(&self, (target_type, task_type): (&str, &str), targets: &[String]) {
        let mut plan = self.plan.lock().unwrap_or_else(|p| p.into_inner());
        for target in targets {
            let made = (
                target_type.to_string(),
                target.clone(),
                task_type.to_string(),
            );
            plan.created_tasks.remove(&made);
        }
    }

    /// Those of `tasks` (id, the schedule the server shows it on) that this dry run's
    /// plan so far removes: deleted, or on a schedule it deleted.
    pub fn plan_removes_tasks<'t>(
        &self,
        tasks: impl Iterator<Item = (&'t str, Option<&'t str>)>,
    ) -> HashSet<String> {
        let planned = self.planned_calls();
        let gone = self.planned_schedule_deletions(planned);
        tasks
            .filter(|(id, on)| self.removed_by_plan(id, *on, planned, &gone))
            .map(|(id, _)| id.to_string())
            .collect()
    }

    /// Whether extract task `id`, which the server shows on `schedule`, is removed by the
    /// first `planned_before` calls of this dry run's plan: a deletion of it, or of the
    /// schedule it is on then (the server's, or the last one the plan moved it to), which
    /// are among `gone`.
    fn removed_by_plan(
        &self,
        id: &str,
        schedule: Option<&str>,
        planned_before: usize,
        gone: &HashSet<String>,
    ) -> bool {
        let plan = self.plan.lock().unwrap_or_else(|p| p.into_inner());
        if plan
            .deleted_tasks
            .get(id)
            .is_some_and(|at| *at < planned_before)
        {
            return true;
        }
        let moved = last_move(plan.moved_tasks.get(id), planned_before);
        moved.or(schedule).is_some_and(|s| gone.contains(s))
    }

    /// The schedule subscription `id` is on after the first `planned_before` calls of the
    /// plan: the last one it moved it to, else `listed` (the server's).
    fn subscription_schedule(
        &self,
        id: &str,
        listed: Option<&str>,
        planned_before: usize,
    ) -> Option<String> {
        let plan = self.plan.lock().unwrap_or_else(|p| p.into_inner());
        let moved = last_move(plan.moved_subscriptions.get(id), planned_before);
        moved.or(listed).map(str::to_string)
    }

    /// The schedules this dry run deleted in its first `planned_before` calls, and those
    /// the dry runs of the run's other sites deleted.
    fn planned_schedule_deletions(&self, planned_before: usize) -> HashSet<String> {
        let plan = self.plan.lock().unwrap_or_else(|p| p.into_inner());
        let mut gone: HashSet<String> = plan
            .deleted_schedules
            .iter()
            .filter(|(_, at)| **at < planned_before)
            .map(|(id, _)| id.clone())
            .collect();
        drop(plan);
        if let Some((shared, me)) = self.server_plan.get() {
            let shared = shared.calls.lock().unwrap_or_else(|p| p.into_inner());
            let theirs = shared.iter().filter(|(number, _, call)| {
                number != me && call.method == crate::wire::method::DELETE_SCHEDULES
            });
            // Their stand-in ids name their own planned schedules, which this site's
            // tasks cannot be on.
            let real = |id: &String| !is_planned_id(id);
            gone.extend(
                theirs
                    .flat_map(|(_, _, call)| before::ids_of(&call.params))
                    .filter(real),
            );
        }
        gone
    }

    /// Under dry-run, those of `ids` that `method` (on extract tasks or subscriptions)
    /// would fail for, as the server would: not listed (`before`, when the caller read
    /// it, holds those that are), or extract tasks deleted by one of the first
    /// `planned_before` calls of the plan (those before this call).
    pub fn absent_under_dry_run(
        &self,
        method: &str,
        ids: &[String],
        before: Option<&Map<String, Value>>,
        planned_before: usize,
    ) -> Vec<ItemFailure> {
        use crate::wire::method::{CREATE_EXTRACT_TASKS, DELETE_EXTRACT_TASKS};
        // Every method on extract tasks by id reads them as a deletion does.
        let reader = if method == crate::wire::method::SET_SUBSCRIPTIONS_SCHEDULE {
            method
        } else if method.contains("ExtractTask") && method != CREATE_EXTRACT_TASKS {
            DELETE_EXTRACT_TASKS
        } else {
            return Vec::new();
        };
        if ids.is_empty() {
            return Vec::new();
        }
        // What the server lists, with each item's schedule.
        let listed: HashMap<String, Option<String>> = match before {
            // Values of a subscription move hold its schedule; those of a task's priority
            // do not, so tasks are read again.
            Some(values) if reader != DELETE_EXTRACT_TASKS => values
                .iter()
                .map(|(id, fields)| (id.clone(), fields.get("scheduleId").and_then(before::text)))
                .collect(),
            _ => {
                let Some(changes) = before::changes(reader) else {
                    return Vec::new();
                };
                match before::read(self, &changes, ids) {
                    Ok(values) => values
                        .into_iter()
                        .map(|(id, fields)| (id, fields.get("scheduleId").and_then(before::text)))
                        .collect(),
                    Err(e) => {
                        tracing::warn!("{method}: cannot check that the ids exist: {e}");
                        return Vec::new();
                    }
                }
            }
        };
        // Schedules the plans deleted take their tasks with them.
        let gone_schedules = self.planned_schedule_deletions(planned_before);
        // Extract tasks a call of the plan before this one deleted (they or their schedule,
        // the last one the plan moved them to) are gone by then; subscriptions go with
        // their schedule.
        let tasks = reader == DELETE_EXTRACT_TASKS;
        let why = |id: &String| match listed.get(id) {
            None => Some("the server does not list it".to_string()),
            Some(schedule)
                if tasks
                    && self.removed_by_plan(
                        id,
                        schedule.as_deref(),
                        planned_before,
                        &gone_schedules,
                    ) =>
            {
                Some("an earlier call of this dry run deletes it or its schedule".to_string())
            }
            Some(listed) if !tasks => {
                let on = self.subscription_schedule(id, listed.as_deref(), planned_before)?;
                gone_schedules.contains(&on).then(|| {
                    format!("its schedule {on} is deleted by an earlier call of this dry run")
                })
            }
            Some(_) => None,
        };
        ids.iter()
            .filter_map(|id| Some((id, why(id)?)))
            .map(|(id, why)| ItemFailure::under_dry_run(id, &why))
            .collect()
    }
}

/// Where the last of `moves` (each a plan place and a schedule) before place
/// `planned_before` took its item.
fn last_move(moves: Option<&Vec<(usize, String)>>, planned_before: usize) -> Option<&str> {
    let before = moves?.iter().rev().find(|(at, _)| *at < planned_before);
    before.map(|(_, to)| to.as_str())
}

//! Under dry-run, the schedules as the server would have them once the calls the dry run
//! planned were made: what the server lists, with the plan's creations (under their
//! stand-in ids), renames, updates and deletions applied in order, those the other sites
//! of an `--all-sites` dry run planned too (schedules are shared by the sites). The dry
//! run checks each schedule change against it as the server would check the real call,
//! so a plan that deletes a schedule and reuses its name passes, and one that moves tasks
//! to a schedule it deleted, or creates a schedule another site's run already created,
//! does not.

use std::collections::BTreeMap;

use crate::wire::id_string as text;
use rhai::Position;
use serde_json::{Value, json};

use crate::script::error::usage;
use crate::script::host::Host;
use crate::vizportal::{BatchSummary, ItemFailure, PlannedChange, is_planned_id, planned_id};
use crate::wire::method;

type JsonMap = serde_json::Map<String, Value>;
type Out<T> = Result<T, Box<rhai::EvalAltResult>>;

/// The schedules after the plan.
pub(super) struct AfterPlan {
    /// By id, each with the fields the server lists (or the plan gave it).
    schedules: BTreeMap<String, JsonMap>,
    /// Schedules the plan deleted, with which call did (`plan call 2 of this dry run`).
    deleted: BTreeMap<String, String>,
}

impl AfterPlan {
    /// The server's schedules with the plan of `host`'s client applied.
    pub(super) fn read(host: &Host, pos: Position) -> Out<AfterPlan> {
        let client = host.client(pos)?;
        let plain = |items: Vec<Value>, _: &crate::vizportal::SideTables| items;
        let listed = client
            .schedules_for_checks(|| {
                let all = json!({});
                client.list_all(method::GET_SCHEDULES, &all, "schedules", &plain, &|_, _| {})
            })
            .map_err(|e| crate::script::error::raise(&e, pos))?;
        let schedules = listed
            .iter()
            .filter_map(|s| Some((text(s.get("id")?)?, s.as_object()?.clone())))
            .collect();
        Ok(AfterPlan::of(schedules, &client.schedule_plan()))
    }

    /// `schedules` (by id) with `plan` applied.
    fn of(schedules: BTreeMap<String, JsonMap>, plan: &[PlannedChange]) -> AfterPlan {
        let mut after = AfterPlan {
            schedules,
            deleted: BTreeMap::new(),
        };
        for change in plan {
            let call = &change.call;
            let Some(params) = call.params.as_object() else {
                continue;
            };
            // Another site's stand-in ids are its own: they name its planned schedules.
            let key = |id: String| match change.mine || !is_planned_id(&id) {
                true => id,
                false => format!("{} on site {:?})", id.trim_end_matches(')'), call.site),
            };
            let id = params.get("id").and_then(text).map(key);
            match call.method.as_str() {
                // Under the stand-in id its later calls name (another site's with its
                // site, which this site's calls cannot name).
                method::CREATE_SCHEDULE => {
                    after
                        .schedules
                        .insert(key(planned_id(change.at + 1)), params.clone());
                }
                method::SET_SCHEDULE_NAME | method::UPDATE_SCHEDULE => {
                    let Some(fields) = id.and_then(|id| after.schedules.get_mut(&id)) else {
                        continue;
                    };
                    let changed = params.iter().filter(|(k, _)| *k != "id");
                    fields.extend(changed.map(|(k, v)| (k.clone(), v.clone())));
                }
                method::DELETE_SCHEDULES => {
                    let ids = params.get("ids").and_then(Value::as_array);
                    for id in ids.into_iter().flatten().filter_map(text).map(key) {
                        if after.schedules.remove(&id).is_some() {
                            let by = match change.mine {
                                true => format!("plan call {} of this dry run", change.at + 1),
                                false => format!("the dry run on site {:?}", call.site),
                            };
                            after.deleted.insert(id, by);
                        }
                    }
                }
                _ => {}
            }
        }
        after
    }

    /// Schedule `id` as the plan leaves it, or why there is none.
    pub(super) fn find(&self, id: &str) -> Result<&JsonMap, String> {
        match (self.schedules.get(id), self.deleted.get(id)) {
            (Some(fields), _) => Ok(fields),
            (None, Some(by)) => Err(format!("schedule {id} is deleted by {by}")),
            (None, None) if id.trim().is_empty() => Err("no schedule id (it is empty)".into()),
            (None, None) => Err(format!("schedule {id} does not exist")),
        }
    }

    /// Refuse, naming `function`, a move or new task on schedule `id` unless it exists
    /// after the plan and runs `action` (`Extract`, `Subscription`).
    fn check_target(&self, function: &str, id: &str, action: &str, pos: Position) -> Out<()> {
        let found = self
            .find(id)
            .map_err(|problem| refused(function, &problem, pos))?;
        match found.get("scheduledAction").and_then(Value::as_str) {
            Some(have) if have == action => Ok(()),
            have => Err(refused(
                function,
                &format!(
                    "schedule {id}'s scheduledAction is {}, and this needs {action}",
                    have.unwrap_or("not given")
                ),
                pos,
            )),
        }
    }

    /// Refuse `name` when another schedule than `except` has it after the plan (names
    /// are unique on a server, compared without case and surrounding spaces).
    pub(super) fn check_name_is_free(
        &self,
        function: &str,
        name: &str,
        except: Option<&str>,
        pos: Position,
    ) -> Out<()> {
        let same = |fields: &JsonMap| {
            let other = fields.get("name").and_then(Value::as_str).unwrap_or("");
            crate::wire::schedule::name_key(other) == crate::wire::schedule::name_key(name)
        };
        let taken = self
            .schedules
            .iter()
            .find(|(id, fields)| Some(id.as_str()) != except && same(fields));
        let Some((id, _)) = taken else {
            return Ok(());
        };
        let whose = match is_planned_id(id) {
            true => format!("is planned already ({id})"),
            false => format!("exists already (id {id})"),
        };
        Err(usage(
            format!(
                "{function}: a schedule named \"{name}\" {whose}; the server would refuse the name"
            ),
            pos,
        ))
    }
}

/// Under dry-run, refuse `method` with `params` where the server would refuse it, given
/// the schedules as the plan leaves them: a schedule that is not there, a move or a new
/// task on a schedule of the other kind, a name another schedule has, a changed
/// `scheduledAction`. `function` names the caller in messages. Both the helpers and calls
/// made by name (`vizportal()`, `vp::`) are checked here. What it returns is the turn of
/// an `--all-sites` dry run to plan the call (see `Client::schedule_change_turn`): the
/// caller holds it until the call is planned.
pub(super) fn check_call<'h>(
    host: &'h Host,
    pos: Position,
    function: &str,
    method: &str,
    params: &Value,
) -> Out<Turn<'h>> {
    let client = host.client(pos)?;
    if !client.dry_run() {
        return Ok(None);
    }
    let turn = client.schedule_change_turn(method);
    checked(host, pos, function, method, params).map(|()| turn)
}

/// The turn [`check_call`] gives.
pub(super) type Turn<'h> = Option<std::sync::MutexGuard<'h, ()>>;

/// [`check_call`]'s checks.
fn checked(host: &Host, pos: Position, function: &str, method: &str, params: &Value) -> Out<()> {
    let field = |key: &str| params.get(key).and_then(text);
    match method {
        method::SET_EXTRACT_TASKS_SCHEDULE | method::CREATE_EXTRACT_TASKS => {
            let Some(id) = field("scheduleId") else {
                return Ok(());
            };
            AfterPlan::read(host, pos)?.check_target(function, &id, "Extract", pos)
        }
        method::SET_SUBSCRIPTIONS_SCHEDULE => {
            let Some(id) = field("scheduleId") else {
                return Ok(());
            };
            AfterPlan::read(host, pos)?.check_target(function, &id, "Subscription", pos)
        }
        method::CREATE_SCHEDULE => match params.get("name").and_then(Value::as_str) {
            Some(name) => AfterPlan::read(host, pos)?.check_name_is_free(function, name, None, pos),
            None => Ok(()),
        },
        method::SET_SCHEDULE_NAME | method::UPDATE_SCHEDULE => {
            let Some(id) = field("id") else {
                return Ok(());
            };
            let after = AfterPlan::read(host, pos)?;
            let current = after.find(&id).map_err(|p| refused(function, &p, pos))?;
            if let Some(name) = params.get("name").and_then(Value::as_str) {
                after.check_name_is_free(function, name, Some(&id), pos)?;
            }
            // Whether a server takes fewer fields is not known (update_schedule sends all).
            let missing = crate::wire::schedule::SCHEDULE_FIELDS
                .iter()
                .find(|f| params.get(**f).is_none_or(Value::is_null));
            // A raw call (its function is its method); update_schedule sends them all.
            if method == method::UPDATE_SCHEDULE
                && function == method
                && let Some(missing) = missing
            {
                crate::diag!(
                    "warning: {function} of schedule {id} without {missing}: Tableau's client sends all seven fields, and a server may refuse fewer (the bundled emulator does, code 24); update_schedule sends them all"
                );
            }
            let action = |fields: &Value| fields.get("scheduledAction").cloned();
            let now = current.get("scheduledAction").cloned();
            match action(params).filter(|new| Some(new) != now.as_ref()) {
                Some(new) => Err(refused(
                    function,
                    &format!(
                        "a schedule's scheduledAction cannot change (schedule {id} runs {}, not {new})",
                        now.unwrap_or(Value::Null)
                    ),
                    pos,
                )),
                None => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

/// Methods that name schedules by `ids`: the server applies them to the schedules that
/// are there and fails the others one by one.
const SCHEDULE_BATCHES: [&str; 3] = [
    method::SET_ENABLED_STATUS_FOR_SCHEDULES,
    method::DELETE_SCHEDULES,
    method::RUN_SCHEDULES,
];

/// Under dry-run, those of schedules `ids` that a batch `method` on schedules would fail
/// for, as the plan so far leaves them (asked before the call is planned).
pub(super) fn absent(
    host: &Host,
    pos: Position,
    method: &str,
    ids: &[String],
) -> Out<Vec<ItemFailure>> {
    if !SCHEDULE_BATCHES.contains(&method) || ids.is_empty() || !host.client(pos)?.dry_run() {
        return Ok(Vec::new());
    }
    let after = AfterPlan::read(host, pos)?;
    let failure = |id: &String| {
        let why = after.find(id).err()?;
        Some(ItemFailure::under_dry_run(id, &why))
    };
    Ok(ids.iter().filter_map(failure).collect())
}

/// `summary` with the ids of `failures` counted as failed, not planned.
pub(super) fn fail_in(summary: &mut BatchSummary, failures: Vec<ItemFailure>) {
    let failed: std::collections::HashSet<&str> = failures.iter().map(|f| f.id.as_str()).collect();
    summary.succeeded.retain(|id| !failed.contains(id.as_str()));
    summary.failed.extend(failures);
}

/// A dry run's refusal of a call the server would refuse.
pub(super) fn refused(function: &str, problem: &str, pos: Position) -> Box<rhai::EvalAltResult> {
    usage(
        format!("{function}: {problem}; the real call would fail (checked under --dry-run)"),
        pos,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(method: &str, params: Value) -> crate::vizportal::PlannedCall {
        crate::vizportal::PlannedCall {
            method: method.to_string(),
            params,
            ids: 0,
            site: String::new(),
        }
    }

    /// A plan of this dry run's own calls.
    fn own(calls: Vec<crate::vizportal::PlannedCall>) -> Vec<PlannedChange> {
        let mine = |(at, call)| PlannedChange {
            mine: true,
            at,
            call,
        };
        calls.into_iter().enumerate().map(mine).collect()
    }

    fn server() -> BTreeMap<String, JsonMap> {
        [("4", "Nightly"), ("5", "Weekly")]
            .into_iter()
            .map(|(id, name)| {
                let fields = json!({ "id": id, "name": name, "scheduledAction": "Extract" });
                (id.to_string(), fields.as_object().unwrap().clone())
            })
            .collect()
    }

    #[test]
    fn the_plan_frees_and_takes_names_in_order() {
        let plan = own(vec![
            call(method::DELETE_SCHEDULES, json!({ "ids": ["4"] })),
            call(
                method::SET_SCHEDULE_NAME,
                json!({ "id": "5", "name": "Weekly (old)" }),
            ),
            call(
                method::CREATE_SCHEDULE,
                json!({ "name": "Weekly", "scheduledAction": "Extract" }),
            ),
        ]);
        let after = AfterPlan::of(server(), &plan);
        let free = |name: &str, except: Option<&str>| {
            after
                .check_name_is_free("f", name, except, Position::NONE)
                .map_err(|e| e.to_string())
        };
        assert!(free("nightly", None).is_ok(), "deleted, so free again");
        assert!(
            free(" WEEKLY (old)", None)
                .unwrap_err()
                .contains("exists already (id 5)")
        );
        let planned = free("Weekly", None).unwrap_err();
        assert!(planned.contains("is planned already ((new schedule of plan call 3))"));
        assert!(free("Weekly (old)", Some("5")).is_ok(), "its own name");
        assert_eq!(
            after.find("4").unwrap_err(),
            "schedule 4 is deleted by plan call 1 of this dry run"
        );
        assert_eq!(after.find("9").unwrap_err(), "schedule 9 does not exist");
        assert_eq!(after.find(&planned_id(3)).unwrap()["name"], "Weekly");
    }
}

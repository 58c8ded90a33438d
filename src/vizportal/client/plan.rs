//! What a dry run held back: its calls, as the plan prints them, and the indexes its checks
//! read on every call; and the schedule changes shared by the sites of one run.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;
use serde_json::Value;

use super::super::before;
use crate::wire::{first_ids, id_text};

/// A mutating call that `--dry-run` held back.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedCall {
    /// The Vizportal method.
    pub method: String,
    /// The params that would have been sent.
    pub params: Value,
    /// How many ids the call names (0 when it names none).
    pub ids: usize,
    /// The site the call was made on (URL name, `""` = Default).
    pub site: String,
}

impl PlannedCall {
    /// Whether the calls of `plan` were held back on more than one site (a switch_site,
    /// an undo over sites): each line of the plan then says which.
    pub fn on_several_sites(plan: &[PlannedCall]) -> bool {
        plan.iter().any(|call| call.site != plan[0].site)
    }

    /// The plan as `run` and the REPL print it: one numbered line per call, with the
    /// number of ids and the first few of them, the other params, and the site first
    /// when `with_site` (runs over several sites). `--plan-json` has every id.
    pub fn render(plan: &[PlannedCall], with_site: bool) -> Vec<String> {
        const SHOWN: usize = 5;
        plan.iter()
            .enumerate()
            .map(|(n, call)| {
                let mut params = call.params.clone();
                let ids = params.as_object_mut().and_then(|map| {
                    let ids = map.remove("ids");
                    ids.or_else(|| map.remove("targetIds"))
                });
                let named_ids = ids.is_some();
                let shown = match ids {
                    Some(Value::Array(ids)) if !ids.is_empty() => {
                        let text = ids
                            .iter()
                            .map(|id| id_text(id).map_or_else(|| id.to_string(), String::from));
                        format!(" [{}]", first_ids(text, SHOWN))
                    }
                    _ => String::new(),
                };
                let site = if with_site {
                    format!("site {:?}: ", call.site)
                } else {
                    String::new()
                };
                // A call that names no ids (createSchedule, updateSchedule) says none; an
                // empty id list still shows.
                let ids = if named_ids {
                    format!(" {} ids", call.ids)
                } else {
                    String::new()
                };
                format!("{:>3}. {site}{}{ids}{shown} {}", n + 1, call.method, params)
            })
            .collect()
    }
}

/// The schedule changes the dry runs of one run planned, on every site (schedules are
/// shared by the sites): each with the plan it is in (a client's [`ServerPlan::join`]
/// number) and its place there.
#[derive(Debug, Default)]
pub struct ServerPlan {
    pub(super) calls: Mutex<Vec<(usize, usize, PlannedCall)>>,
    /// Held by a site's dry run from checking a schedule change against the plans to
    /// adding it to them, so that two sites never both find a name free.
    pub(super) turn: Mutex<()>,
}

impl ServerPlan {
    /// A number for a client's plan among the others.
    pub(super) fn join(&self) -> usize {
        static PLANS: AtomicUsize = AtomicUsize::new(1);
        PLANS.fetch_add(1, Ordering::Relaxed)
    }
}

/// A schedule change planned by one of the run's dry runs, as [`Client::schedule_plan`]
/// lists them.
#[derive(Debug, Clone)]
pub struct PlannedChange {
    /// Whether the asking client planned it (else another site's dry run did).
    pub mine: bool,
    /// Its place in the plan of the client that planned it (from 0).
    pub at: usize,
    /// The call.
    pub call: PlannedCall,
}

/// What a dry run held back, with indexes its checks use on every call (a per-task loop
/// must not scan the whole plan each time).
#[derive(Debug, Default)]
pub(super) struct Plan {
    pub(super) calls: Vec<PlannedCall>,
    /// Where the schedule changes are among `calls`.
    pub(super) schedule_changes: Vec<usize>,
    /// Extract tasks a planned deletion removes, with where the first such call is.
    pub(super) deleted_tasks: HashMap<String, usize>,
    /// Schedules a planned deletion removes, with where the first such call is.
    pub(super) deleted_schedules: HashMap<String, usize>,
    /// What planned creations made tasks for, (target type, target id, task type), with
    /// where and on which schedule.
    pub(super) created_tasks: HashMap<(String, String, String), (usize, String)>,
    /// Extract tasks the plan moved: each move's place and schedule, in order.
    pub(super) moved_tasks: HashMap<String, Vec<(usize, String)>>,
    /// Subscriptions the plan moved, as `moved_tasks` holds tasks.
    pub(super) moved_subscriptions: HashMap<String, Vec<(usize, String)>>,
    /// Methods planned that no public source names (each is warned about once).
    pub(super) unknown: HashSet<String>,
}

impl Plan {
    pub(super) fn push(&mut self, call: PlannedCall) {
        let at = self.calls.len();
        if call.method == crate::wire::method::CREATE_EXTRACT_TASKS {
            let field = |key: &str| {
                call.params
                    .get(key)
                    .and_then(before::text)
                    .unwrap_or_default()
            };
            let (kind, task_type, on) = (field("targetType"), field("type"), field("scheduleId"));
            let targets = call.params.get("targetIds").and_then(Value::as_array);
            for target in targets.into_iter().flatten().filter_map(before::text) {
                let made = (kind.clone(), target, task_type.clone());
                self.created_tasks.insert(made, (at, on.clone()));
            }
        }
        let moves = match call.method.as_str() {
            crate::wire::method::SET_EXTRACT_TASKS_SCHEDULE => Some(&mut self.moved_tasks),
            crate::wire::method::SET_SUBSCRIPTIONS_SCHEDULE => Some(&mut self.moved_subscriptions),
            _ => None,
        };
        if let (Some(moves), Some(to)) =
            (moves, call.params.get("scheduleId").and_then(before::text))
        {
            for id in before::ids_of(&call.params) {
                moves.entry(id).or_default().push((at, to.clone()));
            }
        }
        if call.method == crate::wire::method::DELETE_SCHEDULES {
            for id in before::ids_of(&call.params) {
                self.deleted_schedules.entry(id).or_insert(at);
            }
        }
        if SCHEDULE_CHANGES.contains(&call.method.as_str()) {
            self.schedule_changes.push(at);
        }
        if call.method == crate::wire::method::DELETE_EXTRACT_TASKS {
            for id in before::ids_of(&call.params) {
                self.deleted_tasks.entry(id).or_insert(at);
            }
        }
        self.calls.push(call);
    }
}

/// The id a dry run gives a schedule that plan call `call` would create, for the calls
/// after it to name: `(new schedule of plan call 3)`.
pub fn planned_id(call: usize) -> String {
    format!("{PLANNED_PREFIX}{call})")
}

/// Whether `id` is a dry run's stand-in for a schedule it plans to create (see
/// [`planned_id`]; another site's carries its site too), not an id of the server's.
pub fn is_planned_id(id: &str) -> bool {
    id.starts_with(PLANNED_PREFIX)
}

/// How every [`planned_id`] begins.
const PLANNED_PREFIX: &str = "(new schedule of plan call ";

/// Methods whose planned calls change the schedules other sites see.
pub(super) const SCHEDULE_CHANGES: [&str; 4] = [
    crate::wire::method::CREATE_SCHEDULE,
    crate::wire::method::SET_SCHEDULE_NAME,
    crate::wire::method::UPDATE_SCHEDULE,
    crate::wire::method::DELETE_SCHEDULES,
];

//! `undo --dry-run` answers as the real undo would. Nothing is sent, so two things are
//! simulated here: what the undo of newer runs of lines would have put back, which the
//! older runs (of this site, and every site's, for schedules) find instead of the server's
//! values; and the server's own refusals of a call to a schedule that is not there or a
//! name another schedule holds.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{Kind, UndoCall, UndoPlan, Values};
use crate::vizportal::client::Client;
use crate::vizportal::error::VizportalError;
use crate::wire::{WireError, code, id_text, method};

/// What the undo of the runs planned so far would have put back, by item.
#[derive(Debug, Default)]
pub struct PutBack(Values);

impl PutBack {
    /// Take in what `plan`'s calls put back, for the ids that `outcomes` (in order) says
    /// went through: a call the dry run refused puts nothing back, one refused for some of
    /// its ids puts the others back.
    pub fn absorb(&mut self, plan: &UndoPlan, outcomes: &[Result<Vec<String>, VizportalError>]) {
        for (call, outcome) in plan.calls.iter().zip(outcomes) {
            let Some(kind) = kind_of(&call.method) else {
                continue;
            };
            let applied: Vec<&String> = match outcome {
                Ok(ids) => ids.iter().collect(),
                Err(VizportalError::Api { errors, .. })
                    if errors.iter().all(|e| e.id.is_some()) =>
                {
                    let refused: Vec<&str> =
                        errors.iter().filter_map(|e| e.id.as_deref()).collect();
                    call.ids
                        .iter()
                        .filter(|id| !refused.contains(&id.as_str()))
                        .collect()
                }
                Err(_) => Vec::new(),
            };
            for id in applied {
                let fields = self.0.entry((kind, id.clone())).or_default();
                fields.extend(call.params.clone());
            }
        }
    }

    /// `current` as the server would show it after the runs planned so far.
    pub(super) fn over(&self, current: &mut Values) {
        for (item, put_back) in &self.0 {
            if let Some(fields) = current.get_mut(item) {
                fields.extend(put_back.clone());
            }
        }
    }
}

/// The item kind a method of an undo call changes.
fn kind_of(call_method: &str) -> Option<Kind> {
    match call_method {
        method::SET_EXTRACT_TASKS_SCHEDULE | method::SET_EXTRACT_TASKS_PRIORITY => Some(Kind::Task),
        method::SET_SUBSCRIPTIONS_SCHEDULE => Some(Kind::Subscription),
        method::SET_ENABLED_STATUS_FOR_SCHEDULES
        | method::SET_SCHEDULE_NAME
        | method::UPDATE_SCHEDULE => Some(Kind::Schedule),
        _ => None,
    }
}

/// The server's schedules as an undo's dry run sees them: by id, each one's name, as the
/// server lists them with the names the runs planned so far put back.
pub(super) struct Schedules(BTreeMap<String, String>);

impl Schedules {
    /// Listed from the server, with `put_back`'s names.
    pub(super) fn read(client: &Client, put_back: &PutBack) -> Result<Schedules, VizportalError> {
        let plain = |items: Vec<Value>, _: &crate::vizportal::SideTables| items;
        let listed = client.list_all(
            method::GET_SCHEDULES,
            &Value::Object(Map::new()),
            "schedules",
            &plain,
            &|_, _| {},
        )?;
        let mut names = BTreeMap::new();
        for schedule in listed {
            let Some(id) = schedule.get("id").and_then(id_text) else {
                continue;
            };
            let name = schedule.get("name").and_then(Value::as_str).unwrap_or("");
            names.insert(id.into_owned(), name.to_string());
        }
        for ((kind, id), fields) in &put_back.0 {
            if let (Kind::Schedule, Some(name)) = (kind, fields.get("name").and_then(Value::as_str))
                && let Some(held) = names.get_mut(id)
            {
                *held = name.to_string();
            }
        }
        Ok(Schedules(names))
    }

    /// Whether `plan` asks anything of the schedules: calls naming one, or tasks to create
    /// again on one. (If not, the schedules need not be listed.)
    pub(super) fn asked_of(plan: &UndoPlan) -> bool {
        let names_one = |call: &UndoCall| {
            matches!(
                call.method.as_str(),
                method::SET_EXTRACT_TASKS_SCHEDULE
                    | method::SET_SUBSCRIPTIONS_SCHEDULE
                    | method::SET_SCHEDULE_NAME
                    | method::UPDATE_SCHEDULE
            )
        };
        !plan.recreate.is_empty() || plan.calls.iter().any(names_one)
    }

    /// Why the server would refuse `call` (planned in this order), as its error; a rename
    /// it would take is taken, for the calls after it.
    pub(super) fn refusal(&mut self, call: &UndoCall) -> Option<VizportalError> {
        // The error names the schedule a rename or update is refused for; a move to a
        // schedule that is not there fails for every id, so it names none.
        let refused = |code: i64, id: Option<&str>, message: String| VizportalError::Api {
            method: call.method.clone(),
            status: 200,
            errors: vec![WireError {
                code: Some(code),
                id: id.map(str::to_string),
                message: Some(format!("{message} (checked under --dry-run)")),
            }],
        };
        match call.method.as_str() {
            method::SET_EXTRACT_TASKS_SCHEDULE | method::SET_SUBSCRIPTIONS_SCHEDULE => {
                let schedule = call.params.get("scheduleId").and_then(id_text)?;
                let missing = !self.0.contains_key(schedule.as_ref());
                missing.then(|| {
                    let message = format!("schedule {schedule} does not exist");
                    refused(code::SCHEDULE_NOT_FOUND, None, message)
                })
            }
            method::SET_SCHEDULE_NAME | method::UPDATE_SCHEDULE => {
                let id = call.ids.first()?;
                if !self.0.contains_key(id) {
                    let message = format!("schedule {id} does not exist");
                    return Some(refused(code::SCHEDULE_NOT_FOUND, Some(id), message));
                }
                let name = call.params.get("name").and_then(Value::as_str)?;
                let key = crate::wire::schedule::name_key;
                let holder = self
                    .0
                    .iter()
                    .find(|(other, held)| *other != id && key(held) == key(name));
                if let Some((holder, _)) = holder {
                    let message =
                        format!("a schedule named \"{name}\" exists already (schedule {holder})");
                    return Some(refused(code::SCHEDULE_NAME_EXISTS, Some(id), message));
                }
                self.0.insert(id.clone(), name.to_string());
                None
            }
            _ => None,
        }
    }

    /// Whether schedule `id` is there (for a task to be created again on it).
    pub(super) fn has(&self, id: &str) -> bool {
        self.0.contains_key(id)
    }
}

//! Server-wide schedules (docs/protocol.md §4.2): the list with live task counts, and creating,
//! changing, renaming, enabling, disabling, deleting and running schedules (server
//! administrators only).

use std::cell::OnceCell;
use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::params::{self, RequestedId};
use super::{Call, Failure, Outcome, Reply, batch_reply, require_server_admin};
use crate::emulator::config::ScheduleShape;
use crate::emulator::dataset::Dataset;
use crate::emulator::entities::{
    DEFAULT_PRIORITY, Id, Schedule, ScheduleType, ScheduledAction, TargetType,
};
use crate::emulator::jobs;
use crate::emulator::listing::{self, Listed, Val};
use crate::emulator::recurrence::{self, ScheduleDetails};
use crate::emulator::state::ServerState;
use crate::emulator::timestamp;
use crate::wire::{WireError, code};

/// Longest schedule name accepted.
const MAX_NAME_LEN: usize = 255;

/// What the schedule list needs beyond the schedules: how many tasks or subscriptions use
/// each, and (only when a filter asks) which workbooks and datasources they refresh.
struct ScheduleStats<'d> {
    data: &'d Dataset,
    counts: HashMap<Id, u64>,
    targets: OnceCell<HashMap<(Id, TargetType), Vec<Id>>>,
}

impl<'d> ScheduleStats<'d> {
    fn new(data: &'d Dataset) -> ScheduleStats<'d> {
        let mut counts = HashMap::new();
        let uses = data
            .extract_tasks
            .values()
            .map(|t| t.schedule_id)
            .chain(data.subscriptions.values().map(|s| s.schedule_id));
        for schedule in uses {
            *counts.entry(schedule).or_default() += 1;
        }
        ScheduleStats {
            data,
            counts,
            targets: OnceCell::new(),
        }
    }

    fn targets(&self, schedule: Id, kind: TargetType) -> Val<'_> {
        let targets = self.targets.get_or_init(|| {
            let mut map: HashMap<(Id, TargetType), Vec<Id>> = HashMap::new();
            for task in self.data.extract_tasks.values() {
                map.entry((task.schedule_id, task.target_type))
                    .or_default()
                    .push(task.target_id);
            }
            map
        });
        let ids = targets
            .get(&(schedule, kind))
            .map_or(&[][..], Vec::as_slice);
        Val::List(ids.iter().map(|id| Val::id(*id)).collect())
    }
}

impl<'d> Listed<ScheduleStats<'d>> for Schedule {
    const FIELDS: &'static [&'static str] = &[
        "id",
        "name",
        "scheduledAction",
        "scheduleType",
        "priority",
        "taskCount",
        "parallel",
        "enabled",
        "runNextAt",
        "workbookId",
        "datasourceId",
    ];
    const TEXT_FIELDS: &'static [&'static str] = &["name"];

    fn field<'a>(&'a self, name: &str, stats: &'a ScheduleStats<'d>) -> Val<'a> {
        match name {
            "id" => Val::id(self.id),
            "name" => Val::text(&self.name),
            "scheduledAction" => Val::text(self.scheduled_action.as_str()),
            "scheduleType" => Val::text(self.schedule_type.as_str()),
            "priority" => Val::num(self.priority as f64),
            "taskCount" => Val::num(stats.counts.get(&self.id).copied().unwrap_or(0) as f64),
            "parallel" => Val::Bool(self.parallel),
            "enabled" => Val::Bool(self.enabled),
            "runNextAt" => Val::opt_text(self.run_next_at.as_deref().filter(|_| self.enabled)),
            "workbookId" => stats.targets(self.id, TargetType::Workbook),
            "datasourceId" => stats.targets(self.id, TargetType::Datasource),
            _ => Val::Null,
        }
    }
}

/// `getSchedules`: every schedule of the server with `taskCount` computed now.
pub(super) fn list(state: &mut ServerState, call: &Call) -> Outcome {
    let stats = ScheduleStats::new(&state.data);
    let page = listing::list(
        state.data.schedules.values(),
        call.params,
        &stats,
        call.limits,
    )?;
    let schedules: Vec<Value> = page
        .items
        .iter()
        .map(|s| schedule_json(s, &stats, call.limits.schedule_shape))
        .collect();
    Ok(Reply::ok(
        json!({ "totalCount": page.total, "moreItems": page.more, "schedules": schedules }),
    ))
}

fn schedule_json(schedule: &Schedule, stats: &ScheduleStats, shape: ScheduleShape) -> Value {
    let mut value = json!({
        "id": schedule.id,
        "name": schedule.name,
        "priority": schedule.priority,
        "taskCount": stats.counts.get(&schedule.id).copied().unwrap_or(0),
        "parallel": schedule.parallel,
        "serverTimezonOffset": 0,
        "scheduledAction": schedule.scheduled_action.as_str(),
        "scheduleDetails": schedule.schedule_details,
        "scheduleType": schedule.schedule_type.as_str(),
        "enabled": schedule.enabled,
    });
    if let Some(at) = schedule.run_next_at.as_deref().filter(|_| schedule.enabled) {
        value["runNextAt"] = json!(at);
    }
    if shape.without_enabled
        && let Some(fields) = value.as_object_mut()
    {
        fields.remove("enabled");
    }
    if shape.guide_spelling
        && let Some(details) = value["scheduleDetails"].as_object_mut()
    {
        for (guide, tableau) in crate::wire::schedule::DETAIL_SPELLINGS {
            if let Some(detail) = details.remove(*tableau) {
                details.insert(guide.to_string(), detail);
            }
        }
    }
    value
}

/// The schedule a call names in `scheduleId`, which must run `action`.
pub(super) fn schedule_for(
    state: &ServerState,
    params: &Map<String, Value>,
    action: ScheduledAction,
) -> Result<Id, Failure> {
    let (requested, schedule) = existing(state, params, "scheduleId")?;
    if schedule.scheduled_action != action {
        let code = match action {
            ScheduledAction::Extract => code::SCHEDULE_NOT_FOUND,
            ScheduledAction::Subscription => code::SUBSCRIPTION_SCHEDULE_INVALID,
        };
        let message = format!(
            "schedule {}'s scheduledAction is {}; this needs one whose scheduledAction is {}",
            requested.text,
            schedule.scheduled_action.as_str(),
            action.as_str()
        );
        return Err(Failure::business(code, message));
    }
    Ok(schedule.id)
}

/// The schedule whose id is `params[key]`, or code 120001 naming the id asked for.
fn existing<'a>(
    state: &'a ServerState,
    params: &Map<String, Value>,
    key: &str,
) -> Result<(RequestedId, &'a Schedule), Failure> {
    let requested = params::id(params, key)?;
    match requested.id.and_then(|id| state.data.schedules.get(&id)) {
        Some(schedule) => Ok((requested, schedule)),
        None => Err(Failure::business(
            code::SCHEDULE_NOT_FOUND,
            format!("schedule {} does not exist", requested.text),
        )),
    }
}

/// A schedule name: not empty, not too long, not taken by another schedule (ignoring case).
fn checked_name(data: &Dataset, name: &str, this: Option<Id>) -> Result<String, Failure> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Failure::business(
            code::SCHEDULE_NAME_EMPTY,
            "the schedule name is empty",
        ));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(Failure::business(
            code::SCHEDULE_NAME_TOO_LONG,
            format!("schedule names are at most {MAX_NAME_LEN} characters"),
        ));
    }
    if data
        .schedules
        .values()
        .any(|s| Some(s.id) != this && s.name.eq_ignore_ascii_case(name))
    {
        return Err(Failure::business(
            code::SCHEDULE_NAME_EXISTS,
            format!("a schedule named \"{name}\" exists"),
        ));
    }
    Ok(name.to_owned())
}

fn details_param(
    params: &Map<String, Value>,
    kind: ScheduleType,
) -> Result<ScheduleDetails, Failure> {
    let value = params
        .get("scheduleDetails")
        .filter(|v| !v.is_null())
        .ok_or_else(|| {
            Failure::business(
                code::NULL_OR_EMPTY_PARAM,
                "parameter \"scheduleDetails\" is required",
            )
        })?;
    Ok(ScheduleDetails::from_request(value)?.validated(kind)?)
}

/// `createSchedule {name, scheduleType, scheduleDetails, scheduledAction, priority, parallel}`
/// (the API guide's `scheduleAction` is accepted too) → `{id}`.
pub(super) fn create(state: &mut ServerState, call: &Call) -> Outcome {
    let session = call.session()?;
    require_server_admin(state, session)?;
    let name = checked_name(&state.data, params::text(call.params, "name")?, None)?;
    // Missing both, the message names Tableau's key.
    let action_key = if call.params.contains_key("scheduleAction")
        && !call.params.contains_key("scheduledAction")
    {
        "scheduleAction"
    } else {
        "scheduledAction"
    };
    let action = params::coded_choice(
        call.params,
        action_key,
        ScheduledAction::parse,
        ScheduledAction::NAMES,
        code::NOT_A_SCHEDULED_ACTION,
    )?;
    let kind = schedule_type(call.params)?;
    let details = details_param(call.params, kind)?;
    let priority = params::opt_priority(call.params)?.unwrap_or(DEFAULT_PRIORITY);
    let parallel = params::opt_bool(call.params, "parallel")?.unwrap_or(true);
    let data = &mut state.data;
    let id = Dataset::new_id(&mut data.issued.schedules, &data.schedules);
    let run_next_at = recurrence::next_run(kind, &details, call.now).map(timestamp::with_offset);
    let schedule = Schedule {
        id,
        name,
        scheduled_action: action,
        schedule_type: kind,
        schedule_details: details,
        priority,
        parallel,
        enabled: true,
        run_next_at,
    };
    state.data.schedules.insert(id, schedule);
    Ok(Reply::ok(json!({ "id": id })))
}

fn schedule_type(params: &Map<String, Value>) -> Result<ScheduleType, Failure> {
    params::coded_choice(
        params,
        "scheduleType",
        ScheduleType::parse,
        ScheduleType::NAMES,
        code::NOT_A_SCHEDULE_TYPE,
    )
}

/// A `scheduledAction` in an update must be the schedule's own: it cannot change.
fn same_action(params: &Map<String, Value>, current: ScheduledAction) -> Result<(), Failure> {
    if params.get("scheduledAction").is_none_or(Value::is_null) {
        return Ok(());
    }
    let action = params::coded_choice(
        params,
        "scheduledAction",
        ScheduledAction::parse,
        ScheduledAction::NAMES,
        code::NOT_A_SCHEDULED_ACTION,
    )?;
    if action == current {
        return Ok(());
    }
    Err(Failure::business(
        code::BAD_PARAM_VALUE,
        format!(
            "a schedule's scheduledAction cannot change (it is {})",
            current.as_str()
        ),
    ))
}

/// `updateSchedule {id, name, scheduledAction, scheduleType, scheduleDetails, priority,
/// parallel}`: Tableau's client sends all seven, and a call missing one is refused unless
/// the emulator takes partial updates (then a field left out keeps its value).
/// `scheduledAction` cannot change.
pub(super) fn update(state: &mut ServerState, call: &Call) -> Outcome {
    let session = call.session()?;
    require_server_admin(state, session)?;
    if !call.limits.partial_schedule_updates {
        let missing = crate::wire::schedule::SCHEDULE_FIELDS
            .iter()
            .find(|field| call.params.get(**field).is_none_or(Value::is_null));
        if let Some(field) = missing {
            return Err(Failure::business(
                code::NULL_OR_EMPTY_PARAM,
                format!(
                    "parameter \"{field}\" is required: updateSchedule takes all seven fields of a schedule"
                ),
            ));
        }
    }
    let (_, current) = existing(state, call.params, "id")?;
    let mut changed = current.clone();
    if let Some(name) = params::opt_text(call.params, "name")? {
        changed.name = checked_name(&state.data, name, Some(current.id))?;
    }
    let new_kind = call
        .params
        .get("scheduleType")
        .is_some_and(|v| !v.is_null());
    if new_kind {
        changed.schedule_type = schedule_type(call.params)?;
    }
    same_action(call.params, current.scheduled_action)?;
    if call
        .params
        .get("scheduleDetails")
        .is_some_and(|v| !v.is_null())
    {
        changed.schedule_details = details_param(call.params, changed.schedule_type)?;
    } else if new_kind {
        changed.schedule_details = changed.schedule_details.validated(changed.schedule_type)?;
    }
    changed.priority = params::opt_priority(call.params)?.unwrap_or(changed.priority);
    changed.parallel = params::opt_bool(call.params, "parallel")?.unwrap_or(changed.parallel);
    if changed.schedule_type != current.schedule_type
        || changed.schedule_details != current.schedule_details
    {
        changed.run_next_at =
            recurrence::next_run(changed.schedule_type, &changed.schedule_details, call.now)
                .map(timestamp::with_offset);
    }
    state.data.schedules.insert(changed.id, changed);
    Ok(Reply::empty())
}

/// `setEnabledStatusForSchedules {ids, enabled}`; a re-enabled schedule gets a fresh
/// `runNextAt`.
pub(super) fn set_enabled(state: &mut ServerState, call: &Call) -> Outcome {
    let session = call.session()?;
    let ids = schedule_ids(call)?;
    let enabled = params::opt_bool(call.params, "enabled")?.ok_or_else(|| {
        Failure::business(
            code::NULL_OR_EMPTY_PARAM,
            "parameter \"enabled\" is required",
        )
    })?;
    require_server_admin(state, session)?;
    let mut failed = Vec::new();
    for requested in &ids {
        match requested
            .id
            .and_then(|id| state.data.schedules.get_mut(&id))
        {
            Some(schedule) => {
                if enabled && !schedule.enabled {
                    schedule.run_next_at = recurrence::next_run(
                        schedule.schedule_type,
                        &schedule.schedule_details,
                        call.now,
                    )
                    .map(timestamp::with_offset);
                }
                schedule.enabled = enabled;
            }
            None => failed.push(not_found(requested)),
        }
    }
    Ok(batch_reply(failed))
}

/// The `ids` of a schedule batch; none at all is code 120000 (null or empty schedule ids).
fn schedule_ids(call: &Call) -> Result<Vec<RequestedId>, Failure> {
    params::ids(call.params, "ids", call.limits).map_err(|failure| {
        if failure.error.code == Some(code::NULL_OR_EMPTY_PARAM) {
            Failure::business(code::SCHEDULE_IDS_EMPTY, "no schedule ids given")
        } else {
            failure
        }
    })
}

fn not_found(requested: &RequestedId) -> WireError {
    WireError::for_id(
        code::SCHEDULE_NOT_FOUND,
        requested.text.clone(),
        format!("schedule {} does not exist", requested.text),
    )
}

/// `setScheduleName {id, name}`: the name is checked as `createSchedule` checks it.
pub(super) fn set_name(state: &mut ServerState, call: &Call) -> Outcome {
    let session = call.session()?;
    require_server_admin(state, session)?;
    let (_, schedule) = existing(state, call.params, "id")?;
    let id = schedule.id;
    let name = checked_name(&state.data, params::text(call.params, "name")?, Some(id))?;
    if let Some(schedule) = state.data.schedules.get_mut(&id) {
        schedule.name = name;
    }
    Ok(Reply::empty())
}

/// `deleteSchedules {ids}`: a deleted schedule takes its extract tasks and subscriptions
/// with it, as on a real server.
pub(super) fn delete(state: &mut ServerState, call: &Call) -> Outcome {
    let session = call.session()?;
    let ids = schedule_ids(call)?;
    require_server_admin(state, session)?;
    let data = &mut state.data;
    let mut failed = Vec::new();
    for requested in &ids {
        match requested.id.filter(|id| data.schedules.contains_key(id)) {
            Some(id) => {
                data.schedules.remove(&id);
                data.extract_tasks.retain(|_, t| t.schedule_id != id);
                data.subscriptions.retain(|_, s| s.schedule_id != id);
            }
            None => failed.push(not_found(requested)),
        }
    }
    Ok(batch_reply(failed))
}

/// `runSchedules {ids}`: queue a job for every task of each schedule on the session's
/// site. An explicit run works on a disabled schedule too; only the clock skips those.
pub(super) fn run(state: &mut ServerState, call: &Call) -> Outcome {
    let site = call.session()?.site;
    run_on(state, call, Some(site))
}

/// `runServerSchedules {ids}`: as `runSchedules`, on every site.
pub(super) fn run_server(state: &mut ServerState, call: &Call) -> Outcome {
    run_on(state, call, None)
}

fn run_on(state: &mut ServerState, call: &Call, site: Option<Id>) -> Outcome {
    let session = call.session()?;
    let ids = schedule_ids(call)?;
    require_server_admin(state, session)?;
    let mut failed = Vec::new();
    for requested in &ids {
        match requested
            .id
            .filter(|id| state.data.schedules.contains_key(id))
        {
            Some(id) => jobs::run_schedule(&mut state.data, &state.jobs, id, site, call.now),
            None => failed.push(not_found(requested)),
        }
    }
    Ok(batch_reply(failed))
}

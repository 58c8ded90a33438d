//! Extract refresh tasks (docs/protocol.md §4.1): the site-scoped list with its side tables, and the
//! batch changes, which apply every valid id and report the others one by one.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::params::{self, RequestedId};
use super::{Call, Outcome, Reply, batch_reply, require_site_admin, schedules, side_tables};
use crate::emulator::dataset::Dataset;
use crate::emulator::entities::{
    DEFAULT_PRIORITY, ExtractTask, Id, ScheduledAction, TargetType, TaskType,
};
use crate::emulator::jobs;
use crate::emulator::listing::{self, Listed, Val};
use crate::emulator::state::ServerState;
use crate::wire::{WireError, code};

impl Listed<Dataset> for ExtractTask {
    const FIELDS: &'static [&'static str] = &[
        "id",
        "priority",
        "type",
        "siteId",
        "scheduleId",
        "targetId",
        "targetType",
        "lastRunAt",
        "runNextAt",
        "targetName",
        "scheduleName",
        "siteName",
        "workbookId",
        "datasourceId",
    ];
    const TEXT_FIELDS: &'static [&'static str] = &["targetName", "scheduleName"];

    fn field<'a>(&'a self, name: &str, data: &'a Dataset) -> Val<'a> {
        match name {
            "id" => Val::id(self.id),
            "priority" => Val::num(self.priority as f64),
            "type" => Val::text(self.task_type.as_str()),
            "siteId" => Val::id(self.site_id),
            "scheduleId" => Val::id(self.schedule_id),
            "targetId" => Val::id(self.target_id),
            "targetType" => Val::text(self.target_type.as_str()),
            "lastRunAt" => Val::opt_text(self.last_run_at.as_deref()),
            "runNextAt" => Val::opt_text(run_next_at(data, self.schedule_id)),
            "targetName" => Val::opt_text(target_name(data, self.target_type, self.target_id)),
            "scheduleName" => Val::opt_text(
                data.schedules
                    .get(&self.schedule_id)
                    .map(|s| s.name.as_str()),
            ),
            "siteName" => Val::opt_text(data.sites.get(&self.site_id).map(|s| s.name.as_str())),
            "workbookId" if self.target_type == TargetType::Workbook => Val::id(self.target_id),
            "datasourceId" if self.target_type == TargetType::Datasource => Val::id(self.target_id),
            _ => Val::Null,
        }
    }
}

/// When a schedule runs next; nothing while it is disabled.
pub(super) fn run_next_at(data: &Dataset, schedule: Id) -> Option<&str> {
    data.schedules
        .get(&schedule)
        .filter(|s| s.enabled)
        .and_then(|s| s.run_next_at.as_deref())
}

fn target_name(data: &Dataset, kind: TargetType, id: Id) -> Option<&str> {
    match kind {
        TargetType::Workbook => data.workbooks.get(&id).map(|w| w.name.as_str()),
        TargetType::Datasource => data.datasources.get(&id).map(|d| d.name.as_str()),
    }
}

/// `getExtractTasks`: the session site's tasks. Target names are not in the tasks; they
/// come in the `workbooks`/`datasources` side tables, as on a real server.
pub(super) fn list(state: &mut ServerState, call: &Call) -> Outcome {
    let site = call.session()?.site;
    let bounds = listing::page_bounds(call.params, call.limits)?;
    let ids = selected(state, site, call.params, call.limits.documented_filters)?;
    let page = listing::paginate(&ids, bounds);
    let data = &state.data;
    let tasks: Vec<&ExtractTask> = page
        .items
        .iter()
        .filter_map(|id| data.extract_tasks.get(id))
        .collect();
    let targets = || tasks.iter().map(|t| (t.target_type, t.target_id));
    Ok(Reply::ok(json!({
        "totalCount": page.total,
        "moreItems": page.more,
        "tasks": tasks.iter().map(|t| task_json(data, t)).collect::<Vec<_>>(),
        "datasources": side_tables::targets(data, TargetType::Datasource, targets()),
        "workbooks": side_tables::targets(data, TargetType::Workbook, targets()),
        "schedules": side_tables::schedules(data, tasks.iter().map(|t| t.schedule_id)),
        "sites": side_tables::sites(data, tasks.iter().map(|t| t.site_id)),
    })))
}

/// Ids of the site's tasks as the call's filter and order select them; the last selection
/// is reused while nothing has changed, so paging does not sort again for every page.
fn selected(
    state: &mut ServerState,
    site: Id,
    params: &Map<String, Value>,
    documented_only: bool,
) -> Result<Arc<[Id]>, WireError> {
    let part = |key: &str| params.get(key).map_or_else(String::new, Value::to_string);
    let key = format!(
        "getExtractTasks site {site} filter {} order {}",
        part("filter"),
        part("order")
    );
    if let Some(ids) = state.selection.get(&key, state.generation) {
        return Ok(ids);
    }
    let data = &state.data;
    let on_site = data.extract_tasks.values().filter(|t| t.site_id == site);
    let ids: Arc<[Id]> = listing::select(on_site, params, data, documented_only)?
        .iter()
        .map(|t| t.id)
        .collect();
    state.selection.put(key, state.generation, Arc::clone(&ids));
    Ok(ids)
}

fn task_json(data: &Dataset, task: &ExtractTask) -> Value {
    let mut value = json!({
        "id": task.id,
        "priority": task.priority,
        "type": task.task_type.as_str(),
        "siteId": task.site_id,
        "scheduleId": task.schedule_id,
        "targetId": task.target_id,
        "targetType": task.target_type.as_str(),
    });
    if let Some(at) = &task.last_run_at {
        value["lastRunAt"] = json!(at);
    }
    if let Some(at) = run_next_at(data, task.schedule_id) {
        value["runNextAt"] = json!(at);
    }
    value
}

fn not_found(requested: &RequestedId) -> WireError {
    WireError::for_id(
        code::TASK_NOT_FOUND,
        requested.text.clone(),
        format!(
            "extract task {} does not exist on this site",
            requested.text
        ),
    )
}

/// Applies `change` to each requested task of the site; reports the others.
fn update_tasks(
    state: &mut ServerState,
    site: Id,
    ids: &[RequestedId],
    mut change: impl FnMut(&mut ExtractTask),
) -> Reply {
    let mut failed = Vec::new();
    for requested in ids {
        let task = requested
            .id
            .and_then(|id| state.data.extract_tasks.get_mut(&id))
            .filter(|t| t.site_id == site);
        match task {
            Some(task) => change(task),
            None => failed.push(not_found(requested)),
        }
    }
    batch_reply(failed)
}

/// `setExtractTasksSchedule {ids, scheduleId}`: the schedule must be an Extract schedule.
pub(super) fn set_schedule(state: &mut ServerState, call: &Call) -> Outcome {
    let session = call.session()?;
    let ids = params::ids(call.params, "ids", call.limits)?;
    require_site_admin(state, session)?;
    let schedule = schedules::schedule_for(state, call.params, ScheduledAction::Extract)?;
    Ok(update_tasks(state, session.site, &ids, |task| {
        task.schedule_id = schedule
    }))
}

/// `setExtractTasksPriority` / `setExtractTaskPriority {ids, priority}`, priority 1-100.
pub(super) fn set_priority(state: &mut ServerState, call: &Call) -> Outcome {
    let session = call.session()?;
    let ids = params::ids(call.params, "ids", call.limits)?;
    require_site_admin(state, session)?;
    let priority = params::priority(call.params)?;
    Ok(update_tasks(state, session.site, &ids, |task| {
        task.priority = priority
    }))
}

/// `runExtractTasks {ids}`: queues a background job per task (`runCount` counts them);
/// the task's `lastRunAt` moves when its job finishes.
pub(super) fn run(state: &mut ServerState, call: &Call) -> Outcome {
    let session = call.session()?;
    let ids = params::ids(call.params, "ids", call.limits)?;
    require_site_admin(state, session)?;
    let mut ran = Vec::new();
    let reply = update_tasks(state, session.site, &ids, |task| {
        task.run_count += 1;
        ran.push(task.id);
    });
    jobs::queue(&mut state.data, &state.jobs, &ran, call.now);
    Ok(reply)
}

/// `deleteExtractTasks {ids}`.
pub(super) fn delete(state: &mut ServerState, call: &Call) -> Outcome {
    let session = call.session()?;
    let ids = params::ids(call.params, "ids", call.limits)?;
    require_site_admin(state, session)?;
    let tasks = &mut state.data.extract_tasks;
    let mut failed = Vec::new();
    for requested in &ids {
        let on_site = requested
            .id
            .filter(|id| tasks.get(id).is_some_and(|t| t.site_id == session.site));
        match on_site {
            Some(id) => {
                tasks.remove(&id);
            }
            None => failed.push(not_found(requested)),
        }
    }
    Ok(batch_reply(failed))
}

/// `createExtractTasks {targetType, targetIds, scheduleId, type}`: one task per target;
/// a target without an extract (80013, or 80012 for an incremental task) or that already
/// has a task of that type (120012) is reported by id.
pub(super) fn create(state: &mut ServerState, call: &Call) -> Outcome {
    let session = call.session()?;
    let targets = params::ids(call.params, "targetIds", call.limits)?;
    let kind = params::coded_choice(
        call.params,
        "targetType",
        TargetType::parse,
        TargetType::NAMES,
        code::NOT_A_TARGET_TYPE,
    )?;
    let task_type = params::coded_choice(
        call.params,
        "type",
        TaskType::parse,
        TaskType::NAMES,
        code::NOT_A_TASK_TYPE,
    )?;
    require_site_admin(state, session)?;
    let schedule = schedules::schedule_for(state, call.params, ScheduledAction::Extract)?;
    let template = ExtractTask {
        id: Id(0),
        site_id: session.site,
        schedule_id: schedule,
        target_type: kind,
        target_id: Id(0),
        task_type,
        priority: state
            .data
            .schedules
            .get(&schedule)
            .map_or(DEFAULT_PRIORITY, |s| s.priority),
        last_run_at: None,
        run_count: 0,
    };
    let mut existing: HashSet<Id> = (state.data.extract_tasks.values())
        .filter(|t| t.target_type == kind && t.task_type == task_type)
        .map(|t| t.target_id)
        .collect();
    let failed = (targets.iter())
        .filter_map(|requested| {
            create_one(&mut state.data, &template, requested, &mut existing).err()
        })
        .collect();
    Ok(batch_reply(failed))
}

/// Adds a task like `template` for one requested target, unless the target is missing
/// from the site, has no extract, or already has such a task.
fn create_one(
    data: &mut Dataset,
    template: &ExtractTask,
    requested: &RequestedId,
    existing: &mut HashSet<Id>,
) -> Result<(), WireError> {
    let kind = template.target_type;
    let Some(target) = requested
        .id
        .filter(|id| on_site(data, kind, *id, template.site_id))
    else {
        let (code, what) = match kind {
            TargetType::Workbook => (code::WORKBOOK_NOT_FOUND, "workbook"),
            TargetType::Datasource => (code::DATASOURCE_NOT_FOUND, "datasource"),
        };
        let message = format!("{what} {} does not exist on this site", requested.text);
        return Err(WireError::for_id(code, requested.text.clone(), message));
    };
    if !has_extract(data, kind, target) {
        let (code, what) = match template.task_type {
            TaskType::RefreshExtract => (code::REFRESH_NOT_ALLOWED, "a full refresh"),
            TaskType::IncrementExtract => (code::INCREMENT_NOT_ALLOWED, "an incremental refresh"),
        };
        let message = format!(
            "{} has no extract, so {what} is not allowed",
            requested.text
        );
        return Err(WireError::for_id(code, requested.text.clone(), message));
    }
    if !existing.insert(target) {
        let message = format!(
            "{} already has a {} task",
            requested.text,
            template.task_type.as_str()
        );
        return Err(WireError::for_id(
            code::TASK_EXISTS,
            requested.text.clone(),
            message,
        ));
    }
    let id = Dataset::new_id(&mut data.issued.extract_tasks, &data.extract_tasks);
    data.extract_tasks.insert(
        id,
        ExtractTask {
            id,
            target_id: target,
            ..template.clone()
        },
    );
    Ok(())
}

/// Whether the site has this workbook or datasource.
fn on_site(data: &Dataset, kind: TargetType, id: Id, site: Id) -> bool {
    match kind {
        TargetType::Workbook => data.workbooks.get(&id).is_some_and(|w| w.site_id == site),
        TargetType::Datasource => data.datasources.get(&id).is_some_and(|d| d.site_id == site),
    }
}

/// Whether the workbook or datasource has an extract to refresh.
fn has_extract(data: &Dataset, kind: TargetType, id: Id) -> bool {
    match kind {
        TargetType::Workbook => data.workbooks.get(&id).is_some_and(|w| w.has_extracts),
        TargetType::Datasource => data.datasources.get(&id).is_some_and(|d| d.has_extracts),
    }
}

//! Schedules and new extract tasks as script functions. Every change passes the client's
//! one mutation gate (dry-run, plan, audit, retries by method kind); fields are checked
//! before anything is sent, and what a change replaces is read first so the audit line
//! carries it as `before`.

use rhai::plugin::*;

#[export_module]
pub mod schedule_api {
    use rhai::{Dynamic, EvalAltResult, Map, NativeCallContext};

    type Out<T> = Result<T, Box<EvalAltResult>>;

    /// Create a schedule (`createSchedule`) from fields as `getSchedules` shows them:
    /// `name`, `scheduledAction` (`Extract` or `Subscription`), `scheduleType` (`Hourly`,
    /// `Daily`, `Weekly` or `Monthly`), `scheduleDetails` (`startTime` in minutes after
    /// midnight; `Hourly` also `recurrenceMinutes` in 15, 30, 60, 120, 240, 360, 480, 720
    /// and `endTime`; `Weekly` `recurrenceDaysOfWeek`; `Monthly` `recurrenceDayOfMonth`),
    /// `priority` (1-100, default 50) and `parallel` (default true). Fields are checked
    /// before sending. Returns the new schedule as the server lists it. Under dry-run it
    /// returns the fields, with `dry_run: true` and a stand-in `id`, `(new schedule of
    /// plan call N)`, that the dry run's later calls may name; a name another schedule has
    /// (once the dry run's earlier calls are made) is refused there, as the server would
    /// refuse it. `priority` may be a string holding a whole number, as `ARGS` gives it.
    ///
    /// ```rhai
    /// let s = create_schedule(#{
    ///     name: "Nightly 2am", scheduledAction: "Extract", scheduleType: "Daily",
    ///     scheduleDetails: #{ startTime: 120 }, priority: 40,
    /// });
    /// print(`created schedule ${s.id}, next run ${s.runNextAt}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn create_schedule(ctx: NativeCallContext, fields: Map) -> Out<Map> {
        super::create(&ctx, fields)
    }

    /// Change a schedule (`updateSchedule`). The schedule is read first and every field is
    /// sent, changed or not, as Tableau's own client does; fields not named in `changes`
    /// keep their values. `scheduleDetails` replaces the whole details map, so give every
    /// detail the type uses (an Hourly schedule also needs `endTime` and
    /// `recurrenceMinutes`); a new `scheduleType` takes the details that type uses (Daily
    /// keeps the old `startTime` when none is given). Returns the updated schedule.
    ///
    /// ```rhai
    /// update_schedule("12", #{ priority: 20 });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn update_schedule(ctx: NativeCallContext, id: Dynamic, changes: Map) -> Out<Map> {
        super::update(&ctx, &id, changes)
    }

    /// Enable schedules (`setEnabledStatusForSchedules`); one id or an array of ids or
    /// schedule maps. Returns a summary map; raises when any id failed.
    ///
    /// ```rhai
    /// enable_schedules(["12", "13"]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn enable_schedules(ctx: NativeCallContext, ids: Dynamic) -> Out<Map> {
        super::set_enabled(&ctx, &ids, true)
    }

    /// Disable schedules (`setEnabledStatusForSchedules`): a disabled schedule runs no
    /// tasks until enabled again. Returns a summary map.
    ///
    /// ```rhai
    /// let nightly = schedules().filter(|s| s.name.contains("Nightly"));
    /// disable_schedules(nightly);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn disable_schedules(ctx: NativeCallContext, ids: Dynamic) -> Out<Map> {
        super::set_enabled(&ctx, &ids, false)
    }

    /// Rename a schedule (`setScheduleName`). Returns `#{id, name, dry_run}`.
    ///
    /// ```rhai
    /// rename_schedule("12", "Nightly (old)");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn rename_schedule(ctx: NativeCallContext, id: Dynamic, name: &str) -> Out<Map> {
        super::rename(&ctx, &id, name)
    }

    /// Delete schedules (`deleteSchedules`). The server deletes the schedules' extract
    /// tasks and subscriptions with them, on every site; the audit line keeps each
    /// schedule as it was, with this site's tasks and subscriptions. A schedule that also
    /// holds tasks or subscriptions of other sites (its `taskCount` is more than this site
    /// lists) is refused before anything is sent: move those first, or see
    /// `delete_schedules(ids, #{other_sites: true})`. Returns a summary map.
    ///
    /// ```rhai
    /// let empty = schedules().filter(|s| s.taskCount == 0);
    /// delete_schedules(empty);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn delete_schedules(ctx: NativeCallContext, ids: Dynamic) -> Out<Map> {
        super::delete(&ctx, &ids, Map::new())
    }

    /// Delete schedules with options: `other_sites: true` deletes them even when they hold
    /// tasks or subscriptions of other sites, which go with them unrecorded (this site's
    /// audit and undo cannot bring them back).
    ///
    /// ```rhai
    /// delete_schedules(["12"], #{ other_sites: true });
    /// ```
    #[rhai_fn(name = "delete_schedules", return_raw)]
    pub fn delete_schedules_with(ctx: NativeCallContext, ids: Dynamic, options: Map) -> Out<Map> {
        super::delete(&ctx, &ids, options)
    }

    /// Run every task of these schedules on this site now (`runSchedules`). Never retried
    /// once the request may have reached the server. Returns a summary map; see also
    /// `run_schedules(ids, #{wait: true})`.
    ///
    /// ```rhai
    /// run_schedules("12");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn run_schedules(ctx: NativeCallContext, ids: Dynamic) -> Out<Map> {
        let pos = ctx.call_position();
        let host = crate::script::host::Host::of(&ctx)?;
        host.batch(
            pos,
            crate::wire::method::RUN_SCHEDULES,
            &ids,
            serde_json::Map::new(),
        )
    }

    /// Create full-refresh extract tasks (`createExtractTasks`) for workbooks or data
    /// sources (`target_type` `"Workbook"` or `"Datasource"`) on an extract schedule,
    /// batched. Targets that fail (no such target, no extract, already has a task) are
    /// reported one by one in the summary's `failed`, and raise like other batches. The
    /// server returns no task ids, so the new tasks are read back: `created` holds their
    /// ids.
    ///
    /// ```rhai
    /// create_extract_tasks("Datasource", ["31", "32"], "4");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn create_extract_tasks(
        ctx: NativeCallContext,
        target_type: &str,
        target_ids: Dynamic,
        schedule_id: Dynamic,
    ) -> Out<Map> {
        super::create_tasks(&ctx, target_type, &target_ids, &schedule_id, Map::new())
    }

    /// Create extract tasks with options: `#{incremental: true}` makes incremental
    /// (`IncrementExtract`) tasks instead of full refreshes.
    ///
    /// ```rhai
    /// create_extract_tasks("Datasource", "31", "4", #{ incremental: true });
    /// ```
    #[rhai_fn(name = "create_extract_tasks", return_raw)]
    pub fn create_extract_tasks_with(
        ctx: NativeCallContext,
        target_type: &str,
        target_ids: Dynamic,
        schedule_id: Dynamic,
        options: Map,
    ) -> Out<Map> {
        super::create_tasks(&ctx, target_type, &target_ids, &schedule_id, options)
    }
}

use crate::wire::id_string as text;
use rhai::{Array, Dynamic, EvalAltResult, Map, NativeCallContext, Position};
use serde_json::{Value, json};

use crate::script::convert;
use crate::script::error::{usage, with_fields};
use crate::script::host::Host;
use crate::script::planned_schedules::{AfterPlan, check_call, refused};
use crate::vizportal::{
    SCHEDULE_FIELDS, check_schedule, check_schedule_name, is_planned_id, planned_id,
};
use crate::wire::method;
use crate::wire::schedule::TARGET_TYPES;

type Out<T> = Result<T, Box<EvalAltResult>>;
type JsonMap = serde_json::Map<String, Value>;

fn create(ctx: &NativeCallContext, fields: Map) -> Out<Map> {
    let pos = ctx.call_position();
    let host = Host::of(ctx)?;
    let mut fields = json_map(fields, "create_schedule", pos)?;
    fields.entry("priority").or_insert(json!(50));
    fields.entry("parallel").or_insert(json!(true));
    whole_number_priority(&mut fields);
    check_schedule(&fields).map_err(|m| usage(format!("create_schedule: {m}"), pos))?;
    let asked = Value::Object(fields.clone());
    let _turn = check_call(
        &host,
        pos,
        "create_schedule",
        method::CREATE_SCHEDULE,
        &asked,
    )?;
    let result = host.call(
        pos,
        crate::wire::method::CREATE_SCHEDULE,
        Value::Object(fields.clone()),
    )?;
    if result.get("dry_run").is_some() {
        // A stand-in id, so the rest of a dry run can use the new schedule (see
        // `planned_id`); the plan names the call that would make it.
        let call = host.client(pos)?.planned_calls();
        return Ok(planned(fields, Value::String(planned_id(call))));
    }
    let id = result.get("id").cloned().unwrap_or(Value::Null);
    let id = convert::to_dynamic(id);
    let id = convert::one_id(&id).map_err(|m| usage(format!("createSchedule: {m}"), pos))?;
    read_back(&host, pos, &id).map_err(|e| {
        let mut extra = Map::new();
        extra.insert("id".into(), id.clone().into());
        let context = format!("createSchedule created schedule {id}, but reading it back failed");
        crate::script::error::in_context(*e, &context, extra)
    })
}

fn update(ctx: &NativeCallContext, id: &Dynamic, changes: Map) -> Out<Map> {
    let pos = ctx.call_position();
    let host = Host::of(ctx)?;
    let function = "update_schedule";
    let id = one_id(id, function, pos)?;
    let mut changes = json_map(changes, function, pos)?;
    whole_number_priority(&mut changes);
    let mut asked = changes.clone();
    asked.insert("id".into(), Value::String(id.clone()));
    let _turn = check_call(
        &host,
        pos,
        function,
        method::UPDATE_SCHEDULE,
        &Value::Object(asked),
    )?;
    let current = current(&host, pos, &id, function)?;
    let mut fields: JsonMap = SCHEDULE_FIELDS
        .iter()
        .filter_map(|k| Some((k.to_string(), current.get(*k)?.clone())))
        .collect();
    // What an undo puts back: the schedule as it is, details whole.
    let before = fields.clone();
    let new_type = changes
        .get("scheduleType")
        .is_some_and(|t| Some(t) != current.get("scheduleType"));
    if new_type && !changes.contains_key("scheduleDetails") {
        let start = current["scheduleDetails"].get("startTime").cloned();
        fields.insert("scheduleDetails".into(), json!({ "startTime": start }));
    }
    fields.extend(changes);
    // Details given in the API guide's spelling are sent in Tableau's, as read.
    let fields = crate::wire::schedule::with_documented_details(fields);
    check_schedule(&fields).map_err(|m| usage(format!("update_schedule: {m}"), pos))?;
    let mut params = JsonMap::new();
    params.insert("id".into(), Value::String(id.clone()));
    params.extend(fields.clone());
    let before = by_id(&id, Value::Object(before));
    let result = host.call_noting(
        pos,
        crate::wire::method::UPDATE_SCHEDULE,
        Value::Object(params),
        before,
    )?;
    if result.get("dry_run").is_some() {
        return Ok(planned(fields, Value::String(id)));
    }
    read_back(&host, pos, &id)
}

fn set_enabled(ctx: &NativeCallContext, ids: &Dynamic, enabled: bool) -> Out<Map> {
    let pos = ctx.call_position();
    let host = Host::of(ctx)?;
    let method = crate::wire::method::SET_ENABLED_STATUS_FOR_SCHEDULES;
    let before = all_schedules(&host, pos, &["enabled"])?;
    let mut extra = JsonMap::new();
    extra.insert("enabled".into(), Value::Bool(enabled));
    let summary = host.batch_summary(pos, method, "ids", ids, extra, Some(&before))?;
    Host::summary_or_error(method, &summary, pos)
}

fn rename(ctx: &NativeCallContext, id: &Dynamic, name: &str) -> Out<Map> {
    let pos = ctx.call_position();
    let host = Host::of(ctx)?;
    let function = "rename_schedule";
    let id = one_id(id, function, pos)?;
    check_schedule_name(Some(&json!(name))).map_err(|m| usage(format!("{function}: {m}"), pos))?;
    let asked = json!({ "id": id, "name": name });
    let _turn = check_call(&host, pos, function, method::SET_SCHEDULE_NAME, &asked)?;
    let current = current(&host, pos, &id, function)?;
    let before = by_id(&id, json!({ "name": current.get("name") }));
    let params = json!({ "id": id, "name": name });
    let result = host.call_noting(pos, crate::wire::method::SET_SCHEDULE_NAME, params, before)?;
    let mut out = Map::new();
    out.insert("id".into(), id.into());
    out.insert("name".into(), name.into());
    out.insert("dry_run".into(), result.get("dry_run").is_some().into());
    Ok(out)
}

/// The one option of `function`, a flag `key` (false when not given); any other key, or a
/// value that is not true or false, is refused naming it.
fn flag_option(function: &str, options: Map, key: &str, pos: Position) -> Out<bool> {
    let mut on = false;
    for (given, value) in options {
        match (given.as_str() == key, value.as_bool()) {
            (true, Ok(value)) => on = value,
            (true, Err(_)) => {
                return Err(usage(
                    format!("{function}: {key} must be true or false"),
                    pos,
                ));
            }
            (false, _) => {
                return Err(usage(
                    format!("{function}: unknown option `{given}`; the option is `{key}`"),
                    pos,
                ));
            }
        }
    }
    Ok(on)
}

fn delete(ctx: &NativeCallContext, ids: &Dynamic, options: Map) -> Out<Map> {
    let pos = ctx.call_position();
    let host = Host::of(ctx)?;
    let name = "delete_schedules";
    let other_sites = flag_option(name, options, "other_sites", pos)?;
    let wanted = crate::script::convert::ids_for(crate::wire::method::DELETE_SCHEDULES, ids)
        .map_err(|m| usage(format!("deleteSchedules: {m}"), pos))?;
    let client = host.client(pos)?;
    let asked = json!({ "ids": wanted });
    let _turn = check_call(
        &host,
        pos,
        method::DELETE_SCHEDULES,
        method::DELETE_SCHEDULES,
        &asked,
    )?;
    let mut keep: Vec<&str> = SCHEDULE_FIELDS.to_vec();
    keep.push("enabled");
    // This site's tasks and subscriptions on them: for the check, and for the audit.
    let contents = !other_sites || client.audits();
    let (before, elsewhere) = client
        .schedule_deletion(&wanted, &keep, contents)
        .map_err(|e| crate::script::error::raise(&e, pos))?;
    if !other_sites && !elsewhere.is_empty() {
        return Err(usage(
            format!(
                "{name}: nothing deleted: these schedules also hold tasks or subscriptions \
                 of other sites, which the server would delete with them unrecorded: {}; \
                 move them first (run --all-sites), or pass #{{other_sites: true}}",
                elsewhere.join(", ")
            ),
            pos,
        ));
    }
    let method = crate::wire::method::DELETE_SCHEDULES;
    let summary = host.batch_summary(pos, method, "ids", ids, JsonMap::new(), Some(&before))?;
    Host::summary_or_error(method, &summary, pos)
}

fn create_tasks(
    ctx: &NativeCallContext,
    target_type: &str,
    target_ids: &Dynamic,
    schedule_id: &Dynamic,
    options: Map,
) -> Out<Map> {
    let pos = ctx.call_position();
    let name = "create_extract_tasks";
    if !TARGET_TYPES.contains(&target_type) {
        return Err(usage(
            format!(
                "{name}: target_type must be one of {}, not \"{target_type}\"",
                TARGET_TYPES.join(", ")
            ),
            pos,
        ));
    }
    let incremental = flag_option(name, options, "incremental", pos)?;
    let mut extra = JsonMap::new();
    extra.insert("targetType".into(), json!(target_type));
    let schedule = convert::id_for(
        crate::wire::method::CREATE_EXTRACT_TASKS,
        "scheduleId",
        schedule_id,
    )
    .map_err(|m| usage(format!("{name}: {m}"), pos))?;
    extra.insert("scheduleId".into(), json!(schedule));
    let kind = if incremental {
        "IncrementExtract"
    } else {
        "RefreshExtract"
    };
    extra.insert("type".into(), json!(kind));
    let host = Host::of(ctx)?;
    let method = method::CREATE_EXTRACT_TASKS;
    // A batch of no targets sends nothing, so nothing is checked.
    let targets = match host.client(pos)?.dry_run() {
        true => convert::ids(target_ids).unwrap_or_default(),
        false => Vec::new(),
    };
    if !targets.is_empty() {
        // A creation of tasks takes no turn (see `Client::schedule_change_turn`).
        let asked = json!({ "scheduleId": schedule, "targetIds": targets });
        check_call(&host, pos, method, method, &asked)?;
    }
    let refused = targets_refused(&host, pos, (target_type, kind), &targets)?;
    // Targets refused for what the server holds make no task in the plan either.
    let client = host.client(pos)?;
    let unmade: Vec<String> = refused
        .iter()
        .filter(|f| !client.plans_task_for((target_type, &f.id, kind)))
        .map(|f| f.id.clone())
        .collect();
    let mut summary = host.batch_summary(pos, method, "targetIds", target_ids, extra, None)?;
    client.unplan_tasks_for((target_type, kind), &unmade);
    crate::script::planned_schedules::fail_in(&mut summary, refused);
    let created = if summary.dry_run || summary.succeeded.is_empty() {
        Array::new()
    } else {
        new_tasks(ctx, &summary.succeeded, target_type, kind).map_err(|e| {
            let context = format!(
                "{method} created tasks for {} target(s), but reading them back failed",
                summary.succeeded.len()
            );
            let mut extra = Map::new();
            let targets: Array = summary.succeeded.iter().map(|t| t.into()).collect();
            extra.insert("succeeded".into(), Dynamic::from_array(targets));
            crate::script::error::in_context(*e, &context, extra)
        })?
    };
    let mut extra = Map::new();
    extra.insert("created".into(), Dynamic::from_array(created));
    match Host::summary_or_error(method, &summary, pos) {
        Ok(mut map) => {
            map.extend(extra);
            Ok(map)
        }
        Err(error) => Err(with_fields(*error, extra)),
    }
}

/// Under dry-run (`targets` is empty otherwise), the targets the server would refuse a
/// new task of `kind` for: one this site does not list, and one that has such a task
/// (on the server and not deleted by the plan, or made by the plan).
fn targets_refused(
    host: &Host,
    pos: Position,
    (target_type, kind): (&str, &str),
    targets: &[String],
) -> Out<Vec<crate::vizportal::ItemFailure>> {
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let client = host.client(pos)?;
    let raise = |e: crate::vizportal::VizportalError| crate::script::error::raise(&e, pos);
    let (list, items) = match target_type {
        "Workbook" => (method::GET_WORKBOOKS, "workbooks"),
        _ => (method::GET_DATASOURCES, "datasources"),
    };
    // Up to a thousand targets are asked for by id; more, and the whole lists are read.
    let few = targets.len() <= 1000;
    let by_id = match few {
        true => json!({ "filter": { "operator": "in", "field": "id", "values": targets } }),
        false => json!({}),
    };
    let ids = |rows: Vec<Value>, _: &crate::vizportal::SideTables| -> Vec<String> {
        rows.iter().filter_map(|r| text(r.get("id")?)).collect()
    };
    let listed: std::collections::HashSet<String> = client
        .list_filtered(list, &by_id, items, &ids)
        .map_err(raise)?
        .into_iter()
        .collect();
    let mut clauses = vec![
        json!({ "operator": "eq", "field": "targetType", "value": target_type }),
        json!({ "operator": "eq", "field": "type", "value": kind }),
    ];
    if few {
        clauses.push(json!({ "operator": "in", "field": "targetId", "values": targets }));
    }
    let filter = json!({ "filter": { "operator": "and", "clauses": clauses } });
    type Found = (String, String, Option<String>);
    let found = |rows: Vec<Value>, _: &crate::vizportal::SideTables| -> Vec<Found> {
        rows.iter()
            .filter_map(|t| {
                let schedule = t.get("scheduleId").and_then(text);
                Some((text(t.get("targetId")?)?, text(t.get("id")?)?, schedule))
            })
            .collect()
    };
    let tasks = client
        .list_filtered(method::GET_EXTRACT_TASKS, &filter, "tasks", &found)
        .map_err(raise)?;
    // A task the plan removed (it, or its schedule) no longer holds its target.
    let removed =
        client.plan_removes_tasks(tasks.iter().map(|(_, id, on)| (id.as_str(), on.as_deref())));
    let held: std::collections::HashSet<&str> = tasks
        .iter()
        .filter(|(_, id, _)| !removed.contains(id))
        .map(|(target, _, _)| target.as_str())
        .collect();
    Ok(targets
        .iter()
        .filter_map(|target| {
            let why = if !listed.contains(target) {
                format!("{target_type} {target} does not exist on this site")
            } else if held.contains(target.as_str())
                || client.plans_task_for((target_type, target, kind))
            {
                format!("{target_type} {target} has a {kind} task already")
            } else {
                return None;
            };
            Some(crate::vizportal::ItemFailure::under_dry_run(target, &why))
        })
        .collect())
}

/// The ids of the tasks of `kind` that now refresh these targets: the server returns
/// none, so they are read back.
fn new_tasks(
    ctx: &NativeCallContext,
    targets: &[String],
    target_type: &str,
    kind: &str,
) -> Out<Array> {
    let mut filter = Map::new();
    let ids: Array = targets.iter().map(|t| Dynamic::from(t.clone())).collect();
    filter.insert("targetId".into(), Dynamic::from_array(ids));
    filter.insert("targetType".into(), target_type.into());
    filter.insert("type".into(), kind.into());
    let tasks = crate::script::api::named_tasks(ctx, &filter)?;
    Ok(tasks
        .iter()
        .filter_map(|t| crate::script::record::field(t, "id"))
        .collect())
}

/// A script map as a JSON object.
fn json_map(map: Map, function: &str, pos: Position) -> Out<JsonMap> {
    match convert::to_json(&Dynamic::from_map(map)) {
        Ok(Value::Object(fields)) => Ok(fields),
        Ok(_) => Err(usage(format!("{function}: expected a map"), pos)),
        Err(m) => Err(usage(format!("{function}: {m}"), pos)),
    }
}

fn one_id(id: &Dynamic, function: &str, pos: Position) -> Out<String> {
    convert::one_id(id).map_err(|m| usage(format!("{function}: {m}"), pos))
}

/// Those of schedules `ids` that run `action` (`Extract`, `Subscription`), on the server
/// or as a dry run's plan creates them.
pub(super) fn running(
    host: &Host,
    pos: Position,
    ids: &[String],
    action: &str,
) -> Out<Vec<String>> {
    // A real run asks the server as it is; a dry run, as its plan leaves it.
    if !host.client(pos)?.dry_run() {
        let listed = all_schedules(host, pos, &["scheduledAction"])?;
        let runs = |id: &&String| {
            listed
                .get(*id)
                .is_some_and(|s| s["scheduledAction"] == action)
        };
        return Ok(ids.iter().filter(runs).cloned().collect());
    }
    let after = AfterPlan::read(host, pos)?;
    let runs = |id: &&String| {
        let found = after.find(id).ok();
        found.and_then(|s| s.get("scheduledAction")?.as_str()) == Some(action)
    };
    Ok(ids.iter().filter(runs).cloned().collect())
}

/// A priority given as a string holding a whole number (as `ARGS` gives it) is sent as
/// that number, as `set_extract_tasks_priority` takes it.
fn whole_number_priority(fields: &mut JsonMap) {
    let number = fields
        .get("priority")
        .and_then(Value::as_str)
        .and_then(|p| p.trim().parse::<i64>().ok());
    if let Some(number) = number {
        fields.insert("priority".into(), json!(number));
    }
}

/// What a dry run answers: the fields that would have been sent.
fn planned(fields: JsonMap, id: Value) -> Map {
    let mut map = convert::to_map(fields);
    map.insert("id".into(), convert::to_dynamic(id));
    map.insert("dry_run".into(), true.into());
    map
}

/// One schedule as `getSchedules` lists it, if it exists.
fn schedule(host: &Host, pos: Position, id: &str) -> Out<Option<JsonMap>> {
    let filter = json!({ "filter": {"operator": "eq", "field": "id", "value": id} });
    let this_one = |items: Vec<Value>, _: &crate::vizportal::SideTables| -> Vec<JsonMap> {
        let found = items
            .into_iter()
            .find(|s| text(&s["id"]).as_deref() == Some(id));
        found
            .and_then(|s| s.as_object().cloned())
            .into_iter()
            .collect()
    };
    let found = host
        .client(pos)?
        .list_filtered(
            crate::wire::method::GET_SCHEDULES,
            &filter,
            "schedules",
            &this_one,
        )
        .map_err(|e| crate::script::error::raise(&e, pos))?;
    Ok(found.into_iter().next())
}

/// Schedule `id` as a change finds it: under dry-run as the plan leaves it (a schedule
/// the plan creates can be changed too), else as the server lists it.
/// Read as the client reads every schedule (details in Tableau's spelling, which the
/// changes built on it then send).
fn current(host: &Host, pos: Position, id: &str, function: &str) -> Out<JsonMap> {
    if !host.client(pos)?.dry_run() {
        return existing(host, pos, id, function).map(crate::wire::schedule::as_read);
    }
    let after = AfterPlan::read(host, pos)?;
    let found = after.find(id).map_err(|p| refused(function, &p, pos))?;
    Ok(crate::wire::schedule::as_read(found.clone()))
}

fn existing(host: &Host, pos: Position, id: &str, function: &str) -> Out<JsonMap> {
    if is_planned_id(id) {
        return Err(usage(
            format!(
                "{function}: {id} is a schedule this dry run only planned; give create_schedule the fields it should have"
            ),
            pos,
        ));
    }
    schedule(host, pos, id)?
        .ok_or_else(|| usage(format!("{function}: schedule {id} does not exist"), pos))
}

fn read_back(host: &Host, pos: Position, id: &str) -> Out<Map> {
    let fields = existing(host, pos, id, crate::wire::method::GET_SCHEDULES)?;
    let mut map = convert::to_map(fields);
    map.insert("dry_run".into(), false.into());
    Ok(map)
}

/// Every schedule's `keep` fields, by id (the audit's before values of a batch).
fn all_schedules(host: &Host, pos: Position, keep: &[&str]) -> Out<JsonMap> {
    let client = host.client(pos)?;
    // As the client reads every schedule (a server may not show `enabled`).
    let plain = |items: Vec<Value>, _: &crate::vizportal::SideTables| -> Vec<Value> {
        items
            .into_iter()
            .map(crate::wire::schedule::listed_as_read)
            .collect()
    };
    let list = client
        .list_all(
            crate::wire::method::GET_SCHEDULES,
            &json!({}),
            "schedules",
            &plain,
            &|_, _| {},
        )
        .map_err(|e| crate::script::error::raise(&e, pos))?;
    Ok(list
        .into_iter()
        .filter_map(|s| {
            let id = text(&s["id"])?;
            let fields: JsonMap = keep
                .iter()
                .filter_map(|k| Some((k.to_string(), s.get(*k)?.clone())))
                .collect();
            Some((id, Value::Object(fields)))
        })
        .collect())
}

/// `{id: value}`, the shape of before values.
fn by_id(id: &str, value: Value) -> Value {
    let mut map = JsonMap::new();
    map.insert(id.to_string(), value);
    Value::Object(map)
}

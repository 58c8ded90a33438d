//! Background jobs as script functions: listing them, and running tasks or schedules and
//! waiting until their jobs have finished (see `vizportal::job_wait` for how the jobs are
//! found and how many requests a wait costs).

use rhai::plugin::*;

#[export_module]
pub mod jobs_api {
    use rhai::{Array, Dynamic, EvalAltResult, Map, NativeCallContext};

    type Out<T> = Result<T, Box<EvalAltResult>>;

    /// Every background job of the site (`getBackgroundJobs`, every page), newest first:
    /// `jobId`, `status` (`Pending`, `InProgress`, `Completed`, `Failed`, ...), `taskType`,
    /// `priority`, `jobRequestedTime`, `currentQueueTime`, `currentRunTime`, ... A job
    /// does not name the task it ran; to follow tasks to their jobs, run them with
    /// `run_extract_tasks(ids, #{wait: true})`, whose `jobs` each carry a `taskId`.
    ///
    /// ```rhai
    /// for j in jobs() { print(`${j.jobId} ${j.status} ${j.jobRequestedTime}`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn jobs(ctx: NativeCallContext) -> Out<Array> {
        super::list(&ctx, None)
    }

    /// Background jobs matching a filter (a plain map means "all fields equal"), newest
    /// first.
    ///
    /// ```rhai
    /// let failed = jobs(#{ status: "Failed" });
    /// print(`${failed.len()} failed jobs`);
    /// ```
    #[rhai_fn(name = "jobs", return_raw)]
    pub fn jobs_where(ctx: NativeCallContext, filter: Map) -> Out<Array> {
        super::list(&ctx, Some(&filter))
    }

    /// Run extract tasks now; with `#{wait: true}` also wait until their jobs have
    /// finished (`timeout` in seconds, default 1800). The server hands back no job ids,
    /// so each task's job is found among the site's extract jobs requested since the
    /// run (never one already listed just before it), by the name of what it refreshes.
    /// Polls back off from 1 s to 15 s, so 10 minutes cost at most 44 polls (one page
    /// each while fewer than 250 extract jobs were requested on the site since the run),
    /// plus one name lookup per job: 100 tasks on an otherwise quiet site cost at most
    /// 147 requests, the run, the jobs listed before it and the read of the tasks
    /// included. A progress bar shows on a terminal; Ctrl-C ends the wait.
    ///
    /// Returns the summary plus `jobs` (one per task run: `taskId`, `targetName`,
    /// `targetType`, `status`, `outcome` and the job's own fields), `failed_jobs`,
    /// `timed_out` and `success_known`. `outcome` is `succeeded` (`Completed`, `Success`),
    /// `failed` (`Failed`, `Cancelled`), `running` (`Pending`, `InProgress`, or `NotFound`
    /// while the job has not shown up) or `unknown`. A status it does not know is passed
    /// through; it counts as running only when it reads like it (contains `pend`,
    /// `progress`, `queue`, `run`, `wait`, `start` or `new`), as failed when it contains
    /// `fail`, `cancel`, `error` or `abort`, otherwise as finished with outcome `unknown`.
    /// A server without `getBackgroundJobs`, or whose jobs nothing names (no
    /// `getBackgroundJobExtendedInfo`), is waited on by watching the tasks' `lastRunAt`
    /// move past what it was before the run: then every finished job's `status` is `Ran`,
    /// its `outcome` `unknown`, `success_known` is false and `note` says why.
    ///
    /// ```rhai
    /// let r = run_extract_tasks(["12", "13"], #{ wait: true, timeout: 600 });
    /// for j in r.failed_jobs { print(`${j.targetName} failed`); }
    /// if r.timed_out { print("some jobs are still running"); }
    /// ```
    #[rhai_fn(name = "run_extract_tasks", return_raw)]
    pub fn run_extract_tasks_with(ctx: NativeCallContext, ids: Dynamic, options: Map) -> Out<Map> {
        super::run_tasks(&ctx, &ids, &options)
    }

    /// Run every task of these schedules on this site now and, with `#{wait: true}`,
    /// wait for their jobs as `run_extract_tasks(ids, #{wait: true})` does. Only extract
    /// refresh jobs are followed: waiting on a subscription schedule is refused before
    /// anything runs (run it without `wait`; `jobs()` lists its jobs).
    ///
    /// ```rhai
    /// let r = run_schedules("12", #{ wait: true, timeout: 900 });
    /// print(`${r.failed_jobs.len()} of ${r.jobs.len()} jobs failed`);
    /// ```
    #[rhai_fn(name = "run_schedules", return_raw)]
    pub fn run_schedules_with(ctx: NativeCallContext, ids: Dynamic, options: Map) -> Out<Map> {
        super::run_schedules(&ctx, &ids, &options)
    }
}

use std::time::Duration;

use rhai::{Array, Dynamic, EvalAltResult, Map, NativeCallContext, Position};
use serde_json::json;

use crate::script::api::tasks_with_names;
use crate::script::convert;
use crate::script::error::{batch_error, raise, summary_map, usage, with_fields};
use crate::script::host::Host;
use crate::script::progress::Progress;
use crate::vizportal::{
    BatchSummary, JobReport, JobsBefore, WaitHooks, WaitOutcome, WaitPlan, WatchedTask,
};

type Out<T> = Result<T, Box<EvalAltResult>>;

/// How long a wait lasts when the script does not say.
const DEFAULT_TIMEOUT_SECS: f64 = 1800.0;

/// Every task type the jobs page lists.
const ALL_TASK_TYPES: &[&str] = &[
    "Extract",
    "Flow",
    "PredictiveModelFlow",
    "Subscription",
    "Encryption",
    "Bridge",
    "Acceleration",
];

fn list(ctx: &NativeCallContext, filter: Option<&Map>) -> Out<Array> {
    let pos = ctx.call_position();
    let host = Host::of(ctx)?;
    let wanted = match filter {
        Some(f) => convert::filter(f).map_err(|m| usage(format!("jobs: {m}"), pos))?,
        None => json!({"operator": "in", "field": "taskType", "values": ALL_TASK_TYPES}),
    };
    let params = host.client(pos)?.site_jobs_params(Some(wanted));
    host.list_with(
        pos,
        crate::wire::method::GET_BACKGROUND_JOBS,
        "backgroundJobs",
        &params,
    )
}

/// `wait` and `timeout` from an options map.
fn wait_options(options: &Map, function: &str, pos: Position) -> Out<Option<Duration>> {
    let mut wait = false;
    let mut timeout = DEFAULT_TIMEOUT_SECS;
    for (key, value) in options {
        match key.as_str() {
            "wait" => {
                wait = value
                    .as_bool()
                    .map_err(|_| usage(format!("{function}: wait must be true or false"), pos))?
            }
            "timeout" => {
                timeout = value
                    .as_int()
                    .map(|n| n as f64)
                    .or_else(|_| value.as_float())
                    .ok()
                    .filter(|t| *t > 0.0)
                    .ok_or_else(|| {
                        usage(
                            format!("{function}: timeout must be a number of seconds above 0"),
                            pos,
                        )
                    })?
            }
            other => {
                return Err(usage(
                    format!(
                        "{function}: unknown option `{other}`; the options are `wait` and `timeout`"
                    ),
                    pos,
                ));
            }
        }
    }
    // A timeout too long to count is as good as none.
    Ok(wait.then(|| Duration::try_from_secs_f64(timeout).unwrap_or(Duration::MAX)))
}

fn run_tasks(ctx: &NativeCallContext, ids: &Dynamic, options: &Map) -> Out<Map> {
    let pos = ctx.call_position();
    let host = Host::of(ctx)?;
    let method = crate::wire::method::RUN_EXTRACT_TASKS;
    let Some(timeout) = wait_options(options, "run_extract_tasks", pos)? else {
        return host.batch(pos, method, ids, serde_json::Map::new());
    };
    let wanted = convert::ids_for(method, ids).map_err(|m| usage(format!("{method}: {m}"), pos))?;
    let mut filter = Map::new();
    let id_values: Array = wanted.iter().map(|id| Dynamic::from(id.clone())).collect();
    filter.insert("id".into(), Dynamic::from_array(id_values));
    let tasks = crate::script::api::named_tasks(ctx, &filter)?;
    run_and_wait(&host, pos, (method, "id"), ids, &tasks, timeout)
}

fn run_schedules(ctx: &NativeCallContext, ids: &Dynamic, options: &Map) -> Out<Map> {
    let pos = ctx.call_position();
    let host = Host::of(ctx)?;
    let method = crate::wire::method::RUN_SCHEDULES;
    let timeout = wait_options(options, "run_schedules", pos)?;
    let Some(timeout) = timeout else {
        return host.batch(pos, method, ids, serde_json::Map::new());
    };
    let wanted = convert::ids_for(method, ids).map_err(|m| usage(format!("{method}: {m}"), pos))?;
    // Only extract refresh jobs are followed: waiting on a subscription schedule would
    // report at once that nothing failed.
    let subscriptions = crate::script::schedule_api::running(&host, pos, &wanted, "Subscription")?;
    if !subscriptions.is_empty() {
        return Err(usage(
            format!(
                "run_schedules: schedule(s) {} run subscriptions, and #{{wait: true}} follows extract refresh jobs only; nothing was run: run them without wait (jobs() lists their jobs)",
                subscriptions.join(", ")
            ),
            pos,
        ));
    }
    let mut filter = Map::new();
    let id_values: Array = wanted.iter().map(|id| Dynamic::from(id.clone())).collect();
    filter.insert("scheduleId".into(), Dynamic::from_array(id_values));
    let tasks = tasks_with_names(ctx, Some(&filter))?;
    run_and_wait(&host, pos, (method, "scheduleId"), ids, &tasks, timeout)
}

/// The error of a wait that failed after the run was sent: it says what ran, and lists it
/// as `succeeded`, with the error's own kind and class.
fn wait_failed(
    method: &str,
    summary: &BatchSummary,
    error: &crate::vizportal::VizportalError,
    pos: Position,
) -> Box<EvalAltResult> {
    let ran = summary.succeeded.len();
    // The run's own counts (refused, unknown) stay with the error.
    let mut extra = crate::script::error::summary_map(summary);
    extra.insert(
        "message".into(),
        format!(
            "{method} ran {ran} id(s), but waiting for their jobs failed: {}",
            error.message()
        )
        .into(),
    );
    with_fields(*raise(error, pos), extra)
}

/// Sends the run, then follows the jobs of those `tasks` whose `run_key` field (`id` for
/// a run of tasks, `scheduleId` for a run of schedules) names an id the run accepted.
fn run_and_wait(
    host: &Host,
    pos: Position,
    (method, run_key): (&str, &str),
    ids: &Dynamic,
    tasks: &[Dynamic],
    timeout: Duration,
) -> Out<Map> {
    // The jobs already there are not the run's (one of the same task a moment ago, say).
    let client = host.client(pos)?;
    let before = if client.dry_run() {
        JobsBefore::default()
    } else {
        client.jobs_before_run()
    };
    let since = chrono::Utc::now();
    let summary = host.batch_summary(pos, method, "ids", ids, serde_json::Map::new(), None)?;
    let watched: Vec<WatchedTask> = if summary.dry_run {
        Vec::new()
    } else {
        let ran: std::collections::HashSet<&String> = summary.succeeded.iter().collect();
        tasks
            .iter()
            .filter_map(|task| {
                let map = crate::script::record::as_map(task)?;
                let run_id = map.get(run_key).map(|v| v.to_string())?;
                ran.contains(&run_id).then(|| watched_task(&map))
            })
            .collect()
    };
    let outcome = if watched.is_empty() {
        None
    } else {
        let bar = Progress::start(host.shows_progress(), "waiting for jobs");
        let hooks = WaitHooks {
            progress: &|done: usize, total: usize| bar.update(done, Some(total)),
            cancelled: &|| host.cancelled(),
        };
        let plan = WaitPlan::with_timeout(timeout);
        let outcome = client.wait_for_jobs(watched, (since, before), &plan, &hooks);
        Some(outcome.map_err(|e| wait_failed(method, &summary, &e, pos))?)
    };
    // Ctrl-C ended the wait: the run stops, and says what it had started.
    if host.cancelled() {
        return Err(EvalAltResult::ErrorTerminated(
            format!(
                "interrupted while waiting: {method} ran {} id(s), whose jobs go on on the server",
                summary.succeeded.len()
            )
            .into(),
            pos,
        )
        .into());
    }
    finish(method, &summary, outcome.as_ref(), pos)
}

fn watched_task(task: &Map) -> WatchedTask {
    let field = |key: &str| task.get(key).map(|v| v.to_string()).unwrap_or_default();
    WatchedTask {
        id: field("id"),
        target_name: field("targetName"),
        target_type: field("targetType"),
        task_type: field("type"),
        last_run_at: task
            .get("lastRunAt")
            .filter(|v| !v.is_unit())
            .map(|v| v.to_string()),
    }
}

/// The summary with the wait's results; raised when any id of the run failed.
fn finish(
    method: &str,
    summary: &BatchSummary,
    outcome: Option<&WaitOutcome>,
    pos: Position,
) -> Out<Map> {
    let mut extra = Map::new();
    let jobs: Array = outcome
        .map(|o| o.reports.iter().map(job_map).collect())
        .unwrap_or_default();
    let failed: Array = jobs
        .iter()
        .filter(|j| {
            j.read_lock::<Map>()
                .and_then(|m| m.get("outcome").map(|o| o.to_string() == "failed"))
                .unwrap_or(false)
        })
        .cloned()
        .collect();
    extra.insert("jobs".into(), Dynamic::from_array(jobs));
    extra.insert("failed_jobs".into(), Dynamic::from_array(failed));
    extra.insert(
        "timed_out".into(),
        outcome.is_some_and(|o| o.timed_out).into(),
    );
    extra.insert(
        "success_known".into(),
        outcome.is_none_or(|o| o.success_known).into(),
    );
    if let Some(reason) = outcome.and_then(|o| o.fallback_reason.as_ref()) {
        let note = format!("{reason}; runs were seen in lastRunAt, their success is unknown");
        extra.insert("note".into(), note.into());
    }
    if summary.failed.is_empty() && summary.error.is_none() {
        let mut map = summary_map(summary);
        map.extend(extra);
        return Ok(map);
    }
    Err(with_fields(*batch_error(method, summary, pos), extra))
}

/// One task's job as scripts see it: the job's wire fields, plus the task and outcome.
fn job_map(report: &JobReport) -> Dynamic {
    let mut map = report.job.clone().map(convert::to_map).unwrap_or_default();
    map.insert("taskId".into(), report.task.id.clone().into());
    map.insert("targetName".into(), report.task.target_name.clone().into());
    map.insert("targetType".into(), report.task.target_type.clone().into());
    map.insert("status".into(), report.status.clone().into());
    map.insert("outcome".into(), report.state.as_str().into());
    if let Some(at) = &report.last_run_at {
        map.insert("lastRunAt".into(), at.clone().into());
    }
    Dynamic::from_map(map)
}

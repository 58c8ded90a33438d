//! Waiting for the jobs of tasks that were just run. `runExtractTasks` and `runSchedules`
//! hand back no job ids, so the jobs are found again: among the site's extract jobs
//! requested since the run, each named by `getBackgroundJobExtendedInfo`'s `contentName`
//! and matched to a task by its target's name (and type, when the server says it). Polls
//! back off from 1 s to 15 s (polls at 0, 1, 3, 7, 15 s, then every 15 s), so 10 minutes
//! cost at most 44 polls, each one page of up to 250 jobs while fewer were requested
//! since the run, plus one name lookup per job seen before every task has found its job:
//! for 100 tasks on an otherwise quiet site 144 requests, 147 with the run, the jobs
//! listed before it and the read of the tasks' names. Two tasks refreshing the same
//! target (a full and an incremental refresh) are told apart by the job's type when the
//! server names it (`jobType` or `taskType` with `Refresh` or `Increment` in it); else
//! each gets one of the target's jobs.
//!
//! Jobs listed before the run (see [`Client::jobs_before_run`]) are never taken for the
//! run's own, however close to it they were requested.
//!
//! A server without `getBackgroundJobs`, or one that names no job (no `contentName` or
//! `jobDescription`, and no `getBackgroundJobExtendedInfo`), gets the fallback: the tasks'
//! `lastRunAt` is watched until it moves past what it was before the run, and success is
//! then unknown.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::wire::id_string as text;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value, json};

use super::client::Client;
use super::error::VizportalError;
use super::jobs::{JobState, classify};

/// Client and server clocks may differ by this much; jobs requested this long before the
/// run still count as the run's.
pub const CLOCK_MARGIN: Duration = Duration::from_secs(5);

/// A task whose run is followed.
#[derive(Clone, Debug)]
pub struct WatchedTask {
    /// The task id.
    pub id: String,
    /// The name of the workbook or datasource it refreshes.
    pub target_name: String,
    /// `Workbook` or `Datasource`.
    pub target_type: String,
    /// `RefreshExtract` (full) or `IncrementExtract`: tells apart the jobs of two tasks
    /// of one target when the server names a job's type. Empty when not known.
    pub task_type: String,
    /// Its `lastRunAt` before the run, if it had run.
    pub last_run_at: Option<String>,
}

/// What became of one task's run.
#[derive(Clone, Debug)]
pub struct JobReport {
    /// The task.
    pub task: WatchedTask,
    /// The job as `getBackgroundJobs` shows it, once found (never in the fallback).
    pub job: Option<Map<String, Value>>,
    /// The job's status as the server spelled it; `NotFound` until the job shows up,
    /// `Ran` in the fallback once `lastRunAt` moved.
    pub status: String,
    /// What the status means.
    pub state: JobState,
    /// The task's `lastRunAt` (fallback only).
    pub last_run_at: Option<String>,
}

/// The end of a wait.
#[derive(Debug)]
pub struct WaitOutcome {
    /// One report per watched task, in the order given.
    pub reports: Vec<JobReport>,
    /// True when the time ran out before every job finished.
    pub timed_out: bool,
    /// False in the fallback: runs were seen, their success is unknown.
    pub success_known: bool,
    /// Why the fallback was taken, if it was.
    pub fallback_reason: Option<String>,
}

/// How long to wait and how often to look.
#[derive(Clone, Copy, Debug)]
pub struct WaitPlan {
    /// Give up after this long.
    pub timeout: Duration,
    /// The first pause between polls; it doubles each time.
    pub first_delay: Duration,
    /// The longest pause between polls.
    pub max_delay: Duration,
}

impl WaitPlan {
    /// The documented backoff (1 s doubling to 15 s) with a timeout.
    pub fn with_timeout(timeout: Duration) -> WaitPlan {
        WaitPlan {
            timeout,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(15),
        }
    }
}

/// What a wait reports to and asks of its caller.
pub struct WaitHooks<'a> {
    /// Progress: `(finished, total)`.
    pub progress: &'a dyn Fn(usize, usize),
    /// True when the wait should end now (Ctrl-C); it ends as if timed out.
    pub cancelled: &'a dyn Fn() -> bool,
}

/// Longest sleep between two looks at [`WaitHooks::cancelled`].
const CANCEL_CHECK: Duration = Duration::from_millis(200);

/// The jobs a run about to be sent must not take for its own: those already listed.
#[derive(Debug, Default)]
pub struct JobsBefore {
    ids: HashSet<String>,
}

impl Client {
    /// The extract jobs of the site requested shortly before now (within twice
    /// [`CLOCK_MARGIN`]), read before a run is sent: a wait after it skips them. Empty
    /// when the server lists no jobs (the wait then falls back to `lastRunAt`).
    pub fn jobs_before_run(&self) -> JobsBefore {
        let since = Utc::now() - TimeDelta::from_std(CLOCK_MARGIN * 2).unwrap_or_default();
        let ids = match self.recent_extract_jobs(since) {
            Ok(jobs) => jobs
                .iter()
                .filter_map(|job| job.get("jobId").and_then(text))
                .collect(),
            Err(e) => {
                tracing::info!("jobs before the run: not listed ({e})");
                HashSet::new()
            }
        };
        JobsBefore { ids }
    }

    /// Follow the jobs of `tasks`, run at `since`, until all have finished or the plan's
    /// timeout passes; the jobs in `before` are not theirs.
    pub fn wait_for_jobs(
        &self,
        tasks: Vec<WatchedTask>,
        (since, before): (DateTime<Utc>, JobsBefore),
        plan: &WaitPlan,
        hooks: &WaitHooks<'_>,
    ) -> Result<WaitOutcome, VizportalError> {
        let since = since - TimeDelta::from_std(CLOCK_MARGIN).unwrap_or_default();
        let mut watch = Watch::new(tasks);
        watch.claimed = before.ids;
        // The first look decides whether the server lists jobs at all: a refusal, or an
        // unknown method. A server that stayed unavailable through the retries has said
        // nothing of the sort, and a later failure is an error like any other.
        match self.poll_jobs(&mut watch, since) {
            Err(e @ VizportalError::Api { .. }) => {
                tracing::info!("getBackgroundJobs is not usable ({e}); watching lastRunAt");
                watch.fallback = Some(format!("the server has no usable getBackgroundJobs ({e})"));
            }
            Err(e) if unknown_method(&e) || refused(&e) => {
                tracing::info!("getBackgroundJobs is not usable ({e}); watching lastRunAt");
                watch.fallback = Some(format!("the server has no usable getBackgroundJobs ({e})"));
            }
            other => other?,
        }
        let mut poll = |watch: &mut Watch| match watch.fallback {
            None => self.poll_jobs(watch, since),
            Some(_) => self.poll_last_run(watch, since),
        };
        if watch.fallback.is_some() {
            poll(&mut watch)?;
        }
        repeat_until_done(watch, plan, hooks, &mut poll)
    }

    /// One look at the recent jobs: new ones are named and matched to waiting tasks,
    /// matched ones update their task's status. A job nothing names, on a server that
    /// refuses `getBackgroundJobExtendedInfo`, switches the wait to the fallback.
    fn poll_jobs(&self, watch: &mut Watch, since: DateTime<Utc>) -> Result<(), VizportalError> {
        let jobs = self.recent_extract_jobs(since)?;
        for job in jobs.iter().rev() {
            let Some(id) = job.get("jobId").and_then(text) else {
                continue;
            };
            if watch.claimed.contains(&id) || watch.unmatched() == 0 {
                continue;
            }
            match self.content_of(job, &id) {
                Named::Content(content) => watch.claim(&id, content),
                Named::Later => {}
                // Only while no job has been matched: after that the jobs are watched.
                Named::Never(reason) if watch.unmatched() == watch.reports.len() => {
                    tracing::info!("job {id} cannot be named ({reason}); watching lastRunAt");
                    watch.fallback = Some(format!(
                        "the server names no job (no getBackgroundJobExtendedInfo: {reason})"
                    ));
                    return self.poll_last_run(watch, since);
                }
                Named::Never(_) => {
                    watch.claimed.insert(id);
                }
            }
        }
        let by_id: HashMap<String, &Map<String, Value>> = jobs
            .iter()
            .filter_map(|j| Some((j.get("jobId").and_then(text)?, j)))
            .collect();
        for (report, job_id) in watch.reports.iter_mut().zip(&watch.job_ids) {
            if let Some(job) = job_id.as_ref().and_then(|id| by_id.get(id)) {
                let status = job.get("status").and_then(text).unwrap_or_default();
                let task_type = job.get("taskType").and_then(text).unwrap_or_default();
                report.state = classify(&status, &task_type);
                report.status = status;
                report.job = Some((*job).clone());
            }
        }
        Ok(())
    }

    /// The name and type of what a job refreshes: from the job itself when it says,
    /// else from `getBackgroundJobExtendedInfo`. A call that failed on the way is tried
    /// again next poll; a refusal leaves the job with its description, or unnamed.
    fn content_of(&self, job: &Map<String, Value>, id: &str) -> Named {
        let from = |m: &Map<String, Value>| Content {
            name: m.get("contentName").and_then(text),
            kind: m.get("contentType").and_then(text),
            refresh: ["jobType", "taskType"]
                .iter()
                .find_map(|k| RefreshKind::of(&m.get(*k).and_then(text)?))
                .or_else(|| RefreshKind::of(&job.get("jobType").and_then(text)?)),
            description: job.get("jobDescription").and_then(text),
        };
        let content = from(job);
        if content.name.is_some() {
            return Named::Content(content);
        }
        let params = json!({ "backgroundJobId": id });
        match self.session().call(
            crate::wire::method::GET_BACKGROUND_JOB_EXTENDED_INFO,
            &params,
        ) {
            Ok(Value::Object(info)) => Named::Content(from(&info)),
            Ok(_) => Named::Content(content),
            // The method itself unknown: no job will be named. Any other refusal (this job
            // not found, not allowed) leaves this one job unnamed.
            Err(e) if unknown_method(&e) && content.description.is_none() => {
                Named::Never(e.to_string())
            }
            Err(e @ (VizportalError::Api { .. } | VizportalError::Http { .. })) => {
                tracing::info!("job {id}: no extended info ({e})");
                Named::Content(content)
            }
            Err(e) => {
                tracing::info!("job {id}: extended info failed ({e}); trying again next poll");
                Named::Later
            }
        }
    }

    /// The fallback's look: which tasks' `lastRunAt` has passed the run time.
    fn poll_last_run(&self, watch: &mut Watch, since: DateTime<Utc>) -> Result<(), VizportalError> {
        let ids: Vec<&str> = watch.reports.iter().map(|r| r.task.id.as_str()).collect();
        let params = json!({"filter": {"operator": "in", "field": "id", "values": ids}});
        let keep = |items: Vec<Value>, _: &super::SideTables| items;
        let tasks = self.list_filtered(
            crate::wire::method::GET_EXTRACT_TASKS,
            &params,
            "tasks",
            &keep,
        )?;
        let last_run: HashMap<String, String> = tasks
            .iter()
            .filter_map(|t| {
                Some((
                    t.get("id").and_then(text)?,
                    t.get("lastRunAt").and_then(text)?,
                ))
            })
            .collect();
        // A task already matched to its job keeps the job's status.
        for report in watch.reports.iter_mut().filter(|r| r.job.is_none()) {
            let Some(at) = last_run.get(&report.task.id) else {
                continue;
            };
            let moved = report.task.last_run_at.as_ref() != Some(at)
                && DateTime::parse_from_rfc3339(at).is_ok_and(|t| t.to_utc() >= since);
            if moved {
                report.state = JobState::Finished;
                report.status = "Ran".to_string();
                report.last_run_at = Some(at.clone());
            }
        }
        Ok(())
    }
}

/// What can be told of a job's content.
enum Named {
    Content(Content),
    /// Not now (a call failed on the way): ask again next poll.
    Later,
    /// The server gives no name for it, and will not: why.
    Never(String),
}

/// What a job refreshes, as far as the server said.
#[derive(Debug, Default)]
struct Content {
    name: Option<String>,
    kind: Option<String>,
    /// A full or an incremental refresh, when the job's type says.
    refresh: Option<RefreshKind>,
    description: Option<String>,
}

/// A full or an incremental extract refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefreshKind {
    Full,
    Incremental,
}

impl RefreshKind {
    /// The kind a task or job type names, in any of the spellings seen (`RefreshExtract`,
    /// `IncrementExtract`, REST's `refresh_extracts`, `increment_extracts`); `None` for
    /// any other type (`Extract`, the jobs page's category of both).
    fn of(text: &str) -> Option<RefreshKind> {
        let text = text.to_ascii_lowercase();
        if text.contains("increment") {
            Some(RefreshKind::Incremental)
        } else if text.contains("refresh") {
            Some(RefreshKind::Full)
        } else {
            None
        }
    }
}

/// The tasks being followed and the jobs found for them so far.
struct Watch {
    reports: Vec<JobReport>,
    /// The job found for each report, by position.
    job_ids: Vec<Option<String>>,
    /// Jobs already looked at (matched or not), so each is named once, and jobs listed
    /// before the run.
    claimed: HashSet<String>,
    /// Why the wait watches `lastRunAt` instead of jobs, once it does.
    fallback: Option<String>,
}

impl Watch {
    fn new(tasks: Vec<WatchedTask>) -> Watch {
        let reports: Vec<JobReport> = tasks
            .into_iter()
            .map(|task| JobReport {
                task,
                job: None,
                status: "NotFound".to_string(),
                state: JobState::Running,
                last_run_at: None,
            })
            .collect();
        Watch {
            job_ids: vec![None; reports.len()],
            reports,
            claimed: HashSet::new(),
            fallback: None,
        }
    }

    fn unmatched(&self) -> usize {
        self.job_ids.iter().filter(|j| j.is_none()).count()
    }

    fn finished(&self) -> usize {
        self.reports
            .iter()
            .filter(|r| r.state != JobState::Running)
            .count()
    }

    /// Gives job `id` to the first waiting task whose target it names; a job naming
    /// none of them is remembered as looked at.
    fn claim(&mut self, id: &str, content: Content) {
        self.claimed.insert(id.to_string());
        let fits = |task: &WatchedTask| {
            let kind_fits = content
                .kind
                .as_deref()
                .is_none_or(|k| k.eq_ignore_ascii_case(&task.target_type));
            let name_fits = match (&content.name, &content.description) {
                (Some(name), _) => *name == task.target_name,
                (None, Some(text)) => text.contains(&task.target_name),
                (None, None) => false,
            };
            let refresh_fits = match (content.refresh, RefreshKind::of(&task.task_type)) {
                (Some(job), Some(task)) => job == task,
                _ => true,
            };
            kind_fits && name_fits && refresh_fits
        };
        let slot = (0..self.reports.len())
            .find(|&i| self.job_ids[i].is_none() && fits(&self.reports[i].task));
        if let Some(i) = slot {
            self.job_ids[i] = Some(id.to_string());
        }
    }
}

/// Polls with backoff until every task's job has finished or time runs out.
fn repeat_until_done(
    mut watch: Watch,
    plan: &WaitPlan,
    hooks: &WaitHooks<'_>,
    poll: &mut dyn FnMut(&mut Watch) -> Result<(), VizportalError>,
) -> Result<WaitOutcome, VizportalError> {
    // A timeout past what the clock can count (`timeout: 1e15`) never ends the wait.
    let far = Duration::from_secs(100 * 365 * 24 * 3600);
    let deadline = Instant::now() + plan.timeout.min(far);
    let mut delay = plan.first_delay;
    let total = watch.reports.len();
    (hooks.progress)(watch.finished(), total);
    let timed_out = loop {
        if watch.finished() == total {
            break false;
        }
        let now = Instant::now();
        if now >= deadline || !pause(delay.min(deadline - now), hooks.cancelled) {
            break true;
        }
        delay = (delay * 2).min(plan.max_delay);
        poll(&mut watch)?;
        (hooks.progress)(watch.finished(), total);
    };
    Ok(WaitOutcome {
        reports: watch.reports,
        timed_out,
        success_known: watch.fallback.is_none(),
        fallback_reason: watch.fallback,
    })
}

/// Sleeps `length` in short slices; false when `cancelled` said stop.
fn pause(length: Duration, cancelled: &dyn Fn() -> bool) -> bool {
    let until = Instant::now() + length;
    loop {
        if cancelled() {
            return false;
        }
        let now = Instant::now();
        if now >= until {
            return true;
        }
        std::thread::sleep((until - now).min(CANCEL_CHECK));
    }
}

/// Whether a gateway refused the call for good (HTTP 4xx but a timeout or too many
/// requests, or 501 Not Implemented): the jobs list is not usable, as when it is unknown.
fn refused(error: &VizportalError) -> bool {
    matches!(error.status(), Some(s) if (400..500).contains(&s) && s != 408 && s != 429 || s == 501)
}

/// Whether the server said it has no such method (code 80000, or HTTP 404).
fn unknown_method(error: &VizportalError) -> bool {
    error.code() == Some(crate::wire::code::UNKNOWN_METHOD) || error.status() == Some(404)
}

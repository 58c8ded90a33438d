//! Background jobs: what "run now" and a schedule's firing leave behind. A real server
//! queues an extract refresh, runs it on a backgrounder and records the outcome; the
//! emulator records when a job was requested, how long it takes and whether it will fail,
//! and computes its status from the clock whenever asked. Nothing runs in the background,
//! so tests can use short jobs and wait for a condition instead of sleeping.
//!
//! Time moves forward at the start of every call ([`advance`]): schedules whose
//! `runNextAt` has passed fire (enabled ones only) and jobs that have finished mark their
//! task's `lastRunAt`.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::config::JobSettings;
use super::dataset::Dataset;
use super::entities::{Id, TargetType, TaskType};
use super::recurrence;
use super::timestamp;

/// How a job ends; decided when it is requested.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum JobOutcome {
    Completed,
    Failed,
}

/// A job's status at some moment, with its wire spelling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JobStatus {
    Pending,
    InProgress,
    Completed,
    Failed,
}

impl JobStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "Pending",
            JobStatus::InProgress => "InProgress",
            JobStatus::Completed => "Completed",
            JobStatus::Failed => "Failed",
        }
    }
}

/// One background job of an extract task.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct BackgroundJob {
    pub id: Id,
    pub site_id: Id,
    /// The task that asked for the job (the wire does not show it).
    pub task_id: Id,
    pub target_type: TargetType,
    pub target_id: Id,
    /// The target's name when the job was requested.
    pub target_name: String,
    #[serde(rename = "type")]
    pub task_type: TaskType,
    pub priority: i64,
    /// UTC, with milliseconds.
    pub requested_at: String,
    /// Request to finish, in milliseconds.
    pub duration_ms: u64,
    pub outcome: JobOutcome,
    /// True once the finished job has set its task's `lastRunAt`.
    #[serde(default)]
    pub settled: bool,
}

impl BackgroundJob {
    fn requested(&self) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&self.requested_at)
            .map(|t| t.to_utc())
            .unwrap_or_default()
    }

    /// When the job leaves the queue and when it ends.
    fn times(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        let requested = self.requested();
        let total = TimeDelta::milliseconds(self.duration_ms as i64);
        (requested + total / 3, requested + total)
    }

    /// The status at `now`.
    pub(crate) fn status(&self, now: DateTime<Utc>) -> JobStatus {
        let (started, finished) = self.times();
        if now >= finished {
            match self.outcome {
                JobOutcome::Completed => JobStatus::Completed,
                JobOutcome::Failed => JobStatus::Failed,
            }
        } else if now >= started {
            JobStatus::InProgress
        } else {
            JobStatus::Pending
        }
    }

    /// Seconds spent in the queue and running so far, as of `now`.
    pub(crate) fn queue_and_run_seconds(&self, now: DateTime<Utc>) -> (i64, i64) {
        let (started, finished) = self.times();
        let requested = self.requested();
        let queued = (now.min(started) - requested).num_seconds().max(0);
        let ran = (now.min(finished) - started).num_seconds().max(0);
        (queued, ran)
    }
}

/// Queues a job for each task, as requested at `at`.
pub(crate) fn queue(data: &mut Dataset, settings: &JobSettings, tasks: &[Id], at: DateTime<Utc>) {
    for task_id in tasks {
        let Some(task) = data.extract_tasks.get(task_id) else {
            continue;
        };
        let target_name = match task.target_type {
            TargetType::Workbook => data.workbooks.get(&task.target_id).map(|w| &w.name),
            TargetType::Datasource => data.datasources.get(&task.target_id).map(|d| &d.name),
        }
        .cloned()
        .unwrap_or_default();
        let fails = settings
            .fail_targets
            .iter()
            .any(|p| target_name.to_lowercase().contains(&p.to_lowercase()))
            || rand::random::<f64>() < settings.fail_rate;
        let id = Dataset::new_id(&mut data.issued.background_jobs, &data.background_jobs);
        let job = BackgroundJob {
            id,
            site_id: task.site_id,
            task_id: task.id,
            target_type: task.target_type,
            target_id: task.target_id,
            target_name,
            task_type: task.task_type,
            priority: task.priority,
            requested_at: timestamp::utc(at),
            duration_ms: settings.duration.as_millis() as u64,
            outcome: if fails {
                JobOutcome::Failed
            } else {
                JobOutcome::Completed
            },
            settled: false,
        };
        data.background_jobs.insert(id, job);
    }
}

/// Moves the server to `now`: fires the enabled schedules whose time has come (once each,
/// however many runs were missed) when `schedules_fire`, and lets finished jobs set their
/// task's `lastRunAt`. True when anything changed.
pub(crate) fn advance(
    data: &mut Dataset,
    settings: &JobSettings,
    schedules_fire: bool,
    now: DateTime<Utc>,
) -> bool {
    let mut changed = schedules_fire && fire_due_schedules(data, settings, now);
    for job in data.background_jobs.values_mut().filter(|j| !j.settled) {
        let (_, finished) = job.times();
        if finished > now {
            continue;
        }
        job.settled = true;
        changed = true;
        if let Some(task) = data.extract_tasks.get_mut(&job.task_id) {
            task.last_run_at = Some(timestamp::utc(finished));
        }
        if job.outcome == JobOutcome::Completed
            && job.target_type == TargetType::Datasource
            && let Some(source) = data.datasources.get_mut(&job.target_id)
        {
            source.last_refreshed_at = Some(timestamp::utc(finished));
        }
    }
    changed
}

fn fire_due_schedules(data: &mut Dataset, settings: &JobSettings, now: DateTime<Utc>) -> bool {
    let due: Vec<(Id, DateTime<Utc>)> = data
        .schedules
        .values()
        .filter(|s| s.enabled)
        .filter_map(|s| {
            let at = DateTime::parse_from_rfc3339(s.run_next_at.as_deref()?).ok()?;
            (at.to_utc() <= now).then_some((s.id, at.to_utc()))
        })
        .collect();
    let fired = !due.is_empty();
    for (schedule_id, at) in due {
        run_schedule(data, settings, schedule_id, None, at);
        if let Some(schedule) = data.schedules.get_mut(&schedule_id) {
            schedule.run_next_at =
                recurrence::next_run(schedule.schedule_type, &schedule.schedule_details, now)
                    .map(timestamp::with_offset);
        }
    }
    fired
}

/// Runs every task of a schedule (on one site, or on all) and sends its subscriptions.
pub(crate) fn run_schedule(
    data: &mut Dataset,
    settings: &JobSettings,
    schedule: Id,
    site: Option<Id>,
    at: DateTime<Utc>,
) {
    let on_site = |s: Id| site.is_none_or(|wanted| wanted == s);
    let tasks: Vec<Id> = data
        .extract_tasks
        .values()
        .filter(|t| t.schedule_id == schedule && on_site(t.site_id))
        .map(|t| t.id)
        .collect();
    queue(data, settings, &tasks, at);
    for subscription in data
        .subscriptions
        .values_mut()
        .filter(|s| s.schedule_id == schedule && on_site(s.site_id))
    {
        subscription.last_sent_at = Some(timestamp::utc(at));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::sample::{SampleSpec, sample_at};
    use chrono::TimeZone;
    use std::time::Duration;

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2017, 1, 6, 12, 0, 0).unwrap() + TimeDelta::seconds(seconds)
    }

    #[test]
    fn a_job_is_pending_then_in_progress_then_finished() {
        let mut data = sample_at(&SampleSpec::default(), at(0));
        let task = *data.extract_tasks.keys().next().unwrap();
        let settings = JobSettings {
            duration: Duration::from_secs(30),
            ..JobSettings::default()
        };
        queue(&mut data, &settings, &[task], at(0));
        let job = data.background_jobs.values().next().unwrap().clone();
        assert_eq!(job.status(at(5)), JobStatus::Pending);
        assert_eq!(job.status(at(10)), JobStatus::InProgress);
        assert_eq!(job.queue_and_run_seconds(at(20)), (10, 10));
        assert_eq!(job.status(at(30)), JobStatus::Completed);
        advance(&mut data, &settings, false, at(29));
        assert_ne!(
            data.extract_tasks[&task].last_run_at.as_deref(),
            Some("2017-01-06T12:00:30.000Z")
        );
        advance(&mut data, &settings, false, at(31));
        assert_eq!(
            data.extract_tasks[&task].last_run_at.as_deref(),
            Some("2017-01-06T12:00:30.000Z")
        );
    }

    #[test]
    fn only_enabled_schedules_fire_and_only_unless_held() {
        let mut data = sample_at(&SampleSpec::default(), at(0));
        let ids: Vec<Id> = data.schedules.keys().copied().take(2).collect();
        for id in &ids {
            let s = data.schedules.get_mut(id).unwrap();
            s.run_next_at = Some(timestamp::with_offset(at(-60)));
        }
        data.schedules.get_mut(&ids[1]).unwrap().enabled = false;
        let count = |data: &Dataset, id: Id| {
            data.extract_tasks
                .values()
                .filter(|t| t.schedule_id == id)
                .count()
        };
        let settings = JobSettings::default();
        assert!(!advance(&mut data, &settings, false, at(0)), "held");
        assert!(data.background_jobs.is_empty());
        advance(&mut data, &settings, true, at(0));
        assert!(count(&data, ids[0]) > 0);
        assert_eq!(data.background_jobs.len(), count(&data, ids[0]));
        let next = data.schedules[&ids[0]].run_next_at.clone().unwrap();
        assert!(next > timestamp::with_offset(at(0)), "{next}");
        advance(&mut data, &settings, true, at(1));
        assert_eq!(
            data.background_jobs.len(),
            count(&data, ids[0]),
            "fired once"
        );
    }
}

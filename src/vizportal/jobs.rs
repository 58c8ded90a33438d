//! Background jobs: reading them (`getBackgroundJobs`, newest first) and telling a
//! finished job from a running one. The status vocabulary is only partly known (research
//! notes, section A): `Pending`, `InProgress`, `Completed`, `Failed` and, for Bridge,
//! `BridgeExtractionCompleted` have been seen; REST uses `Success` and `Cancelled`. A status
//! outside these is kept as sent and judged by how it reads (see [`classify`]).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::client::Client;
use super::error::VizportalError;

/// Jobs asked for per page when looking for recent jobs.
const PAGE: usize = 250;

/// The task types a refresh of an extract shows up as.
const REFRESH_TASK_TYPES: &[&str] = &["Extract", "Bridge"];

/// Where a job stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    /// Not finished (queued or running), or not found yet.
    Running,
    /// Finished well.
    Succeeded,
    /// Finished badly (failed or cancelled).
    Failed,
    /// Finished, but whether it went well is not known (an unknown status, or the
    /// fallback that watches `lastRunAt`).
    Finished,
}

impl JobState {
    /// The word scripts see in a job's `outcome`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Finished => "unknown",
        }
    }
}

/// What a status means. Known statuses first: `Pending`, `InProgress` run;
/// `Completed`, `Success`, `BridgeExtractionCompleted` succeeded (but a Bridge job's
/// `Completed` only means "sent to Bridge", so it still runs); `Failed`, `Cancelled`
/// failed. An unknown status counts as running only when it reads like it (it contains
/// `pend`, `progress`, `queue`, `run`, `wait`, `start` or `new`), as failed when it
/// contains `fail`, `cancel`, `error` or `abort`, and otherwise as finished with an
/// unknown outcome.
pub fn classify(status: &str, task_type: &str) -> JobState {
    let bridge = task_type.eq_ignore_ascii_case("Bridge");
    match status {
        "Pending" | "InProgress" => return JobState::Running,
        "Completed" if bridge => return JobState::Running,
        "Completed" | "Success" | "BridgeExtractionCompleted" => return JobState::Succeeded,
        "Failed" | "Cancelled" => return JobState::Failed,
        _ => {}
    }
    let lower = status.to_ascii_lowercase();
    let reads = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    if reads(&["pend", "progress", "queue", "run", "wait", "start", "new"]) {
        JobState::Running
    } else if reads(&["fail", "cancel", "error", "abort"]) {
        JobState::Failed
    } else {
        JobState::Finished
    }
}

/// When a job was requested, if it says in a form that parses.
pub fn requested_at(job: &Map<String, Value>) -> Option<DateTime<Utc>> {
    let text = job.get("jobRequestedTime")?.as_str()?;
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.to_utc())
}

impl Client {
    /// The site's extract jobs requested at or after `since`, newest first: pages are
    /// read until one reaches an older job, so a busy site costs one page per poll.
    pub fn recent_extract_jobs(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<Map<String, Value>>, VizportalError> {
        let mut found = Vec::new();
        let mut start = 0;
        loop {
            let mut params = self.site_jobs_params(None);
            params["page"] = json!({ "startIndex": start, "maxItems": PAGE });
            let result = self
                .session()
                .call(crate::wire::method::GET_BACKGROUND_JOBS, &params)?;
            let jobs = match result.get("backgroundJobs") {
                Some(Value::Array(jobs)) => jobs.clone(),
                _ => Vec::new(),
            };
            let served = jobs.len();
            let mut reached_older = false;
            for job in jobs.into_iter().filter_map(|j| match j {
                Value::Object(map) => Some(map),
                _ => None,
            }) {
                match requested_at(&job) {
                    Some(at) if at < since => reached_older = true,
                    _ => found.push(job),
                }
            }
            let more = result.get("moreItems").and_then(Value::as_bool) == Some(true);
            if reached_older || served == 0 || !more {
                return Ok(found);
            }
            start += served;
        }
    }

    /// `getBackgroundJobs` params for the session's site: extract refreshes only (unless
    /// `filter` is given), newest first. The filter names the site by its numeric id, as
    /// Tableau's own jobs page does.
    pub fn site_jobs_params(&self, filter: Option<Value>) -> Value {
        let site = self.session().info().site_id;
        let site_value = site
            .parse::<i64>()
            .map_or_else(|_| Value::String(site.clone()), Value::from);
        let site_clause = json!({"operator": "eq", "field": "siteId", "value": site_value});
        let wanted = filter.unwrap_or_else(
            || json!({"operator": "in", "field": "taskType", "values": REFRESH_TASK_TYPES}),
        );
        json!({
            "filter": {"operator": "and", "clauses": [wanted, site_clause]},
            "order": [{"field": "jobRequestedTime", "ascending": false}],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_statuses() {
        assert_eq!(classify("Pending", "Extract"), JobState::Running);
        assert_eq!(classify("Completed", "Extract"), JobState::Succeeded);
        assert_eq!(classify("Completed", "Bridge"), JobState::Running);
        assert_eq!(
            classify("BridgeExtractionCompleted", "Bridge"),
            JobState::Succeeded
        );
        assert_eq!(classify("Cancelled", "Extract"), JobState::Failed);
        assert_eq!(classify("Queued", "Extract"), JobState::Running);
        assert_eq!(classify("TimedOutError", "Extract"), JobState::Failed);
        assert_eq!(classify("Skipped", "Extract"), JobState::Finished);
    }
}

//! Background jobs as the web client's jobs page reads them (research notes, section A):
//! `getBackgroundJobs` lists the site's jobs with `filter`/`order`/`page`, each with its
//! status as of now; `getBackgroundJobExtendedInfo` names the content a job refreshes.
//! Neither says which task a job belongs to: a client finds its jobs by time and name.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::params;
use super::{Call, Failure, Outcome, Reply, require_site_admin};
use crate::emulator::jobs::BackgroundJob;
use crate::emulator::listing::{self, Listed, Val};
use crate::emulator::state::ServerState;
use crate::wire::code;

/// Every job is an extract refresh; the wire calls that task type `Extract`.
const TASK_TYPE: &str = "Extract";

impl Listed<DateTime<Utc>> for BackgroundJob {
    const FIELDS: &'static [&'static str] = &[
        "jobId",
        "status",
        "priority",
        "taskType",
        "siteId",
        "jobRequestedTime",
    ];
    const TEXT_FIELDS: &'static [&'static str] = &[];

    fn field<'a>(&'a self, name: &str, now: &'a DateTime<Utc>) -> Val<'a> {
        match name {
            "jobId" => Val::id(self.id),
            "status" => Val::text(self.status(*now).as_str()),
            "priority" => Val::num(self.priority as f64),
            "taskType" => Val::text(TASK_TYPE),
            "siteId" => Val::id(self.site_id),
            "jobRequestedTime" => Val::text(&self.requested_at),
            _ => Val::Null,
        }
    }
}

/// `getBackgroundJobs {filter, order, page}`: the session site's jobs.
pub(super) fn list(state: &mut ServerState, call: &Call) -> Outcome {
    let session = call.session()?;
    require_site_admin(state, session)?;
    let now = call.now;
    let on_site = state
        .data
        .background_jobs
        .values()
        .filter(|j| j.site_id == session.site);
    let page = listing::list(on_site, call.params, &now, call.limits)?;
    let jobs: Vec<Value> = page.items.iter().map(|j| job_json(j, now)).collect();
    Ok(Reply::ok(json!({
        "totalCount": page.total,
        "moreItems": page.more,
        "backgroundJobs": jobs,
    })))
}

fn job_json(job: &BackgroundJob, now: DateTime<Utc>) -> Value {
    let (queued, ran) = job.queue_and_run_seconds(now);
    json!({
        "jobId": job.id,
        "status": job.status(now).as_str(),
        "priority": job.priority,
        "taskType": TASK_TYPE,
        "siteId": job.site_id,
        "jobRequestedTime": job.requested_at,
        "currentQueueTime": queued,
        "currentRunTime": ran,
    })
}

/// `getBackgroundJobExtendedInfo {backgroundJobId}`: a flat map naming what the job
/// refreshes (`contentName`, `contentType`).
pub(super) fn extended_info(state: &mut ServerState, call: &Call) -> Outcome {
    let session = call.session()?;
    require_site_admin(state, session)?;
    let requested = params::id(call.params, "backgroundJobId")?;
    let job = requested
        .id
        .and_then(|id| state.data.background_jobs.get(&id))
        .filter(|j| j.site_id == session.site)
        .ok_or_else(|| {
            Failure::business(
                code::BACKGROUND_JOB_NOT_FOUND,
                format!("background job {} does not exist", requested.text),
            )
        })?;
    Ok(Reply::ok(json!({
        "jobId": job.id,
        "status": job.status(call.now).as_str(),
        "contentName": job.target_name,
        "contentType": job.target_type.as_str(),
        "jobType": job.task_type.as_str(),
    })))
}

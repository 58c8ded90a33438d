//! Subscriptions of the session's site (docs/protocol.md §4.3): the list with its side tables, and
//! moving subscriptions to another subscription schedule.

use serde_json::{Value, json};

use super::tasks::run_next_at;
use super::{Call, Outcome, Reply, batch_reply, params, schedules, session_user, side_tables};
use crate::emulator::dataset::Dataset;
use crate::emulator::entities::{ScheduledAction, Subscription};
use crate::emulator::listing::{self, Listed, Val};
use crate::emulator::state::ServerState;
use crate::wire::{WireError, code};

impl Listed<Dataset> for Subscription {
    const FIELDS: &'static [&'static str] = &[
        "id",
        "subject",
        "name",
        "siteId",
        "userId",
        "ownerId",
        "scheduleId",
        "scheduleName",
        "lastSentAt",
        "runNextAt",
        "targetId",
        "targetName",
        "targetType",
        "targetPath",
    ];
    const TEXT_FIELDS: &'static [&'static str] = &["subject", "targetName"];

    fn field<'a>(&'a self, name: &str, data: &'a Dataset) -> Val<'a> {
        match name {
            "id" => Val::id(self.id),
            "subject" | "name" => Val::text(&self.subject),
            "siteId" => Val::id(self.site_id),
            "userId" | "ownerId" => Val::id(self.user_id),
            "scheduleId" => Val::id(self.schedule_id),
            "scheduleName" => Val::opt_text(
                data.schedules
                    .get(&self.schedule_id)
                    .map(|s| s.name.as_str()),
            ),
            "lastSentAt" => Val::opt_text(self.last_sent_at.as_deref()),
            "runNextAt" => Val::opt_text(run_next_at(data, self.schedule_id)),
            "targetId" => Val::id(self.target_id),
            "targetName" => {
                Val::opt_text(data.workbooks.get(&self.target_id).map(|w| w.name.as_str()))
            }
            "targetType" => Val::text(self.target_type.as_str()),
            "targetPath" => Val::opt_text(
                data.workbooks
                    .get(&self.target_id)
                    .map(|w| w.repository_url.as_str()),
            ),
            _ => Val::Null,
        }
    }
}

/// `getSubscriptions`: the session site's subscriptions.
pub(super) fn list(state: &mut ServerState, call: &Call) -> Outcome {
    let site = call.session()?.site;
    let data = &state.data;
    let page = listing::list(
        data.subscriptions.values().filter(|s| s.site_id == site),
        call.params,
        data,
        call.limits,
    )?;
    let subscriptions: Vec<Value> = page
        .items
        .iter()
        .map(|s| subscription_json(data, s))
        .collect();
    Ok(Reply::ok(json!({
        "totalCount": page.total,
        "moreItems": page.more,
        "subscriptions": subscriptions,
        "schedules": side_tables::schedules(data, page.items.iter().map(|s| s.schedule_id)),
        "sites": side_tables::sites(data, page.items.iter().map(|s| s.site_id)),
        "users": side_tables::users(data, page.items.iter().map(|s| s.user_id)),
    })))
}

fn subscription_json(data: &Dataset, subscription: &Subscription) -> Value {
    let text = |name: &str| subscription.field(name, data);
    let mut value = json!({
        "id": subscription.id,
        "subject": subscription.subject,
        "siteId": subscription.site_id,
        "userId": subscription.user_id,
        "scheduleId": subscription.schedule_id,
        "targetId": subscription.target_id,
        "targetType": subscription.target_type.as_str(),
    });
    for key in ["lastSentAt", "runNextAt", "targetName", "targetPath"] {
        if let Val::Str(s) = text(key) {
            value[key] = json!(s);
        }
    }
    value
}

/// `setSubscriptionsSchedule {ids, scheduleId}`: the schedule must be a Subscription
/// schedule; users other than site administrators may move only their own subscriptions.
pub(super) fn set_schedule(state: &mut ServerState, call: &Call) -> Outcome {
    let session = call.session()?;
    let ids = params::ids(call.params, "ids", call.limits)?;
    let schedule = schedules::schedule_for(state, call.params, ScheduledAction::Subscription)?;
    let admin = session_user(state, session)?.administers(session.site);
    let mut failed = Vec::new();
    for requested in &ids {
        let found = requested
            .id
            .and_then(|id| state.data.subscriptions.get_mut(&id))
            .filter(|s| s.site_id == session.site);
        match found {
            Some(subscription) if admin || subscription.user_id == session.user => {
                subscription.schedule_id = schedule
            }
            Some(_) => failed.push(WireError::for_id(
                code::PERMISSION_DENIED,
                requested.text.clone(),
                format!("subscription {} belongs to another user", requested.text),
            )),
            None => failed.push(WireError::for_id(
                code::BAD_PARAM_VALUE,
                requested.text.clone(),
                format!(
                    "subscription {} does not exist on this site",
                    requested.text
                ),
            )),
        }
    }
    Ok(batch_reply(failed))
}

//! Consistency checks for a loaded dataset: every id a row refers to exists, on the right
//! site and of the right kind, so request handlers can rely on it. Problems are listed all
//! at once, each naming the table and row, so a hand-written data file is quick to fix.

use std::collections::HashSet;

use super::dataset::Dataset;
use super::entities::{Id, PRIORITY_RANGE, SITE_ROLES, ScheduledAction, TargetType};

/// At most this many problems are listed; the rest are counted.
const MAX_LISTED: usize = 20;

/// Fails with every problem found, one per line.
pub(crate) fn check(data: &Dataset) -> anyhow::Result<()> {
    let mut problems = Vec::new();
    sites(data, &mut problems);
    users(data, &mut problems);
    content(data, &mut problems);
    schedules(data, &mut problems);
    extract_tasks(data, &mut problems);
    subscriptions(data, &mut problems);
    background_jobs(data, &mut problems);
    access_tokens(data, &mut problems);
    if problems.is_empty() {
        return Ok(());
    }
    let mut text = format!("{} problem(s):", problems.len());
    for problem in problems.iter().take(MAX_LISTED) {
        text.push_str("\n  - ");
        text.push_str(problem);
    }
    if problems.len() > MAX_LISTED {
        text.push_str(&format!("\n  ... and {} more", problems.len() - MAX_LISTED));
    }
    anyhow::bail!(text)
}

fn access_tokens(data: &Dataset, problems: &mut Vec<String>) {
    let mut names = std::collections::HashSet::new();
    for token in &data.access_tokens {
        if token.name.is_empty() || token.secret.is_empty() {
            problems.push("accessTokens: a token needs a name and a secret".to_owned());
        }
        if !names.insert(token.name.as_str()) {
            problems.push(format!(
                "accessTokens: the name {:?} is used twice",
                token.name
            ));
        }
        if !data.users.contains_key(&token.user_id) {
            problems.push(format!(
                "accessTokens: token {:?} belongs to user {}, who does not exist",
                token.name, token.user_id.0
            ));
        }
    }
}

fn sites(data: &Dataset, problems: &mut Vec<String>) {
    if data.sites.is_empty() {
        problems.push("sites: at least one site is needed".to_owned());
    }
    let mut seen = HashSet::new();
    for site in data.sites.values() {
        if !seen.insert(site.url_name.to_lowercase()) {
            problems.push(format!(
                "sites id {}: urlName \"{}\" is used twice",
                site.id, site.url_name
            ));
        }
    }
}

fn users(data: &Dataset, problems: &mut Vec<String>) {
    let mut seen = HashSet::new();
    for user in data.users.values() {
        let row = format!("users id {}", user.id);
        if user.username.is_empty() {
            problems.push(format!("{row}: username is empty"));
        }
        if !seen.insert(user.username.to_lowercase()) {
            problems.push(format!(
                "{row}: username \"{}\" is used twice",
                user.username
            ));
        }
        for (site, role) in &user.site_roles {
            if !data.sites.contains_key(site) {
                problems.push(format!(
                    "{row}: siteRoles names site {site}, which does not exist"
                ));
            }
            if !SITE_ROLES.contains(&role.as_str()) {
                problems.push(format!(
                    "{row}: site role \"{role}\" is not one of {SITE_ROLES:?}"
                ));
            }
        }
        if let Some(site) = user.last_site_id
            && (user.site_role(site).is_none() || !data.sites.contains_key(&site))
        {
            problems.push(format!(
                "{row}: lastSiteId {site} is not a site the user reaches"
            ));
        }
    }
}

fn content(data: &Dataset, problems: &mut Vec<String>) {
    for project in data.projects.values() {
        let row = format!("projects id {}", project.id);
        site_exists(data, &row, project.site_id, problems);
        user_exists(data, &row, project.owner_id, problems);
    }
    let items = data
        .workbooks
        .values()
        .map(|w| ("workbooks", w.id, w.site_id, w.project_id, w.owner_id))
        .chain(
            data.datasources
                .values()
                .map(|d| ("datasources", d.id, d.site_id, d.project_id, d.owner_id)),
        );
    for (table, id, site, project, owner) in items {
        let row = format!("{table} id {id}");
        site_exists(data, &row, site, problems);
        user_exists(data, &row, owner, problems);
        if data
            .projects
            .get(&project)
            .is_none_or(|p| p.site_id != site)
        {
            problems.push(format!(
                "{row}: projectId {project} is not a project of site {site}"
            ));
        }
    }
}

fn schedules(data: &Dataset, problems: &mut Vec<String>) {
    let mut seen = HashSet::new();
    for schedule in data.schedules.values() {
        let row = format!("schedules id {}", schedule.id);
        if schedule.name.trim().is_empty() {
            problems.push(format!("{row}: name is empty"));
        }
        if !seen.insert(schedule.name.to_lowercase()) {
            problems.push(format!("{row}: name \"{}\" is used twice", schedule.name));
        }
        if let Err(e) = schedule.schedule_details.validated(schedule.schedule_type) {
            let message = e.message.unwrap_or_default();
            problems.push(format!(
                "{row}: scheduleDetails for a {} schedule: {message}",
                schedule.schedule_type.as_str()
            ));
        }
        if !PRIORITY_RANGE.contains(&schedule.priority) {
            problems.push(format!(
                "{row}: priority {} is not 1-100",
                schedule.priority
            ));
        }
    }
}

fn extract_tasks(data: &Dataset, problems: &mut Vec<String>) {
    let mut seen = HashSet::new();
    for task in data.extract_tasks.values() {
        let row = format!("extractTasks id {}", task.id);
        site_exists(data, &row, task.site_id, problems);
        schedule_is(
            data,
            &row,
            task.schedule_id,
            ScheduledAction::Extract,
            problems,
        );
        let target_site = match task.target_type {
            TargetType::Workbook => data.workbooks.get(&task.target_id).map(|w| w.site_id),
            TargetType::Datasource => data.datasources.get(&task.target_id).map(|d| d.site_id),
        };
        if target_site != Some(task.site_id) {
            let kind = task.target_type.as_str();
            problems.push(format!(
                "{row}: target {kind} {} is not on site {}",
                task.target_id, task.site_id
            ));
        }
        if !seen.insert((task.target_type, task.target_id, task.task_type)) {
            problems.push(format!(
                "{row}: a second {} task for the same target",
                task.task_type.as_str()
            ));
        }
        if !PRIORITY_RANGE.contains(&task.priority) {
            problems.push(format!("{row}: priority {} is not 1-100", task.priority));
        }
    }
}

fn subscriptions(data: &Dataset, problems: &mut Vec<String>) {
    for subscription in data.subscriptions.values() {
        let row = format!("subscriptions id {}", subscription.id);
        site_exists(data, &row, subscription.site_id, problems);
        schedule_is(
            data,
            &row,
            subscription.schedule_id,
            ScheduledAction::Subscription,
            problems,
        );
        let reaches = data
            .users
            .get(&subscription.user_id)
            .and_then(|u| u.site_role(subscription.site_id));
        if reaches.is_none() {
            problems.push(format!(
                "{row}: userId {} is not a user of the site",
                subscription.user_id
            ));
        }
        if data
            .workbooks
            .get(&subscription.target_id)
            .is_none_or(|w| w.site_id != subscription.site_id)
        {
            problems.push(format!(
                "{row}: workbook {} is not on site {}",
                subscription.target_id, subscription.site_id
            ));
        }
    }
}

/// A job outlives its task and target (a dumped state after a delete must load again),
/// but not its site.
fn background_jobs(data: &Dataset, problems: &mut Vec<String>) {
    for job in data.background_jobs.values() {
        site_exists(
            data,
            &format!("backgroundJobs id {}", job.id),
            job.site_id,
            problems,
        );
    }
}

fn site_exists(data: &Dataset, row: &str, site: Id, problems: &mut Vec<String>) {
    if !data.sites.contains_key(&site) {
        problems.push(format!("{row}: siteId {site} does not exist"));
    }
}

fn user_exists(data: &Dataset, row: &str, user: Id, problems: &mut Vec<String>) {
    if !data.users.contains_key(&user) {
        problems.push(format!("{row}: ownerId {user} does not exist"));
    }
}

fn schedule_is(
    data: &Dataset,
    row: &str,
    schedule: Id,
    action: ScheduledAction,
    problems: &mut Vec<String>,
) {
    match data.schedules.get(&schedule) {
        None => problems.push(format!("{row}: scheduleId {schedule} does not exist")),
        Some(s) if s.scheduled_action != action => problems.push(format!(
            "{row}: schedule {schedule}'s scheduledAction is {}, not {}",
            s.scheduled_action.as_str(),
            action.as_str()
        )),
        Some(_) => {}
    }
}

//! The side tables a list result carries beside its items (docs/protocol.md §3): each related user,
//! project, schedule, site, workbook or datasource of the page once, in order of first
//! appearance, so items can refer to them by id.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::emulator::dataset::Dataset;
use crate::emulator::entities::{Id, TargetType};

/// Ids in order of first appearance, each once.
fn unique(ids: impl Iterator<Item = Id>) -> Vec<Id> {
    let mut seen = HashSet::new();
    ids.filter(|id| seen.insert(*id)).collect()
}

/// `users`: `{id, username, displayName, domainName, serverAdmin, readOnly}`.
pub(super) fn users(data: &Dataset, ids: impl Iterator<Item = Id>) -> Vec<Value> {
    let users = unique(ids).into_iter().filter_map(|id| data.users.get(&id));
    users
        .map(|user| {
            json!({
                "id": user.id,
                "username": user.username,
                "displayName": user.display_name,
                "domainName": "local",
                "serverAdmin": user.server_admin,
                "readOnly": false,
            })
        })
        .collect()
}

/// `sites`: `{id, name, urlName, luid}`.
pub(super) fn sites(data: &Dataset, ids: impl Iterator<Item = Id>) -> Vec<Value> {
    let sites = unique(ids).into_iter().filter_map(|id| data.sites.get(&id));
    sites
        .map(|s| json!({ "id": s.id, "name": s.name, "urlName": s.url_name, "luid": s.luid }))
        .collect()
}

/// `schedules`: `{id, name}`.
pub(super) fn schedules(data: &Dataset, ids: impl Iterator<Item = Id>) -> Vec<Value> {
    let schedules = unique(ids)
        .into_iter()
        .filter_map(|id| data.schedules.get(&id));
    schedules
        .map(|s| json!({ "id": s.id, "name": s.name }))
        .collect()
}

/// `projects`: `{id, name}`.
pub(super) fn projects(data: &Dataset, ids: impl Iterator<Item = Id>) -> Vec<Value> {
    let projects = unique(ids)
        .into_iter()
        .filter_map(|id| data.projects.get(&id));
    projects
        .map(|p| json!({ "id": p.id, "name": p.name }))
        .collect()
}

/// `workbooks` or `datasources`: `{id, name}` of the targets of one type.
pub(super) fn targets(
    data: &Dataset,
    kind: TargetType,
    targets: impl Iterator<Item = (TargetType, Id)>,
) -> Vec<Value> {
    let ids = unique(targets.filter(|(k, _)| *k == kind).map(|(_, id)| id));
    let named = ids.into_iter().filter_map(|id| match kind {
        TargetType::Workbook => data.workbooks.get(&id).map(|w| (id, &w.name)),
        TargetType::Datasource => data.datasources.get(&id).map(|d| (id, &d.name)),
    });
    named
        .map(|(id, name)| json!({ "id": id, "name": name }))
        .collect()
}

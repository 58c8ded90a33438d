//! What lives on a site (docs/protocol.md §4.4, §4.5): workbooks, datasources, projects and users of
//! the session's site, and the names of the sites the user can reach. Read-only here.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::{Call, Outcome, Reply, session_user, side_tables};
use crate::emulator::dataset::Dataset;
use crate::emulator::entities::{Datasource, Id, Project, Site, User, Workbook};
use crate::emulator::listing::{self, Listed, Val};
use crate::emulator::state::ServerState;

fn owner_name(data: &Dataset, owner: Id) -> Val<'_> {
    Val::opt_text(data.users.get(&owner).map(|u| u.display_name.as_str()))
}

fn project_name(data: &Dataset, project: Id) -> Val<'_> {
    Val::opt_text(data.projects.get(&project).map(|p| p.name.as_str()))
}

fn tags(tags: &[String]) -> Val<'_> {
    Val::List(tags.iter().map(|t| Val::text(t)).collect())
}

impl Listed<Dataset> for Workbook {
    const FIELDS: &'static [&'static str] = &[
        "id",
        "name",
        "ownerId",
        "projectId",
        "size",
        "sheetCount",
        "updatedAt",
        "hasExtracts",
        "hasAlert",
        "tags",
        "hitsTotal",
        "favoritesTotal",
        "ownerName",
        "projectName",
        "repositoryUrl",
    ];
    const TEXT_FIELDS: &'static [&'static str] = &["name", "tags"];

    fn field<'a>(&'a self, name: &str, data: &'a Dataset) -> Val<'a> {
        match name {
            "id" => Val::id(self.id),
            "name" => Val::text(&self.name),
            "ownerId" => Val::id(self.owner_id),
            "projectId" => Val::id(self.project_id),
            "size" => Val::num(self.size as f64),
            "sheetCount" => Val::num(self.sheet_count),
            "updatedAt" => Val::text(&self.updated_at),
            "hasExtracts" => Val::Bool(self.has_extracts),
            "hasAlert" => Val::Bool(false),
            "tags" => tags(&self.tags),
            "hitsTotal" => Val::num(self.hits_total as f64),
            "favoritesTotal" => Val::num(0),
            "ownerName" => owner_name(data, self.owner_id),
            "projectName" => project_name(data, self.project_id),
            "repositoryUrl" => Val::text(&self.repository_url),
            _ => Val::Null,
        }
    }
}

/// `getWorkbooks`: the session site's workbooks.
pub(super) fn workbooks(state: &mut ServerState, call: &Call) -> Outcome {
    let site = call.session()?.site;
    let data = &state.data;
    let on_site = || data.workbooks.values().filter(move |w| w.site_id == site);
    let page = listing::list(on_site(), call.params, data, call.limits)?;
    let workbooks: Vec<Value> = page.items.iter().map(|w| workbook_json(w)).collect();
    let users = side_tables::users(data, page.items.iter().map(|w| w.owner_id));
    let projects = side_tables::projects(data, page.items.iter().map(|w| w.project_id));
    let max_hits = on_site().map(|w| w.hits_total).max().unwrap_or(0);
    Ok(Reply::ok(json!({
        "totalCount": page.total,
        "moreItems": page.more,
        "workbooks": workbooks,
        "users": users,
        "projects": projects,
        "favorites": [],
        "maxStats": { "hitsTotal": max_hits, "favoritesTotal": 0, "subscriptionsTotal": 0 },
    })))
}

fn workbook_json(workbook: &Workbook) -> Value {
    json!({
        "id": workbook.id,
        "name": workbook.name,
        "size": workbook.size,
        "ownerId": workbook.owner_id,
        "projectId": workbook.project_id,
        "displayTabs": workbook.display_tabs,
        "updatedAt": workbook.updated_at,
        "repositoryUrl": workbook.repository_url,
        "sheetCount": workbook.sheet_count,
        "hasExtracts": workbook.has_extracts,
        "hasAlert": false,
        "tags": workbook.tags,
        "usageInfo": { "hitsTotal": workbook.hits_total, "favoritesTotal": 0, "subscriptionsTotal": 0 },
        "downloadUrl": format!("/workbooks/{}.twbx", workbook.repository_url),
        "thumbnailUrl": format!("vizportal/api/rest/v1/workbooks/{}/thumbnail", workbook.id),
    })
}

impl Listed<Dataset> for Datasource {
    const FIELDS: &'static [&'static str] = &[
        "id",
        "name",
        "ownerId",
        "projectId",
        "connectionType",
        "serverName",
        "serverPort",
        "databaseUsername",
        "isPublished",
        "hasExtracts",
        "lastRefreshedAt",
        "updatedAt",
        "tags",
        "hitsTotal",
        "ownerName",
        "projectName",
    ];
    const TEXT_FIELDS: &'static [&'static str] = &["name", "serverName", "tags"];

    fn field<'a>(&'a self, name: &str, data: &'a Dataset) -> Val<'a> {
        match name {
            "id" => Val::id(self.id),
            "name" => Val::text(&self.name),
            "ownerId" => Val::id(self.owner_id),
            "projectId" => Val::id(self.project_id),
            "connectionType" => Val::text(&self.connection_type),
            "serverName" => Val::text(&self.server_name),
            "serverPort" => self.server_port.map_or(Val::Null, Val::num),
            "databaseUsername" => Val::text(&self.database_username),
            "isPublished" => Val::Bool(self.is_published),
            "hasExtracts" => Val::Bool(self.has_extracts),
            "lastRefreshedAt" => Val::opt_text(self.last_refreshed_at.as_deref()),
            "updatedAt" => Val::text(&self.updated_at),
            "tags" => tags(&self.tags),
            "hitsTotal" => Val::num(self.hits_total as f64),
            "ownerName" => owner_name(data, self.owner_id),
            "projectName" => project_name(data, self.project_id),
            _ => Val::Null,
        }
    }
}

/// `getDatasources`: the session site's datasources.
pub(super) fn datasources(state: &mut ServerState, call: &Call) -> Outcome {
    let site = call.session()?.site;
    let data = &state.data;
    let page = listing::list(
        data.datasources.values().filter(|d| d.site_id == site),
        call.params,
        data,
        call.limits,
    )?;
    let datasources: Vec<Value> = page.items.iter().map(|d| datasource_json(d)).collect();
    let users = side_tables::users(data, page.items.iter().map(|d| d.owner_id));
    let projects = side_tables::projects(data, page.items.iter().map(|d| d.project_id));
    Ok(Reply::ok(json!({
        "totalCount": page.total,
        "moreItems": page.more,
        "datasources": datasources,
        "users": users,
        "projects": projects,
        "favorites": [],
        "workbooks": [],
    })))
}

fn datasource_json(datasource: &Datasource) -> Value {
    let (display_name, is_file) = match datasource.connection_type.as_str() {
        "sqlserver" => ("Microsoft SQL Server", false),
        "postgres" => ("PostgreSQL", false),
        "snowflake" => ("Snowflake", false),
        "oracle" => ("Oracle", false),
        "salesforce" => ("Salesforce", false),
        "excel-direct" => ("Microsoft Excel", true),
        "textscan" => ("Text File", true),
        other => (other, false),
    };
    let mut details = json!({
        "type": if is_file { "file" } else { "database" },
        "serverName": datasource.server_name,
        "databaseUsername": datasource.database_username,
        "hasEmbeddedPassword": !is_file,
    });
    if let Some(port) = datasource.server_port {
        details["serverPort"] = json!(port.to_string());
    }
    let mut value = json!({
        "id": datasource.id,
        "name": datasource.name,
        "ownerId": datasource.owner_id,
        "projectId": datasource.project_id,
        "connectionType": datasource.connection_type,
        "connectionTypeDisplayName": display_name,
        "connectionDetails": details,
        "hasExtracts": datasource.has_extracts,
        "refreshMode": "Server",
        "isPublished": datasource.is_published,
        "updatedAt": datasource.updated_at,
        "tags": datasource.tags,
        "usageInfo": { "hitsTotal": datasource.hits_total, "favoritesTotal": 0 },
    });
    if let Some(at) = &datasource.last_refreshed_at {
        value["lastRefreshedAt"] = json!(at);
    }
    value
}

/// Per project: (workbooks, views, datasources).
struct ProjectCounts<'d> {
    data: &'d Dataset,
    counts: HashMap<Id, (u64, u64, u64)>,
}

impl<'d> Listed<ProjectCounts<'d>> for Project {
    const FIELDS: &'static [&'static str] = &[
        "id",
        "name",
        "description",
        "ownerId",
        "ownerName",
        "createdAt",
        "workbookCount",
        "viewCount",
        "datasourceCount",
    ];
    const TEXT_FIELDS: &'static [&'static str] = &["name", "description"];

    fn field<'a>(&'a self, name: &str, ctx: &'a ProjectCounts<'d>) -> Val<'a> {
        let (workbooks, views, datasources) = ctx.counts.get(&self.id).copied().unwrap_or_default();
        match name {
            "id" => Val::id(self.id),
            "name" => Val::text(&self.name),
            "description" => Val::text(&self.description),
            "ownerId" => Val::id(self.owner_id),
            "ownerName" => owner_name(ctx.data, self.owner_id),
            "createdAt" => Val::text(&self.created_at),
            "workbookCount" => Val::num(workbooks as f64),
            "viewCount" => Val::num(views as f64),
            "datasourceCount" => Val::num(datasources as f64),
            _ => Val::Null,
        }
    }
}

/// `getProjects`: the session site's projects with content counts.
pub(super) fn projects(state: &mut ServerState, call: &Call) -> Outcome {
    let site = call.session()?.site;
    let data = &state.data;
    let mut counts: HashMap<Id, (u64, u64, u64)> = HashMap::new();
    for workbook in data.workbooks.values().filter(|w| w.site_id == site) {
        let entry = counts.entry(workbook.project_id).or_default();
        entry.0 += 1;
        entry.1 += u64::from(workbook.sheet_count);
    }
    for datasource in data.datasources.values().filter(|d| d.site_id == site) {
        counts.entry(datasource.project_id).or_default().2 += 1;
    }
    let ctx = ProjectCounts { data, counts };
    let page = listing::list(
        data.projects.values().filter(|p| p.site_id == site),
        call.params,
        &ctx,
        call.limits,
    )?;
    let projects: Vec<Value> = page
        .items
        .iter()
        .map(|p| {
            let (workbooks, views, datasources) =
                ctx.counts.get(&p.id).copied().unwrap_or_default();
            json!({
                "id": p.id,
                "name": p.name,
                "description": p.description,
                "ownerId": p.owner_id,
                "createdAt": p.created_at,
                "controlledPermissionsEnabled": false,
                "workbookCount": workbooks,
                "viewCount": views,
                "datasourceCount": datasources,
            })
        })
        .collect();
    let users = side_tables::users(data, page.items.iter().map(|p| p.owner_id));
    Ok(Reply::ok(
        json!({ "totalCount": page.total, "moreItems": page.more, "projects": projects, "users": users }),
    ))
}

impl Listed<Id> for User {
    const FIELDS: &'static [&'static str] = &[
        "id",
        "username",
        "name",
        "displayName",
        "email",
        "siteRole",
        "serverAdmin",
        "lastSignIn",
        "domainName",
        "groupIds",
    ];
    const TEXT_FIELDS: &'static [&'static str] = &["username", "displayName", "email"];

    fn field<'a>(&'a self, name: &str, site: &'a Id) -> Val<'a> {
        match name {
            "id" => Val::id(self.id),
            "username" | "name" => Val::text(&self.username),
            "displayName" => Val::text(&self.display_name),
            "email" => Val::opt_text(self.email.as_deref()),
            "siteRole" => Val::opt_text(self.site_role(*site)),
            "serverAdmin" => Val::Bool(self.server_admin),
            "lastSignIn" => Val::opt_text(self.last_sign_in.as_deref()),
            "domainName" => Val::text("local"),
            "groupIds" => Val::List(Vec::new()),
            _ => Val::Null,
        }
    }
}

/// `getUsers`: the users of the session's site (server administrators reach every site).
pub(super) fn users(state: &mut ServerState, call: &Call) -> Outcome {
    let site = call.session()?.site;
    let data = &state.data;
    let members = data.users.values().filter(|u| u.site_role(site).is_some());
    let page = listing::list(members, call.params, &site, call.limits)?;
    let users: Vec<Value> = page
        .items
        .iter()
        .map(|u| {
            let mut value = json!({
                "id": u.id,
                "username": u.username,
                "displayName": u.display_name,
                "domainName": "local",
                "siteRole": u.site_role(site).unwrap_or_default(),
                "groupCount": 0,
                "authSetting": "ServerDefault",
                "serverAdmin": u.server_admin,
                "readOnly": false,
            });
            if let Some(at) = &u.last_sign_in {
                value["lastSignIn"] = json!(at);
            }
            if let Some(email) = &u.email {
                value["email"] = json!(email);
            }
            value
        })
        .collect();
    Ok(Reply::ok(
        json!({ "totalCount": page.total, "moreItems": page.more, "users": users }),
    ))
}

impl Listed<()> for Site {
    const FIELDS: &'static [&'static str] = &["id", "name", "urlName", "luid"];
    const TEXT_FIELDS: &'static [&'static str] = &["name", "urlName"];

    fn field<'a>(&'a self, name: &str, _: &'a ()) -> Val<'a> {
        match name {
            "id" => Val::id(self.id),
            "name" => Val::text(&self.name),
            "urlName" => Val::text(&self.url_name),
            "luid" => Val::text(&self.luid),
            _ => Val::Null,
        }
    }
}

/// `getSiteNamesAcrossAllPods {page}`: the sites the user can reach, by name unless the
/// call orders otherwise.
pub(super) fn site_names(state: &mut ServerState, call: &Call) -> Outcome {
    let session = call.session()?;
    let user = session_user(state, session)?;
    let mut params: Map<String, Value> = call.params.clone();
    params
        .entry("order")
        .or_insert_with(|| json!([{ "field": "name", "ascending": true }]));
    let reachable = state
        .data
        .sites
        .values()
        .filter(|s| user.site_role(s.id).is_some());
    let page = listing::list(reachable, &params, &(), call.limits)?;
    let names: Vec<Value> = page
        .items
        .iter()
        .map(|s| json!({ "name": s.name, "urlName": s.url_name }))
        .collect();
    Ok(Reply::ok(
        json!({ "totalCount": page.total, "moreItems": page.more, "siteNames": names }),
    ))
}

//! `vizscript snapshot`: reads what scripts work on, site by site, through the gated client
//! (only `get*` methods and the session calls `getSessionInfo` and `switchSite`), and writes
//! it in the emulator's data format. Lists are paged concurrently as scripts' lists are.
//! No password, token, cookie or XSRF value is ever put in it: users carry no password.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::emulator::FORMAT_VERSION;
use crate::vizportal::{Client, SideTables, VizportalError};
use crate::wire::method;

/// Starts a progress report for one list (its label); the returned function is told the
/// items fetched so far and the total when known.
pub type BarFn<'a> = &'a dyn Fn(&str) -> Box<dyn Fn(usize, Option<usize>) + Sync>;

/// The role a server administrator shows on a site where no role of their own is stored.
const SERVER_ADMIN_ROLE: &str = "ServerAdministrator";

/// A row of a long table, kept as its JSON text: 100,000 tasks take a tenth of the memory
/// they take as trees.
type Row = Box<RawValue>;

/// The tables of the data format, filled site by site.
#[derive(Default)]
struct Tables {
    sites: Vec<Value>,
    users: BTreeMap<String, Value>,
    projects: Vec<Row>,
    workbooks: Vec<Row>,
    datasources: Vec<Row>,
    extract_tasks: Vec<Row>,
    subscriptions: Vec<Row>,
}

/// A snapshot as written: the data format's members in its order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Captured {
    format_version: u32,
    snapshot: Value,
    sites: Vec<Value>,
    users: Vec<Value>,
    projects: Vec<Row>,
    workbooks: Vec<Row>,
    datasources: Vec<Row>,
    schedules: Vec<Value>,
    extract_tasks: Vec<Row>,
    subscriptions: Vec<Row>,
}

/// Capture every site the user can reach, then return the session to the site it was on.
/// The result is the emulator's data format, as JSON text (check it with
/// `Dataset::from_text`).
pub fn capture(client: &Client, bar: BarFn<'_>) -> Result<String, VizportalError> {
    let session = client.session();
    let start = session.info();
    let site_names = list(
        client,
        method::GET_SITE_NAMES_ACROSS_ALL_PODS,
        "siteNames",
        bar,
    )?;
    let schedules = list(client, method::GET_SCHEDULES, "schedules", bar)?;
    let mut tables = Tables::default();
    for site in &site_names {
        let url_name = text(&site["urlName"]);
        let info = if session.info().site_url_name.eq_ignore_ascii_case(&url_name) {
            client.call(method::GET_SESSION_INFO, json!({}))?
        } else {
            session.switch_site(&url_name)?
        };
        capture_site(client, &info["site"], &mut tables, bar)?;
    }
    if !session
        .info()
        .site_url_name
        .eq_ignore_ascii_case(&start.site_url_name)
    {
        session.switch_site(&start.site_url_name)?;
    }
    let captured = Captured {
        format_version: FORMAT_VERSION,
        snapshot: json!({
            "server": session.server(),
            "takenAt": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "username": start.username,
            "siteUrlName": start.site_url_name,
        }),
        sites: tables.sites,
        users: tables.users.into_values().collect(),
        projects: tables.projects,
        workbooks: tables.workbooks,
        datasources: tables.datasources,
        schedules: schedules.iter().map(schedule).collect(),
        extract_tasks: tables.extract_tasks,
        subscriptions: tables.subscriptions,
    };
    // Plain maps, strings, numbers and JSON text: encoding cannot fail.
    Ok(serde_json::to_string(&captured).unwrap_or_default())
}

/// The lists of the site the session is on.
fn capture_site(
    client: &Client,
    site: &Value,
    tables: &mut Tables,
    bar: BarFn<'_>,
) -> Result<(), VizportalError> {
    let site_id = text(&site["id"]);
    tables.sites.push(json!({
        "id": site_id,
        "name": text(&site["name"]),
        "urlName": text(&site["urlName"]),
        "luid": text(&site["luid"]),
    }));
    for user in list(client, method::GET_USERS, "users", bar)? {
        add_user(&mut tables.users, &user, &site_id);
    }
    // Each list's rows in the data format, marked with the site they were listed on, made
    // as each page arrives (the server's rows, with every field, are not all held).
    let rows = |method: &str, items: &str, convert: fn(&Value) -> Value| {
        let on_site = |wire: &Value| {
            let mut row = convert(wire);
            row["siteId"] = json!(site_id);
            row
        };
        let page = |listed: Vec<Value>, _: &SideTables| {
            // A tree of maps, strings and numbers always encodes.
            let rows = listed.iter().map(on_site);
            rows.map(|row| serde_json::value::to_raw_value(&row).unwrap_or_default())
                .collect()
        };
        let report = bar(method);
        client.list_all(method, &json!({}), items, &page, &*report)
    };
    let t = &mut *tables;
    t.projects
        .extend(rows(method::GET_PROJECTS, "projects", project)?);
    t.workbooks
        .extend(rows(method::GET_WORKBOOKS, "workbooks", workbook)?);
    t.datasources
        .extend(rows(method::GET_DATASOURCES, "datasources", datasource)?);
    t.extract_tasks
        .extend(rows(method::GET_EXTRACT_TASKS, "tasks", task)?);
    let subscriptions = rows(method::GET_SUBSCRIPTIONS, "subscriptions", subscription)?;
    t.subscriptions.extend(subscriptions);
    Ok(())
}

/// Every item of a list method, as the server sent them.
fn list(
    client: &Client,
    method: &str,
    items_key: &str,
    bar: BarFn<'_>,
) -> Result<Vec<Value>, VizportalError> {
    let report = bar(method);
    let plain = |items: Vec<Value>, _: &SideTables| items;
    client.list_all(method, &json!({}), items_key, &plain, &*report)
}

/// A user as `getUsers` shows them on one site, merged into the users seen on others.
fn add_user(users: &mut BTreeMap<String, Value>, wire: &Value, site_id: &str) {
    let id = text(&wire["id"]);
    let entry = users.entry(id.clone()).or_insert_with(|| {
        let mut user = json!({
            "id": id,
            "username": text(&wire["username"]),
            "displayName": text(&wire["displayName"]),
            "serverAdmin": wire["serverAdmin"].as_bool().unwrap_or(false),
            "siteRoles": {},
        });
        copy(wire, &mut user, &["email", "lastSignIn"]);
        user
    });
    let role = text(&wire["siteRole"]);
    if !role.is_empty() && role != SERVER_ADMIN_ROLE {
        entry["siteRoles"][site_id] = json!(role);
    }
}

fn project(wire: &Value) -> Value {
    pick(wire, &["id", "name", "description", "ownerId", "createdAt"])
}

fn workbook(wire: &Value) -> Value {
    let mut row = pick(
        wire,
        &[
            "id",
            "projectId",
            "ownerId",
            "name",
            "repositoryUrl",
            "size",
            "sheetCount",
            "displayTabs",
            "hasExtracts",
            "updatedAt",
            "tags",
        ],
    );
    row["hitsTotal"] = wire["usageInfo"]["hitsTotal"].clone();
    without_nulls(row)
}

fn datasource(wire: &Value) -> Value {
    let mut row = pick(
        wire,
        &[
            "id",
            "projectId",
            "ownerId",
            "name",
            "connectionType",
            "isPublished",
            "hasExtracts",
            "updatedAt",
            "lastRefreshedAt",
            "tags",
        ],
    );
    let details = &wire["connectionDetails"];
    row["serverName"] = details["serverName"].clone();
    row["databaseUsername"] = details["databaseUsername"].clone();
    row["serverPort"] = match &details["serverPort"] {
        Value::String(port) => port.parse::<u16>().map_or(Value::Null, Value::from),
        other => other.clone(),
    };
    row["hitsTotal"] = wire["usageInfo"]["hitsTotal"].clone();
    without_nulls(row)
}

/// A schedule as the data format holds it: details in Tableau's spelling (a server may
/// answer in the API guide's), and, from a server that does not show `enabled`, enabled
/// when it shows a next run (a disabled schedule shows none).
fn schedule(wire: &Value) -> Value {
    let row = pick(
        wire,
        &[
            "id",
            "name",
            "scheduledAction",
            "scheduleType",
            "scheduleDetails",
            "priority",
            "parallel",
            "enabled",
            "runNextAt",
        ],
    );
    crate::wire::schedule::listed_as_read(row)
}

fn task(wire: &Value) -> Value {
    pick(
        wire,
        &[
            "id",
            "scheduleId",
            "targetType",
            "targetId",
            "type",
            "priority",
            "lastRunAt",
        ],
    )
}

fn subscription(wire: &Value) -> Value {
    pick(
        wire,
        &[
            "id",
            "userId",
            "scheduleId",
            "subject",
            "targetType",
            "targetId",
            "lastSentAt",
        ],
    )
}

/// The named fields the server sent (ids as text), leaving out those it did not.
fn pick(wire: &Value, keys: &[&str]) -> Value {
    let mut row = Value::Object(Map::new());
    copy(wire, &mut row, keys);
    row
}

fn copy(wire: &Value, row: &mut Value, keys: &[&str]) {
    for key in keys {
        match wire.get(*key) {
            None | Some(Value::Null) => {}
            Some(Value::Number(n)) if key.ends_with("Id") || *key == "id" => {
                row[*key] = json!(n.to_string());
            }
            Some(value) => row[*key] = value.clone(),
        }
    }
}

fn without_nulls(mut row: Value) -> Value {
    if let Some(map) = row.as_object_mut() {
        map.retain(|_, v| !v.is_null());
    }
    row
}

/// An id or name as text, whether the server sent a string or a number.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

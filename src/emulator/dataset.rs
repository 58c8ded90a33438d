//! The emulated server's whole state as one value: what `--data FILE` loads, what
//! `GET /__emulator/state` dumps, and what the request handlers change. Tables are keyed by
//! id so a lookup or a delete among 100,000 tasks stays cheap.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::entities::{
    AccessToken, Datasource, ExtractTask, Id, Project, Schedule, Site, Subscription, User, Workbook,
};
use super::jobs::BackgroundJob;
use super::{recurrence, timestamp, validate};

/// The state of an emulated Tableau Server (also the format of `vizscript snapshot`;
/// docs/data-format.md says what a snapshot holds and how the format is versioned).
///
/// # Data file format (`vizscript emulator --data FILE`)
///
/// One JSON object with camelCase keys. Ids are decimal strings (`"12"`; plain numbers
/// are accepted too) and unique per table; timestamps are ISO 8601
/// (`"2017-01-06T18:54:51.095Z"`). Unknown keys are an error, so typos are caught.
/// `GET /__emulator/state` writes this same format, so a dumped state loads again.
///
/// ```json
/// {
///   "formatVersion": 1,
///   "snapshot": {"server": "https://tableau.example.com", "takenAt": "2026-11-30T08:00:00.000Z",
///                "username": "admin", "siteUrlName": "finance"},
///   "sites": [{"id": "1", "name": "Default", "urlName": "", "luid": "ff66e08b-..."}],
///   "users": [{"id": "1", "username": "admin", "password": "admin", "displayName": "Admin",
///              "email": "admin@example.com", "serverAdmin": true,
///              "siteRoles": {"2": "Publisher"}, "lastSiteId": "2"}],
///   "projects": [{"id": "1", "siteId": "1", "name": "Default", "description": "",
///                 "ownerId": "1", "createdAt": "..."}],
///   "workbooks": [{"id": "1", "siteId": "1", "projectId": "1", "ownerId": "1",
///                  "name": "Sales Pipeline", "repositoryUrl": "SalesPipeline", "size": 1024,
///                  "sheetCount": 3, "displayTabs": true, "hasExtracts": true,
///                  "hitsTotal": 12, "updatedAt": "...", "tags": []}],
///   "datasources": [{"id": "1", "siteId": "1", "projectId": "1", "ownerId": "1",
///                    "name": "Superstore Extract", "connectionType": "sqlserver",
///                    "serverName": "sql01", "serverPort": 1433, "databaseUsername": "svc",
///                    "isPublished": true, "hasExtracts": true, "hitsTotal": 3,
///                    "updatedAt": "...", "lastRefreshedAt": "...", "tags": []}],
///   "schedules": [{"id": "1", "name": "Weekday early mornings", "scheduledAction": "Extract",
///                  "scheduleType": "Weekly",
///                  "scheduleDetails": {"startTime": 240,
///                                      "recurrenceDaysOfWeek": ["Mon", "Tue", "Wed", "Thu", "Fri"]},
///                  "priority": 50, "parallel": true, "enabled": true,
///                  "runNextAt": "2017-01-09T04:00:00.000+00:00"}],
///   "extractTasks": [{"id": "1", "siteId": "1", "scheduleId": "1", "targetType": "Workbook",
///                     "targetId": "1", "type": "RefreshExtract", "priority": 50,
///                     "lastRunAt": "...", "runCount": 0}],
///   "subscriptions": [{"id": "1", "siteId": "1", "userId": "1", "scheduleId": "11",
///                      "subject": "Weekly Sales Pipeline", "targetType": "workbook",
///                      "targetId": "1", "lastSentAt": "..."}],
///   "accessTokens": [{"name": "vizscript-demo", "secret": "...", "userId": "1"}]
/// }
/// ```
///
/// * `formatVersion` (optional): the version of this format, [`FORMAT_VERSION`]; a file
///   written by a newer vizscript (a higher number) is refused. `vizscript snapshot` and
///   `GET /__emulator/state` write it.
/// * `snapshot` (optional): where a `vizscript snapshot` was taken from: the server URL,
///   when (`takenAt`), the user who took it and the site the session was on. A rehearsal
///   (`--rehearse`) signs in as that user on that site. Informational otherwise.
/// * `sites` (at least one): `urlName` `""` is the Default site; url names are unique
///   ignoring case; a `luid` left out is made up from the id.
/// * `users`: `password` in plain text (test data); absent or `""` means the user cannot
///   sign in with a password (a snapshot holds no password). A `serverAdmin` reaches every site as
///   `ServerAdministrator`; others reach the sites in `siteRoles` (site id to one of
///   `SiteAdministrator`, `Publisher`, `Interactor`, `ViewerWithPublish`, `Viewer`,
///   `UnlicensedWithPublish`, `Unlicensed`). `lastSiteId` is where a login without
///   `siteUrlName` lands; optional `lastSignIn`; `displayName` defaults to the username.
///   Usernames are unique ignoring case.
/// * `projects`, `workbooks`, `datasources`: belong to a site; their project is on the same
///   site; owners are users. Optional fields default to 0, `false`, `""` or `[]`, except
///   `sheetCount` (1), `displayTabs` and `isPublished` (true).
/// * `schedules` are server-wide. `scheduledAction` is `Extract` or `Subscription`;
///   `scheduleType` is `Hourly` (`startTime`, `endTime`, `recurrenceMinutes` in 15, 30, 60,
///   120, 240, 360, 480, 720), `Daily` (`startTime`), `Weekly` (`startTime`,
///   `recurrenceDaysOfWeek` from `Sun`..`Sat`) or `Monthly` (`startTime`,
///   `recurrenceDayOfMonth` `"1"`..`"31"`); times are minutes after midnight UTC.
///   `priority` 1-100 (default 50), `parallel` and `enabled` default true; `runNextAt` is
///   computed from the details when absent.
/// * `extractTasks`: on an `Extract` schedule; `targetType` `Workbook` or `Datasource`, a
///   target on the task's site; `type` `RefreshExtract` or `IncrementExtract`, at most one
///   task per target and type; `priority` 1-100 (default 50); `runCount` counts
///   `runExtractTasks` calls that ran the task.
/// * `subscriptions`: a user of the site e-mailed a workbook (`targetType` `workbook`) of
///   the same site on a `Subscription` schedule.
/// * `backgroundJobs` (optional): jobs that `runExtractTasks`, `runSchedules` and firing
///   schedules queued: `id`, `siteId`, `taskId`, `targetType`, `targetId`, `targetName`,
///   `type`, `priority`, `requestedAt`, `durationMs`, `outcome` (`Completed` or `Failed`)
///   and `settled` (the task's `lastRunAt` was set). Their status is computed from the
///   time: `Pending` for the first third of `durationMs`, then `InProgress`, then the
///   outcome.
/// * `accessTokens`: personal access tokens for REST `auth/signin`; names are unique, each
///   belongs to a user.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Dataset {
    #[serde(default = "current_format")]
    pub(crate) format_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) snapshot: Option<SnapshotOrigin>,
    #[serde(with = "table")]
    pub(crate) sites: BTreeMap<Id, Site>,
    #[serde(with = "table")]
    pub(crate) users: BTreeMap<Id, User>,
    #[serde(default, with = "table")]
    pub(crate) projects: BTreeMap<Id, Project>,
    #[serde(default, with = "table")]
    pub(crate) workbooks: BTreeMap<Id, Workbook>,
    #[serde(default, with = "table")]
    pub(crate) datasources: BTreeMap<Id, Datasource>,
    #[serde(default, with = "table")]
    pub(crate) schedules: BTreeMap<Id, Schedule>,
    #[serde(default, with = "table")]
    pub(crate) extract_tasks: BTreeMap<Id, ExtractTask>,
    #[serde(default, with = "table")]
    pub(crate) subscriptions: BTreeMap<Id, Subscription>,
    #[serde(default, with = "table")]
    pub(crate) background_jobs: BTreeMap<Id, BackgroundJob>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) access_tokens: Vec<AccessToken>,
    /// The last id handed out to rows made while serving (not part of the file).
    #[serde(skip)]
    pub(crate) issued: IssuedIds,
}

/// The last id each table handed out to a row made while serving. A deleted row's id is
/// never handed out again, as a database sequence never does: a script or an undo that
/// remembers a deleted task's id must not find another task under it.
#[derive(Clone, Debug, Default)]
pub(crate) struct IssuedIds {
    pub extract_tasks: u64,
    pub schedules: u64,
    pub background_jobs: u64,
}

/// The version of the data file format this build reads and writes. Raised when a change
/// would make an older build misread a file; files without `formatVersion` are version 1.
pub const FORMAT_VERSION: u32 = 1;

fn current_format() -> u32 {
    FORMAT_VERSION
}

/// Where a snapshot was taken from (the `snapshot` member of a data file).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SnapshotOrigin {
    /// The server's base URL (without credentials).
    pub server: String,
    /// When the snapshot was taken (RFC 3339, UTC).
    pub taken_at: String,
    /// The user who took it: a rehearsal signs in under this name.
    pub username: String,
    /// The site the session was on (`""` = Default): a rehearsal lands there.
    pub site_url_name: String,
}

impl Dataset {
    /// Reads a data file (format above) and checks that every reference resolves.
    pub fn load(path: &Path) -> anyhow::Result<Dataset> {
        let text = crate::file_in::read_text(path, u64::MAX)
            .with_context(|| format!("cannot read emulator data file {}", path.display()))?;
        let dataset: Dataset = serde_json::from_str(&text).with_context(|| {
            format!(
                "emulator data file {} does not match the data format",
                path.display()
            )
        })?;
        dataset
            .checked()
            .with_context(|| format!("emulator data file {} is inconsistent", path.display()))
    }

    /// Builds a dataset from its JSON text (the data file format above), checking every
    /// reference.
    pub fn from_text(text: &str) -> anyhow::Result<Dataset> {
        let dataset: Dataset =
            serde_json::from_str(text).context("emulator data does not match the data format")?;
        dataset.checked()
    }

    /// Builds a dataset from its JSON form (the data file format above), checking every
    /// reference.
    pub fn from_json(value: serde_json::Value) -> anyhow::Result<Dataset> {
        let dataset: Dataset = serde_json::from_value(value)
            .context("emulator data does not match the data format")?;
        dataset.checked()
    }

    fn checked(mut self) -> anyhow::Result<Dataset> {
        anyhow::ensure!(
            self.format_version <= FORMAT_VERSION,
            "formatVersion {} is newer than this vizscript reads ({FORMAT_VERSION}); update vizscript",
            self.format_version
        );
        validate::check(&self)?;
        self.fill_run_times(Utc::now());
        self.fill_names();
        Ok(self)
    }

    /// The dataset in the data file format.
    pub fn to_json(&self) -> serde_json::Value {
        // Serializing plain maps, strings and numbers cannot fail.
        serde_json::to_value(self).unwrap_or_default()
    }

    /// Where this data was captured, when it is a snapshot.
    pub fn snapshot_origin(&self) -> Option<&SnapshotOrigin> {
        self.snapshot.as_ref()
    }

    /// Makes `username` able to sign in with `password` for a rehearsal: an existing user
    /// keeps the roles the snapshot shows; an unknown name becomes a new server
    /// administrator.
    pub fn admit_rehearsal_user(&mut self, username: &str, password: &str) {
        if let Some(user) = self
            .users
            .values_mut()
            .find(|u| u.username.eq_ignore_ascii_case(username))
        {
            user.password = password.to_string();
            return;
        }
        let id = Dataset::next_id(&self.users);
        self.users.insert(
            id,
            User {
                id,
                username: username.to_string(),
                password: password.to_string(),
                display_name: username.to_string(),
                email: None,
                server_admin: true,
                site_roles: BTreeMap::new(),
                last_site_id: None,
                last_sign_in: None,
            },
        );
    }

    /// Gives a site without a luid one made up from its id, and a user without a display
    /// name its username.
    fn fill_names(&mut self) {
        for site in self.sites.values_mut().filter(|s| s.luid.is_empty()) {
            site.luid = format!("00000000-0000-4000-a000-{:012}", site.id.0);
        }
        for user in self
            .users
            .values_mut()
            .filter(|u| u.display_name.is_empty())
        {
            user.display_name = user.username.clone();
        }
    }

    /// Sets `runNextAt` of schedules that have none, from their details.
    pub(crate) fn fill_run_times(&mut self, now: DateTime<Utc>) {
        for schedule in self
            .schedules
            .values_mut()
            .filter(|s| s.run_next_at.is_none())
        {
            schedule.run_next_at =
                recurrence::next_run(schedule.schedule_type, &schedule.schedule_details, now)
                    .map(timestamp::with_offset);
        }
    }

    /// The id a new row of `table` gets: one above the highest in use.
    pub(crate) fn next_id<T>(table: &BTreeMap<Id, T>) -> Id {
        Id(table.last_key_value().map_or(1, |(id, _)| id.0 + 1))
    }

    /// Count the rows a server starts with as issued: deleting the highest of them does
    /// not free its id for the next row made.
    pub(crate) fn issue_past_rows(&mut self) {
        let highest = |ids: Option<&Id>| ids.map_or(0, |id| id.0);
        let issued = &mut self.issued;
        issued.extract_tasks = issued
            .extract_tasks
            .max(highest(self.extract_tasks.keys().next_back()));
        issued.schedules = issued
            .schedules
            .max(highest(self.schedules.keys().next_back()));
        issued.background_jobs = issued
            .background_jobs
            .max(highest(self.background_jobs.keys().next_back()));
    }

    /// The id a row made while serving gets: one above the highest in use and above the
    /// last one `issued` (that table's entry of [`IssuedIds`]), so no id comes back.
    pub(crate) fn new_id<T>(issued: &mut u64, table: &BTreeMap<Id, T>) -> Id {
        let id = Dataset::next_id(table).0.max(*issued + 1);
        *issued = id;
        Id(id)
    }

    /// A user by name, ignoring case as Tableau does.
    pub(crate) fn user_by_name(&self, username: &str) -> Option<&User> {
        self.users
            .values()
            .find(|u| u.username.eq_ignore_ascii_case(username))
    }

    /// A site by url name, ignoring case (`""` is the Default site).
    pub(crate) fn site_by_url(&self, url_name: &str) -> Option<&Site> {
        self.sites
            .values()
            .find(|s| s.url_name.eq_ignore_ascii_case(url_name))
    }
}

/// Rows that carry their own id, so a table can be written as a JSON array.
pub(crate) trait Row {
    /// The table's member in the data file.
    const TABLE: &'static str;
    fn id(&self) -> Id;
}

macro_rules! rows {
    ($($t:ty => $table:literal),+) => {
        $(impl Row for $t {
            const TABLE: &'static str = $table;
            fn id(&self) -> Id { self.id }
        })+
    };
}
rows!(
    Site => "sites",
    User => "users",
    Project => "projects",
    Workbook => "workbooks",
    Datasource => "datasources",
    Schedule => "schedules",
    ExtractTask => "extractTasks",
    Subscription => "subscriptions",
    BackgroundJob => "backgroundJobs"
);

/// A table is an array of rows in JSON and a map by id in memory.
mod table {
    use std::collections::BTreeMap;

    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{Id, Row};

    pub(super) fn serialize<S: Serializer, T: Serialize>(
        table: &BTreeMap<Id, T>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(table.values())
    }

    pub(super) fn deserialize<'de, D, T>(deserializer: D) -> Result<BTreeMap<Id, T>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de> + Row,
    {
        let rows = Vec::<T>::deserialize(deserializer)?;
        let mut table = BTreeMap::new();
        for (number, row) in rows.into_iter().enumerate() {
            let id = row.id();
            if table.insert(id, row).is_some() {
                return Err(D::Error::custom(format!(
                    "{}: the id \"{id}\" appears twice (again in row {}, counting from 1), in the table that ends",
                    T::TABLE,
                    number + 1
                )));
            }
        }
        Ok(table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::sample::SampleSpec;

    #[test]
    fn an_id_handed_out_is_not_handed_out_again_after_its_row_is_deleted() {
        let mut data = Dataset::sample(&SampleSpec::default());
        let last = *data.extract_tasks.keys().last().unwrap();
        let first_new = Dataset::new_id(&mut data.issued.extract_tasks, &data.extract_tasks);
        assert_eq!(first_new.0, last.0 + 1);
        let row = data.extract_tasks[&last].clone();
        data.extract_tasks.insert(first_new, row);
        data.extract_tasks.remove(&first_new);
        data.extract_tasks.remove(&last);
        let second_new = Dataset::new_id(&mut data.issued.extract_tasks, &data.extract_tasks);
        assert_eq!(second_new.0, last.0 + 2, "neither deleted id comes back");
    }

    #[test]
    fn a_dumped_state_loads_again() {
        let sample = Dataset::sample(&SampleSpec::default());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.json");
        std::fs::write(&path, sample.to_json().to_string()).unwrap();
        assert_eq!(Dataset::load(&path).unwrap().to_json(), sample.to_json());
    }

    #[test]
    fn load_errors_name_the_file_and_every_problem() {
        let mut broken = Dataset::sample(&SampleSpec {
            sites: 1,
            tasks: 3,
            schedules: 2,
            seed: 1,
        })
        .to_json();
        broken["extractTasks"][0]["scheduleId"] = "99".into();
        broken["extractTasks"][1]["scheduleId"] = "2".into(); // the Subscription schedule
        broken["users"][0]["lastSiteId"] = "7".into();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.json");
        std::fs::write(&path, broken.to_string()).unwrap();
        let message = format!("{:#}", Dataset::load(&path).unwrap_err());
        assert!(message.contains("broken.json"), "{message}");
        assert!(
            message.contains("extractTasks id 1: scheduleId 99 does not exist"),
            "{message}"
        );
        assert!(
            message.contains("extractTasks id 2: schedule 2's scheduledAction is Subscription"),
            "{message}"
        );
        assert!(message.contains("users id 1: lastSiteId 7"), "{message}");

        let mut twice = Dataset::sample(&SampleSpec::default()).to_json();
        let copy = twice["extractTasks"][0].clone();
        twice["extractTasks"].as_array_mut().unwrap().push(copy);
        std::fs::write(&path, twice.to_string()).unwrap();
        let message = format!("{:#}", Dataset::load(&path).unwrap_err());
        let rows = twice["extractTasks"].as_array().unwrap().len();
        assert!(
            message.contains(&format!(
                "extractTasks: the id \"1\" appears twice (again in row {rows}, counting from 1)"
            )),
            "{message}"
        );

        std::fs::write(&path, r#"{"sites": [], "users": [], "shedules": []}"#).unwrap();
        let message = format!("{:#}", Dataset::load(&path).unwrap_err());
        assert!(
            message.contains("unknown field `shedules`") && message.contains("line 1"),
            "{message}"
        );
        let message = format!(
            "{:#}",
            Dataset::load(&dir.path().join("missing.json")).unwrap_err()
        );
        assert!(
            message.contains("cannot read emulator data file") && message.contains("missing.json"),
            "{message}"
        );
    }
}

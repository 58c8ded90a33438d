//! The built-in sample server: a few sites, users with known passwords, realistic content
//! names, schedules of every type, and extract tasks piled unevenly onto a couple of
//! schedules so that a rebalancing script has work to do. Generation is seeded, so a spec
//! always gives the same server (timestamps are relative to the moment of generation).

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use super::dataset::Dataset;
use super::entities::{
    AccessToken, Datasource, ExtractTask, Id, Project, Schedule, ScheduleType, ScheduledAction,
    Site, Subscription, SubscriptionTarget, TargetType, TaskType, User, Workbook,
};
use super::recurrence::ScheduleDetails;
use super::timestamp;

/// Users of the sample data as (username, password).
///
/// * `admin`: server administrator, reaches every site; logs in to the second site
///   (`finance`) when there are two or more sites.
/// * `analyst`: Publisher on Default, Interactor on the third site (`marketing`).
/// * `siteadmin`: SiteAdministrator of the second site only (of Default when there is one).
pub const SAMPLE_USERS: &[(&str, &str)] = &[
    ("admin", "admin"),
    ("analyst", "analyst"),
    ("siteadmin", "siteadmin"),
];

/// The personal access token of the sample data as (name, secret, username): it signs
/// `admin` in through REST `auth/signin`.
pub const SAMPLE_TOKEN: (&str, &str, &str) =
    ("vizscript-demo", "demo-secret-QX4TzN7Lk2pW9bV3", "admin");

/// The size of the sample server.
#[derive(Clone, Debug)]
pub struct SampleSpec {
    /// Number of sites, Default included (at least 1).
    pub sites: usize,
    /// Number of extract tasks, over all sites.
    pub tasks: usize,
    /// Number of server-wide schedules (at least 1 when there are tasks).
    pub schedules: usize,
    /// Seed of the generator.
    pub seed: u64,
}

impl Default for SampleSpec {
    fn default() -> Self {
        SampleSpec {
            sites: 3,
            tasks: 300,
            schedules: 12,
            seed: 42,
        }
    }
}

impl Dataset {
    /// A generated sample server; the same spec gives the same server.
    pub fn sample(spec: &SampleSpec) -> Dataset {
        sample_at(spec, Utc::now())
    }
}

const SITE_NAMES: &[(&str, &str)] = &[
    ("Default", ""),
    ("Finance", "finance"),
    ("Marketing", "marketing"),
    ("Operations", "operations"),
    ("Sales", "sales"),
    ("Human Resources", "hr"),
    ("Engineering", "engineering"),
    ("Supply Chain", "supplychain"),
];

/// Relative share of content per site, by site position; later sites get 1.
const SITE_WEIGHTS: &[u32] = &[4, 3, 2, 2];

/// Relative share of tasks per extract schedule, by position; later schedules get 1.
/// The first two are overloaded and the tenth is empty.
const SCHEDULE_SKEW: &[u32] = &[40, 25, 8, 6, 5, 4, 3, 2, 1, 0];

const PROJECT_NAMES: &[&str] = &[
    "Executive Dashboards",
    "Sales Analytics",
    "Certified Data Sources",
    "Operations Reporting",
    "Finance Reporting",
    "Sandbox",
];

const WORKBOOK_NAMES: &[&str] = &[
    "Sales Pipeline",
    "Finance KPIs",
    "Regional Revenue",
    "Customer Churn",
    "Inventory Levels",
    "Marketing Funnel",
    "Web Traffic",
    "Support Tickets",
    "Headcount Overview",
    "Payroll Summary",
    "Executive Overview",
    "Supply Chain Health",
    "Store Performance",
    "Quarterly Forecast",
    "Campaign ROI",
    "Product Margins",
    "Budget vs Actuals",
    "Accounts Receivable",
    "Shipping Delays",
    "NPS Survey",
    "Hiring Funnel",
    "Cloud Spend",
    "Fraud Monitoring",
    "Weekly Bookings",
];

const DATASOURCE_NAMES: &[&str] = &[
    "Superstore Extract",
    "Sample - Superstore",
    "Salesforce Opportunities",
    "Orders (SQL Server)",
    "Finance Data Mart",
    "Google Analytics Sessions",
    "Workday Headcount",
    "ServiceNow Incidents",
    "NetSuite GL",
    "Inventory Snapshot",
    "Marketing Leads",
    "Zendesk Tickets",
    "Shipments",
    "Budget Plan",
    "Product Catalog",
    "Store Master",
    "Web Events",
    "Payroll Extract",
    "AWS Cost and Usage",
    "Customer 360",
];

const NAME_SUFFIXES: &[&str] = &[
    "",
    " (Q3)",
    " (EMEA)",
    " (APAC)",
    " (Americas)",
    " - Daily",
    " - Weekly",
    " v2",
];

/// (connection type, server, port, database user)
const CONNECTIONS: &[(&str, &str, Option<u16>, &str)] = &[
    (
        "sqlserver",
        "sql01.corp.example.com",
        Some(1433),
        "svc_tableau",
    ),
    (
        "postgres",
        "pg-analytics.corp.example.com",
        Some(5432),
        "tableau_ro",
    ),
    (
        "snowflake",
        "acme.snowflakecomputing.com",
        Some(443),
        "TABLEAU_SVC",
    ),
    (
        "oracle",
        "ora-fin.corp.example.com",
        Some(1521),
        "TAB_READER",
    ),
    (
        "salesforce",
        "login.salesforce.com",
        Some(443),
        "integration@example.com",
    ),
    ("excel-direct", "", None, ""),
    ("textscan", "", None, ""),
];

const TASK_PRIORITIES: &[i64] = &[10, 20, 30, 40, 50, 50, 50, 60, 70, 80, 90];

/// Builds the sample as of `now` (tests pin it to compare two generations).
pub(crate) fn sample_at(spec: &SampleSpec, now: DateTime<Utc>) -> Dataset {
    let mut g = Generator::new(spec.seed, now);
    g.sites(spec.sites.max(1));
    g.users();
    g.projects();
    g.schedules(if spec.tasks > 0 {
        spec.schedules.max(1)
    } else {
        spec.schedules
    });
    g.extracts(spec.tasks);
    g.live_content();
    g.subscriptions();
    g.data.fill_run_times(now);
    g.data
}

/// Picks indexes in proportion to fixed weights.
struct Weighted {
    cumulative: Vec<u32>,
}

impl Weighted {
    fn new(weights: impl Iterator<Item = u32>) -> Weighted {
        let cumulative = weights
            .scan(0u32, |sum, w| {
                *sum += w;
                Some(*sum)
            })
            .collect();
        Weighted { cumulative }
    }

    fn pick(&self, rng: &mut StdRng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0);
        if total == 0 {
            return 0;
        }
        let r = rng.random_range(0..total);
        self.cumulative.partition_point(|c| *c <= r)
    }
}

/// Where a new workbook or datasource goes, and what it shares with its kind.
struct Placement {
    site_id: Id,
    project_id: Id,
    owner_id: Id,
    updated_at: String,
    hits_total: u64,
}

/// What one extract target got, so a second task of the other type can be added.
struct Target {
    site: Id,
    kind: TargetType,
    id: Id,
    task_type: TaskType,
}

struct Generator {
    rng: StdRng,
    now: DateTime<Utc>,
    data: Dataset,
    /// Per site position: its project ids and the users who reach it.
    projects_by_site: Vec<Vec<Id>>,
    members_by_site: Vec<Vec<Id>>,
    workbook_names: usize,
    datasource_names: usize,
}

impl Generator {
    fn new(seed: u64, now: DateTime<Utc>) -> Generator {
        Generator {
            rng: StdRng::seed_from_u64(seed),
            now,
            data: Dataset {
                format_version: super::dataset::FORMAT_VERSION,
                snapshot: None,
                sites: BTreeMap::new(),
                users: BTreeMap::new(),
                projects: BTreeMap::new(),
                workbooks: BTreeMap::new(),
                datasources: BTreeMap::new(),
                schedules: BTreeMap::new(),
                extract_tasks: BTreeMap::new(),
                subscriptions: BTreeMap::new(),
                background_jobs: BTreeMap::new(),
                access_tokens: Vec::new(),
                issued: Default::default(),
            },
            projects_by_site: Vec::new(),
            members_by_site: Vec::new(),
            workbook_names: 0,
            datasource_names: 0,
        }
    }

    fn sites(&mut self, count: usize) {
        for i in 0..count {
            let (name, url_name) = match SITE_NAMES.get(i) {
                Some((name, url)) => (name.to_string(), url.to_string()),
                None => (format!("Region {}", i + 1), format!("region{}", i + 1)),
            };
            let id = Id(i as u64 + 1);
            let luid = self.luid();
            self.data.sites.insert(
                id,
                Site {
                    id,
                    name,
                    url_name,
                    luid,
                },
            );
        }
    }

    fn users(&mut self) {
        let second = if self.data.sites.len() >= 2 {
            Id(2)
        } else {
            Id(1)
        };
        let mut analyst_roles = BTreeMap::from([(Id(1), "Publisher".to_owned())]);
        if self.data.sites.len() >= 3 {
            analyst_roles.insert(Id(3), "Interactor".to_owned());
        }
        let people = [
            ("Admin", true, BTreeMap::new(), second),
            ("Alex Analyst", false, analyst_roles, Id(1)),
            (
                "Sam Siteadmin",
                false,
                BTreeMap::from([(second, "SiteAdministrator".to_owned())]),
                second,
            ),
        ];
        for (i, ((display_name, server_admin, site_roles, last_site), (username, password))) in
            people.into_iter().zip(SAMPLE_USERS).enumerate()
        {
            let id = Id(i as u64 + 1);
            let user = User {
                id,
                username: username.to_string(),
                password: password.to_string(),
                display_name: display_name.to_owned(),
                email: Some(format!("{username}@example.com")),
                server_admin,
                site_roles,
                last_site_id: Some(last_site),
                last_sign_in: None,
            };
            if *username == SAMPLE_TOKEN.2 {
                self.data.access_tokens.push(AccessToken {
                    name: SAMPLE_TOKEN.0.to_string(),
                    secret: SAMPLE_TOKEN.1.to_string(),
                    user_id: id,
                });
            }
            self.data.users.insert(id, user);
        }
        self.members_by_site = (self.data.sites.keys())
            .map(|site| {
                self.data
                    .users
                    .values()
                    .filter(|u| u.site_role(*site).is_some())
                    .map(|u| u.id)
                    .collect()
            })
            .collect();
    }

    fn projects(&mut self) {
        let sites: Vec<Id> = self.data.sites.keys().copied().collect();
        for (position, site) in sites.into_iter().enumerate() {
            let names = std::iter::once("Default")
                .chain((0..3).map(|k| PROJECT_NAMES[(position + k) % PROJECT_NAMES.len()]));
            let mut ids = Vec::new();
            for name in names {
                let id = Dataset::next_id(&self.data.projects);
                let project = Project {
                    id,
                    site_id: site,
                    name: name.to_owned(),
                    description: format!("{name} content"),
                    owner_id: Id(1),
                    created_at: self.days_ago(400),
                };
                self.data.projects.insert(id, project);
                ids.push(id);
            }
            self.projects_by_site.push(ids);
        }
    }

    fn schedules(&mut self, count: usize) {
        let subscriptions = match count {
            0 | 1 => 0,
            2 | 3 => 1,
            _ => (count / 6).max(2),
        };
        let extracts = extract_templates()
            .into_iter()
            .chain((1..).map(extra_extract_template));
        let subs = subscription_templates()
            .into_iter()
            .chain((1..).map(extra_subscription_template));
        let chosen = extracts
            .take(count - subscriptions)
            .map(|t| (ScheduledAction::Extract, t))
            .chain(
                subs.take(subscriptions)
                    .map(|t| (ScheduledAction::Subscription, t)),
            );
        for (i, (action, template)) in chosen.enumerate() {
            let id = Id(i as u64 + 1);
            let schedule = Schedule {
                id,
                name: template.name,
                scheduled_action: action,
                schedule_type: template.kind,
                schedule_details: template.details,
                priority: template.priority,
                parallel: template.parallel,
                enabled: true,
                run_next_at: None,
            };
            self.data.schedules.insert(id, schedule);
        }
    }

    fn extracts(&mut self, tasks: usize) {
        let extract_schedules: Vec<Id> = self.schedules_for(ScheduledAction::Extract);
        let skew = Weighted::new(
            (0..extract_schedules.len()).map(|j| SCHEDULE_SKEW.get(j).copied().unwrap_or(1)),
        );
        let sites = Weighted::new(
            (0..self.data.sites.len()).map(|j| SITE_WEIGHTS.get(j).copied().unwrap_or(1)),
        );
        let second_tasks = tasks / 8;
        let mut targets = Vec::with_capacity(tasks - second_tasks);
        for _ in 0..tasks - second_tasks {
            let site = sites.pick(&mut self.rng);
            let kind = if self.rng.random_bool(0.55) {
                TargetType::Workbook
            } else {
                TargetType::Datasource
            };
            let id = self.content(site, kind, true);
            let task_type = if self.rng.random_bool(0.2) {
                TaskType::IncrementExtract
            } else {
                TaskType::RefreshExtract
            };
            targets.push(Target {
                site: Id(site as u64 + 1),
                kind,
                id,
                task_type,
            });
        }
        // The first targets also get a task of the other type.
        let seconds: Vec<Target> = (targets.iter().take(second_tasks))
            .map(|t| Target {
                task_type: match t.task_type {
                    TaskType::RefreshExtract => TaskType::IncrementExtract,
                    TaskType::IncrementExtract => TaskType::RefreshExtract,
                },
                ..*t
            })
            .collect();
        for target in targets.iter().chain(&seconds) {
            let schedule = extract_schedules[skew.pick(&mut self.rng)];
            self.task(target, schedule);
        }
    }

    fn task(&mut self, target: &Target, schedule: Id) {
        let id = Dataset::next_id(&self.data.extract_tasks);
        let priority = *TASK_PRIORITIES.choose(&mut self.rng).unwrap_or(&50);
        let last_run_at = self.rng.random_bool(0.97).then(|| self.hours_ago(96));
        let task = ExtractTask {
            id,
            site_id: target.site,
            schedule_id: schedule,
            target_type: target.kind,
            target_id: target.id,
            task_type: target.task_type,
            priority,
            last_run_at,
            run_count: 0,
        };
        self.data.extract_tasks.insert(id, task);
    }

    /// A few workbooks and a datasource per site that connect live (no extract, no task).
    fn live_content(&mut self) {
        for site in 0..self.data.sites.len() {
            self.content(site, TargetType::Workbook, false);
            self.content(site, TargetType::Workbook, false);
            self.content(site, TargetType::Datasource, false);
        }
    }

    /// Adds a workbook or datasource on the site at `position`; returns its id.
    fn content(&mut self, position: usize, kind: TargetType, extract: bool) -> Id {
        let place = Placement {
            site_id: Id(position as u64 + 1),
            project_id: *self.projects_by_site[position]
                .choose(&mut self.rng)
                .unwrap_or(&Id(1)),
            owner_id: *self.members_by_site[position]
                .choose(&mut self.rng)
                .unwrap_or(&Id(1)),
            updated_at: self.days_ago(365),
            hits_total: self.rng.random_range(0..5000),
        };
        match kind {
            TargetType::Workbook => self.workbook(place, extract),
            TargetType::Datasource => self.datasource(place, extract),
        }
    }

    fn workbook(&mut self, place: Placement, extract: bool) -> Id {
        let id = Dataset::next_id(&self.data.workbooks);
        let name = numbered_name(WORKBOOK_NAMES, self.workbook_names);
        self.workbook_names += 1;
        let certified = self.rng.random_bool(0.1);
        let workbook = Workbook {
            id,
            site_id: place.site_id,
            project_id: place.project_id,
            owner_id: place.owner_id,
            repository_url: name.chars().filter(char::is_ascii_alphanumeric).collect(),
            name,
            size: self.rng.random_range(40_000..250_000_000),
            sheet_count: self.rng.random_range(1..=12),
            display_tabs: self.rng.random_bool(0.7),
            has_extracts: extract,
            hits_total: place.hits_total,
            updated_at: place.updated_at,
            tags: certified
                .then(|| "certified".to_owned())
                .into_iter()
                .collect(),
        };
        self.data.workbooks.insert(id, workbook);
        id
    }

    fn datasource(&mut self, place: Placement, extract: bool) -> Id {
        let id = Dataset::next_id(&self.data.datasources);
        let name = numbered_name(DATASOURCE_NAMES, self.datasource_names);
        self.datasource_names += 1;
        let (connection_type, server, port, user) =
            *CONNECTIONS.choose(&mut self.rng).unwrap_or(&CONNECTIONS[0]);
        let datasource = Datasource {
            id,
            site_id: place.site_id,
            project_id: place.project_id,
            owner_id: place.owner_id,
            name,
            connection_type: connection_type.to_owned(),
            server_name: server.to_owned(),
            server_port: port,
            database_username: user.to_owned(),
            is_published: true,
            has_extracts: extract,
            hits_total: place.hits_total,
            updated_at: place.updated_at,
            last_refreshed_at: extract.then(|| self.hours_ago(96)),
            tags: Vec::new(),
        };
        self.data.datasources.insert(id, datasource);
        id
    }

    fn subscriptions(&mut self) {
        let schedules = self.schedules_for(ScheduledAction::Subscription);
        if schedules.is_empty() {
            return;
        }
        let mut workbooks_by_site: BTreeMap<Id, Vec<(Id, String)>> = BTreeMap::new();
        for workbook in self.data.workbooks.values() {
            workbooks_by_site
                .entry(workbook.site_id)
                .or_default()
                .push((workbook.id, workbook.name.clone()));
        }
        for (position, (site, workbooks)) in workbooks_by_site.into_iter().enumerate() {
            for n in 0..4 {
                let (target_id, name) = workbooks
                    .choose(&mut self.rng)
                    .cloned()
                    .unwrap_or((Id(1), String::new()));
                let user_id = *self.members_by_site[position]
                    .choose(&mut self.rng)
                    .unwrap_or(&Id(1));
                let schedule_id = *schedules.choose(&mut self.rng).unwrap_or(&schedules[0]);
                let prefix = ["Weekly: ", "Daily digest: ", "", "FYI: "][n];
                let id = Dataset::next_id(&self.data.subscriptions);
                let subscription = Subscription {
                    id,
                    site_id: site,
                    user_id,
                    schedule_id,
                    subject: format!("{prefix}{name}"),
                    target_type: SubscriptionTarget::Workbook,
                    target_id,
                    last_sent_at: Some(self.hours_ago(170)),
                };
                self.data.subscriptions.insert(id, subscription);
            }
        }
    }

    fn schedules_for(&self, action: ScheduledAction) -> Vec<Id> {
        self.data
            .schedules
            .values()
            .filter(|s| s.scheduled_action == action)
            .map(|s| s.id)
            .collect()
    }

    /// A UUID-looking luid (version 4 layout) from the seeded generator.
    fn luid(&mut self) -> String {
        let mut b: [u8; 16] = self.rng.random();
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    }

    fn hours_ago(&mut self, hours: i64) -> String {
        let seconds = self.rng.random_range(0..hours * 3600);
        timestamp::utc(self.now - TimeDelta::seconds(seconds))
    }

    fn days_ago(&mut self, days: i64) -> String {
        self.hours_ago(days * 24)
    }
}

/// Name `index` of a list: the bases, then the bases with suffixes, then numbered.
fn numbered_name(bases: &[&str], index: usize) -> String {
    let base = bases[index % bases.len()];
    let suffix = NAME_SUFFIXES[(index / bases.len()) % NAME_SUFFIXES.len()];
    let round = index / (bases.len() * NAME_SUFFIXES.len());
    if round == 0 {
        format!("{base}{suffix}")
    } else {
        format!("{base}{suffix} {}", round + 1)
    }
}

struct Template {
    name: String,
    kind: ScheduleType,
    details: ScheduleDetails,
    priority: i64,
    parallel: bool,
}

fn template(
    name: &str,
    kind: ScheduleType,
    details: ScheduleDetails,
    priority: i64,
    parallel: bool,
) -> Template {
    Template {
        name: name.to_owned(),
        kind,
        details,
        priority,
        parallel,
    }
}

fn daily(start: u32) -> ScheduleDetails {
    ScheduleDetails {
        start_time: Some(start),
        ..ScheduleDetails::default()
    }
}

fn hourly(start: u32, end: u32, every: u32) -> ScheduleDetails {
    ScheduleDetails {
        end_time: Some(end),
        recurrence_minutes: Some(every),
        ..daily(start)
    }
}

fn weekly(start: u32, days: &[&str]) -> ScheduleDetails {
    ScheduleDetails {
        recurrence_days_of_week: Some(days.iter().map(|d| d.to_string()).collect()),
        ..daily(start)
    }
}

fn monthly(start: u32, day: u32) -> ScheduleDetails {
    ScheduleDetails {
        recurrence_day_of_month: Some(day.to_string()),
        ..daily(start)
    }
}

/// Extract schedules in the order they are handed out (and skewed, see `SCHEDULE_SKEW`).
fn extract_templates() -> Vec<Template> {
    use ScheduleType::*;
    vec![
        template(
            "Weekday early mornings",
            Weekly,
            weekly(240, &["Mon", "Tue", "Wed", "Thu", "Fri"]),
            50,
            true,
        ),
        template("Every 4 hours", Hourly, hourly(0, 0, 240), 50, true),
        template("Saturday night", Weekly, weekly(1380, &["Sat"]), 75, false),
        template("End of month", Monthly, monthly(60, 31), 50, false),
        template("Daily 2 AM", Daily, daily(120), 50, true),
        template("Every hour", Hourly, hourly(0, 0, 60), 25, true),
        template(
            "Business hours, every 2 hours",
            Hourly,
            hourly(480, 1080, 120),
            40,
            true,
        ),
        template("Sunday morning", Weekly, weekly(360, &["Sun"]), 60, false),
        template("First of the month", Monthly, monthly(0, 1), 50, false),
        template("Nightly", Daily, daily(1320), 50, true),
    ]
}

fn extra_extract_template(n: usize) -> Template {
    let start = (n as u32 * 90) % (24 * 60);
    template(
        &format!("Extract window {n}"),
        ScheduleType::Daily,
        daily(start),
        50,
        true,
    )
}

fn subscription_templates() -> Vec<Template> {
    use ScheduleType::*;
    vec![
        template(
            "Monday morning reports",
            Weekly,
            weekly(420, &["Mon"]),
            50,
            true,
        ),
        template("Daily 7 AM digest", Daily, daily(420), 50, true),
        template("Month start summary", Monthly, monthly(480, 1), 50, true),
    ]
}

fn extra_subscription_template(n: usize) -> Template {
    let start = (n as u32 * 60) % (24 * 60);
    template(
        &format!("Subscription slot {n}"),
        ScheduleType::Daily,
        daily(start),
        50,
        true,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::validate;
    use chrono::TimeZone;

    fn at_noon(spec: &SampleSpec) -> Dataset {
        sample_at(spec, Utc.with_ymd_and_hms(2024, 5, 17, 12, 0, 0).unwrap())
    }

    #[test]
    fn same_spec_same_server() {
        let spec = SampleSpec::default();
        assert_eq!(at_noon(&spec).to_json(), at_noon(&spec).to_json());
        let other = SampleSpec {
            seed: 7,
            ..SampleSpec::default()
        };
        assert_ne!(at_noon(&spec).to_json(), at_noon(&other).to_json());
    }

    #[test]
    fn every_size_is_consistent() {
        for (sites, tasks, schedules) in [
            (1, 0, 0),
            (1, 1, 0),
            (1, 20, 1),
            (2, 50, 2),
            (3, 300, 12),
            (10, 400, 30),
        ] {
            let data = at_noon(&SampleSpec {
                sites,
                tasks,
                schedules,
                seed: 1,
            });
            validate::check(&data).unwrap_or_else(|e| panic!("{sites}/{tasks}/{schedules}: {e:#}"));
            assert_eq!(data.sites.len(), sites);
            assert_eq!(data.extract_tasks.len(), tasks);
        }
    }

    #[test]
    fn default_sample_matches_its_documentation() {
        let data = at_noon(&SampleSpec::default());
        let admin = data.user_by_name("admin").unwrap();
        assert_eq!(
            admin.last_site_id,
            Some(Id(2)),
            "admin must not land on Default"
        );
        assert_eq!(data.sites[&Id(2)].url_name, "finance");
        let subscription_schedules = data
            .schedules
            .values()
            .filter(|s| s.scheduled_action == ScheduledAction::Subscription)
            .count();
        assert_eq!((data.schedules.len(), subscription_schedules), (12, 2));
        for kind in ScheduleType::NAMES {
            assert!(
                data.schedules
                    .values()
                    .any(|s| s.schedule_type.as_str() == *kind),
                "no {kind} schedule"
            );
        }
        let on = |id| {
            data.extract_tasks
                .values()
                .filter(|t| t.schedule_id == Id(id))
                .count()
        };
        assert!(
            on(1) > 100 && on(2) > 50,
            "first two schedules are overloaded: {} {}",
            on(1),
            on(2)
        );
        assert_eq!(on(10), 0, "the tenth schedule is empty");
        assert!(
            data.workbooks
                .values()
                .any(|w| w.name == "Finance KPIs (Q3)")
        );
        assert!(
            data.extract_tasks
                .values()
                .any(|t| t.target_type == TargetType::Datasource)
        );
        assert!(
            data.extract_tasks
                .values()
                .any(|t| t.task_type == TaskType::IncrementExtract)
        );
    }
}

//! The records an emulated server keeps: sites, users, content, schedules, extract tasks and
//! subscriptions, in the shape of the emulator's data file (camelCase JSON). What the wire
//! shows of them is the methods' business; these hold only what a server would store.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

use super::recurrence::ScheduleDetails;

/// A repository id: a decimal integer that travels as a JSON string (`"55"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Id(pub(crate) u64);

impl Id {
    /// Parses a decimal id (`"55"`); anything else (signs, spaces, hex) is not an id.
    pub(crate) fn parse(text: &str) -> Option<Id> {
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.parse().ok().map(Id)
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Id, D::Error> {
        struct IdVisitor;
        impl de::Visitor<'_> for IdVisitor {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal id such as \"55\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
                Id::parse(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
                Ok(Id(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id, E> {
                u64::try_from(v)
                    .map(Id)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
        }
        deserializer.deserialize_any(IdVisitor)
    }
}

/// A string-valued enum of the protocol, with its exact wire spelling, which requests must
/// use too: Tableau's clients send these spellings, and whether a server takes another
/// letter case is not known.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub(crate) enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        #[allow(dead_code, reason = "not every enum is read from requests")]
        impl $name {
            /// The wire spelling.
            pub(crate) fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Reads a request value, spelt exactly.
            pub(crate) fn parse(text: &str) -> Option<$name> {
                $(if text == $text { return Some($name::$variant); })+
                None
            }

            /// Every wire spelling, for error messages.
            pub(crate) const NAMES: &'static [&'static str] = &[$($text),+];
        }
    };
}

wire_enum! {
    /// What a schedule runs.
    ScheduledAction { Extract = "Extract", Subscription = "Subscription" }
}

wire_enum! {
    /// How often a schedule runs; the details differ per type.
    ScheduleType { Hourly = "Hourly", Daily = "Daily", Weekly = "Weekly", Monthly = "Monthly" }
}

wire_enum! {
    /// What an extract task refreshes.
    TargetType { Workbook = "Workbook", Datasource = "Datasource" }
}

wire_enum! {
    /// Full or incremental extract refresh.
    TaskType { RefreshExtract = "RefreshExtract", IncrementExtract = "IncrementExtract" }
}

wire_enum! {
    /// What a subscription e-mails (only whole workbooks are modelled).
    SubscriptionTarget { Workbook = "workbook" }
}

/// Site roles of Tableau Server 10.x.
pub(crate) const SITE_ROLES: &[&str] = &[
    "SiteAdministrator",
    "Publisher",
    "Interactor",
    "ViewerWithPublish",
    "Viewer",
    "UnlicensedWithPublish",
    "Unlicensed",
];

/// A personal access token: REST `auth/signin` with its name and secret signs its user in.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct AccessToken {
    /// The token's name (`personalAccessTokenName`).
    pub name: String,
    /// The secret (`personalAccessTokenSecret`), in plain text: test data.
    pub secret: String,
    /// The user it signs in.
    pub user_id: Id,
}

/// The role a server administrator has on a site where no explicit role is stored.
pub(crate) const SERVER_ADMIN_ROLE: &str = "ServerAdministrator";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Site {
    pub id: Id,
    pub name: String,
    /// `""` is the Default site.
    pub url_name: String,
    /// Made up from the id when a data file leaves it out.
    #[serde(default)]
    pub luid: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct User {
    pub id: Id,
    pub username: String,
    /// Plain text: this is test data for a local emulator. Empty: no password sign-in.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub password: String,
    /// The username when a data file leaves it out.
    #[serde(default)]
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// A server administrator reaches every site.
    #[serde(default)]
    pub server_admin: bool,
    /// Site id to site role, for the sites the user is a member of.
    #[serde(default)]
    pub site_roles: BTreeMap<Id, String>,
    /// Where `login` without `siteUrlName` lands; updated by every login and `switchSite`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_site_id: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sign_in: Option<String>,
}

impl User {
    /// The user's role on a site, or `None` when the user cannot reach it.
    pub(crate) fn site_role(&self, site: Id) -> Option<&str> {
        match self.site_roles.get(&site) {
            Some(role) => Some(role),
            None if self.server_admin => Some(SERVER_ADMIN_ROLE),
            None => None,
        }
    }

    /// Whether the user may change tasks and subscriptions on a site.
    pub(crate) fn administers(&self, site: Id) -> bool {
        self.server_admin || self.site_role(site) == Some("SiteAdministrator")
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Project {
    pub id: Id,
    pub site_id: Id,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub owner_id: Id,
    #[serde(default)]
    pub created_at: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Workbook {
    pub id: Id,
    pub site_id: Id,
    pub project_id: Id,
    pub owner_id: Id,
    pub name: String,
    /// The workbook's content URL (unique per site).
    #[serde(default)]
    pub repository_url: String,
    #[serde(default)]
    pub size: u64,
    #[serde(default = "one")]
    pub sheet_count: u32,
    #[serde(default = "yes")]
    pub display_tabs: bool,
    #[serde(default)]
    pub has_extracts: bool,
    #[serde(default)]
    pub hits_total: u64,
    #[serde(default)]
    pub updated_at: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Datasource {
    pub id: Id,
    pub site_id: Id,
    pub project_id: Id,
    pub owner_id: Id,
    pub name: String,
    /// Tableau's connection class, e.g. `sqlserver`, `postgres`, `excel-direct`.
    #[serde(default)]
    pub connection_type: String,
    #[serde(default)]
    pub server_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_port: Option<u16>,
    #[serde(default)]
    pub database_username: String,
    #[serde(default = "yes")]
    pub is_published: bool,
    #[serde(default)]
    pub has_extracts: bool,
    #[serde(default)]
    pub hits_total: u64,
    #[serde(default)]
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_refreshed_at: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Schedule {
    pub id: Id,
    pub name: String,
    pub scheduled_action: ScheduledAction,
    pub schedule_type: ScheduleType,
    pub schedule_details: ScheduleDetails,
    #[serde(default = "default_priority")]
    pub priority: i64,
    #[serde(default = "yes")]
    pub parallel: bool,
    /// Disabled schedules show no `runNextAt`.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Computed from the details when absent (ISO 8601 with offset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_next_at: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ExtractTask {
    pub id: Id,
    pub site_id: Id,
    pub schedule_id: Id,
    pub target_type: TargetType,
    pub target_id: Id,
    #[serde(rename = "type")]
    pub task_type: TaskType,
    #[serde(default = "default_priority")]
    pub priority: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run_at: Option<String>,
    /// How many times `runExtractTasks` ran this task in this emulator.
    #[serde(default)]
    pub run_count: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Subscription {
    pub id: Id,
    pub site_id: Id,
    pub user_id: Id,
    pub schedule_id: Id,
    pub subject: String,
    pub target_type: SubscriptionTarget,
    pub target_id: Id,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sent_at: Option<String>,
}

/// Extract tasks and schedules default to priority 50, as on a real server.
pub(crate) const DEFAULT_PRIORITY: i64 = 50;

/// Task and schedule priorities are 1 (highest) to 100.
pub(crate) use crate::wire::schedule::PRIORITY_RANGE;

fn default_priority() -> i64 {
    DEFAULT_PRIORITY
}

fn yes() -> bool {
    true
}

fn one() -> u32 {
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_strings_on_the_wire_and_lenient_on_input() {
        assert_eq!(
            serde_json::to_value(Id(55)).unwrap(),
            serde_json::json!("55")
        );
        assert_eq!(
            serde_json::from_value::<Id>(serde_json::json!("55")).unwrap(),
            Id(55)
        );
        assert_eq!(
            serde_json::from_value::<Id>(serde_json::json!(55)).unwrap(),
            Id(55)
        );
        assert!(serde_json::from_value::<Id>(serde_json::json!("5a")).is_err());
        assert!(serde_json::from_value::<Id>(serde_json::json!(-1)).is_err());
        assert_eq!(Id::parse(" 5"), None);
        assert_eq!(Id::parse(""), None);
    }

    #[test]
    fn wire_enums_parse_their_exact_spelling_only() {
        assert_eq!(ScheduleType::parse("Weekly"), Some(ScheduleType::Weekly));
        assert_eq!(ScheduleType::parse("weekly"), None);
        assert_eq!(TargetType::parse("DATASOURCE"), None);
        assert_eq!(TaskType::parse("Refresh"), None);
        assert_eq!(ScheduledAction::Subscription.as_str(), "Subscription");
    }
}

//! The vocabulary of a schedule on the wire (protocol §4.2 and the research notes,
//! section B): what `scheduleType`, `scheduledAction` and `scheduleDetails` may hold.

/// `scheduledAction` values.
pub const SCHEDULED_ACTIONS: &[&str] = &["Extract", "Subscription"];

/// `scheduleType` values.
pub const SCHEDULE_TYPES: &[&str] = &["Hourly", "Daily", "Weekly", "Monthly"];

/// `recurrenceDaysOfWeek` entries, Sunday first.
pub const WEEK_DAYS: &[&str] = &["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// The intervals (minutes) an `Hourly` schedule may repeat at.
pub const HOURLY_RECURRENCE_MINUTES: &[u32] = &[15, 30, 60, 120, 240, 360, 480, 720];

/// Minutes in a day: `startTime` is below it, an `Hourly` `endTime` at most it.
pub const DAY_MINUTES: u32 = 24 * 60;

/// Schedule and task priorities: 1 runs first, 100 last.
pub const PRIORITY_RANGE: std::ops::RangeInclusive<i64> = 1..=100;

/// Detail fields as the API guide's sample answer spells two of them (`recurrency*`), with
/// Tableau's own spelling (`recurrence*`), which the client writes. The guide's is likely
/// a slip, but a server answering so must still be read.
pub const DETAIL_SPELLINGS: &[(&str, &str)] = &[
    ("recurrencyMinutes", "recurrenceMinutes"),
    ("recurrencyDaysOfWeek", "recurrenceDaysOfWeek"),
    ("recurrencyDayOfMonth", "recurrenceDayOfMonth"),
];

/// Schedule details with every field in Tableau's spelling (see [`DETAIL_SPELLINGS`]);
/// where both spellings are given, Tableau's wins.
pub fn documented_details(
    details: &serde_json::Map<String, serde_json::Value>,
) -> std::borrow::Cow<'_, serde_json::Map<String, serde_json::Value>> {
    let respelt = |key: &str| DETAIL_SPELLINGS.iter().find(|(guide, _)| *guide == key);
    if !details.keys().any(|k| respelt(k).is_some()) {
        return std::borrow::Cow::Borrowed(details);
    }
    let mut documented = serde_json::Map::new();
    for (key, value) in details {
        match respelt(key) {
            Some((_, tableau)) if details.contains_key(*tableau) => {}
            Some((_, tableau)) => {
                documented.insert(tableau.to_string(), value.clone());
            }
            None => {
                documented.insert(key.clone(), value.clone());
            }
        }
    }
    std::borrow::Cow::Owned(documented)
}

/// A schedule name as names are compared for uniqueness: without the spaces around it,
/// and the letters A to Z in any case (as the emulator compares them; a server trims the
/// names it stores).
pub fn name_key(name: &str) -> String {
    name.trim().to_ascii_lowercase()
}

/// Whether a schedule as `getSchedules` shows it (`fields`) is enabled: its `enabled`, or,
/// from a server that does not show that, whether it shows a next run (a disabled
/// schedule shows none).
pub fn enabled_of(fields: &serde_json::Map<String, serde_json::Value>) -> bool {
    match fields.get("enabled").filter(|e| !e.is_null()) {
        Some(enabled) => enabled != &serde_json::Value::Bool(false),
        None => fields.get("runNextAt").is_some_and(|at| !at.is_null()),
    }
}

/// Schedule field `field`'s `value` as the client reads and writes it: `scheduleDetails`
/// in Tableau's spelling (see [`documented_details`]), any other field as it is.
pub fn documented_field(field: &str, value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(details) if field == "scheduleDetails" => {
            serde_json::Value::Object(documented_details(details).into_owned())
        }
        other => other.clone(),
    }
}

/// `fields` (a schedule's) with its `scheduleDetails` in Tableau's spelling.
pub fn with_documented_details(
    mut fields: serde_json::Map<String, serde_json::Value>,
) -> serde_json::Map<String, serde_json::Value> {
    if let Some(details) = fields.get_mut("scheduleDetails") {
        *details = documented_field("scheduleDetails", details);
    }
    fields
}

/// A schedule as `getSchedules` shows it, as the client reads it whatever the server:
/// details in Tableau's spelling, and `enabled` (see [`enabled_of`]).
pub fn as_read(
    fields: serde_json::Map<String, serde_json::Value>,
) -> serde_json::Map<String, serde_json::Value> {
    let mut fields = with_documented_details(fields);
    if fields.get("enabled").is_none_or(serde_json::Value::is_null) {
        let enabled = enabled_of(&fields);
        fields.insert("enabled".into(), enabled.into());
    }
    fields
}

/// [`as_read`] of a listed schedule as a JSON value; anything else as it is.
pub fn listed_as_read(schedule: serde_json::Value) -> serde_json::Value {
    match schedule {
        serde_json::Value::Object(fields) => serde_json::Value::Object(as_read(fields)),
        other => other,
    }
}

/// Detail `field` (in Tableau's spelling) of `details`, in either spelling.
pub fn detail<'a>(
    details: &'a serde_json::Map<String, serde_json::Value>,
    field: &str,
) -> Option<&'a serde_json::Value> {
    let guide = DETAIL_SPELLINGS
        .iter()
        .find(|(_, tableau)| *tableau == field);
    details.get(field).or_else(|| details.get(guide?.0))
}

/// The fields of a schedule that `createSchedule` and `updateSchedule` send (besides
/// `updateSchedule`'s `id`), as `getSchedules` shows them.
pub const SCHEDULE_FIELDS: &[&str] = &[
    "name",
    "scheduledAction",
    "priority",
    "parallel",
    "scheduleType",
    "scheduleDetails",
];

/// `targetType` values of extract tasks.
pub const TARGET_TYPES: &[&str] = &["Workbook", "Datasource"];

//! A schedule's fields, checked before they are sent. The server's answers to a bad
//! schedule are bare codes (120006, 80007, ...); a script writer gets more from an error
//! that names the field and the values it may take, before anything reaches the server.

use serde_json::{Map, Value};

use crate::wire::schedule::{
    DAY_MINUTES, HOURLY_RECURRENCE_MINUTES, PRIORITY_RANGE, SCHEDULE_TYPES, SCHEDULED_ACTIONS,
    WEEK_DAYS,
};

pub use crate::wire::schedule::SCHEDULE_FIELDS;

const DETAIL_FIELDS: &[&str] = &[
    "startTime",
    "endTime",
    "recurrenceMinutes",
    "recurrenceDaysOfWeek",
    "recurrenceDayOfMonth",
];

/// Checks a complete set of schedule fields; the error names the field and what it may
/// hold.
pub fn check_schedule(fields: &Map<String, Value>) -> Result<(), String> {
    if let Some(unknown) = fields
        .keys()
        .find(|k| !SCHEDULE_FIELDS.contains(&k.as_str()))
    {
        // Fields `getSchedules` shows that other functions change.
        let elsewhere = match unknown.as_str() {
            "enabled" => "; enable_schedules and disable_schedules change it",
            "id" | "taskCount" | "runNextAt" => "; the server sets it",
            _ => "",
        };
        return Err(format!(
            "{unknown}: not a schedule field; the fields are {}{elsewhere}",
            SCHEDULE_FIELDS.join(", ")
        ));
    }
    check_name(fields.get("name"))?;
    one_of(fields, "scheduledAction", SCHEDULED_ACTIONS)?;
    let kind = one_of(fields, "scheduleType", SCHEDULE_TYPES)?;
    match fields.get("priority") {
        Some(p) if !p.as_i64().is_some_and(|p| PRIORITY_RANGE.contains(&p)) => {
            return Err(format!(
                "priority: must be an integer from 1 (runs first) to 100, not {p}"
            ));
        }
        _ => {}
    }
    match fields.get("parallel") {
        Some(p) if !p.is_boolean() => {
            return Err(format!("parallel: must be true or false, not {p}"));
        }
        _ => {}
    }
    let details = match fields.get("scheduleDetails") {
        Some(Value::Object(details)) => details,
        Some(other) => return Err(format!("scheduleDetails: must be a map, not {other}")),
        None => return Err(format!("scheduleDetails: required for a {kind} schedule")),
    };
    check_details(kind, details)
}

/// A schedule name: a string with something in it.
pub fn check_name(name: Option<&Value>) -> Result<(), String> {
    match name {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(()),
        Some(other) => Err(format!("name: must be a non-empty string, not {other}")),
        None => Err("name: required".to_string()),
    }
}

fn one_of<'a>(
    fields: &'a Map<String, Value>,
    key: &str,
    allowed: &[&str],
) -> Result<&'a str, String> {
    match fields.get(key) {
        Some(Value::String(s)) if allowed.contains(&s.as_str()) => Ok(s),
        Some(other) => Err(format!(
            "{key}: must be one of {}, not {other}",
            allowed.join(", ")
        )),
        None => Err(format!("{key}: required, one of {}", allowed.join(", "))),
    }
}

/// The details a schedule type needs: `startTime` always; `Hourly` also
/// `recurrenceMinutes` (and optionally `endTime`); `Weekly` `recurrenceDaysOfWeek`;
/// `Monthly` `recurrenceDayOfMonth`.
fn check_details(kind: &str, details: &Map<String, Value>) -> Result<(), String> {
    // A server may spell the fields as the API guide does; they are read alike.
    let details = &*crate::wire::schedule::documented_details(details);
    if let Some(unknown) = details
        .keys()
        .find(|k| !DETAIL_FIELDS.contains(&k.as_str()))
    {
        return Err(format!(
            "scheduleDetails.{unknown}: not a detail field; the fields are {}",
            DETAIL_FIELDS.join(", ")
        ));
    }
    if minutes(details, "startTime", DAY_MINUTES - 1)?.is_none() {
        return Err(format!(
            "scheduleDetails.startTime: required for a {kind} schedule (minutes after midnight, 0 to {})",
            DAY_MINUTES - 1
        ));
    }
    // A detail another type uses would be dropped by the server without a word (a Daily
    // schedule given days of the week still runs every day).
    let uses: &[&str] = match kind {
        "Hourly" => &["startTime", "endTime", "recurrenceMinutes"],
        "Weekly" => &["startTime", "recurrenceDaysOfWeek"],
        "Monthly" => &["startTime", "recurrenceDayOfMonth"],
        _ => &["startTime"],
    };
    if let Some((unused, _)) = details
        .iter()
        .find(|(k, v)| !v.is_null() && !uses.contains(&k.as_str()))
    {
        return Err(format!(
            "scheduleDetails.{unused}: a {kind} schedule does not use it (the server would drop it); it takes {}",
            uses.join(", ")
        ));
    }
    match kind {
        "Hourly" => check_hourly(details),
        "Weekly" => check_weekly(details),
        "Monthly" => check_monthly(details),
        _ => Ok(()),
    }
}

/// A time of day in minutes after midnight, at most `max`, if present.
fn minutes(details: &Map<String, Value>, key: &str, max: u32) -> Result<Option<u32>, String> {
    match details.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .filter(|m| *m <= u64::from(max))
            .map(|m| Some(m as u32))
            .ok_or_else(|| {
                format!(
                    "scheduleDetails.{key}: must be minutes after midnight, 0 to {max}, not {v}"
                )
            }),
    }
}

fn check_hourly(details: &Map<String, Value>) -> Result<(), String> {
    minutes(details, "endTime", DAY_MINUTES)?;
    let allowed = HOURLY_RECURRENCE_MINUTES
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let valid = |v: &Value| {
        v.as_u64()
            .is_some_and(|m| HOURLY_RECURRENCE_MINUTES.contains(&(m as u32)))
    };
    match details.get("recurrenceMinutes") {
        Some(v) if valid(v) => Ok(()),
        Some(v) => Err(format!(
            "scheduleDetails.recurrenceMinutes: must be one of {allowed}, not {v}"
        )),
        None => Err(format!(
            "scheduleDetails.recurrenceMinutes: required for an Hourly schedule, one of {allowed}"
        )),
    }
}

fn check_weekly(details: &Map<String, Value>) -> Result<(), String> {
    let days = WEEK_DAYS.join(", ");
    let valid = |list: &[Value]| {
        let named = |d: &Value| d.as_str().is_some_and(|d| WEEK_DAYS.contains(&d));
        let once = |(i, d): (usize, &Value)| !list[..i].contains(d);
        !list.is_empty() && list.iter().all(named) && list.iter().enumerate().all(once)
    };
    match details.get("recurrenceDaysOfWeek") {
        Some(Value::Array(list)) if valid(list) => Ok(()),
        Some(v) => Err(format!(
            "scheduleDetails.recurrenceDaysOfWeek: must be a non-empty array of {days} (spelled so, each once), not {v}"
        )),
        None => Err(format!(
            "scheduleDetails.recurrenceDaysOfWeek: required for a Weekly schedule, an array of {days}"
        )),
    }
}

fn check_monthly(details: &Map<String, Value>) -> Result<(), String> {
    let day = details.get("recurrenceDayOfMonth");
    let number = day.and_then(|d| match d {
        Value::String(s) => s.parse::<u32>().ok(),
        Value::Number(n) => n.as_u64().map(|n| n as u32),
        _ => None,
    });
    match (day, number) {
        (Some(_), Some(1..=31)) => Ok(()),
        (Some(v), _) => Err(format!(
            "scheduleDetails.recurrenceDayOfMonth: must be a day \"1\" to \"31\", not {v}"
        )),
        (None, _) => Err(
            "scheduleDetails.recurrenceDayOfMonth: required for a Monthly schedule, \"1\" to \"31\""
                .to_string(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(value: Value) -> Result<(), String> {
        check_schedule(value.as_object().unwrap())
    }

    fn daily() -> Value {
        json!({"name": "Nightly", "scheduledAction": "Extract", "priority": 50,
               "parallel": true, "scheduleType": "Daily",
               "scheduleDetails": {"startTime": 120}})
    }

    #[test]
    fn a_complete_schedule_passes() {
        assert_eq!(check(daily()), Ok(()));
        let mut hourly = daily();
        hourly["scheduleType"] = "Hourly".into();
        hourly["scheduleDetails"] =
            json!({"startTime": 0, "endTime": 1440, "recurrenceMinutes": 30});
        assert_eq!(check(hourly), Ok(()));
    }

    #[test]
    fn errors_name_the_field_and_the_allowed_values() {
        let with = |key: &str, value: Value| {
            let mut s = daily();
            s[key] = value;
            check(s).unwrap_err()
        };
        assert_eq!(
            with("scheduleType", "Yearly".into()),
            "scheduleType: must be one of Hourly, Daily, Weekly, Monthly, not \"Yearly\""
        );
        assert_eq!(
            with("priority", 0.into()),
            "priority: must be an integer from 1 (runs first) to 100, not 0"
        );
        assert_eq!(
            with("scheduledAction", "extract".into()),
            "scheduledAction: must be one of Extract, Subscription, not \"extract\""
        );
        assert_eq!(
            with("scheduleType", "Weekly".into()),
            "scheduleDetails.recurrenceDaysOfWeek: required for a Weekly schedule, an array of Sun, Mon, Tue, Wed, Thu, Fri, Sat"
        );
        assert_eq!(
            with("scheduleDetails", json!({"startTime": 1440})),
            "scheduleDetails.startTime: must be minutes after midnight, 0 to 1439, not 1440"
        );
        assert_eq!(
            with("scheduleAction", "Extract".into()),
            "scheduleAction: not a schedule field; the fields are name, scheduledAction, priority, parallel, scheduleType, scheduleDetails"
        );
        assert!(
            with("enabled", false.into())
                .ends_with("; enable_schedules and disable_schedules change it")
        );
    }
}

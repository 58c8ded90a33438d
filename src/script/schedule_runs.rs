//! When a schedule runs within a window, from its type and details as `getSchedules`
//! shows them (the rule itself is `wire::recurrence`, shared with the emulator): times
//! are minutes after midnight in the server's time zone, which the schedule states
//! through the offset of its `runNextAt` (UTC when it has none).

use chrono::{DateTime, FixedOffset, Offset, TimeDelta, Utc};
use serde_json::{Map, Value};

use crate::wire::recurrence::Recurrence;

/// The run times of one schedule in `[from, to)`, in the schedule's time zone, in order.
pub fn runs(
    schedule: &Map<String, Value>,
    from: DateTime<FixedOffset>,
    to: DateTime<FixedOffset>,
) -> Vec<DateTime<FixedOffset>> {
    let Some(recurrence) = recurrence_of(schedule) else {
        return Vec::new();
    };
    let zone = zone_of(schedule);
    let (first, last) = (
        from.with_timezone(&zone).date_naive(),
        to.with_timezone(&zone).date_naive(),
    );
    let mut times = Vec::new();
    let mut date = first.pred_opt().unwrap_or(first);
    while date <= last {
        for minutes in recurrence.starts_on(date) {
            let local = date
                .and_hms_opt(0, 0, 0)
                .zip(TimeDelta::try_minutes(minutes))
                .and_then(|(midnight, after)| midnight.checked_add_signed(after));
            if let Some(at) = local.and_then(|l| l.and_local_timezone(zone).single())
                && at >= from
                && at < to
            {
                times.push(at);
            }
        }
        date = match date.succ_opt() {
            Some(next) => next,
            None => break,
        };
    }
    times.sort();
    times.dedup();
    times
}

/// The schedule's type and details as `getSchedules` shows them; `None` without a
/// `startTime`.
fn recurrence_of(schedule: &Map<String, Value>) -> Option<Recurrence<'_>> {
    let details = schedule.get("scheduleDetails").and_then(Value::as_object)?;
    // A server may spell the fields as the API guide does.
    let field = |key: &str| crate::wire::schedule::detail(details, key);
    let number = |key: &str| field(key).and_then(as_int);
    Some(Recurrence {
        kind: schedule.get("scheduleType").and_then(Value::as_str)?,
        start: number("startTime")?,
        end: number("endTime"),
        every: number("recurrenceMinutes"),
        days_of_week: (field("recurrenceDaysOfWeek").and_then(Value::as_array))
            .map(|days| days.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default(),
        day_of_month: number("recurrenceDayOfMonth"),
    })
}

/// The schedule's time zone: the offset of its `runNextAt`, else UTC.
fn zone_of(schedule: &Map<String, Value>) -> FixedOffset {
    schedule
        .get("runNextAt")
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map_or(Utc.fix(), |t| *t.offset())
}

fn as_int(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).unwrap()
    }

    fn schedule(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn hourly_windows_cross_midnight_in_the_schedules_zone() {
        let s = schedule(
            json!({"scheduleType": "Hourly", "runNextAt": "2017-01-09T22:00:00.000-05:00",
            "scheduleDetails": {"startTime": 1320, "endTime": 120, "recurrenceMinutes": 60}}),
        );
        let got = runs(
            &s,
            at("2017-01-09T00:00:00-05:00"),
            at("2017-01-10T12:00:00-05:00"),
        );
        let text: Vec<String> = got.iter().map(|t| t.to_rfc3339()).collect();
        assert_eq!(
            text,
            [
                "2017-01-09T00:00:00-05:00",
                "2017-01-09T01:00:00-05:00",
                "2017-01-09T22:00:00-05:00",
                "2017-01-09T23:00:00-05:00",
                "2017-01-10T00:00:00-05:00",
                "2017-01-10T01:00:00-05:00"
            ]
        );
    }

    #[test]
    fn weekly_and_monthly_runs() {
        let weekly = schedule(json!({"scheduleType": "Weekly",
            "scheduleDetails": {"startTime": 240, "recurrenceDaysOfWeek": ["Mon", "Fri"]}}));
        // 2017-01-09 was a Monday.
        let got = runs(
            &weekly,
            at("2017-01-09T00:00:00Z"),
            at("2017-01-16T00:00:00Z"),
        );
        assert_eq!(
            got,
            [at("2017-01-09T04:00:00Z"), at("2017-01-13T04:00:00Z")]
        );
        let monthly = schedule(json!({"scheduleType": "Monthly",
            "scheduleDetails": {"startTime": 60, "recurrenceDayOfMonth": "31"}}));
        let got = runs(
            &monthly,
            at("2017-02-01T00:00:00Z"),
            at("2017-03-01T00:00:00Z"),
        );
        assert_eq!(got, [at("2017-02-28T01:00:00Z")]);
    }
}

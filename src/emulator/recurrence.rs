//! When a schedule runs: the `scheduleDetails` object of each schedule type (docs/protocol.md §4.2),
//! its validation with Tableau's error codes, and the next run time it implies. Times are
//! minutes after midnight in the server's time zone, which for the emulator is UTC.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::entities::ScheduleType;
use super::lenient;
use crate::wire::recurrence::Recurrence;
use crate::wire::schedule::{
    DAY_MINUTES, HOURLY_RECURRENCE_MINUTES as HOURLY_INTERVALS, WEEK_DAYS,
};
use crate::wire::{WireError, code};

/// A schedule's `scheduleDetails`: which fields are present depends on the type
/// (Hourly: start, end, recurrenceMinutes; Daily: start; Weekly: start, days; Monthly:
/// start, day of month).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ScheduleDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrence_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrence_days_of_week: Option<Vec<String>>,
    /// A day number as a string (`"4"`); days past a month's end mean its last day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrence_day_of_month: Option<String>,
}

impl ScheduleDetails {
    /// Reads details from a request, leniently: numbers may be strings, and the API guide's
    /// `recurrency*` spelling is accepted beside Tableau's `recurrence*`.
    pub(crate) fn from_request(value: &Value) -> Result<ScheduleDetails, WireError> {
        let Value::Object(map) = value else {
            return Err(WireError::new(
                code::BAD_PARAM_VALUE,
                "scheduleDetails must be an object",
            ));
        };
        let field = |names: &[&str]| {
            names
                .iter()
                .find_map(|name| map.get(*name))
                .filter(|v| !v.is_null())
        };
        let minutes = |names: &[&str]| -> Result<Option<u32>, WireError> {
            field(names)
                .map(|v| {
                    lenient::as_int(v)
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or_else(|| {
                            WireError::new(
                                code::BAD_PARAM_VALUE,
                                format!("{} must be a number of minutes", names[0]),
                            )
                        })
                })
                .transpose()
        };
        let days = match field(&["recurrenceDaysOfWeek", "recurrencyDaysOfWeek"]) {
            None => None,
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|d| d.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        WireError::new(
                            code::BAD_PARAM_VALUE,
                            "recurrenceDaysOfWeek must list day names",
                        )
                    })?,
            ),
            Some(_) => {
                return Err(WireError::new(
                    code::BAD_PARAM_VALUE,
                    "recurrenceDaysOfWeek must be an array",
                ));
            }
        };
        Ok(ScheduleDetails {
            start_time: minutes(&["startTime"])?,
            end_time: minutes(&["endTime"])?,
            recurrence_minutes: minutes(&["recurrenceMinutes", "recurrencyMinutes"])?,
            recurrence_days_of_week: days,
            recurrence_day_of_month: field(&["recurrenceDayOfMonth", "recurrencyDayOfMonth"])
                .and_then(lenient::as_text)
                .map(|d| d.into_owned()),
        })
    }

    /// Checks the details for a schedule type and keeps only the fields that type uses,
    /// with day names in their canonical spelling.
    pub(crate) fn validated(&self, kind: ScheduleType) -> Result<ScheduleDetails, WireError> {
        let start = self
            .start_time
            .filter(|t| *t < DAY_MINUTES)
            .ok_or_else(|| {
                WireError::new(
                    code::SCHEDULE_START_TIME_INVALID,
                    "startTime must be minutes after midnight (0-1439)",
                )
            })?;
        let mut out = ScheduleDetails {
            start_time: Some(start),
            ..ScheduleDetails::default()
        };
        match kind {
            ScheduleType::Daily => {}
            ScheduleType::Hourly => {
                let every = self
                    .recurrence_minutes
                    .filter(|m| HOURLY_INTERVALS.contains(m))
                    .ok_or_else(|| {
                        WireError::new(
                            code::SCHEDULE_RECURRENCE_MINUTES_INVALID,
                            format!("recurrenceMinutes must be one of {HOURLY_INTERVALS:?}"),
                        )
                    })?;
                let end = self.end_time.unwrap_or(0);
                if end > DAY_MINUTES {
                    return Err(WireError::new(
                        code::SCHEDULE_END_TIME_INVALID,
                        "endTime must be 0-1440",
                    ));
                }
                out.end_time = Some(end);
                out.recurrence_minutes = Some(every);
            }
            ScheduleType::Weekly => out.recurrence_days_of_week = Some(self.week_days()?),
            ScheduleType::Monthly => {
                let text = self.recurrence_day_of_month.as_deref().ok_or_else(|| {
                    WireError::new(
                        code::SCHEDULE_DAY_OF_MONTH_MISSING,
                        "a Monthly schedule needs recurrenceDayOfMonth (\"1\" to \"31\")",
                    )
                })?;
                let day = text
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|d| (1..=31).contains(d))
                    .ok_or_else(|| {
                        WireError::new(
                            code::NOT_A_DAY_OF_MONTH,
                            "recurrenceDayOfMonth must be \"1\" to \"31\"",
                        )
                    })?;
                out.recurrence_day_of_month = Some(day.to_string());
            }
        }
        Ok(out)
    }

    fn week_days(&self) -> Result<Vec<String>, WireError> {
        let missing = || {
            WireError::new(
                code::SCHEDULE_DAYS_OF_WEEK_MISSING,
                "recurrenceDaysOfWeek must list days such as \"Mon\", \"Tue\"",
            )
        };
        let days = self
            .recurrence_days_of_week
            .as_ref()
            .filter(|d| !d.is_empty())
            .ok_or_else(missing)?;
        let mut canonical: Vec<&str> = Vec::new();
        for day in days {
            let name = WEEK_DAYS
                .iter()
                .find(|w| **w == day.as_str())
                .ok_or_else(|| {
                    WireError::new(
                        code::NOT_A_DAY_OF_WEEK,
                        format!("\"{day}\" is not a day; use Sun, Mon, Tue, Wed, Thu, Fri or Sat"),
                    )
                })?;
            if !canonical.contains(name) {
                canonical.push(name);
            }
        }
        canonical.sort_by_key(|d| WEEK_DAYS.iter().position(|w| w == d));
        Ok(canonical.into_iter().map(str::to_owned).collect())
    }
}

/// The first run strictly after `after`, for details that passed
/// [`ScheduleDetails::validated`]; `None` when they did not.
pub(crate) fn next_run(
    kind: ScheduleType,
    details: &ScheduleDetails,
    after: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let recurrence = Recurrence {
        kind: kind.as_str(),
        start: i64::from(details.start_time?),
        end: details.end_time.map(i64::from),
        every: details.recurrence_minutes.map(i64::from),
        days_of_week: (details.recurrence_days_of_week.iter().flatten())
            .map(String::as_str)
            .collect(),
        day_of_month: (details.recurrence_day_of_month.as_deref()).and_then(|d| d.parse().ok()),
    };
    let today = after.date_naive();
    // A day back for an hourly window that crosses midnight; 13 months for a monthly
    // schedule on a day that comes late.
    (-1..=400)
        .filter_map(|n| today.checked_add_signed(TimeDelta::days(n)))
        .flat_map(|date| {
            let midnight = date.and_hms_opt(0, 0, 0).map(|m| m.and_utc());
            (recurrence.starts_on(date).into_iter())
                .filter_map(move |m| Some(midnight? + TimeDelta::minutes(m)))
        })
        .find(|t| *t > after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn details(kind: ScheduleType, value: Value) -> ScheduleDetails {
        ScheduleDetails::from_request(&value)
            .unwrap()
            .validated(kind)
            .unwrap()
    }

    // 2017-01-06 was a Friday.
    fn friday_noon() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2017, 1, 6, 12, 0, 0).unwrap()
    }

    #[test]
    fn weekly_runs_on_the_next_listed_day() {
        let d = details(
            ScheduleType::Weekly,
            json!({"startTime": 240, "recurrenceDaysOfWeek": ["Mon", "Fri"]}),
        );
        assert_eq!(
            d.recurrence_days_of_week,
            Some(vec!["Mon".to_owned(), "Fri".to_owned()])
        );
        let next = next_run(ScheduleType::Weekly, &d, friday_noon()).unwrap();
        assert_eq!(next, Utc.with_ymd_and_hms(2017, 1, 9, 4, 0, 0).unwrap());
    }

    #[test]
    fn monthly_clamps_to_the_last_day_of_short_months() {
        let d = details(
            ScheduleType::Monthly,
            json!({"startTime": 60, "recurrenceDayOfMonth": 31}),
        );
        let after = Utc.with_ymd_and_hms(2017, 2, 1, 0, 0, 0).unwrap();
        let next = next_run(ScheduleType::Monthly, &d, after).unwrap();
        assert_eq!(next, Utc.with_ymd_and_hms(2017, 2, 28, 1, 0, 0).unwrap());
    }

    #[test]
    fn hourly_steps_inside_its_window() {
        let d = details(
            ScheduleType::Hourly,
            json!({"startTime": 480, "endTime": 1080, "recurrenceMinutes": "120"}),
        );
        let next = next_run(ScheduleType::Hourly, &d, friday_noon()).unwrap();
        assert_eq!(next, Utc.with_ymd_and_hms(2017, 1, 6, 14, 0, 0).unwrap());
        let evening = Utc.with_ymd_and_hms(2017, 1, 6, 19, 0, 0).unwrap();
        let next = next_run(ScheduleType::Hourly, &d, evening).unwrap();
        assert_eq!(next, Utc.with_ymd_and_hms(2017, 1, 7, 8, 0, 0).unwrap());
    }

    #[test]
    fn daily_runs_tomorrow_once_today_has_passed() {
        let d = details(
            ScheduleType::Daily,
            json!({"startTime": 120, "recurrenceMinutes": 60}),
        );
        assert_eq!(
            d.recurrence_minutes, None,
            "fields of other types are dropped"
        );
        let next = next_run(ScheduleType::Daily, &d, friday_noon()).unwrap();
        assert_eq!(next, Utc.with_ymd_and_hms(2017, 1, 7, 2, 0, 0).unwrap());
    }

    #[test]
    fn invalid_details_get_tableaus_codes() {
        let check = |kind, value: Value| {
            ScheduleDetails::from_request(&value)
                .and_then(|d| d.validated(kind))
                .unwrap_err()
                .code
        };
        assert_eq!(
            check(ScheduleType::Daily, json!({})),
            Some(code::SCHEDULE_START_TIME_INVALID)
        );
        assert_eq!(
            check(
                ScheduleType::Hourly,
                json!({"startTime": 0, "recurrenceMinutes": 7})
            ),
            Some(code::SCHEDULE_RECURRENCE_MINUTES_INVALID)
        );
        assert_eq!(
            check(
                ScheduleType::Weekly,
                json!({"startTime": 0, "recurrenceDaysOfWeek": ["Funday"]})
            ),
            Some(code::NOT_A_DAY_OF_WEEK)
        );
        assert_eq!(
            check(
                ScheduleType::Weekly,
                json!({"startTime": 0, "recurrenceDaysOfWeek": []})
            ),
            Some(code::SCHEDULE_DAYS_OF_WEEK_MISSING)
        );
        assert_eq!(
            check(
                ScheduleType::Monthly,
                json!({"startTime": 0, "recurrenceDayOfMonth": "32"})
            ),
            Some(code::NOT_A_DAY_OF_MONTH)
        );
        assert_eq!(
            check(ScheduleType::Monthly, json!({"startTime": 0})),
            Some(code::SCHEDULE_DAY_OF_MONTH_MISSING)
        );
        assert_eq!(
            check(ScheduleType::Daily, json!([])),
            Some(code::BAD_PARAM_VALUE)
        );
    }
}

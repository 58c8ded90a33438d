//! When a schedule starts, from its type and details (protocol §4.2): the minutes after
//! a day's midnight, in the server's time zone, at which it starts on that day. One rule
//! for both sides: the emulator's `runNextAt` and the client's `schedule_runs`.

use chrono::{Datelike, NaiveDate};

use super::schedule::{DAY_MINUTES, WEEK_DAYS};

/// The details that decide when a schedule starts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recurrence<'a> {
    /// `Hourly`, `Daily`, `Weekly` or `Monthly`.
    pub kind: &'a str,
    /// `startTime`: minutes after midnight.
    pub start: i64,
    /// `endTime` of an hourly window (0 or at most `start`: the window ends the next day).
    pub end: Option<i64>,
    /// `recurrenceMinutes` of an hourly schedule.
    pub every: Option<i64>,
    /// `recurrenceDaysOfWeek` of a weekly schedule (`Sun` .. `Sat`).
    pub days_of_week: Vec<&'a str>,
    /// `recurrenceDayOfMonth` of a monthly schedule; past a month's end it means the last
    /// day.
    pub day_of_month: Option<i64>,
}

impl Recurrence<'_> {
    /// Minutes after the midnight of `date` at which the schedule starts, ascending. An
    /// hourly window that crosses midnight gives minutes past 1440 (the next day). A
    /// `startTime` or `endTime` outside a day starts never.
    pub fn starts_on(&self, date: NaiveDate) -> Vec<i64> {
        let day = 0..=i64::from(DAY_MINUTES);
        if !day.contains(&self.start) || self.end.is_some_and(|end| !day.contains(&end)) {
            return Vec::new();
        }
        let on = |yes: bool| if yes { vec![self.start] } else { Vec::new() };
        match self.kind {
            "Daily" => vec![self.start],
            "Weekly" => {
                let today = WEEK_DAYS[date.weekday().num_days_from_sunday() as usize];
                on(self.days_of_week.contains(&today))
            }
            "Monthly" => on(self
                .day_of_month
                .is_some_and(|d| i64::from(date.day()) == d.min(last_day(date)))),
            "Hourly" => {
                let every = self.every.unwrap_or(60).max(1);
                let end = self.end.unwrap_or(0);
                let end = if end <= self.start {
                    end + i64::from(DAY_MINUTES)
                } else {
                    end
                };
                (self.start..end).step_by(every as usize).collect()
            }
            _ => Vec::new(),
        }
    }
}

/// The last day of `date`'s month.
fn last_day(date: NaiveDate) -> i64 {
    let next_month = if date.month() == 12 {
        NaiveDate::from_ymd_opt(date.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(date.year(), date.month() + 1, 1)
    };
    next_month
        .and_then(|d| d.pred_opt())
        .map_or(31, |d| i64::from(d.day()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_start_or_end_outside_a_day_starts_never() {
        let monday = date(2027, 1, 4);
        for (start, end) in [(-1_000_000_000_000, None), (i64::MAX, None), (60, Some(-5))] {
            let hourly = Recurrence {
                kind: "Hourly",
                start,
                end,
                every: Some(1),
                ..Recurrence::default()
            };
            assert!(hourly.starts_on(monday).is_empty(), "{start} {end:?}");
        }
    }

    #[test]
    fn each_type_on_its_days() {
        let hourly = Recurrence {
            kind: "Hourly",
            start: 1320,
            end: Some(120),
            every: Some(60),
            ..Recurrence::default()
        };
        assert_eq!(hourly.starts_on(date(2017, 1, 9)), [1320, 1380, 1440, 1500]);
        let weekly = Recurrence {
            kind: "Weekly",
            start: 240,
            days_of_week: vec!["Mon"],
            ..Recurrence::default()
        };
        // 2017-01-09 was a Monday.
        assert_eq!(weekly.starts_on(date(2017, 1, 9)), [240]);
        assert!(weekly.starts_on(date(2017, 1, 10)).is_empty());
        let monthly = Recurrence {
            kind: "Monthly",
            start: 60,
            day_of_month: Some(31),
            ..Recurrence::default()
        };
        assert_eq!(monthly.starts_on(date(2017, 2, 28)), [60]);
        assert!(monthly.starts_on(date(2017, 3, 30)).is_empty());
    }
}

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

/// `targetType` values of extract tasks.
pub const TARGET_TYPES: &[&str] = &["Workbook", "Datasource"];

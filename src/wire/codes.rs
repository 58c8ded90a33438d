//! Numeric error codes that travel in `result.errors[].code`, as named in Tableau's own
//! web-client typings (docs/protocol.md §2.4, §2.7, §3 and §4.1).

/// Error codes, grouped by the part of the protocol they belong to.
pub mod code {
    /// Insufficient permissions.
    pub const PERMISSION_DENIED: i64 = 1;
    /// Workbook not found.
    pub const WORKBOOK_NOT_FOUND: i64 = 7;
    /// Datasource not found.
    pub const DATASOURCE_NOT_FOUND: i64 = 11;
    /// Site not found.
    pub const SITE_NOT_FOUND: i64 = 12;
    /// Bad credentials on `login`; "not a member / no such site" on `switchSite`.
    pub const BAD_CREDENTIALS: i64 = 16;
    /// Unexpected server error.
    pub const UNEXPECTED: i64 = 17;
    /// Invalid page size (`page.maxItems`).
    pub const INVALID_PAGE_SIZE: i64 = 19;
    /// Invalid start index (`page.startIndex`).
    pub const INVALID_START_INDEX: i64 = 20;
    /// A filter clause the server cannot read.
    pub const INVALID_FILTER_CLAUSES: i64 = 21;
    /// Invalid sort clause field name.
    pub const INVALID_SORT_FIELD: i64 = 22;
    /// A required parameter is null or empty.
    pub const NULL_OR_EMPTY_PARAM: i64 = 24;
    /// A parameter has a bad value.
    pub const BAD_PARAM_VALUE: i64 = 25;
    /// No session, an expired session, or (in the emulator) a failed XSRF check.
    pub const INVALID_SESSION: i64 = 46;
    /// The site lives on another pod (Tableau Cloud); carries `destinationPodUrl`.
    pub const POD_REDIRECT: i64 = 55;
    /// Unknown method name (emulator's choice; real servers' code is not known).
    pub const UNKNOWN_METHOD: i64 = 80000;
    /// A method real servers have (it is in the catalogue of known methods) that the
    /// emulator does not model (emulator's choice, far from any code real servers use).
    pub const NOT_MODELLED: i64 = 99000;
    /// The session is already on the requested site.
    pub const ALREADY_ON_SITE: i64 = 10056;
    /// Null or empty schedule ids.
    pub const SCHEDULE_IDS_EMPTY: i64 = 120000;
    /// Schedule not found.
    pub const SCHEDULE_NOT_FOUND: i64 = 120001;
    /// Extract task not found.
    pub const TASK_NOT_FOUND: i64 = 120002;
    /// Schedule name empty.
    pub const SCHEDULE_NAME_EMPTY: i64 = 120003;
    /// Schedule name too long.
    pub const SCHEDULE_NAME_TOO_LONG: i64 = 120004;
    /// Schedule name already exists.
    pub const SCHEDULE_NAME_EXISTS: i64 = 120005;
    /// Schedule start time invalid.
    pub const SCHEDULE_START_TIME_INVALID: i64 = 120006;
    /// Schedule end time invalid.
    pub const SCHEDULE_END_TIME_INVALID: i64 = 120007;
    /// Hourly schedule `recurrenceMinutes` invalid.
    pub const SCHEDULE_RECURRENCE_MINUTES_INVALID: i64 = 120008;
    /// Weekly schedule without `recurrenceDaysOfWeek`.
    pub const SCHEDULE_DAYS_OF_WEEK_MISSING: i64 = 120009;
    /// Monthly schedule without `recurrenceDayOfMonth`.
    pub const SCHEDULE_DAY_OF_MONTH_MISSING: i64 = 120010;
    /// Priority out of range.
    pub const PRIORITY_INVALID: i64 = 120011;
    /// An extract task already exists for that target.
    pub const TASK_EXISTS: i64 = 120012;
    /// Subscription schedule is not a subscription schedule.
    pub const SUBSCRIPTION_SCHEDULE_INVALID: i64 = 150000;
    /// Unknown background job (the web client's `AsyncJobNotFound`; the emulator's choice
    /// for `getBackgroundJobExtendedInfo` on a job it does not have).
    pub const BACKGROUND_JOB_NOT_FOUND: i64 = 28;
    /// `scheduledAction` is not `Extract` or `Subscription`.
    pub const NOT_A_SCHEDULED_ACTION: i64 = 80006;
    /// `scheduleType` is not `Hourly`, `Daily`, `Weekly` or `Monthly`.
    pub const NOT_A_SCHEDULE_TYPE: i64 = 80007;
    /// `recurrenceDayOfMonth` is not a day of a month.
    pub const NOT_A_DAY_OF_MONTH: i64 = 80008;
    /// A `recurrenceDaysOfWeek` entry is not a day name.
    pub const NOT_A_DAY_OF_WEEK: i64 = 80009;
    /// The task `type` is not `RefreshExtract` or `IncrementExtract`.
    pub const NOT_A_TASK_TYPE: i64 = 80010;
    /// `targetType` is not `Workbook` or `Datasource`.
    pub const NOT_A_TARGET_TYPE: i64 = 80011;
    /// An incremental refresh is not allowed for that target.
    pub const INCREMENT_NOT_ALLOWED: i64 = 80012;
    /// A full refresh is not allowed for that target (it has no extract).
    pub const REFRESH_NOT_ALLOWED: i64 = 80013;
    /// A list cannot filter on that field (TabJolt's name for 80014; other versions use
    /// the code for something else: codes drift between versions).
    pub const FILTER_FIELD_NOT_SUPPORTED: i64 = 80014;
}

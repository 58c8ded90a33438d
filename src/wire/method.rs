//! Method names both sides use. The client calls them and the emulator dispatches on
//! them; spelling one in one place keeps the two from drifting apart.

/// Whether `name` can be a method's name: letters, digits and `_`, as the URL's last part
/// takes it (no path, no query).
pub fn is_method_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Why `name` is no method's name, for a usage error.
pub fn not_a_method_name(name: &str) -> String {
    match name.trim().is_empty() {
        true => "no method name: name a Vizportal method, e.g. getSessionInfo".to_string(),
        false => format!(
            "{name:?} is not a Vizportal method name (letters, digits and _ only, e.g. getSessionInfo)"
        ),
    }
}

/// Unauthenticated: how the server signs users in (`authenticationType`).
pub const GET_SERVER_SETTINGS_UNAUTHENTICATED: &str = "getServerSettingsUnauthenticated";
/// Unauthenticated: a fresh RSA key for one login.
pub const GENERATE_PUBLIC_KEY: &str = "generatePublicKey";
/// Unauthenticated: sign in with the encrypted password.
pub const LOGIN: &str = "login";
/// The session's user, site and server.
pub const GET_SESSION_INFO: &str = "getSessionInfo";
/// Move the session to another site (its cookies rotate).
pub const SWITCH_SITE: &str = "switchSite";
/// End the session.
pub const LOGOUT: &str = "logout";

/// List extract refresh tasks.
pub const GET_EXTRACT_TASKS: &str = "getExtractTasks";
/// Move tasks to a schedule.
pub const SET_EXTRACT_TASKS_SCHEDULE: &str = "setExtractTasksSchedule";
/// Change tasks' priority.
pub const SET_EXTRACT_TASKS_PRIORITY: &str = "setExtractTasksPriority";
/// The singular spelling some server versions use for [`SET_EXTRACT_TASKS_PRIORITY`].
pub const SET_EXTRACT_TASK_PRIORITY: &str = "setExtractTaskPriority";
/// Run tasks now.
pub const RUN_EXTRACT_TASKS: &str = "runExtractTasks";
/// Delete tasks.
pub const DELETE_EXTRACT_TASKS: &str = "deleteExtractTasks";
/// Create refresh tasks for workbooks or data sources.
pub const CREATE_EXTRACT_TASKS: &str = "createExtractTasks";
/// List schedules.
pub const GET_SCHEDULES: &str = "getSchedules";
/// Create a schedule.
pub const CREATE_SCHEDULE: &str = "createSchedule";
/// Change a schedule (every field is sent).
pub const UPDATE_SCHEDULE: &str = "updateSchedule";
/// Enable or disable schedules.
pub const SET_ENABLED_STATUS_FOR_SCHEDULES: &str = "setEnabledStatusForSchedules";
/// Rename a schedule.
pub const SET_SCHEDULE_NAME: &str = "setScheduleName";
/// Delete schedules.
pub const DELETE_SCHEDULES: &str = "deleteSchedules";
/// Run every task of schedules now.
pub const RUN_SCHEDULES: &str = "runSchedules";
/// Run server-wide schedules now.
pub const RUN_SERVER_SCHEDULES: &str = "runServerSchedules";
/// List background jobs.
pub const GET_BACKGROUND_JOBS: &str = "getBackgroundJobs";
/// What a background job works on.
pub const GET_BACKGROUND_JOB_EXTENDED_INFO: &str = "getBackgroundJobExtendedInfo";
/// List subscriptions.
pub const GET_SUBSCRIPTIONS: &str = "getSubscriptions";
/// Move subscriptions to a schedule.
pub const SET_SUBSCRIPTIONS_SCHEDULE: &str = "setSubscriptionsSchedule";
/// List workbooks.
pub const GET_WORKBOOKS: &str = "getWorkbooks";
/// List data sources.
pub const GET_DATASOURCES: &str = "getDatasources";
/// List projects.
pub const GET_PROJECTS: &str = "getProjects";
/// List users.
pub const GET_USERS: &str = "getUsers";
/// List the sites the user can reach, on every pod.
pub const GET_SITE_NAMES_ACROSS_ALL_PODS: &str = "getSiteNamesAcrossAllPods";

/// Methods a server answers without a session or an XSRF header.
pub const UNAUTHENTICATED: &[&str] = &[
    GET_SERVER_SETTINGS_UNAUTHENTICATED,
    GENERATE_PUBLIC_KEY,
    LOGIN,
];

/// Session plumbing: changes no server content.
pub const SESSION: &[&str] = &[GENERATE_PUBLIC_KEY, LOGIN, SWITCH_SITE, LOGOUT];

//! The Vizportal methods the emulator answers, and the one place a call is authenticated
//! and dispatched. Handlers see the locked server state and a parsed call, and answer with
//! a result object or an error; the HTTP layer knows nothing about individual methods.

mod auth;
mod background_jobs;
mod content;
mod params;
mod schedules;
mod side_tables;
mod subscriptions;
mod tasks;

use std::time::Instant;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::config::Limits;
use super::entities::User;
use super::session::{Refusal, SessionView};
use super::state::ServerState;
use crate::wire::{UNAUTHENTICATED_METHODS, WireError, code};

/// A parsed call as a handler sees it.
pub(crate) struct Call<'a> {
    pub params: &'a Map<String, Value>,
    /// The caller's session; present for every method that needs one.
    pub session: Option<SessionView>,
    pub limits: &'a Limits,
    /// Wall-clock time, for timestamps written into the data.
    pub now: DateTime<Utc>,
    /// Monotonic time, for session and key expiry.
    pub instant: Instant,
}

impl Call<'_> {
    /// The caller's session (handlers of authenticated methods only).
    fn session(&self) -> Result<&SessionView, Failure> {
        self.session
            .as_ref()
            .ok_or_else(|| Failure::http(401, code::INVALID_SESSION, "this method needs a session"))
    }
}

/// A successful answer: HTTP status, the `result` object and cookies to set, in order.
pub(crate) struct Reply {
    pub status: u16,
    pub result: Value,
    pub cookies: Vec<String>,
}

impl Reply {
    fn ok(result: Value) -> Reply {
        Reply {
            status: 200,
            result,
            cookies: Vec::new(),
        }
    }

    fn empty() -> Reply {
        Reply::ok(json!({}))
    }
}

/// A call that failed as a whole: `{"result":{"errors":[...]}}` with an HTTP status.
#[derive(Debug)]
pub(crate) struct Failure {
    pub status: u16,
    pub error: WireError,
}

impl Failure {
    /// A business error: HTTP 200 with `result.errors`, as real servers answer them.
    fn business(code: i64, message: impl Into<String>) -> Failure {
        Failure {
            status: 200,
            error: WireError::new(code, message),
        }
    }

    fn http(status: u16, code: i64, message: impl Into<String>) -> Failure {
        Failure {
            status,
            error: WireError::new(code, message),
        }
    }
}

impl From<WireError> for Failure {
    fn from(error: WireError) -> Failure {
        Failure { status: 200, error }
    }
}

impl From<Failure> for Reply {
    fn from(failure: Failure) -> Reply {
        Reply {
            status: failure.status,
            result: errors(vec![failure.error]),
            cookies: Vec::new(),
        }
    }
}

/// `{"errors":[...]}`.
fn errors(errors: Vec<WireError>) -> Value {
    json!({ "errors": errors })
}

type Outcome = Result<Reply, Failure>;
type Handler = fn(&mut ServerState, &Call) -> Outcome;

/// The handler of a method name, if the emulator knows it.
fn handler(method: &str) -> Option<Handler> {
    let handler: Handler = match method {
        "getServerSettingsUnauthenticated" => auth::server_settings,
        "generatePublicKey" => auth::generate_public_key,
        "login" => auth::login,
        "getSessionInfo" => auth::session_info,
        "switchSite" => auth::switch_site,
        "logout" => auth::logout,
        "getExtractTasks" => tasks::list,
        "setExtractTasksSchedule" => tasks::set_schedule,
        "setExtractTasksPriority" | "setExtractTaskPriority" => tasks::set_priority,
        "runExtractTasks" => tasks::run,
        "deleteExtractTasks" => tasks::delete,
        "createExtractTasks" => tasks::create,
        "getSchedules" => schedules::list,
        "createSchedule" => schedules::create,
        "updateSchedule" => schedules::update,
        "setEnabledStatusForSchedules" => schedules::set_enabled,
        "setScheduleName" => schedules::set_name,
        "deleteSchedules" => schedules::delete,
        "runSchedules" => schedules::run,
        "runServerSchedules" => schedules::run_server,
        "getBackgroundJobs" => background_jobs::list,
        "getBackgroundJobExtendedInfo" => background_jobs::extended_info,
        "getSubscriptions" => subscriptions::list,
        "setSubscriptionsSchedule" => subscriptions::set_schedule,
        "getWorkbooks" => content::workbooks,
        "getDatasources" => content::datasources,
        "getProjects" => content::projects,
        "getUsers" => content::users,
        "getSiteNamesAcrossAllPods" => content::site_names,
        _ => return None,
    };
    Some(handler)
}

/// One call as it arrived.
pub(crate) struct Incoming<'a> {
    pub method: &'a str,
    pub params: &'a Map<String, Value>,
    pub session_id: Option<&'a str>,
    pub xsrf_header: Option<&'a str>,
}

/// Authenticates and runs a call; returns the reply and the session's username.
pub(crate) fn answer(
    state: &mut ServerState,
    incoming: &Incoming,
    limits: &Limits,
) -> (Reply, Option<String>) {
    let hidden = state.hidden_methods.iter().any(|m| m == incoming.method);
    let Some(handler) = handler(incoming.method).filter(|_| !hidden) else {
        let message = format!("unknown method \"{}\"", incoming.method);
        return (
            Failure::http(400, code::UNKNOWN_METHOD, message).into(),
            None,
        );
    };
    let instant = Instant::now();
    let session = if UNAUTHENTICATED_METHODS.contains(&incoming.method) {
        None
    } else {
        let checked = state.sessions.authenticate(
            incoming.session_id,
            incoming.xsrf_header,
            instant,
            limits.session_ttl,
        );
        match checked {
            Ok(view) => Some(view),
            Err(Refusal::Session(error)) => return (Failure { status: 401, error }.into(), None),
            Err(Refusal::Xsrf(error)) => {
                return (
                    Failure {
                        status: limits.xsrf_failure_status,
                        error,
                    }
                    .into(),
                    None,
                );
            }
        }
    };
    let username = session
        .as_ref()
        .and_then(|s| state.data.users.get(&s.user))
        .map(|u| u.username.clone());
    if !incoming.method.starts_with("get") {
        state.generation += 1;
    }
    let now = Utc::now();
    state.advance(now);
    let call = Call {
        params: incoming.params,
        session,
        limits,
        now,
        instant,
    };
    let reply = handler(state, &call).unwrap_or_else(Reply::from);
    (reply, username)
}

/// The session's user.
fn session_user<'s>(state: &'s ServerState, session: &SessionView) -> Result<&'s User, Failure> {
    state.data.users.get(&session.user).ok_or_else(|| {
        Failure::http(
            401,
            code::INVALID_SESSION,
            "the session's user no longer exists",
        )
    })
}

/// Refuses a change unless the session's user administers its site.
fn require_site_admin(state: &ServerState, session: &SessionView) -> Result<(), Failure> {
    if session_user(state, session)?.administers(session.site) {
        Ok(())
    } else {
        Err(Failure::business(
            code::PERMISSION_DENIED,
            "only site and server administrators may do this",
        ))
    }
}

/// Refuses a change unless the session's user is a server administrator.
fn require_server_admin(state: &ServerState, session: &SessionView) -> Result<(), Failure> {
    if session_user(state, session)?.server_admin {
        Ok(())
    } else {
        Err(Failure::business(
            code::PERMISSION_DENIED,
            "only server administrators may do this",
        ))
    }
}

/// The answer to a batch call: `{}` when every id succeeded, else the per-id errors.
fn batch_reply(failed: Vec<WireError>) -> Reply {
    if failed.is_empty() {
        Reply::empty()
    } else {
        Reply::ok(errors(failed))
    }
}

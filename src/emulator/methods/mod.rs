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
use super::sessions::{Refusal, SessionView, XsrfPair};
use super::state::ServerState;
use crate::wire::{UNAUTHENTICATED_METHODS, WireError, code, known_method};

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

/// Whether the emulator answers `method` (REST paths such as `auth/signin` aside).
pub fn serves(method: &str) -> bool {
    handler(method).is_some()
}

/// The handler of a method name, if the emulator knows it.
fn handler(method: &str) -> Option<Handler> {
    use crate::wire::method as m;
    let handler: Handler = match method {
        m::GET_SERVER_SETTINGS_UNAUTHENTICATED => auth::server_settings,
        m::GENERATE_PUBLIC_KEY => auth::generate_public_key,
        m::LOGIN => auth::login,
        m::GET_SESSION_INFO => auth::session_info,
        m::SWITCH_SITE => auth::switch_site,
        m::LOGOUT => auth::logout,
        m::GET_EXTRACT_TASKS => tasks::list,
        m::SET_EXTRACT_TASKS_SCHEDULE => tasks::set_schedule,
        m::SET_EXTRACT_TASKS_PRIORITY | m::SET_EXTRACT_TASK_PRIORITY => tasks::set_priority,
        m::RUN_EXTRACT_TASKS => tasks::run,
        m::DELETE_EXTRACT_TASKS => tasks::delete,
        m::CREATE_EXTRACT_TASKS => tasks::create,
        m::GET_SCHEDULES => schedules::list,
        m::CREATE_SCHEDULE => schedules::create,
        m::UPDATE_SCHEDULE => schedules::update,
        m::SET_ENABLED_STATUS_FOR_SCHEDULES => schedules::set_enabled,
        m::SET_SCHEDULE_NAME => schedules::set_name,
        m::DELETE_SCHEDULES => schedules::delete,
        m::RUN_SCHEDULES => schedules::run,
        m::RUN_SERVER_SCHEDULES => schedules::run_server,
        m::GET_BACKGROUND_JOBS => background_jobs::list,
        m::GET_BACKGROUND_JOB_EXTENDED_INFO => background_jobs::extended_info,
        m::GET_SUBSCRIPTIONS => subscriptions::list,
        m::SET_SUBSCRIPTIONS_SCHEDULE => subscriptions::set_schedule,
        m::GET_WORKBOOKS => content::workbooks,
        m::GET_DATASOURCES => content::datasources,
        m::GET_PROJECTS => content::projects,
        m::GET_USERS => content::users,
        m::GET_SITE_NAMES_ACROSS_ALL_PODS => content::site_names,
        _ => return None,
    };
    Some(handler)
}

/// One call as it arrived.
pub(crate) struct RawCall<'a> {
    pub method: &'a str,
    pub params: &'a Map<String, Value>,
    pub session_id: Option<&'a str>,
    pub xsrf: XsrfPair<'a>,
}

/// Authenticates and runs a call; returns the reply and the session's username.
pub(crate) fn answer(
    state: &mut ServerState,
    incoming: &RawCall,
    limits: &Limits,
) -> (Reply, Option<String>) {
    let hidden = state.hidden_methods.iter().any(|m| m == incoming.method);
    let Some(handler) = handler(incoming.method).filter(|_| !hidden) else {
        let failure = if hidden {
            // A server without this method answers as for any name it does not know.
            Failure::http(
                400,
                code::UNKNOWN_METHOD,
                format!("unknown method \"{}\"", incoming.method),
            )
        } else {
            not_handled(incoming.method)
        };
        return (failure.into(), None);
    };
    let instant = Instant::now();
    let session = if UNAUTHENTICATED_METHODS.contains(&incoming.method) {
        None
    } else {
        let checked = state.sessions.authenticate(
            incoming.session_id,
            incoming.xsrf,
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

/// The answer to a method without a handler. A name real servers have (it is in the
/// catalogue of known methods) is "not modelled" with HTTP 501, so an explorer can tell
/// it from a misspelt name, which gets the unknown-method error with HTTP 400.
fn not_handled(method: &str) -> Failure {
    if known_method(method).is_some() {
        let message = format!(
            "\"{method}\" exists on real Tableau servers but is not modelled by the emulator"
        );
        Failure::http(501, code::NOT_MODELLED, message)
    } else {
        Failure::http(
            400,
            code::UNKNOWN_METHOD,
            format!("unknown method \"{method}\""),
        )
    }
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

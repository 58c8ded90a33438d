//! Typed client errors. Each variant carries what a user needs to act: the method, the
//! HTTP status and the server's own code and message. The CLI maps these to exit codes in
//! one place; the script layer turns them into catchable error maps in one place.

use crate::wire::WireError;

/// Why a login did not produce a usable session (exit code 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginFailure {
    /// The server rejected the username or password.
    BadCredentials,
    /// The requested site does not exist or the user is not a member.
    UnknownSite {
        /// The site's URL name as asked for.
        site: String,
        /// The call that asked for it after sign-in (`switchSite`), if one did.
        during: Option<String>,
    },
    /// The server uses an authentication the encrypted-password login cannot do.
    UnsupportedAuth(String),
    /// The server answered `login` in a way the client does not understand.
    Unexpected(String),
    /// REST `auth/signin` refused the personal access token.
    TokenRefused {
        /// The REST error code (`401001`, ...).
        code: String,
        /// The server's detail text.
        detail: String,
        /// The site signed in to.
        site: String,
    },
    /// A session made elsewhere (given, or saved) is no longer valid and nothing is
    /// configured to sign in again with.
    SessionEnded {
        /// What happened and what to do.
        message: String,
        /// The call that found the session ended, when one did (in the middle of a run).
        during: Option<String>,
    },
}

/// Everything that can go wrong talking to Vizportal.
#[derive(Debug, thiserror::Error)]
pub enum VizportalError {
    /// The server answered with `result.errors`.
    #[error("{method} failed: {}", describe_errors(.errors))]
    Api {
        /// The Vizportal method.
        method: String,
        /// HTTP status of the answer (200 for most business errors).
        status: u16,
        /// The server's errors, as sent.
        errors: Vec<WireError>,
    },
    /// An HTTP error status without a Vizportal error body (after any retries).
    #[error("{method}: HTTP {status} from the server{}", excerpt_suffix(.excerpt))]
    Http {
        /// The Vizportal method.
        method: String,
        /// HTTP status.
        status: u16,
        /// A short, single-line excerpt of the body.
        excerpt: String,
    },
    /// The answer is not the Vizportal API (an HTML page, a proxy, an SSO redirect ...).
    #[error(
        "this is not the Vizportal API at {url}: HTTP {status}, {content_type}{}",
        excerpt_suffix(.excerpt)
    )]
    NotVizportal {
        /// The URL that was called.
        url: String,
        /// HTTP status.
        status: u16,
        /// The Content-Type the server sent.
        content_type: String,
        /// A short excerpt of the body.
        excerpt: String,
    },
    /// The server redirected the call to another server (another host, port or scheme);
    /// credentials are not sent there.
    #[error("{url}: HTTP {status} redirects to another server ({target}); not followed")]
    ForeignRedirect {
        /// The URL that was called.
        url: String,
        /// HTTP status of the redirect.
        status: u16,
        /// Where it pointed.
        target: String,
    },
    /// The server's TLS certificate is not trusted.
    #[error("{method}: TLS failure: {message}; the server's certificate is not trusted")]
    UntrustedCertificate {
        /// The Vizportal method.
        method: String,
        /// The TLS error chain.
        message: String,
    },
    /// The server URL cannot be used.
    #[error("server URL {given:?} is not usable: {reason}")]
    BadServerUrl {
        /// The URL as given.
        given: String,
        /// Why not.
        reason: String,
    },
    /// An extra CA certificate file cannot be used.
    #[error("CA certificate file {}: {problem}", .path.display())]
    CaCertificate {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The session expired or was rejected and logging in again did not help.
    #[error("{method}: session rejected by the server: {message}")]
    Session {
        /// The Vizportal method.
        method: String,
        /// What happened.
        message: String,
    },
    /// Login failed.
    #[error("login failed: {}", describe_login(.0))]
    Login(LoginFailure),
    /// Connection, TLS, timeout or protocol failure before a usable answer arrived.
    #[error("{method}: {message}")]
    Transport {
        /// The Vizportal method (or `connect`).
        method: String,
        /// What happened, with the cause chain.
        message: String,
    },
    /// A change the client held back and never sent: the run was interrupted, the audit
    /// file could not record it, or what it changes could not be read for the audit.
    #[error("{method} not sent: {reason}")]
    NotSent {
        /// The Vizportal method.
        method: String,
        /// Why it was held back.
        reason: String,
        /// The class of what held it back (a read's failure keeps its own: an SSO page
        /// answering the read is still not the Vizportal API).
        class: ErrorClass,
    },
    /// An answer over the size the client reads: the call must ask for less.
    #[error(
        "{method}: the answer is larger than the {limit_mib} MiB limit; narrow the call (a filter, smaller pages)"
    )]
    TooLarge {
        /// The Vizportal method.
        method: String,
        /// The limit, in MiB.
        limit_mib: usize,
    },
    /// A non-idempotent call failed in a way that leaves its effect unknown.
    #[error(
        "{method}: outcome unknown: {message}; the server may or may not have applied it, check before repeating"
    )]
    OutcomeUnknown {
        /// The Vizportal method.
        method: String,
        /// What happened.
        message: String,
        /// The HTTP status, when the server answered (a 429 or 503 it declined with).
        status: Option<u16>,
    },
    /// The caller passed something the client cannot send.
    #[error("{0}")]
    Usage(String),
}

/// Classes of client error, for the binary's edge: each decides an exit code and a hint
/// (see `crate::exit`), and travels with an error thrown into a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// A call failed: server errors, HTTP errors (but 502/503/504), a rejected session, an
    /// unknown outcome.
    CallFailed,
    /// Signing in failed.
    Login,
    /// No usable connection to the server, or a server that answered only "unavailable"
    /// (HTTP 502/503/504) through the retries.
    Unreachable,
    /// The server's certificate is not trusted.
    UntrustedCertificate,
    /// The answer is not the Vizportal API.
    NotVizportal,
    /// A redirect to another host.
    ForeignRedirect,
    /// The server URL cannot be used.
    BadServerUrl,
    /// An extra CA file cannot be used.
    CaCertificate,
    /// The caller passed something that cannot be sent.
    Usage,
}

impl ErrorClass {
    /// Every class, in declaration order.
    pub const ALL: &'static [ErrorClass] = &[
        ErrorClass::CallFailed,
        ErrorClass::Login,
        ErrorClass::Unreachable,
        ErrorClass::UntrustedCertificate,
        ErrorClass::NotVizportal,
        ErrorClass::ForeignRedirect,
        ErrorClass::BadServerUrl,
        ErrorClass::CaCertificate,
        ErrorClass::Usage,
    ];
}

impl VizportalError {
    /// The class that decides the exit code and hint.
    pub fn class(&self) -> ErrorClass {
        match self {
            // A server (or its gateway) that stayed unavailable through the retries
            // cannot be reached for now, as when its connection is refused.
            VizportalError::Http {
                status: 502..=504, ..
            } => ErrorClass::Unreachable,
            VizportalError::Api { .. }
            | VizportalError::Http { .. }
            | VizportalError::Session { .. }
            | VizportalError::TooLarge { .. }
            | VizportalError::OutcomeUnknown { .. } => ErrorClass::CallFailed,
            VizportalError::NotSent { class, .. } => *class,
            VizportalError::Login(_) => ErrorClass::Login,
            VizportalError::Transport { .. } => ErrorClass::Unreachable,
            VizportalError::UntrustedCertificate { .. } => ErrorClass::UntrustedCertificate,
            VizportalError::NotVizportal { .. } => ErrorClass::NotVizportal,
            VizportalError::ForeignRedirect { .. } => ErrorClass::ForeignRedirect,
            VizportalError::BadServerUrl { .. } => ErrorClass::BadServerUrl,
            VizportalError::CaCertificate { .. } => ErrorClass::CaCertificate,
            VizportalError::Usage(_) => ErrorClass::Usage,
        }
    }

    /// The script-visible kind: `vizportal`, `http`, `session`, `transport` or `usage`.
    pub fn kind(&self) -> &'static str {
        match self {
            VizportalError::Api { .. } => "vizportal",
            VizportalError::Http { .. }
            | VizportalError::NotVizportal { .. }
            | VizportalError::TooLarge { .. }
            | VizportalError::ForeignRedirect { .. } => "http",
            VizportalError::Session { .. } | VizportalError::Login(_) => "session",
            VizportalError::Transport { .. }
            | VizportalError::UntrustedCertificate { .. }
            | VizportalError::NotSent { .. }
            | VizportalError::OutcomeUnknown { .. } => "transport",
            VizportalError::Usage(_)
            | VizportalError::BadServerUrl { .. }
            | VizportalError::CaCertificate { .. } => "usage",
        }
    }

    /// The method the error is about, when there is one.
    pub fn method(&self) -> Option<&str> {
        match self {
            VizportalError::Api { method, .. }
            | VizportalError::Http { method, .. }
            | VizportalError::Session { method, .. }
            | VizportalError::Transport { method, .. }
            | VizportalError::TooLarge { method, .. }
            | VizportalError::NotSent { method, .. }
            | VizportalError::UntrustedCertificate { method, .. }
            | VizportalError::OutcomeUnknown { method, .. } => Some(method),
            // The method is the last part of the URL that was called.
            VizportalError::NotVizportal { url, .. } => url
                .split_once(crate::wire::API_PATH)
                .map(|(_, method)| method)
                .filter(|m| !m.is_empty()),
            VizportalError::ForeignRedirect { .. }
            | VizportalError::BadServerUrl { .. }
            | VizportalError::CaCertificate { .. } => None,
            VizportalError::Login(
                LoginFailure::SessionEnded {
                    during: Some(method),
                    ..
                }
                | LoginFailure::UnknownSite {
                    during: Some(method),
                    ..
                },
            ) => Some(method),
            VizportalError::Login(_) => Some("login"),
            VizportalError::Usage(_) => None,
        }
    }

    /// The HTTP status, when an answer arrived.
    pub fn status(&self) -> Option<u16> {
        match self {
            VizportalError::Api { status, .. }
            | VizportalError::Http { status, .. }
            | VizportalError::NotVizportal { status, .. }
            | VizportalError::ForeignRedirect { status, .. } => Some(*status),
            VizportalError::OutcomeUnknown { status, .. } => *status,
            _ => None,
        }
    }

    /// The server's first error code, when it sent one.
    pub fn code(&self) -> Option<i64> {
        match self {
            VizportalError::Api { errors, .. } => errors.iter().find_map(|e| e.code),
            _ => None,
        }
    }

    /// The message without the method prefix, for error maps.
    pub fn message(&self) -> String {
        match self {
            // One error: its code is the error's `code`, so the text leaves it out.
            VizportalError::Api { errors, .. } if errors.len() == 1 => {
                let e = &errors[0];
                let text = e
                    .message
                    .clone()
                    .filter(|m| !m.trim().is_empty())
                    .unwrap_or_else(|| "the server gave no message".to_string());
                match &e.id {
                    Some(id) => format!("id {id}: {text}"),
                    None => text,
                }
            }
            VizportalError::Api { errors, .. } => describe_errors(errors),
            VizportalError::Session { message, .. } | VizportalError::Transport { message, .. } => {
                message.clone()
            }
            VizportalError::NotSent { reason, .. } => format!("not sent: {reason}"),
            other => other.to_string(),
        }
    }

    /// True when the effect of a mutating call is unknown.
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, VizportalError::OutcomeUnknown { .. })
    }

    /// This error of signing in again, as seen by the call `method` that found its
    /// session expired: a session that ended with nothing to sign in again with names that
    /// call (in its message and a script's error map), not `login`. Any other error is a
    /// sign-in that was tried and failed, and stays as it is.
    pub(crate) fn interrupting(self, method: &str) -> Self {
        match self {
            VizportalError::Login(LoginFailure::SessionEnded {
                message,
                during: None,
            }) => VizportalError::Login(LoginFailure::SessionEnded {
                message,
                during: Some(method.to_string()),
            }),
            other => other,
        }
    }

    /// This error of a switch to `site` after sign-in, as the user needs it: a site the
    /// server does not know (or will not sign a token in to) is an unknown site, as at
    /// sign-in, whichever way the session was made.
    pub(crate) fn switching_to(self, site: &str) -> Self {
        let unknown = || {
            VizportalError::Login(LoginFailure::UnknownSite {
                site: site.to_string(),
                during: Some(crate::wire::method::SWITCH_SITE.to_string()),
            })
        };
        match self {
            VizportalError::Api { ref errors, .. }
                if errors.iter().any(|e| {
                    e.code.is_some_and(|c| {
                        [
                            crate::wire::code::SITE_NOT_FOUND,
                            crate::wire::code::BAD_CREDENTIALS,
                        ]
                        .contains(&c)
                    })
                }) =>
            {
                unknown()
            }
            // 401001 is REST's answer for a site the token's user cannot reach (or a
            // token that no longer works, which it did a moment ago).
            VizportalError::Login(LoginFailure::TokenRefused { ref code, .. })
                if code == "401001" =>
            {
                unknown()
            }
            VizportalError::Login(LoginFailure::UnknownSite { .. }) => unknown(),
            other => other,
        }
    }

    pub(crate) fn transport(method: &str, message: impl Into<String>) -> Self {
        VizportalError::Transport {
            method: method.to_string(),
            message: message.into(),
        }
    }

    /// A JSON answer of `method` from the server at `base` that no Vizportal server would
    /// give (`what` says why): not the Vizportal API.
    pub(crate) fn odd_answer(base: &str, method: &str, what: String) -> Self {
        VizportalError::NotVizportal {
            url: crate::wire::method_url(base, method),
            status: 200,
            content_type: "application/json".into(),
            excerpt: what,
        }
    }
}

fn describe_errors(errors: &[WireError]) -> String {
    if errors.is_empty() {
        return "the server reported an error without details".to_string();
    }
    let shown: Vec<String> = errors
        .iter()
        .take(3)
        .map(|e| {
            let mut s = String::new();
            if let Some(code) = e.code {
                s.push_str(&format!("code {code}"));
            }
            if let Some(id) = &e.id {
                s.push_str(&format!(" (id {id})"));
            }
            if let Some(message) = &e.message {
                if !s.is_empty() {
                    s.push_str(": ");
                }
                s.push_str(message);
            }
            s
        })
        .collect();
    let more = errors.len().saturating_sub(3);
    if more > 0 {
        format!("{} and {more} more", shown.join("; "))
    } else {
        shown.join("; ")
    }
}

fn describe_login(failure: &LoginFailure) -> String {
    match failure {
        LoginFailure::BadCredentials => {
            "the server rejected the username or password (code 16)".to_string()
        }
        LoginFailure::UnknownSite { site, .. } => format!(
            "site {site:?} does not exist or the user is not a member of it (use the site's URL name, \"\" for Default)"
        ),
        LoginFailure::UnsupportedAuth(kind) => format!(
            "the server uses {kind} sign-in, which the Vizportal password login cannot do; use a local or Active Directory account"
        ),
        LoginFailure::Unexpected(what) => what.clone(),
        LoginFailure::TokenRefused { code, detail, site } => {
            let meaning = match code.as_str() {
                "401001" => format!(
                    "the token name or secret is wrong, the token was revoked or has expired, or site {site:?} is not one its user can reach"
                ),
                "401002" => "the token's session is invalid or has expired".to_string(),
                "401000" => "no credentials reached the server".to_string(),
                _ => "the server did not accept the token".to_string(),
            };
            let code = if code.is_empty() { "no code" } else { code };
            format!(
                "the server refused the personal access token (REST error {code}: {meaning}){}",
                if detail.is_empty() {
                    String::new()
                } else {
                    format!("; the server says: {detail}")
                }
            )
        }
        LoginFailure::SessionEnded {
            message,
            during: None,
        } => message.clone(),
        LoginFailure::SessionEnded {
            message,
            during: Some(method),
        } => format!("{method} found the session ended: {message}"),
    }
}

fn excerpt_suffix(excerpt: &str) -> String {
    if excerpt.is_empty() {
        String::new()
    } else {
        format!(": {excerpt}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_server_error_reads_without_its_code_which_the_error_carries() {
        let error = |errors: Vec<WireError>| VizportalError::Api {
            method: "setExtractTasksSchedule".into(),
            status: 200,
            errors,
        };
        let wire = |code: i64, id: Option<&str>, message: &str| WireError {
            code: Some(code),
            id: id.map(String::from),
            message: Some(message.into()),
        };
        let one = error(vec![wire(120001, None, "schedule 9 does not exist")]);
        assert_eq!(one.message(), "schedule 9 does not exist");
        assert_eq!(one.code(), Some(120001));
        assert!(one.to_string().contains("code 120001"), "{one}");
        let on_id = error(vec![wire(9, Some("7"), "no such task")]);
        assert_eq!(on_id.message(), "id 7: no such task");
        assert_eq!(
            error(vec![wire(9, None, " ")]).message(),
            "the server gave no message"
        );
        let two = error(vec![wire(9, Some("7"), "a"), wire(10, Some("8"), "b")]);
        assert!(two.message().contains("code 9") && two.message().contains("code 10"));
    }
}

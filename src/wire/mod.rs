//! The Vizportal wire format: the one piece of code that the client (`vizportal/`) and the
//! emulator (`emulator/`) share. Everything here is a fact about the protocol (see
//! `docs/protocol.md`), not about either side's behaviour.

mod catalogue;
mod codes;
mod envelope;
mod id;
pub mod method;
pub mod recurrence;
pub mod schedule;
mod secret;

pub use catalogue::{Confidence, KNOWN_METHODS, KnownMethod, known_method, nearest};
pub use codes::code;
pub use envelope::{Answer, ERRORS, JSON_CONTENT_TYPE, RequestBody, WireError};
pub use id::{IdText, StrText, first_ids, id_string, id_text};
pub use secret::is_secret_name;

/// Path prefix of every Vizportal call: `POST {server}/vizportal/api/web/v1/{method}`.
pub const API_PATH: &str = "/vizportal/api/web/v1/";

/// The session cookie set by `login` and `switchSite` (HttpOnly).
pub const SESSION_COOKIE: &str = "workgroup_session_id";

/// The anti-forgery cookie set beside the session cookie (readable by scripts in a browser).
pub const XSRF_COOKIE: &str = "XSRF-TOKEN";

/// The header that must echo the `XSRF-TOKEN` cookie on every authenticated call.
pub const XSRF_HEADER: &str = "X-XSRF-TOKEN";

/// Methods a server answers without a session or an XSRF header.
pub const UNAUTHENTICATED_METHODS: &[&str] = method::UNAUTHENTICATED;

/// The URL of one method on a server given by its base URL (a trailing `/` is tolerated).
pub fn method_url(base: &str, method: &str) -> String {
    format!("{}{API_PATH}{method}", base.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_url_joins_base_with_and_without_slash() {
        assert_eq!(
            method_url("http://h:1/", "login"),
            "http://h:1/vizportal/api/web/v1/login"
        );
        assert_eq!(
            method_url("https://h", "getSessionInfo"),
            "https://h/vizportal/api/web/v1/getSessionInfo"
        );
    }
}

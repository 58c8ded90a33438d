//! The ways to a Vizportal session (docs/protocol.md §2): the encrypted-password `login`,
//! a personal access token through REST, or a session made elsewhere (a browser after
//! single sign-on, or one saved by `vizscript login --save`).

use secrecy::SecretString;

/// How to sign in, and again when a session expires.
#[derive(Debug, Clone)]
pub enum SignIn {
    /// `generatePublicKey` + `login` (local and Active Directory accounts).
    Password {
        /// The user.
        username: String,
        /// The password; it stays secret until it is encrypted.
        password: SecretString,
    },
    /// REST `auth/signin` with a personal access token, bound to one site.
    Token {
        /// The token's name.
        name: String,
        /// The token's secret.
        secret: SecretString,
    },
}

impl SignIn {
    /// How this sign-in is named in messages and saved sessions.
    pub fn kind(&self) -> SessionOrigin {
        match self {
            SignIn::Password { .. } => SessionOrigin::Password,
            SignIn::Token { .. } => SessionOrigin::Token,
        }
    }
}

/// A session that already exists: its `workgroup_session_id` and, when known, its XSRF
/// token (without one, a fresh random value is sent as both cookie and header).
#[derive(Debug)]
pub struct ExistingSession {
    /// The session id.
    pub session_id: SecretString,
    /// The session's XSRF token, if known.
    pub xsrf: Option<SecretString>,
    /// How it was made (recorded when it was saved).
    pub origin: SessionOrigin,
    /// Whether it was saved by `vizscript login --save` (else the user gave it now).
    pub saved: bool,
}

/// How the current session was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionOrigin {
    /// The encrypted-password login.
    Password,
    /// A personal access token through REST.
    Token,
    /// A session id given by the user (e.g. from a browser).
    Given,
}

impl SessionOrigin {
    /// The name used in saved sessions and messages.
    pub fn name(self) -> &'static str {
        match self {
            SessionOrigin::Password => "password",
            SessionOrigin::Token => "token",
            SessionOrigin::Given => "session-id",
        }
    }

    /// The origin a saved name stands for.
    pub fn from_name(name: &str) -> Option<SessionOrigin> {
        [
            SessionOrigin::Password,
            SessionOrigin::Token,
            SessionOrigin::Given,
        ]
        .into_iter()
        .find(|o| o.name() == name)
    }
}

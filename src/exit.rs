//! How vizscript ends: the documented exit codes, decided here and nowhere else, and the
//! hints printed beside an error. Library errors name no flags; this is the edge where a
//! failure meets the command line, so `run`, `repl` and `call` word it the same way.

use crate::vizportal::{ErrorClass, VizportalError};

/// The exit codes of README.md ("Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExitCode {
    /// 0: success.
    Success,
    /// 1: the script raised an error it did not catch, or a Vizportal call failed.
    Failed,
    /// 2: usage error: bad flags, a script that does not parse.
    Usage,
    /// 3: login failed (bad credentials, unknown site, unsupported sign-in).
    Login,
    /// 4: server unreachable, TLS failure, or an answer that is not the Vizportal API.
    Unreachable,
    /// 130: interrupted (Ctrl-C).
    Interrupted,
    /// The code a script gave `exit(code)` (1 to 255).
    Script(u8),
}

impl ExitCode {
    /// The process exit status.
    pub fn code(self) -> u8 {
        match self {
            ExitCode::Success => 0,
            ExitCode::Failed => 1,
            ExitCode::Usage => 2,
            ExitCode::Login => 3,
            ExitCode::Unreachable => 4,
            ExitCode::Interrupted => 130,
            ExitCode::Script(code) => code,
        }
    }

    /// The exit code of a class of client error.
    pub fn of_class(class: ErrorClass) -> ExitCode {
        match class {
            ErrorClass::CallFailed => ExitCode::Failed,
            ErrorClass::Login => ExitCode::Login,
            ErrorClass::Unreachable
            | ErrorClass::UntrustedCertificate
            | ErrorClass::NotVizportal
            | ErrorClass::ForeignRedirect => ExitCode::Unreachable,
            ErrorClass::BadServerUrl | ErrorClass::CaCertificate | ErrorClass::Usage => {
                ExitCode::Usage
            }
        }
    }

    /// The exit code of a client error.
    pub fn of(error: &VizportalError) -> ExitCode {
        ExitCode::of_class(error.class())
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> std::process::ExitCode {
        std::process::ExitCode::from(code.code())
    }
}

/// What the user can do about a class of error, naming the flag that fixes it.
pub fn hint(class: ErrorClass) -> Option<&'static str> {
    match class {
        ErrorClass::NotVizportal => {
            Some("check --server (and any proxy or single sign-on page in front of it)")
        }
        ErrorClass::ForeignRedirect => Some(
            "credentials are not sent to another server (another host, port or scheme); if that server is the right one (e.g. the https:// address of an http:// one), pass it as --server",
        ),
        ErrorClass::UntrustedCertificate => Some(
            "pass --ca-cert with your CA's PEM file (or --insecure to skip verification, not recommended)",
        ),
        ErrorClass::BadServerUrl => {
            Some("pass --server (or TABLEAU_SERVER) as e.g. https://tableau.example.com")
        }
        ErrorClass::CaCertificate => {
            Some("--ca-cert (or TABLEAU_CA_CERT) takes a PEM file holding your CA's certificate")
        }
        ErrorClass::Unreachable => {
            Some("check --server and the network; --timeout and --retries adjust patience")
        }
        ErrorClass::CallFailed | ErrorClass::Login | ErrorClass::Usage => None,
    }
}

/// An error's message followed by its hint, if it has one, as `error: ...` lines.
pub fn describe(error: &VizportalError) -> String {
    with_hint(format!("error: {error}"), error.class())
}

/// `text` followed by the hint of `class` on its own line, when there is one.
pub fn with_hint(mut text: String, class: ErrorClass) -> String {
    if let Some(hint) = hint(class) {
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str("  hint: ");
        text.push_str(hint);
    }
    text
}

/// Error values thrown into scripts carry their class in the value's tag, so the exit
/// code and hint of an uncaught error come from the typed error, never from its text.
pub mod tag {
    use crate::vizportal::ErrorClass;

    /// A value's tag (`rhai::Dynamic::tag`): an `i32` on 64-bit targets.
    pub type Tag = i32;

    /// The tag of a value that is not a client error (e.g. a script's own `throw`).
    pub const NONE: Tag = 0;

    /// The tag for a thrown value of this class.
    pub fn of(class: ErrorClass) -> Tag {
        class as Tag + 1
    }

    /// The class a thrown value was tagged with, if any.
    pub fn class(tag: Tag) -> Option<ErrorClass> {
        ErrorClass::ALL
            .iter()
            .copied()
            .find(|class| of(*class) == tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_round_trips_through_a_tag() {
        for class in ErrorClass::ALL {
            assert_eq!(tag::class(tag::of(*class)), Some(*class));
        }
        assert_eq!(tag::class(tag::NONE), None);
    }

    #[test]
    fn codes_are_the_documented_numbers() {
        let codes: Vec<u8> = [
            ExitCode::Success,
            ExitCode::Failed,
            ExitCode::Usage,
            ExitCode::Login,
            ExitCode::Unreachable,
            ExitCode::Interrupted,
        ]
        .iter()
        .map(|c| c.code())
        .collect();
        assert_eq!(codes, [0, 1, 2, 3, 4, 130]);
    }
}

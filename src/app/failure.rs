//! How a command ends badly: a message for stderr and the documented exit code. Every
//! client error maps to its exit code here and nowhere else.

use crate::vizportal::VizportalError;

/// Exit code: usage error (bad flags, script does not parse).
pub const EXIT_USAGE: i32 = 2;

/// A failed command.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub code: i32,
    /// What to print on stderr (may be empty when already printed).
    pub message: String,
}

impl Failure {
    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            code: EXIT_USAGE,
            message: format!("error: {}", message.into()),
        }
    }
}

/// The exit code of a client error (CONTRACT.md, "Exit codes").
pub fn exit_code(error: &VizportalError) -> i32 {
    match error {
        VizportalError::Login(_) => 3,
        VizportalError::NotVizportal { .. } | VizportalError::Transport { .. } => 4,
        VizportalError::Usage(_) => EXIT_USAGE,
        VizportalError::Api { .. }
        | VizportalError::Http { .. }
        | VizportalError::Session { .. }
        | VizportalError::OutcomeUnknown { .. } => 1,
    }
}

impl From<VizportalError> for Failure {
    fn from(error: VizportalError) -> Failure {
        Failure {
            code: exit_code(&error),
            message: format!("error: {error}"),
        }
    }
}

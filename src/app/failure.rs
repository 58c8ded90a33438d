//! How a command ends badly: a message for stderr and the documented exit code, which
//! always comes from [`ExitCode`] (decided from the typed error, never from text).

use crate::exit::{self, ExitCode};
use crate::script::ScriptFailure;
use crate::vizportal::VizportalError;

/// A failed command.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub code: ExitCode,
    /// What to print on stderr (may be empty when already printed).
    pub message: String,
}

impl Failure {
    /// A failure with its message.
    pub fn new(code: ExitCode, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }

    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure::new(ExitCode::Usage, format!("error: {}", message.into()))
    }
}

impl From<VizportalError> for Failure {
    fn from(error: VizportalError) -> Failure {
        Failure::new(ExitCode::of(&error), exit::describe(&error))
    }
}

impl From<ScriptFailure> for Failure {
    fn from(failure: ScriptFailure) -> Failure {
        Failure::new(failure.exit_code, failure.report)
    }
}

//! `exit()`: end a script now with the exit code the process should end with. Rhai's own
//! `exit` ends a script as if it had succeeded, whatever value it is given, so a cron job
//! that called `exit(1)` after a failure would have seen 0.

use rhai::plugin::*;
use rhai::{Dynamic, EvalAltResult};

/// What a script ended with when it called `exit`: the process's exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptExit(pub u8);

impl ScriptExit {
    /// The exit code a script asked for, if `error` is how its `exit` call ended it.
    pub fn of(error: &EvalAltResult) -> Option<u8> {
        match error.unwrap_inner() {
            EvalAltResult::ErrorTerminated(token, _) => {
                token.read_lock::<ScriptExit>().map(|exit| exit.0)
            }
            _ => None,
        }
    }
}

fn end(code: u8, pos: Position) -> Box<EvalAltResult> {
    EvalAltResult::ErrorTerminated(Dynamic::from(ScriptExit(code)), pos).into()
}

#[export_module]
pub mod exit_api {
    use rhai::{Dynamic, EvalAltResult, NativeCallContext, Position};

    use crate::script::error::usage;

    /// End the script now; the run succeeds (exit code 0).
    ///
    /// ```rhai
    /// if extract_tasks().is_empty() { print("nothing to do"); exit(); }
    /// ```
    #[rhai_fn(volatile, return_raw)]
    pub fn exit() -> Result<(), Box<EvalAltResult>> {
        Err(super::end(0, Position::NONE))
    }

    /// End the script now with exit code `code` (0 to 255): 0 is success; any other code
    /// is what the process exits with, after a line on stderr saying so, so a scheduler or
    /// CI step sees the failure. With `--all-sites` it ends that site's run only.
    ///
    /// ```rhai
    /// let r = run_extract_tasks(extract_tasks(#{ scheduleId: "4" }), #{ wait: true });
    /// if r.failed_jobs.len() > 0 { exit(1); }
    /// ```
    #[rhai_fn(name = "exit", volatile, return_raw)]
    pub fn exit_with(ctx: NativeCallContext, code: Dynamic) -> Result<(), Box<EvalAltResult>> {
        match code.as_int().ok().and_then(|c| u8::try_from(c).ok()) {
            Some(code) => Err(super::end(code, ctx.call_position())),
            None => {
                // `exit("4")`: a string that reads as a code is still not one.
                let shown = crate::script::record::shown(&code);
                let given = match code.is_string() {
                    true => format!("{shown:?} (a string; parse_int makes it a number)"),
                    false => shown,
                };
                Err(usage(
                    format!("exit takes an exit code from 0 to 255, not {given}"),
                    ctx.call_position(),
                ))
            }
        }
    }
}

//! `vizscript repl`: sign in once, then read inputs until Ctrl-D or `:quit`.

use std::io::IsTerminal;
use std::sync::Arc;

use super::connect::connect;
use super::failure::Failure;
use super::rehearsal::Rehearsal;
use super::run::stdout_output;
use crate::cli::ReplArgs;
use crate::exit::ExitCode;
use crate::repl::Repl;
use crate::script::{Limits, Output};

/// Run the REPL; piped input that failed ends with the first failure's exit code.
pub fn repl(args: &ReplArgs, quiet: bool) -> Result<(), Failure> {
    let rehearsal = Rehearsal::start(&args.rehearse, &args.connect)?;
    let connection = match &rehearsal {
        Some((_, connector)) => connector.open(None)?,
        None => connect(&args.connect)?,
    };
    if !quiet && rehearsal.is_none() {
        connection.announce();
    }
    let limits = Limits {
        max_operations: args.max_operations,
        max_memory: args.max_memory.saturating_mul(1 << 20),
        ..Limits::default()
    };
    let errors: Output = Arc::new(|text: &str| crate::diag!("{text}"));
    let progress = !quiet && std::io::stderr().is_terminal();
    let mut repl = Repl::new(
        Some(connection.client.clone()),
        &limits,
        stdout_output(),
        errors,
        progress,
    );
    super::on_interrupt(repl.cancel_flag());
    let interactive = std::io::stdin().is_terminal();
    crate::repl::run(&mut repl).map_err(|message| Failure::new(ExitCode::Failed, message))?;
    connection.finish()?;
    if let Some((rehearsal, _)) = &rehearsal {
        rehearsal.report()?;
    }
    match repl.outcome() {
        ExitCode::Success => Ok(()),
        // An input's exit(code) ends the session with that code, at a terminal too.
        code @ ExitCode::Script(_) => Err(Failure::new(code, "")),
        _ if interactive => Ok(()),
        code => Err(Failure::new(code, "")),
    }
}

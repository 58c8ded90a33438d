//! `vizscript run`: check the script parses, sign in once, run it, print the plan.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::connect::connect;
use super::failure::Failure;
use super::rehearsal::Rehearsal;
use crate::cli::RunArgs;
use crate::exit::ExitCode;
use crate::script::{Host, Limits, Output, Script, build_engine};

/// Native stack for the script thread: deep recursion ends at the call-level limit, not
/// in a stack overflow.
pub(super) const SCRIPT_STACK: usize = 256 * 1024 * 1024;

/// Run a script file against a server.
pub fn run(args: &RunArgs, quiet: bool) -> Result<(), Failure> {
    // `run s.rhai -- 48 --dry-run` hands "--dry-run" to the script, and the run would
    // change the server (or `--demo`, `--site`: another server or site): an option of
    // `run` after `--` is refused.
    let options: Vec<String> = <RunArgs as clap::Args>::augment_args(clap::Command::new("run"))
        .get_arguments()
        .filter_map(|a| a.get_long().map(|long| format!("--{long}")))
        .collect();
    if let Some(flag) = args.args.iter().find(|a| {
        options
            .iter()
            .any(|o| a.split('=').next() == Some(o.as_str()))
    }) {
        return Err(Failure::usage(format!(
            "{flag} comes after --, so it would be one of the script's ARGS, not the option: put it before --"
        )));
    }
    let script = Script::load(&args.script)?;
    let limits = Limits {
        max_operations: args.max_operations,
        max_memory: args.max_memory.saturating_mul(1 << 20),
        ..Limits::default()
    };
    let progress = !quiet && std::io::stderr().is_terminal();
    // Connected after the check: a script that does not parse costs no request.
    let host = Host::new(None, stdout_output(), progress);
    let cancel = Arc::new(AtomicBool::new(false));
    let engine = build_engine(host.clone(), &limits, cancel.clone());
    let ast = script.check(&engine)?;
    if args.all_sites || !args.sites.is_empty() {
        return super::all_sites::run_sites(args, &script, &ast, &limits, quiet);
    }

    let rehearsal = Rehearsal::start(&args.rehearse, &args.connect)?;
    let connection = match &rehearsal {
        Some((_, connector)) => connector.open(None)?,
        None => connect(&args.connect)?,
    };
    if !quiet && rehearsal.is_none() {
        connection.announce();
    }
    super::on_interrupt(cancel.clone());
    host.attach(connection.client.clone());
    let script_args = args.args.clone();
    let outcome = std::thread::Builder::new()
        .name("script".into())
        .stack_size(SCRIPT_STACK)
        .spawn(move || {
            let outcome = script.run_then_exit(&engine, &ast, &script_args);
            // The process ends with the script: like the script's values, the engine and
            // the compiled script are left for the operating system to take back.
            std::mem::forget((engine, ast));
            outcome
        })
        .map_err(|e| {
            Failure::new(
                ExitCode::Failed,
                format!("error: cannot start the script thread: {e}"),
            )
        })?
        .join()
        .unwrap_or_else(|_| {
            Err(crate::script::ScriptFailure {
                report: "error: the script thread panicked\n".into(),
                exit_code: ExitCode::Failed,
            })
        });
    crate::stdout::flush();
    if let Err(finished) = connection.finish() {
        // Both failed: the script's report first, then why the run could not end well;
        // the script's exit code stands.
        return Err(match outcome {
            Ok(()) => finished,
            Err(script) => Failure::new(
                script.exit_code,
                format!("{}\n{}", script.report.trim_end(), finished.message),
            ),
        });
    }
    if let Some((rehearsal, _)) = &rehearsal {
        rehearsal.report()?;
    }
    outcome.map_err(Failure::from)
}

/// Script output on stdout, a line per `print`. A closed pipe is not an error.
pub fn stdout_output() -> Output {
    Arc::new(|text: &str| {
        crate::stdout::with(|out| {
            out.write_all(text.as_bytes())?;
            out.write_all(b"\n")
        });
    })
}

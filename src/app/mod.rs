//! The binary's logic: parse flags, set up diagnostics, dispatch to a command, and turn
//! its outcome into the documented exit code.

mod call;
mod connect;
mod failure;
mod functions;
mod password;
mod repl;
mod run;
mod serve;

use clap::{CommandFactory, Parser};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::cli::{Cli, Command};
pub use failure::{Failure, exit_code};

/// Run the command line and return the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                failure::EXIT_USAGE
            } else {
                0
            };
            let _ = e.print();
            return code;
        }
    };
    init_logging(cli.verbose, cli.quiet);
    let outcome = match &cli.command {
        Command::Run(args) => run::run(args, cli.quiet),
        Command::Repl(args) => repl::repl(args, cli.quiet),
        Command::Call(args) => call::call(args),
        Command::Emulator(args) => serve::serve(args),
        Command::Functions(args) => functions::functions(args),
        Command::Completions { shell } => {
            // Generated into memory first: a closed pipe (`| head`) must not panic.
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "vizscript", &mut script);
            let _ = std::io::Write::write_all(&mut std::io::stdout(), &script);
            Ok(())
        }
    };
    match outcome {
        Ok(()) => 0,
        Err(failure) => {
            if !failure.message.is_empty() {
                eprint!("{}", failure.message);
                if !failure.message.ends_with('\n') {
                    eprintln!();
                }
            }
            failure.code
        }
    }
}

fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => LevelFilter::ERROR,
        (false, 0) => LevelFilter::WARN,
        (false, 1) => LevelFilter::INFO,
        (false, _) => LevelFilter::DEBUG,
    };
    // RUST_LOG as `LEVEL` or `TARGET=LEVEL,...`; an empty or unreadable one yields to the flags.
    let filter = std::env::var("RUST_LOG")
        .ok()
        .filter(|directives| !directives.trim().is_empty())
        .and_then(|directives| directives.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_target("vizscript", level));
    let output = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false);
    let _ = tracing_subscriber::registry()
        .with(output)
        .with(filter)
        .try_init();
}

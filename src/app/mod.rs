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

/// The log directive that keeps the cookie jar's crate from printing cookie values.
const QUIET_COOKIES: &str = "cookie_store=warn";

fn init_logging(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "vizscript=error",
        (false, 0) => "vizscript=warn",
        (false, 1) => "vizscript=info",
        (false, _) => "vizscript=debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default))
        // cookie_store logs every cookie it stores, session id and XSRF token included, at
        // debug level: never let RUST_LOG turn that on.
        .add_directive(QUIET_COOKIES.parse().expect("a valid directive"));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .without_time()
        .with_target(false)
        .try_init();
}

//! The binary's logic: parse flags, set up diagnostics, dispatch to a command, and turn
//! its outcome into the documented exit code.

mod all_sites;
mod call;
mod call_output;
mod connect;
mod failure;
mod functions;
mod login;
mod password;
mod profile;
mod rehearsal;
mod repl;
mod run;
mod saved;
mod serve;
mod snapshot;
mod undo;

use clap::{ArgMatches, CommandFactory, FromArgMatches};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::cli::{Cli, Command, ConfigAction, ConfigArgs};
use crate::exit::ExitCode;
pub use failure::Failure;
use profile::Provenance;

/// Run the command line and return the process exit code.
pub fn main() -> ExitCode {
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches).map(|cli| (cli, matches)));
    let (mut cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            let code = if e.use_stderr() {
                ExitCode::Usage
            } else {
                ExitCode::Success
            };
            let _ = e.print();
            return code;
        }
    };
    crate::QUIET.store(cli.quiet, std::sync::atomic::Ordering::Relaxed);
    init_logging(cli.verbose, cli.quiet);
    let outcome =
        with_profile(&mut cli, &matches).and_then(|provenance| dispatch(&cli, &provenance));
    // What ran stands; the user must know its output is not whole.
    let cut_short = crate::stdout::finish().map(|why| {
        format!(
            "error: the output could not be written to standard output ({why}): what it holds is cut short"
        )
    });
    let outcome = match (outcome, cut_short) {
        (outcome, None) => outcome,
        (Ok(()), Some(message)) => Err(Failure::new(ExitCode::Failed, message)),
        (Err(failure), Some(message)) => {
            crate::diag!("{message}");
            Err(failure)
        }
    };
    match outcome {
        Ok(()) => ExitCode::Success,
        Err(failure) => {
            if !failure.message.is_empty() {
                crate::diag_part!("{}", failure.message);
                if !failure.message.ends_with('\n') {
                    crate::diag!();
                }
            }
            failure.code
        }
    }
}

/// Apply the profile to the command's connection settings (flags > environment >
/// profile) and tell where each setting came from.
fn with_profile(cli: &mut Cli, matches: &ArgMatches) -> Result<Provenance, Failure> {
    let mut sub = matches;
    while let Some((_, deeper)) = sub.subcommand() {
        sub = deeper;
    }
    let connect = match &mut cli.command {
        Command::Run(args) => &mut args.connect,
        Command::Repl(args) => &mut args.connect,
        Command::Call(args) => &mut args.connect,
        Command::Login(args) => &mut args.connect,
        Command::Logout(args) => &mut args.connect,
        Command::Snapshot(args) => &mut args.connect,
        Command::Undo(args) => &mut args.connect,
        Command::Config(ConfigArgs {
            action: ConfigAction::Show { connect },
        }) => connect,
        _ => return Ok(Provenance::default()),
    };
    let provenance = profile::apply(connect, sub)?;
    if let Some(server) = &connect.server {
        refuse_credentials_in(server)?;
    }
    Ok(provenance)
}

/// A server URL holding a user name or password (`https://user:password@host`) is
/// refused before it is used, shown or saved anywhere: a password is never taken that
/// way, and the URL would carry it into messages, file names and audit lines.
fn refuse_credentials_in(server: &str) -> Result<(), Failure> {
    let Ok(url) = reqwest::Url::parse(server) else {
        return Ok(());
    };
    if !crate::vizportal::holds_credentials(&url) {
        return Ok(());
    }
    Err(Failure::usage(format!(
        "the server URL holds a user name or password (user:password@); pass it without them \
         ({}) and give --username, with the password from TABLEAU_PASSWORD, --password-file, \
         --password-stdin or the prompt",
        crate::vizportal::without_credentials(server)
    )))
}

/// Run the command.
fn dispatch(cli: &Cli, provenance: &Provenance) -> Result<(), Failure> {
    match &cli.command {
        Command::Run(args) => run::run(args, cli.quiet),
        Command::Repl(args) => repl::repl(args, cli.quiet),
        Command::Call(args) => call::call(args),
        Command::Emulator(args) => serve::serve(args),
        Command::Functions(args) => functions::functions(args),
        Command::Login(args) => login::login(args),
        Command::Logout(args) => login::logout(args),
        Command::Snapshot(args) => snapshot::snapshot(args, cli.quiet),
        Command::Diff(args) => snapshot::diff(args),
        Command::Undo(args) => undo::undo(args),
        Command::Config(ConfigArgs {
            action: ConfigAction::Show { connect },
        }) => login::show_config(connect, provenance),
        Command::Completions { shell } => {
            // Generated into memory first: a closed pipe (`| head`) must not panic.
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "vizscript", &mut script);
            crate::stdout::write(&script);
            Ok(())
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
    // Colours only on a terminal: redirected to a file or mail, the codes are noise.
    let output = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .without_time()
        .with_target(false);
    // cookie_store logs every cookie it stores, session id and XSRF token included, at
    // debug level: whatever RUST_LOG says, it stays at warn.
    let quiet_cookies = Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_target("cookie_store", LevelFilter::WARN);
    let _ = tracing_subscriber::registry()
        .with(output.with_filter(quiet_cookies))
        .with(filter)
        .try_init();
}

/// Ctrl-C sets `flag`: the script, batch or wait under way stops at its next check and
/// says what it had done. When the handler cannot be set, Ctrl-C ends the process at once,
/// which the user is told.
fn on_interrupt(flag: std::sync::Arc<std::sync::atomic::AtomicBool>) {
    let set = ctrlc::set_handler(move || {
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
        crate::vizportal::interrupt();
    });
    if let Err(e) = set {
        crate::diag!(
            "warning: Ctrl-C cannot be caught ({e}): it would end the run at once, without saying what was done"
        );
    }
}

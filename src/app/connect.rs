//! Turning connection flags into a signed-in, gated client: the demo emulator when asked,
//! the password from its source, TLS and retry settings, the audit file. Also what a
//! connected command prints at its end: the dry-run plan.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

use super::failure::Failure;
use super::password;
use crate::cli::ConnectArgs;
use crate::emulator::{Emulator, EmulatorConfig, SAMPLE_USERS};
use crate::exit::ExitCode;
use crate::vizportal::{AuditLog, Client, ConnectOptions, PlannedCall, RetryPolicy, Session};

/// A signed-in client and what keeps it working (the demo emulator, if any).
pub struct Connection {
    /// The gated client.
    pub client: Arc<Client>,
    plan_json: Option<PathBuf>,
    /// The in-process emulator under `--demo`; it stops when the connection is dropped.
    _demo: Option<Emulator>,
}

/// Sign in as the flags say.
pub fn connect(args: &ConnectArgs) -> Result<Connection, Failure> {
    let (demo, server, username, password) = if args.demo {
        start_demo(args)?
    } else {
        let server = args.server.clone().ok_or_else(|| {
            Failure::usage("no server: pass --server URL or set TABLEAU_SERVER (or try --demo)")
        })?;
        let username = args.username.clone().ok_or_else(|| {
            Failure::usage("no user: pass --username NAME or set TABLEAU_USERNAME")
        })?;
        let password = password::resolve(
            args.password_file.as_deref(),
            args.password_stdin,
            &username,
        )?;
        (None, server, username, password)
    };
    if args.insecure {
        eprintln!(
            "warning: --insecure: TLS certificates are not verified; anyone on the network path can read the password and the session"
        );
    }
    let audit = match &args.audit {
        Some(path) => Some(
            AuditLog::open(path)
                .map_err(|e| Failure::usage(format!("--audit {}: {e}", path.display())))?,
        ),
        None => None,
    };
    let mut options = ConnectOptions::new(server, username, password);
    options.site = args.site.clone();
    options.ca_certs = args.ca_cert.clone();
    options.insecure = args.insecure;
    options.timeout = Duration::from_secs(args.timeout);
    options.retry = RetryPolicy {
        max_retries: args.retries,
        min_delay: Duration::from_millis(args.retry_delay_ms),
        ..RetryPolicy::default()
    };
    options.page_size = args.page_size;
    options.concurrency = args.concurrency;
    let session = Session::open(options)?;
    let client = Client::new(session, args.dry_run, audit, args.chunk_size);
    Ok(Connection {
        client: Arc::new(client),
        plan_json: args.plan_json.clone(),
        _demo: demo,
    })
}

type DemoStart = (Option<Emulator>, String, String, SecretString);

fn start_demo(args: &ConnectArgs) -> Result<DemoStart, Failure> {
    let emulator = Emulator::start(EmulatorConfig {
        port: 0,
        record_calls: false,
        ..EmulatorConfig::default()
    })
    .map_err(|e| {
        Failure::new(
            ExitCode::Unreachable,
            format!("error: cannot start the demo emulator: {e}"),
        )
    })?;
    let username = args.username.clone().unwrap_or_else(|| "admin".to_string());
    let password = SAMPLE_USERS
        .iter()
        .find(|(user, _)| *user == username)
        .map(|(_, password)| SecretString::from(*password))
        .ok_or_else(|| {
            let known: Vec<&str> = SAMPLE_USERS.iter().map(|(u, _)| *u).collect();
            Failure::usage(format!("--demo knows the users {}", known.join(", ")))
        })?;
    let url = emulator.url();
    eprintln!("demo: bundled emulator at {url}, signed in as {username}");
    Ok((Some(emulator), url, username, password))
}

impl Connection {
    /// Print the dry-run plan on stderr (and write it as JSON when asked).
    pub fn finish(&self) -> Result<(), Failure> {
        if !self.client.dry_run() {
            return Ok(());
        }
        let plan = self.client.plan();
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "dry run: {} mutating call(s) held back; nothing was changed on the server",
            plan.len()
        );
        for line in PlannedCall::render(&plan) {
            let _ = writeln!(err, "  {line}");
        }
        if let Some(path) = &self.plan_json {
            let text = serde_json::to_string_pretty(&plan).unwrap_or_else(|_| "[]".into());
            std::fs::write(path, text + "\n")
                .map_err(|e| Failure::usage(format!("--plan-json {}: {e}", path.display())))?;
        }
        Ok(())
    }
}

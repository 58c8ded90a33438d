//! `--rehearse SNAPSHOT`: the script runs against an in-process emulator loaded with a
//! snapshot, signed in as the snapshot's user (whom the emulator admits with a generated
//! password) on the snapshot's site. Nothing reaches any server and no credential is asked
//! for. At the end the difference between the snapshot and the emulator's state is printed.

use std::path::PathBuf;
use std::sync::Arc;

use rand::Rng as _;
use rand::distr::Alphanumeric;
use secrecy::SecretString;

use super::connect::Connector;
use super::failure::Failure;
use crate::cli::{ConnectArgs, RehearseArgs};
use crate::emulator::{Dataset, Emulator, EmulatorConfig};
use crate::exit::ExitCode;
use crate::snapshot::Difference;
use crate::vizportal::SignIn;

/// A running rehearsal: the emulator and the state it started from.
pub struct Rehearsal {
    emulator: Arc<Emulator>,
    before: Dataset,
    server: String,
    diff_json: Option<PathBuf>,
}

impl Rehearsal {
    /// Start the rehearsal `flags` ask for, with a connector signed in to it; `None`
    /// without `--rehearse`.
    pub fn start(
        flags: &RehearseArgs,
        connect: &ConnectArgs,
    ) -> Result<Option<(Rehearsal, Connector)>, Failure> {
        let Some(path) = &flags.rehearse else {
            return Ok(None);
        };
        let mut data = Dataset::load(path)
            .map_err(|e| Failure::usage(format!("--rehearse {}: {e:#}", path.display())))?;
        let before = data.clone();
        let origin = data.snapshot_origin().cloned().unwrap_or_default();
        let username = match (&connect.username, origin.username.is_empty()) {
            (Some(name), _) => name.clone(),
            (None, false) => origin.username.clone(),
            (None, true) => "admin".to_string(),
        };
        let site = connect.site.clone().unwrap_or(origin.site_url_name.clone());
        let password: String = rand::rng()
            .sample_iter(Alphanumeric)
            .take(32)
            .map(char::from)
            .collect();
        data.admit_rehearsal_user(&username, &password);
        let emulator = start_emulator(data)?;
        let server = if origin.server.is_empty() {
            path.display().to_string()
        } else {
            origin.server.clone()
        };
        crate::note!(
            "rehearsal: {server} as snapshotted{}, in an in-process emulator; signed in as {username} on site {site:?}; nothing is sent to any server",
            if origin.taken_at.is_empty() {
                String::new()
            } else {
                format!(" at {}", origin.taken_at)
            }
        );
        let mut args = connect.clone();
        args.site = Some(site);
        let sign_in = SignIn::Password {
            username,
            password: SecretString::from(password),
        };
        let snapshot = path.display().to_string();
        let connector = Connector::to_emulator(&args, emulator.clone(), sign_in, snapshot);
        let rehearsal = Rehearsal {
            emulator,
            before,
            server,
            diff_json: flags.diff_json.clone(),
        };
        Ok(Some((rehearsal, connector)))
    }

    /// What the run changed, on stderr (and as JSON with `--diff-json`).
    pub fn report(&self) -> Result<(), Failure> {
        let after = Dataset::from_json(self.emulator.state()).map_err(|e| {
            Failure::new(
                ExitCode::Failed,
                format!("error: cannot read the rehearsal's state: {e:#}"),
            )
        })?;
        let difference = Difference::between(&self.before, &after);
        crate::diag_part!(
            "rehearsal: what the run would change on {}:\n{}",
            self.server,
            difference.render()
        );
        if let Some(path) = &self.diff_json {
            write_json(path, &difference, "--diff-json")?;
        }
        Ok(())
    }
}

/// The in-process emulator serving `data`.
fn start_emulator(data: Dataset) -> Result<Arc<Emulator>, Failure> {
    let emulator = Emulator::start(EmulatorConfig {
        port: 0,
        dataset: data,
        record_calls: false,
        // The difference is what the script changed: a snapshot's run times have passed
        // by the time it is rehearsed, and firing them would show every task as run.
        schedules_fire: false,
        ..EmulatorConfig::default()
    })
    .map_err(|e| {
        Failure::new(
            ExitCode::Unreachable,
            format!("error: cannot start the rehearsal emulator: {e}"),
        )
    })?;
    Ok(Arc::new(emulator))
}

/// Write `value` as indented JSON; `flag` names the option in an error.
pub fn write_json<T: serde::Serialize + ?Sized>(
    path: &std::path::Path,
    value: &T,
    flag: &str,
) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into());
    crate::file_out::replace(path, crate::file_out::Target::Named, |out| {
        out.write_all(text.as_bytes())?;
        out.write_all(b"\n")
    })
    .map_err(|e| Failure::usage(format!("{flag} {}: {e}", path.display())))
}

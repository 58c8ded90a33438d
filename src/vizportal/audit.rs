//! The audit trail: one JSON line per mutating call, appended to a file the user names, so
//! a change to production can be traced to who, where, what and with which outcome.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How an audited call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The server applied it.
    Ok,
    /// The server applied it to some of its ids and refused the others.
    Partial,
    /// The server refused it.
    Failed,
    /// Whether the server applied it is unknown (the answer was lost): taken as applied.
    Unknown,
    /// Planned by a dry run, not sent.
    DryRun,
    /// An outcome this version does not know (a newer one wrote it): not taken as a change.
    #[serde(other)]
    Other,
}

impl std::fmt::Display for Outcome {
    /// As the audit file spells it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Outcome::Ok => "ok",
            Outcome::Partial => "partial",
            Outcome::Failed => "failed",
            Outcome::Unknown => "unknown",
            Outcome::DryRun => "dry_run",
            Outcome::Other => "other",
        })
    }
}

impl Outcome {
    /// Whether the call may have changed the server (what `undo` puts back).
    pub fn may_have_changed(self) -> bool {
        matches!(self, Outcome::Ok | Outcome::Partial | Outcome::Unknown)
    }
}

/// One audit line.
#[derive(Debug, Serialize)]
pub struct AuditEntry<'a> {
    /// When the call ended (RFC 3339, UTC).
    pub time: String,
    /// Server base URL.
    pub server: &'a str,
    /// Site URL name (`""` = Default).
    pub site: &'a str,
    /// Signed-in user.
    pub user: &'a str,
    /// The Vizportal method.
    pub method: &'a str,
    /// The params as sent (anything named like a password is redacted).
    pub params: Value,
    /// How the call ended.
    pub outcome: Outcome,
    /// Ids the server reported as failed.
    #[serde(rename = "failedIds")]
    pub failed_ids: Vec<String>,
    /// The error, when the call failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What the call changes, as it was before (by id), when the caller read it first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// The id of what the call created, when the server said (`createSchedule`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// The snapshot a rehearsal (`--rehearse`) ran the call against: it changed no server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rehearsal: Option<&'a str>,
}

/// One audit line as read back (`vizscript undo`).
#[derive(Debug, Clone, Deserialize)]
pub struct AuditLine {
    /// When the call ended (RFC 3339).
    pub time: String,
    /// Server base URL.
    pub server: String,
    /// Site URL name.
    pub site: String,
    /// The Vizportal method.
    pub method: String,
    /// The params as sent.
    pub params: Value,
    /// How the call ended.
    pub outcome: Outcome,
    /// Ids the server reported as failed.
    #[serde(rename = "failedIds", default)]
    pub failed_ids: Vec<String>,
    /// What the call changed, as it was before, by id.
    #[serde(default)]
    pub before: Option<Value>,
    /// The id of what the call created, when the server said.
    #[serde(default)]
    pub created: Option<String>,
    /// The snapshot of a rehearsal that made the call, which changed no server.
    #[serde(default)]
    pub rehearsal: Option<String>,
}

/// An append-only audit file.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    file: Mutex<File>,
    /// Why a line could not be written, once one could not: no change may be sent after.
    broken: Mutex<Option<String>>,
    /// The snapshot of the rehearsal whose calls this log records, if it is one's.
    rehearsal: Option<String>,
}

impl AuditLog {
    /// Open (or create) the file for appending.
    pub fn open(path: &Path) -> std::io::Result<AuditLog> {
        let mut file = OpenOptions::new().create(true).append(true).open(path)?;
        // A last line cut off (a run killed while writing it) stays a line of its own:
        // the next line starts after a newline, not glued onto the fragment. (A file this
        // user may append to but not read is not checked.)
        if ends_mid_line(path) {
            file.write_all(b"\n")?;
        }
        Ok(AuditLog {
            path: path.to_path_buf(),
            file: Mutex::new(file),
            broken: Mutex::new(None),
            rehearsal: None,
        })
    }

    /// This log, recording the calls of a rehearsal against `snapshot`: each line says so,
    /// and `undo` leaves such lines out (they changed no server).
    pub fn of_rehearsal(self, snapshot: String) -> AuditLog {
        AuditLog {
            rehearsal: Some(snapshot),
            ..self
        }
    }

    /// The snapshot of the rehearsal this log records, if it records one's.
    pub fn rehearsal(&self) -> Option<&str> {
        self.rehearsal.as_deref()
    }

    /// Why the file could not be written, once a line could not be: the client then sends
    /// no further change, since it could not be recorded (nor undone).
    pub fn broken(&self) -> Option<String> {
        self.broken
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Append one entry; false when it could not be written. A failure to write is
    /// reported on stderr at once (the call it describes has already happened) and marks
    /// the log broken (see [`AuditLog::broken`]).
    pub fn record(&self, entry: &AuditEntry<'_>) -> bool {
        let mut line = match serde_json::to_string(entry) {
            Ok(line) => line,
            Err(e) => {
                tracing::error!("cannot encode an audit entry: {e}");
                return true;
            }
        };
        line.push('\n');
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = file.write_all(line.as_bytes()).and_then(|_| file.flush()) {
            let why = format!("cannot write the audit file {}: {e}", self.path.display());
            crate::diag!(
                "error: {why}; {} was {} but is not recorded there, and no further change is sent",
                entry.method,
                if entry.outcome == Outcome::DryRun {
                    "planned"
                } else {
                    "sent"
                }
            );
            self.broken
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get_or_insert(why);
            return false;
        }
        true
    }
}

/// Whether a regular file can be read and has content whose last byte is not a newline.
fn ends_mid_line(path: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let last = || -> std::io::Result<u8> {
        let mut file = File::open(path)?;
        let metadata = file.metadata()?;
        if !metadata.is_file() || metadata.len() == 0 {
            return Ok(b'\n');
        }
        file.seek(SeekFrom::End(-1))?;
        let mut last = [0u8; 1];
        file.read_exact(&mut last)?;
        Ok(last[0])
    };
    last().is_ok_and(|byte| byte != b'\n')
}

/// A copy of `params` fit to print and write: the value of every key that names a secret
/// (see [`crate::wire::is_secret_name`]) replaced, unless it is a flag or empty
/// (`embedPassword: true` holds none), and so is every string that is one of `secrets`
/// (the session's own password, whatever key it is sent under) of eight bytes or more.
/// A shorter one (the demo's `admin`), or one inside a longer text (a schedule named
/// after it), is not looked for: it would take names and ids with it, which the dry
/// run's checks and `undo` read back from the plan and the audit.
pub fn redact_params(params: &Value, secrets: &[String]) -> Value {
    const REDACTED: &str = "(redacted)";
    match params {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| match v {
                    Value::Bool(_) | Value::Null => (k.clone(), v.clone()),
                    _ if crate::wire::is_secret_name(k) => (k.clone(), REDACTED.into()),
                    _ => (k.clone(), redact_params(v, secrets)),
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| redact_params(item, secrets))
                .collect(),
        ),
        Value::String(text) if secrets.iter().any(|s| s.len() >= 8 && text.trim() == s) => {
            REDACTED.into()
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn passwords_are_redacted_at_any_depth() {
        let params = json!({"user": {"encryptedPassword": "abc", "name": "x"}, "ids": ["1"]});
        let clean = redact_params(&params, &[]);
        assert_eq!(clean["user"]["encryptedPassword"], "(redacted)");
        assert_eq!(clean["user"]["name"], "x");
        assert_eq!(clean["ids"][0], "1");
    }

    #[test]
    fn the_sessions_own_password_is_redacted_under_any_key_and_flags_are_kept() {
        let params = json!({"ids": ["1"], "embedPassword": true, "password": null,
                            "details": {"pass": "Sekr1tPW9x", "note": "was Sekr1tPW9x!"}});
        let clean = redact_params(&params, &["Sekr1tPW9x".to_string()]);
        assert_eq!(clean["details"]["pass"], "(redacted)");
        assert_eq!(
            clean["details"]["note"], "was Sekr1tPW9x!",
            "a name, not the secret"
        );
        assert_eq!(clean["embedPassword"], true);
        assert_eq!(clean["password"], Value::Null);
        assert_eq!(clean["ids"][0], "1");
        // A short one is not looked for: names and ids equal to it are not secrets.
        let names = json!({"name": "admin's schedule", "owner": "admin"});
        let clean = redact_params(&names, &["admin".to_string()]);
        assert_eq!(clean, names);
    }
}

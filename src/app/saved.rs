//! Sessions kept by `vizscript login --save` for later commands: one JSON file per server
//! and user in the user's state directory (`VIZSCRIPT_STATE_DIR` overrides it), the
//! directory private to the user (0700), each file readable by the user only (0600). A
//! file anyone else could read is refused, since it holds a live session, and so is one
//! anyone else could have put there (another user's, or in a directory they can write
//! to). Never a password or a token secret: only what the server issued (session id, XSRF
//! token).

use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::failure::Failure;
use crate::cli::ConnectArgs;
use crate::exit::ExitCode;
use crate::vizportal::{ExistingSession, SessionOrigin};

/// A saved session as it is stored.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedSession {
    /// The server's base URL.
    pub server: String,
    /// The site the session was on.
    pub site: String,
    /// The signed-in user.
    pub username: String,
    /// The personal access token's name, for token sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_name: Option<String>,
    /// `password`, `token` or `session-id`.
    pub made_by: String,
    /// The user or token name it was saved under (as `--username` or `--token-name`
    /// gave it), which commands name it by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saved_as: Option<String>,
    /// When it was saved (UTC).
    pub saved_at: String,
    session_id: String,
    xsrf_token: String,
}

impl std::fmt::Debug for SavedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SavedSession")
            .field("server", &self.server)
            .field("username", &self.username)
            .field("session_id", &"(redacted)")
            .finish()
    }
}

impl SavedSession {
    /// A session to save.
    pub fn new(
        server: &str,
        site: &str,
        username: &str,
        token_name: Option<&str>,
        origin: SessionOrigin,
        session: (SecretString, SecretString),
    ) -> SavedSession {
        SavedSession {
            server: normalize(server),
            site: site.to_string(),
            username: username.to_string(),
            token_name: token_name.map(str::to_string),
            made_by: origin.name().to_string(),
            saved_as: None,
            saved_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            session_id: session.0.expose_secret().to_string(),
            xsrf_token: session.1.expose_secret().to_string(),
        }
    }

    /// The same, saved under `who` (the user or token name that names its file).
    pub fn saved_as(mut self, who: Option<String>) -> SavedSession {
        self.saved_as = who;
        self
    }

    /// How commands pick this session: `--token-name NAME` or `--username NAME`.
    fn picked_by(&self) -> String {
        match (&self.token_name, &self.saved_as) {
            (Some(name), _) => format!("token {name}"),
            (None, Some(who)) => who.clone(),
            (None, None) => self.username.clone(),
        }
    }

    /// The session, to use first.
    pub fn existing(&self) -> ExistingSession {
        ExistingSession {
            session_id: SecretString::from(self.session_id.clone()),
            xsrf: Some(SecretString::from(self.xsrf_token.clone())),
            origin: SessionOrigin::from_name(&self.made_by).unwrap_or(SessionOrigin::Given),
            saved: true,
        }
    }

    /// Whether this is the session whose id is `id`.
    pub fn is(&self, id: &SecretString) -> bool {
        self.session_id == id.expose_secret()
    }

    /// Whether `other` holds the same session as this.
    pub fn same_session(&self, other: &SavedSession) -> bool {
        self.session_id == other.session_id
    }
}

/// The directory of saved sessions.
pub fn directory() -> Result<PathBuf, Failure> {
    if let Some(dir) = std::env::var_os("VIZSCRIPT_STATE_DIR") {
        return Ok(PathBuf::from(dir).join("sessions"));
    }
    let dirs = directories::ProjectDirs::from("", "", "vizscript")
        .ok_or_else(|| Failure::usage("no home directory to keep saved sessions in"))?;
    let base = dirs.state_dir().unwrap_or_else(|| dirs.data_local_dir());
    Ok(base.join("sessions"))
}

/// Whom a session is saved for: a user, or a personal access token. The two never share
/// a file, nor do names that differ in any character but case (Tableau user names are
/// case-insensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who<'a> {
    /// `--username NAME` (or the signed-in user).
    User(&'a str),
    /// `--token-name NAME`.
    Token(&'a str),
}

impl<'a> Who<'a> {
    /// As the connection settings name it: `--token-name`, else `--username`.
    pub fn given(args: &'a ConnectArgs) -> Option<Who<'a>> {
        let token = args.token_name.as_deref().map(Who::Token);
        token.or(args.username.as_deref().map(Who::User))
    }

    /// The user or token name.
    pub fn name(&self) -> &'a str {
        match *self {
            Who::User(name) | Who::Token(name) => name,
        }
    }

    /// Whether `saved` was saved for this user or token.
    fn saved(&self, saved: &SavedSession) -> bool {
        let same = |a: &str, b: &str| a.to_lowercase() == b.to_lowercase();
        match (self, &saved.token_name) {
            (Who::Token(name), Some(token)) => same(token, name),
            (Who::User(name), None) => {
                same(saved.saved_as.as_deref().unwrap_or(&saved.username), name)
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Who<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Who::User(name) => write!(f, "user {name}"),
            Who::Token(name) => write!(f, "token {name}"),
        }
    }
}

/// The file of a server and a user or token: `SERVER--user--NAME.json` or
/// `SERVER--token--NAME.json`, each part spelled so that no two servers or names share a
/// file name (see [`file_part`]).
pub fn path_for(server: &str, who: Who) -> Result<PathBuf, Failure> {
    let kind = match who {
        Who::User(_) => "user",
        Who::Token(_) => "token",
    };
    Ok(directory()?.join(format!(
        "{}--{kind}--{}.json",
        file_part(&normalize(server)),
        file_part(&who.name().to_lowercase())
    )))
}

/// How [`find`] treats a file others could read or replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// To sign in with: such a file is refused.
    SignIn,
    /// To end on the server and delete (`logout`): any file will do.
    LogOut,
}

/// The saved session for `server` and `who`; without `who`, the only session saved for
/// the server (several are a usage error that names them). To sign in with, a file
/// others could read, or one in a directory others could write to, is refused; so is a
/// file whose contents are for another server, user or token than its name says.
pub fn find(
    server: &str,
    who: Option<Who>,
    purpose: Use,
) -> Result<Option<(PathBuf, SavedSession)>, Failure> {
    let path = match who {
        Some(who) => {
            let path = path_for(server, who)?;
            // A file an earlier version named otherwise, holding this very session.
            let earlier = || {
                older_files(server)
                    .into_iter()
                    .find(|(_, saved)| who.saved(saved))
            };
            match path.exists() {
                true => path,
                false => match earlier() {
                    Some((older, _)) => older,
                    None => return Ok(None),
                },
            }
        }
        None => {
            let prefix = format!("{}--", file_part(&normalize(server)));
            let dir = directory()?;
            let Ok(entries) = std::fs::read_dir(&dir) else {
                return Ok(None);
            };
            let mut matching: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".json"))
                })
                .chain(older_files(server).into_iter().map(|(path, _)| path))
                .collect();
            if matching.len() > 1 {
                // Each as --username or --token-name takes it.
                let mut names: Vec<String> = matching
                    .iter()
                    .map(|p| match read(p) {
                        Ok(saved) => saved.picked_by(),
                        Err(_) => p.display().to_string(),
                    })
                    .collect();
                names.sort();
                return Err(Failure::usage(format!(
                    "{} sessions are saved for {server} ({}): pass --username or --token-name to pick one",
                    matching.len(),
                    names.join(", ")
                )));
            }
            match matching.pop() {
                Some(path) => path,
                None => return Ok(None),
            }
        }
    };
    if purpose == Use::SignIn {
        check_private(&path)?;
    }
    let saved = read(&path)?;
    let for_server = normalize(&saved.server) == normalize(server);
    if !for_server || who.is_some_and(|who| !who.saved(&saved)) {
        return Err(Failure::new(
            ExitCode::Login,
            format!(
                "error: the saved session {} is for {} on {}, not {}{server}; delete it and sign in again with vizscript login --save",
                path.display(),
                saved.picked_by(),
                saved.server,
                who.map(|who| format!("{who} on ")).unwrap_or_default()
            ),
        ));
    }
    Ok(Some((path, saved)))
}

/// Sessions for `server` saved by an earlier version of vizscript, which named files
/// `SERVER--NAME.json` (with every other character than letters, digits, `.` and `-` as
/// `_`, so that names could collide): found by what they hold, not by their names.
fn older_files(server: &str) -> Vec<(PathBuf, SavedSession)> {
    let Some(entries) = directory().ok().and_then(|dir| std::fs::read_dir(dir).ok()) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.ends_with(".json") && !n.contains("--user--") && !n.contains("--token--")
            })
        })
        .filter_map(|p| Some((p.clone(), read(&p).ok()?)))
        .filter(|(_, saved)| normalize(&saved.server) == normalize(server))
        .collect()
}

/// Delete the files an earlier version saved for `server` and `who` (a new one replaces
/// them); the paths deleted.
pub fn forget_older(server: &str, who: Who) -> Vec<PathBuf> {
    older_files(server)
        .into_iter()
        .filter(|(_, saved)| who.saved(saved))
        .filter_map(|(path, _)| std::fs::remove_file(&path).ok().map(|_| path))
        .collect()
}

/// A saved session file's contents.
fn read(path: &Path) -> Result<SavedSession, Failure> {
    let damaged = |e: &dyn std::fmt::Display| {
        Failure::new(
            ExitCode::Login,
            format!(
                "error: the saved session {} is damaged ({e}); delete it and sign in again with vizscript login --save",
                path.display()
            ),
        )
    };
    let text =
        crate::file_in::read_text(path, crate::file_in::SMALL).map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => damaged(&e),
            _ => Failure::usage(format!("cannot read {}: {e}", path.display())),
        })?;
    serde_json::from_str(&text).map_err(|e| damaged(&e))
}

/// Write a saved session: the directory 0700, the file 0600 from its first byte.
pub fn write(path: &Path, saved: &SavedSession) -> Result<(), Failure> {
    let failed = |e: std::io::Error| {
        Failure::usage(format!(
            "cannot save the session in {}: {e}",
            path.display()
        ))
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    make_private_dir(dir).map_err(failed)?;
    let text = serde_json::to_string_pretty(saved).unwrap_or_default();
    // Written under a name of its own (runs that end at once each save their session),
    // private from its first byte, and put in place whole.
    crate::file_out::replace(path, crate::file_out::Target::Private, |out| {
        out.write_all(text.as_bytes())?;
        out.write_all(b"\n")
    })
    .map_err(failed)
}

/// Delete a saved session.
pub fn delete(path: &Path) -> Result<(), Failure> {
    std::fs::remove_file(path)
        .map_err(|e| Failure::usage(format!("cannot delete {}: {e}", path.display())))
}

/// `https://Host:8443/` -> `https://host:8443`.
fn normalize(server: &str) -> String {
    server.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// `text` as part of a file name: ASCII letters, digits and `.` as they are, every other
/// byte as `_` and two upper-case hex digits. A part longer than [`LONGEST_PART`] (a
/// name in another script takes three characters a byte) is cut, and ends in `_h` and
/// the SHA-256 of `text` instead, so that a file name stays within the 255 bytes file
/// systems allow. No two texts give the same part (`_h` begins no byte's escape), and no
/// part holds `--`, which separates the parts.
fn file_part(text: &str) -> String {
    use sha2::Digest as _;
    let mut part = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'.' {
            part.push(char::from(byte));
        } else {
            part.push_str(&format!("_{byte:02X}"));
        }
    }
    if part.len() > LONGEST_PART {
        part.truncate(LONGEST_PART - 66);
        part.push_str("_h");
        part.push_str(&hex::encode(sha2::Sha256::digest(text.as_bytes())));
    }
    part
}

/// The longest part of a saved session's file name: the server's and the user's, with
/// the rest of the name, stay under 255 bytes.
const LONGEST_PART: usize = 110;

/// A saved session is used only from a file of this user's that no one else can read,
/// in a directory no one else can write to (where another user could put a session of
/// theirs in its place).
#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), Failure> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let metadata = |p: &Path| {
        std::fs::metadata(p)
            .map_err(|e| Failure::usage(format!("cannot read {}: {e}", p.display())))
    };
    let file = metadata(path)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let dir_metadata = metadata(dir)?;
    let dir_mode = dir_metadata.permissions().mode() & 0o777;
    // SAFETY: `getuid` only reads the calling process's user id; it cannot fail.
    let me = unsafe { libc::getuid() };
    let why = if file.uid() != me {
        Some("it belongs to another user".to_string())
    } else if dir_metadata.uid() != me {
        Some("its directory belongs to another user".to_string())
    } else if dir_mode & 0o022 != 0 {
        Some(format!("its directory's permissions are {dir_mode:04o}"))
    } else {
        None
    };
    if let Some(why) = why {
        return Err(Failure::new(
            ExitCode::Login,
            format!(
                "error: refusing the saved session {}: {why}, so another user could have put it there\n  hint: vizscript logout ends it on the server and deletes it; then chmod 700 {} and run vizscript login --save again",
                path.display(),
                dir.display()
            ),
        ));
    }
    let mode = file.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Failure::new(
            ExitCode::Login,
            format!(
                "error: refusing the saved session {}: its permissions are {mode:04o}, so other users may read a live session\n  hint: chmod 600 {} (or end it with vizscript logout and run vizscript login --save again)",
                path.display(),
                path.display()
            ),
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_: &Path) -> Result<(), Failure> {
    Ok(())
}

#[cfg(unix)]
fn make_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn make_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_the_same_in_any_case_beyond_ascii_too() {
        let saved = SavedSession {
            server: "https://h".into(),
            site: String::new(),
            username: "jörg".into(),
            token_name: None,
            made_by: "password".into(),
            saved_as: Some("JÖRG".into()),
            saved_at: String::new(),
            session_id: String::new(),
            xsrf_token: String::new(),
        };
        assert!(Who::User("jörg").saved(&saved));
        assert!(!Who::Token("jörg").saved(&saved));
        assert!(!Who::User("jorg").saved(&saved));
    }

    /// Commands that end at once each save their renewed session: none may fail for
    /// another's half-written file.
    #[test]
    fn sessions_saved_at_once_are_each_written_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h--user--admin.json");
        let saved = |n: usize| SavedSession {
            server: "https://h".into(),
            site: String::new(),
            username: "admin".into(),
            token_name: None,
            made_by: "password".into(),
            saved_as: None,
            saved_at: String::new(),
            session_id: format!("session-{n}"),
            xsrf_token: "x".repeat(n),
        };
        std::thread::scope(|threads| {
            for n in 0..8 {
                let (path, saved) = (&path, saved(n));
                threads.spawn(move || {
                    for _ in 0..25 {
                        write(path, &saved).expect("saved");
                    }
                });
            }
        });
        let last = read(&path).expect("a whole session");
        let n: usize = last.session_id["session-".len()..].parse().unwrap();
        assert_eq!(last.xsrf_token.len(), n);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_session_file_of_junk_bytes_is_damaged_like_a_cut_one() {
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in [
            ("junk.json", &b"\x00\xff\xfe"[..]),
            ("cut.json", b"{\"server\": "),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            let failure = read(&path).expect_err(name);
            assert_eq!(failure.code, ExitCode::Login, "{name}");
            assert!(
                failure.message.contains("is damaged"),
                "{}",
                failure.message
            );
        }
    }

    #[test]
    fn servers_and_names_that_differ_get_files_of_their_own() {
        let parts = [
            "http://host/tableau_prod",
            "http://host/tableau/prod",
            "corp\\jdoe",
            "corp_jdoe",
            "a--user--b",
            "a-",
        ];
        let long = "александра.константинопольская@пример.рф";
        let (other, plain) = (long.replace("а", "о"), "x".repeat(300));
        let parts: Vec<&str> = parts.into_iter().chain([long, &other, &plain]).collect();
        let mut seen: Vec<String> = parts.iter().map(|p| file_part(p)).collect();
        assert!(seen.iter().all(|p| !p.contains("--")), "{seen:?}");
        assert!(seen.iter().all(|p| p.len() <= LONGEST_PART), "{seen:?}");
        let name = path_for(
            &format!("https://{}.example.com", "h".repeat(200)),
            Who::User(long),
        );
        let name = name.unwrap().file_name().unwrap().len();
        assert!(name < 255, "{name} bytes");
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), parts.len(), "{seen:?}");
    }
}

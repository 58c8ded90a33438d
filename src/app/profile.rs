//! Named profiles from the config file, and where each connection setting came from.
//! Precedence: a flag beats the environment, which beats the profile, which beats the
//! default. The file is TOML, in the user's config directory (or `VIZSCRIPT_CONFIG`):
//!
//! ```toml
//! [profiles.prod]
//! server = "https://tableau.example.com"
//! username = "admin"          # or token_name = "nightly-pat"
//! site = "finance"
//! ca_cert = "/etc/ssl/corp-ca.pem"
//! proxy = "http://proxy.example.com:3128"
//! timeout = 120
//! concurrency = 4
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::ArgMatches;
use clap::parser::ValueSource;
use serde::Deserialize;

use super::failure::Failure;
use crate::cli::{ConnectArgs, SettingOrigin};

/// The settings one profile may give.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    server: Option<String>,
    username: Option<String>,
    token_name: Option<String>,
    site: Option<String>,
    ca_cert: Option<PathBuf>,
    proxy: Option<String>,
    timeout: Option<u64>,
    concurrency: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
}

/// Where each setting came from, by flag name (`server`, `site`, ...).
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    sources: BTreeMap<&'static str, String>,
}

impl Provenance {
    /// The source of a setting: `flag`, `environment (VAR)`, `profile NAME`, `default`,
    /// or `not set`.
    pub fn of(&self, setting: &str) -> &str {
        self.sources.get(setting).map_or("not set", String::as_str)
    }
}

/// The settings a profile can give, with their environment variables.
pub const SETTINGS: &[(&str, Option<&str>)] = &[
    ("server", Some("TABLEAU_SERVER")),
    ("username", Some("TABLEAU_USERNAME")),
    ("token_name", Some("TABLEAU_PAT_NAME")),
    ("site", Some("TABLEAU_SITE")),
    ("ca_cert", Some("TABLEAU_CA_CERT")),
    ("proxy", None),
    ("timeout", None),
    ("concurrency", None),
];

/// The config file's path: `VIZSCRIPT_CONFIG`, else `config.toml` in the user's config
/// directory.
pub fn config_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("VIZSCRIPT_CONFIG") {
        return Some(PathBuf::from(path));
    }
    directories::ProjectDirs::from("", "", "vizscript").map(|d| d.config_dir().join("config.toml"))
}

/// Fill the settings that no flag or environment variable gave from the profile named by
/// `--profile`/`VIZSCRIPT_PROFILE`, and record where every setting came from.
pub fn apply(args: &mut ConnectArgs, matches: &ArgMatches) -> Result<Provenance, Failure> {
    // An empty value (`TABLEAU_SESSION_ID=` left in a shell) gives nothing, as an empty
    // TABLEAU_PASSWORD does; an empty site is the Default site, so it stays.
    // Such a setting is as if not given: a profile may fill it.
    use secrecy::ExposeSecret;
    let mut cleared: Vec<&str> = Vec::new();
    for (setting, text) in [
        ("server", &mut args.server),
        ("username", &mut args.username),
        ("token_name", &mut args.token_name),
    ] {
        if text.as_deref().is_some_and(|t| t.trim().is_empty()) {
            *text = None;
            cleared.push(setting);
        }
    }
    if args
        .session_id
        .as_ref()
        .is_some_and(|id| id.expose_secret().trim().is_empty())
    {
        args.session_id = None;
        cleared.push("session_id");
    }
    // An empty path: as not given from a variable, a usage error from a flag.
    let empty = |path: &PathBuf| path.as_os_str().is_empty();
    let empty_audit = args.audit.as_ref().is_some_and(empty);
    let empty_ca_cert = args.ca_cert.iter().any(empty);
    for (setting, flag, is_empty) in [
        ("audit", "--audit", empty_audit),
        ("ca_cert", "--ca-cert", empty_ca_cert),
    ] {
        if !is_empty {
            continue;
        }
        if matches.value_source(setting) == Some(ValueSource::CommandLine) {
            return Err(Failure::usage(format!("{flag} needs a file name")));
        }
        cleared.push(setting);
    }
    args.audit.take_if(|path| empty(path));
    args.ca_cert.retain(|path| !empty(path));
    let given = |setting: &str| {
        !cleared.contains(&setting)
            && matches!(
                matches.value_source(setting),
                Some(ValueSource::CommandLine | ValueSource::EnvVariable)
            )
    };
    let mut provenance = Provenance::default();
    for (setting, env) in SETTINGS {
        if cleared.contains(setting) {
            continue;
        }
        let source = match matches.value_source(setting) {
            Some(ValueSource::CommandLine) => {
                args.origins.insert(setting, SettingOrigin::Flag);
                "flag".to_string()
            }
            Some(ValueSource::EnvVariable) => {
                args.origins.insert(setting, SettingOrigin::Environment);
                format!("environment ({})", env.unwrap_or("?"))
            }
            Some(ValueSource::DefaultValue) => "default".to_string(),
            _ => continue,
        };
        provenance.sources.insert(setting, source);
    }
    // The session id is no profile setting, but `config show` says where it came from.
    match matches.value_source("session_id") {
        _ if !given("session_id") => {}
        Some(ValueSource::CommandLine) => {
            args.origins.insert("session_id", SettingOrigin::Flag);
        }
        _ => {
            args.origins
                .insert("session_id", SettingOrigin::Environment);
        }
    }
    let Some(name) = args.profile.clone() else {
        return Ok(provenance);
    };
    let path = config_path()
        .ok_or_else(|| Failure::usage("--profile: no config directory for this user"))?;
    let profile = load(&path, &name)?;
    let open = |setting: &str| !given(setting);
    let label = format!("profile {name} ({})", path.display());
    let mut took = |setting: &'static str| {
        provenance.sources.insert(setting, label.clone());
    };
    macro_rules! fill {
        ($field:ident, $value:expr) => {
            if let Some(value) = profile.$field.clone()
                && open(stringify!($field))
            {
                args.$field = $value(value);
                args.origins
                    .insert(stringify!($field), SettingOrigin::Profile);
                took(stringify!($field));
            }
        };
    }
    fill!(server, Some);
    fill!(username, Some);
    fill!(token_name, Some);
    fill!(site, Some);
    fill!(ca_cert, |path| vec![path]);
    fill!(proxy, Some);
    fill!(timeout, |t| t);
    fill!(concurrency, |c| c);
    if args.timeout == 0 || args.concurrency == 0 {
        return Err(Failure::usage(format!(
            "{}: profile {name}: timeout and concurrency must be at least 1",
            path.display()
        )));
    }
    Ok(provenance)
}

/// The parser's message without the value it quotes: for a value of the wrong type or
/// content, only what was expected ("invalid type: expected u64"); other messages describe
/// the syntax, not a value, and are kept.
fn without_value(message: &str) -> String {
    match message.split_once(": ") {
        Some((kind, rest)) if kind.starts_with("invalid ") => match rest.find("expected") {
            Some(at) => format!("{kind}: {}", &rest[at..]),
            None => kind.to_string(),
        },
        _ => message.to_string(),
    }
}

/// One profile of the config file; a malformed file names the file, line and key.
fn load(path: &Path, name: &str) -> Result<Profile, Failure> {
    let text = crate::file_in::read_text(path, crate::file_in::SMALL).map_err(|e| {
        Failure::usage(format!(
            "--profile {name}: cannot read the config file {}: {e}",
            path.display()
        ))
    })?;
    let mut file: ConfigFile = toml::from_str(&text).map_err(|e| {
        // Where and what is wrong, but never a value: a line may hold a secret (a password
        // or token secret, which a profile does not take), quoted in the parser's message.
        let line = e
            .span()
            .map(|span| {
                let number = text[..span.start].matches('\n').count() + 1;
                // The key of that line when it is a setting's name.
                let key = text
                    .lines()
                    .nth(number - 1)
                    .and_then(|l| l.split_once('='))
                    .map(|(key, _)| key.trim())
                    .filter(|key| SETTINGS.iter().any(|(name, _)| name == key))
                    .map(|key| format!(", key {key}"))
                    .unwrap_or_default();
                format!(", line {number}{key}")
            })
            .unwrap_or_default();
        Failure::usage(format!(
            "config file {}{line}: {}",
            path.display(),
            without_value(e.message().trim_end())
        ))
    })?;
    file.profiles.remove(name).ok_or_else(|| {
        let known: Vec<&str> = file.profiles.keys().map(String::as_str).collect();
        Failure::usage(format!(
            "config file {}: no profile {name:?} (profiles: {})",
            path.display(),
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_file_names_line_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "[profiles.prod]\nserver = \"https://x\"\ntimeout = \"soon\"\n",
        )
        .unwrap();
        let error = load(&path, "prod").unwrap_err().message;
        assert!(error.contains("config.toml"), "{error}");
        assert!(error.contains("line 3"), "{error}");
        assert!(error.contains("timeout"), "{error}");
        std::fs::write(&path, "[profiles.prod]\nservr = \"https://x\"\n").unwrap();
        let error = load(&path, "prod").unwrap_err().message;
        assert!(error.contains("servr"), "{error}");
        // A key a profile does not take is named, its value never shown.
        std::fs::write(
            &path,
            "[profiles.prod]\nserver = \"https://x\"\n[profiles.x]\ntoken_secret = \"TOPSECRET-1\"\n",
        )
        .unwrap();
        let error = load(&path, "prod").unwrap_err().message;
        assert!(
            error.contains("line 4") && error.contains("token_secret"),
            "{error}"
        );
        assert!(!error.contains("TOPSECRET"), "{error}");
        // A secret pasted as a line of its own, or given to a setting of another type.
        for text in [
            "[profiles.prod]\nserver = \"https://x\"\nq8VbT1SECRETxYz==:4fK2mR9p\n",
            "[profiles.prod]\ntimeout = \"hunter2-SECRET\"\n",
            "[profiles.prod]\ntimeout = 'abc\"SECRET1'\n",
            "[profiles.prod]\ntimeout = \"a\\\"SECRET2\\\"b\"\n",
        ] {
            std::fs::write(&path, text).unwrap();
            let error = load(&path, "prod").unwrap_err().message;
            assert!(!error.contains("SECRET"), "{error}");
            assert!(error.contains("line"), "{error}");
        }
    }
}

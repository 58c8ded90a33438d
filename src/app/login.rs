//! `vizscript login [--save]`, `vizscript logout` and `vizscript config show`: signing in
//! once for later commands, ending that session, and showing which settings apply.

use super::connect::{Connection, connect_fresh, connect_options};
use super::failure::Failure;
use super::password;
use super::profile::{self, Provenance};
use super::saved::{self, SavedSession};
use crate::cli::SettingOrigin;
use crate::cli::{ConnectArgs, LoginArgs, LogoutArgs};
use crate::exit::ExitCode;
use crate::vizportal::without_credentials;
use crate::vizportal::{Session, VizportalError};

/// Sign in by the means given (never a saved session); with `--save`, keep the session.
pub fn login(args: &LoginArgs) -> Result<(), Failure> {
    let connection = connect_fresh(&args.connect)?;
    let session = connection.client.session();
    let info = session.info();
    crate::stdout::with(|out| {
        writeln!(
            out,
            "signed in to {} as {} on site {:?} (by {})",
            session.server(),
            info.username,
            info.site_url_name,
            session.origin().name()
        )
    });
    if !args.save {
        return end(&connection);
    }
    let Some(current) = session.current_session() else {
        return Err(Failure::new(
            ExitCode::Login,
            "error: the server set no session cookie to save",
        ));
    };
    let who = saved::Who::given(&args.connect).unwrap_or(saved::Who::User(&info.username));
    let path = saved::path_for(session.server(), who)?;
    let record = SavedSession::new(
        session.server(),
        &info.site_url_name,
        &info.username,
        args.connect.token_name.as_deref(),
        session.origin(),
        current,
    )
    .saved_as(Some(who.name().to_string()));
    // The session this one replaces, if vizscript made it (one adopted from a browser
    // is the browser's), from a file only this user can read.
    let replaced = saved::find(session.server(), Some(who), saved::Use::SignIn)
        .ok()
        .flatten()
        .filter(|(_, old)| {
            !old.same_session(&record)
                && old.made_by != crate::vizportal::SessionOrigin::Given.name()
        });
    if let Err(failure) = saved::write(&path, &record) {
        // A session that cannot be kept is not left open on the server.
        let _ = end(&connection);
        return Err(failure);
    }
    // Once the new one is kept, the one it replaced is ended, not left open on the
    // server until it expires. (Best effort: it may have ended already.)
    if let Some((_, old)) = replaced {
        let server = session.server().to_string();
        let options = connect_options(&args.connect, server, None, Some(old.existing()));
        if let Ok(old_session) = Session::open(options) {
            let _ = old_session.log_out();
            tracing::info!("the session saved before was ended on the server");
        }
    }
    for older in saved::forget_older(session.server(), who) {
        crate::diag!(
            "replaced the session an earlier version saved in {}",
            older.display()
        );
    }
    crate::stdout::with(|out| writeln!(out, "session saved in {}", path.display()));
    Ok(())
}

/// A login without `--save` only checks the credentials: end the session it made.
fn end(connection: &Connection) -> Result<(), Failure> {
    connection.client.session().log_out().map_err(Failure::from)
}

/// End the saved session on the server and delete its file.
pub fn logout(args: &LogoutArgs) -> Result<(), Failure> {
    let server = args
        .connect
        .server
        .clone()
        .ok_or_else(|| Failure::usage("no server: pass --server URL or set TABLEAU_SERVER"))?;
    let who = saved::Who::given(&args.connect);
    let Some((path, record)) = saved::find(&server, who, saved::Use::LogOut)? else {
        return Err(Failure::new(
            ExitCode::Failed,
            format!(
                "error: no saved session for {server}{}",
                who.map(|w| format!(" and {w}")).unwrap_or_default()
            ),
        ));
    };
    let options = connect_options(&args.connect, server, None, Some(record.existing()));
    let ended = match Session::open(options) {
        Ok(session) => {
            session.log_out()?;
            "ended on the server"
        }
        Err(VizportalError::Login(_)) => "had already ended on the server",
        Err(other) => return Err(other.into()),
    };
    saved::delete(&path)?;
    crate::stdout::with(|out| {
        writeln!(
            out,
            "the saved session of {} {ended}; deleted {}",
            record.username,
            path.display()
        )
    });
    Ok(())
}

/// Print every connection setting with its value and source; secrets only as "set".
pub fn show_config(args: &ConnectArgs, provenance: &Provenance) -> Result<(), Failure> {
    let mut rows: Vec<(String, String, String)> = Vec::new();
    let text = |value: Option<String>| value.unwrap_or_else(|| "-".to_string());
    for (setting, _) in profile::SETTINGS {
        let value = match *setting {
            // A URL may carry a user and password (`http://user:pw@proxy`): never shown.
            "server" => text(args.server.as_deref().map(without_credentials)),
            "username" => text(args.username.clone()),
            "token_name" => text(args.token_name.clone()),
            "site" => text(args.site.clone().map(|s| format!("{s:?}"))),
            "ca_cert" => text((!args.ca_cert.is_empty()).then(|| {
                args.ca_cert
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            })),
            "proxy" if args.no_proxy => "none (--no-proxy)".to_string(),
            "proxy" => text(args.proxy.as_deref().map(without_credentials)),
            "timeout" => format!("{} s", args.timeout),
            "concurrency" => args.concurrency.to_string(),
            _ => continue,
        };
        rows.push((
            setting.to_string(),
            value,
            provenance.of(setting).to_string(),
        ));
    }
    let secret = |set: Option<&str>| match set {
        Some(source) => ("(set, redacted)".to_string(), source.to_string()),
        None => ("-".to_string(), "not set".to_string()),
    };
    let password = if args.password_file.is_some() {
        Some("flag (--password-file)")
    } else if args.password_stdin {
        Some("flag (--password-stdin)")
    } else {
        password::in_env("TABLEAU_PASSWORD").then_some("environment (TABLEAU_PASSWORD)")
    };
    let token = if args.token_file.is_some() {
        Some("flag (--token-file)")
    } else {
        password::in_env("TABLEAU_PAT_SECRET").then_some("environment (TABLEAU_PAT_SECRET)")
    };
    let session_id = args
        .session_id
        .as_ref()
        .map(|_| match args.origin("session_id") {
            Some(SettingOrigin::Environment) => "environment (TABLEAU_SESSION_ID)",
            _ => "flag",
        });
    for (name, source) in [
        ("password", password),
        ("token_secret", token),
        ("session_id", session_id),
    ] {
        let (value, source) = secret(source);
        rows.push((name.to_string(), value, source));
    }
    let saved_session = match &args.server {
        Some(server) => {
            let who = saved::Who::given(args);
            match saved::find(server, who, saved::Use::SignIn) {
                Ok(Some((path, record))) => (
                    format!(
                        "{} on {:?}, made by {}",
                        record.username, record.site, record.made_by
                    ),
                    path.display().to_string(),
                ),
                Ok(None) => ("-".to_string(), "none".to_string()),
                Err(failure) => ("unusable".to_string(), failure.message.trim().to_string()),
            }
        }
        None => ("-".to_string(), "none".to_string()),
    };
    rows.push((
        "saved_session".to_string(),
        saved_session.0,
        saved_session.1,
    ));
    let config = profile::config_path().map_or("-".to_string(), |p| p.display().to_string());
    rows.push((
        "profile".to_string(),
        text(args.profile.clone()),
        format!("config file {config}"),
    ));
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let value_width = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0);
    crate::stdout::with(|out| {
        for (name, value, source) in rows {
            writeln!(out, "{name:width$}  {value:value_width$}  {source}")?;
        }
        Ok(())
    });
    Ok(())
}

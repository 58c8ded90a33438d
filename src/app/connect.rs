//! Turning connection flags into a signed-in, gated client: the demo emulator when asked,
//! the password from its source, TLS and retry settings, the audit file. Also what a
//! connected command prints at its end: the dry-run plan.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::failure::Failure;
use super::password;
use super::saved::{self, SavedSession};
use crate::cli::{ConnectArgs, SettingOrigin};
use crate::emulator::{Emulator, EmulatorConfig, SAMPLE_USERS};
use crate::exit::ExitCode;
use crate::vizportal::{
    AuditLog, Client, ConnectOptions, ErrorClass, ExistingSession, PlannedCall, RetryPolicy,
    ServerPlan, Session, SessionOrigin, SignIn, VizportalError,
};

/// A signed-in client and what keeps it working (the demo emulator, if any).
pub struct Connection {
    /// The gated client.
    pub client: Arc<Client>,
    plan_json: Option<PathBuf>,
    /// The saved session this connection started from: kept (and replaced when it had to
    /// be renewed) instead of signed out.
    saved: Option<(PathBuf, SavedSession)>,
    /// The in-process emulator under `--demo`; it stops when the last connection is dropped.
    _demo: Option<Arc<Emulator>>,
}

/// How to sign in, resolved from flags, environment and saved sessions.
struct Credentials {
    server: String,
    sign_in: Option<SignIn>,
    existing: Option<ExistingSession>,
    saved: Option<(PathBuf, SavedSession)>,
}

/// A session made elsewhere and the saved file it came from, if any.
type Adopted = (ExistingSession, Option<(PathBuf, SavedSession)>);

/// Opens connections as the flags say: secrets are read once (a password from stdin can
/// be read only once), then each connection signs in on its own.
pub struct Connector {
    args: ConnectArgs,
    server: String,
    sign_in: Option<SignIn>,
    /// A session made elsewhere: there is only one, so only the first connection gets it.
    existing: std::sync::Mutex<Option<Adopted>>,
    demo: Option<Arc<Emulator>>,
    /// The audit file once a connection opened it.
    audit: std::sync::Mutex<Option<Arc<AuditLog>>>,
    /// The schedule changes the connections' dry runs planned (schedules are shared by
    /// the sites).
    schedule_plan: Arc<ServerPlan>,
    /// The snapshot file of the rehearsal this connector signs in to, if it is one.
    rehearsal: Option<String>,
}

impl Connector {
    /// Resolve the flags, reusing a saved session for the same server and user when
    /// `use_saved`.
    pub fn new(args: &ConnectArgs, use_saved: bool) -> Result<Connector, Failure> {
        let (demo, credentials) = if args.demo {
            let (emulator, credentials) = start_demo(args)?;
            (Some(Arc::new(emulator)), credentials)
        } else {
            (None, credentials(args, use_saved)?)
        };
        if args.insecure {
            crate::diag!(
                "warning: --insecure: TLS certificates are not verified; anyone on the network path can read the password and the session"
            );
        }
        let existing = credentials.existing.map(|e| (e, credentials.saved));
        Ok(Connector {
            args: args.clone(),
            server: credentials.server,
            sign_in: credentials.sign_in,
            existing: std::sync::Mutex::new(existing),
            demo,
            audit: std::sync::Mutex::new(None),
            schedule_plan: Arc::default(),
            rehearsal: None,
        })
    }

    /// Sign in to an in-process emulator (a rehearsal of `snapshot`) by `sign_in`, on
    /// `args.site`; the emulator lives as long as the connector and its connections.
    pub fn to_emulator(
        args: &ConnectArgs,
        emulator: Arc<Emulator>,
        sign_in: SignIn,
        snapshot: String,
    ) -> Connector {
        Connector {
            args: args.clone(),
            server: emulator.url(),
            sign_in: Some(sign_in),
            existing: std::sync::Mutex::new(None),
            demo: Some(emulator),
            audit: std::sync::Mutex::new(None),
            schedule_plan: Arc::default(),
            rehearsal: Some(snapshot),
        }
    }

    /// Whether more than one session can be opened at once: only with a password. A
    /// token is one session at a time, and an existing session is just one.
    pub fn can_open_many(&self) -> bool {
        matches!(self.sign_in, Some(SignIn::Password { .. }))
            && self
                .existing
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_none()
    }

    /// The audit file, opened by the first connection and shared by the others: the sites
    /// of one run write one file, and a line one cannot write stops them all.
    fn audit_log(&self, path: &std::path::Path) -> Result<Arc<AuditLog>, Failure> {
        let mut log = self.audit.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(log) = log.as_ref() {
            return Ok(log.clone());
        }
        let mut opened = AuditLog::open(path)
            .map_err(|e| Failure::usage(format!("--audit {}: {e}", path.display())))?;
        if let Some(snapshot) = &self.rehearsal {
            opened = opened.of_rehearsal(snapshot.clone());
        }
        Ok(log.insert(Arc::new(opened)).clone())
    }

    /// Sign in, on `site` when given (else on the flags' site).
    pub fn open(&self, site: Option<&str>) -> Result<Connection, Failure> {
        let args = &self.args;
        let audit = match &args.audit {
            Some(path) => Some(self.audit_log(path)?),
            None => None,
        };
        let (existing, saved) = match self
            .existing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            Some((existing, saved)) => (Some(existing), saved),
            None => (None, None),
        };
        let mut options =
            connect_options(args, self.server.clone(), self.sign_in.clone(), existing);
        // Without a site given, a saved session's site: renewing it (when it has expired)
        // then goes back there, not to the site the server lands the user on.
        options.site = site
            .map(str::to_string)
            .or_else(|| args.site.clone())
            .or_else(|| saved.as_ref().map(|(_, record)| record.site.clone()));
        let session = Session::open(options).map_err(|e| through_proxy(e, args))?;
        let client = Client::new(session, args.dry_run, audit, args.chunk_size);
        client.share_schedule_plan(self.schedule_plan.clone());
        Ok(Connection {
            client: Arc::new(client),
            plan_json: args.plan_json.clone(),
            saved,
            _demo: self.demo.clone(),
        })
    }
}

/// The library's options for the connection flags (all but the site), signing in by
/// `sign_in` after `existing`.
pub fn connect_options(
    args: &ConnectArgs,
    server: String,
    sign_in: Option<SignIn>,
    existing: Option<ExistingSession>,
) -> ConnectOptions {
    let mut options = ConnectOptions::signing_in(server, sign_in, existing);
    options.ca_certs = args.ca_cert.clone();
    options.insecure = args.insecure;
    options.proxy = args.proxy.clone();
    options.no_proxy = args.no_proxy;
    options.timeout = Duration::from_secs(args.timeout);
    let min_delay = Duration::from_millis(args.retry_delay_ms);
    options.retry = RetryPolicy {
        max_retries: args.retries,
        min_delay,
        max_delay: RetryPolicy::default().max_delay.max(min_delay),
    };
    options.page_size = args.page_size;
    options.concurrency = args.concurrency;
    options
}

/// Sign in as the flags say, reusing a saved session for the same server and user.
pub fn connect(args: &ConnectArgs) -> Result<Connection, Failure> {
    Connector::new(args, true)?.open(None)
}

/// Sign in by the means the flags give, never with a saved session (`vizscript login`).
pub fn connect_fresh(args: &ConnectArgs) -> Result<Connection, Failure> {
    Connector::new(args, false)?.open(None)
}

/// The existing session (`--session-id`, else a saved one) and the means to sign in
/// (a token, else a password). With an existing session nothing is prompted for: the
/// means are only used when that session has expired, and only if given without asking.
fn credentials(args: &ConnectArgs, use_saved: bool) -> Result<Credentials, Failure> {
    let server = args.server.clone().ok_or_else(|| {
        Failure::usage("no server: pass --server URL or set TABLEAU_SERVER (or try --demo)")
    })?;
    // A cookie's value holds none of these: a pasted `name=value; other=...` would be cut
    // at the first `;` and sent as another session. (The value is never echoed.)
    if let Some(id) = &args.session_id
        && id
            .expose_secret()
            .contains([';', ',', ' ', '\t', '\n', '\r', '"'])
    {
        return Err(Failure::usage(
            "--session-id (or TABLEAU_SESSION_ID) holds ';', ',', a space or a quote: give the value of the workgroup_session_id cookie alone",
        ));
    }
    let given = args.session_id.as_ref().map(|id| ExistingSession {
        session_id: id.clone(),
        xsrf: std::env::var("TABLEAU_XSRF_TOKEN")
            .ok()
            .filter(|x| !x.is_empty())
            .map(SecretString::from),
        origin: SessionOrigin::Given,
        saved: false,
    });
    let who = saved::Who::given(args);
    let saved = match given {
        None if use_saved => saved::find(&server, who, saved::Use::SignIn)?,
        _ => None,
    };
    let existing = given.or_else(|| saved.as_ref().map(|(_, s)| s.existing()));
    let prompt = existing.is_none();
    // Who signs in again when the saved session has expired: the flags' user or token,
    // else the saved session's own (so a password or token secret alone renews it).
    let (token_name, username) = match (&saved, who) {
        (Some((_, record)), None) => match &record.token_name {
            Some(name) => (Some(name.clone()), None),
            // The name it was saved under signs in (a domain user as given, `CORP\jdoe`).
            None => (
                None,
                Some(record.saved_as.clone().unwrap_or(record.username.clone())),
            ),
        },
        _ => (args.token_name.clone(), args.username.clone()),
    };
    let sign_in = if let Some(name) = &token_name {
        password::token_secret(args.token_file.as_deref(), name, prompt)?.map(|secret| {
            SignIn::Token {
                name: name.clone(),
                secret,
            }
        })
    } else if let Some(username) = &username {
        password::resolve(
            args.password_file.as_deref(),
            args.password_stdin,
            username,
            prompt,
        )?
        .map(|password| SignIn::Password {
            username: username.clone(),
            password,
        })
    } else {
        None
    };
    if existing.is_none() && sign_in.is_none() {
        return Err(Failure::usage(missing_credentials(args)));
    }
    Ok(Credentials {
        server,
        sign_in,
        existing,
        saved,
    })
}

fn missing_credentials(args: &ConnectArgs) -> String {
    match (&args.token_name, &args.username) {
        (Some(name), _) => format!(
            "no secret for the token {name}: set TABLEAU_PAT_SECRET or pass --token-file PATH"
        ),
        (None, Some(_)) => {
            "no password: set TABLEAU_PASSWORD, or pass --password-file PATH or --password-stdin"
                .to_string()
        }
        (None, None) => "no credentials: pass --username NAME (TABLEAU_USERNAME) with a password, --token-name NAME (TABLEAU_PAT_NAME) with its secret, or --session-id ID (TABLEAU_SESSION_ID); or sign in once with vizscript login --save".to_string(),
    }
}

/// The proxy that requests to the server go through (`--proxy`, or the environment's for
/// the server's scheme unless `NO_PROXY` lists its host), without any password in it.
fn proxy_for(args: &ConnectArgs) -> Option<String> {
    if args.no_proxy {
        return None;
    }
    let proxy = match &args.proxy {
        Some(proxy) => proxy.clone(),
        None => {
            let url = reqwest::Url::parse(args.server.as_deref()?).ok()?;
            let host = url.host_str()?.to_ascii_lowercase();
            let listed = |entry: &str| {
                let entry = entry.trim().trim_start_matches('.').to_ascii_lowercase();
                entry == "*"
                    || (!entry.is_empty()
                        && (host == entry || host.ends_with(&format!(".{entry}"))))
            };
            let bypassed = ["NO_PROXY", "no_proxy"]
                .iter()
                .filter_map(|v| std::env::var(v).ok())
                .any(|list| list.split(',').any(listed));
            let names: &[&str] = match url.scheme() {
                "https" => &["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"],
                _ => &["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"],
            };
            let set = names
                .iter()
                .find_map(|v| std::env::var(v).ok().filter(|p| !p.is_empty()));
            set.filter(|_| !bypassed)?
        }
    };
    Some(crate::vizportal::without_credentials(&proxy))
}

/// An answer that is not Tableau's while a proxy is in the way most likely comes from the
/// proxy (its own sign-in page), and a server that cannot be reached may be a proxy that
/// cannot: say so, naming it.
fn through_proxy(error: VizportalError, args: &ConnectArgs) -> Failure {
    let class = error.class();
    let mut failure = Failure::from(error);
    let Some(proxy) = proxy_for(args) else {
        return failure;
    };
    let note = match class {
        ErrorClass::NotVizportal => format!(
            "requests went through the proxy {proxy}; this answer probably comes from the proxy (its own sign-in page?). Sign in to the proxy, or use --no-proxy if the server is reachable directly"
        ),
        ErrorClass::Unreachable => format!(
            "requests went through the proxy {proxy}; check that it is up and reachable, or use --no-proxy if the server is reachable directly"
        ),
        _ => return failure,
    };
    failure.message.push_str(&format!("\n  note: {note}"));
    failure
}

fn start_demo(args: &ConnectArgs) -> Result<(Emulator, Credentials), Failure> {
    // Settings from the environment or a profile name the real server: set aside.
    let typed = |setting: &str| args.origin(setting) == Some(SettingOrigin::Flag);
    if args.server.is_some() && typed("server") {
        return Err(Failure::usage(
            "--demo serves the bundled emulator: drop --server (or --demo)",
        ));
    }
    let known = |name: &str| SAMPLE_USERS.iter().any(|(user, _)| *user == name);
    let username = match &args.username {
        Some(name) if !known(name) && !typed("username") => {
            crate::diag!("demo: user {name:?} is not a demo user; signing in as admin");
            "admin".to_string()
        }
        Some(name) => name.clone(),
        None => "admin".to_string(),
    };
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
    let password = SAMPLE_USERS
        .iter()
        .find(|(user, _)| *user == username)
        .map(|(_, password)| SecretString::from(*password))
        .ok_or_else(|| {
            let known: Vec<&str> = SAMPLE_USERS.iter().map(|(u, _)| *u).collect();
            Failure::usage(format!("--demo knows the users {}", known.join(", ")))
        })?;
    let url = emulator.url();
    crate::note!("demo: bundled emulator at {url}");
    let credentials = Credentials {
        server: url,
        sign_in: Some(SignIn::Password { username, password }),
        existing: None,
        saved: None,
    };
    Ok((emulator, credentials))
}

impl Connection {
    /// End the connection ([`Connection::close`]) and print the dry-run plan
    /// ([`Connection::report_plan`]).
    pub fn finish(&self) -> Result<(), Failure> {
        self.close()?;
        let plan = self.client.plan();
        self.report_plan(&plan, PlannedCall::on_several_sites(&plan))?;
        match self.client.audit_lost() {
            Some(why) => Err(Failure::new(
                ExitCode::Failed,
                format!(
                    "error: {why}; a change sent before that is not recorded there (see the errors above)"
                ),
            )),
            None => Ok(()),
        }
    }

    /// Keep a saved session (replaced when it was renewed), or sign a token session out.
    pub fn close(&self) -> Result<(), Failure> {
        let session = self.client.session();
        match &self.saved {
            Some((path, saved)) => {
                let info = session.info();
                // A token session belongs to the site it signed in to: one that ended on
                // another site than the saved one is not saved, so the next command does
                // not start there (it signs in again on the saved site, given the secret).
                let elsewhere = session.origin() == SessionOrigin::Token
                    && !info.site_url_name.eq_ignore_ascii_case(&saved.site);
                if elsewhere && session.current_session().is_some_and(|c| !saved.is(&c.0)) {
                    // Signing in on another site ended the saved session (one token, one
                    // session): end this one too, and say what the next command does.
                    session.sign_out_rest();
                    crate::diag!(
                        "note: the saved session ended when this run signed in on site {:?}; the next command signs in again on {:?} (given the token secret)",
                        info.site_url_name,
                        saved.site
                    );
                }
                if let Some(current) = session.current_session()
                    && !saved.is(&current.0)
                    && !elsewhere
                {
                    // The site chosen at `login --save` stays the saved one, wherever
                    // this command went.
                    let renewed = SavedSession::new(
                        &saved.server,
                        &saved.site,
                        &info.username,
                        saved.token_name.as_deref(),
                        session.origin(),
                        current,
                    )
                    .saved_as(saved.saved_as.clone());
                    // What the command did stands: a session it could not keep is no
                    // reason to fail it (a retrying wrapper would apply it again).
                    match saved::write(path, &renewed) {
                        Ok(()) => {
                            tracing::info!("the saved session was renewed: {}", path.display())
                        }
                        Err(failure) => {
                            // A session that cannot be kept is not left open either.
                            let _ = session.log_out();
                            crate::diag!(
                                "warning: {}; the session was ended, and the next command signs in again",
                                failure.message.trim_start_matches("error: ")
                            );
                        }
                    }
                }
            }
            None => session.sign_out_rest(),
        }
        Ok(())
    }

    /// Say on stderr who is signed in and on which site, so a run never acts on a site
    /// the user did not expect (the server may land a session on the user's last site).
    pub fn announce(&self) {
        let info = self.client.session().info();
        let dry = if self.client.dry_run() {
            " (dry run)"
        } else {
            ""
        };
        crate::diag!(
            "signed in as {} on site {} ({:?}){dry}",
            info.username,
            info.site_name,
            info.site_url_name
        );
    }

    /// Under dry-run, print `plan` on stderr (naming each call's site when `with_site`)
    /// and write it as JSON when asked.
    pub fn report_plan(&self, plan: &[PlannedCall], with_site: bool) -> Result<(), Failure> {
        self.report_plan_parts(&[plan.to_vec()], with_site)
    }

    /// [`Connection::report_plan`] of plans made apart (sites run at once, each with its
    /// own connection), one after the other, each numbered from 1 as its stand-in ids
    /// count its calls.
    pub fn report_plan_parts(
        &self,
        parts: &[Vec<PlannedCall>],
        with_site: bool,
    ) -> Result<(), Failure> {
        if !self.client.dry_run() {
            return Ok(());
        }
        let plan: Vec<PlannedCall> = parts.concat();
        let plan = &plan[..];
        let mut err = std::io::stderr().lock();
        // The site the calls were planned on (the session may have moved since).
        let site = match (with_site, plan.first()) {
            (true, _) => String::new(),
            (false, Some(call)) => format!(" on site {:?}", call.site),
            (false, None) => format!(" on site {:?}", self.client.session().info().site_url_name),
        };
        let _ = writeln!(
            err,
            "dry run{site}: {} mutating call(s) held back; nothing was changed on the server",
            plan.len()
        );
        for line in parts
            .iter()
            .flat_map(|part| PlannedCall::render(part, with_site))
        {
            let _ = writeln!(err, "  {line}");
        }
        if let Some(path) = &self.plan_json {
            super::rehearsal::write_json(path, plan, "--plan-json")?;
        }
        Ok(())
    }
}

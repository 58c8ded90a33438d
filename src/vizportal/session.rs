//! A signed-in Vizportal session: made by the RSA password login, a personal access token
//! (REST), or adopted from elsewhere; on the wanted site; and calls that survive an
//! expired session by signing in again the same way and returning to the same site
//! before repeating the call.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::crypto::encrypt_password;
use super::error::{LoginFailure, VizportalError};
use super::method::MethodKind;
use super::options::ConnectOptions;
use super::parallel::Window;
use super::rest::{self, RestSession};
use super::retry::RetryPolicy;
use super::sign_in::{ExistingSession, SessionOrigin, SignIn};
use super::transport::{Attempt, ReadBody, Transport};
use crate::wire::{self, WireError, code, id_text, method};

/// Who is signed in, and on which site.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionInfo {
    /// The user's name.
    pub username: String,
    /// The user's repository id.
    pub user_id: String,
    /// The site's display name.
    pub site_name: String,
    /// The site's URL name (`""` = Default).
    pub site_url_name: String,
    /// The site's repository id (used in filters such as `siteId`).
    pub site_id: String,
}

impl SessionInfo {
    fn from_result(result: &Value) -> SessionInfo {
        let text = |path: &[&str]| {
            let mut v = result;
            for key in path {
                v = &v[*key];
            }
            id_text(v).map(|t| t.into_owned()).unwrap_or_default()
        };
        SessionInfo {
            username: text(&["user", "username"]),
            user_id: text(&["user", "id"]),
            site_name: text(&["site", "name"]),
            site_url_name: text(&["site", "urlName"]),
            site_id: text(&["site", "id"]),
        }
    }
}

/// A logged-in session. Safe to share between threads.
#[derive(Debug)]
pub struct Session {
    transport: Transport,
    /// How to sign in again; `None` when only an existing session was given.
    means: Option<SignIn>,
    /// A session made elsewhere, used for the first sign-in only.
    existing: Mutex<Option<ExistingSession>>,
    /// How the current session was made.
    origin: Mutex<SessionOrigin>,
    /// The REST session behind a token sign-in (signed out at the end).
    rest: Mutex<Option<RestSession>>,
    rest_version: Mutex<Option<String>>,
    retry: RetryPolicy,
    pub(crate) page_size: usize,
    pub(crate) concurrency: usize,
    info: Mutex<SessionInfo>,
    wanted_site: Mutex<Option<String>>,
    /// Serialises re-logins; holds the number of logins done so far.
    logins: Mutex<u64>,
    generation: AtomicU64,
}

impl Session {
    /// Sign in as the options say and make sure the session is on the wanted site.
    pub fn open(options: ConnectOptions) -> Result<Session, VizportalError> {
        let transport = Transport::new(&options)?;
        let origin = match (&options.existing, &options.sign_in) {
            (Some(existing), _) => existing.origin,
            (None, Some(means)) => means.kind(),
            (None, None) => {
                return Err(VizportalError::Usage(
                    "no way to sign in was given".to_string(),
                ));
            }
        };
        let session = Session {
            transport,
            means: options.sign_in,
            existing: Mutex::new(options.existing),
            origin: Mutex::new(origin),
            rest: Mutex::new(None),
            rest_version: Mutex::new(None),
            retry: options.retry,
            page_size: options.page_size.max(1),
            concurrency: options.concurrency.max(1),
            info: Mutex::new(SessionInfo::default()),
            wanted_site: Mutex::new(options.site),
            logins: Mutex::new(0),
            generation: AtomicU64::new(0),
        };
        if let Err(error) = session.authenticate() {
            // Only now ask how the server signs users in: it explains a refused password
            // (SAML/OpenID accounts) and costs the successful path no round trip.
            let auth_type = session.auth_type();
            return Err(explain_auth(error, auth_type.as_deref()));
        }
        *session.logins.lock().unwrap_or_else(|p| p.into_inner()) = 1;
        Ok(session)
    }

    /// The server's base URL.
    pub fn server(&self) -> &str {
        self.transport.base()
    }

    /// Who is signed in and where.
    pub fn info(&self) -> SessionInfo {
        self.info.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// How many requests to keep in flight when fetching pages or sending chunks: up to
    /// `--concurrency`, fewer while the server answers quickly (see [`Window`]).
    pub(crate) fn window(&self) -> Window<'_> {
        Window::after(self.concurrency, self.transport.answers())
    }

    /// Logins done so far (1 after opening; more after expired sessions).
    pub fn logins(&self) -> u64 {
        *self.logins.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Call a method and return its `result`. Retries follow the method's kind; an
    /// expired session is renewed (see `renewing`). `switchSite` also moves where
    /// re-logins return.
    pub fn call(&self, method: &str, params: &Value) -> Result<Value, VizportalError> {
        if method == method::SWITCH_SITE {
            let url_name = params.get("urlName").and_then(Value::as_str).unwrap_or("");
            return self.switch_site(url_name);
        }
        self.call_renewing(method, params)
    }

    /// Switch the session to the site with this URL name (`""` = Default). Cookies rotate.
    /// A token session is bound to the site it signed in to, so it signs in again there.
    pub fn switch_site(&self, url_name: &str) -> Result<Value, VizportalError> {
        let result = match &self.means {
            Some(SignIn::Token { name, secret }) if self.origin() == SessionOrigin::Token => {
                let _serialised = self.logins.lock().unwrap_or_else(|p| p.into_inner());
                let result = self
                    .token_sign_in(name, secret, Some(url_name))
                    .map_err(|e| e.switching_to(url_name))?;
                self.generation.fetch_add(1, Ordering::SeqCst);
                result
            }
            None if self.origin() == SessionOrigin::Token => {
                self.can_go_to(url_name)?;
                self.call_renewing(method::GET_SESSION_INFO, &json!({}))?
            }
            _ => match self.call_renewing(method::SWITCH_SITE, &json!({ "urlName": url_name })) {
                // Already there: the session info is what a switch would have answered.
                Err(VizportalError::Api { errors, .. })
                    if has_code(&errors, &[code::ALREADY_ON_SITE]) =>
                {
                    self.call_renewing(method::GET_SESSION_INFO, &json!({}))?
                }
                other => other.map_err(|e| e.switching_to(url_name))?,
            },
        };
        let info = SessionInfo::from_result(&result);
        *self.wanted_site.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(info.site_url_name.clone());
        *self.info.lock().unwrap_or_else(|p| p.into_inner()) = info;
        Ok(result)
    }

    /// Whether `text` holds one of this session's secrets: the password or token secret
    /// it signs in with, or the session cookie or XSRF token it holds now.
    pub fn holds_secret(&self, text: &str) -> bool {
        self.secrets()
            .iter()
            .any(|secret| text.contains(secret.as_str()))
    }

    /// The session's own secrets, of four bytes or more: the password or token secret it
    /// signed in with, and its cookies.
    pub fn secrets(&self) -> Vec<String> {
        let password = match &self.means {
            Some(SignIn::Password { password, .. }) => Some(password.expose_secret().to_string()),
            _ => None,
        };
        let mut secrets = self.transport.session_secrets();
        secrets.extend(password);
        secrets.retain(|secret| secret.len() >= 4);
        secrets
    }

    fn call_renewing(&self, method: &str, params: &Value) -> Result<Value, VizportalError> {
        self.renewing(method, || self.transport.post(method, params))
    }

    /// A call whose answer is read by `read` in one pass (large list pages); otherwise
    /// exactly like [`Session::call`] (see [`Transport::post_read`]).
    pub(crate) fn call_read<T>(
        &self,
        method: &str,
        params: &Value,
        read: ReadBody<'_, T>,
    ) -> Result<T, VizportalError> {
        self.renewing(method, || self.transport.post_read(method, params, read))
    }

    /// Run `attempt` with the retry policy of `method`, renewing an expired session and
    /// repeating. Each expiry costs one login; a server that keeps rejecting fresh
    /// sessions is given up on after ten (a call that backs off through many refusals can
    /// outlive several short sessions).
    fn renewing<T>(
        &self,
        method: &str,
        attempt: impl FnMut() -> Result<T, Attempt> + Copy,
    ) -> Result<T, VizportalError> {
        const RENEWALS: usize = 10;
        let kind = MethodKind::of(method);
        // Whether any attempt, before a renewal too, may have been applied.
        let reached = std::cell::Cell::new(false);
        for _ in 0..RENEWALS {
            let generation = self.generation.load(Ordering::SeqCst);
            match self.retry.run_noting(method, kind, &reached, attempt) {
                Ok(result) => return Ok(result),
                // Signing in needs no session: a refusal there is the answer, and signing
                // in again to repeat it would only add failed attempts on the account.
                Err(failure @ Attempt::Unauthorized(..))
                    if method == wire::method::LOGIN
                        || method == wire::method::GENERATE_PUBLIC_KEY =>
                {
                    return Err(failure.into_error(method, kind));
                }
                Err(Attempt::Unauthorized(..)) => {
                    tracing::info!("{method}: session expired; signing in again");
                    self.renew(generation).map_err(|e| e.interrupting(method))?;
                }
                Err(failure) => return Err(failure.into_error(method, kind)),
            }
        }
        self.retry
            .run_noting(method, kind, &reached, attempt)
            .map_err(|a| a.into_error(method, kind))
    }

    /// Sign in again unless another thread already did since `seen_generation`.
    fn renew(&self, seen_generation: u64) -> Result<(), VizportalError> {
        let mut logins = self.logins.lock().unwrap_or_else(|p| p.into_inner());
        if self.generation.load(Ordering::SeqCst) != seen_generation {
            return Ok(());
        }
        self.transport.clear_session_cookies();
        self.authenticate()?;
        *logins += 1;
        Ok(())
    }

    /// How the server signs users in (`getServerSettingsUnauthenticated`), if it says.
    fn auth_type(&self) -> Option<String> {
        let method = method::GET_SERVER_SETTINGS_UNAUTHENTICATED;
        let settings = self.transport.post(method, &json!({})).ok()?;
        settings["authenticationType"]["type"]
            .as_str()
            .map(str::to_string)
    }

    /// Sign in and go to the wanted site: with the existing session first if one was
    /// given, else (and after it expires) by the configured means.
    fn authenticate(&self) -> Result<(), VizportalError> {
        let wanted = self
            .wanted_site
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let existing = self
            .existing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let (adopted, given) = match existing {
            Some(existing) => (
                Some(self.adopt(&existing, wanted.as_deref())?),
                Some(existing).filter(|e| e.origin == SessionOrigin::Given && !e.saved),
            ),
            None => (None, None),
        };
        let result = match (adopted, given) {
            (Some(Ok(result)), _) => result,
            // A session id the user gave, refused, with nothing else to sign in with: say
            // what the server said and what else may be wrong with it.
            (Some(Err(refusal)), Some(given)) if self.means.is_none() => {
                let fix = if given.xsrf.is_none() {
                    "or it also needs its XSRF token (set TABLEAU_XSRF_TOKEN to the XSRF-TOKEN cookie of the same browser session)"
                } else {
                    "or TABLEAU_XSRF_TOKEN is not the XSRF-TOKEN cookie of the same browser session"
                };
                return Err(VizportalError::Login(LoginFailure::SessionEnded {
                    message: format!(
                        "the server refused the given session ({refusal}): it has expired or been signed out, {fix}"
                    ),
                    during: None,
                }));
            }
            // The user asked for that session: signing in otherwise is said, not hidden
            // (it may be another user than the browser's).
            (Some(Err(refusal)), Some(_)) => {
                let by = match &self.means {
                    Some(SignIn::Password { username, .. }) => {
                        format!("as {username} with a password")
                    }
                    Some(SignIn::Token { name, .. }) => format!("with the token {name}"),
                    None => String::new(),
                };
                crate::diag!(
                    "warning: the server refused the session given (--session-id or TABLEAU_SESSION_ID) ({refusal}); signing in {by} instead"
                );
                self.sign_in_by_means(wanted.as_deref())?
            }
            _ => self.sign_in_by_means(wanted.as_deref())?,
        };
        let info = SessionInfo::from_result(&result);
        if wanted.is_none() {
            *self.wanted_site.lock().unwrap_or_else(|p| p.into_inner()) =
                Some(info.site_url_name.clone());
        }
        *self.info.lock().unwrap_or_else(|p| p.into_inner()) = info;
        self.generation.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// Sign in with the configured means; with none, the session has ended for good.
    fn sign_in_by_means(&self, wanted: Option<&str>) -> Result<Value, VizportalError> {
        let result = match &self.means {
            None => {
                return Err(VizportalError::Login(LoginFailure::SessionEnded {
                    message: "the session is no longer valid (expired or signed out) and nothing is configured to sign in again with: give a password or a token, or sign in again (vizscript login --save)".to_string(),
                    during: None,
                }));
            }
            Some(SignIn::Password { username, password }) => self
                .retry
                .run(method::LOGIN, MethodKind::Session, || {
                    self.sign_in_once(username, password, wanted)
                })
                .map_err(login_error)?,
            Some(SignIn::Token { name, secret }) => self.token_sign_in(name, secret, wanted)?,
        };
        if let Some(means) = &self.means {
            *self.origin.lock().unwrap_or_else(|p| p.into_inner()) = means.kind();
        }
        Ok(result)
    }

    /// Use a session made elsewhere: its session info, then the wanted site. `Err` with
    /// the server's answer when it does not accept the session (the caller then signs in
    /// by other means).
    fn adopt(
        &self,
        existing: &ExistingSession,
        wanted: Option<&str>,
    ) -> Result<Result<Value, String>, VizportalError> {
        let xsrf = existing
            .xsrf
            .as_ref()
            .map_or_else(random_xsrf, |x| x.expose_secret().to_string());
        self.transport
            .adopt_session(existing.session_id.expose_secret(), &xsrf);
        let landed = match self.session_info_now() {
            Ok(info) => info,
            Err(Attempt::Unauthorized(status, errors)) => {
                tracing::info!("the given session is no longer valid");
                let said = errors.iter().find_map(|e| e.message.clone());
                return Ok(Err(match said {
                    Some(said) => format!("HTTP {status}: {said}"),
                    None => format!("HTTP {status}"),
                }));
            }
            Err(other) => return Err(other.into_error(method::GET_SESSION_INFO, MethodKind::Read)),
        };
        // A token session belongs to its site: another site is a new sign-in with the
        // token (if its secret was given), never a switch of this session.
        let landed_site = landed["site"]["urlName"].as_str().unwrap_or_default();
        if existing.origin == SessionOrigin::Token
            && let Some(site) = wanted.filter(|w| !w.eq_ignore_ascii_case(landed_site))
        {
            if self.means.is_none() {
                return Err(token_needs_secret(landed_site, site));
            }
            return Ok(Err(format!("the token session is on site {landed_site:?}")));
        }
        self.go_to_site(landed, wanted)
            .map(Ok)
            .map_err(|a| a.into_error(method::SWITCH_SITE, MethodKind::Session))
    }

    /// Sign in with a personal access token to the wanted site (Default when none), then
    /// use the REST token as the Vizportal session with a fresh XSRF pair. One token is
    /// one session, so any earlier REST session of this client is signed out first.
    fn token_sign_in(
        &self,
        name: &str,
        secret: &SecretString,
        wanted: Option<&str>,
    ) -> Result<Value, VizportalError> {
        self.sign_out_rest();
        let version = self.rest_version()?;
        let site = wanted.unwrap_or("");
        let signin = rest::SIGNIN;
        let session = self
            .retry
            .run(signin, MethodKind::Session, || {
                rest::sign_in(&self.transport, &version, name, secret, site)
            })
            .map_err(|a| a.into_error(signin, MethodKind::Session))?;
        self.transport
            .adopt_session(session.token.expose_secret(), &random_xsrf());
        *self.rest.lock().unwrap_or_else(|p| p.into_inner()) = Some(session);
        self.session_info_now()
            .map_err(|a| a.into_error(method::GET_SESSION_INFO, MethodKind::Read))
    }

    /// `getSessionInfo` for a session made elsewhere, retried as a read but not renewed:
    /// the caller decides what a refusal means.
    fn session_info_now(&self) -> Result<Value, Attempt> {
        self.retry
            .run(method::GET_SESSION_INFO, MethodKind::Read, || {
                self.transport.post(method::GET_SESSION_INFO, &json!({}))
            })
    }

    /// The server's REST API version, asked once.
    fn rest_version(&self) -> Result<String, VizportalError> {
        let mut known = self.rest_version.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(version) = known.as_ref() {
            return Ok(version.clone());
        }
        // A read: retried as one, so a token sign-in rides out a server restart too.
        let probe = rest::SERVERINFO;
        let version = self
            .retry
            .run(probe, MethodKind::Read, || {
                rest::discover_version(&self.transport)
            })
            .map_err(|a| a.into_error(probe, MethodKind::Read))?;
        *known = Some(version.clone());
        Ok(version)
    }

    /// End the REST session behind a token sign-in, if there is one. Failures are logged:
    /// the session ends by itself when it expires.
    pub fn sign_out_rest(&self) {
        let session = self.rest.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(session) = session
            && let Err(error) = rest::sign_out(&self.transport, &session)
        {
            tracing::warn!("signing out the token session failed: {error}");
        }
    }

    /// End the session on the server: REST sign-out for a token session, Vizportal
    /// `logout` otherwise.
    pub fn log_out(&self) -> Result<(), VizportalError> {
        if self
            .rest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
        {
            self.sign_out_rest();
            return Ok(());
        }
        if self.origin() == SessionOrigin::Token
            && let Some((token, _)) = self.current_session()
        {
            let version = self.rest_version()?;
            return rest::sign_out(&self.transport, &RestSession { version, token });
        }
        match self.transport.post(method::LOGOUT, &json!({})) {
            Ok(_) | Err(Attempt::Unauthorized(..)) => Ok(()),
            Err(other) => Err(other.into_error(method::LOGOUT, MethodKind::Session)),
        }
    }

    /// How the current session was made.
    pub fn origin(&self) -> SessionOrigin {
        *self.origin.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether this session can go to `site`: a token session given no secret (a saved
    /// one) cannot leave its own site, since a token signs in to one site.
    pub fn can_go_to(&self, site: &str) -> Result<(), VizportalError> {
        let here = self.info().site_url_name;
        match self.origin() == SessionOrigin::Token
            && self.means.is_none()
            && !here.eq_ignore_ascii_case(site)
        {
            true => Err(token_needs_secret(&here, site)),
            false => Ok(()),
        }
    }

    /// The current session's id and XSRF token, to save it for later runs. Both are
    /// secrets.
    pub fn current_session(&self) -> Option<(SecretString, SecretString)> {
        let id = self.transport.cookie(wire::SESSION_COOKIE)?;
        let xsrf = self.transport.cookie(wire::XSRF_COOKIE)?;
        Some((SecretString::from(id), SecretString::from(xsrf)))
    }

    /// One sign-in: login, then `switchSite` when the server landed the session elsewhere.
    /// A session lost between the two (expired, or its answer cut off) makes the whole
    /// attempt worth repeating.
    fn sign_in_once(
        &self,
        username: &str,
        password: &SecretString,
        wanted: Option<&str>,
    ) -> Result<Value, Attempt> {
        let landed = self.login_once(username, password)?;
        self.go_to_site(landed, wanted)
    }

    /// `switchSite` to `wanted` unless the session `landed` there already.
    fn go_to_site(&self, landed: Value, wanted: Option<&str>) -> Result<Value, Attempt> {
        let landed_site = landed["site"]["urlName"].as_str().unwrap_or_default();
        let Some(site) = wanted.filter(|site| !site.eq_ignore_ascii_case(landed_site)) else {
            return Ok(landed);
        };
        match self
            .transport
            .post(method::SWITCH_SITE, &json!({ "urlName": site }))
        {
            Err(Attempt::Unauthorized(..)) => Err(Attempt::Ambiguous(
                "the new session ended before the switch to the site".into(),
            )),
            Err(Attempt::Final(VizportalError::Api { errors, .. }))
                if has_code(&errors, &[code::BAD_CREDENTIALS, code::SITE_NOT_FOUND]) =>
            {
                Err(Attempt::Final(VizportalError::Login(
                    LoginFailure::UnknownSite {
                        site: site.to_string(),
                        during: None,
                    },
                )))
            }
            other => other,
        }
    }

    fn login_once(&self, username: &str, password: &SecretString) -> Result<Value, Attempt> {
        let key = self
            .transport
            .post(method::GENERATE_PUBLIC_KEY, &json!({}))?;
        let field = |v: &Value| v.as_str().map(str::to_string);
        let (Some(key_id), Some(n), Some(e)) = (
            field(&key["keyId"]),
            field(&key["key"]["n"]),
            field(&key["key"]["e"]),
        ) else {
            return Err(Attempt::Final(VizportalError::Login(
                LoginFailure::Unexpected(
                    "generatePublicKey did not return keyId, key.n and key.e".to_string(),
                ),
            )));
        };
        let encrypted = encrypt_password(&n, &e, password)
            .map_err(|m| Attempt::Final(VizportalError::Login(LoginFailure::Unexpected(m))))?;
        let params = json!({
            "username": username,
            "encryptedPassword": encrypted,
            "keyId": key_id,
        });
        let earlier = self.transport.cookie(wire::SESSION_COOKIE);
        let landed = self.transport.post(method::LOGIN, &params)?;
        // A Vizportal login always sets a new session cookie. Without one the answer came
        // from something else, and signing in again would only send the password again.
        let session = self.transport.cookie(wire::SESSION_COOKIE);
        if session.is_none() || session == earlier {
            return Err(Attempt::Final(VizportalError::odd_answer(
                self.transport.base(),
                method::LOGIN,
                format!(
                    "the login was answered without a new {} cookie",
                    wire::SESSION_COOKIE
                ),
            )));
        }
        Ok(landed)
    }
}

/// A token session (saved, with no secret given now) asked to go to another site.
fn token_needs_secret(on: &str, wanted: &str) -> VizportalError {
    VizportalError::Login(LoginFailure::SessionEnded {
        message: format!(
            "the token session is on site {on:?}; a token signs in to one site, so site {wanted:?} needs a new sign-in with the token's secret (--token-file or TABLEAU_PAT_SECRET)"
        ),
        during: None,
    })
}

fn has_code(errors: &[WireError], codes: &[i64]) -> bool {
    errors
        .iter()
        .any(|e| e.code.is_some_and(|c| codes.contains(&c)))
}

/// What a failed `login` means for the user.
fn login_error(failure: Attempt) -> VizportalError {
    const UNSUPPORTED: &[(i64, &str)] = &[
        (
            code::POD_REDIRECT,
            "Tableau Cloud (the site lives on another pod)",
        ),
        (42, "SSPI (Windows integrated)"),
        (43, "Kerberos"),
        (59, "client certificate"),
        (60, "client certificate"),
        (61, "client certificate"),
        (69, "OpenID Connect"),
    ];
    match failure {
        Attempt::Unauthorized(_, errors)
            if errors.is_empty() || has_code(&errors, &[code::BAD_CREDENTIALS]) =>
        {
            VizportalError::Login(LoginFailure::BadCredentials)
        }
        Attempt::Unauthorized(_, errors) | Attempt::Final(VizportalError::Api { errors, .. }) => {
            if let Some((_, what)) = UNSUPPORTED.iter().find(|(c, _)| has_code(&errors, &[*c])) {
                return VizportalError::Login(LoginFailure::UnsupportedAuth(what.to_string()));
            }
            if has_code(&errors, &[code::BAD_CREDENTIALS]) {
                return VizportalError::Login(LoginFailure::BadCredentials);
            }
            let text = errors
                .iter()
                .map(|e| {
                    format!(
                        "code {}: {}",
                        e.code.unwrap_or(0),
                        e.message.clone().unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join("; ");
            VizportalError::Login(LoginFailure::Unexpected(format!(
                "the server refused the login: {text}"
            )))
        }
        other => other.into_error(method::LOGIN, MethodKind::Session),
    }
}

/// A bad-credentials answer from a server that signs users in with SAML or OpenID most
/// likely means the account has no local password.
fn explain_auth(error: VizportalError, auth_type: Option<&str>) -> VizportalError {
    match (error, auth_type) {
        (VizportalError::Login(LoginFailure::BadCredentials), Some(kind))
            if ["saml", "openid"].contains(&kind.to_ascii_lowercase().as_str()) =>
        {
            VizportalError::Login(LoginFailure::UnsupportedAuth(format!(
                "{kind} (the password was rejected; SAML/OpenID users need a local password)"
            )))
        }
        (error, _) => error,
    }
}

/// A fresh XSRF value for a session made elsewhere: random, non-empty, cookie-safe.
fn random_xsrf() -> String {
    use rand::Rng;
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(24)
        .map(char::from)
        .collect()
}

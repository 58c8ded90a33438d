//! One HTTP exchange with Vizportal: build the request (cookies from the jar, the XSRF
//! header from the current `XSRF-TOKEN` cookie), send it, cap and parse the answer, and
//! classify any failure so the retry and session layers can decide what to do.

use std::fmt;
use std::io::Read;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use reqwest::header::{CONTENT_TYPE, HeaderValue, LOCATION};
use serde_json::Value;

use super::error::VizportalError;
use super::jar::Jar;
use super::method::MethodKind;
use super::options::ConnectOptions;
use super::parallel::AnswerTime;
use crate::wire::{self, WireError, code};

mod echo;

pub(crate) use echo::mask;

/// How one attempt at a call ended, when it did not end with a usable `result`.
#[derive(Debug)]
pub(crate) enum Attempt {
    /// The request never left: connection refused, DNS, TLS handshake.
    NotSent(String),
    /// The server declined to act (503, 429). Repeated for reads and idempotent writes;
    /// a `run*`/`create*`/`delete*` is not repeated, since the request did reach a server,
    /// and its outcome is unknown: a refusal usually comes before acting, but nothing
    /// confirms it.
    Declined(u16),
    /// A gateway answered 502/504, or the connection broke after the request was sent:
    /// the server may have acted.
    Ambiguous(String),
    /// No session, an expired one, or a rejected XSRF token (401, 403 with code 46).
    Unauthorized(u16, Vec<WireError>),
    /// A final answer: the server's errors, an HTTP error, or not Vizportal at all.
    Final(VizportalError),
}

impl Attempt {
    /// Whether repeating the call is safe and useful for a method of this kind.
    pub(crate) fn may_retry(&self, kind: MethodKind) -> bool {
        match self {
            Attempt::NotSent(_) => true,
            Attempt::Declined(_) | Attempt::Ambiguous(_) => {
                kind.is_repeatable() || kind == MethodKind::Session
            }
            Attempt::Unauthorized(..) | Attempt::Final(_) => false,
        }
    }

    /// The error a caller sees when this is how the call finally ended.
    pub(crate) fn into_error(self, method: &str, kind: MethodKind) -> VizportalError {
        match self {
            Attempt::NotSent(message) => VizportalError::transport(method, message),
            Attempt::Declined(status) if kind.is_repeatable() || kind == MethodKind::Session => {
                VizportalError::Http {
                    method: method.to_string(),
                    status,
                    excerpt: "the server stayed unavailable after retries".to_string(),
                }
            }
            Attempt::Declined(status) if kind.is_mutation() => VizportalError::OutcomeUnknown {
                method: method.to_string(),
                message: format!(
                    "HTTP {status}: the server declined the call, usually before acting, but nothing confirms that; {method} is not idempotent, so it was not sent again"
                ),
                status: Some(status),
            },
            Attempt::Declined(status) => VizportalError::Http {
                method: method.to_string(),
                status,
                excerpt: format!(
                    "the server is unavailable; {method} is not idempotent, so it was not sent again"
                ),
            },
            // A change whose request may have reached the server: whether it was applied
            // is unknown, even for an idempotent one repeated to the end of its retries.
            Attempt::Ambiguous(message) if kind.is_mutation() => VizportalError::OutcomeUnknown {
                method: method.to_string(),
                message,
                status: None,
            },
            Attempt::Ambiguous(message) => VizportalError::transport(method, message),
            Attempt::Unauthorized(status, errors) => VizportalError::Session {
                method: method.to_string(),
                message: format!(
                    "HTTP {status}: {}",
                    errors
                        .iter()
                        .filter_map(|e| e.message.clone())
                        .next()
                        .unwrap_or_else(|| "not signed in".to_string())
                ),
            },
            Attempt::Final(error) => error,
        }
    }
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Attempt::NotSent(m) => write!(f, "not sent: {m}"),
            Attempt::Declined(s) => write!(f, "server unavailable (HTTP {s})"),
            Attempt::Ambiguous(m) => write!(f, "{m}"),
            Attempt::Unauthorized(s, _) => write!(f, "session rejected (HTTP {s})"),
            Attempt::Final(e) => write!(f, "{e}"),
        }
    }
}

/// Reads an answer's body in one pass (see [`Transport::post_read`]); `Err` says why the
/// body is not the plain successful result it reads.
pub(crate) type ReadBody<'a, T> = &'a dyn Fn(&Bytes) -> Result<T, String>;

/// An answer as it came: where from, status, content type and body.
struct RawAnswer<'t> {
    url: String,
    status: StatusCode,
    content_type: String,
    bytes: Bytes,
    /// What the request carried that must never show in a message: the session cookie
    /// and XSRF token sent, and a login's encrypted password. A proxy or error page may
    /// echo the request back.
    sent: Vec<String>,
    /// Where the values held now are read, only when a message needs them.
    transport: &'t Transport,
}

impl RawAnswer<'_> {
    /// The answer's `result`, or how it failed (see [`parse_answer`]). A failure is read
    /// from the body with the request's secrets masked, since its message quotes the body.
    fn parse(&self, method: &str) -> Result<Value, Attempt> {
        let parse =
            |bytes: &[u8]| parse_answer(method, &self.url, self.status, &self.content_type, bytes);
        match parse(&self.bytes) {
            Err(_) if let Some(masked) = mask(&self.bytes, &self.secrets()) => parse(&masked),
            other => other,
        }
    }

    /// The body with the request's secrets masked, for a message that quotes it.
    fn shown(&self) -> String {
        excerpt(&mask(&self.bytes, &self.secrets()).unwrap_or_else(|| self.bytes.to_vec()))
    }

    /// The secrets sent, and the session cookie and XSRF token the answer may have set.
    fn secrets(&self) -> Vec<String> {
        let mut secrets = self.sent.clone();
        secrets.extend(self.transport.session_secrets());
        secrets
    }
}

/// Where a redirect points, for a message: without any user, password, query or fragment
/// (a sign-in page's query may carry a code), and without the method's path when it has
/// one, so that it reads as a `--server` value (a server may live under a path prefix).
fn redirect_target(target: &reqwest::Url) -> String {
    let mut shown = target.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    let path = shown.path().to_string();
    if let Some((prefix, _)) = path.split_once(wire::API_PATH) {
        shown.set_path(prefix);
    }
    shown.as_str().trim_end_matches('/').to_string()
}

/// Whether credentials may follow a redirect from the server at `base` to `target`: only
/// to the same scheme, host and port. Another host or port may be another program; down
/// to http:// would send them in the clear; and up to https:// would leave the session's
/// cookies (marked Secure by a real server) bound to the http:// URL given, so such a
/// server must be named by its https:// URL in the first place.
fn may_follow(base: &reqwest::Url, target: &reqwest::Url) -> bool {
    target.scheme() == base.scheme()
        && target.host_str() == base.host_str()
        && target.port_or_known_default() == base.port_or_known_default()
}

/// The HTTP side of a session: a client with a cookie jar bound to one server.
pub(crate) struct Transport {
    client: Client,
    jar: Arc<Jar>,
    base: reqwest::Url,
    max_response_bytes: usize,
    /// How long the last answer read in full took, request sent to body read.
    answers: AnswerTime,
    /// The token secret this session signs in with: an answer that quotes it (a proxy's
    /// page, an error echoing a request) shows it masked. (Not a password: a short or
    /// plain one would be masked inside the ids and codes of errors, which are read.)
    sign_in_secret: Option<secrecy::SecretString>,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("base", &self.base.as_str())
            .field("cookies", &"(redacted)")
            .finish()
    }
}

impl Transport {
    pub(crate) fn new(options: &ConnectOptions) -> Result<Transport, VizportalError> {
        let unusable = |reason: String| VizportalError::BadServerUrl {
            // Never a password in a message: the URL is shown without its user part.
            given: super::options::without_credentials(&options.server),
            reason,
        };
        let base = reqwest::Url::parse(&options.server)
            .map_err(|e| unusable(format!("not a URL ({e})")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(unusable("it must start with https:// or http://".into()));
        }
        if super::options::holds_credentials(&base) {
            return Err(unusable(
                "it must not hold a user name or password (user:password@)".into(),
            ));
        }
        let jar = Arc::new(Jar::default());
        let client = options.http_client(jar.clone())?;
        Ok(Transport {
            client,
            jar,
            base,
            max_response_bytes: options.max_response_bytes,
            answers: AnswerTime::default(),
            sign_in_secret: options.sign_in.as_ref().and_then(|means| match means {
                super::sign_in::SignIn::Token { secret, .. } => Some(secret.clone()),
                super::sign_in::SignIn::Password { .. } => None,
            }),
        })
    }

    /// The server's base URL, as given.
    pub(crate) fn base(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// How long the server took over the last answer read in full (zero before any).
    pub(crate) fn answers(&self) -> &AnswerTime {
        &self.answers
    }

    /// The current value of a cookie for this server, if the jar holds one.
    pub(crate) fn cookie(&self, name: &str) -> Option<String> {
        self.jar.get(&self.base, name)
    }

    /// The session cookie and XSRF token held now, and the token secret the session signs
    /// in with: what no message may show.
    pub(crate) fn session_secrets(&self) -> Vec<String> {
        use secrecy::ExposeSecret;
        [wire::SESSION_COOKIE, wire::XSRF_COOKIE]
            .iter()
            .filter_map(|name| self.cookie(name))
            .chain(
                self.sign_in_secret
                    .iter()
                    .map(|s| s.expose_secret().to_string()),
            )
            .collect()
    }

    /// Use a session made elsewhere (a REST token, a browser's session, a saved one):
    /// its id as the session cookie and `xsrf` as the `XSRF-TOKEN` cookie, which every
    /// call then also sends as the header.
    pub(crate) fn adopt_session(&self, session_id: &str, xsrf: &str) {
        self.clear_session_cookies();
        for (name, value) in [
            (wire::SESSION_COOKIE, session_id),
            (wire::XSRF_COOKIE, xsrf),
        ] {
            self.jar.set(&self.base, &format!("{name}={value}; Path=/"));
        }
    }

    /// The HTTP client and the server's base URL, for the REST sign-in.
    pub(crate) fn http(&self) -> (&Client, &reqwest::Url) {
        (&self.client, &self.base)
    }

    /// Forget the session cookies (before logging in again).
    pub(crate) fn clear_session_cookies(&self) {
        self.jar
            .forget(&self.base, &[wire::SESSION_COOKIE, wire::XSRF_COOKIE]);
    }

    /// POST one call and return its `result`, or how the attempt failed.
    pub(crate) fn post(&self, method: &str, params: &Value) -> Result<Value, Attempt> {
        self.exchange(method, params)?.parse(method)
    }

    /// POST one call and read a successful answer's body with `read`, in one pass and
    /// straight into the caller's types (a large list page is never a tree first). When
    /// `read` refuses the body (it lists errors, or is not what `read` expects), or the
    /// status is not a success, the answer goes through [`parse_answer`] and fails the
    /// same way as in [`Transport::post`]; a body that is a plain result there but that
    /// `read` cannot read fails with `read`'s reason.
    pub(crate) fn post_read<T>(
        &self,
        method: &str,
        params: &Value,
        read: ReadBody<'_, T>,
    ) -> Result<T, Attempt> {
        let answer = self.exchange(method, params)?;
        let reason = match answer.status.is_success() {
            true => match read(&answer.bytes) {
                Ok(value) => return Ok(value),
                Err(reason) => reason,
            },
            false => String::new(),
        };
        match answer.parse(method) {
            Err(failure) => Err(failure),
            Ok(_) if reason.is_empty() => Err(not_vizportal(
                &answer.url,
                answer.status.as_u16(),
                "a result that cannot be read",
                &answer.shown(),
            )),
            Ok(_) => Err(Attempt::Final(VizportalError::transport(method, reason))),
        }
    }

    /// Send a call and read its answer, following one same-host redirect.
    fn exchange(&self, method: &str, params: &Value) -> Result<RawAnswer<'_>, Attempt> {
        // The name becomes the URL's last part: nothing but a name may go there.
        if !wire::method::is_method_name(method) {
            return Err(Attempt::Final(VizportalError::Usage(
                wire::method::not_a_method_name(method),
            )));
        }
        let body = serde_json::to_vec(&wire::RequestBody::new(method, params))
            .map_err(|e| Attempt::Final(VizportalError::Usage(format!("{method}: {e}"))))?;
        let url = wire::method_url(self.base(), method);
        let mut sent = self.session_secrets();
        if let Some(encrypted) = params.get("encryptedPassword").and_then(Value::as_str) {
            sent.push(encrypted.to_string());
        }
        let started = Instant::now();
        super::retry::note_retry_after(None);
        let response = self.send(method, &url, &body)?;
        let response = self.follow_redirect(method, &url, &body, response)?;
        let status = response.status();
        let content_type = content_type(&response);
        super::retry::note_retry_after(super::retry::retry_after_of(&response));
        let bytes = self.read_capped(method, response)?;
        let took = started.elapsed();
        self.answers.set(took);
        // `-vv`: one line per answer, never its params or body (they may hold secrets).
        tracing::debug!(
            "{method}: HTTP {}, {} bytes sent, {} bytes back in {:.1} ms",
            status.as_u16(),
            body.len(),
            bytes.len(),
            took.as_secs_f64() * 1000.0
        );
        Ok(RawAnswer {
            url,
            status,
            content_type,
            bytes,
            sent,
            transport: self,
        })
    }

    fn send(&self, method: &str, url: &str, body: &[u8]) -> Result<Response, Attempt> {
        let mut request = self
            .client
            .post(url)
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static(wire::JSON_CONTENT_TYPE),
            )
            .body(body.to_vec());
        if !wire::UNAUTHENTICATED_METHODS.contains(&method)
            && let Some(token) = self.cookie(wire::XSRF_COOKIE)
        {
            request = request.header(wire::XSRF_HEADER, token);
        }
        request.send().map_err(|e| classify_send_error(method, &e))
    }

    /// Tableau's own client re-POSTs a redirect once. Only a redirect within the same
    /// scheme, host and port is followed (see [`may_follow`]): credentials never go
    /// elsewhere, and the error names the other server's address to pass as --server.
    fn follow_redirect(
        &self,
        method: &str,
        url: &str,
        body: &[u8],
        response: Response,
    ) -> Result<Response, Attempt> {
        if !response.status().is_redirection() {
            return Ok(response);
        }
        let status = response.status().as_u16();
        let target = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|loc| reqwest::Url::parse(url).ok()?.join(loc).ok());
        let Some(target) = target else {
            return Err(not_vizportal(
                url,
                status,
                "redirect without a usable Location",
                "",
            ));
        };
        if !may_follow(&self.base, &target) {
            return Err(Attempt::Final(VizportalError::ForeignRedirect {
                url: url.to_string(),
                status,
                target: redirect_target(&target),
            }));
        }
        let again = self.send(method, target.as_str(), body)?;
        if again.status().is_redirection() {
            return Err(not_vizportal(
                url,
                again.status().as_u16(),
                "a second redirect",
                "",
            ));
        }
        Ok(again)
    }

    /// The body, refused past the answer size limit.
    pub(crate) fn read_capped(&self, method: &str, response: Response) -> Result<Bytes, Attempt> {
        let limit = self.max_response_bytes;
        let too_large = || {
            Attempt::Final(VizportalError::TooLarge {
                method: method.to_string(),
                limit_mib: limit / (1024 * 1024),
            })
        };
        let lost = |e: &dyn std::fmt::Display| {
            let cause = e.to_string();
            Attempt::Ambiguous(match cause.contains("timed out") {
                true => "the answer came too slowly: it was not all read within --timeout".into(),
                false => format!("connection lost while reading the answer: {cause}"),
            })
        };
        match response.content_length() {
            // The server says how much is coming: refused unread when over the limit,
            // else gathered whole in one call, into one buffer of that size.
            Some(length) if length > limit as u64 => Err(too_large()),
            Some(_) => response.bytes().map_err(|e| lost(&error_chain(&e))),
            None => {
                let mut bytes = Vec::new();
                response
                    .take(limit as u64 + 1)
                    .read_to_end(&mut bytes)
                    .map_err(|e| lost(&e))?;
                if bytes.len() > limit {
                    return Err(too_large());
                }
                Ok(bytes.into())
            }
        }
    }
}

/// The answer's `Content-Type`, for messages.
pub(crate) fn content_type(response: &Response) -> String {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("no content type")
        .to_string()
}

/// Turn an answer's status, content type and body into the call's `result` or a
/// classified failure. Pure, so it can be tested against any bytes a server might send.
pub(crate) fn parse_answer(
    method: &str,
    url: &str,
    status: StatusCode,
    content_type: &str,
    bytes: &[u8],
) -> Result<Value, Attempt> {
    // The status decides a retry whatever the body: gateways and busy servers answer
    // 429/502/503/504 in JSON too.
    if let Some(transient) = transient(status) {
        return Err(transient);
    }
    let parsed: Option<Value> = serde_json::from_slice(bytes).ok();
    let Some(Value::Object(mut top)) = parsed else {
        return Err(classify_non_json(url, status, content_type, bytes));
    };
    let Some(result) = top.remove("result") else {
        return Err(if status == StatusCode::UNAUTHORIZED {
            Attempt::Unauthorized(401, Vec::new())
        } else {
            not_vizportal(
                url,
                status.as_u16(),
                "JSON without a \"result\" member",
                &excerpt(bytes),
            )
        });
    };
    interpret_result(method, url, status, result, bytes)
}

fn interpret_result(
    method: &str,
    url: &str,
    status: StatusCode,
    result: Value,
    bytes: &[u8],
) -> Result<Value, Attempt> {
    let errors: Vec<WireError> = match result.get(wire::ERRORS) {
        Some(Value::Array(list)) if !list.is_empty() => list
            .iter()
            .map(|e| serde_json::from_value(e.clone()).unwrap_or_else(|_| lenient_error(e)))
            .collect(),
        _ => Vec::new(),
    };
    let session_code = errors.iter().any(|e| e.code == Some(code::INVALID_SESSION));
    if status == StatusCode::UNAUTHORIZED || (session_code && status != StatusCode::OK) {
        return Err(Attempt::Unauthorized(status.as_u16(), errors));
    }
    if !errors.is_empty() {
        return Err(Attempt::Final(VizportalError::Api {
            method: method.to_string(),
            status: status.as_u16(),
            errors,
        }));
    }
    if !status.is_success() {
        return Err(Attempt::Final(VizportalError::Http {
            method: method.to_string(),
            status: status.as_u16(),
            excerpt: excerpt(bytes),
        }));
    }
    if !result.is_object() {
        return Err(not_vizportal(
            url,
            status.as_u16(),
            "a \"result\" that is not an object",
            &excerpt(bytes),
        ));
    }
    Ok(result)
}

/// An error entry whose fields have unexpected types still tells the user something.
fn lenient_error(value: &Value) -> WireError {
    let code = value.get("code").and_then(|c| match c {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    });
    let text = |key: &str| {
        value.get(key).and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        })
    };
    WireError {
        code,
        id: text("id"),
        message: text("message"),
    }
}

fn classify_non_json(url: &str, status: StatusCode, content_type: &str, bytes: &[u8]) -> Attempt {
    match status.as_u16() {
        401 => Attempt::Unauthorized(401, Vec::new()),
        s => not_vizportal(url, s, content_type, &excerpt(bytes)),
    }
}

/// Statuses that say "try again": refused before acting (429, 503), or a gateway that
/// cannot tell whether the server acted (502, 504).
pub(crate) fn transient(status: StatusCode) -> Option<Attempt> {
    match status.as_u16() {
        429 | 503 => Some(Attempt::Declined(status.as_u16())),
        502 | 504 => Some(Attempt::Ambiguous(format!("gateway error HTTP {status}"))),
        _ => None,
    }
}

fn not_vizportal(url: &str, status: u16, content_type: &str, excerpt: &str) -> Attempt {
    Attempt::Final(VizportalError::NotVizportal {
        url: url.to_string(),
        status,
        content_type: content_type.to_string(),
        excerpt: excerpt.to_string(),
    })
}

/// The first ~160 characters of a body on one line, for error messages.
pub(crate) fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(400)]);
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = flat.chars().take(160).collect();
    if flat.chars().count() > 160 || bytes.len() > 400 {
        cut.push_str(" ...");
    }
    cut
}

pub(crate) fn classify_send_error(method: &str, error: &reqwest::Error) -> Attempt {
    let chain = error_chain(error);
    if error.is_connect() && chain.to_lowercase().contains("certificate") {
        // Retrying cannot fix trust: fail at once and name the fix.
        // A certificate that is itself a CA, served as the server's own: trusting it with
        // --ca-cert does not help; the server needs a certificate that CA signed.
        let message = match chain.contains("CaUsedAsEndEntity") {
            true => format!(
                "{chain}; the server presents a CA certificate as its own: it needs a server certificate signed by a CA (give that CA to --ca-cert)"
            ),
            false => chain,
        };
        Attempt::Final(VizportalError::UntrustedCertificate {
            method: method.to_string(),
            message,
        })
    } else if let Some(advice) = other_scheme(error, &chain) {
        // Retrying cannot fix the scheme: fail at once and name the fix.
        Attempt::Final(VizportalError::transport(
            method,
            format!("{chain}; {advice}"),
        ))
    } else if error.is_connect() {
        Attempt::NotSent(format!("cannot connect: {chain}"))
    } else if error.is_timeout() {
        Attempt::Ambiguous(format!("no answer within the timeout: {chain}"))
    } else {
        Attempt::Ambiguous(format!("connection failed: {chain}"))
    }
}

/// What to do when the scheme of the URL is why the request failed: an `https://` URL
/// answered without TLS (a plain HTTP port, or a proxy that does not speak TLS), or an
/// `http://` URL of a TLS port (the answer is not HTTP).
fn other_scheme(error: &reqwest::Error, chain: &str) -> Option<&'static str> {
    let https = error.url().is_some_and(|u| u.scheme() == "https");
    let lower = chain.to_ascii_lowercase();
    if https && error.is_connect() && lower.contains("invalidcontenttype") {
        Some(
            "no TLS came back: the server does not speak HTTPS on this port (if it serves plain HTTP, use an http:// URL), or a proxy in between does not (check --proxy and HTTPS_PROXY)",
        )
    } else if !https && lower.contains("invalid http version") {
        Some("the server speaks TLS on this port: use an https:// URL")
    } else {
        None
    }
}

/// `error: cause: cause` on one line.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let piece = cause.to_string();
        if !text.contains(&piece) {
            text.push_str(": ");
            text.push_str(&piece);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            ".{0,12}".prop_map(Value::from),
            prop_oneof![
                Just("result"),
                Just("errors"),
                Just("code"),
                Just("id"),
                Just("message")
            ]
            .prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("result".to_string()),
                        Just("errors".to_string()),
                        Just("code".to_string()),
                        Just("id".to_string()),
                        Just("message".to_string()),
                        "[a-z]{1,6}"
                    ],
                    inner,
                    0..6
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// A `result` object a server may send for a successful call: any members, except that a
    /// top-level `errors` is absent or an empty list.
    fn valid_result() -> impl Strategy<Value = Value> {
        let member = "[a-zA-Z]{1,8}".prop_filter("not errors", |k| k != "errors");
        (
            prop::collection::btree_map(member, json_value(), 0..6),
            any::<bool>(),
        )
            .prop_map(|(members, empty_errors)| {
                let mut result: serde_json::Map<String, Value> = members.into_iter().collect();
                if empty_errors {
                    result.insert("errors".into(), Value::Array(Vec::new()));
                }
                Value::Object(result)
            })
    }

    proptest! {
        #[test]
        fn every_valid_answer_is_accepted(result in valid_result(), content_type in prop_oneof![Just("application/json;charset=UTF-8"), Just("application/json"), Just("text/plain")]) {
            let bytes = serde_json::to_vec(&serde_json::json!({ "result": result })).unwrap();
            // What the body says, read back the same way (floats need not round-trip exactly).
            let sent: Value = serde_json::from_slice::<Value>(&bytes).unwrap()["result"].take();
            match parse_answer("getSchedules", "http://h/x", StatusCode::OK, content_type, &bytes) {
                Ok(parsed) => prop_assert_eq!(parsed, sent),
                Err(failure) => prop_assert!(false, "a valid answer was refused: {failure}"),
            }
        }

        #[test]
        fn any_bytes_parse_without_panic(status in 100u16..600, bytes in prop::collection::vec(any::<u8>(), 0..600)) {
            let status = StatusCode::from_u16(status).unwrap();
            let _ = parse_answer("getSchedules", "http://h/x", status, "text/html", &bytes);
        }

        #[test]
        fn any_json_parses_to_an_object_or_a_failure(status in prop_oneof![Just(200u16), Just(401), Just(403), Just(500), Just(503)], value in json_value()) {
            let bytes = serde_json::to_vec(&value).unwrap();
            let status = StatusCode::from_u16(status).unwrap();
            if let Ok(result) = parse_answer("getSchedules", "http://h/x", status, "application/json", &bytes) {
                prop_assert!(result.is_object());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redirect_target_is_shown_as_a_server_without_credentials_or_query() {
        let url = |u: &str| reqwest::Url::parse(u).unwrap();
        let shown = redirect_target(&url(
            "https://user:PASSX@idp.example.com/sso?code=SECRETQ&RelayState=abc#f",
        ));
        assert_eq!(shown, "https://idp.example.com/sso");
        let shown = redirect_target(&url(
            "https://h.example/tableau/vizportal/api/web/v1/login?x=1",
        ));
        assert_eq!(shown, "https://h.example/tableau");
    }

    #[test]
    fn a_busy_or_gateway_status_is_retried_whatever_its_body_says() {
        for body in [
            &b"{}"[..],
            br#"{"result":{"errors":[{"code":1,"message":"busy"}]}}"#,
        ] {
            for status in [429, 502, 503, 504] {
                let status = StatusCode::from_u16(status).unwrap();
                let answer = parse_answer(
                    "getSchedules",
                    "http://h/x",
                    status,
                    "application/json",
                    body,
                );
                let failure = answer.unwrap_err();
                assert!(failure.may_retry(MethodKind::Read), "{status}: {failure}");
            }
        }
    }

    #[test]
    fn redirects_keep_credentials_on_the_same_server_only() {
        let url = |u: &str| reqwest::Url::parse(u).unwrap();
        let (http, https) = (url("http://tab.example/"), url("https://tab.example/"));
        assert!(may_follow(&http, &url("http://tab.example:80/x")));
        assert!(may_follow(&https, &url("https://tab.example/x")));
        for (base, target) in [
            (&http, "http://tab.example:8080/x"),
            (&http, "https://tab.example/x"),
            (&https, "http://tab.example/x"),
            (&https, "https://tab.example:8443/x"),
            (&https, "https://other.example/x"),
        ] {
            assert!(!may_follow(base, &url(target)), "{base} -> {target}");
        }
    }

    #[test]
    fn a_declined_run_is_not_repeated_and_ends_with_an_unknown_outcome() {
        let run = MethodKind::of("runExtractTasks");
        assert!(!Attempt::Declined(503).may_retry(run));
        let error = Attempt::Declined(503).into_error("runExtractTasks", run);
        assert!(error.is_outcome_unknown(), "{error}");
        assert_eq!(error.status(), Some(503), "scripts still see the status");
        assert!(error.to_string().contains("HTTP 503"), "{error}");
        let set = MethodKind::of("setExtractTasksSchedule");
        assert!(Attempt::Declined(503).may_retry(set));
        let error = Attempt::Declined(503).into_error("setExtractTasksSchedule", set);
        assert!(!error.is_outcome_unknown(), "{error}");
    }
}

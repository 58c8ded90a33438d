//! Tableau's REST API, only as far as a Vizportal session needs it: sign in with a
//! personal access token (the REST token then serves as `workgroup_session_id`,
//! docs/protocol.md §2.8) and sign out at the end. The API version is discovered from
//! `serverinfo`, not hard-coded.

use std::time::Instant;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::error::{LoginFailure, VizportalError};
use super::method::MethodKind;
use super::transport::{
    Attempt, Transport, classify_send_error, content_type, excerpt, mask, transient,
};

/// Versions asked for `serverinfo`, newest first: a server answers any version it knows
/// with the newest it speaks. 3.6 is the oldest that signs in with tokens.
const PROBE_VERSIONS: &[&str] = &["3.24", "3.19", "3.13", "3.6"];

/// A REST session made from a token.
#[derive(Debug)]
pub(crate) struct RestSession {
    /// The REST API version used.
    pub version: String,
    /// The REST token; also the Vizportal session id.
    pub token: SecretString,
}

/// What calls `serverinfo` in messages.
pub(crate) const SERVERINFO: &str = "REST serverinfo";

/// What calls `auth/signin` in messages.
pub(crate) const SIGNIN: &str = "REST auth/signin";

/// The newest REST API version the server speaks, as one attempt (the caller retries).
/// An answer that is not Tableau's REST API (no `serverInfo`, or no REST API at any
/// probed version) is refused before any secret is sent.
pub(crate) fn discover_version(transport: &Transport) -> Result<String, Attempt> {
    let mut last = None;
    for version in PROBE_VERSIONS {
        let answer = get(transport, &format!("/api/{version}/serverinfo"))?;
        let status = answer.status;
        if status.is_success() {
            return match answer.body["serverInfo"]["restApiVersion"].as_str() {
                Some(found) => Ok(found.to_string()),
                None if answer.body["serverInfo"].is_object() => Ok(version.to_string()),
                None => Err(Attempt::Final(answer.not_the_api())),
            };
        }
        if let Some(attempt) = transient(status) {
            return Err(attempt);
        }
        // A version this server does not speak is a REST error; anything else (an HTML
        // page, an empty answer) says there is no REST API here.
        last = Some(if answer.body["error"].is_object() {
            rest_error("serverinfo", status, &answer.body)
        } else {
            answer.not_the_api()
        });
    }
    // The REST API answered, but at none of the versions that have token sign-in.
    let too_old = |error: VizportalError| match error {
        VizportalError::Login(LoginFailure::Unexpected(said)) => {
            VizportalError::Login(LoginFailure::Unexpected(format!(
                "{said}; personal access tokens need REST API 3.6 or newer (Tableau Server 2019.4): sign in with a password, or a session id, instead"
            )))
        }
        other => other,
    };
    Err(Attempt::Final(last.map(too_old).unwrap_or_else(|| {
        VizportalError::Login(LoginFailure::Unexpected(
            "the server's REST API answered no known version".into(),
        ))
    })))
}

/// Sign in with a personal access token to the site with this content URL.
pub(crate) fn sign_in(
    transport: &Transport,
    version: &str,
    name: &str,
    secret: &SecretString,
    site: &str,
) -> Result<RestSession, Attempt> {
    let body = json!({ "credentials": {
        "personalAccessTokenName": name,
        "personalAccessTokenSecret": secret.expose_secret(),
        "site": { "contentUrl": site },
    }});
    let Answer {
        status,
        body: answer,
        ..
    } = post(
        transport,
        &format!("/api/{version}/auth/signin"),
        &body,
        None,
    )?;
    if status.is_success()
        && let Some(token) = answer["credentials"]["token"].as_str()
    {
        return Ok(RestSession {
            version: version.to_string(),
            token: SecretString::from(token.to_string()),
        });
    }
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        let (code, detail) = error_fields(&answer);
        return Err(Attempt::Final(VizportalError::Login(
            LoginFailure::TokenRefused {
                code,
                detail,
                site: site.to_string(),
            },
        )));
    }
    Err(transient(status)
        .unwrap_or_else(|| Attempt::Final(rest_error("auth/signin", status, &answer))))
}

/// End a REST session (and so the Vizportal session it backs).
pub(crate) fn sign_out(transport: &Transport, session: &RestSession) -> Result<(), VizportalError> {
    let path = format!("/api/{}/auth/signout", session.version);
    let Answer {
        status,
        body: answer,
        ..
    } = post(
        transport,
        &path,
        &json!({}),
        Some(session.token.expose_secret()),
    )
    .map_err(|a| a.into_error(&path, MethodKind::Session))?;
    if status.is_success() || status == StatusCode::UNAUTHORIZED {
        // 401: the session had ended already, which is what signing out wants.
        return Ok(());
    }
    Err(rest_error("auth/signout", status, &answer))
}

/// A REST answer: its status and JSON body (`null` when empty), and what it was.
struct Answer {
    status: StatusCode,
    body: Value,
    url: String,
    content_type: String,
    excerpt: String,
}

impl Answer {
    /// The error for an answer that is not Tableau's REST API.
    fn not_the_api(&self) -> VizportalError {
        VizportalError::NotVizportal {
            url: self.url.clone(),
            status: self.status.as_u16(),
            content_type: self.content_type.clone(),
            excerpt: self.excerpt.clone(),
        }
    }
}

fn get(transport: &Transport, path: &str) -> Result<Answer, Attempt> {
    let (client, base) = transport.http();
    let url = url(base, path);
    let started = Instant::now();
    super::retry::note_retry_after(None);
    let response = client
        .get(&url)
        .header(ACCEPT, "application/json")
        .send()
        .map_err(|e| classify_send_error(SERVERINFO, &e))?;
    read(transport, SERVERINFO, (&url, started), response, &[]).map_err(Attempt::Final)
}

fn post(
    transport: &Transport,
    path: &str,
    body: &Value,
    auth: Option<&str>,
) -> Result<Answer, Attempt> {
    let (client, base) = transport.http();
    let url = url(base, path);
    let mut request = client
        .post(&url)
        .header(ACCEPT, "application/json")
        .header(CONTENT_TYPE, "application/json")
        .body(body.to_string());
    if let Some(token) = auth {
        request = request.header("X-Tableau-Auth", token);
    }
    let started = Instant::now();
    super::retry::note_retry_after(None);
    let response = request.send().map_err(|e| classify_send_error(path, &e))?;
    // An answer that echoes the request (a proxy or error page) must not show the token
    // secret or the REST session token.
    let mut secrets: Vec<String> = auth.map(String::from).into_iter().collect();
    secrets.extend(transport.session_secrets());
    if let Some(secret) = body["credentials"]["personalAccessTokenSecret"].as_str() {
        secrets.push(secret.to_string());
    }
    read(transport, path, (&url, started), response, &secrets).map_err(Attempt::Final)
}

fn url(base: &reqwest::Url, path: &str) -> String {
    format!("{}{path}", base.as_str().trim_end_matches('/'))
}

/// The answer as JSON, read under the same size limit as Vizportal answers; an empty
/// body (204) is `null`. Anything else that is not JSON is not Tableau's REST API (a proxy
/// or SSO page), but for a 404 (`null`, for the caller to judge).
fn read(
    transport: &Transport,
    what: &str,
    (url, started): (&str, Instant),
    response: reqwest::blocking::Response,
    secrets: &[String],
) -> Result<Answer, VizportalError> {
    let status = response.status();
    let content_type = content_type(&response);
    super::retry::note_retry_after(super::retry::retry_after_of(&response));
    let bytes = transport
        .read_capped(what, response)
        .map_err(|failure| failure.into_error(what, MethodKind::Session))?;
    // `-vv`: one line per answer, as for Vizportal calls.
    tracing::debug!(
        "REST {}: HTTP {}, {} bytes back in {:.1} ms",
        what.strip_prefix("REST ").unwrap_or(what),
        status.as_u16(),
        bytes.len(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    let bytes = match mask(&bytes, secrets) {
        Some(masked) => bytes::Bytes::from(masked),
        None => bytes,
    };
    let answer = |body| Answer {
        status,
        body,
        url: url.to_string(),
        content_type: content_type.clone(),
        excerpt: excerpt(&bytes),
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(answer(Value::Null));
    }
    match serde_json::from_slice(&bytes) {
        Ok(value) => Ok(answer(value)),
        // A 404 page, or a gateway's page while the server is unavailable: the status
        // says more than the page.
        Err(_) if status == StatusCode::NOT_FOUND || transient(status).is_some() => {
            Ok(answer(Value::Null))
        }
        Err(_) => Err(answer(Value::Null).not_the_api()),
    }
}

/// `error.code` and `error.detail` of a REST error answer.
fn error_fields(answer: &Value) -> (String, String) {
    let text = |key: &str| {
        answer["error"][key]
            .as_str()
            .map(str::to_string)
            .unwrap_or_default()
    };
    (text("code"), text("detail"))
}

fn rest_error(what: &str, status: StatusCode, answer: &Value) -> VizportalError {
    let (code, detail) = error_fields(answer);
    VizportalError::Login(LoginFailure::Unexpected(format!(
        "REST {what} answered HTTP {}{}{}",
        status.as_u16(),
        if code.is_empty() {
            String::new()
        } else {
            format!(", code {code}")
        },
        if detail.is_empty() {
            String::new()
        } else {
            format!(": {detail}")
        }
    )))
}

//! Tableau's REST API, only as far as a Vizportal session needs it: sign in with a
//! personal access token (the REST token then serves as `workgroup_session_id`,
//! docs/protocol.md §2.8) and sign out at the end. The API version is discovered from
//! `serverinfo`, not hard-coded.

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::error::{LoginFailure, VizportalError};
use super::method::MethodKind;
use super::transport::{Transport, content_type, error_chain, excerpt};

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

/// The newest REST API version the server speaks.
pub(crate) fn discover_version(transport: &Transport) -> Result<String, VizportalError> {
    let mut last = None;
    for version in PROBE_VERSIONS {
        match get(transport, &format!("/api/{version}/serverinfo")) {
            Ok((status, body)) if status.is_success() => {
                if let Some(found) = body["serverInfo"]["restApiVersion"].as_str() {
                    return Ok(found.to_string());
                }
                return Ok(version.to_string());
            }
            Ok((status, body)) => last = Some(rest_error("serverinfo", status, &body)),
            Err(error) => return Err(error),
        }
    }
    Err(last.unwrap_or_else(|| {
        VizportalError::Login(LoginFailure::Unexpected(
            "the server's REST API answered no known version".into(),
        ))
    }))
}

/// Sign in with a personal access token to the site with this content URL.
pub(crate) fn sign_in(
    transport: &Transport,
    version: &str,
    name: &str,
    secret: &SecretString,
    site: &str,
) -> Result<RestSession, VizportalError> {
    let body = json!({ "credentials": {
        "personalAccessTokenName": name,
        "personalAccessTokenSecret": secret.expose_secret(),
        "site": { "contentUrl": site },
    }});
    let (status, answer) = post(
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
        return Err(VizportalError::Login(LoginFailure::TokenRefused {
            code,
            detail,
            site: site.to_string(),
        }));
    }
    Err(rest_error("auth/signin", status, &answer))
}

/// End a REST session (and so the Vizportal session it backs).
pub(crate) fn sign_out(transport: &Transport, session: &RestSession) -> Result<(), VizportalError> {
    let path = format!("/api/{}/auth/signout", session.version);
    let (status, answer) = post(
        transport,
        &path,
        &json!({}),
        Some(session.token.expose_secret()),
    )?;
    if status.is_success() || status == StatusCode::UNAUTHORIZED {
        // 401: the session had ended already, which is what signing out wants.
        return Ok(());
    }
    Err(rest_error("auth/signout", status, &answer))
}

fn get(transport: &Transport, path: &str) -> Result<(StatusCode, Value), VizportalError> {
    let (client, base) = transport.http();
    let url = url(base, path);
    let response = client
        .get(&url)
        .header(ACCEPT, "application/json")
        .send()
        .map_err(|e| VizportalError::transport("REST serverinfo", error_chain(&e)))?;
    read(transport, "REST serverinfo", &url, response)
}

fn post(
    transport: &Transport,
    path: &str,
    body: &Value,
    auth: Option<&str>,
) -> Result<(StatusCode, Value), VizportalError> {
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
    let response = request
        .send()
        .map_err(|e| VizportalError::transport(path, error_chain(&e)))?;
    read(transport, path, &url, response)
}

fn url(base: &reqwest::Url, path: &str) -> String {
    format!("{}{path}", base.as_str().trim_end_matches('/'))
}

/// The answer as JSON, read under the same size limit as Vizportal answers; an empty
/// body (204) is `null`. Anything else that is not JSON is not Tableau's REST API (a proxy
/// or SSO page).
fn read(
    transport: &Transport,
    what: &str,
    url: &str,
    response: reqwest::blocking::Response,
) -> Result<(StatusCode, Value), VizportalError> {
    let status = response.status();
    let content_type = content_type(&response);
    let bytes = transport
        .read_capped(what, response)
        .map_err(|failure| failure.into_error(what, MethodKind::Session))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok((status, Value::Null));
    }
    match serde_json::from_slice(&bytes) {
        Ok(value) => Ok((status, value)),
        Err(_) if status == StatusCode::NOT_FOUND => Ok((status, Value::Null)),
        Err(_) => Err(VizportalError::NotVizportal {
            url: url.to_string(),
            status: status.as_u16(),
            content_type,
            excerpt: excerpt(&bytes),
        }),
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

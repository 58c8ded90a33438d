//! The slice of Tableau's REST API that signs in with a personal access token, whose token
//! then serves as a Vizportal session (docs/protocol.md §2.8): `GET /api/{v}/serverinfo`,
//! `POST /api/{v}/auth/signin` (JSON or XML body; the answer follows `Accept`) and
//! `POST /api/{v}/auth/signout`. One token is one session: signing in again with it ends
//! the session it made before.

use std::time::Instant;

use quick_xml::events::Event;
use serde_json::{Value, json};

use super::config::Limits;
use super::state::ServerState;

/// The newest REST API version the emulator speaks by default (Tableau Server 2024.2).
pub(crate) const REST_API_VERSION: (u32, u32) = (3, 24);

/// Personal access tokens need at least this version (Server 2019.4).
const TOKEN_VERSION: (u32, u32) = (3, 6);

/// A REST request as the emulator needs it.
pub(crate) struct RestRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub body: &'a [u8],
    /// The client asked for JSON (`Accept: application/json`); otherwise XML.
    pub wants_json: bool,
    /// `X-Tableau-Auth`.
    pub auth: Option<&'a str>,
}

/// A REST answer.
pub(crate) struct RestAnswer {
    pub status: u16,
    pub json: bool,
    pub body: String,
    /// The session token a sign-in issued (for `Emulator::issued_secrets`).
    pub issued: Option<String>,
}

impl RestAnswer {
    fn ok(status: u16, wants_json: bool, value: Value, xml: String) -> RestAnswer {
        RestAnswer {
            status,
            json: wants_json,
            body: if wants_json { value.to_string() } else { xml },
            issued: None,
        }
    }

    /// A REST error: `{"error": {"code", "summary", "detail"}}` or its XML form.
    fn error(status: u16, wants_json: bool, code: &str, summary: &str, detail: &str) -> RestAnswer {
        let value = json!({ "error": { "code": code, "summary": summary, "detail": detail } });
        let xml = format!(
            "<?xml version='1.0' encoding='UTF-8'?><tsResponse><error code=\"{code}\">\
             <summary>{}</summary><detail>{}</detail></error></tsResponse>",
            escape(summary),
            escape(detail)
        );
        RestAnswer::ok(status, wants_json, value, xml)
    }
}

/// Answers one REST request; the second value names the call for the emulator's stats.
pub(crate) fn answer(
    state: &mut ServerState,
    limits: &Limits,
    request: &RestRequest,
) -> (RestAnswer, Option<&'static str>) {
    let json = request.wants_json;
    let Some((version, endpoint)) = split_path(request.path) else {
        return (not_found(json, request.path), None);
    };
    let newest = limits.rest_api_version;
    let Some(version) = version.filter(|v| *v <= newest) else {
        return (not_found(json, request.path), None);
    };
    match (request.method, endpoint) {
        ("GET", "serverinfo") => (server_info(json, newest), Some("REST serverinfo")),
        ("POST", "auth/signin") => (
            sign_in(state, limits, version, request),
            Some("REST auth/signin"),
        ),
        ("POST", "auth/signout") => (sign_out(state, request), Some("REST auth/signout")),
        _ => (not_found(json, request.path), None),
    }
}

/// `/api/3.24/auth/signin` -> (version, `auth/signin`).
fn split_path(path: &str) -> Option<(Option<(u32, u32)>, &str)> {
    let rest = path.strip_prefix("/api/")?;
    let (version, endpoint) = rest.split_once('/')?;
    let parsed = version
        .split_once('.')
        .and_then(|(major, minor)| Some((major.parse().ok()?, minor.parse().ok()?)));
    Some((parsed, endpoint.trim_end_matches('/')))
}

fn not_found(json: bool, path: &str) -> RestAnswer {
    RestAnswer::error(
        404,
        json,
        "404000",
        "Resource Not Found",
        &format!("Unknown resource '{path}' specified in URI."),
    )
}

fn server_info(json: bool, newest: (u32, u32)) -> RestAnswer {
    let version = format!("{}.{}", newest.0, newest.1);
    let value = json!({ "serverInfo": {
        "productVersion": { "value": "2024.2.0", "build": "20242.24.0711.1636" },
        "restApiVersion": version,
    }});
    let xml = format!(
        "<?xml version='1.0' encoding='UTF-8'?><tsResponse><serverInfo>\
         <productVersion build=\"20242.24.0711.1636\">2024.2.0</productVersion>\
         <restApiVersion>{version}</restApiVersion></serverInfo></tsResponse>"
    );
    RestAnswer::ok(200, json, value, xml)
}

/// What a sign-in request names.
#[derive(Debug, Default, PartialEq)]
struct TokenCredentials {
    name: String,
    secret: String,
    content_url: String,
}

fn sign_in(
    state: &mut ServerState,
    limits: &Limits,
    version: (u32, u32),
    request: &RestRequest,
) -> RestAnswer {
    let json = request.wants_json;
    let refused = |detail: &str| RestAnswer::error(401, json, "401001", "Signin Error", detail);
    let Some(credentials) = read_credentials(request.body) else {
        return RestAnswer::error(
            400,
            json,
            "400000",
            "Bad Request",
            "the body must be a tsRequest with credentials (JSON or XML)",
        );
    };
    if credentials.name.is_empty() {
        return refused("only personal access token sign-in is supported by the emulator");
    }
    if version < TOKEN_VERSION {
        return RestAnswer::error(
            400,
            json,
            "400000",
            "Bad Request",
            "personal access tokens need REST API version 3.6 or later",
        );
    }
    let data = &state.data;
    let Some(token) = data
        .access_tokens
        .iter()
        .find(|t| t.name == credentials.name && t.secret == credentials.secret)
    else {
        return refused(
            "Error signing in to Tableau Server (the token name or secret is wrong, or the token was revoked)",
        );
    };
    let Some(user) = data.users.get(&token.user_id) else {
        return refused("the token's user no longer exists");
    };
    let Some(site) = data
        .site_by_url(&credentials.content_url)
        .filter(|site| user.site_role(site.id).is_some())
    else {
        return refused(&format!(
            "no site \"{}\" that this user can sign in to",
            credentials.content_url
        ));
    };
    let (user_id, site_id, site_luid, site_url) =
        (user.id, site.id, site.luid.clone(), site.url_name.clone());
    let session = state.sessions.open_for_token(
        &credentials.name,
        user_id,
        site_id,
        Instant::now(),
        limits.session_ttl,
    );
    if let Some(user) = state.data.users.get_mut(&user_id) {
        user.last_site_id = Some(site_id);
    }
    let user_luid = format!("00000000-0000-4000-8000-{:012}", user_id.0);
    let value = json!({ "credentials": {
        "site": { "id": site_luid, "contentUrl": site_url },
        "user": { "id": user_luid },
        "token": session,
    }});
    let xml = format!(
        "<?xml version='1.0' encoding='UTF-8'?><tsResponse><credentials token=\"{session}\">\
         <site id=\"{site_luid}\" contentUrl=\"{}\"/><user id=\"{user_luid}\"/></credentials>\
         </tsResponse>",
        escape(&site_url)
    );
    let mut answer = RestAnswer::ok(200, json, value, xml);
    answer.issued = Some(session);
    answer
}

fn sign_out(state: &mut ServerState, request: &RestRequest) -> RestAnswer {
    let live = request
        .auth
        .filter(|token| state.sessions.peek(token).is_some());
    match live {
        Some(token) => {
            state.sessions.close(token);
            RestAnswer {
                status: 204,
                json: request.wants_json,
                body: String::new(),
                issued: None,
            }
        }
        None => RestAnswer::error(
            401,
            request.wants_json,
            "401002",
            "Unauthorized Access",
            "Invalid authentication credentials were provided.",
        ),
    }
}

/// The token name, secret and site of a sign-in body, JSON or XML.
fn read_credentials(body: &[u8]) -> Option<TokenCredentials> {
    let text = std::str::from_utf8(body).ok()?.trim_start();
    if text.starts_with('{') {
        let value: Value = serde_json::from_str(text).ok()?;
        let credentials = value.get("credentials")?;
        let field = |key: &str| credentials[key].as_str().unwrap_or_default().to_owned();
        return Some(TokenCredentials {
            name: field("personalAccessTokenName"),
            secret: field("personalAccessTokenSecret"),
            content_url: credentials["site"]["contentUrl"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        });
    }
    read_xml_credentials(text)
}

/// `<tsRequest><credentials personalAccessTokenName=".." personalAccessTokenSecret="..">
/// <site contentUrl=".."/></credentials></tsRequest>`.
fn read_xml_credentials(text: &str) -> Option<TokenCredentials> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut found = TokenCredentials::default();
    let mut seen = false;
    loop {
        match reader.read_event().ok()? {
            Event::Start(tag) | Event::Empty(tag) => {
                let name = tag.name();
                for attribute in tag.attributes().flatten() {
                    let value = attribute.unescape_value().ok()?.into_owned();
                    match (name.as_ref(), attribute.key.as_ref()) {
                        (b"credentials", b"personalAccessTokenName") => found.name = value,
                        (b"credentials", b"personalAccessTokenSecret") => found.secret = value,
                        (b"site", b"contentUrl") => found.content_url = value,
                        _ => {}
                    }
                }
                seen |= name.as_ref() == b"credentials";
            }
            Event::Eof => break,
            _ => {}
        }
    }
    seen.then_some(found)
}

fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_read_from_json_and_xml_alike() {
        let json = br#"{"credentials": {"personalAccessTokenName": "n", "personalAccessTokenSecret": "s", "site": {"contentUrl": "finance"}}}"#;
        let xml = br#"<tsRequest><credentials personalAccessTokenName="n" personalAccessTokenSecret="s"><site contentUrl="finance"/></credentials></tsRequest>"#;
        let expected = TokenCredentials {
            name: "n".into(),
            secret: "s".into(),
            content_url: "finance".into(),
        };
        assert_eq!(read_credentials(json), Some(expected));
        assert_eq!(
            read_credentials(xml).map(|c| c.content_url),
            Some("finance".to_owned())
        );
        assert_eq!(read_credentials(b"<nothing/>"), None);
    }

    #[test]
    fn versions_come_from_the_path() {
        assert_eq!(
            split_path("/api/3.24/auth/signin"),
            Some((Some((3, 24)), "auth/signin"))
        );
        assert_eq!(split_path("/api/x/serverinfo"), Some((None, "serverinfo")));
        assert_eq!(split_path("/vizportal/x"), None);
    }
}

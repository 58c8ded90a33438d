//! The emulator on the wire, one request at a time: reading the body and the cookies,
//! injected faults and latency, the exact response framing Tableau's clients rely on
//! (`{"result":...}` as the only key, `Server: Tableau`, `Set-Cookie` headers kept separate
//! and in order, `Secure` on HTTPS), and the loopback-only `/__emulator/*` inspection
//! endpoints. Method handlers are synchronous and share one lock, so they run on the
//! runtime's blocking threads and a slow one never holds up another connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{
    ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, COOKIE, HeaderMap, HeaderValue, SERVER,
    SET_COOKIE,
};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Map, Value};
use tokio::sync::Notify;

use super::methods::{self, RawCall};
use super::recorder::{CallRecord, Stretch};
use super::response_body::ResponseBody;
use super::rest;
use super::sessions::XsrfPair;
use super::state::{Shared, lock};
use crate::wire::{
    API_PATH, Answer, RequestBody, SESSION_COOKIE, WireError, XSRF_COOKIE, XSRF_HEADER, code,
};

/// Largest request body read; anything longer is refused.
const MAX_BODY: usize = 32 * 1024 * 1024;

const JSON: &str = crate::wire::JSON_CONTENT_TYPE;

/// What a single sign-on gateway answers in place of the API (`Faults::html_for_methods`).
const HTML: &str = "text/html; charset=utf-8";
const SIGN_IN_PAGE: &str = "<!DOCTYPE html><html><head><title>Sign In</title></head>\
    <body><form method=\"post\" action=\"/sso/login\"><input name=\"username\"></form></body></html>";

/// What a request knows of the connection it came on.
pub(crate) struct Connection {
    pub peer: SocketAddr,
    /// Over TLS: cookies get `Secure`.
    pub secure: bool,
    /// Notified to reset the connection (see [`ResponseBody::cut_halfway`]).
    pub cut: Arc<Notify>,
}

/// Answers one request.
pub(crate) async fn respond(
    shared: Arc<Shared>,
    connection: Arc<Connection>,
    request: Request<Incoming>,
) -> Response<ResponseBody> {
    lock(&shared.recorder).stats.requests += 1;
    let path = request.uri().path();
    if path.starts_with("/__emulator/") {
        let path = path.to_owned();
        inspection(shared, &connection, request.method(), path).await
    } else if path.starts_with(API_PATH) {
        vizportal(shared, &connection, request).await
    } else if path.starts_with("/api/") {
        rest_api(shared, request).await
    } else {
        text(StatusCode::NOT_FOUND)
    }
}

/// A REST API call (token sign-in and sign-out, server info).
async fn rest_api(shared: Arc<Shared>, request: Request<Incoming>) -> Response<ResponseBody> {
    let faults = shared.faults();
    pause(faults.latency).await;
    let (parts, body) = request.into_parts();
    let Ok(body) = read_body(body).await else {
        return text(StatusCode::BAD_REQUEST);
    };
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
    };
    let wants_json = header("accept").is_some_and(|accept| accept.contains("json"));
    let request = rest::RestRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        body: &body,
        wants_json,
        auth: header("x-tableau-auth"),
    };
    let (reply, counted) = rest::answer(&mut lock(&shared.state), &shared.limits, &request);
    if let Some(name) = counted {
        let mut recorder = lock(&shared.recorder);
        *recorder.stats.by_method.entry(name.to_owned()).or_default() += 1;
        recorder.rest_tokens.extend(reply.issued.clone());
    }
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let content_type = if reply.json {
        "application/json;charset=UTF-8"
    } else {
        "application/xml;charset=UTF-8"
    };
    answer(status, content_type, reply.body.into())
}

/// `GET /__emulator/state` and `/__emulator/stats`, for local callers only.
async fn inspection(
    shared: Arc<Shared>,
    connection: &Connection,
    method: &Method,
    path: String,
) -> Response<ResponseBody> {
    if !is_local(connection.peer) {
        return text(StatusCode::FORBIDDEN);
    }
    if method != Method::GET {
        return text(StatusCode::METHOD_NOT_ALLOWED);
    }
    // Serializing a large state takes a while; keep it off the I/O threads.
    let body = blocking(move || match path.as_str() {
        "/__emulator/state" => {
            let mut state = lock(&shared.state);
            state.advance(chrono::Utc::now());
            Some(state.data.to_json())
        }
        "/__emulator/stats" => Some(lock(&shared.recorder).stats.to_json()),
        _ => None,
    })
    .await;
    match body {
        Some(Some(body)) => answer(StatusCode::OK, JSON, body.to_string().into()),
        Some(None) => text(StatusCode::NOT_FOUND),
        None => text(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

fn is_local(peer: SocketAddr) -> bool {
    peer.ip().is_loopback()
}

/// A Vizportal call: latency, maybe a fault (before anything is read or applied), then the
/// call itself, timed and recorded, and maybe its answer lost after all.
async fn vizportal(
    shared: Arc<Shared>,
    connection: &Connection,
    request: Request<Incoming>,
) -> Response<ResponseBody> {
    if request.method() != Method::POST {
        return text(StatusCode::METHOD_NOT_ALLOWED);
    }
    let in_flight = Timed::start(&shared, Stretch::InFlight);
    let faults = shared.faults();
    let mut injected = faults.latency;
    if shared.happens(faults.spike_rate) {
        lock(&shared.recorder).stats.spikes += 1;
        injected += faults.spike;
    }
    lock(&shared.recorder).stats.injected += injected;
    pause(injected).await;
    let tail = request.uri().path().rsplit('/').next().unwrap_or("");
    let failable = faults.fail_methods.is_empty() || faults.fail_methods.iter().any(|m| m == tail);
    if failable && shared.happens(faults.fail_rate) {
        lock(&shared.recorder).stats.declined += 1;
        return text(StatusCode::SERVICE_UNAVAILABLE);
    }
    if faults.html_for_methods.iter().any(|m| m == tail) {
        return answer(StatusCode::OK, HTML, SIGN_IN_PAGE.into());
    }
    let (parts, body) = request.into_parts();
    let gzip = shared.gzip && accepts_gzip(&parts.headers);
    let busy = Timed::start(&shared, Stretch::Busy);
    let reading = Instant::now();
    let body = read_body(body).await;
    let read_time = reading.elapsed();
    let secure = connection.secure;
    let handler_shared = Arc::clone(&shared);
    let handled = blocking(move || {
        let started = Instant::now();
        let (answer, record) = match body.and_then(|body| read_call(&body)) {
            Ok((method, params)) => call(&handler_shared, &parts.headers, method, params, secure),
            Err(message) => {
                let refusal = failure(StatusCode::BAD_REQUEST, code::BAD_PARAM_VALUE, message);
                (refusal, None)
            }
        };
        let answer = match gzip {
            true => packed(answer),
            false => answer,
        };
        (answer, record, started.elapsed())
    })
    .await;
    drop((busy, in_flight));
    // A handler bug costs this request, not the server.
    let Some((answer, record, handling)) = handled else {
        return text(StatusCode::INTERNAL_SERVER_ERROR);
    };
    let mut recorder = lock(&shared.recorder);
    recorder.stats.handling += read_time + handling;
    recorder.stats.gzipped += u64::from(gzip);
    let Some(record) = record else {
        return answer;
    };
    let resettable =
        faults.reset_methods.is_empty() || faults.reset_methods.contains(&record.method);
    recorder.record(record, shared.record_calls);
    if !resettable || !shared.happens(faults.reset_rate) {
        return answer;
    }
    recorder.stats.resets += 1;
    answer.map(|reply| reply.cut_halfway(Arc::clone(&connection.cut)))
}

/// A stretch of one call, counted in the recorder's union of intervals until dropped, so
/// an early answer or a dropped connection ends it too.
struct Timed<'a> {
    shared: &'a Shared,
    stretch: Stretch,
}

impl<'a> Timed<'a> {
    fn start(shared: &'a Shared, stretch: Stretch) -> Timed<'a> {
        lock(&shared.recorder).open(stretch, Instant::now());
        Timed { shared, stretch }
    }
}

impl Drop for Timed<'_> {
    fn drop(&mut self) {
        lock(&self.shared.recorder).close(self.stretch, Instant::now());
    }
}

/// Runs synchronous work on a blocking thread; `None` if it panicked.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    tokio::task::spawn_blocking(work).await.ok()
}

async fn pause(delay: Duration) {
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
}

async fn read_body(body: Incoming) -> Result<Bytes, String> {
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => {
            Err(format!("the request body is larger than {MAX_BODY} bytes"))
        }
        Err(e) => Err(format!("cannot read the request body: {e}")),
    }
}

/// The body's method and params (`{}` for null), or why the body is not a Vizportal call.
fn read_call(body: &[u8]) -> Result<(String, Map<String, Value>), String> {
    let parsed: RequestBody = serde_json::from_slice(body).map_err(|e| {
        format!("the body is not a Vizportal request {{\"method\", \"params\"}}: {e}")
    })?;
    match parsed.params {
        Value::Null => Ok((parsed.method, Map::new())),
        Value::Object(params) => Ok((parsed.method, params)),
        _ => Err("params must be an object".to_owned()),
    }
}

/// Authenticates and answers one call.
fn call(
    shared: &Shared,
    headers: &HeaderMap,
    method: String,
    params: Map<String, Value>,
    secure: bool,
) -> (Response<ResponseBody>, Option<CallRecord>) {
    let sent = credentials(headers);
    let incoming = RawCall {
        method: &method,
        params: &params,
        session_id: sent.session_id.as_deref(),
        xsrf: XsrfPair {
            header: sent.xsrf_header.as_deref(),
            cookie: sent.xsrf_cookie.as_deref(),
        },
    };
    let (reply, session_user) =
        methods::answer(&mut lock(&shared.state), &incoming, &shared.limits);
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut answer = json(status, &reply.result);
    for cookie in &reply.cookies {
        let cookie = if secure {
            format!("{cookie}; Secure")
        } else {
            cookie.clone()
        };
        // Two headers of the same name, in order.
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            answer.headers_mut().append(SET_COOKIE, value);
        }
    }
    let record = CallRecord {
        method,
        params: Value::Object(params),
        status: reply.status,
        session_user,
        set_cookies: reply
            .cookies
            .iter()
            .filter_map(|c| name_and_value(c))
            .collect(),
    };
    (answer, Some(record))
}

/// The name and value of a `Set-Cookie` line (`name=value; Path=/; ...`).
fn name_and_value(cookie: &str) -> Option<(String, String)> {
    let pair = cookie.split(';').next()?;
    let (name, value) = pair.split_once('=')?;
    Some((
        name.trim().to_owned(),
        value.trim().trim_matches('"').to_owned(),
    ))
}

/// What a call sent to prove its session.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Sent {
    pub session_id: Option<String>,
    pub xsrf_header: Option<String>,
    pub xsrf_cookie: Option<String>,
}

/// The session cookie and the `XSRF-TOKEN` cookie (from any number of `Cookie` headers;
/// the first of each name counts) and the XSRF header. Header names ignore case.
pub(crate) fn credentials(headers: &HeaderMap) -> Sent {
    let cookie = |wanted: &str| {
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.split_once('='))
            .find(|(name, _)| name.trim() == wanted)
            .map(|(_, value)| value.trim().trim_matches('"').to_owned())
    };
    Sent {
        session_id: cookie(SESSION_COOKIE).filter(|value| !value.is_empty()),
        xsrf_header: headers
            .get(XSRF_HEADER)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
        xsrf_cookie: cookie(XSRF_COOKIE),
    }
}

/// `{"result":...}` with `result` as the first and only key, as Tableau's Java client slices it.
fn json(status: StatusCode, result: &Value) -> Response<ResponseBody> {
    answer(status, JSON, Answer { result }.to_bytes().into())
}

fn failure(status: StatusCode, code: i64, message: String) -> Response<ResponseBody> {
    json(
        status,
        &serde_json::json!({ "errors": [WireError::new(code, message)] }),
    )
}

/// A plain-text answer: the status's reason phrase.
fn text(status: StatusCode) -> Response<ResponseBody> {
    let body = status.canonical_reason().unwrap_or_default();
    answer(
        status,
        "text/plain;charset=UTF-8",
        Bytes::from_static(body.as_bytes()),
    )
}

/// Whether a request's `Accept-Encoding` takes gzip (named, and not with `q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let weight_zero = |param: &str| {
                let param = param.replace(' ', "");
                let weight = param.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok());
                weight == Some(0.0)
            };
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            name.eq_ignore_ascii_case("gzip") && !parts.any(weight_zero)
        })
}

/// `answer` gzip-compressed, as a compressing gateway sends it.
fn packed(answer: Response<ResponseBody>) -> Response<ResponseBody> {
    let mut answer = answer.map(ResponseBody::gzipped);
    answer
        .headers_mut()
        .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    answer
}

fn answer(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<ResponseBody> {
    let mut answer = Response::new(ResponseBody::new(body));
    *answer.status_mut() = status;
    let headers = answer.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(SERVER, HeaderValue::from_static("Tableau"));
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(lines: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in lines {
            let name = hyper::header::HeaderName::from_bytes(name.as_bytes()).unwrap();
            map.append(name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn cookies_merge_over_headers_and_names_ignore_case() {
        let several = headers(&[
            ("cookie", "XSRF-TOKEN=x"),
            ("Cookie", "a=1; workgroup_session_id=s1"),
            ("x-xsrf-token", "t"),
        ]);
        assert_eq!(
            credentials(&several),
            Sent {
                session_id: Some("s1".to_owned()),
                xsrf_header: Some("t".to_owned()),
                xsrf_cookie: Some("x".to_owned()),
            }
        );
        let logged_out = headers(&[("Cookie", "workgroup_session_id=\"\"")]);
        assert_eq!(credentials(&logged_out), Sent::default());
        let spelled = headers(&[("X-Xsrf-Token", "u")]);
        assert_eq!(credentials(&spelled).xsrf_header.as_deref(), Some("u"));
    }

    #[test]
    fn gzip_is_taken_when_named_and_not_refused() {
        let takes = |value: &'static str| accepts_gzip(&headers(&[("accept-encoding", value)]));
        assert!(takes("gzip") && takes("br, GZIP;q=0.5") && takes("deflate,gzip"));
        assert!(!takes("gzip;q=0") && !takes("gzip; q=0.0") && !takes("identity"));
        assert!(!takes("x-gzip2") && !accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn inspection_is_for_loopback_peers_only() {
        assert!(is_local("127.0.0.1:9".parse().unwrap()));
        assert!(is_local("[::1]:9".parse().unwrap()));
        assert!(!is_local("10.1.2.3:9".parse().unwrap()));
    }

    #[test]
    fn answers_carry_the_framing_tableau_clients_expect() {
        let answer = json(StatusCode::OK, &serde_json::json!({"a": 1}));
        assert_eq!(answer.headers()[CONTENT_TYPE], JSON);
        assert_eq!(answer.headers()[SERVER], "Tableau");
        let answer = text(StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(answer.status(), 503);
    }
}

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
use hyper::header::{CONTENT_TYPE, COOKIE, HeaderMap, HeaderValue, SERVER, SET_COOKIE};
use hyper::{Method, Request, Response, StatusCode};
use rand::Rng;
use serde_json::{Map, Value};
use tokio::sync::Notify;

use super::methods::{self, Incoming as Call};
use super::recorder::{CallRecord, Stretch};
use super::reply::Reply;
use super::state::{Shared, lock};
use crate::wire::{API_PATH, RequestBody, SESSION_COOKIE, WireError, XSRF_HEADER, code};

/// Largest request body read; anything longer is refused.
const MAX_BODY: usize = 32 * 1024 * 1024;

const JSON: &str = "application/json;charset=UTF-8";

/// What a request knows of the connection it came on.
pub(crate) struct Connection {
    pub peer: SocketAddr,
    /// Over TLS: cookies get `Secure`.
    pub secure: bool,
    /// Notified to reset the connection (see [`Reply::cut_halfway`]).
    pub cut: Arc<Notify>,
}

/// Answers one request.
pub(crate) async fn respond(
    shared: Arc<Shared>,
    connection: Arc<Connection>,
    request: Request<Incoming>,
) -> Response<Reply> {
    lock(&shared.recorder).stats.requests += 1;
    let path = request.uri().path();
    if path.starts_with("/__emulator/") {
        let path = path.to_owned();
        inspection(shared, &connection, request.method(), path).await
    } else if path.starts_with(API_PATH) {
        vizportal(shared, &connection, request).await
    } else {
        text(StatusCode::NOT_FOUND)
    }
}

/// `GET /__emulator/state` and `/__emulator/stats`, for local callers only.
async fn inspection(
    shared: Arc<Shared>,
    connection: &Connection,
    method: &Method,
    path: String,
) -> Response<Reply> {
    if !is_local(connection.peer) {
        return text(StatusCode::FORBIDDEN);
    }
    if method != Method::GET {
        return text(StatusCode::METHOD_NOT_ALLOWED);
    }
    // Serializing a large state takes a while; keep it off the I/O threads.
    let body = blocking(move || match path.as_str() {
        "/__emulator/state" => Some(lock(&shared.state).data.to_json()),
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
) -> Response<Reply> {
    if request.method() != Method::POST {
        return text(StatusCode::METHOD_NOT_ALLOWED);
    }
    let in_flight = Timed::start(&shared, Stretch::InFlight);
    let faults = shared.faults();
    let mut injected = faults.latency;
    if happens(faults.spike_rate) {
        injected += faults.spike;
    }
    lock(&shared.recorder).stats.injected += injected;
    pause(injected).await;
    if happens(faults.fail_rate) {
        return text(StatusCode::SERVICE_UNAVAILABLE);
    }
    let (parts, body) = request.into_parts();
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
    let Some(record) = record else {
        return answer;
    };
    recorder.record(record, shared.record_calls);
    if !happens(faults.reset_rate) {
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

/// Whether an injected fault of this probability happens this time.
fn happens(rate: f64) -> bool {
    match rate {
        r if r >= 1.0 => true,
        r if r > 0.0 => rand::rng().random_bool(r),
        _ => false,
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
) -> (Response<Reply>, Option<CallRecord>) {
    let (session_id, xsrf_header) = credentials(headers);
    let incoming = Call {
        method: &method,
        params: &params,
        session_id: session_id.as_deref(),
        xsrf_header: xsrf_header.as_deref(),
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
    };
    (answer, Some(record))
}

/// The session cookie (from any number of `Cookie` headers; the first one named
/// `workgroup_session_id` counts) and the XSRF header. Header names ignore case.
fn credentials(headers: &HeaderMap) -> (Option<String>, Option<String>) {
    let session = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| name.trim() == SESSION_COOKIE)
        .map(|(_, value)| value.trim().trim_matches('"').to_owned())
        .filter(|value| !value.is_empty());
    let xsrf = headers
        .get(XSRF_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    (session, xsrf)
}

/// `{"result":...}` with `result` as the first and only key, as Tableau's Java client slices it.
fn json(status: StatusCode, result: &Value) -> Response<Reply> {
    answer(status, JSON, format!("{{\"result\":{result}}}").into())
}

fn failure(status: StatusCode, code: i64, message: String) -> Response<Reply> {
    json(
        status,
        &serde_json::json!({ "errors": [WireError::new(code, message)] }),
    )
}

/// A plain-text answer: the status's reason phrase.
fn text(status: StatusCode) -> Response<Reply> {
    let body = status.canonical_reason().unwrap_or_default();
    answer(
        status,
        "text/plain;charset=UTF-8",
        Bytes::from_static(body.as_bytes()),
    )
}

fn answer(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<Reply> {
    let mut answer = Response::new(Reply::new(body));
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
            (Some("s1".to_owned()), Some("t".to_owned()))
        );
        let logged_out = headers(&[("Cookie", "workgroup_session_id=\"\"")]);
        assert_eq!(credentials(&logged_out), (None, None));
        let spelled = headers(&[("X-Xsrf-Token", "u")]);
        assert_eq!(credentials(&spelled).1.as_deref(), Some("u"));
    }

    #[test]
    fn inspection_is_for_loopback_peers_only() {
        assert!(is_local("127.0.0.1:9".parse().unwrap()));
        assert!(is_local("[::1]:9".parse().unwrap()));
        assert!(!is_local("10.1.2.3:9".parse().unwrap()));
    }

    #[test]
    fn fault_rates_outside_zero_to_one_are_clamped() {
        assert!(happens(1.0) && happens(7.0));
        assert!(!happens(0.0) && !happens(-1.0) && !happens(f64::NAN));
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

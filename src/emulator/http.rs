//! The emulator on the wire: tiny_http worker loops, reading the body and the cookies,
//! injected faults and latency, the exact response framing Tableau's clients rely on
//! (`{"result":...}` as the only key, `Server: Tableau`, `Set-Cookie` headers kept separate
//! and in order), and the loopback-only `/__emulator/*` inspection endpoints.

use std::io::{Cursor, Read};
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering;
use std::time::Instant;

use rand::Rng;
use serde_json::{Map, Value};
use tiny_http::{Header, Method, Request, Response, Server};

use super::methods::{self, Incoming};
use super::recorder::CallRecord;
use super::state::{Shared, lock};
use crate::wire::{API_PATH, RequestBody, SESSION_COOKIE, WireError, XSRF_HEADER, code};

/// Largest request body read; anything longer is refused.
const MAX_BODY: u64 = 32 * 1024 * 1024;

type Answer = Response<Cursor<Vec<u8>>>;

/// One worker: answers requests until the emulator stops.
pub(crate) fn work(server: &Server, shared: &Shared) {
    loop {
        match server.recv() {
            // A handler bug must cost one request (tiny_http answers 500), not a worker.
            Ok(request) => drop(catch_unwind(AssertUnwindSafe(|| handle(shared, request)))),
            Err(_) if shared.stopping.load(Ordering::SeqCst) => return,
            Err(_) => continue,
        }
    }
}

fn handle(shared: &Shared, mut request: Request) {
    lock(&shared.recorder).stats.requests += 1;
    let path = request
        .url()
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    let answer = if path.starts_with("/__emulator/") {
        inspection(shared, &request, &path)
    } else if path.starts_with(API_PATH) {
        vizportal(shared, &mut request)
    } else {
        text(404, "Not Found")
    };
    // The client may have gone away; there is nobody left to tell.
    let _ = request.respond(answer);
}

/// `GET /__emulator/state` and `/__emulator/stats`, for local callers only.
fn inspection(shared: &Shared, request: &Request, path: &str) -> Answer {
    if !is_local(request.remote_addr()) {
        return text(403, "Forbidden");
    }
    if *request.method() != Method::Get {
        return text(405, "Method Not Allowed");
    }
    let body = match path {
        "/__emulator/state" => lock(&shared.state).data.to_json(),
        "/__emulator/stats" => lock(&shared.recorder).stats.to_json(),
        _ => return text(404, "Not Found"),
    };
    with_headers(
        Response::from_data(body.to_string().into_bytes()),
        "application/json;charset=UTF-8",
    )
}

fn is_local(peer: Option<&SocketAddr>) -> bool {
    peer.is_some_and(|addr| addr.ip().is_loopback())
}

/// A Vizportal call: latency, maybe a fault (before anything is read or applied), then the
/// call itself, timed and recorded.
fn vizportal(shared: &Shared, request: &mut Request) -> Answer {
    if *request.method() != Method::Post {
        return text(405, "Method Not Allowed");
    }
    let faults = shared.faults();
    if !faults.latency.is_zero() {
        std::thread::sleep(faults.latency);
    }
    if fails(faults.fail_rate) {
        return text(503, "Service Unavailable");
    }
    let started = Instant::now();
    let (answer, record) = match read_call(request) {
        Ok((method, params)) => call(shared, request.headers(), method, params),
        Err(answer) => (answer, None),
    };
    let handling = started.elapsed();
    let mut recorder = lock(&shared.recorder);
    recorder.stats.handling += handling;
    if let Some(record) = record {
        recorder.record(record, shared.record_calls);
    }
    answer
}

fn fails(rate: f64) -> bool {
    match rate {
        r if r >= 1.0 => true,
        r if r > 0.0 => rand::rng().random_bool(r),
        _ => false,
    }
}

/// The body's method and params (`{}` for null), or the error answer for a body that is
/// not a Vizportal call.
fn read_call(request: &mut Request) -> Result<(String, Map<String, Value>), Answer> {
    let body =
        read_body(request).map_err(|message| failure(400, code::BAD_PARAM_VALUE, message))?;
    let parsed: RequestBody = serde_json::from_slice(&body).map_err(|e| {
        let message =
            format!("the body is not a Vizportal request {{\"method\", \"params\"}}: {e}");
        failure(400, code::BAD_PARAM_VALUE, message)
    })?;
    match parsed.params {
        Value::Null => Ok((parsed.method, Map::new())),
        Value::Object(params) => Ok((parsed.method, params)),
        _ => Err(failure(
            400,
            code::BAD_PARAM_VALUE,
            "params must be an object".to_owned(),
        )),
    }
}

/// Authenticates and answers one call.
fn call(
    shared: &Shared,
    headers: &[Header],
    method: String,
    params: Map<String, Value>,
) -> (Answer, Option<CallRecord>) {
    let (session_id, xsrf_header) = credentials(headers);
    let incoming = Incoming {
        method: &method,
        params: &params,
        session_id: session_id.as_deref(),
        xsrf_header: xsrf_header.as_deref(),
    };
    let (reply, session_user) =
        methods::answer(&mut lock(&shared.state), &incoming, &shared.limits);
    let answer = json(reply.status, &reply.result, &reply.cookies);
    let record = CallRecord {
        method,
        params: Value::Object(params),
        status: reply.status,
        session_user,
    };
    (answer, Some(record))
}

fn read_body(request: &mut Request) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    request
        .as_reader()
        .take(MAX_BODY + 1)
        .read_to_end(&mut body)
        .map_err(|e| format!("cannot read the request body: {e}"))?;
    if body.len() as u64 > MAX_BODY {
        return Err(format!("the request body is larger than {MAX_BODY} bytes"));
    }
    Ok(body)
}

/// The session cookie (from any number of `Cookie` headers; the first one named
/// `workgroup_session_id` counts) and the XSRF header. Header names ignore case.
fn credentials(headers: &[Header]) -> (Option<String>, Option<String>) {
    let session = headers
        .iter()
        .filter(|h| h.field.equiv("Cookie"))
        .flat_map(|h| h.value.as_str().split(';'))
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| name.trim() == SESSION_COOKIE)
        .map(|(_, value)| value.trim().trim_matches('"').to_owned())
        .filter(|value| !value.is_empty());
    let xsrf = headers
        .iter()
        .find(|h| h.field.equiv(XSRF_HEADER))
        .map(|h| h.value.as_str().to_owned());
    (session, xsrf)
}

/// `{"result":...}` with `result` as the first and only key, as Tableau's Java client slices it.
fn json(status: u16, result: &Value, cookies: &[String]) -> Answer {
    let body = format!("{{\"result\":{result}}}");
    let mut answer = with_headers(
        Response::from_data(body.into_bytes()),
        "application/json;charset=UTF-8",
    );
    for cookie in cookies {
        // Two headers of the same name, in order; tiny_http keeps both.
        if let Ok(header) = Header::from_bytes(&b"Set-Cookie"[..], cookie.as_bytes()) {
            answer.add_header(header);
        }
    }
    answer.with_status_code(status)
}

fn failure(status: u16, code: i64, message: String) -> Answer {
    json(
        status,
        &serde_json::json!({ "errors": [WireError::new(code, message)] }),
        &[],
    )
}

fn text(status: u16, body: &str) -> Answer {
    with_headers(
        Response::from_data(body.as_bytes().to_vec()),
        "text/plain;charset=UTF-8",
    )
    .with_status_code(status)
}

fn with_headers(mut answer: Answer, content_type: &str) -> Answer {
    for (name, value) in [("Content-Type", content_type), ("Server", "Tableau")] {
        if let Ok(header) = Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            answer.add_header(header);
        }
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(text: &str) -> Header {
        text.parse().unwrap()
    }

    #[test]
    fn cookies_merge_over_headers_and_names_ignore_case() {
        let headers = [
            header("cookie: XSRF-TOKEN=x"),
            header("Cookie: a=1; workgroup_session_id=s1"),
            header("x-xsrf-token: t"),
        ];
        assert_eq!(
            credentials(&headers),
            (Some("s1".to_owned()), Some("t".to_owned()))
        );
        let logged_out = [header("Cookie: workgroup_session_id=\"\"")];
        assert_eq!(credentials(&logged_out), (None, None));
    }

    #[test]
    fn inspection_is_for_loopback_peers_only() {
        assert!(is_local(Some(&"127.0.0.1:9".parse().unwrap())));
        assert!(!is_local(Some(&"10.1.2.3:9".parse().unwrap())));
        assert!(!is_local(None));
    }

    #[test]
    fn fault_rates_outside_zero_to_one_are_clamped() {
        assert!(fails(1.0) && fails(7.0));
        assert!(!fails(0.0) && !fails(-1.0) && !fails(f64::NAN));
    }
}

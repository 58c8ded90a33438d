//! The emulator's HTTP layer: many keep-alive clients at once, large answers without
//! delayed-ACK stalls, answers lost after the call was applied, HTTPS with a private CA,
//! injected delays kept out of the handling time, and a clean stop.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, ClientBuilder};
use secrecy::SecretString;
use serde_json::{Value, json};
use vizscript::emulator::{Emulator, Faults, TlsIdentity};
use vizscript::vizportal::encrypt_password;

use crate::support::{emulator, emulator_with, http_client_builder, one_site, task, tasks};

const API: &str = "/vizportal/api/web/v1/";
const CA: &[u8] = include_bytes!("../fixtures/tls/ca.pem");
const SERVER_CERT: &[u8] = include_bytes!("../fixtures/tls/server.pem");
const SERVER_KEY: &[u8] = include_bytes!("../fixtures/tls/server.key");

fn client() -> ClientBuilder {
    http_client_builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
}

/// A signed-in client: its own connection pool, session cookie and XSRF token.
struct Session {
    http: Client,
    base: String,
    /// The `Set-Cookie` headers of the login answer, in order.
    set_cookies: Vec<String>,
    cookie: String,
    xsrf: String,
}

impl Session {
    /// Logs in as `user` (whose password is the user name, as in the sample data).
    fn login(emu: &Emulator, http: Client, user: &str) -> Session {
        let base = emu.url();
        let post = |method: &str, params: Value| {
            let body = json!({ "method": method, "params": params });
            http.post(format!("{base}{API}{method}"))
                .body(body.to_string())
                .send()
                .expect("answer")
        };
        let key: Value = post("generatePublicKey", json!({})).json().expect("key");
        let key = &key["result"];
        let password = encrypt_password(
            key["key"]["n"].as_str().unwrap(),
            key["key"]["e"].as_str().unwrap(),
            &SecretString::from(user),
        )
        .expect("encrypted");
        let login = post(
            "login",
            json!({"username": user, "encryptedPassword": password, "keyId": key["keyId"]}),
        );
        assert_eq!(login.status(), 200);
        let set_cookies: Vec<String> = login
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        let value = |name: &str| {
            set_cookies
                .iter()
                .find_map(|c| c.split(';').next()?.strip_prefix(&format!("{name}=")))
                .unwrap_or_else(|| panic!("{name} in {set_cookies:?}"))
                .to_owned()
        };
        let (id, xsrf) = (value("workgroup_session_id"), value("XSRF-TOKEN"));
        Session {
            http,
            base,
            set_cookies,
            cookie: format!("workgroup_session_id={id}; XSRF-TOKEN={xsrf}"),
            xsrf,
        }
    }

    /// One authenticated call, read to the end: (status, body) or the transport error.
    fn try_call(&self, method: &str, params: Value) -> reqwest::Result<(u16, Value)> {
        let response = self
            .http
            .post(format!("{}{API}{method}", self.base))
            .header("Cookie", &self.cookie)
            .header("X-XSRF-TOKEN", &self.xsrf)
            .body(json!({ "method": method, "params": params }).to_string())
            .send()?;
        let status = response.status().as_u16();
        Ok((status, response.json()?))
    }

    /// One authenticated call that must be answered 200; its `result`.
    fn call(&self, method: &str, params: Value) -> Value {
        let (status, body) = self.try_call(method, params).expect("answer");
        assert_eq!(status, 200, "{method}: {body}");
        body["result"].clone()
    }
}

fn plain_client() -> Client {
    client().build().expect("client")
}

/// The page of up to 1000 extract tasks, sorted by id.
fn page_of_1000() -> Value {
    json!({"page": {"startIndex": 0, "maxItems": 1000}, "order": [{"field": "id", "ascending": true}]})
}

#[test]
fn thirty_two_keep_alive_clients_are_all_answered() {
    let emu = emulator();
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..32 {
            scope.spawn(|| {
                let session = Session::login(&emu, plain_client(), "admin");
                for n in 0..50 {
                    if n % 2 == 0 {
                        let info = session.call("getSessionInfo", json!({}));
                        assert_eq!(info["user"]["username"], "admin");
                    } else {
                        let page = json!({"page": {"startIndex": n, "maxItems": 3}});
                        let listed = session.call("getExtractTasks", page);
                        assert_eq!(listed["tasks"].as_array().map(Vec::len), Some(3));
                    }
                }
            });
        }
    });
    // A guard against a hang (a client never answered), not a measure of speed.
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(90), "took {elapsed:?}");
    let stats = emu.stats();
    assert_eq!(stats.by_method["login"], 32);
    assert_eq!(stats.by_method["getSessionInfo"], 32 * 25);
    assert_eq!(stats.by_method["getExtractTasks"], 32 * 25);
}

/// Times 20 sequential calls on one keep-alive connection, each less what the server spent
/// handling it (slow in a debug build, and not the wire's time); returns the quickest and
/// the last answer.
fn time_on_the_wire(
    emu: &Emulator,
    session: &Session,
    method: &str,
    params: Value,
) -> (Duration, Value) {
    let request = json!({ "method": method, "params": params }).to_string();
    let send = || {
        session
            .http
            .post(format!("{}{API}{method}", session.base))
            .header("Cookie", &session.cookie)
            .header("X-XSRF-TOKEN", &session.xsrf)
            .body(request.clone())
            .send()
            .and_then(|answer| answer.bytes())
            .expect("an answer")
    };
    // Warm up: the connection, and for lists the sorted selection later pages reuse.
    send();
    let mut wire = Vec::new();
    let mut last = Default::default();
    for _ in 0..20 {
        let handled_before = emu.stats().handling;
        let started = Instant::now();
        last = send();
        wire.push(
            started
                .elapsed()
                .saturating_sub(emu.stats().handling - handled_before),
        );
    }
    eprintln!("{method}: {wire:?}");
    // The quickest: a stall on delayed ACKs (some 40 ms) hits every request, while a busy
    // machine may slow down any number of them.
    (
        wire.iter().copied().min().unwrap_or_default(),
        serde_json::from_slice(&last).expect("JSON"),
    )
}

#[test]
fn answers_over_keep_alive_do_not_wait_for_delayed_acks() {
    let emu = emulator_with(|c| c.dataset = one_site(1500, 10));
    let session = Session::login(&emu, plain_client(), "admin");
    // An answer sent in pieces waits for the client's delayed ACK (Nagle's algorithm):
    // some 40 ms per request.
    let (large, page) = time_on_the_wire(&emu, &session, "getExtractTasks", page_of_1000());
    assert_eq!(page["result"]["tasks"].as_array().map(Vec::len), Some(1000));
    assert!(
        large < Duration::from_millis(20),
        "a page of 1000 tasks spent {large:?} on the wire (quickest of 20)"
    );
    let (small, info) = time_on_the_wire(&emu, &session, "getSessionInfo", json!({}));
    assert_eq!(info["result"]["user"]["username"], "admin");
    assert!(
        small < Duration::from_millis(20),
        "a session info spent {small:?} on the wire (quickest of 20)"
    );
}

#[test]
fn a_reset_applies_the_call_but_loses_the_answer() {
    let emu = emulator_with(|c| c.dataset = one_site(20, 4));
    let session = Session::login(&emu, plain_client(), "admin");
    let id = tasks(&emu)[0]["id"].as_str().unwrap().to_owned();
    let priority = task(&emu, &id)["priority"].as_i64().unwrap() % 100 + 1;
    emu.set_faults(Faults {
        reset_rate: 1.0,
        ..Faults::default()
    });
    let lost = session.try_call(
        "setExtractTasksPriority",
        json!({"ids": [id], "priority": priority}),
    );
    let error = lost.expect_err("the answer is lost");
    assert!(!error.is_timeout(), "{error:?}");
    assert_eq!(
        task(&emu, &id)["priority"],
        priority,
        "but the call applied"
    );
    assert_eq!(emu.stats().resets, 1);
    assert_eq!(emu.stats().by_method["setExtractTasksPriority"], 1);
    emu.set_faults(Faults::default());
    let info = session.call("getSessionInfo", json!({}));
    assert_eq!(
        info["user"]["username"], "admin",
        "the next connection works"
    );
}

#[test]
fn a_reset_sends_the_head_and_half_the_body_then_a_tcp_reset() {
    let emu = emulator();
    let session = Session::login(&emu, plain_client(), "admin");
    emu.set_faults(Faults {
        reset_rate: 1.0,
        ..Faults::default()
    });
    let body = json!({"method": "getSessionInfo", "params": {}}).to_string();
    let address = emu.url().trim_start_matches("http://").to_owned();
    let mut socket = TcpStream::connect(&address).expect("connect");
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let request = format!(
        "POST {API}getSessionInfo HTTP/1.1\r\nHost: {address}\r\nCookie: {}\r\n\
         X-XSRF-TOKEN: {}\r\nContent-Length: {}\r\n\r\n{body}",
        session.cookie,
        session.xsrf,
        body.len()
    );
    socket.write_all(request.as_bytes()).unwrap();
    let mut received = Vec::new();
    let mut buffer = [0; 4096];
    let ended = loop {
        match socket.read(&mut buffer) {
            Ok(0) => break ErrorKind::UnexpectedEof,
            Ok(n) => received.extend_from_slice(&buffer[..n]),
            Err(e) => break e.kind(),
        }
    };
    assert_eq!(ended, ErrorKind::ConnectionReset, "an abrupt close");
    let text = String::from_utf8_lossy(&received);
    let (head, partial) = text.split_once("\r\n\r\n").expect("the head arrived");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("Content-Length: "))
        .expect("a Content-Length")
        .parse()
        .unwrap();
    assert_eq!(partial.len(), length / 2, "half the body");
    assert!(partial.starts_with("{\"result\":"));
}

/// An emulator serving HTTPS with the fixture identity, and a client trusting the fixture CA.
fn https() -> (Emulator, Client) {
    let identity = TlsIdentity::from_pem(SERVER_CERT, SERVER_KEY).expect("fixture identity");
    let emu = emulator_with(|c| c.tls = Some(identity));
    let ca = reqwest::Certificate::from_pem(CA).expect("fixture CA");
    let trusting = client().tls_certs_merge([ca]).build().expect("client");
    (emu, trusting)
}

#[test]
fn https_works_with_the_fixture_ca_and_fails_without_it() {
    let (emu, trusting) = https();
    assert!(emu.url().starts_with("https://127.0.0.1:"), "{}", emu.url());
    let session = Session::login(&emu, trusting, "admin");
    let info = session.call("getSessionInfo", json!({}));
    assert_eq!(info["user"]["username"], "admin");
    let refused = plain_client()
        .post(format!("{}{API}generatePublicKey", emu.url()))
        .body(r#"{"method":"generatePublicKey","params":{}}"#)
        .send();
    let error = refused.expect_err("a server certificate from an unknown CA is refused");
    assert!(error.is_connect(), "{error:?}");
}

#[test]
fn https_cookies_are_secure() {
    let (emu, trusting) = https();
    let session = Session::login(&emu, trusting, "admin");
    let [id, xsrf] = session.set_cookies.as_slice() else {
        panic!("two cookies: {:?}", session.set_cookies);
    };
    assert!(id.starts_with("workgroup_session_id="), "{id}");
    assert!(id.ends_with("; Path=/; HttpOnly; Secure"), "{id}");
    assert!(xsrf.starts_with("XSRF-TOKEN="), "{xsrf}");
    assert!(xsrf.ends_with("; Path=/; Secure"), "{xsrf}");
    let logout = session
        .http
        .post(format!("{}{API}logout", emu.url()))
        .header("Cookie", &session.cookie)
        .header("X-XSRF-TOKEN", &session.xsrf)
        .body(r#"{"method":"logout","params":{}}"#)
        .send()
        .expect("answer");
    let cookies: Vec<&str> = logout
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(
        cookies,
        ["workgroup_session_id=\"\"; Path=/; HttpOnly; Secure"]
    );
}

#[test]
fn plain_http_cookies_are_not_secure() {
    let emu = emulator();
    let session = Session::login(&emu, plain_client(), "admin");
    assert!(
        session.set_cookies.iter().all(|c| !c.contains("Secure")),
        "{:?}",
        session.set_cookies
    );
}

#[test]
fn a_key_that_does_not_fit_the_certificate_is_refused() {
    let other_key = include_bytes!("../fixtures/emulator_key.pem");
    let error = TlsIdentity::from_pem(SERVER_CERT, other_key).expect_err("refused");
    assert!(error.to_string().contains("do not fit"), "{error}");
    let error = TlsIdentity::from_pem(b"not PEM", SERVER_KEY).expect_err("refused");
    assert!(error.to_string().contains("no CERTIFICATE"), "{error}");
}

#[test]
fn latency_and_spikes_are_not_handling_time() {
    let emu = emulator();
    let session = Session::login(&emu, plain_client(), "admin");
    emu.set_faults(Faults {
        latency: Duration::from_millis(50),
        spike_rate: 1.0,
        spike: Duration::from_millis(150),
        ..Faults::default()
    });
    emu.reset_stats();
    let started = Instant::now();
    session.call("getSessionInfo", json!({}));
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
    // Less than the 200 ms injected: what the emulator waited is not counted as its work
    // (the margin is for a busy machine, not a measure of speed).
    let stats = emu.stats();
    assert!(stats.handling < Duration::from_millis(200), "{stats:?}");
    assert!(stats.busy < Duration::from_millis(200), "{stats:?}");
    assert_eq!(stats.injected, Duration::from_millis(200));
    assert!(
        stats.in_flight >= Duration::from_millis(200) && stats.in_flight <= elapsed,
        "{stats:?}"
    );
}

#[test]
fn injected_latency_does_not_hold_a_handler_thread() {
    let emu = emulator_with(|c| c.workers = 1);
    let session = Session::login(&emu, plain_client(), "admin");
    emu.set_faults(Faults {
        latency: Duration::from_millis(300),
        ..Faults::default()
    });
    emu.reset_stats();
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| session.call("getSessionInfo", json!({})));
        }
    });
    let elapsed = started.elapsed();
    // Eight calls waiting one after another would take 2.4 s.
    assert!(elapsed < Duration::from_millis(2000), "{elapsed:?}");
    // The waits are summed as injected, but overlap in the time calls were in flight.
    let stats = emu.stats();
    assert_eq!(stats.injected, Duration::from_millis(8 * 300));
    assert!(
        stats.in_flight >= Duration::from_millis(300) && stats.in_flight <= elapsed,
        "{stats:?}"
    );
}

#[test]
fn shutdown_closes_idle_keep_alive_connections_and_returns() {
    let emu = emulator();
    let session = Session::login(&emu, plain_client(), "admin");
    session.call("getSessionInfo", json!({}));
    let started = Instant::now();
    emu.shutdown();
    // Waiting for the idle connection would take the 5 s grace period.
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    assert!(session.try_call("getSessionInfo", json!({})).is_err());
}

/// The emulator binary, killed when dropped.
struct Serving(Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `vizscript emulator --port 0` with `args`, and the URL it listens on; it stops when
/// the [`Serving`] is dropped.
fn serve(args: &[&str]) -> (Serving, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_vizscript"))
        .args(["emulator", "--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary runs");
    let mut serving = Serving(child);
    let mut line = String::new();
    let stdout = serving.0.stdout.take().expect("stdout");
    BufReader::new(stdout).read_line(&mut line).expect("a line");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_string();
    (serving, url)
}

#[test]
fn the_emulator_command_serves_https_with_tls_flags() {
    let fixtures = format!("{}/tests/fixtures/tls", env!("CARGO_MANIFEST_DIR"));
    let (_serving, url) = serve(&[
        "--tasks",
        "10",
        "--tls-cert",
        &format!("{fixtures}/server.pem"),
        "--tls-key",
        &format!("{fixtures}/server.key"),
    ]);
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let ca = reqwest::Certificate::from_pem(CA).expect("fixture CA");
    let http = client().tls_certs_merge([ca]).build().expect("client");
    let answer = http
        .post(format!("{url}{API}getServerSettingsUnauthenticated"))
        .body(r#"{"method":"getServerSettingsUnauthenticated","params":{}}"#)
        .send()
        .expect("answer over TLS");
    assert_eq!(answer.status(), 200);
}

#[test]
fn the_emulator_command_can_refuse_pages_over_its_cap_and_the_client_pages_smaller() {
    let (_serving, url) = serve(&[
        "--sites",
        "1",
        "--tasks",
        "30",
        "--max-page",
        "10",
        "--page-overflow",
        "reject",
        "-q",
    ]);
    let url = url.as_str();
    let vizscript = || {
        let mut cmd = assert_cmd::Command::cargo_bin("vizscript").unwrap();
        cmd.env_clear()
            .env("TABLEAU_SERVER", url)
            .env("TABLEAU_USERNAME", "admin")
            .env("TABLEAU_PASSWORD", "admin")
            .env(
                "VIZSCRIPT_STATE_DIR",
                std::env::temp_dir().join("no-vizscript-state"),
            );
        cmd
    };
    let big_page = r#"{"page": {"startIndex": 0, "maxItems": 50}}"#;
    let (code, _, err) = crate::support::run(vizscript(), &["call", "getExtractTasks", big_page]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("code 19"), "{err}");
    let (_dir, script) = crate::support::script_file("print(extract_tasks().len());");
    let (code, out, err) = crate::support::run(vizscript(), &["run", &script]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "30", "every task, in pages the server takes");
}

#[test]
fn the_emulator_command_serves_the_rest_api_version_it_is_given() {
    let (_serving, url) = serve(&[
        "--sites",
        "1",
        "--tasks",
        "5",
        "--rest-api-version",
        "3.19",
        "-q",
    ]);
    let client = crate::support::http_client_builder().build().unwrap();
    let get = |version: &str| {
        client
            .get(format!("{url}/api/{version}/serverinfo"))
            .header("Accept", "application/json")
            .send()
            .unwrap()
    };
    let served: serde_json::Value = get("3.19").json().unwrap();
    assert_eq!(served["serverInfo"]["restApiVersion"], "3.19", "{served}");
    assert_eq!(get("3.24").status(), 404, "a newer version than it serves");
}

#[test]
fn the_emulator_command_answers_in_gzip_to_clients_that_take_it() {
    let (_serving, url) = serve(&["--sites", "1", "--tasks", "5", "--gzip", "-q"]);
    let http = client().no_gzip().build().expect("client");
    let settings = |accept: Option<&str>| {
        let mut request = http
            .post(format!("{url}{API}getServerSettingsUnauthenticated"))
            .body(r#"{"method":"getServerSettingsUnauthenticated","params":{}}"#);
        if let Some(accept) = accept {
            request = request.header("Accept-Encoding", accept);
        }
        let answer = request.send().expect("answer");
        let coding = answer.headers().get("content-encoding").cloned();
        (coding, answer.bytes().expect("body"))
    };
    let (coding, body) = settings(Some("gzip, deflate"));
    assert_eq!(coding.as_ref().map(|c| c.to_str().unwrap()), Some("gzip"));
    let mut unpacked = String::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_string(&mut unpacked)
        .expect("gzip");
    assert!(unpacked.starts_with(r#"{"result":"#), "{unpacked}");
    for accept in [None, Some("identity"), Some("gzip;q=0")] {
        let (coding, body) = settings(accept);
        assert_eq!(coding, None, "{accept:?}");
        assert!(body.starts_with(br#"{"result":"#), "{accept:?}");
    }
}

#[test]
fn the_client_works_against_a_server_answering_in_gzip() {
    let emu = emulator_with(|c| {
        c.dataset = one_site(5000, 6);
        c.gzip = true;
    });
    let before = tasks(&emu);
    let busy = |t: &&Value| t["priority"].as_i64().unwrap() > 64;
    let moving: Vec<String> = before
        .iter()
        .filter(busy)
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(moving.len() > 1000, "more than one page and one chunk");
    let (_dir, script) = crate::support::script_file(
        "let busy = extract_tasks().filter(|t| t.priority > 64);\n\
         print(set_extract_tasks_schedule(busy, \"3\").succeeded.len());\n",
    );
    emu.reset_stats();
    let (code, out, err) = crate::support::run(crate::support::vizscript(&emu), &["run", &script]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), moving.len().to_string());
    let after = tasks(&emu);
    let on_3: Vec<&str> = after
        .iter()
        .filter(|t| t["scheduleId"] == "3" && moving.iter().any(|id| t["id"] == **id))
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(on_3.len(), moving.len(), "every busy task is on schedule 3");
    let stats = emu.stats();
    let calls: u64 = stats.by_method.values().sum();
    assert_eq!(
        stats.gzipped, calls,
        "every call answered in gzip: {stats:?}"
    );
}

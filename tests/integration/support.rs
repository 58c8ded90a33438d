//! Shared test plumbing: an in-process emulator with the committed RSA key, the binary
//! pointed at it through the environment, and readers for the emulator's state.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use assert_cmd::Command;
use rsa::PrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use serde_json::Value;
use vizscript::emulator::{Dataset, Emulator, EmulatorConfig, SampleSpec};

/// The committed test key (generating 2048-bit keys per test is slow).
pub fn fixture_key() -> PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        PrivateKey::from_pkcs8_pem(include_str!("../fixtures/emulator_key.pem"))
            .expect("fixture key")
    })
    .clone()
}

/// A reqwest client builder for tests that talk HTTP themselves. reqwest is built without
/// a crypto provider of its own (Cargo.toml): ring's is installed as the process default,
/// as the library does before it builds its client.
pub fn http_client_builder() -> reqwest::blocking::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
}

/// An emulator with the default sample data.
pub fn emulator() -> Emulator {
    emulator_with(|_| {})
}

/// An emulator with a changed configuration.
pub fn emulator_with(change: impl FnOnce(&mut EmulatorConfig)) -> Emulator {
    let mut config = EmulatorConfig {
        port: 0,
        key: Some(fixture_key()),
        // A test crossing a sample schedule's run time (every hour on the hour) would
        // otherwise see the tasks of that schedule run.
        schedules_fire: false,
        ..EmulatorConfig::default()
    };
    change(&mut config);
    Emulator::start(config).expect("emulator starts")
}

/// Sample data of a given size on one site.
pub fn one_site(tasks: usize, schedules: usize) -> Dataset {
    Dataset::sample(&SampleSpec {
        sites: 1,
        tasks,
        schedules,
        seed: 7,
    })
}

/// The binary, signed in to `emu` as admin through the environment.
pub fn vizscript(emu: &Emulator) -> Command {
    let mut cmd = Command::cargo_bin("vizscript").expect("binary");
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("NO_PROXY", "*")
        .env("TABLEAU_SERVER", emu.url())
        .env("TABLEAU_USERNAME", "admin")
        .env("TABLEAU_PASSWORD", "admin")
        .env("VIZSCRIPT_RETRY_DELAY_MS", "5");
    cmd
}

/// The longest any one run of the binary may take in a test: a run that hangs fails
/// the test (killed, with what it printed) instead of stalling the suite.
const RUN_DEADLINE: Duration = Duration::from_secs(180);

/// Run the binary with `args`; return (exit code, stdout, stderr).
pub fn run(mut cmd: Command, args: &[&str]) -> (i32, String, String) {
    let output = cmd
        .args(args)
        .timeout(RUN_DEADLINE)
        .output()
        .expect("binary runs");
    if output.status.code().is_none() {
        panic!(
            "vizscript {args:?} was killed ({}), after {RUN_DEADLINE:?} at most; it printed:\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `vizscript args` against `emu` as admin, with piped output, returned once it has
/// printed its first line, which must be `started` (a script prints it when it is running).
pub fn start_script(emu: &Emulator, args: &[&str]) -> std::process::Child {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vizscript"))
        .env("TABLEAU_SERVER", emu.url())
        .env("TABLEAU_USERNAME", "admin")
        .env("TABLEAU_PASSWORD", "admin")
        .env("NO_PROXY", "*")
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start vizscript");
    let mut first = String::new();
    let stdout = child.stdout.as_mut().expect("stdout");
    // One byte at a time: nothing past the first line may be taken from the pipe.
    let mut byte = [0u8; 1];
    while !first.ends_with('\n') && stdout.read(&mut byte).unwrap_or(0) == 1 {
        first.push(char::from(byte[0]));
    }
    assert_eq!(first, "started\n", "the script is running");
    child
}

/// Ctrl-C (SIGINT) to a running `vizscript`, then what it printed after: (stdout, stderr).
/// It must exit 130.
pub fn interrupt(child: std::process::Child) -> (String, String) {
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let output = child.wait_with_output().expect("vizscript ends");
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(130), "{err}");
    (String::from_utf8_lossy(&output.stdout).into_owned(), err)
}

/// Extract tasks in the emulator's state.
pub fn tasks(emu: &Emulator) -> Vec<Value> {
    emu.state()["extractTasks"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// One task by id.
pub fn task(emu: &Emulator, id: &str) -> Value {
    tasks(emu)
        .into_iter()
        .find(|t| t["id"] == id)
        .unwrap_or_else(|| panic!("task {id} exists"))
}

/// Schedules in the emulator's state.
pub fn schedules(emu: &Emulator) -> Vec<Value> {
    emu.state()["schedules"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Site id of a URL name.
pub fn site_id(emu: &Emulator, url_name: &str) -> String {
    emu.state()["sites"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["urlName"] == url_name))
        .and_then(|s| s["id"].as_str())
        .unwrap_or_else(|| panic!("site {url_name:?}"))
        .to_string()
}

/// Write a script to a temp file and return its path (the dir lives as long as the guard).
pub fn script_file(text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("test.rhai");
    std::fs::write(&path, text).expect("write script");
    let path = path.display().to_string();
    (dir, path)
}

/// The path of a bundled example script.
pub fn example(name: &str) -> String {
    format!("{}/scripts/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A server on loopback that answers every request with the same status, content type
/// and body: a proxy page, an SSO redirect, a broken server.
pub struct FakeServer {
    /// Its base URL.
    pub url: String,
    /// The request lines it was sent (`POST /path HTTP/1.1`), in order.
    pub requests: Arc<std::sync::Mutex<Vec<String>>>,
    _thread: std::thread::JoinHandle<()>,
}

impl FakeServer {
    /// How many of the requests it was sent have `part` in their request line.
    pub fn requests_to(&self, part: &str) -> usize {
        let requests = self.requests.lock().unwrap();
        requests.iter().filter(|r| r.contains(part)).count()
    }
}

/// Start a [`FakeServer`]; `extra` headers are added to every answer.
pub fn fake_server(
    status: u16,
    content_type: &str,
    body: &'static str,
    extra: &[(&str, &str)],
) -> FakeServer {
    let length = body.len().to_string();
    let mut headers = vec![("Content-Length", length.as_str())];
    headers.extend_from_slice(extra);
    serve(status, content_type, body, &headers)
}

/// A [`FakeServer`] whose answers say nothing of their length: the body ends where the
/// server closes the connection.
pub fn fake_server_without_length(
    status: u16,
    content_type: &str,
    body: &'static str,
) -> FakeServer {
    serve(status, content_type, body, &[])
}

fn serve(
    status: u16,
    content_type: &str,
    body: &'static str,
    headers: &[(&str, &str)],
) -> FakeServer {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let reason = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unknown");
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nConnection: close\r\n"
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let answer = [head.as_bytes(), body.as_bytes()].concat();
    let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = requests.clone();
    let thread = std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            if let Some(line) = answer_once(stream, &|_| answer.clone()) {
                seen.lock().unwrap().push(line);
            }
        }
    });
    FakeServer {
        url,
        requests,
        _thread: thread,
    }
}

/// A [`FakeServer`] that answers each request with what `answer` gives for it (the
/// request's head and body as text): the whole HTTP answer, head and body.
pub fn fake_server_by_request(answer: impl Fn(&str) -> Vec<u8> + Send + 'static) -> FakeServer {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = requests.clone();
    let thread = std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            if let Some(line) = answer_once(stream, &answer) {
                seen.lock().unwrap().push(line);
            }
        }
    });
    FakeServer {
        url,
        requests,
        _thread: thread,
    }
}

/// `emu`'s answer to `generatePublicKey`, for a fake server to hand out as its own.
pub fn public_key_answer(emu: &Emulator) -> String {
    http_client_builder()
        .build()
        .unwrap()
        .post(format!(
            "{}/vizportal/api/web/v1/generatePublicKey",
            emu.url()
        ))
        .header("Content-Type", "application/json")
        .body(r#"{"method":"generatePublicKey","params":{}}"#)
        .send()
        .unwrap()
        .text()
        .unwrap()
}

/// A [`FakeServer`] that signs in like Vizportal (a real key from `emu`, a login that sets
/// the session cookies `session` and `xsrf`, minimal session info) and answers every other
/// request with `other`.
pub fn fake_signed_in(
    emu: &Emulator,
    (session, xsrf): (&'static str, &'static str),
    other: impl Fn(&str) -> Vec<u8> + Send + 'static,
) -> FakeServer {
    let key = public_key_answer(emu);
    fake_server_by_request(move |request| {
        if request.contains("generatePublicKey") {
            json_answer(200, &key)
        } else if request.contains("/login ") {
            json_answer_with(
                200,
                r#"{"result":{"site":{"urlName":"","name":"Default","id":"1"},"user":{"username":"admin","id":"1"}}}"#,
                &[
                    &format!("Set-Cookie: workgroup_session_id={session}; Path=/"),
                    &format!("Set-Cookie: XSRF-TOKEN={xsrf}; Path=/"),
                ],
            )
        } else {
            other(request)
        }
    })
}

/// An HTTP/1.1 answer with a JSON body and no cookies.
pub fn json_answer(status: u16, body: &str) -> Vec<u8> {
    json_answer_with(status, body, &[])
}

/// An HTTP/1.1 answer with a JSON body and `extra` header lines (`Set-Cookie: ...`).
pub fn json_answer_with(status: u16, body: &str, extra: &[&str]) -> Vec<u8> {
    let headers: String = extra.iter().map(|h| format!("{h}\r\n")).collect();
    format!(
        "HTTP/1.1 {status} OK\r\nContent-Type: application/json;charset=UTF-8\r\n{headers}\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Reads one request (its head, then a `Content-Length` body) and writes `answer`. The
/// request is read to the end first: closing a socket with unread input resets it, and the
/// client could lose the answer.
/// The request's first line, when one was read.
fn answer_once(mut stream: TcpStream, answer: &dyn Fn(&str) -> Vec<u8>) -> Option<String> {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(&stream);
    let mut length = 0;
    let mut first = None;
    let mut head = String::new();
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return first,
            Ok(_) if line.trim_end().is_empty() => break,
            Ok(_) => head.push_str(&line),
        }
        first.get_or_insert_with(|| line.trim_end().to_string());
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return first;
    }
    let request = format!("{head}{}", String::from_utf8_lossy(&body));
    let _ = stream.write_all(&answer(&request));
    let _ = stream.shutdown(Shutdown::Write);
    first
}

/// Where two emulator states differ, one line per difference. Tables (arrays of rows with
/// an `id`) are compared row by row, so a failure names the rows that differ instead of
/// printing thousands of tasks.
pub fn state_diff(expected: &Value, actual: &Value) -> Vec<String> {
    let (Some(expected), Some(actual)) = (expected.as_object(), actual.as_object()) else {
        return if expected == actual {
            Vec::new()
        } else {
            vec![format!("expected {expected}, got {actual}")]
        };
    };
    let mut keys: Vec<&String> = expected.keys().chain(actual.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut lines = Vec::new();
    for key in keys {
        let (want, got) = (&expected.get(key), &actual.get(key));
        match (rows_by_id(*want), rows_by_id(*got)) {
            (Some(want), Some(got)) => {
                let mut ids: Vec<&String> = want.keys().chain(got.keys()).collect();
                ids.sort();
                ids.dedup();
                for id in ids {
                    match (want.get(id), got.get(id)) {
                        (Some(w), Some(g)) if w == g => {}
                        (Some(w), Some(g)) => {
                            lines.push(format!("{key} {id}: expected {w}, got {g}"))
                        }
                        (Some(_), None) => lines.push(format!("{key} {id}: missing")),
                        (None, _) => lines.push(format!("{key} {id}: unexpected")),
                    }
                }
            }
            _ if want == got => {}
            _ => lines.push(format!("{key}: expected {want:?}, got {got:?}")),
        }
    }
    lines
}

/// The rows of a table by id, if `table` is an array of objects that all have one.
fn rows_by_id(table: Option<&Value>) -> Option<std::collections::BTreeMap<String, &Value>> {
    table?
        .as_array()?
        .iter()
        .map(|row| Some((row.get("id")?.to_string(), row)))
        .collect()
}

/// Fails, naming the rows that differ (the first 20), unless the states are equal.
pub fn assert_state(what: &str, expected: &Value, actual: &Value) {
    let diff = state_diff(expected, actual);
    assert!(
        diff.is_empty(),
        "{what}: {} differences from the expected state:\n{}",
        diff.len(),
        diff.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
}

/// The emulator's clock as it writes timestamps (`lastSignIn`, `lastRunAt`): compare one
/// taken before a run with those written during it.
pub fn now_stamp() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// In an expected state, the sign-in of `username` at or after `since`, as `actual` shows it:
/// logging in is the one change a run makes to the users.
pub fn expect_sign_in(expected: &mut Value, actual: &Value, username: &str, since: &str) {
    let user = |state: &Value| {
        state["users"]
            .as_array()
            .and_then(|users| users.iter().position(|u| u["username"] == username))
            .unwrap_or_else(|| panic!("user {username}"))
    };
    let at = &actual["users"][user(actual)]["lastSignIn"];
    assert!(
        at.as_str().is_some_and(|at| at >= since),
        "{username} signed in at or after {since}: {at}"
    );
    let index = user(expected);
    expected["users"][index]["lastSignIn"] = at.clone();
}

/// Expire every session every `period` until dropped.
pub struct Expirer {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Expirer {
    pub fn start(emu: &Arc<Emulator>, period: Duration) -> Expirer {
        let (stop, emu) = (Arc::new(AtomicBool::new(false)), emu.clone());
        let done = stop.clone();
        let thread = std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                // A periodic fault, not a wait for a condition.
                std::thread::sleep(period);
                emu.expire_all_sessions();
            }
        });
        Expirer {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Expirer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// In an expected state, each schedule's `runNextAt` as `actual` shows it. The server
/// computes it from its clock whenever a schedule is enabled or changed, so putting a
/// schedule back gives the next run from then, which differs from the one computed when
/// the data was made once a run time has passed in between.
pub fn expect_run_times(expected: &mut Value, actual: &Value) {
    let Some(schedules) = expected["schedules"].as_array_mut() else {
        return;
    };
    for schedule in schedules {
        let now = actual["schedules"]
            .as_array()
            .and_then(|all| all.iter().find(|s| s["id"] == schedule["id"]))
            .and_then(|s| s.get("runNextAt"))
            .cloned();
        let fields = schedule.as_object_mut().expect("a schedule");
        match now {
            Some(time) => fields.insert("runNextAt".into(), time),
            None => fields.remove("runNextAt"),
        };
    }
}

/// `data` with no task last run within ten minutes of `hours` ago: those are moved half an
/// hour further back. A test asking which tasks are older than `hours` then gets the same
/// answer from its own clock and from a script run seconds later.
pub fn clear_of_age(data: Dataset, hours: i64) -> Dataset {
    let mut json = data.to_json();
    let threshold = chrono::Utc::now() - chrono::TimeDelta::hours(hours);
    for task in json["extractTasks"].as_array_mut().expect("tasks") {
        let Some(at) = task["lastRunAt"]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        else {
            continue;
        };
        if (at.to_utc() - threshold).num_minutes().abs() < 10 {
            let earlier = at.to_utc() - chrono::TimeDelta::minutes(30);
            task["lastRunAt"] = earlier.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string().into();
        }
    }
    Dataset::from_json(json).expect("the same data")
}

/// The lines of an audit file, read as JSON (none when there is no file).
pub fn audit_lines(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

//! The client against the emulator: login, sites, cookies, XSRF, expiry, retries, and
//! answers that are not Vizportal. Through the binary (`vizscript call`) where the exit
//! code matters, through the library where the emulator must be changed mid-session.

use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Value, json};
use vizscript::emulator::Faults;
use vizscript::vizportal::{ConnectOptions, RetryPolicy, Session, VizportalError};

use crate::support::*;

fn open(emu: &vizscript::emulator::Emulator, site: Option<&str>, retries: usize) -> Session {
    let mut options = ConnectOptions::new(emu.url(), "admin", SecretString::from("admin"));
    options.site = site.map(str::to_string);
    options.retry = RetryPolicy {
        max_retries: retries,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    };
    Session::open(options).expect("login")
}

fn method_count(emu: &vizscript::emulator::Emulator, method: &str) -> u64 {
    emu.stats().by_method.get(method).copied().unwrap_or(0)
}

#[test]
fn call_prints_the_sessions_user_and_site() {
    let emu = emulator();
    let (code, out, err) = run(vizscript(&emu), &["call", "getSessionInfo"]);
    assert_eq!(code, 0, "{err}");
    let info: Value = serde_json::from_str(&out).expect("JSON on stdout");
    assert_eq!(info["user"]["username"], "admin");
    assert!(info["site"]["name"].is_string());
}

#[test]
fn bad_password_exits_3_and_never_shows_the_password() {
    let emu = emulator();
    let mut cmd = vizscript(&emu);
    cmd.env("TABLEAU_PASSWORD", "Wr0ng-Secret-Pa55");
    let (code, out, err) = run(cmd, &["call", "getSessionInfo", "-vv"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("rejected the username or password"), "{err}");
    assert!(!out.contains("Wr0ng-Secret-Pa55") && !err.contains("Wr0ng-Secret-Pa55"));
}

#[test]
fn site_flag_switches_when_the_server_lands_elsewhere() {
    let emu = emulator();
    // The sample admin's last-used site is not Default: the login lands there.
    let landed = open(&emu, None, 0).info();
    assert_ne!(landed.site_url_name, "");
    emu.reset_stats();
    let (code, out, err) = run(vizscript(&emu), &["call", "getSessionInfo", "--site", ""]);
    assert_eq!(code, 0, "{err}");
    let info: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(info["site"]["urlName"], "");
    assert_eq!(method_count(&emu, "switchSite"), 1);
}

#[test]
fn unknown_site_exits_3_naming_the_site() {
    let emu = emulator();
    let (code, _, err) = run(
        vizscript(&emu),
        &["call", "getSessionInfo", "--site", "nowhere"],
    );
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("\"nowhere\""), "{err}");
}

#[test]
fn cookies_rotate_on_switch_site_without_a_new_login() {
    let emu = emulator();
    let session = open(&emu, Some(""), 0);
    session.switch_site("marketing").expect("switch");
    let info = session
        .call("getSessionInfo", &json!({}))
        .expect("call after rotation");
    assert_eq!(info["site"]["urlName"], "marketing");
    session
        .call(
            "getExtractTasks",
            &json!({"page": {"startIndex": 0, "maxItems": 5}}),
        )
        .unwrap();
    assert_eq!(
        session.logins(),
        1,
        "the rotated XSRF token was used, no re-login needed"
    );
}

#[test]
fn expired_session_logs_in_again_and_returns_to_the_site() {
    let emu = emulator();
    let session = open(&emu, Some(""), 0);
    emu.expire_all_sessions();
    let info = session.call("getSessionInfo", &json!({})).expect("renewed");
    assert_eq!(session.logins(), 2);
    assert_eq!(
        info["site"]["urlName"], "",
        "back on Default, not the landing site"
    );
}

#[test]
fn reads_are_retried_through_503s_but_run_calls_are_not() {
    // A fixed seed: with a random one, all five reads at a 0.5 fault rate get through at
    // the first attempt about once in 32 runs, and nothing would have been retried.
    let emu = emulator_with(|c| c.fault_seed = Some(5));
    let session = open(&emu, Some(""), 3);
    emu.reset_stats();
    emu.set_faults(Faults {
        fail_rate: 1.0,
        ..Faults::default()
    });
    let err = session.call("getSchedules", &json!({})).unwrap_err();
    assert!(
        matches!(err, VizportalError::Http { status: 503, .. }),
        "{err}"
    );
    assert_eq!(emu.stats().requests, 4, "1 attempt + 3 retries");

    emu.reset_stats();
    let err = session
        .call("runExtractTasks", &json!({"ids": ["1"]}))
        .unwrap_err();
    assert!(err.to_string().contains("not idempotent"), "{err}");
    assert_eq!(emu.stats().requests, 1, "never repeated");

    emu.set_faults(Faults::default());
    let session = open(&emu, Some(""), 40);
    emu.set_faults(Faults {
        fail_rate: 0.5,
        ..Faults::default()
    });
    emu.reset_stats();
    for _ in 0..5 {
        session
            .call("getSchedules", &json!({}))
            .expect("a read survives a flaky server");
    }
    assert_eq!(
        method_count(&emu, "getSchedules"),
        5,
        "each read applied once"
    );
    assert!(
        emu.stats().requests > 5,
        "some attempts were refused and retried"
    );
}

/// A `tracing` writer that hands every log line to a channel, so a test can wait for one.
#[derive(Clone)]
struct LogLines(std::sync::mpsc::Sender<String>);

impl std::io::Write for LogLines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = self.0.send(String::from_utf8_lossy(buf).into_owned());
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_run_call_that_certainly_was_not_sent_is_retried() {
    let emu = emulator_with(|c| c.dataset = one_site(50, 4));
    let port: u16 = emu.url().rsplit(':').next().unwrap().parse().unwrap();
    let mut options = ConnectOptions::new(emu.url(), "admin", SecretString::from("admin"));
    options.retry = RetryPolicy {
        max_retries: 8,
        min_delay: Duration::from_millis(200),
        max_delay: Duration::from_secs(1),
    };
    let session = Session::open(options).expect("login");
    let before = emu.state();
    // The port is closed: connecting is refused, so no request can have left.
    emu.shutdown();
    let (lines, log) = std::sync::mpsc::channel();
    let caller = std::thread::spawn(move || {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || LogLines(lines.clone()))
            .with_ansi(false)
            .finish();
        let _log = tracing::subscriber::set_default(subscriber);
        let outcome = session.call("runExtractTasks", &json!({"ids": ["7"]}));
        (outcome, session.logins())
    });
    let refused = loop {
        let line = log
            .recv_timeout(Duration::from_secs(30))
            .expect("the first attempt is refused and logged");
        if line.contains("runExtractTasks: not sent") {
            break line;
        }
    };
    assert!(refused.contains("retrying"), "{refused}");
    // The server comes back (fresh sessions, same data) on the same port.
    let emu = emulator_with(|c| {
        c.port = port;
        c.dataset = one_site(50, 4);
    });
    let (outcome, logins) = caller.join().unwrap();
    outcome.expect("retried once the server was back");
    assert_eq!(logins, 2, "the new server's 401 led to one new login");
    let runs: Vec<_> = emu
        .calls()
        .into_iter()
        .filter(|c| c.method == "runExtractTasks")
        .collect();
    let statuses: Vec<u16> = runs.iter().map(|c| c.status).collect();
    assert_eq!(
        statuses,
        [401, 200],
        "refused for the unknown session (not applied), then applied once"
    );
    let ran = |state: &Value| {
        let tasks = state["extractTasks"].as_array().unwrap();
        let task = tasks.iter().find(|t| t["id"] == "7").unwrap();
        task["runCount"].as_u64().unwrap()
    };
    assert_eq!(ran(&emu.state()), ran(&before) + 1);
}

#[test]
fn html_answer_exits_4_with_a_clear_message() {
    let html = "<html><head><title>Sign in - Corporate SSO</title></head><body>Please sign in</body></html>";
    let server = fake_server(200, "text/html; charset=utf-8", html, &[]);
    let mut cmd = vizscript(&emulator());
    cmd.env("TABLEAU_SERVER", &server.url);
    let (code, _, err) = run(cmd, &["call", "getSessionInfo"]);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("not the Vizportal API"), "{err}");
    assert!(
        err.contains("text/html") && err.contains("Corporate SSO"),
        "{err}"
    );
}

#[test]
fn redirect_to_another_server_is_refused() {
    let server = fake_server(
        302,
        "text/plain",
        "",
        &[("Location", "http://login.example.invalid/sso")],
    );
    let mut cmd = vizscript(&emulator());
    cmd.env("TABLEAU_SERVER", &server.url);
    let (code, _, err) = run(cmd, &["call", "getSessionInfo"]);
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("another server") && err.contains("login.example.invalid"),
        "{err}"
    );

    // Another port of the same host may be another program: it gets nothing, not even
    // the login's encrypted password.
    let sink = fake_server(200, "application/json", r#"{"result":{}}"#, &[]);
    let elsewhere = format!("{}/vizportal/api/web/v1/login", sink.url);
    let server = fake_server(307, "text/plain", "", &[("Location", elsewhere.as_str())]);
    let mut cmd = vizscript(&emulator());
    cmd.env("TABLEAU_SERVER", &server.url);
    let (code, _, err) = run(cmd, &["call", "getSessionInfo"]);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("another server"), "{err}");
    assert!(
        sink.requests.lock().unwrap().is_empty(),
        "nothing was sent to the other port"
    );
}

#[test]
fn a_login_answered_without_a_session_cookie_is_not_sent_again() {
    let emu = emulator();
    let key = public_key_answer(&emu);
    let server = fake_server_by_request(move |line| match line.contains("generatePublicKey") {
        true => json_answer(200, &key),
        false => json_answer(200, r#"{"result":{}}"#),
    });
    let mut cmd = vizscript(&emu);
    cmd.env("TABLEAU_SERVER", &server.url);
    let (code, _, err) = run(cmd, &["call", "getSessionInfo"]);
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("without a new workgroup_session_id cookie"),
        "{err}"
    );
    assert_eq!(
        server.requests_to("/login"),
        1,
        "the password was sent once"
    );
}

#[test]
fn unreachable_server_exits_4() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = vizscript(&emulator());
    cmd.env("TABLEAU_SERVER", format!("http://127.0.0.1:{port}"))
        .env("VIZSCRIPT_RETRY_DELAY_MS", "1");
    let (code, _, err) = run(cmd, &["call", "getSessionInfo", "--retries", "1"]);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("cannot connect"), "{err}");
}

#[test]
fn server_errors_exit_1_with_code_and_message() {
    let emu = emulator();
    let (code, _, err) = run(
        vizscript(&emu),
        &[
            "call",
            "setExtractTasksSchedule",
            r#"{"ids": ["1"], "scheduleId": "987654"}"#,
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("code 120001"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    let emu = emulator();
    let (code, _, err) = run(vizscript(&emu), &["call", "getSessionInfo", "{not json"]);
    assert_eq!(code, 2, "{err}");
    let mut cmd = vizscript(&emu);
    cmd.env_remove("TABLEAU_SERVER");
    let (code, _, err) = run(cmd, &["call", "getSessionInfo"]);
    assert_eq!(code, 2);
    assert!(err.contains("--server"), "{err}");
    let (code, _, _) = run(
        vizscript(&emu),
        &["call", "getSessionInfo", "--password", "x"],
    );
    assert_eq!(code, 2, "no password flag exists");

    // An empty password is not sent: from stdin or a file it is a mistake to report, an
    // empty variable counts as none.
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "\n").unwrap();
    let mut cmd = vizscript(&emu);
    cmd.write_stdin("");
    let (code, _, err) = run(cmd, &["call", "getSessionInfo", "--password-stdin"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--password-stdin read an empty line"), "{err}");
    let file = empty.to_str().unwrap();
    let (code, _, err) = run(
        vizscript(&emu),
        &["call", "getSessionInfo", "--password-file", file],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("starts with an empty line"), "{err}");
    let mut cmd = vizscript(&emu);
    cmd.env("TABLEAU_PASSWORD", "");
    let (code, _, err) = run(cmd, &["call", "getSessionInfo"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no password: set TABLEAU_PASSWORD"), "{err}");
    assert_eq!(emu.stats().by_method.get("login"), None, "nothing was sent");
}

#[test]
fn demo_call_works_without_a_server() {
    let mut cmd = assert_cmd::Command::cargo_bin("vizscript").unwrap();
    cmd.env_remove("TABLEAU_SERVER").env("NO_PROXY", "*");
    let (code, out, err) = run(cmd, &["call", "getSessionInfo", "--demo"]);
    assert_eq!(code, 0, "{err}");
    let info: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(info["user"]["username"], "admin");
    assert!(
        err.contains("demo: bundled emulator at http://127.0.0.1:"),
        "{err}"
    );

    // -q: errors only, so the emulator's address is not said either.
    let (_dir, path) = script_file("print(session_info().user.username);\n");
    let mut cmd = assert_cmd::Command::cargo_bin("vizscript").unwrap();
    cmd.env_remove("TABLEAU_SERVER").env("NO_PROXY", "*");
    let (code, out, err) = run(cmd, &["-q", "run", "--demo", &path]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "admin\n", ""));

    // A real server and user in the environment are set aside; a --server flag is not.
    let mut cmd = assert_cmd::Command::cargo_bin("vizscript").unwrap();
    cmd.env("TABLEAU_SERVER", "https://tableau.example.com")
        .env("TABLEAU_USERNAME", "jsmith")
        .env("NO_PROXY", "*");
    let (code, out, err) = run(cmd, &["call", "getSessionInfo", "--demo"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("not a demo user; signing in as admin"),
        "{err}"
    );
    let info: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(info["user"]["username"], "admin");
    let mut cmd = assert_cmd::Command::cargo_bin("vizscript").unwrap();
    cmd.env_remove("TABLEAU_SERVER").env("NO_PROXY", "*");
    let args = [
        "call",
        "getSessionInfo",
        "--demo",
        "--server",
        "https://x.example.com",
    ];
    let (code, _, err) = run(cmd, &args);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("drop --server"), "{err}");
}

#[test]
fn a_server_refusing_large_pages_gets_smaller_ones() {
    let emu = emulator_with(|c| {
        c.dataset = one_site(1200, 6);
        c.max_page = 300;
        c.page_overflow = vizscript::emulator::PageOverflow::Reject;
    });
    let (_dir, path) = script_file("for t in extract_tasks() { print(t.id); }\n");
    let (code, out, err) = run(vizscript(&emu), &["run", &path]);
    assert_eq!(code, 0, "{err}");
    let mut listed: Vec<&str> = out.lines().collect();
    listed.sort();
    let mut all: Vec<String> = tasks(&emu)
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    all.sort();
    assert_eq!(listed, all, "every task once, through smaller pages");
    let stats = emu.stats();
    // 1000 and 500 are refused (code 19), 250 is served: 1200 tasks in 5 pages.
    assert_eq!(stats.by_method["getExtractTasks"], 2 + 5, "{stats:?}");
}

#[test]
fn only_reads_can_be_paged_through() {
    let emu = emulator();
    let client = vizscript::vizportal::Client::new(open(&emu, None, 0), false, None, 1000);
    let before = emu.stats().by_method.clone();
    let refused = client.list_all(
        "runExtractTasks",
        &json!({}),
        "tasks",
        &|items: Vec<Value>, _| items,
        &|_, _| {},
    );
    assert!(
        matches!(&refused, Err(VizportalError::Usage(m)) if m.contains("not a read")),
        "{refused:?}"
    );
    assert_eq!(emu.stats().by_method, before, "nothing was sent");
    let tasks = client
        .list_all(
            "getExtractTasks",
            &json!({}),
            "tasks",
            &|items: Vec<Value>, _| items,
            &|_, _| {},
        )
        .expect("a read pages");
    let site = client.session().info().site_id;
    let mut listed: Vec<&str> = tasks.iter().filter_map(|t| t["id"].as_str()).collect();
    let all = super::support::tasks(&emu);
    let mut expected: Vec<&str> = all
        .iter()
        .filter(|t| t["siteId"] == site.as_str())
        .filter_map(|t| t["id"].as_str())
        .collect();
    listed.sort_unstable();
    expected.sort_unstable();
    assert_eq!(listed, expected);
}

/// A conversion that keeps only some items does not move the next page's start: each
/// page starts after all the server served (for 1 and 8 pages at once).
#[test]
fn a_list_whose_conversion_keeps_few_items_still_reads_every_page() {
    let emu = emulator_with(|c| c.dataset = one_site(2500, 4));
    let all: Vec<String> = tasks(&emu)
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    // The last items of the list only.
    let wanted: std::collections::HashSet<String> =
        all[all.len() - 1100..].iter().cloned().collect();
    for concurrency in [1, 8] {
        let mut options = ConnectOptions::new(emu.url(), "admin", SecretString::from("admin"));
        options.concurrency = concurrency;
        let session = Session::open(options).expect("login");
        let client = vizscript::vizportal::Client::new(session, false, None, 1000);
        let kept = client
            .list_all(
                "getExtractTasks",
                &json!({}),
                "tasks",
                &|items: Vec<Value>, _| {
                    items
                        .into_iter()
                        .filter(|t| wanted.contains(t["id"].as_str().unwrap_or("")))
                        .collect()
                },
                &|_, _| {},
            )
            .expect("a read pages");
        assert_eq!(kept.len(), wanted.len(), "concurrency {concurrency}");
    }
}

/// A change to more than 1,000 tasks at the end of the list is audited with every task's
/// before values (read with filters of 1,000 ids), checked by a dry run as present, and
/// put back by undo.
#[test]
fn a_change_to_more_than_a_thousand_tasks_is_audited_whole_and_undone() {
    let emu = emulator_with(|c| c.dataset = one_site(2500, 4));
    let listed = tasks(&emu);
    let tail: Vec<String> = listed[listed.len() - 1100..]
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    let before: std::collections::BTreeMap<String, Value> = listed
        .iter()
        .map(|t| (t["id"].as_str().unwrap().to_owned(), t["priority"].clone()))
        .collect();
    let ids = tail
        .iter()
        .map(|id| format!("\"{id}\""))
        .collect::<Vec<_>>()
        .join(",");
    let (_dir, script) = script_file(&format!("set_extract_tasks_priority([{ids}], 3);"));
    let (code, _, err) = run(vizscript(&emu), &["run", &script, "--dry-run"]);
    assert_eq!(code, 0, "the dry run finds every id: {err}");
    let audit = tempfile::tempdir().unwrap();
    let audit = audit.path().join("audit.jsonl");
    let audit_arg = audit.to_str().unwrap();
    let (code, _, err) = run(vizscript(&emu), &["run", &script, "--audit", audit_arg]);
    assert_eq!(code, 0, "{err}");
    let noted: usize = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["before"]
                .as_object()
                .map_or(0, |b| b.len())
        })
        .sum();
    assert_eq!(noted, tail.len(), "every id's before values");
    let (code, _, err) = run(vizscript(&emu), &["undo", audit_arg]);
    assert_eq!(code, 0, "{err}");
    for t in tasks(&emu) {
        let id = t["id"].as_str().unwrap();
        assert_eq!(t["priority"], before[id], "task {id}");
    }
}

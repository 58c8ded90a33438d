//! Broken or hostile answers: each ends with a clear error and the documented exit code,
//! within the timeout, with memory bounded by the answer size cap, and without a panic.

use std::io::Read;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::support::*;

/// Point the binary at `url` and make one call; (exit code, stderr, elapsed).
fn call_against(url: &str, extra: &[&str]) -> (i32, String, Duration) {
    let mut cmd = vizscript(&emulator());
    cmd.env("TABLEAU_SERVER", url)
        .env("VIZSCRIPT_RETRY_DELAY_MS", "1");
    let mut args = vec!["call", "getSessionInfo"];
    args.extend_from_slice(extra);
    let start = Instant::now();
    let (code, out, err) = run(cmd, &args);
    assert!(out.is_empty(), "nothing on stdout: {out}");
    assert!(!err.contains("panicked"), "{err}");
    (code, err, start.elapsed())
}

fn answer(status: u16, content_type: &str, body: &'static str) -> (i32, String) {
    let server = fake_server(status, content_type, body, &[]);
    let (code, err, _) = call_against(&server.url, &[]);
    (code, err)
}

#[test]
fn truncated_json_is_not_vizportal() {
    let (code, err) = answer(
        200,
        "application/json",
        r#"{"result": {"keyId": "abc", "key": {"n": "9c97"#,
    );
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("not the Vizportal API") && err.contains("keyId"),
        "{err}"
    );
}

#[test]
fn json_without_result_is_not_vizportal() {
    let (code, err) = answer(
        200,
        "application/json",
        r#"{"error": "maintenance window"}"#,
    );
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("without a \"result\"") && err.contains("maintenance window"),
        "{err}"
    );
}

#[test]
fn a_result_that_is_not_an_object_is_refused() {
    let (code, err) = answer(200, "application/json", r#"{"result": [1, 2, 3]}"#);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("not an object"), "{err}");
}

#[test]
fn wrong_types_in_the_key_fail_the_login_clearly() {
    let (code, err) = answer(
        200,
        "application/json",
        r#"{"result": {"keyId": 5, "key": {"n": [], "e": true}}}"#,
    );
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("did not return keyId, key.n and key.e"),
        "{err}"
    );
}

#[test]
fn errors_with_wrong_field_types_are_still_reported() {
    let (code, err) = answer(
        200,
        "application/json",
        r#"{"result": {"errors": [{"code": "77", "message": 5, "id": 9}]}}"#,
    );
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("code 77"), "{err}");
}

#[test]
fn a_server_error_page_is_not_vizportal() {
    let (code, err) = answer(
        500,
        "text/html",
        "<html><body><h1>500 Internal Server Error</h1></body></html>",
    );
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("HTTP 500") && err.contains("Internal Server Error"),
        "{err}"
    );
}

/// A well-formed answer of `mib` MiB and a little more (one long string).
fn answer_of_mib(mib: usize) -> &'static str {
    let mut body = String::with_capacity(mib * 1024 * 1024 + 64);
    body.push_str(r#"{"result": {"keyId": ""#);
    body.push_str(&"x".repeat(mib * 1024 * 1024));
    body.push_str(r#""}}"#);
    Box::leak(body.into_boxed_str())
}

#[test]
fn a_50_mb_answer_is_cut_off_at_the_cap() {
    let server = fake_server(200, "application/json", answer_of_mib(50), &[]);
    let (code, err, elapsed) = call_against(&server.url, &[]);
    assert_eq!(code, 1, "a call that failed: {err}");
    assert!(err.contains("larger than the 16 MiB limit"), "{err}");
    assert!(!err.contains("hint:"), "no flag fixes it: {err}");
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
}

/// A gzip answer (as a compressing gateway sends) of `mib` MiB once unpacked.
fn gzip_answer_of_mib(mib: usize) -> Vec<u8> {
    use std::io::Write as _;
    let mut packer = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    packer.write_all(answer_of_mib(mib).as_bytes()).unwrap();
    let packed = packer.finish().unwrap();
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        packed.len()
    );
    [head.into_bytes(), packed].concat()
}

#[test]
fn a_small_gzip_answer_that_unpacks_past_the_cap_is_cut_off() {
    let bomb = gzip_answer_of_mib(40);
    assert!(bomb.len() < 1024 * 1024, "{} bytes on the wire", bomb.len());
    let server = fake_server_by_request(move |_| bomb.clone());
    let (code, err, elapsed) = call_against(&server.url, &[]);
    assert_eq!(code, 1, "a call that failed: {err}");
    assert!(err.contains("larger than the 16 MiB limit"), "{err}");
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
}

#[test]
fn an_answer_of_unknown_length_is_cut_off_at_the_cap() {
    let server = fake_server_without_length(200, "application/json", answer_of_mib(20));
    let (code, err, _) = call_against(&server.url, &[]);
    assert_eq!(code, 1, "a call that failed: {err}");
    assert!(err.contains("larger than the 16 MiB limit"), "{err}");
    let small = fake_server_without_length(
        200,
        "application/json",
        r#"{"result": {"keyId": "k", "key": {"n": "ab", "e": "10001"}}}"#,
    );
    let (_, err, _) = call_against(&small.url, &[]);
    assert!(
        err.contains("unusable RSA key: modulus too small"),
        "a short answer without a length is read whole (and its key judged): {err}"
    );
}

#[test]
fn a_server_that_never_answers_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let holder = std::thread::spawn(move || {
        // Accept and read, never answer; keep the sockets open until the client gives up.
        let mut open = Vec::new();
        for stream in listener.incoming().take(2) {
            let mut stream = stream.unwrap();
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            open.push(stream);
        }
        std::thread::sleep(Duration::from_secs(4));
    });
    let (code, err, elapsed) = call_against(&url, &["--timeout", "1", "--retries", "1"]);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("no answer within the timeout"), "{err}");
    assert!(elapsed < Duration::from_secs(8), "{elapsed:?}");
    drop(holder);
}

/// A list whose totalCount is absurd (10^15 items in pages of one) is refused before any
/// more pages are asked for or room is made for them; the process does not abort.
#[test]
fn a_list_with_an_absurd_total_count_is_refused_not_allocated() {
    let emu = emulator();
    let server = fake_signed_in(&emu, ("Sess-1", "Xsrf-1"), |_| {
        json_answer(
            200,
            r#"{"result":{"totalCount":1000000000000000,"moreItems":true,"tasks":[{"id":"1"}]}}"#,
        )
    });
    let (_dir, path) = script_file("print(extract_tasks().len());");
    for extra in [&[][..], &["--concurrency", "1"][..]] {
        let mut cmd = vizscript(&emu);
        cmd.env("TABLEAU_SERVER", &server.url);
        let mut args = vec!["run", path.as_str()];
        args.extend_from_slice(extra);
        let (code, _, err) = run(cmd, &args);
        assert_eq!(code, 4, "{err}");
        assert!(err.contains("more than 100000 pages"), "{err}");
    }
    assert_eq!(server.requests_to("getExtractTasks"), 2, "one page per run");
}

/// A busy server's `Retry-After` is waited for before the retry (the backoff alone would
/// have tried again within half a second).
#[test]
fn a_busy_answer_with_retry_after_is_retried_after_that_wait() {
    let emu = emulator();
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let times = asked.clone();
    let server = fake_signed_in(&emu, ("Sess-1", "Xsrf-1"), move |_| {
        let mut times = times.lock().unwrap();
        times.push(std::time::Instant::now());
        match times.len() {
            1 => json_answer_with(429, r#"{"error":"busy"}"#, &["Retry-After: 1"]),
            _ => json_answer(200, r#"{"result":{"schedules":[]}}"#),
        }
    });
    let mut cmd = vizscript(&emu);
    cmd.env("TABLEAU_SERVER", &server.url);
    let (code, _, err) = run(cmd, &["call", "getSchedules"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("the server asked for 1 s"), "{err}");
    let times = asked.lock().unwrap();
    assert_eq!(times.len(), 2, "{err}");
    let waited = times[1] - times[0];
    assert!(
        waited >= std::time::Duration::from_millis(950),
        "{waited:?}"
    );
}

/// An answer after a token sign-in that quotes the token secret shows it masked; a
/// password is not masked outside the sign-in (a short one would be masked inside the
/// ids of errors, which the audit reads).
#[test]
fn a_later_answer_quoting_the_token_secret_shows_it_masked_and_ids_stay_whole() {
    let emu = emulator();
    let server = fake_server_by_request(|request| {
        if request.contains("/serverinfo") {
            json_answer(200, r#"{"serverInfo":{"restApiVersion":"3.24"}}"#)
        } else if request.contains("/auth/signin") {
            json_answer(
                200,
                r#"{"credentials":{"token":"Rest-Tok-1","site":{"contentUrl":""},"user":{"id":"u"}}}"#,
            )
        } else if request.contains("getSessionInfo") {
            json_answer(
                200,
                r#"{"result":{"site":{"urlName":"","name":"Default","id":"1"},"user":{"username":"admin","id":"1"}}}"#,
            )
        } else {
            json_answer(
                200,
                r#"{"result":{"errors":[{"code":17,"message":"bad Distinct-Tok-9\u003d"}]}}"#,
            )
        }
    });
    let mut cmd = vizscript(&emu);
    cmd.env("TABLEAU_SERVER", &server.url)
        .env("TABLEAU_PAT_NAME", "tok")
        .env("TABLEAU_PAT_SECRET", "Distinct-Tok-9=");
    let (code, _, err) = run(cmd, &["call", "getSchedules"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("bad [redacted]") && !err.contains("Distinct-Tok"),
        "{err}"
    );

    // Signed in with the password admin, an id holding that text is reported whole.
    let (code, _, err) = run(
        vizscript(&emu),
        &[
            "call",
            "setExtractTasksPriority",
            r#"{"ids":["admin9"],"priority":4}"#,
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("admin9"), "{err}");
}

/// A method name that is not a name (a path, a query) is refused before anything is sent,
/// under --dry-run too, where a name starting with `get` would pass as a read.
#[test]
fn a_method_name_with_a_path_or_query_is_refused_before_sending() {
    let emu = emulator();
    for method in [
        "getExtractTasks/../setExtractTasksPriority",
        "getSessionInfo?x=1",
        "setFoo/x",
    ] {
        let before = emu.stats().by_method.clone();
        let (code, _, err) = run(vizscript(&emu), &["call", method, "--dry-run"]);
        assert_eq!(code, 2, "{method}: {err}");
        assert!(err.contains("is not a Vizportal method name"), "{err}");
        let after = emu.stats().by_method;
        let sent: u64 = after.values().sum::<u64>() - before.values().sum::<u64>();
        // The sign-in's own calls only.
        assert!(
            after.keys().all(|m| !m.contains('/') && !m.contains('?')),
            "{after:?}"
        );
        assert!(sent <= 3, "{sent} calls: {after:?}");
    }
    // A script's dry run refuses it too, instead of planning it.
    let (_dir, script) = script_file(
        r#"try { vizportal("setFoo/x", #{}); print("planned"); } catch (e) { print(e.kind); }"#,
    );
    let (code, out, err) = run(vizscript(&emu), &["run", &script, "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "usage", "{err}");
}

/// Ctrl-C ends a wait a busy server asked for (an hour), at once.
#[test]
fn ctrl_c_ends_a_retry_after_wait() {
    let emu = emulator();
    let server = fake_signed_in(&emu, ("Sess-1", "Xsrf-1"), |_| {
        json_answer_with(503, r#"{"error":"busy"}"#, &["Retry-After: 3600"])
    });
    let (_dir, script) = script_file("schedules();");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_vizscript"))
        .env("TABLEAU_SERVER", &server.url)
        .env("TABLEAU_USERNAME", "admin")
        .env("TABLEAU_PASSWORD", "admin")
        .env("NO_PROXY", "*")
        .args(["run", &script])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupted once it says it waits (not merely once the request arrived: a Ctrl-C
    // before the answer is read stops the run before any wait).
    let mut child = child;
    let stderr = child.stderr.take().unwrap();
    let (lines, said) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut all = String::new();
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = lines.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    loop {
        let line = said
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the run says it waits");
        if line.contains("the server asked for 3600 s") {
            break;
        }
    }
    let interrupted = std::time::Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let err = reader.join().unwrap();
    assert!(
        interrupted.elapsed() < std::time::Duration::from_secs(10),
        "{:?}: {err}",
        interrupted.elapsed()
    );
    assert_ne!(output.status.code(), Some(0), "{err}");
    assert_eq!(
        server.requests_to("getSchedules"),
        1,
        "no request after Ctrl-C: {err}"
    );
}

//! Secrets stay secret. With a known password, every command's stdout and stderr and every
//! file in its working directory and data directory (audit, plan, anything else it wrote)
//! are searched for the password and for the actual session ids and XSRF tokens the
//! emulator issued: through `-vv` and `RUST_LOG=trace`, a re-login after the session
//! expired, failed calls and a refused password.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use vizscript::emulator::{Dataset, Emulator, SAMPLE_TOKEN, SampleSpec};

use crate::support::*;

const PASSWORD: &str = "Zq7!-s3cret-Pw-91";
const WRONG: &str = "Wrong-Zq7-guess";
const TOKEN_SECRET: &str = "Pat-8Hq2-Secret-Zz4";
const WRONG_TOKEN: &str = "Pat-Wrong-7Xx1";
/// Typed at the terminal REPL as a secret's value: the history file must not keep it.
const TYPED_SECRET: &str = "Typed-4Kw9-Secret";

/// How often every session is ended while the idling script below runs.
const EXPIRE_EVERY: Duration = Duration::from_millis(100);

/// Reads, idles while its session is ended (the next call is refused and the client signs
/// in again), fails one call it catches and prints, and ends with one it does not catch.
const RELOGIN_SCRIPT: &str = r#"
print(session_info().user.username);
let started = timestamp();
while started.elapsed < 0.8 {}
print(schedules().len());
try {
    vizportal("setExtractTasksSchedule", #{ ids: ["1"], scheduleId: "424242" });
} catch (e) {
    print(e);
}
set_extract_tasks_priority(["1", "999999"], 3);
"#;

fn emulator_with_password() -> Arc<Emulator> {
    let mut data = Dataset::sample(&SampleSpec::default()).to_json();
    for user in data["users"].as_array_mut().unwrap() {
        if user["username"] == "admin" {
            user["password"] = PASSWORD.into();
        }
    }
    for token in data["accessTokens"].as_array_mut().unwrap() {
        token["secret"] = TOKEN_SECRET.into();
    }
    let dataset = Dataset::from_json(data).unwrap();
    Arc::new(emulator_with(|c| c.dataset = dataset))
}

/// The REPL at a terminal (a pseudo-terminal driven by `tests/python/pty_repl.py`), which
/// keeps a history file in the data directory; returns what it showed. With `-vv`, not
/// `RUST_LOG=trace`: the line editor's own trace would break up the echo the driver reads.
fn terminal_repl(emu: &Emulator, dir: &Path) -> String {
    let driver = format!("{}/tests/python/pty_repl.py", env!("CARGO_MANIFEST_DIR"));
    let mut cmd = std::process::Command::new("python3");
    cmd.args([
        &driver,
        "vizscript> ",
        env!("CARGO_BIN_EXE_vizscript"),
        "repl",
        "-vv",
    ])
    .current_dir(dir)
    .env_clear()
    .env("PATH", std::env::var("PATH").unwrap_or_default())
    .env("NO_PROXY", "*")
    .env("TABLEAU_SERVER", emu.url())
    .env("TABLEAU_USERNAME", "admin")
    .env("TABLEAU_PASSWORD", PASSWORD)
    .env("HOME", dir)
    .env("XDG_DATA_HOME", dir.join("data"))
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("python3 is needed to drive the REPL at a terminal: {e}"));
    let typed = format!(
        "session_info().user.username\nlet m = #{{ secret: \"{TYPED_SECRET}\" }};\n:plan\n\
         vizportal(\"nope\", #{{}})\n:quit\n"
    );
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), typed.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let shown = String::from_utf8_lossy(&output.stdout).into_owned();
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{err}\n{shown}");
    assert!(shown.contains("unknown method"), "the REPL ran: {shown}");
    let history = std::fs::read_to_string(dir.join("data/vizscript/repl-history.txt"))
        .expect("the REPL keeps a history file");
    assert!(
        history.contains("session_info().user.username"),
        "{history}"
    );
    assert!(
        !history.contains(TYPED_SECRET),
        "an input giving a secret a value stays out of the history file: {history}"
    );
    // The terminal echoes what was typed; that is the user's own screen.
    (shown + err.as_ref()).replace(TYPED_SECRET, "")
}

/// The text around a leaked secret at `at`, with the secret itself masked.
fn around(text: &str, at: usize, secret: &str) -> String {
    let start = text[..at]
        .char_indices()
        .rev()
        .nth(150)
        .map_or(0, |(i, _)| i);
    let end = text[at..]
        .char_indices()
        .nth(150)
        .map_or(text.len(), |(i, _)| at + i);
    text[start..end].replace(secret, "<SECRET>")
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// One command of the test: its arguments, standard input, whether the password comes
/// from the environment, extra environment, whether sessions are ended while it runs, and
/// the exit code it must end with.
struct Step {
    args: Vec<String>,
    stdin: Option<String>,
    env_password: Option<&'static str>,
    env: Vec<(&'static str, &'static str)>,
    expire: bool,
    code: i32,
}

fn step(args: &[&str], code: i32) -> Step {
    Step {
        args: args.iter().map(|a| a.to_string()).collect(),
        stdin: None,
        env_password: Some(PASSWORD),
        env: Vec::new(),
        expire: false,
        code,
    }
}

impl Step {
    fn traced(mut self) -> Step {
        self.env.push(("RUST_LOG", "trace"));
        self
    }
}

#[test]
fn no_output_or_file_carries_the_password_or_a_session_secret() {
    let emu = emulator_with_password();
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    std::fs::write(dir.path().join("pw.txt"), format!("{PASSWORD}\n")).unwrap();
    std::fs::write(dir.path().join("relogin.rhai"), RELOGIN_SCRIPT).unwrap();
    let (audit, plan, pw_file) = (path("audit.jsonl"), path("plan.json"), path("pw.txt"));
    let rebalance = example("rebalance.rhai");
    let emu_address = emu.url().trim_start_matches("http://").to_string();
    let steps = vec![
        step(&["call", "getSessionInfo", "-vv"], 0),
        step(&["call", "getSessionInfo"], 0).traced(),
        step(
            &[
                "run",
                &rebalance,
                "--dry-run",
                "--plan-json",
                &plan,
                "--audit",
                &audit,
                "-vv",
            ],
            0,
        ),
        step(&["run", &rebalance, "--audit", &audit, "-vv"], 0).traced(),
        Step {
            expire: true,
            ..step(&["run", "relogin.rhai", "--audit", &audit, "-vv"], 1).traced()
        },
        Step {
            stdin: Some("session_info().user.username\n:plan\nvizportal(\"nope\", #{})\n".into()),
            ..step(&["repl", "-vv"], 1).traced()
        },
        // A call the server refuses, and one it cannot parse.
        step(
            &[
                "call",
                "setExtractTasksSchedule",
                r#"{"ids": ["1"], "scheduleId": "424242"}"#,
                "-vv",
            ],
            1,
        )
        .traced(),
        step(&["call", "noSuchMethod", "-vv"], 1).traced(),
        // A password inside the server URL is refused before it is used or shown.
        step(
            &[
                "call",
                "getSessionInfo",
                "--server",
                &format!("http://admin:{PASSWORD}@{}", emu_address),
            ],
            2,
        ),
        Step {
            stdin: Some(format!("{PASSWORD}\n")),
            env_password: None,
            ..step(&["call", "getSessionInfo", "--password-stdin"], 0).traced()
        },
        // Even asking for the cookie jar's own debug output shows no cookie.
        Step {
            env_password: None,
            env: vec![("RUST_LOG", "trace,cookie_store=trace")],
            ..step(&["call", "getSessionInfo", "--password-file", &pw_file], 0)
        },
        // A personal access token, right and wrong.
        Step {
            env: vec![
                ("TABLEAU_PAT_NAME", SAMPLE_TOKEN.0),
                ("TABLEAU_PAT_SECRET", TOKEN_SECRET),
                ("RUST_LOG", "trace"),
            ],
            ..step(&["call", "getSessionInfo", "-vv"], 0)
        },
        Step {
            env: vec![
                ("TABLEAU_PAT_NAME", SAMPLE_TOKEN.0),
                ("TABLEAU_PAT_SECRET", WRONG_TOKEN),
                ("RUST_LOG", "trace"),
            ],
            ..step(&["call", "getSessionInfo", "-vv"], 3)
        },
        // A saved session: saved, reused with no credential, logged out.
        step(&["login", "--save", "-vv"], 0).traced(),
        Step {
            env_password: None,
            ..step(&["call", "getSessionInfo", "-vv"], 0).traced()
        },
        Step {
            env_password: None,
            ..step(&["logout", "-vv"], 0).traced()
        },
        Step {
            env_password: Some(WRONG),
            ..step(&["call", "getSessionInfo", "-vv"], 3).traced()
        },
    ];
    let state = tempfile::tempdir().unwrap();
    let mut transcripts = String::new();
    for step in steps {
        let mut cmd = vizscript(&emu);
        cmd.current_dir(dir.path())
            .env("XDG_DATA_HOME", path("data"))
            .env("VIZSCRIPT_STATE_DIR", state.path())
            .env("HOME", dir.path());
        match step.env_password {
            Some(password) => cmd.env("TABLEAU_PASSWORD", password),
            None => cmd.env_remove("TABLEAU_PASSWORD"),
        };
        for (name, value) in &step.env {
            cmd.env(name, value);
        }
        if let Some(input) = &step.stdin {
            cmd.write_stdin(input.as_str());
        }
        let args: Vec<&str> = step.args.iter().map(String::as_str).collect();
        let expirer = step.expire.then(|| Expirer::start(&emu, EXPIRE_EVERY));
        let (code, out, err) = run(cmd, &args);
        drop(expirer);
        assert_eq!(code, step.code, "{args:?}: {err}");
        transcripts.push_str(&out);
        transcripts.push_str(&err);
    }

    assert!(
        !transcripts.contains('\u{1b}'),
        "no colour codes in output that is not a terminal"
    );
    transcripts.push_str(&terminal_repl(&emu, dir.path()));

    // The runs did what the search needs: real sessions, a re-login, traced HTTP.
    let calls = emu.calls();
    let logins = calls
        .iter()
        .filter(|c| c.method == "login" && c.status == 200)
        .count();
    let secrets = emu.issued_secrets();
    assert!(logins >= 10, "every signed-in step logged in: {logins}");
    assert!(
        secrets.len() >= 2 * logins,
        "a session id and an XSRF token per login: {} for {logins}",
        secrets.len()
    );
    assert!(
        calls
            .iter()
            .any(|c| c.method == "getSchedules" && c.status == 401),
        "the idling script's session expired"
    );
    assert!(transcripts.contains("admin"), "the transcripts are real");
    assert!(
        transcripts.contains("TRACE"),
        "RUST_LOG=trace was in effect"
    );
    assert!(
        transcripts.contains("424242"),
        "the failed calls were reported"
    );

    let mut searched = vec![(String::from("output"), transcripts)];
    let files = files_under(dir.path());
    for file in &files {
        let text = String::from_utf8_lossy(&std::fs::read(file).unwrap()).into_owned();
        searched.push((file.display().to_string(), text));
    }
    assert!(
        files.iter().any(|p| p.ends_with("audit.jsonl"))
            && files.iter().any(|p| p.ends_with("plan.json")),
        "{files:?}"
    );
    for (place, text) in &searched {
        for secret in &secrets {
            if let Some(at) = text.find(secret.as_str()) {
                panic!(
                    "a session secret leaked into {place}: ...{}...",
                    around(text, at, secret)
                );
            }
        }
        let password_file = place.ends_with("pw.txt");
        for password in [PASSWORD, WRONG, TOKEN_SECRET, WRONG_TOKEN] {
            assert!(
                password_file || !text.contains(password),
                "a password leaked into {place}"
            );
        }
    }
}

/// A server (or the proxy in front of it) whose error messages echo the request back: the
/// session cookie, the XSRF token and a login's encrypted password are masked wherever the
/// client shows such a message.
#[test]
fn an_error_that_echoes_the_request_shows_no_session_secret() {
    let emu = emulator();
    let key = public_key_answer(&emu);
    const SESSION: &str = "Sess-7Hq2-Secret-Id";
    const XSRF: &str = "Xsrf-9Kp4-Secret-Tk";
    let echo = |request: &str| {
        let message = serde_json::to_string(&format!("bad request: {request}")).unwrap();
        json_answer(
            200,
            &format!(r#"{{"result":{{"errors":[{{"code":9,"message":{message}}}]}}}}"#),
        )
    };
    let logins = Arc::new(std::sync::Mutex::new(Vec::new()));
    for echo_login in [false, true] {
        let (key, seen) = (key.clone(), logins.clone());
        let server = fake_server_by_request(move |request| {
            if request.contains("generatePublicKey") {
                json_answer(200, &key)
            } else if request.contains("/login") {
                seen.lock().unwrap().push(request.to_string());
                if echo_login {
                    return echo(request);
                }
                json_answer_with(
                    200,
                    r#"{"result":{"site":{"urlName":"","name":"Default"},"user":{"username":"admin"}}}"#,
                    &[
                        &format!("Set-Cookie: workgroup_session_id={SESSION}; Path=/"),
                        &format!("Set-Cookie: XSRF-TOKEN={XSRF}; Path=/"),
                    ],
                )
            } else {
                echo(request)
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let audit = dir.path().join("audit.jsonl");
        let (_script, path) = script_file(r#"set_extract_tasks_priority(["1"], 5);"#);
        let mut cmd = vizscript(&emu);
        cmd.env("TABLEAU_SERVER", &server.url);
        let (code, out, err) = run(
            cmd,
            &["run", &path, "--audit", audit.to_str().unwrap(), "-vv"],
        );
        assert_ne!(code, 0, "{err}");
        assert!(
            err.contains("bad request") && err.contains("[redacted]"),
            "{err}"
        );
        let written = std::fs::read_to_string(&audit).unwrap_or_default();
        let sent = logins.lock().unwrap().clone();
        let encrypted: Vec<String> = sent
            .iter()
            .filter_map(|r| {
                let body: serde_json::Value = serde_json::from_str(&r[r.find('{')?..]).ok()?;
                Some(body["params"]["encryptedPassword"].as_str()?.to_string())
            })
            .collect();
        assert!(!encrypted.is_empty(), "the login was sent: {sent:?}");
        for text in [&out, &err, &written] {
            for secret in encrypted.iter().map(String::as_str).chain([SESSION, XSRF]) {
                assert!(!text.contains(secret), "a secret was shown: {text}");
            }
        }
    }
}

/// The same for a token sign-in: an answer to `auth/signin` that echoes the request, as a
/// page or as a REST error's detail, does not show the token secret.
#[test]
fn a_token_sign_in_answer_that_echoes_the_request_shows_no_secret() {
    let emu = emulator();
    for as_page in [true, false] {
        let server = fake_server_by_request(move |request| {
            if request.contains("serverinfo") {
                return json_answer(
                    200,
                    r#"{"serverInfo":{"productVersion":{"value":"2023.1"},"restApiVersion":"3.19"}}"#,
                );
            }
            // The body only: a page's excerpt is short.
            let body = &request[request.find('{').unwrap_or(0)..];
            let echoed = serde_json::to_string(&format!("bad request: {body}")).unwrap();
            if as_page {
                let body = format!("<html><body>{echoed}</body></html>");
                let mut answer = json_answer(200, &body);
                let text = String::from_utf8(answer.clone()).unwrap();
                answer = text
                    .replace("application/json;charset=UTF-8", "text/html")
                    .into_bytes();
                answer
            } else {
                json_answer(
                    401,
                    &format!(r#"{{"error":{{"code":"401001","detail":{echoed}}}}}"#),
                )
            }
        });
        let mut cmd = vizscript(&emu);
        cmd.env("TABLEAU_SERVER", &server.url)
            .env("TABLEAU_PAT_NAME", SAMPLE_TOKEN.0)
            .env("TABLEAU_PAT_SECRET", TOKEN_SECRET)
            .env_remove("TABLEAU_PASSWORD");
        let (code, out, err) = run(cmd, &["call", "getSessionInfo", "-vv"]);
        assert_ne!(code, 0, "{err}");
        assert!(
            err.contains("bad request") && err.contains("[redacted]"),
            "{err}"
        );
        assert!(
            !err.contains(TOKEN_SECRET) && !out.contains(TOKEN_SECRET),
            "{err}"
        );
    }
}

/// A dry run's plan, printed and written with --plan-json, shows no password a call
/// carries, as the audit does not.
#[test]
fn a_dry_run_plan_shows_no_password() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let (_script, path) = script_file(
        r#"vp::changeUserPassword(#{ userId: "2", password: "Plan-Pw-1x", newPassword: "Plan-Pw-2y" });
        vizportal("updateConnections", #{ ids: ["1"], passwd: "Plan-Pw-3z", credentials: #{ pwd: "Plan-Pw-4w" } });"#,
    );
    let (code, out, err) = run(
        vizscript(&emu),
        &[
            "run",
            &path,
            "--dry-run",
            "--plan-json",
            plan.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let written = std::fs::read_to_string(&plan).unwrap();
    assert!(written.contains("changeUserPassword"), "{written}");
    assert!(written.contains("updateConnections"), "{written}");
    for text in [&out, &err, &written] {
        for secret in ["Plan-Pw-1x", "Plan-Pw-2y", "Plan-Pw-3z", "Plan-Pw-4w"] {
            assert!(!text.contains(secret), "{secret}: {text}");
        }
    }

    // The session's own password under a key no rule names, in the plan and the audit;
    // a flag under a secret's name is no secret and stays.
    let emu = emulator_with_password();
    let audit = dir.path().join("audit.jsonl");
    let (_script, path) = script_file(&format!(
        r#"vp::updateConnections(#{{ ids: ["1"], embedPassword: true, details: #{{ pass: "{PASSWORD}" }} }});"#
    ));
    let mut cmd = vizscript(&emu);
    cmd.env("TABLEAU_PASSWORD", PASSWORD);
    let args = [
        "run",
        &path,
        "--dry-run",
        "--audit",
        audit.to_str().unwrap(),
    ];
    let (code, out, err) = run(
        cmd,
        &[&args[..], &["--plan-json", plan.to_str().unwrap()]].concat(),
    );
    assert_eq!(code, 0, "{err}");
    let (written, audited) = (
        std::fs::read_to_string(&plan).unwrap(),
        std::fs::read_to_string(&audit).unwrap(),
    );
    assert!(audited.contains(r#""embedPassword":true"#), "{audited}");
    for text in [&err, &written, &audited] {
        assert!(text.contains("updateConnections"), "{text}");
    }
    for text in [&out, &err, &written, &audited] {
        assert!(!text.contains(PASSWORD), "{text}");
    }
}

/// A password inside a URL (a proxy's `user:password@`, a server URL in the environment)
/// is shown neither by `config show` nor by `--help`.
#[test]
fn a_password_inside_a_url_is_not_shown_by_config_or_help() {
    let mut cmd = assert_cmd::Command::cargo_bin("vizscript").unwrap();
    cmd.env_clear()
        .env("VIZSCRIPT_CONFIG", "/nonexistent/config.toml")
        .env("TABLEAU_SERVER", "http://h.example:1");
    let args = [
        "config",
        "show",
        "--proxy",
        "http://pu:PROXYPW1@p.example:3",
    ];
    let (code, out, err) = run(cmd, &args);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("http://p.example:3"), "{out}");
    assert!(
        !out.contains("PROXYPW1") && !err.contains("PROXYPW1"),
        "{out}{err}"
    );
    let mut cmd = assert_cmd::Command::cargo_bin("vizscript").unwrap();
    cmd.env_clear()
        .env("TABLEAU_SERVER", "http://admin:SERVERPW1@h.example");
    let (code, out, _) = run(cmd, &["run", "--help"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("TABLEAU_SERVER") && !out.contains("SERVERPW1"),
        "{out}"
    );
}

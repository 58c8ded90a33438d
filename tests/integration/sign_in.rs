//! Every way to a session, against the emulator: personal access tokens through REST, a
//! session id from a browser, saved sessions (`login --save`, reuse, renewal, `logout`),
//! profiles, and proxies. Each test counts on the emulator how the session was made.

use std::path::Path;

use assert_cmd::Command;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use vizscript::emulator::{Emulator, SAMPLE_TOKEN};
use vizscript::vizportal::{ConnectOptions, Session, SignIn};

use crate::support::*;

/// The binary pointed at `emu` with no credential at all; `state` is the state directory.
fn bare(emu: &Emulator, state: &Path) -> Command {
    let mut cmd = vizscript(emu);
    cmd.env_remove("TABLEAU_USERNAME")
        .env_remove("TABLEAU_PASSWORD")
        .env("VIZSCRIPT_STATE_DIR", state)
        .env("VIZSCRIPT_CONFIG", state.join("no-config.toml"));
    cmd
}

/// The binary signing in with the sample token.
fn with_token(emu: &Emulator, state: &Path) -> Command {
    let mut cmd = bare(emu, state);
    cmd.env("TABLEAU_PAT_NAME", SAMPLE_TOKEN.0)
        .env("TABLEAU_PAT_SECRET", SAMPLE_TOKEN.1);
    cmd
}

fn count(emu: &Emulator, method: &str) -> u64 {
    emu.stats().by_method.get(method).copied().unwrap_or(0)
}

/// A session opened in-process, as another program (or a browser) would have it.
fn password_session(emu: &Emulator) -> Session {
    Session::open(ConnectOptions::new(
        emu.url(),
        "admin",
        SecretString::from("admin"),
    ))
    .expect("login")
}

#[test]
fn a_token_signs_in_through_rest_and_a_script_moves_tasks_without_vizportal_login() {
    let emu = emulator();
    let state = tempfile::tempdir().unwrap();
    let site = site_id(&emu, "finance");
    let on_site: Vec<_> = tasks(&emu)
        .into_iter()
        .filter(|t| t["siteId"] == site.as_str())
        .collect();
    let from = on_site[0]["scheduleId"].as_str().unwrap().to_string();
    let to = schedules(&emu)
        .into_iter()
        .find(|s| s["scheduledAction"] == "Extract" && s["id"] != from.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let moving: Vec<String> = on_site
        .iter()
        .filter(|t| t["scheduleId"] == from.as_str())
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    let (_dir, script) = script_file(&format!(
        r#"let info = session_info();
print(`${{info.user.username}}@${{info.site.urlName}}`);
let ids = extract_tasks(#{{ scheduleId: "{from}" }}).map(|t| t.id);
print(set_extract_tasks_schedule(ids, "{to}").succeeded.len());"#
    ));
    let (code, out, err) = run(
        with_token(&emu, state.path()),
        &["run", &script, "--site", "finance"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, format!("admin@finance\n{}\n", moving.len()));
    for id in &moving {
        assert_eq!(task(&emu, id)["scheduleId"], to.as_str(), "task {id} moved");
    }
    assert_eq!(count(&emu, "login"), 0, "no Vizportal login");
    assert_eq!(count(&emu, "generatePublicKey"), 0);
    assert_eq!(count(&emu, "REST auth/signin"), 1);
    assert_eq!(count(&emu, "REST auth/signout"), 1, "signed out at the end");
    assert!(!err.contains(SAMPLE_TOKEN.1) && !out.contains(SAMPLE_TOKEN.1));
}

#[test]
fn switching_site_with_a_token_signs_in_again_there() {
    let emu = emulator();
    let state = tempfile::tempdir().unwrap();
    let (_dir, script) = script_file(
        r#"print(session_info().site.urlName);
switch_site("finance");
print(session_info().site.urlName);"#,
    );
    let (code, out, err) = run(
        with_token(&emu, state.path()),
        &["run", &script, "--site", "marketing"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "marketing\nfinance\n");
    assert_eq!(count(&emu, "REST auth/signin"), 2);
    assert_eq!(
        count(&emu, "switchSite"),
        0,
        "a token session signs in again instead"
    );
    assert_eq!(
        count(&emu, "REST auth/signout"),
        2,
        "the first session ended before the second began"
    );
}

#[test]
fn a_wrong_token_exits_3_with_the_rest_code_and_its_meaning() {
    let emu = emulator();
    let state = tempfile::tempdir().unwrap();
    let mut cmd = bare(&emu, state.path());
    cmd.env("TABLEAU_PAT_NAME", SAMPLE_TOKEN.0)
        .env("TABLEAU_PAT_SECRET", "not-the-secret-4711");
    let (code, out, err) = run(cmd, &["call", "getSessionInfo"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("401001"), "{err}");
    assert!(err.contains("revoked"), "{err}");
    assert!(!err.contains("not-the-secret-4711") && !out.contains("not-the-secret-4711"));
}

#[test]
fn a_second_sign_in_with_the_same_token_ends_the_first_which_recovers() {
    let emu = emulator();
    let token = || {
        let sign_in = SignIn::Token {
            name: SAMPLE_TOKEN.0.to_string(),
            secret: SecretString::from(SAMPLE_TOKEN.1),
        };
        let mut options = ConnectOptions::signing_in(emu.url(), Some(sign_in), None);
        options.site = Some("finance".into());
        Session::open(options).expect("token sign-in")
    };
    let first = token();
    let second = token();
    let again = first
        .call("getSessionInfo", &json!({}))
        .expect("the first recovers");
    assert_eq!(again["site"]["urlName"], "finance");
    assert_eq!(first.logins(), 2, "it signed in again with its token");
    assert_eq!(count(&emu, "REST auth/signin"), 3);
    // And now the second is the one that was ended; it recovers the same way.
    second
        .call("getSessionInfo", &json!({}))
        .expect("the second recovers");
    assert_eq!(second.logins(), 2);
}

#[test]
fn a_session_id_from_a_browser_is_used_as_is() {
    let emu = emulator();
    let state = tempfile::tempdir().unwrap();
    let browser = password_session(&emu);
    let (id, xsrf) = browser.current_session().expect("cookies");
    let logins = count(&emu, "login");
    let mut cmd = bare(&emu, state.path());
    cmd.env("TABLEAU_SESSION_ID", id.expose_secret())
        .env("TABLEAU_XSRF_TOKEN", xsrf.expose_secret());
    let (code, out, err) = run(cmd, &["call", "getSessionInfo"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"username\": \"admin\""), "{out}");
    assert_eq!(count(&emu, "login"), logins, "no new login");

    // Without its XSRF token the server refuses the session: the error says what to set.
    let mut cmd = bare(&emu, state.path());
    cmd.env("TABLEAU_SESSION_ID", id.expose_secret());
    let (code, _, err) = run(cmd, &["call", "getSessionInfo"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("set TABLEAU_XSRF_TOKEN"), "{err}");

    // With a wrong XSRF token the error says so, with the server's own reason.
    let mut cmd = bare(&emu, state.path());
    cmd.env("TABLEAU_SESSION_ID", id.expose_secret())
        .env("TABLEAU_XSRF_TOKEN", "not-its-token");
    let (code, _, err) = run(cmd, &["call", "getSessionInfo"]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("HTTP 403") && err.contains("TABLEAU_XSRF_TOKEN is not the XSRF-TOKEN cookie"),
        "{err}"
    );
    assert!(!err.contains("not-its-token"), "{err}");

    // With a password there too, the run signs in with it, and says so.
    let mut cmd = bare(&emu, state.path());
    cmd.env("TABLEAU_SESSION_ID", "no-such-session")
        .env("TABLEAU_USERNAME", "admin")
        .env("TABLEAU_PASSWORD", "admin");
    let (code, _, err) = run(cmd, &["call", "getSessionInfo"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("refused the session given (--session-id or TABLEAU_SESSION_ID)")
            && err.contains("signing in as admin with a password instead"),
        "{err}"
    );

    browser.log_out().expect("logout");
    let mut cmd = bare(&emu, state.path());
    cmd.env("TABLEAU_SESSION_ID", id.expose_secret())
        .env("TABLEAU_XSRF_TOKEN", xsrf.expose_secret());
    let (code, _, err) = run(cmd, &["call", "getSessionInfo"]);
    assert_eq!(
        code, 3,
        "an ended session with nothing to sign in again with: {err}"
    );
    assert!(err.contains("expired or been signed out"), "{err}");
    assert!(!err.contains(id.expose_secret()), "{err}");
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// `login --save` as admin with a password; the saved file's path.
fn save_session(emu: &Emulator, state: &Path) -> std::path::PathBuf {
    let mut cmd = bare(emu, state);
    cmd.env("TABLEAU_USERNAME", "admin")
        .env("TABLEAU_PASSWORD", "admin");
    let (code, out, err) = run(cmd, &["login", "--save", "--site", "finance"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("signed in to"), "{out}");
    let dir = state.join("sessions");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

#[cfg(unix)]
#[test]
fn a_saved_session_is_reused_with_no_credential_and_replaced_when_it_expires() {
    let emu = emulator();
    let state = tempfile::tempdir().unwrap();
    let path = save_session(&emu, state.path());
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(
        !saved.contains("\"admin\"\n") && !saved.contains("password\":"),
        "{saved}"
    );
    assert_eq!(count(&emu, "login"), 1);

    let (code, out, err) = run(bare(&emu, state.path()), &["call", "getSessionInfo"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"urlName\": \"finance\""), "{out}");
    assert_eq!(
        count(&emu, "login"),
        1,
        "the saved session served, no login"
    );

    emu.expire_all_sessions();
    let (code, _, err) = run(bare(&emu, state.path()), &["call", "getSessionInfo"]);
    assert_eq!(code, 3, "expired and nothing to sign in with: {err}");
    assert!(err.contains("vizscript login --save"), "{err}");

    let mut cmd = bare(&emu, state.path());
    cmd.env("TABLEAU_USERNAME", "admin")
        .env("TABLEAU_PASSWORD", "admin");
    let (code, out, err) = run(cmd, &["call", "getSessionInfo"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("\"urlName\": \"finance\""),
        "back on the saved site: {out}"
    );
    assert_eq!(count(&emu, "login"), 2);
    let replaced = std::fs::read_to_string(&path).unwrap();
    assert_ne!(
        replaced, saved,
        "the renewed session replaced the saved one"
    );
    assert_eq!(mode(&path), 0o600);
    let (code, _, err) = run(bare(&emu, state.path()), &["call", "getSessionInfo"]);
    assert_eq!(code, 0, "the replacement serves the next run: {err}");
    assert_eq!(count(&emu, "login"), 2);
}

#[cfg(unix)]
#[test]
fn a_saved_session_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let emu = emulator();
    let state = tempfile::tempdir().unwrap();
    let path = save_session(&emu, state.path());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, _, err) = run(bare(&emu, state.path()), &["call", "getSessionInfo"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("0644") && err.contains("chmod 600"), "{err}");
    // A directory others can write to could hold a session someone else put there.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let dir = path.parent().unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let (code, _, err) = run(bare(&emu, state.path()), &["call", "getSessionInfo"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("0777") && err.contains("chmod 700"), "{err}");
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let (code, _, err) = run(bare(&emu, state.path()), &["call", "getSessionInfo"]);
    assert_eq!(code, 0, "private again: {err}");
    // A refused file can still be ended on the server and deleted.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, out, err) = run(bare(&emu, state.path()), &["logout"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ended on the server"), "{out}");
    assert!(!path.exists());
}

#[test]
fn logout_ends_the_saved_session_on_the_server_and_deletes_it() {
    let emu = emulator();
    let state = tempfile::tempdir().unwrap();
    let path = save_session(&emu, state.path());
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let (code, out, err) = run(bare(&emu, state.path()), &["logout"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ended on the server"), "{out}");
    assert!(!path.exists());
    assert_eq!(count(&emu, "logout"), 1);
    let mut cmd = bare(&emu, state.path());
    cmd.env("TABLEAU_SESSION_ID", saved["sessionId"].as_str().unwrap())
        .env("TABLEAU_XSRF_TOKEN", saved["xsrfToken"].as_str().unwrap());
    let (code, _, err) = run(cmd, &["call", "getSessionInfo"]);
    assert_eq!(code, 3, "the session no longer works: {err}");
}

#[test]
fn a_token_session_can_be_saved_and_logged_out() {
    let emu = emulator();
    let state = tempfile::tempdir().unwrap();
    let (code, _, err) = run(with_token(&emu, state.path()), &["login", "--save"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        count(&emu, "REST auth/signout"),
        0,
        "a saved session stays open"
    );
    let mut cmd = bare(&emu, state.path());
    cmd.env("TABLEAU_PAT_NAME", SAMPLE_TOKEN.0);
    let (code, _, err) = run(cmd, &["call", "getSessionInfo"]);
    assert_eq!(code, 0, "reused by token name, no secret needed: {err}");
    assert_eq!(count(&emu, "REST auth/signin"), 1);
    let mut cmd = bare(&emu, state.path());
    cmd.env("TABLEAU_PAT_NAME", SAMPLE_TOKEN.0);
    let (code, _, err) = run(cmd, &["logout"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        count(&emu, "REST auth/signout"),
        1,
        "a token session ends through REST"
    );
}

#[test]
fn flags_beat_environment_beat_profile_and_config_show_says_so() {
    let emu = emulator();
    let state = tempfile::tempdir().unwrap();
    let config = state.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[profiles.lab]\nserver = \"{}\"\nusername = \"analyst\"\nsite = \"marketing\"\ntimeout = 7\nconcurrency = 3\n",
            emu.url()
        ),
    )
    .unwrap();
    let command = || {
        let mut cmd = bare(&emu, state.path());
        cmd.env_remove("TABLEAU_SERVER")
            .env("VIZSCRIPT_CONFIG", &config)
            .env("TABLEAU_SITE", "finance")
            .env("TABLEAU_PASSWORD", "admin");
        cmd
    };
    let (code, out, err) = run(
        command(),
        &[
            "config",
            "show",
            "--profile",
            "lab",
            "--username",
            "admin",
            "--concurrency",
            "2",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let line = |name: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} in {out}"))
            .to_string()
    };
    assert!(
        line("server").contains(&emu.url()) && line("server").contains("profile lab"),
        "{out}"
    );
    assert!(
        line("username").contains("admin") && line("username").contains("flag"),
        "{out}"
    );
    assert!(
        line("site").contains("finance") && line("site").contains("environment (TABLEAU_SITE)"),
        "{out}"
    );
    assert!(
        line("timeout").contains("7 s") && line("timeout").contains("profile lab"),
        "{out}"
    );
    assert!(
        line("concurrency").contains("2") && line("concurrency").contains("flag"),
        "{out}"
    );
    assert!(line("password").contains("redacted"), "{out}");
    assert!(!out.contains("admin\n") || !out.contains("TABLEAU_PASSWORD=admin"));

    let (code, out, err) = run(
        command(),
        &[
            "call",
            "getSessionInfo",
            "--profile",
            "lab",
            "--username",
            "admin",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("\"urlName\": \"finance\""),
        "environment beats profile: {out}"
    );

    std::fs::write(&config, "[profiles.lab]\nserver = 5\n").unwrap();
    let (code, _, err) = run(command(), &["config", "show", "--profile", "lab"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("config.toml") && err.contains("line 2") && err.contains("server"),
        "{err}"
    );
}

#[test]
fn a_proxy_answering_with_its_own_page_or_not_at_all_exits_4_naming_the_proxy() {
    let emu = emulator();
    let state = tempfile::tempdir().unwrap();
    let proxy = fake_server(
        200,
        "text/html",
        "<html><body>Proxy sign-in</body></html>",
        &[],
    );
    let mut cmd = bare(&emu, state.path());
    cmd.env("TABLEAU_USERNAME", "admin")
        .env("TABLEAU_PASSWORD", "admin")
        .env_remove("NO_PROXY");
    let (code, _, err) = run(
        cmd,
        &[
            "call",
            "getSessionInfo",
            "--proxy",
            &proxy.url,
            "--retries",
            "0",
        ],
    );
    assert_eq!(code, 4, "{err}");
    assert!(err.contains(&format!("proxy {}", proxy.url)), "{err}");
    let mut cmd = bare(&emu, state.path());
    cmd.env("TABLEAU_USERNAME", "admin")
        .env("TABLEAU_PASSWORD", "admin")
        .env("HTTPS_PROXY", &proxy.url)
        .env("HTTP_PROXY", &proxy.url)
        .env_remove("NO_PROXY");
    let (code, _, err) = run(cmd, &["call", "getSessionInfo", "--no-proxy"]);
    assert_eq!(code, 0, "--no-proxy ignores the environment's proxy: {err}");

    // A proxy that is not there: unreachable, and the message names the proxy.
    let dead = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let any_port: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    dead.bind(&any_port.into()).unwrap();
    let dead = dead.local_addr().unwrap().as_socket().unwrap();
    let with_password = format!("http://proxyuser:Pr0xy-Secret@{dead}");
    let mut cmd = bare(&emu, state.path());
    cmd.env("TABLEAU_USERNAME", "admin")
        .env("TABLEAU_PASSWORD", "admin")
        .env_remove("NO_PROXY");
    let args = [
        "call",
        "getSessionInfo",
        "--proxy",
        &with_password,
        "--retries",
        "0",
    ];
    let (code, _, err) = run(cmd, &args);
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains(&format!("the proxy http://{dead}; check")),
        "{err}"
    );
    assert!(
        !err.contains("Pr0xy-Secret"),
        "the proxy's password is not shown: {err}"
    );
}

#[test]
fn the_rest_version_is_discovered_on_an_older_server() {
    let emu = emulator_with(|c| c.rest_api_version = (3, 10));
    let state = tempfile::tempdir().unwrap();
    let (code, _, err) = run(with_token(&emu, state.path()), &["call", "getSessionInfo"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(count(&emu, "REST auth/signin"), 1);
    let older = emulator_with(|c| c.rest_api_version = (3, 4));
    let (code, _, err) = run(
        with_token(&older, state.path()),
        &["call", "getSessionInfo"],
    );
    assert_eq!(code, 3, "too old for tokens: {err}");
    assert!(
        err.contains("personal access tokens need REST API 3.6 or newer"),
        "{err}"
    );
}

#[test]
fn the_emulator_signs_tokens_in_from_xml_and_answers_in_kind() {
    let emu = emulator();
    let http = http_client_builder().build().unwrap();
    let signin = format!("{}/api/3.24/auth/signin", emu.url());
    let xml = format!(
        r#"<tsRequest><credentials personalAccessTokenName="{}" personalAccessTokenSecret="{}"><site contentUrl="finance"/></credentials></tsRequest>"#,
        SAMPLE_TOKEN.0, SAMPLE_TOKEN.1
    );
    let answer = http.post(&signin).body(xml.clone()).send().unwrap();
    assert_eq!(answer.status(), 200);
    let text = answer.text().unwrap();
    assert!(
        text.contains("<credentials token=\"") && text.contains("contentUrl=\"finance\""),
        "{text}"
    );
    let answer = http
        .post(&signin)
        .header("Accept", "application/json")
        .body(xml)
        .send()
        .unwrap();
    let body: serde_json::Value = answer.json().unwrap();
    let token = body["credentials"]["token"].as_str().unwrap().to_string();
    assert_eq!(body["credentials"]["site"]["contentUrl"], "finance");

    // The REST token is a Vizportal session only with a non-empty matching XSRF pair.
    let call = |xsrf_cookie: &str, xsrf_header: &str| {
        http.post(format!("{}/vizportal/api/web/v1/getSessionInfo", emu.url()))
            .header(
                "Cookie",
                format!("workgroup_session_id={token}; XSRF-TOKEN={xsrf_cookie}"),
            )
            .header("X-XSRF-TOKEN", xsrf_header)
            .body(r#"{"method":"getSessionInfo","params":{}}"#)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(call("", ""), 403);
    assert_eq!(call("abc", "xyz"), 403);
    assert_eq!(call("abc", "abc"), 200);

    let signout = http
        .post(format!("{}/api/3.24/auth/signout", emu.url()))
        .header("X-Tableau-Auth", &token)
        .send()
        .unwrap();
    assert_eq!(signout.status(), 204);
    assert_eq!(call("abc", "abc"), 401, "signed out");
}

/// A given session that ends in the middle of the work, with nothing to sign in again
/// with, stops the work as a failed sign-in (exit 3, as README says) whose error names
/// the call that found it ended, not `login`, and says how to go on.
#[test]
fn a_given_session_ending_mid_run_names_the_call_it_interrupts() {
    use vizscript::vizportal::{ErrorClass, ExistingSession, SessionOrigin};
    let emu = emulator();
    let browser = password_session(&emu);
    let (id, xsrf) = browser.current_session().expect("cookies");
    let existing = ExistingSession {
        session_id: id,
        xsrf: Some(xsrf),
        origin: SessionOrigin::Given,
        saved: false,
    };
    let session = Session::open(ConnectOptions::signing_in(emu.url(), None, Some(existing)))
        .expect("the given session is adopted");
    session
        .call("getSessionInfo", &json!({}))
        .expect("usable while it lasts");
    emu.expire_all_sessions();
    let logins = count(&emu, "login");
    let err = session
        .call(
            "getExtractTasks",
            &json!({"page": {"startIndex": 0, "maxItems": 5}}),
        )
        .expect_err("the session has ended");
    assert_eq!(err.method(), Some("getExtractTasks"), "{err}");
    assert_eq!(err.class(), ErrorClass::Login, "{err}");
    assert!(
        err.to_string()
            .contains("getExtractTasks found the session ended: the session is no longer valid"),
        "{err}"
    );
    assert!(err.to_string().contains("login --save"), "{err}");
    assert_eq!(count(&emu, "login"), logins, "no login was tried");
}

/// A saved session that has expired is renewed with a password or token secret alone (the
/// user or token name comes from the saved file), on the saved site even when the server
/// would land the user elsewhere, and the saved file keeps that site.
#[test]
fn an_expired_saved_session_renews_with_the_secret_alone_on_its_own_site() {
    let emu = emulator();
    let state = tempfile::tempdir().unwrap();
    let path = save_session(&emu, state.path());
    let elsewhere = tempfile::tempdir().unwrap();
    let mut cmd = bare(&emu, elsewhere.path());
    cmd.env("TABLEAU_USERNAME", "admin")
        .env("TABLEAU_PASSWORD", "admin");
    let (code, _, err) = run(cmd, &["login", "--site", "marketing"]);
    assert_eq!(code, 0, "admin's last site is marketing now: {err}");
    emu.expire_all_sessions();
    let mut cmd = bare(&emu, state.path());
    cmd.env("TABLEAU_PASSWORD", "admin");
    let (code, out, err) = run(cmd, &["call", "getSessionInfo"]);
    assert_eq!(code, 0, "renewed with the password alone: {err}");
    assert!(out.contains("\"urlName\": \"finance\""), "{out}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(saved["site"], "finance", "{saved}");

    // A token session the same way, with the token secret alone.
    let tokens = tempfile::tempdir().unwrap();
    let (code, _, err) = run(
        with_token(&emu, tokens.path()),
        &["login", "--save", "--site", "marketing"],
    );
    assert_eq!(code, 0, "{err}");
    emu.expire_all_sessions();
    let mut cmd = bare(&emu, tokens.path());
    cmd.env("TABLEAU_PAT_SECRET", SAMPLE_TOKEN.1);
    let (code, out, err) = run(cmd, &["call", "getSessionInfo"]);
    assert_eq!(code, 0, "renewed with the token secret alone: {err}");
    assert!(out.contains("\"urlName\": \"marketing\""), "{out}");
    // A token session belongs to its site: one that a run took to another site is not
    // saved, and the next run signs in again on the saved site.
    let (_dir, script) = script_file(r#"switch_site("finance");"#);
    let with_secret = || {
        let mut cmd = bare(&emu, tokens.path());
        cmd.env("TABLEAU_PAT_SECRET", SAMPLE_TOKEN.1);
        cmd
    };
    let (code, _, err) = run(with_secret(), &["run", &script]);
    assert_eq!(code, 0, "{err}");
    let file = std::fs::read_dir(tokens.path().join("sessions"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    assert_eq!(saved["site"], "marketing", "{saved}");
    let (code, out, err) = run(with_secret(), &["call", "getSessionInfo"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"urlName\": \"marketing\""), "{out}");
}

/// Two sessions saved for one server: a command that names neither says which there are
/// and how to pick one; `logout` with none saved is a failure, not a failed login.
#[test]
fn two_saved_sessions_for_one_server_are_named_and_logout_of_none_exits_1() {
    let emu = emulator();
    let state = tempfile::tempdir().unwrap();
    save_session(&emu, state.path());
    let (code, _, err) = run(with_token(&emu, state.path()), &["login", "--save"]);
    assert_eq!(code, 0, "{err}");
    for args in [&["call", "getSessionInfo"][..], &["logout"]] {
        let (code, _, err) = run(bare(&emu, state.path()), args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains("2 sessions are saved") && err.contains("--token-name"),
            "{args:?}: {err}"
        );
        let names = format!("(admin, token {})", SAMPLE_TOKEN.0);
        assert!(err.contains(&names), "{err}");
    }
    let empty = tempfile::tempdir().unwrap();
    let (code, _, err) = run(bare(&emu, empty.path()), &["logout"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no saved session"), "{err}");
}

/// A token sign-in to a server that is not Tableau (a JSON answer without `serverInfo`, an
/// HTML 404 page at every REST version) ends with the code of an answer that is not the
/// API, and the token secret is never sent.
#[test]
fn a_token_sign_in_to_a_server_that_is_not_tableau_exits_4_before_sending_the_secret() {
    let state = tempfile::tempdir().unwrap();
    for (status, content_type, body) in [
        (200, "application/json", r#"{"hello":"world"}"#),
        (404, "text/html", "<html><body>Not Found</body></html>"),
        // A gateway's page while the server restarts: unavailable, not another server.
        (
            503,
            "text/html",
            "<html><body>Service Unavailable</body></html>",
        ),
    ] {
        let fake = fake_server(status, content_type, body, &[]);
        let mut cmd = Command::cargo_bin("vizscript").unwrap();
        cmd.env_clear()
            .env("VIZSCRIPT_STATE_DIR", state.path())
            .env("VIZSCRIPT_CONFIG", state.path().join("no-config.toml"))
            .env("TABLEAU_SERVER", &fake.url)
            .env("TABLEAU_PAT_NAME", SAMPLE_TOKEN.0)
            .env("TABLEAU_PAT_SECRET", SAMPLE_TOKEN.1);
        let (code, _, err) = run(cmd, &["call", "getSessionInfo", "--retries", "0"]);
        assert_eq!(code, 4, "{status}: {err}");
        assert!(err.contains("hint: check --server"), "{status}: {err}");
        assert_eq!(
            err.contains("HTTP 503 from the server"),
            status == 503,
            "{status}: {err}"
        );
        let requests = fake.requests.lock().unwrap().clone();
        assert!(!requests.is_empty(), "{status}");
        assert!(
            requests.iter().all(|r| !r.contains("auth/signin")),
            "{status}: the secret is not sent: {requests:?}"
        );
    }
}

/// `switch_site` to a site that does not exist fails the same way however the session was
/// made: an unknown site (exit 3, as at sign-in), its error naming `switchSite`.
#[test]
fn switching_to_an_unknown_site_is_the_same_failure_with_a_password_or_a_token() {
    let emu = emulator();
    let state = tempfile::tempdir().unwrap();
    let (_dir, caught) = script_file(
        r#"try { switch_site("atlantis"); } catch (e) { print(`${e.kind} ${e.method}`); }
print(session_info().site.urlName);"#,
    );
    let (_dir2, uncaught) = script_file(r#"switch_site("atlantis");"#);
    let signed_in = |how: &str| {
        if how == "token" {
            return with_token(&emu, state.path());
        }
        let mut cmd = bare(&emu, state.path());
        cmd.env("TABLEAU_USERNAME", "admin")
            .env("TABLEAU_PASSWORD", "admin");
        cmd
    };
    for how in ["password", "token"] {
        let (code, out, err) = run(signed_in(how), &["run", &caught, "--site", "finance"]);
        assert_eq!(code, 0, "{how}: {err}");
        assert_eq!(out, "session switchSite\nfinance\n", "{how}: {err}");
        // A switch to the site the session is on answers its session info.
        let (_dir3, same) = script_file(r#"print(switch_site("finance").site.urlName);"#);
        let (code, out, err) = run(signed_in(how), &["run", &same, "--site", "finance"]);
        assert_eq!((code, out.as_str()), (0, "finance\n"), "{how}: {err}");
        let (code, _, err) = run(signed_in(how), &["run", &uncaught]);
        assert_eq!(code, 3, "{how}: {err}");
        assert!(
            err.contains("site \"atlantis\" does not exist"),
            "{how}: {err}"
        );
    }
}

/// A session saved from a browser's session id that has since expired says to sign in
/// again, not to check an XSRF variable the user never set.
#[test]
fn an_expired_session_saved_from_a_session_id_says_to_sign_in_again() {
    let emu = emulator();
    let state = tempfile::tempdir().unwrap();
    let browser = password_session(&emu);
    let (id, xsrf) = browser.current_session().expect("cookies");
    let mut cmd = bare(&emu, state.path());
    cmd.env("TABLEAU_SESSION_ID", id.expose_secret())
        .env("TABLEAU_XSRF_TOKEN", xsrf.expose_secret());
    let (code, _, err) = run(cmd, &["login", "--save"]);
    assert_eq!(code, 0, "{err}");
    emu.expire_all_sessions();
    let (code, _, err) = run(bare(&emu, state.path()), &["call", "getSessionInfo"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("vizscript login --save"), "{err}");
    assert!(!err.contains("TABLEAU_XSRF_TOKEN"), "{err}");
}

/// A saved token session belongs to its site: asked for another site with no secret given
/// it fails at once, saying what it needs, and is neither switched nor ended; with the
/// secret, the token signs in anew on that site.
#[test]
fn a_saved_token_session_goes_to_another_site_only_by_signing_in_again() {
    let emu = emulator();
    let state = tempfile::tempdir().unwrap();
    let (code, _, err) = run(
        with_token(&emu, state.path()),
        &["login", "--save", "--site", "finance"],
    );
    assert_eq!(code, 0, "{err}");
    let switches = count(&emu, "switchSite");
    let (code, _, err) = run(
        bare(&emu, state.path()),
        &["call", "getSessionInfo", "--site", "marketing"],
    );
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("needs a new sign-in with the token's secret"),
        "{err}"
    );
    assert_eq!(count(&emu, "switchSite"), switches, "not switched");
    let (_dir, script) = script_file(r#"switch_site("marketing");"#);
    let (code, _, err) = run(bare(&emu, state.path()), &["run", &script]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("needs a new sign-in with the token's secret"),
        "{err}"
    );
    // Every site in one run: refused before any site runs, not run on the saved one only.
    let (_dir, change) = script_file("set_extract_tasks_priority(extract_tasks()[0].id, 9);");
    let before = emu.state();
    let (code, _, err) = run(bare(&emu, state.path()), &["run", &change, "--all-sites"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("nothing was run"), "{err}");
    assert_eq!(emu.state()["extractTasks"], before["extractTasks"]);
    let (code, out, err) = run(bare(&emu, state.path()), &["call", "getSessionInfo"]);
    assert_eq!(code, 0, "the saved session still works: {err}");
    assert!(out.contains("\"urlName\": \"finance\""), "{out}");

    let (code, out, err) = run(
        with_token(&emu, state.path()),
        &["call", "getSessionInfo", "--site", "marketing"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"urlName\": \"marketing\""), "{out}");
    assert_eq!(
        count(&emu, "switchSite"),
        switches,
        "a new sign-in, not a switch"
    );
}

/// A user and a token of the same name, or names that differ only in punctuation, never
/// share a saved session; a file whose contents are for someone else than its name says
/// is refused, not used.
#[test]
fn saved_sessions_of_a_user_and_a_token_of_one_name_are_kept_apart() {
    let emu = emulator();
    let state = tempfile::tempdir().unwrap();
    let user_file = save_session(&emu, state.path());
    let (code, _, err) = run(with_token(&emu, state.path()), &["login", "--save"]);
    assert_eq!(code, 0, "{err}");
    let files = std::fs::read_dir(state.path().join("sessions"))
        .unwrap()
        .count();
    assert_eq!(files, 2, "the token's session did not replace the user's");
    // The token's name as a user, and the user's name as a token: neither is saved.
    for who in [
        ["--username", SAMPLE_TOKEN.0],
        ["--token-name", "admin"],
        ["--username", "admin_"],
        ["--username", "admin/"],
    ] {
        let args = ["call", "getSessionInfo", who[0], who[1]];
        let (code, _, err) = run(bare(&emu, state.path()), &args);
        assert_eq!(code, 2, "{who:?} must find no saved session: {err}");
        assert!(
            err.contains("no password") || err.contains("no secret"),
            "{err}"
        );
    }
    // Each is found by its own name (a user name in any case).
    for who in [["--username", "ADMIN"], ["--token-name", SAMPLE_TOKEN.0]] {
        let args = ["call", "getSessionInfo", who[0], who[1]];
        let (code, out, err) = run(bare(&emu, state.path()), &args);
        assert_eq!(code, 0, "{who:?}: {err}");
        assert!(out.contains("\"username\": \"admin\""), "{out}");
    }
    // The token's file put in place of the user's is refused by what it holds.
    let token_file = std::fs::read_dir(state.path().join("sessions"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| *p != user_file)
        .unwrap();
    std::fs::copy(&token_file, &user_file).unwrap();
    let args = ["call", "getSessionInfo", "--username", "admin"];
    let (code, _, err) = run(bare(&emu, state.path()), &args);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains(&format!("is for token {}", SAMPLE_TOKEN.0)) && err.contains("not user admin"),
        "{err}"
    );
}

/// A script's own `login` that the server refuses is one failed attempt, not a session
/// to renew: no sign-in is repeated (each would be another failed attempt on the account).
#[test]
fn a_refused_login_made_by_a_script_is_not_repeated() {
    let emu = emulator();
    let (_dir, script) = script_file(
        r#"try {
            vp::login(#{username: "admin", encryptedPassword: "00", keyId: "zz"});
        } catch (e) { print(`${e.kind} ${e.message}`); }"#,
    );
    let (code, out, err) = run(vizscript(&emu), &["run", &script]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("session "), "{out}");
    assert_eq!(
        count(&emu, "login"),
        2,
        "the run's own sign-in, then the refused one"
    );
}

/// `call` ends a token session whether the call succeeded or not, and refuses table or
/// CSV output of a change before sending it.
#[test]
fn call_signs_a_token_out_after_a_failed_call_and_refuses_a_table_of_a_change() {
    let emu = emulator();
    let state = tempfile::tempdir().unwrap();
    let (code, _, err) = run(with_token(&emu, state.path()), &["call", "noSuchMethod"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        count(&emu, "REST auth/signout"),
        1,
        "signed out after the failure"
    );
    let id = tasks(&emu)[0]["id"].as_str().unwrap().to_owned();
    let params = format!(r#"{{"ids":["{id}"],"priority":7}}"#);
    let args = [
        "call",
        "setExtractTasksPriority",
        &params,
        "--output",
        "table",
    ];
    let (code, _, err) = run(with_token(&emu, state.path()), &args);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("use --output json"), "{err}");
    assert_eq!(count(&emu, "setExtractTasksPriority"), 0, "nothing sent");
    assert_ne!(task(&emu, &id)["priority"], 7);
}

/// `-vv` shows one line per answer (method, status, sizes, time), never a body.
#[test]
fn very_verbose_shows_each_request_of_the_sign_in_and_the_call() {
    let emu = emulator();
    let (code, _, err) = run(vizscript(&emu), &["call", "getSessionInfo", "-vv"]);
    assert_eq!(code, 0, "{err}");
    for method in ["generatePublicKey", "login", "getSessionInfo"] {
        assert!(
            err.lines()
                .any(|l| l.contains(&format!("{method}: HTTP 200,")) && l.contains(" ms")),
            "{method}: {err}"
        );
    }
    assert!(!err.contains("encryptedPassword"), "{err}");
    let (_, _, quiet) = run(vizscript(&emu), &["call", "getSessionInfo"]);
    assert!(!quiet.contains("HTTP 200"), "{quiet}");
}

/// `login --save --demo` would save a session of an emulator gone when the command ends.
#[test]
fn login_save_of_the_demo_is_refused() {
    let state = tempfile::tempdir().unwrap();
    let mut cmd = Command::cargo_bin("vizscript").unwrap();
    cmd.env_clear()
        .env("VIZSCRIPT_STATE_DIR", state.path())
        .env("NO_PROXY", "*");
    let (code, _, err) = run(cmd, &["login", "--save", "--demo"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("'--save' cannot be used with '--demo'"),
        "{err}"
    );
    assert!(!state.path().join("sessions").exists());
}

/// `config show` says where secrets come from as sign-in reads them: a flag before the
/// environment, and an empty variable as not set.
#[test]
fn config_show_names_the_source_sign_in_uses() {
    let state = tempfile::tempdir().unwrap();
    let mut cmd = Command::cargo_bin("vizscript").unwrap();
    cmd.env_clear()
        .env("VIZSCRIPT_STATE_DIR", state.path())
        .env("VIZSCRIPT_CONFIG", state.path().join("no-config.toml"))
        .env("TABLEAU_SESSION_ID", "from-the-environment")
        .env("TABLEAU_PASSWORD", "");
    let args = ["config", "show", "--session-id", "from-the-flag"];
    let (code, out, err) = run(cmd, &args);
    assert_eq!(code, 0, "{err}");
    let row = |name: &str| {
        out.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name}: {out}"))
            .to_string()
    };
    assert!(row("session_id").ends_with("flag"), "{out}");
    assert!(row("password").contains("not set"), "{out}");
    assert!(!out.contains("from-the-"), "{out}");
}

/// A session saved by an earlier version, under its old file name, is still found by
/// what it holds: used with no credential, and ended by `logout`.
#[test]
fn a_session_saved_under_an_earlier_file_name_is_still_used_and_logged_out() {
    let emu = emulator();
    let state = tempfile::tempdir().unwrap();
    let file = save_session(&emu, state.path());
    let slug: String = emu
        .url()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let older = state
        .path()
        .join("sessions")
        .join(format!("{slug}--admin.json"));
    std::fs::rename(&file, &older).unwrap();
    for args in [
        &["call", "getSessionInfo"][..],
        &["call", "getSessionInfo", "--username", "admin"],
    ] {
        let (code, out, err) = run(bare(&emu, state.path()), args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(out.contains("\"username\": \"admin\""), "{out}");
    }
    let (code, out, err) = run(bare(&emu, state.path()), &["logout"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("deleted"), "{out}");
    assert!(!older.exists());
    // Saved again, the new file replaces an older one of the same user.
    let file = save_session(&emu, state.path());
    std::fs::rename(&file, &older).unwrap();
    let mut cmd = bare(&emu, state.path());
    cmd.env("TABLEAU_USERNAME", "admin")
        .env("TABLEAU_PASSWORD", "admin");
    let (code, _, err) = run(cmd, &["login", "--save"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("replaced the session an earlier version saved"),
        "{err}"
    );
    assert!(!older.exists() && file.exists());
}

/// With a token, `-vv` shows the REST answers of the sign-in too, and `-v` each change.
#[test]
fn verbose_shows_rest_answers_and_each_change() {
    let emu = emulator();
    let state = tempfile::tempdir().unwrap();
    let id = tasks(&emu)
        .into_iter()
        .find(|t| t["siteId"] == site_id(&emu, "").as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_dir, script) = script_file(&format!(r#"set_extract_tasks_priority("{id}", 9);"#));
    let (code, _, err) = run(with_token(&emu, state.path()), &["run", &script, "-vv"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("auth/signin: HTTP 200"), "{err}");
    let (code, _, err) = run(with_token(&emu, state.path()), &["run", &script, "-v"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("setExtractTasksPriority: applied (1 id(s))"),
        "{err}"
    );
    assert!(
        !err.contains("auth/signin: HTTP"),
        "-v shows no answers: {err}"
    );
}

/// Empty variables left in a shell (`TABLEAU_SESSION_ID=`, `TABLEAU_PAT_NAME=`) give
/// nothing: the saved session is used.
#[test]
fn empty_session_id_and_token_name_variables_count_as_not_set() {
    let emu = emulator();
    let state = tempfile::tempdir().unwrap();
    save_session(&emu, state.path());
    let mut cmd = bare(&emu, state.path());
    cmd.env("TABLEAU_SESSION_ID", "")
        .env("TABLEAU_PAT_NAME", "");
    let (code, out, err) = run(cmd, &["call", "getSessionInfo"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"username\": \"admin\""), "{out}");
}

/// An empty TABLEAU_SERVER leaves the server to the profile, and `config show` names the
/// profile as its source.
#[test]
fn an_empty_variable_leaves_the_setting_to_the_profile() {
    let emu = emulator();
    let state = tempfile::tempdir().unwrap();
    let config = state.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[profiles.p]\nserver = \"{}\"\nusername = \"admin\"\n",
            emu.url()
        ),
    )
    .unwrap();
    let command = || {
        let mut cmd = bare(&emu, state.path());
        cmd.env("VIZSCRIPT_CONFIG", &config)
            .env("TABLEAU_SERVER", "")
            .env("TABLEAU_USERNAME", "")
            .env("TABLEAU_PASSWORD", "admin");
        cmd
    };
    let (code, out, err) = run(command(), &["call", "getSessionInfo", "--profile", "p"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"username\": \"admin\""), "{out}");
    let (code, out, err) = run(command(), &["config", "show", "--profile", "p"]);
    assert_eq!(code, 0, "{err}");
    let server = out.lines().find(|l| l.starts_with("server")).unwrap();
    assert!(server.contains("profile p"), "{out}");
}

/// A session id pasted with other cookies (`id; other=x`) is refused without echoing it,
/// instead of being cut at the `;` and sent.
#[test]
fn a_session_id_holding_more_than_a_cookie_value_is_refused_unshown() {
    let emu = emulator();
    let state = tempfile::tempdir().unwrap();
    let mut cmd = bare(&emu, state.path());
    cmd.env("TABLEAU_SESSION_ID", "Sess-Secret-7; XSRF-TOKEN=abc");
    let (code, _, err) = run(cmd, &["call", "getSessionInfo"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("the workgroup_session_id cookie alone"),
        "{err}"
    );
    assert!(!err.contains("Sess-Secret-7"), "{err}");
    assert_eq!(count(&emu, "getSessionInfo"), 0, "nothing sent");
}

/// `login --save` again ends the session it replaces on the server: it had stayed open,
/// usable by anyone holding its cookie, until it expired.
#[test]
fn saving_a_session_again_ends_the_one_it_replaces() {
    let emu = emulator();
    let state = tempfile::tempdir().unwrap();
    let path = save_session(&emu, state.path());
    let first: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let again = save_session(&emu, state.path());
    assert_eq!(again, path);
    let mut cmd = bare(&emu, state.path());
    cmd.env("TABLEAU_SESSION_ID", first["sessionId"].as_str().unwrap())
        .env("TABLEAU_XSRF_TOKEN", first["xsrfToken"].as_str().unwrap());
    let (code, _, err) = run(cmd, &["call", "getSessionInfo"]);
    assert_eq!(code, 3, "the replaced session no longer works: {err}");
    let (code, _, err) = run(bare(&emu, state.path()), &["call", "getSessionInfo"]);
    assert_eq!(code, 0, "the new one does: {err}");
}

//! The binary against the emulator over HTTPS with a private test CA: refused without
//! `--ca-cert` (exit 4, naming the fix), trusted with it, and accepted with `--insecure`
//! which warns.

use vizscript::emulator::TlsIdentity;

use crate::support::*;

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/tls/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn https_emulator() -> vizscript::emulator::Emulator {
    let cert = std::fs::read(fixture("server.pem")).unwrap();
    let key = std::fs::read(fixture("server.key")).unwrap();
    let identity = TlsIdentity::from_pem(&cert, &key).unwrap();
    emulator_with(|c| c.tls = Some(identity))
}

#[test]
fn an_untrusted_certificate_is_refused_with_the_fix_named() {
    let emu = https_emulator();
    assert!(emu.url().starts_with("https://"));
    let (code, out, err) = run(vizscript(&emu), &["call", "getSessionInfo"]);
    assert_eq!(code, 4, "{err}");
    assert!(out.is_empty());
    assert!(
        err.contains("certificate") && err.contains("--ca-cert"),
        "{err}"
    );
    assert_eq!(
        emu.stats().by_method.get("login"),
        None,
        "no password was sent"
    );
}

#[test]
fn a_token_sign_in_to_an_untrusted_server_names_the_fix_too() {
    let emu = https_emulator();
    let mut cmd = vizscript(&emu);
    cmd.env_remove("TABLEAU_USERNAME")
        .env_remove("TABLEAU_PASSWORD")
        .env("TABLEAU_PAT_NAME", vizscript::emulator::SAMPLE_TOKEN.0)
        .env("TABLEAU_PAT_SECRET", vizscript::emulator::SAMPLE_TOKEN.1);
    let (code, _, err) = run(cmd, &["call", "getSessionInfo"]);
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("not trusted") && err.contains("--ca-cert"),
        "{err}"
    );
}

#[test]
fn the_private_ca_is_trusted_with_ca_cert() {
    let emu = https_emulator();
    let (code, out, err) = run(
        vizscript(&emu),
        &["call", "getSessionInfo", "--ca-cert", &fixture("ca.pem")],
    );
    assert_eq!(code, 0, "{err}");
    signed_in_as_admin(&emu, &out);
    assert!(!err.contains("warning"), "{err}");
    let mut cmd = vizscript(&emu);
    cmd.env("TABLEAU_CA_CERT", fixture("ca.pem"));
    let (code, _, err) = run(cmd, &["call", "getSessionInfo"]);
    assert_eq!(code, 0, "TABLEAU_CA_CERT works too: {err}");
}

#[test]
fn insecure_connects_and_warns() {
    let emu = https_emulator();
    let (code, out, err) = run(vizscript(&emu), &["call", "getSessionInfo", "--insecure"]);
    assert_eq!(code, 0, "{err}");
    signed_in_as_admin(&emu, &out);
    assert!(err.contains("warning: --insecure"), "{err}");
}

#[test]
fn an_http_server_redirecting_to_https_is_not_followed_but_named() {
    let emu = https_emulator();
    // Same host, another scheme and port: as a server that sends plain HTTP to its HTTPS
    // address. Its Secure cookies would not be sent back to the http:// URL, so the fix
    // is to name the https:// address.
    let moved = format!("{}/vizportal/api/web/v1/moved", emu.url());
    let http = fake_server(307, "text/html", "", &[("Location", moved.as_str())]);
    let mut cmd = vizscript(&emu);
    cmd.env("TABLEAU_SERVER", &http.url);
    let (code, _, err) = run(
        cmd,
        &["call", "getSessionInfo", "--ca-cert", &fixture("ca.pem")],
    );
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains(&format!("redirects to another server ({})", emu.url())),
        "{err}"
    );
    assert!(err.contains("pass it as --server"), "{err}");
    assert!(
        !emu.calls().iter().any(|c| c.method == "login"),
        "nothing reached the https:// server"
    );
}

#[test]
fn a_file_that_is_not_a_certificate_is_a_usage_error() {
    let emu = https_emulator();
    let (code, _, err) = run(
        vizscript(&emu),
        &["call", "getSessionInfo", "--ca-cert", &fixture("README.md")],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--ca-cert"), "{err}");
}

/// `call getSessionInfo` printed admin's session, and the emulator answered it over TLS.
fn signed_in_as_admin(emu: &vizscript::emulator::Emulator, out: &str) {
    let info: serde_json::Value = serde_json::from_str(out).expect("JSON on stdout");
    assert_eq!(info["user"]["username"], "admin", "{out}");
    let calls = emu.calls();
    let answered = calls
        .iter()
        .find(|c| c.method == "getSessionInfo")
        .expect("the call reached the emulator");
    assert_eq!(
        (answered.status, answered.session_user.as_deref()),
        (200, Some("admin"))
    );
}

#[test]
fn a_url_with_the_wrong_scheme_for_the_port_says_which_to_use() {
    let tls = https_emulator();
    let plain = emulator();
    for (url, fix) in [
        (
            tls.url().replace("https://", "http://"),
            "use an https:// URL",
        ),
        (
            plain.url().replace("http://", "https://"),
            "use an http:// URL",
        ),
    ] {
        let mut cmd = vizscript(&plain);
        cmd.env("TABLEAU_SERVER", &url);
        let (code, _, err) = run(cmd, &["call", "getSessionInfo"]);
        assert_eq!(code, 4, "{url}: {err}");
        assert!(err.contains(fix), "{url}: {err}");
        assert!(!err.contains("retrying"), "no retry can help: {err}");
    }
}

#[test]
fn a_server_presenting_a_ca_certificate_as_its_own_is_told_apart() {
    let cert = std::fs::read(fixture("self_ca.pem")).unwrap();
    let key = std::fs::read(fixture("self_ca.key")).unwrap();
    let identity = TlsIdentity::from_pem(&cert, &key).unwrap();
    let emu = emulator_with(|c| c.tls = Some(identity));
    let (code, _, err) = run(
        vizscript(&emu),
        &[
            "call",
            "getSessionInfo",
            "--ca-cert",
            &fixture("self_ca.pem"),
        ],
    );
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("presents a CA certificate as its own"),
        "{err}"
    );
}

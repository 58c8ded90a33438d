//! Every row of the exit-code table, for `run`, piped `repl` and `call`: the code comes
//! from one place, so the three commands agree, including when an answer stops being the
//! Vizportal API in the middle of a script.

use vizscript::emulator::{Emulator, Faults};

use crate::support::*;

/// The three commands doing the same thing: `code` as a script, as piped REPL input, and
/// (for `call`) the method and params.
struct Case<'a> {
    code: &'a str,
    call: (&'a str, &'a str),
}

/// Exit codes of `run`, piped `repl` and `call` for one case, with their stderr.
fn codes(emu: &Emulator, case: &Case, env: &[(&str, &str)], extra: &[&str]) -> [(i32, String); 3] {
    let (_dir, path) = script_file(case.code);
    let command = |args: Vec<&str>, stdin: Option<&str>| {
        let mut cmd = vizscript(emu);
        for (k, v) in env {
            cmd.env(k, v);
        }
        if let Some(input) = stdin {
            cmd.write_stdin(input.to_string());
        }
        let mut all = args;
        all.extend_from_slice(extra);
        let (code, _, err) = run(cmd, &all);
        (code, err)
    };
    [
        command(vec!["run", &path], None),
        command(vec!["repl"], Some(&format!("{}\n", case.code))),
        command(vec!["call", case.call.0, case.call.1], None),
    ]
}

fn assert_all(results: &[(i32, String); 3], expected: i32, mentions: &str) {
    for ((code, err), command) in results.iter().zip(["run", "repl", "call"]) {
        assert_eq!(*code, expected, "{command}: {err}");
        assert!(
            err.contains(mentions),
            "{command} should mention {mentions:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{command}: {err}");
    }
}

#[test]
fn zero_when_everything_succeeds() {
    let emu = emulator();
    let case = Case {
        code: "session_info().user.username",
        call: ("getSessionInfo", "{}"),
    };
    assert_all(&codes(&emu, &case, &[], &[]), 0, "");
}

#[test]
fn one_when_a_call_fails_or_the_script_throws() {
    let emu = emulator();
    let failing = Case {
        code: r#"vizportal("runExtractTasks", #{ ids: ["no-such-task"] })"#,
        call: ("runExtractTasks", r#"{"ids": ["no-such-task"]}"#),
    };
    assert_all(&codes(&emu, &failing, &[], &[]), 1, "code");
    let thrown = Case {
        code: r#"throw "stop here""#,
        call: ("getSessionInfo", "{}"),
    };
    let [run, repl, _] = codes(&emu, &thrown, &[], &[]);
    assert_eq!(run.0, 1, "{}", run.1);
    assert_eq!(repl.0, 1, "{}", repl.1);
    assert!(run.1.contains("stop here"), "{}", run.1);
}

#[test]
fn two_for_usage_errors() {
    let emu = emulator();
    let case = Case {
        code: "1",
        call: ("getSessionInfo", "{}"),
    };
    for flag in ["--concurrency", "--chunk-size", "--page-size"] {
        let results = codes(&emu, &case, &[], &[flag, "0"]);
        assert_all(&results, 2, "at least 1");
    }
    let (_dir, path) = script_file("let x = ;");
    let (code, _, err) = run(vizscript(&emu), &["run", &path]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("test.rhai:1:"), "{err}");
    let (code, _, err) = run(vizscript(&emu), &["call", "getSessionInfo", "[1]"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(vizscript(&emu), &["emulator", "--fail-rate", "1.5"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("between 0 and 1"), "{err}");
}

#[test]
fn three_when_the_login_fails() {
    let emu = emulator();
    let case = Case {
        code: "1",
        call: ("getSessionInfo", "{}"),
    };
    let bad_password = codes(&emu, &case, &[("TABLEAU_PASSWORD", "wrong")], &[]);
    assert_all(&bad_password, 3, "rejected the username or password");
    let unknown_site = codes(&emu, &case, &[("TABLEAU_SITE", "atlantis")], &[]);
    assert_all(&unknown_site, 3, "atlantis");
}

#[test]
fn four_when_the_server_is_unreachable() {
    // A port bound but not listening for the whole test: connecting is refused, and no
    // server started meanwhile can be given it.
    let held =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("a socket");
    let any_port: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    held.bind(&any_port.into()).expect("a free port");
    let port = held
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .expect("its address")
        .port();
    let emu = emulator();
    let case = Case {
        code: "1",
        call: ("getSessionInfo", "{}"),
    };
    let url = format!("http://127.0.0.1:{port}");
    let env = [("TABLEAU_SERVER", url.as_str())];
    assert_all(
        &codes(&emu, &case, &env, &["--retries", "0"]),
        4,
        "hint: check --server",
    );
}

#[test]
fn four_when_the_server_stays_unavailable() {
    // Every call answered 503 (as while a server restarts): after the retries, sign-in
    // gives up with the code of a server that cannot be reached, not a failed call.
    let emu = emulator();
    emu.set_faults(Faults {
        fail_rate: 1.0,
        ..Faults::default()
    });
    let case = Case {
        code: "1",
        call: ("getSessionInfo", "{}"),
    };
    let results = codes(&emu, &case, &[], &["--retries", "1"]);
    assert_all(&results, 4, "HTTP 503");
    for (_, err) in &results {
        assert!(err.contains("hint: check --server"), "{err}");
    }
    assert_eq!(emu.stats().by_method.get("login"), None, "never got as far");
}

#[test]
fn four_when_an_answer_stops_being_vizportal_in_the_middle() {
    let emu = emulator();
    emu.set_faults(Faults {
        html_for_methods: vec!["getSchedules".into()],
        ..Faults::default()
    });
    let case = Case {
        code: "let me = session_info();\nschedules().len()",
        call: ("getSchedules", "{}"),
    };
    let results = codes(&emu, &case, &[], &[]);
    assert_all(&results, 4, "not the Vizportal API");
    for (_, err) in &results {
        assert!(err.contains("hint: check --server"), "{err}");
    }
    let (run_err, repl_err) = (&results[0].1, &results[1].1);
    assert!(
        run_err.contains("test.rhai:2:"),
        "the script's line: {run_err}"
    );
    assert!(repl_err.contains("<repl>:1:"), "the input line: {repl_err}");
}

#[test]
fn a_caught_error_does_not_decide_the_exit_code() {
    let emu = emulator();
    emu.set_faults(Faults {
        html_for_methods: vec!["getSchedules".into()],
        ..Faults::default()
    });
    let (_dir, path) = script_file(
        r#"let kind = "none";
try { schedules(); } catch (e) { kind = `${e.kind} ${e.method}`; }
print(kind);"#,
    );
    let (code, out, err) = run(vizscript(&emu), &["run", &path]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "http getSchedules");
}

#[test]
fn a_script_that_calls_exit_ends_with_its_code() {
    let emu = emulator();
    let (_dir, path) = script_file(
        r#"let n = schedules().len();
print(n > 0);
try { exit(3); } catch (e) { print("caught"); }
print("not reached");"#,
    );
    let (code, out, err) = run(vizscript(&emu), &["run", &path]);
    assert_eq!(code, 3, "{err}");
    assert_eq!(out, "true\n", "exit ends the script at once, uncaught");
    assert!(err.contains("the script called exit(3)"), "{err}");

    let (_dir, path) = script_file("print(1);\nexit();\nprint(2);");
    let (code, out, err) = run(vizscript(&emu), &["run", &path]);
    assert_eq!((code, out.as_str()), (0, "1\n"), "{err}");

    let mut repl = vizscript(&emu);
    repl.write_stdin("1\nexit(5)\n2\n");
    let (code, out, err) = run(repl, &["repl"]);
    assert_eq!(
        (code, out.as_str()),
        (5, "1\n"),
        "the REPL ends there: {err}"
    );
    assert!(err.contains("the input called exit(5)"), "{err}");
}

/// A safety flag after `--` would be one of the script's ARGS and the run would change the
/// server: it is refused before anything is sent.
#[test]
fn a_safety_flag_after_the_double_dash_is_refused() {
    let emu = emulator();
    let (_dir, path) = script_file("set_extract_tasks_priority(extract_tasks()[0].id, 9);");
    let before = emu.state()["extractTasks"].clone();
    for flag in ["--dry-run", "--demo", "--site=finance"] {
        let (code, _, err) = run(vizscript(&emu), &["run", &path, "--", "48", flag]);
        assert_eq!(code, 2, "{flag}: {err}");
        assert!(err.contains("put it before --"), "{err}");
    }
    assert_eq!(emu.state()["extractTasks"], before);
    assert!(emu.calls().is_empty(), "nothing was sent");
}

/// A misspelt method in an emulator fault flag is refused, not quietly injected nowhere.
#[test]
fn an_emulator_fault_on_a_method_it_does_not_have_is_refused() {
    for flag in ["--html-for", "--fail-only", "--reset-only", "--hide-method"] {
        let cmd = assert_cmd::Command::cargo_bin("vizscript").unwrap();
        let (code, _, err) = run(cmd, &["emulator", "--port", "0", flag, "getSchedulez"]);
        assert_eq!(code, 2, "{flag}: {err}");
        assert!(
            err.contains("the emulator has no such method"),
            "{flag}: {err}"
        );
    }
}

/// A result cut short because standard output could not take it (a full disk) is a
/// failure, not exit 0; a reader that left (`| head -1`) is not.
#[cfg(target_os = "linux")]
#[test]
fn output_that_cannot_be_written_fails_the_command() {
    let emu = emulator();
    let (_dir, path) = script_file("print(schedules().len());");
    let command = |args: &[&str], stdout: std::process::Stdio| {
        let binary = assert_cmd::cargo::cargo_bin("vizscript");
        let mut command = std::process::Command::new(binary);
        command
            .env_clear()
            .env("TABLEAU_SERVER", emu.url())
            .env("TABLEAU_USERNAME", "admin")
            .env("TABLEAU_PASSWORD", "admin")
            .args(args)
            .stdout(stdout)
            .stderr(std::process::Stdio::piped());
        command
    };
    let full = || {
        let file = std::fs::OpenOptions::new().write(true).open("/dev/full");
        std::process::Stdio::from(file.expect("/dev/full"))
    };
    for args in [
        &["call", "getSchedules"][..],
        &["run", &path],
        &["functions"],
        &["snapshot"],
    ] {
        let output = command(args, full()).output().expect("ran");
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("could not be written"), "{args:?}: {err}");
        assert!(
            !err.contains("snapshot: "),
            "no summary of a lost snapshot: {err}"
        );
    }
    // A reader that leaves early.
    let mut child = command(&["functions"], std::process::Stdio::piped())
        .spawn()
        .expect("started");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("ended");
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(err.is_empty(), "{err}");
}

/// An empty variable left in a shell (`VIZSCRIPT_AUDIT=`) counts as not set; an empty
/// flag value is a usage error, not a run without the audit it asked for.
#[test]
fn an_empty_path_variable_is_not_set_and_an_empty_flag_refused() {
    let emu = emulator();
    let (_dir, path) = script_file("\u{feff}set_extract_tasks_priority(extract_tasks()[0].id, 7);");
    let mut cmd = vizscript(&emu);
    cmd.env("VIZSCRIPT_AUDIT", "").env("TABLEAU_CA_CERT", "");
    let (code, _, err) = run(cmd, &["run", &path]);
    assert_eq!(
        code, 0,
        "a script beginning with a byte order mark runs too: {err}"
    );
    assert_eq!(
        emu.stats().by_method.get("setExtractTasksPriority"),
        Some(&1)
    );
    for flag in ["--audit", "--ca-cert"] {
        // An empty variable beside it clears only itself.
        let mut cmd = vizscript(&emu);
        cmd.env("VIZSCRIPT_AUDIT", "");
        let (code, _, err) = run(cmd, &["run", &path, flag, ""]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(&format!("{flag} needs a file name")), "{err}");
    }
    assert_eq!(
        emu.stats().by_method.get("setExtractTasksPriority"),
        Some(&1)
    );
}

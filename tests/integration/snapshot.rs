//! Snapshot, rehearsal and difference: a snapshot of one emulator (standing in for the
//! real server) loads into a second that lists identically and holds no secret; a
//! rehearsal of each example script that changes something predicts exactly what the same
//! script then does to the first emulator, which the rehearsal never reaches; `diff` of
//! two snapshots says the same.

use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde_json::{Value, json};
use vizscript::emulator::{Dataset, Emulator, EmulatorConfig};
use vizscript::vizportal::{ConnectOptions, Session};

use crate::support::*;

/// `vizscript snapshot --out DIR/NAME` against `emu`; the file's path.
fn take_snapshot(emu: &Emulator, dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let (code, _, err) = run(
        vizscript(emu),
        &["snapshot", "--out", path.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    path
}

/// The binary with no server and no credential in its environment.
fn offline() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("vizscript").expect("binary");
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("NO_PROXY", "*");
    cmd
}

fn session(emu: &Emulator, password: &str, site: &str) -> Session {
    let mut options = ConnectOptions::new(emu.url(), "admin", SecretString::from(password));
    options.site = Some(site.to_string());
    Session::open(options).expect("login")
}

/// Every list a snapshot covers, on one site, all pages merged.
fn lists(session: &Session) -> Vec<(String, Value)> {
    let methods = [
        ("getSiteNamesAcrossAllPods", "siteNames"),
        ("getSchedules", "schedules"),
        ("getExtractTasks", "tasks"),
        ("getSubscriptions", "subscriptions"),
        ("getWorkbooks", "workbooks"),
        ("getDatasources", "datasources"),
        ("getProjects", "projects"),
        ("getUsers", "users"),
    ];
    methods
        .iter()
        .map(|(method, items)| {
            let mut result = session
                .all_pages(method, &json!({}), Some(items), &|_, _| {})
                .unwrap_or_else(|e| panic!("{method}: {e}"));
            // Signing in is the one change a session makes: the admin's last sign-in.
            if let Some(Value::Array(users)) = result.get_mut("users") {
                for user in users.iter_mut().filter(|u| u["username"] == "admin") {
                    user.as_object_mut().unwrap().remove("lastSignIn");
                }
            }
            (method.to_string(), Value::Object(result))
        })
        .collect()
}

#[test]
fn a_snapshot_loads_into_a_second_emulator_that_lists_identically() {
    let first = emulator();
    let dir = tempfile::tempdir().unwrap();
    let path = take_snapshot(&first, dir.path(), "server.json");
    let methods: Vec<String> = first.stats().by_method.keys().cloned().collect();
    let session_calls = ["generatePublicKey", "login", "switchSite", "logout"];
    assert!(
        methods
            .iter()
            .all(|m| m.starts_with("get") || session_calls.contains(&m.as_str())),
        "only reads and session calls: {methods:?}"
    );
    assert!(
        methods.iter().any(|m| m == "getExtractTasks"),
        "{methods:?}"
    );
    let mut data = Dataset::load(&path).expect("the snapshot loads");
    let text = std::fs::read_to_string(&path).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(file["formatVersion"], 1);
    assert_eq!(file["snapshot"]["username"], "admin");
    // A snapshot holds no password: the test admits the admin to the copy itself.
    data.admit_rehearsal_user("admin", "copy-password");
    let second = emulator_with(|c| c.dataset = data);
    let sites = first.state()["sites"].as_array().unwrap().clone();
    assert_eq!(sites.len(), 3);
    for site in &sites {
        let url = site["urlName"].as_str().unwrap();
        let want = lists(&session(&first, "admin", url));
        let got = lists(&session(&second, "copy-password", url));
        for ((method, want), (_, got)) in want.iter().zip(&got) {
            assert_eq!(want, got, "{method} on site {url:?}");
        }
    }
}

#[test]
fn a_snapshot_holds_no_secret() {
    let mut data = Dataset::sample(&vizscript::emulator::SampleSpec::default()).to_json();
    for (n, user) in data["users"].as_array_mut().unwrap().iter_mut().enumerate() {
        user["password"] = json!(format!("Pw{n}-zq81-Secret"));
    }
    let passwords: Vec<String> = data["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["password"].as_str().unwrap().to_string())
        .collect();
    let tokens: Vec<String> = data["accessTokens"]
        .as_array()
        .map(|t| {
            t.iter()
                .map(|t| t["secret"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    let emu = emulator_with(|c| c.dataset = Dataset::from_json(data).unwrap());
    let admin = passwords[0].clone();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.json");
    let mut cmd = vizscript(&emu);
    cmd.env("TABLEAU_PASSWORD", &admin);
    let (code, _, err) = run(cmd, &["snapshot", "--out", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&path).unwrap();
    let secrets: Vec<String> = emu
        .issued_secrets()
        .into_iter()
        .chain(passwords)
        .chain(tokens)
        .collect();
    assert!(secrets.len() > 3, "{secrets:?}");
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "the snapshot holds a secret"
        );
        assert!(!err.contains(secret.as_str()), "stderr shows a secret");
    }
    assert!(!text.contains("\"password\""), "users carry no password");
}

/// An example script and its arguments, on data that gives it something to do.
struct Case {
    script: &'static str,
    args: Vec<String>,
    data: Dataset,
    /// Whether the script changes something (report.rhai only reads).
    changes: bool,
}

fn examples(dir: &Path) -> Vec<Case> {
    let window = dir.join("window.json").display().to_string();
    let strings = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        Case {
            script: "rebalance.rhai",
            args: vec![],
            data: one_site(300, 8),
            changes: true,
        },
        Case {
            script: "move_tasks.rhai",
            args: strings(&["1", "3", "targetType=Workbook"]),
            data: one_site(200, 6),
            changes: true,
        },
        Case {
            script: "prioritize.rhai",
            args: strings(&["s*", "7"]),
            data: one_site(200, 6),
            changes: true,
        },
        Case {
            script: "maintenance_window.rhai",
            args: vec!["off".into(), "".into(), window],
            data: one_site(100, 6),
            changes: true,
        },
        Case {
            script: "run_stale.rhai",
            args: strings(&["48"]),
            data: clear_of_age(one_site(100, 6), 48),
            changes: true,
        },
        Case {
            script: "spread_peak.rhai",
            args: strings(&["60"]),
            data: one_site(300, 8),
            changes: true,
        },
        Case {
            script: "refresh_and_wait.rhai",
            args: strings(&["48", "60"]),
            data: clear_of_age(one_site(60, 4), 48),
            changes: true,
        },
        Case {
            script: "report.rhai",
            args: vec![],
            data: one_site(100, 6),
            changes: false,
        },
    ]
}

/// `run SCRIPT -- ARGS` with extra flags before the `--`.
fn run_args<'a>(script: &'a str, flags: &[&'a str], args: &'a [String]) -> Vec<&'a str> {
    let mut all = vec!["run", script];
    all.extend_from_slice(flags);
    all.push("--");
    all.extend(args.iter().map(String::as_str));
    all
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The difference between two emulator states, as `vizscript diff` computes it.
fn diff_files(dir: &Path, before: &Value, after: &Value, name: &str) -> (String, Value) {
    let (b, a, out) = (
        dir.join(format!("{name}-before.json")),
        dir.join(format!("{name}-after.json")),
        dir.join(format!("{name}-diff.json")),
    );
    std::fs::write(&b, before.to_string()).unwrap();
    std::fs::write(&a, after.to_string()).unwrap();
    let (code, text, err) = run(
        offline(),
        &[
            "diff",
            b.to_str().unwrap(),
            a.to_str().unwrap(),
            "--diff-json",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    (text, read_json(&out))
}

#[test]
fn a_rehearsal_predicts_what_each_example_script_does() {
    let dir = tempfile::tempdir().unwrap();
    for case in examples(dir.path()) {
        let name = case.script;
        let emu = emulator_with(|c| c.dataset = case.data);
        let snapshot = take_snapshot(&emu, dir.path(), &format!("{name}.json"));
        let script = example(name);
        let predicted = dir.path().join(format!("{name}-rehearsal.json"));
        let requests = emu.stats().requests;
        let flags = ["--rehearse", snapshot.to_str().unwrap(), "--diff-json"];
        let mut flags = flags.to_vec();
        flags.push(predicted.to_str().unwrap());
        let (code, _, err) = run(offline(), &run_args(&script, &flags, &case.args));
        assert_eq!(code, 0, "{name} rehearsal: {err}");
        assert!(
            err.contains("rehearsal: what the run would change"),
            "{err}"
        );
        assert_eq!(
            emu.stats().requests,
            requests,
            "{name}: no request reaches the server during a rehearsal"
        );
        let predicted = read_json(&predicted);

        // A rehearsal runs the whole script: what it writes locally (the maintenance
        // window's state file) it writes; the real run starts without it.
        let _ = std::fs::remove_file(dir.path().join("window.json"));
        let before = emu.state();
        let (code, _, err) = run(vizscript(&emu), &run_args(&script, &[], &case.args));
        assert_eq!(code, 0, "{name}: {err}");
        let (_, actual) = diff_files(dir.path(), &before, &emu.state(), name);
        assert_eq!(predicted, actual, "{name}: the rehearsal predicted the run");
        let changed = [
            "tasksMoved",
            "prioritiesChanged",
            "tasksRun",
            "schedulesDisabled",
        ]
        .iter()
        .any(|k| {
            actual[*k].as_array().is_some_and(|a| !a.is_empty())
                || actual[*k].as_object().is_some_and(|o| !o.is_empty())
        });
        assert_eq!(changed, case.changes, "{name} changes something: {actual}");
    }
}

#[test]
fn diff_of_two_snapshots_names_the_moves() {
    let emu = emulator_with(|c| c.dataset = one_site(300, 8));
    let dir = tempfile::tempdir().unwrap();
    let first = take_snapshot(&emu, dir.path(), "before.json");
    let before = emu.state();
    let (code, _, err) = run(vizscript(&emu), &["run", &example("rebalance.rhai")]);
    assert_eq!(code, 0, "{err}");
    let second = take_snapshot(&emu, dir.path(), "after.json");
    let json_out = dir.path().join("diff.json");
    let (code, text, err) = run(
        offline(),
        &[
            "diff",
            first.to_str().unwrap(),
            second.to_str().unwrap(),
            "--diff-json",
            json_out.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("different servers"), "{err}");
    let from_snapshots = read_json(&json_out);
    let (_, from_states) = diff_files(dir.path(), &before, &emu.state(), "states");
    assert_eq!(from_snapshots, from_states);
    let moved: u64 = from_snapshots["tasksMoved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["count"].as_u64().unwrap())
        .sum();
    assert!(moved > 0);
    assert!(
        text.contains(&format!("extract tasks moved: {moved}")),
        "{text}"
    );
    assert!(
        text.contains("extract tasks per schedule (before -> after):"),
        "{text}"
    );
    let (code, text, _) = run(
        offline(),
        &["diff", first.to_str().unwrap(), first.to_str().unwrap()],
    );
    assert_eq!((code, text.as_str()), (0, "no changes\n"));
    // A snapshot of another server: the difference is said to compare unrelated data.
    let other = emulator_with(|c| c.dataset = one_site(300, 8));
    let elsewhere = take_snapshot(&other, dir.path(), "elsewhere.json");
    let (code, _, err) = run(
        offline(),
        &["diff", first.to_str().unwrap(), elsewhere.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("note: the snapshots come from different servers"),
        "{err}"
    );
}

#[test]
fn rehearse_works_with_all_sites_and_never_reaches_the_server() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let snapshot = take_snapshot(&emu, dir.path(), "server.json");
    let state = emu.state();
    let requests = emu.stats().requests;
    let (_guard, script) = script_file(
        r#"let t = extract_tasks();
        if t.len() > 0 { set_extract_tasks_priority([t[0].id], 3); }
        print(`${session_info().site.urlName}: ${t.len()}`);"#,
    );
    let predicted = dir.path().join("diff.json");
    let (code, out, err) = run(
        offline(),
        &[
            "run",
            &script,
            "--all-sites",
            "--rehearse",
            snapshot.to_str().unwrap(),
            "--diff-json",
            predicted.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("── site"), "{out}");
    assert_eq!(emu.stats().requests, requests);
    assert_state("the server after a rehearsal", &state, &emu.state());
    let changed: u64 = read_json(&predicted)["prioritiesChanged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["count"].as_u64().unwrap())
        .sum();
    let sites_with_tasks = state["sites"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            state["extractTasks"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["siteId"] == s["id"] && t["priority"] != 3)
        })
        .count() as u64;
    assert_eq!(changed, sites_with_tasks, "{err}");
}

#[test]
fn a_rehearsal_needs_no_credential_and_lands_on_the_snapshots_site() {
    let emu = emulator_with(|c: &mut EmulatorConfig| c.dataset = one_site(20, 4));
    let dir = tempfile::tempdir().unwrap();
    let snapshot = take_snapshot(&emu, dir.path(), "server.json");
    let (_guard, script) =
        script_file(r#"print(session_info().user.username + "@" + session_info().site.urlName);"#);
    let (code, out, err) = run(
        offline(),
        &["run", &script, "--rehearse", snapshot.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    let site = &emu.state()["sites"][0]["urlName"];
    assert_eq!(out.trim(), format!("admin@{}", site.as_str().unwrap()));
    assert!(err.contains("no changes"), "{err}");
}

#[test]
fn an_old_snapshot_rehearses_without_its_schedules_firing() {
    let emu = emulator_with(|c: &mut EmulatorConfig| c.dataset = one_site(40, 6));
    let dir = tempfile::tempdir().unwrap();
    let snapshot = take_snapshot(&emu, dir.path(), "server.json");
    // Taken a day ago: every next run time it shows has passed.
    let mut old = read_json(&snapshot);
    let passed = (chrono::Utc::now() - chrono::TimeDelta::days(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, false);
    let schedules = old["schedules"].as_array_mut().unwrap();
    for s in schedules.iter_mut().filter(|s| s["enabled"] == true) {
        s["runNextAt"] = passed.clone().into();
    }
    assert!(!schedules.is_empty());
    std::fs::write(&snapshot, old.to_string()).unwrap();
    let (_guard, script) = script_file(r#"print(extract_tasks().len());"#);
    let (code, out, err) = run(
        offline(),
        &["run", &script, "--rehearse", snapshot.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "40");
    assert!(err.contains("no changes"), "{err}");
}

#[test]
fn repl_rehearses_piped_input_and_prints_the_difference() {
    let emu = emulator_with(|c| c.dataset = one_site(20, 4));
    let dir = tempfile::tempdir().unwrap();
    let snapshot = take_snapshot(&emu, dir.path(), "server.json");
    let requests = emu.stats().requests;
    let mut cmd = offline();
    cmd.write_stdin("disable_schedules([\"1\"]);\n");
    let (code, _, err) = run(cmd, &["repl", "--rehearse", snapshot.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let name = emu.state()["schedules"][0]["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        err.contains(&format!("schedules disabled: \"{name}\" [1]")),
        "{err}"
    );
    assert_eq!(emu.stats().requests, requests);
    assert_eq!(emu.state()["schedules"][0]["enabled"], true);
}

/// A rehearsal writing to the audit file of real runs (`VIZSCRIPT_AUDIT` set for good)
/// marks its lines, and `undo` leaves them out instead of refusing the file.
#[test]
fn a_rehearsals_audit_lines_are_marked_and_left_out_by_undo() {
    let emu = emulator_with(|c: &mut EmulatorConfig| c.dataset = one_site(20, 4));
    let dir = tempfile::tempdir().unwrap();
    let snapshot = take_snapshot(&emu, dir.path(), "server.json");
    let audit = dir.path().join("audit.jsonl");
    let before = tasks(&emu);
    let (_guard, script) =
        script_file("set_extract_tasks_priority(extract_tasks().map(|t| t.id), 7);");
    let mut rehearse = offline();
    rehearse.env("VIZSCRIPT_AUDIT", &audit);
    let (code, _, err) = run(
        rehearse,
        &["run", &script, "--rehearse", snapshot.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    let mut real = vizscript(&emu);
    real.env("VIZSCRIPT_AUDIT", &audit);
    let (code, _, err) = run(real, &["run", &script]);
    assert_eq!(code, 0, "{err}");
    let lines = audit_lines(&audit);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["rehearsal"], snapshot.to_str().unwrap());
    assert!(lines[1].get("rehearsal").is_none(), "{lines:?}");

    let (code, _, err) = run(vizscript(&emu), &["undo", audit.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("1 line(s) of"), "{err}");
    assert!(err.contains("record rehearsals"), "{err}");
    assert_eq!(tasks(&emu), before, "{err}");
}

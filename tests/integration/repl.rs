//! The REPL through piped stdin (results only) and through the library (state kept across
//! an expired session).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::SecretString;
use serde_json::Value;
use vizscript::repl::Repl;
use vizscript::script::{Limits, Output};
use vizscript::vizportal::{Client, ConnectOptions, RetryPolicy, Session};

use crate::support::*;

fn piped(emu: &vizscript::emulator::Emulator, input: &str) -> (i32, String, String) {
    let mut cmd = vizscript(emu);
    cmd.write_stdin(input.to_string());
    run(cmd, &["repl", "--site", ""])
}

#[test]
fn piped_expression_prints_just_the_result() {
    let emu = emulator();
    let (code, out, err) = piped(&emu, "schedules().map(|s| s.id)\n");
    assert_eq!(code, 0, "{err}");
    let mut listed: Vec<String> = serde_json::from_str(&out).expect("only the result, as JSON");
    listed.sort();
    let mut all: Vec<String> = schedules(&emu)
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    all.sort();
    assert_eq!(listed, all);
}

#[test]
fn multi_line_input_functions_and_the_last_result_persist() {
    let emu = emulator();
    let input = "fn double(x) {\n  x * 2\n}\nlet n = double(20);\nn + 1\n_ + 1\ndouble(_)\n\
                 `twice ${_ / 2} is ${_}`\n:scope\n";
    let (code, out, err) = piped(&emu, input);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[..4], ["41", "42", "84", "twice 42 is 84"], "{out}");
    assert!(
        lines.contains(&"let _: string = \"twice 42 is 84\""),
        ":scope names the last result as it is typed: {out}"
    );
}

#[test]
fn errors_are_reported_and_the_session_goes_on() {
    let emu = emulator();
    let input = "let x = ;\nprint(\"open);\nlet y = 2;\ny * 3\nnope(1)\n:bogus\nfn f() {\n  y\n";
    let (code, out, err) = piped(&emu, input);
    assert_eq!(code, 1, "piped input with errors exits 1");
    assert_eq!(
        out, "6\n",
        "a string left open does not swallow the lines after it"
    );
    assert!(err.contains("not terminated"), "{err}");
    assert!(
        err.contains("<repl>:1:") && err.contains("syntax error"),
        "{err}"
    );
    assert!(err.contains("nope"), "{err}");
    assert!(err.contains("unknown command :bogus"), "{err}");
    assert!(
        err.contains("the input ended with `{` from line 7 still open (close it with `}`)"),
        "an unfinished input at the end names what is open: {err}"
    );
}

#[test]
fn an_input_stopped_for_its_memory_is_dropped_and_the_session_goes_on() {
    let emu = emulator();
    let mut cmd = vizscript(&emu);
    cmd.write_stdin("let s = \"x\"; loop { s += s; }\nlet t = \"y\"; t += t; t\n");
    let (code, out, err) = run(cmd, &["repl", "--max-memory", "64"]);
    assert_eq!(code, 1, "the first input failed: {err}");
    assert!(err.contains("data grew too large"), "{err}");
    assert!(
        err.contains("note: the input failed, so what it defined is dropped: s"),
        "what it grew is freed with it: {err}"
    );
    assert_eq!(out, "yy\n", "later inputs run: {err}");
}

#[test]
fn help_on_a_command_shows_its_line() {
    let emu = emulator();
    let (code, out, err) = piped(&emu, ":help :site\n");
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with(":site [URLNAME]"), "{out}");
    let (code, _, err) = piped(&emu, ":help :nope\n");
    assert_eq!(code, 1);
    assert!(err.contains("no REPL command :nope"), "{err}");
}

#[test]
fn dry_run_and_plan_hold_back_mutations() {
    let emu = emulator();
    let site = site_id(&emu, "");
    let task = tasks(&emu)
        .into_iter()
        .find(|t| t["siteId"] == site.as_str())
        .unwrap();
    let id = task["id"].as_str().unwrap();
    let new_priority = if task["priority"] == 5 { 6 } else { 5 };
    let input = format!(
        ":dry-run on\nlet r = set_extract_tasks_priority(\"{id}\", {new_priority});\nr.dry_run\n:plan\n"
    );
    let (before, since) = (emu.state(), now_stamp());
    let (code, out, err) = piped(&emu, &input);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("dry-run on"), "a note, not a result: {err}");
    assert!(!out.contains("dry-run on"), "{out}");
    assert!(out.contains("true"), "{out}");
    assert!(out.contains("1. setExtractTasksPriority 1 ids"), "{out}");
    let after = emu.state();
    let mut expected = before;
    expect_sign_in(&mut expected, &after, "admin", &since);
    let users = expected["users"].as_array_mut().unwrap();
    let admin = users.iter_mut().find(|u| u["username"] == "admin").unwrap();
    admin["lastSiteId"] = site.as_str().into();
    assert_state(
        "nothing changed but the sign-in and its site",
        &expected,
        &after,
    );
    assert!(
        emu.calls()
            .iter()
            .all(|c| c.method != "setExtractTasksPriority"),
        "nothing was sent"
    );
}

#[test]
fn site_command_and_tables() {
    let emu = emulator();
    let (code, out, err) = piped(
        &emu,
        ":site marketing\nsession_info().site.urlName\nschedules()\n:site\n",
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("now on site"), "a note, not a result: {err}");
    assert!(out.lines().any(|line| line == "marketing"), "{out}");
    // `:site` alone says where the session is, and stays there.
    assert!(
        out.contains("on site Marketing (\"marketing\"); :site URLNAME switches"),
        "{out}"
    );
    let header = out
        .lines()
        .find(|l| l.contains(" id ") && l.contains(" name "))
        .expect("a table header");
    assert!(header.contains("scheduleType"), "{header}");
    assert!(
        out.contains(&format!("{} rows", schedules(&emu).len())),
        "{out}"
    );
}

#[test]
fn an_expired_session_keeps_the_scope() {
    let emu = emulator();
    let mut options = ConnectOptions::new(emu.url(), "admin", SecretString::from("admin"));
    options.retry = RetryPolicy {
        max_retries: 0,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(1),
    };
    let client = Arc::new(Client::new(
        Session::open(options).unwrap(),
        false,
        None,
        1000,
    ));
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    let out: Output = Arc::new(move |t: &str| sink.lock().unwrap().push(t.to_string()));
    let err: Output = Arc::new(|t: &str| panic!("unexpected error: {t}"));
    let mut repl = Repl::new(Some(client.clone()), &Limits::default(), out, err, false);
    repl.handle("let before = schedules().len();");
    emu.expire_all_sessions();
    repl.handle("before == schedules().len()");
    assert_eq!(lines.lock().unwrap().as_slice(), ["true"]);
    assert_eq!(client.session().logins(), 2);
}

#[test]
fn readme_walkthrough_is_true() {
    let readme =
        std::fs::read_to_string(format!("{}/README.md", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let start = readme
        .find("<!-- repl-walkthrough:start -->")
        .expect("walkthrough start marker");
    let end = readme
        .find("<!-- repl-walkthrough:end -->")
        .expect("walkthrough end marker");
    let block = &readme[start..end];
    let body = block
        .split("```text\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a text block");
    let mut lines = body.lines();
    assert_eq!(lines.next(), Some("$ vizscript repl --demo --site \"\""));
    let (mut input, mut expected) = (String::new(), String::new());
    for line in lines {
        match line.strip_prefix("vizscript> ") {
            Some(code) => {
                input.push_str(code);
                input.push('\n');
            }
            None => {
                expected.push_str(line);
                expected.push('\n');
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    // What a terminal shows: results (stdout) and what commands say (stderr) in the order
    // written, without the sign-in banners (`-q`).
    let shown = dir.path().join("shown.txt");
    let file = std::fs::File::create(&shown).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vizscript"))
        .args(["repl", "--demo", "--site", "", "-q"])
        .env_clear()
        .env("NO_PROXY", "*")
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let status = child.wait().unwrap();
    let out = std::fs::read_to_string(&shown).unwrap();
    assert!(status.success(), "{out}");
    // The input ends with dry-run on: leaving, the REPL shows the plan once more.
    let shown = out.get(..expected.len()).unwrap_or(&out);
    let left = out.get(expected.len()..).unwrap_or_default();
    assert_eq!(
        shown, expected,
        "README's REPL walkthrough no longer matches; update it"
    );
    assert!(
        left.starts_with("dry run on site \"\": 1 mutating call(s)"),
        "{left}"
    );
    for saved in block
        .lines()
        .filter_map(|l| l.strip_prefix("vizscript> :save "))
    {
        let script = dir.path().join(saved.trim());
        let text = std::fs::read_to_string(&script).expect("the walkthrough's :save wrote it");
        assert!(text.starts_with("// Saved by vizscript repl on "), "{text}");
    }
}

#[test]
fn load_runs_a_script_into_the_session() {
    let emu = emulator();
    let (_dir, path) = script_file("fn busiest() { schedules().len() }\nlet loaded = true;\n");
    let input = format!(":load {path}\nloaded\nbusiest()\n:load /no/such/file.rhai\n");
    let (code, out, err) = piped(&emu, &input);
    assert_eq!(code, 1, "the missing file counts as a failed input: {err}");
    assert_eq!(out, format!("true\n{}\n", schedules(&emu).len()));
    assert!(err.contains("cannot read /no/such/file.rhai"), "{err}");
}

#[test]
fn tasks_show_their_fields_in_rhai_notation_and_in_the_scope() {
    let emu = emulator();
    let input = "let t = extract_tasks();\n:fmt rhai\nt[0]\n[t[0]]\n:scope\n";
    let (code, out, err) = piped(&emu, input);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("Record"), "no Rust type name: {out}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("#{") && lines[0].contains("\"scheduleName\": "),
        "{out}"
    );
    assert!(lines[1].starts_with("[#{\"id\": "), "{out}");
    assert!(out.contains("let t: array = [#{\"id\": "), "{out}");
    let scoped = out.lines().find(|l| l.starts_with("let t: array")).unwrap();
    let count: usize = scoped
        .rsplit_once(" ...] (")
        .and_then(|(_, n)| n.strip_suffix(" items)")?.parse().ok())
        .unwrap_or_else(|| panic!("a long array says it is cut and how long it is: {scoped}"));
    assert!(count > 3, "{scoped}");
}

#[test]
fn a_saved_session_replays_on_its_site_what_the_session_did() {
    let (emu, replay) = (emulator(), emulator());
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("session.rhai");
    let input = format!(
        "schedules().len()\n\
         let s = schedules(); s[3].id\n\
         rename_schedule(_, \"Renamed by _\").id\n\
         let b = 5; throw \"boom\";\n\
         b\n\
         fn bump(x) {{ x + 1 }}\n\
         fn bump(x) {{ x + 2 }}\n\
         let t = extract_tasks()[0];\n\
         set_extract_tasks_priority(t.id, bump(1));\n\
         :site marketing\n\
         :save {}\n",
        saved.display()
    );
    let mut cmd = vizscript(&emu);
    cmd.write_stdin(input);
    let (code, _, err) = run(cmd, &["repl", "--site", "finance"]);
    assert_eq!(code, 1, "two inputs failed: {err}");
    assert!(
        err.contains("note: the input failed, so what it defined is dropped: b"),
        "{err}"
    );
    assert!(err.contains("Variable not found: b"), "b is gone: {err}");
    assert!(err.contains("note: bump() defined more than once"), "{err}");
    let text = std::fs::read_to_string(&saved).unwrap();

    // The saved script names ids of site "finance": on another site it stops first.
    let before = replay.state();
    let (code, _, err) = run(
        vizscript(&replay),
        &["run", saved.to_str().unwrap(), "--site", ""],
    );
    assert_eq!(code, 1, "{err}\n{text}");
    assert!(
        err.contains("this script was saved on site \"finance\": run it with --site \"finance\""),
        "{err}"
    );
    assert_eq!(replay.state()["schedules"], before["schedules"]);
    // On its site, on a server like the one before the session, it leaves it as the
    // session left the first.
    let args = ["run", saved.to_str().unwrap(), "--site", "finance"];
    let (code, _, err) = run(vizscript(&replay), &args);
    assert_eq!(code, 0, "{err}\n{text}");
    let rows = |emu: &vizscript::emulator::Emulator, table: &str, fields: &[&str]| {
        let state = emu.state();
        let rows: Vec<Vec<Value>> = state[table]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| fields.iter().map(|f| row[*f].clone()).collect())
            .collect();
        rows
    };
    let renamed = rows(&emu, "schedules", &["id", "name"]);
    assert!(
        renamed.iter().any(|row| row[1] == "Renamed by _"),
        "{renamed:?}"
    );
    assert_eq!(
        rows(&replay, "schedules", &["id", "name"]),
        renamed,
        "{text}"
    );
    let fields = ["id", "siteId", "priority", "scheduleId"];
    assert_eq!(
        rows(&replay, "extractTasks", &fields),
        rows(&emu, "extractTasks", &fields),
        "{text}"
    );
}

#[test]
fn a_dry_run_plan_names_the_sites_its_calls_were_planned_on() {
    let emu = emulator();
    let input = ":site finance\ndisable_schedules(\"1\")\n:site marketing\n";
    let mut cmd = vizscript(&emu);
    cmd.write_stdin(input.to_string());
    let (code, _, err) = run(cmd, &["repl", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("dry run on site \"finance\": 1 mutating call(s) held back"),
        "{err}"
    );
    let input = format!("{input}enable_schedules(\"1\")\n:plan\n");
    let mut cmd = vizscript(&emu);
    cmd.write_stdin(input);
    let (code, out, err) = run(cmd, &["repl", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    let plan: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("setEnabledStatus"))
        .collect();
    assert_eq!(plan.len(), 2, "{out}");
    assert!(
        plan[0].contains("finance") && plan[1].contains("marketing"),
        "{out}"
    );
}

#[test]
fn ctrl_c_stops_piped_input_before_the_next_input() {
    use std::io::Write as _;
    let emu = emulator_with(|c| {
        c.dataset = one_site(300, 4);
        c.faults.latency = Duration::from_millis(40);
    });
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vizscript"))
        .env("TABLEAU_SERVER", emu.url())
        .env("TABLEAU_USERNAME", "admin")
        .env("TABLEAU_PASSWORD", "admin")
        .env("NO_PROXY", "*")
        .args(["repl", "--chunk-size", "10", "--concurrency", "1"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let inputs = "let ids = extract_tasks().map(|t| t.id);\n\
                  set_extract_tasks_priority(ids, 97).succeeded.len()\n\
                  set_extract_tasks_priority(ids, 3).succeeded.len()\n\
                  print(\"last input\");\n";
    child
        .stdin
        .take()
        .unwrap()
        .write_all(inputs.as_bytes())
        .unwrap();
    let sent = |priority: i64| {
        emu.calls()
            .iter()
            .filter(|c| c.method == "setExtractTasksPriority" && c.params["priority"] == priority)
            .count()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while sent(97) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the batch never started"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    let (out, err) = interrupt(child);
    assert!(sent(97) < 30, "the rest of the batch was not sent: {err}");
    assert_eq!(sent(3), 0, "the next input did not run: {err}");
    assert!(!out.contains("last input"), "{out}");
    assert!(
        err.contains("the inputs after this one are not run"),
        "{err}"
    );
}

/// A bundled script that reads ARGS loads in the REPL as `run` would run it with no
/// arguments.
#[test]
fn a_script_reading_args_loads_in_the_repl() {
    let emu = emulator();
    let input = format!(
        ":dry-run on\n:load {}\nARGS.len()\n",
        example("rebalance.rhai")
    );
    let (code, out, err) = piped(&emu, &input);
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().any(|line| line == "0"), "{out}");
    assert!(
        emu.calls().iter().all(|c| !c.method.starts_with("set")),
        "dry-run sent nothing"
    );
}

/// An input holding the session's own password, whatever the variable is called, stays
/// out of `:history` and `:save`.
#[test]
fn an_input_holding_the_password_under_any_name_is_not_saved() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("s.rhai");
    let input = format!(
        "let harmless = \"admin\";\n1 + 1\n:history\n:save {}\n",
        saved.display()
    );
    let (code, out, err) = piped(&emu, &input);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("left out of :history and :save"), "{err}");
    let text = std::fs::read_to_string(&saved).unwrap();
    assert!(
        text.contains("1 + 1") && !text.contains("harmless"),
        "{text}"
    );
    assert!(!out.contains("harmless"), "{out}");
}

/// `:save` does not write over a file that was there before the session (someone's
/// script); a file it saved itself it saves again.
#[test]
fn save_keeps_a_file_it_did_not_write_and_updates_its_own() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let theirs = dir.path().join("theirs.rhai");
    std::fs::write(&theirs, "// someone's script\n").unwrap();
    let mine = dir.path().join("mine.rhai");
    let input = format!(
        "let a = 1;\n:save {}\n:save {}\nlet b = 2;\n:save {}\n",
        theirs.display(),
        mine.display(),
        mine.display()
    );
    let mut cmd = vizscript(&emu);
    cmd.write_stdin(input);
    let (code, _, err) = run(cmd, &["repl"]);
    assert_eq!(code, 1, "the refused :save counts as a failed input: {err}");
    assert!(
        err.contains("exists and this session did not save it"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&theirs).unwrap(),
        "// someone's script\n"
    );
    let saved = std::fs::read_to_string(&mine).unwrap();
    assert!(
        saved.contains("let a = 1;") && saved.contains("let b = 2;"),
        "{saved}"
    );
}

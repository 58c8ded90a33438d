//! Undo: audit lines carry what each call changed from; `vizscript undo` puts it back,
//! newest first, so the server is as it was before the script (every field compared),
//! skips ids changed since by someone else, changes nothing under --dry-run, lists what
//! cannot be undone and refuses lines of another site.

use std::path::Path;

use serde_json::Value;

use crate::support::*;

/// A text field of a row of the emulator's state.
fn text(row: &Value, field: &str) -> String {
    row[field].as_str().unwrap().to_string()
}

/// What a task refreshes: (target type, target id, task type).
fn kind(task: &Value) -> (String, String, String) {
    (
        text(task, "targetType"),
        text(task, "targetId"),
        text(task, "type"),
    )
}

/// The ids of the first `n` extract tasks of the site `url_name`.
fn site_task_ids(emu: &vizscript::emulator::Emulator, url_name: &str, n: usize) -> Vec<String> {
    let site = site_id(emu, url_name);
    tasks(emu)
        .iter()
        .filter(|t| t["siteId"] == site.as_str())
        .take(n)
        .map(|t| text(t, "id"))
        .collect()
}

/// `run SCRIPT --audit FILE -- ARGS` against `emu`.
fn run_audited(emu: &vizscript::emulator::Emulator, script: &str, audit: &Path, args: &[&str]) {
    let mut all = vec!["run", script, "--audit", audit.to_str().unwrap(), "--"];
    all.extend_from_slice(args);
    let (code, _, err) = run(vizscript(emu), &all);
    assert_eq!(code, 0, "{script}: {err}");
}

/// `run SCRIPT --site SITE --audit FILE` against `emu`.
fn run_audited_on(emu: &vizscript::emulator::Emulator, script: &str, audit: &Path, site: &str) {
    let args = [
        "run",
        script,
        "--site",
        site,
        "--audit",
        audit.to_str().unwrap(),
    ];
    let (code, _, err) = run(vizscript(emu), &args);
    assert_eq!(code, 0, "{script} on {site:?}: {err}");
}

#[test]
fn undo_after_each_changing_example_script_restores_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let window = dir.path().join("window.json").display().to_string();
    let cases: Vec<(&str, Vec<&str>, (usize, usize))> = vec![
        ("rebalance.rhai", vec![], (300, 8)),
        (
            "move_tasks.rhai",
            vec!["1", "3", "targetType=Workbook"],
            (200, 6),
        ),
        ("prioritize.rhai", vec!["s*", "7"], (200, 6)),
        (
            "maintenance_window.rhai",
            vec!["off", "", &window],
            (100, 6),
        ),
        ("spread_peak.rhai", vec!["60"], (300, 8)),
    ];
    for (name, args, (tasks, schedules)) in cases {
        let emu = emulator_with(|c| c.dataset = one_site(tasks, schedules));
        let audit = dir.path().join(format!("{name}.jsonl"));
        let mut expected = emu.state();
        run_audited(&emu, &example(name), &audit, &args);
        let changed = emu.state();
        let tables = |s: &Value| (s["extractTasks"].clone(), s["schedules"].clone());
        assert_ne!(
            tables(&changed),
            tables(&expected),
            "{name} changed something"
        );
        let since = now_stamp();
        let (code, _, err) = run(vizscript(&emu), &["undo", audit.to_str().unwrap()]);
        assert_eq!(code, 0, "{name}: {err}");
        assert!(err.contains("undo plan:"), "{err}");
        let actual = emu.state();
        expect_sign_in(&mut expected, &actual, "admin", &since);
        expect_run_times(&mut expected, &actual);
        assert_state(&format!("after undoing {name}"), &expected, &actual);
    }
}

#[test]
fn audit_lines_carry_the_values_before_each_change_also_under_dry_run() {
    let emu = emulator_with(|c| c.dataset = one_site(200, 6));
    let dir = tempfile::tempdir().unwrap();
    let before: std::collections::HashMap<String, Value> = tasks(&emu)
        .into_iter()
        .map(|t| (t["id"].as_str().unwrap().to_string(), t))
        .collect();
    for dry_run in [true, false] {
        let audit = dir.path().join(format!("audit-{dry_run}.jsonl"));
        let (_guard, script) = script_file(
            r#"let t = extract_tasks();
            set_extract_tasks_schedule(t.filter(|x| x.scheduleId == "1").map(|x| x.id), "3");
            set_extract_tasks_priority(t.filter(|x| x.priority == 50).map(|x| x.id), 9);
            vizportal("setExtractTasksPriority", #{ ids: [t[0].id], priority: 4 });"#,
        );
        let mut args = vec!["run", script.as_str(), "--audit", audit.to_str().unwrap()];
        if dry_run {
            args.push("--dry-run");
        }
        let (code, _, err) = run(vizscript(&emu), &args);
        assert_eq!(code, 0, "{err}");
        let lines = audit_lines(&audit);
        assert_eq!(lines.len(), 3, "{lines:?}");
        for line in &lines {
            let field = match line["method"].as_str().unwrap() {
                "setExtractTasksSchedule" => "scheduleId",
                _ => "priority",
            };
            let ids = line["params"]["ids"].as_array().unwrap();
            assert!(!ids.is_empty());
            for id in ids {
                let id = id.as_str().unwrap();
                assert_eq!(
                    line["before"][id][field], before[id][field],
                    "{line}: the value before the change, dry run {dry_run}"
                );
            }
        }
        if dry_run {
            assert!(lines.iter().all(|l| l["outcome"] == "dry_run"));
            let (code, _, err) = run(vizscript(&emu), &["undo", audit.to_str().unwrap()]);
            assert_eq!(code, 1, "a dry run's audit has nothing to undo: {err}");
            assert!(
                err.contains("nothing to undo: none of the 3 line(s)"),
                "{err}"
            );
        }
    }
}

#[test]
fn undo_skips_an_id_changed_since_and_dry_run_changes_nothing() {
    let emu = emulator_with(|c| c.dataset = one_site(200, 6));
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    run_audited(
        &emu,
        &example("move_tasks.rhai"),
        &audit,
        &["1", "3", "targetType=Workbook"],
    );
    let moved: Vec<String> = audit_lines(&audit)[0]["params"]["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap().to_string())
        .collect();
    assert!(moved.len() > 1);
    // Someone else moves one of the tasks on before the undo.
    let other = &moved[0];
    let params = format!(r#"{{"ids": ["{other}"], "scheduleId": "2"}}"#);
    let (code, _, err) = run(
        vizscript(&emu),
        &["call", "setExtractTasksSchedule", &params],
    );
    assert_eq!(code, 0, "{err}");

    let changed = emu.state();
    let (code, _, err) = run(
        vizscript(&emu),
        &["undo", audit.to_str().unwrap(), "--dry-run"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(": 1 mutating call(s) held back"), "{err}");
    let mut expected = changed.clone();
    let actual = emu.state();
    expected["users"] = actual["users"].clone();
    assert_state("after undo --dry-run", &expected, &actual);

    let (code, _, err) = run(vizscript(&emu), &["undo", audit.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!("skipped, changed since: line 1: setExtractTasksSchedule: the scheduleId of 1 id(s): {other} (now \"2\", the audited call set")),
        "{err}"
    );
    assert_eq!(task(&emu, other)["scheduleId"], "2", "never overwritten");
    for id in &moved[1..] {
        assert_eq!(task(&emu, id)["scheduleId"], "1", "task {id} moved back");
    }

    // A second undo finds the moved-back tasks as they were: nothing to do, nothing
    // "changed since" but the one someone else moved.
    let (code, _, err) = run(vizscript(&emu), &["undo", audit.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err.matches("skipped, changed since").count(), 1, "{err}");
    assert!(
        err.contains("undo plan: 0 call(s): everything the audit changed is as it was"),
        "{err}"
    );
}

#[test]
fn undo_lists_runs_as_not_undoable_refuses_another_sites_lines_and_finds_their_site() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let (_guard, script) = script_file(
        r#"let t = extract_tasks();
        run_extract_tasks([t[0].id]);
        set_extract_tasks_priority([t[1].id], 2);
        let made = create_schedule(#{ name: "Made by the run", scheduledAction: "Extract",
            scheduleType: "Daily", scheduleDetails: #{ startTime: 60 } });
        print(made.id);"#,
    );
    run_audited_on(&emu, &script, &audit, "");
    let state = emu.state();
    let other_site = state["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["urlName"] != "")
        .unwrap()["urlName"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, _, err) = run(
        vizscript(&emu),
        &["undo", audit.to_str().unwrap(), "--site", &other_site],
    );
    assert_eq!(code, 1, "nothing could be undone: {err}");
    assert_eq!(err.matches("refused: line").count(), 3, "{err}");
    assert!(err.contains("undo it with --site \"\""), "{err}");
    assert!(err.contains("can be undone here (3 refused)"), "{err}");
    let mut expected = state.clone();
    let actual = emu.state();
    expected["users"] = actual["users"].clone();
    assert_state("lines of another site are not undone", &expected, &actual);

    // The last sign-in landed on the other site; without --site, undo goes to the lines'.
    let (code, _, err) = run(vizscript(&emu), &["undo", audit.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("on site \"\""), "{err}");
    assert!(
        err.contains("cannot be undone: line 1: runExtractTasks (1 id(s): ")
            && err.contains("): a run cannot be taken back"),
        "{err}"
    );
    // The audit line of a creation names what it made.
    let made = audit_lines(&audit)[2]["created"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        state["schedules"].as_array().unwrap().last().unwrap()["id"],
        made.as_str()
    );
    assert!(
        err.contains(&format!(
            "cannot be undone: line 3: createSchedule (1 id(s): {made}): undo does not delete"
        )),
        "{err}"
    );
    assert!(
        err.contains("setExtractTasksPriority put back 1 id(s)"),
        "{err}"
    );
}

#[test]
fn undo_puts_schedule_fields_back_newest_first_and_since_limits_the_lines() {
    let emu = emulator_with(|c| c.dataset = one_site(50, 6));
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let mut expected = emu.state();
    let (_first, early) = script_file(
        r#"rename_schedule("1", "Renamed once");
        update_schedule("2", #{ priority: 12, scheduleDetails: #{ startTime: 300, endTime: 0, recurrenceMinutes: 60 }, scheduleType: "Hourly" });"#,
    );
    run_audited(&emu, &early, &audit, &[]);
    let between = emu.state();
    // A second run, later: a second rename of the same schedule and a priority change.
    let since = now_stamp();
    let (_second, late) = script_file(
        r#"rename_schedule("1", "Renamed twice");
        set_extract_tasks_priority(extract_tasks()[0].id, 1);"#,
    );
    run_audited(&emu, &late, &audit, &[]);

    let signed_in = now_stamp();
    let (code, _, err) = run(
        vizscript(&emu),
        &["undo", audit.to_str().unwrap(), "--since", &since],
    );
    assert_eq!(code, 0, "{err}");
    let mut want = between.clone();
    let actual = emu.state();
    expect_sign_in(&mut want, &actual, "admin", &signed_in);
    expect_run_times(&mut want, &actual);
    assert_state("--since undoes only the later run", &want, &actual);

    run_audited(&emu, &late, &audit, &[]);
    let signed_in = now_stamp();
    let (code, _, err) = run(vizscript(&emu), &["undo", audit.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let plan: Vec<&str> = err.lines().filter(|l| l.contains(". (line ")).collect();
    let lines: Vec<usize> = plan
        .iter()
        .map(|l| {
            l.split("(line ")
                .nth(1)
                .unwrap()
                .split(')')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(
        lines.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {plan:?}"
    );
    let actual = emu.state();
    expect_sign_in(&mut expected, &actual, "admin", &signed_in);
    expect_run_times(&mut expected, &actual);
    assert_state("every line undone", &expected, &actual);
}

#[test]
fn undo_creates_deleted_tasks_again_as_they_were_once_and_names_those_it_cannot() {
    let emu = emulator_with(|c| c.dataset = one_site(80, 6));
    let dir = tempfile::tempdir().unwrap();
    let (audit, undo_audit) = (dir.path().join("run.jsonl"), dir.path().join("undo.jsonl"));
    let before = tasks(&emu);
    let what = |t: &Value| (text(t, "targetType"), text(t, "targetId"), text(t, "type"));
    let target = |t: &Value| (text(t, "targetType"), text(t, "targetId"));
    // e's schedule is deleted by someone else before the undo; a to d are elsewhere. Each is
    // the only task of its kind for its target, on a target of its own.
    let gone = text(&before[0], "scheduleId");
    let mut chosen: Vec<&Value> = Vec::new();
    for on_gone in [true, false, false, false, false] {
        let pick = before.iter().find(|t| {
            (text(t, "scheduleId") == gone) == on_gone
                && before.iter().filter(|o| what(o) == what(t)).count() == 1
                && chosen.iter().all(|c| target(c) != target(t))
        });
        chosen.push(pick.expect("a task to choose"));
    }
    let [e, a, b, c, d] = chosen[..] else {
        unreachable!()
    };
    let elsewhere = before
        .iter()
        .map(|t| text(t, "scheduleId"))
        .find(|s| *s != gone && *s != text(a, "scheduleId"))
        .unwrap();
    let low = if b["priority"] == 3 { 4 } else { 3 };
    let incremental = |t: &Value| t["type"] == "IncrementExtract";
    // c is deleted; the run then makes a task for its target and deletes that one too.
    let (_script, path) = script_file(&format!(
        r#"set_extract_tasks_schedule(["{a}"], "{elsewhere}");
        set_extract_tasks_priority(["{b}"], {low});
        delete_extract_tasks(["{a}", "{b}", "{c}", "{d}", "{e}"]);
        let made = create_extract_tasks("{ct}", "{cid}", "{elsewhere}", #{{ incremental: {ci} }});
        delete_extract_tasks(made.created);"#,
        a = text(a, "id"),
        b = text(b, "id"),
        c = text(c, "id"),
        d = text(d, "id"),
        e = text(e, "id"),
        ct = text(c, "targetType"),
        cid = text(c, "targetId"),
        ci = incremental(c),
    ));
    run_audited(&emu, &path, &audit, &[]);
    assert_eq!(tasks(&emu).len(), before.len() - 5);
    // Meanwhile someone gives d's target such a task again and deletes e's schedule.
    let (_other, meddle) = script_file(&format!(
        r#"create_extract_tasks("{}", "{}", "{}", #{{ incremental: {} }});
        delete_schedules(["{gone}"]);"#,
        text(d, "targetType"),
        text(d, "targetId"),
        text(d, "scheduleId"),
        incremental(d),
    ));
    let (code, _, err) = run(vizscript(&emu), &["run", &meddle]);
    assert_eq!(code, 0, "{err}");
    let meanwhile = tasks(&emu);
    let undo = |extra: &[&str]| {
        let mut args = vec!["undo", audit.to_str().unwrap()];
        args.extend_from_slice(extra);
        run(vizscript(&emu), &args)
    };
    let skipped = |t: &Value| {
        format!(
            "skipped, changed since: deleted task {} is not created again: ",
            text(t, "id")
        )
    };

    let (code, _, err) = undo(&["--dry-run"]);
    assert_eq!(
        code, 1,
        "the dry run fails e's task as the undo does: {err}"
    );
    assert!(
        err.contains(&format!(
            "deleted task {} was not created again: schedule {gone} does not exist (checked under --dry-run)",
            text(e, "id")
        )),
        "{err}"
    );
    assert!(
        err.contains("deleted extract tasks to create again (they get new ids): 5")
            && err.contains("and 5 deleted extract task(s) to create again"),
        "{err}"
    );
    assert!(
        err.contains("the run made these tasks and deleted them again (line"),
        "{err}"
    );
    assert_eq!(
        err.matches("  would create deleted task").count(),
        3,
        "{err}"
    );
    assert!(err.contains(&skipped(d)), "{err}");
    assert_eq!(tasks(&emu), meanwhile, "a dry run changes nothing");

    let (code, _, err) = undo(&["--audit", undo_audit.to_str().unwrap()]);
    assert_eq!(code, 1, "e's schedule is gone: {err}");
    assert!(
        err.contains(&format!(
            "deleted task {} was not created again: ",
            text(e, "id")
        )),
        "{err}"
    );
    assert!(
        err.contains(&skipped(d)) && err.contains("task again (task"),
        "{err}"
    );
    assert!(err.contains("error: 1 undo step(s) failed"), "{err}");
    let after = tasks(&emu);
    let schedules = emu.state()["schedules"].clone();
    let default_priority = |schedule: &str| {
        schedules
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == schedule)
            .map(|s| s["priority"].clone())
            .unwrap()
    };
    let mut priority_set_back = Vec::new();
    for old in [a, b, c] {
        let new: Vec<&Value> = after.iter().filter(|t| what(t) == what(old)).collect();
        let [new] = new[..] else {
            panic!("one task again for {old}: {new:?}")
        };
        assert_ne!(new["id"], old["id"], "a new id");
        for field in ["scheduleId", "priority"] {
            assert_eq!(new[field], old[field], "{field} as before the run: {new}");
        }
        assert!(
            err.contains(&format!(
                "created deleted task {} again: it is task {}",
                text(old, "id"),
                text(new, "id")
            )),
            "{err}"
        );
        if old["priority"] != default_priority(&text(old, "scheduleId")) {
            priority_set_back.push(new["id"].clone());
        }
    }
    let outside = |list: &[Value]| -> Vec<Value> {
        list.iter()
            .filter(|t| [a, b, c].iter().all(|old| what(old) != what(t)))
            .cloned()
            .collect()
    };
    assert_eq!(
        outside(&after),
        outside(&meanwhile),
        "no other task changed"
    );
    // The undo's own calls went through the gate: audited, the priorities among them.
    let undo_lines = audit_lines(&undo_audit);
    let set: Vec<&Value> = undo_lines
        .iter()
        .filter(|l| l["method"] == "setExtractTasksPriority")
        .flat_map(|l| l["params"]["ids"].as_array().unwrap())
        .collect();
    assert!(
        !priority_set_back.is_empty(),
        "the data exercises priorities"
    );
    for id in &priority_set_back {
        assert!(set.contains(&id), "{id} in {undo_lines:?}");
    }
    assert!(
        undo_lines
            .iter()
            .any(|l| l["method"] == "createExtractTasks" && l["outcome"] == "ok")
    );

    let (code, _, err) = undo(&[]);
    assert_eq!(code, 1, "e still cannot be created: {err}");
    for old in [a, b, c, d] {
        assert!(err.contains(&skipped(old)), "{err}");
    }
    assert_eq!(tasks(&emu), after, "a second undo creates nothing again");
}

#[test]
fn undo_of_an_all_sites_run_puts_every_site_back_and_names_ids_gone_since() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let mut expected = emu.state();
    let (_guard, script) =
        script_file("set_extract_tasks_priority(extract_tasks().map(|t| t.id), 7);");
    let (code, _, err) = run(
        vizscript(&emu),
        &[
            "run",
            &script,
            "--all-sites",
            "--audit",
            audit.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let lines = audit_lines(&audit);
    let sites: std::collections::BTreeSet<&str> =
        lines.iter().map(|l| l["site"].as_str().unwrap()).collect();
    assert!(sites.len() >= 2, "{sites:?}");
    // Someone deletes one of the changed tasks before the undo.
    let (site, victim) = (&lines[0]["site"], &lines[0]["params"]["ids"][0]);
    let ids = serde_json::json!({ "ids": [victim] }).to_string();
    let (code, _, err) = run(
        vizscript(&emu),
        &[
            "call",
            "deleteExtractTasks",
            &ids,
            "--site",
            site.as_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let since = now_stamp();
    let (code, _, err) = run(vizscript(&emu), &["undo", audit.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    // A part per run of lines of one site (sites ran at once, so their lines take turns).
    let runs = 1 + lines
        .windows(2)
        .filter(|w| w[0]["site"] != w[1]["site"])
        .count();
    assert_eq!(err.matches("undo: ").count(), runs, "{err}");
    assert!(
        err.contains(&format!(
            "skipped, gone since: line 1: setExtractTasksPriority (1 id(s): {}): ",
            victim.as_str().unwrap()
        )),
        "{err}"
    );
    let actual = emu.state();
    expect_sign_in(&mut expected, &actual, "admin", &since);
    expected["users"] = actual["users"].clone();
    expected["extractTasks"]
        .as_array_mut()
        .unwrap()
        .retain(|t| t["id"] != *victim);
    assert_state("every site put back", &expected, &actual);
}

#[test]
fn undo_goes_newest_site_first_ignores_a_profiles_site_and_fails_on_another_servers_lines() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let mut expected = emu.state();
    // Every site renames the same (server-wide) schedule in turn: each line undoes only
    // if the newer ones, of other sites, were undone first.
    let (_guard, script) = script_file(
        r#"rename_schedule("1", `Renamed (${session_info().site.urlName})`);
        set_extract_tasks_priority(extract_tasks().map(|t| t.id), 8);"#,
    );
    let args = [
        "run",
        &script,
        "--all-sites",
        "--site-concurrency",
        "1",
        "--audit",
        audit.to_str().unwrap(),
    ];
    let (code, _, err) = run(vizscript(&emu), &args);
    assert_eq!(code, 0, "{err}");
    // A line of another server in the same file.
    let mut text = std::fs::read_to_string(&audit).unwrap();
    let mut stray: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    stray["server"] = "https://staging.example.com".into();
    text.push_str(&format!("{stray}\n"));
    std::fs::write(&audit, text).unwrap();
    // A profile whose site is one of them does not narrow the undo to it.
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[profiles.prod]\nsite = \"finance\"\n").unwrap();
    let since = now_stamp();
    let mut cmd = vizscript(&emu);
    cmd.env("VIZSCRIPT_CONFIG", &config);
    let undo = ["undo", audit.to_str().unwrap(), "--profile", "prod"];
    let (code, _, err) = run(cmd, &undo);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("error: 1 line(s) of another server were not undone"),
        "{err}"
    );
    assert!(!err.contains("skipped, changed since"), "{err}");
    let actual = emu.state();
    expect_sign_in(&mut expected, &actual, "admin", &since);
    expected["users"] = actual["users"].clone();
    assert_state("every site put back", &expected, &actual);
}

#[test]
fn undo_says_when_the_run_itself_gave_a_deleted_tasks_target_a_new_task() {
    let emu = emulator_with(|c| c.dataset = one_site(30, 6));
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let all = tasks(&emu);
    let old = all
        .iter()
        .find(|t| {
            all.iter()
                .filter(|o| o["targetId"] == t["targetId"] && o["targetType"] == t["targetType"])
                .count()
                == 1
        })
        .unwrap();
    let elsewhere = all
        .iter()
        .map(|t| text(t, "scheduleId"))
        .find(|s| *s != text(old, "scheduleId"))
        .unwrap();
    let (_guard, script) = script_file(&format!(
        r#"delete_extract_tasks(["{id}"]);
        create_extract_tasks("{kind}", "{target}", "{elsewhere}", #{{ incremental: {inc} }});"#,
        id = text(old, "id"),
        kind = text(old, "targetType"),
        target = text(old, "targetId"),
        inc = old["type"] == "IncrementExtract",
    ));
    run_audited(&emu, &script, &audit, &[]);
    let after_run = tasks(&emu);
    let (code, _, err) = run(vizscript(&emu), &["undo", audit.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!(
            "cannot be undone: deleted task {} is not created again: ",
            text(old, "id")
        )) && err.contains("which the run made (line 2)"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "cannot be undone: line 2: createExtractTasks (1 target(s): {}): undo does not delete the tasks it created",
            text(old, "targetId")
        )),
        "the ids it names are targets, not tasks: {err}"
    );
    assert_eq!(tasks(&emu), after_run, "nothing changed");
}

#[test]
fn a_deleted_schedules_audit_line_lists_the_tasks_and_subscriptions_it_took() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let state = emu.state();
    let site_id = |url: &str| -> String {
        let sites = state["sites"].as_array().unwrap();
        let site = sites.iter().find(|s| s["urlName"] == url).unwrap();
        site["id"].as_str().unwrap().to_string()
    };
    // Lists are per site; the audit lists what the deletion took on the run's site.
    let on = |table: &str, schedule: &str, site: &str| -> Vec<String> {
        let mut ids: Vec<String> = state[table]
            .as_array()
            .unwrap()
            .iter()
            .filter(|row| row["scheduleId"] == schedule && row["siteId"] == site)
            .map(|row| row["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    let finance = site_id("finance");
    let schedules = state["schedules"].as_array().unwrap();
    let pick = |table: &str| {
        schedules
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .find(|s| !on(table, s, &finance).is_empty())
            .unwrap()
    };
    let (extract, subscription) = (pick("extractTasks"), pick("subscriptions"));
    let everywhere = |schedule: &str| {
        ["extractTasks", "subscriptions"]
            .iter()
            .flat_map(|table| state[*table].as_array().unwrap())
            .filter(|row| row["scheduleId"] == schedule)
            .count()
    };
    let here = on("extractTasks", &extract, &finance).len()
        + on("subscriptions", &extract, &finance).len();
    assert!(
        everywhere(&extract) > here,
        "the sample's schedules span sites"
    );

    // Without the option, a schedule holding other sites' tasks is not deleted at all.
    let (_refused, refused) = script_file(&format!(r#"delete_schedules(["{extract}"]);"#));
    let args = [
        "run",
        &refused,
        "--site",
        "finance",
        "--audit",
        audit.to_str().unwrap(),
    ];
    let (code, _, err) = run(vizscript(&emu), &args);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("nothing deleted")
            && err.contains(&format!(
                "({} on the server, {here} on this site)",
                everywhere(&extract)
            )),
        "{err}"
    );
    let after = emu.state();
    for table in ["schedules", "extractTasks", "subscriptions"] {
        assert!(
            after[table] == state[table],
            "nothing was deleted from {table}"
        );
    }
    assert!(
        !emu.calls().iter().any(|c| c.method == "deleteSchedules"),
        "nothing was sent"
    );

    let (_guard, script) = script_file(&format!(
        r#"delete_schedules(["{extract}", "{subscription}"], #{{ other_sites: true }});"#
    ));
    run_audited_on(&emu, &script, &audit, "finance");
    let line = &audit_lines(&audit)[0];
    let listed = |schedule: &str, member: &str| -> Vec<String> {
        let mut ids: Vec<String> = line["before"][schedule][member]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(
        listed(&extract, "extractTasks"),
        on("extractTasks", &extract, &finance)
    );
    assert_eq!(
        listed(&subscription, "subscriptions"),
        on("subscriptions", &subscription, &finance)
    );
    let count = |table: &str| {
        on(table, &extract, &finance).len() + on(table, &subscription, &finance).len()
    };
    let (code, _, err) = run(vizscript(&emu), &["undo", audit.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!(
            "on site \"finance\" it took {} extract task(s) and {} subscription(s) with it",
            count("extractTasks"),
            count("subscriptions")
        )),
        "{err}"
    );
    // The tasks were on the deleted schedule before the run too: nowhere to create them.
    let ids = on("extractTasks", &extract, &finance);
    assert!(
        err.contains(&format!(
            "({} id(s): {}, {}, ",
            ids.len(),
            ids[0],
            ids[1]
        )) && err.contains(&format!(
            "these tasks were on schedule {extract}, which line 1 deleted and undo cannot restore"
        )),
        "{err}"
    );
}

#[test]
fn undo_takes_back_lines_of_sites_that_took_turns_in_turn() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let original = emu.state()["schedules"][0]["name"].clone();
    // Three runs on two sites rename the same (server-wide) schedule: A, then B, then A.
    for (site, name) in [
        ("finance", "First"),
        ("marketing", "Second"),
        ("finance", "Third"),
    ] {
        let (_guard, script) = script_file(&format!(r#"rename_schedule("1", "{name}");"#));
        run_audited_on(&emu, &script, &audit, site);
    }
    let (code, _, err) = run(vizscript(&emu), &["undo", audit.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("skipped"), "{err}");
    assert_eq!(emu.state()["schedules"][0]["name"], original, "{err}");
}

#[test]
fn a_second_undo_of_an_id_changed_twice_is_quiet() {
    let emu = emulator_with(|c| c.dataset = one_site(20, 4));
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let before = tasks(&emu);
    let id = before[0]["id"].as_str().unwrap().to_string();
    let (_guard, script) = script_file(&format!(
        r#"set_extract_tasks_priority(["{id}"], 2); set_extract_tasks_priority(["{id}"], 8);"#
    ));
    run_audited(&emu, &script, &audit, &[]);
    for round in ["first", "second"] {
        let (code, _, err) = run(vizscript(&emu), &["undo", audit.to_str().unwrap()]);
        assert_eq!(code, 0, "{round}: {err}");
        assert!(!err.contains("skipped"), "{round}: {err}");
        assert_eq!(
            task(&emu, &id)["priority"],
            before[0]["priority"],
            "{round}"
        );
    }
}

#[test]
fn undo_puts_back_a_schedule_whose_type_alone_was_changed() {
    let emu = emulator_with(|c| c.dataset = one_site(20, 4));
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let before = emu.state()["schedules"].clone();
    let weekly = before
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["scheduleType"] == "Weekly")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_guard, script) = script_file(&format!(
        r#"update_schedule("{weekly}", #{{ scheduleType: "Daily" }});"#
    ));
    run_audited(&emu, &script, &audit, &[]);
    let (code, _, err) = run(vizscript(&emu), &["undo", audit.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let row = |state: &Value| -> Value {
        let all = state.as_array().unwrap();
        let mut row = all
            .iter()
            .find(|s| s["id"] == weekly.as_str())
            .unwrap()
            .clone();
        row.as_object_mut().unwrap().remove("runNextAt");
        row
    };
    assert_eq!(row(&emu.state()["schedules"]), row(&before), "{err}");
}

#[test]
fn a_task_changed_in_an_older_run_of_its_site_and_deleted_in_a_newer_one_comes_back_as_it_was() {
    // Without and with someone else moving the task between the runs.
    for meddled in [false, true] {
        let emu = emulator();
        let dir = tempfile::tempdir().unwrap();
        let audit = dir.path().join("audit.jsonl");
        let (finance, marketing) = (site_id(&emu, "finance"), site_id(&emu, "marketing"));
        let on = |site: &str| -> Vec<Value> {
            let site = site.to_string();
            tasks(&emu)
                .into_iter()
                .filter(move |t| t["siteId"] == site.as_str())
                .collect()
        };
        let moved = on(&finance)[0].clone();
        let other = on(&marketing)[0].clone();
        let (id, from) = (
            moved["id"].as_str().unwrap(),
            moved["scheduleId"].as_str().unwrap(),
        );
        let extract: Vec<String> = schedules(&emu)
            .into_iter()
            .filter(|s| s["scheduledAction"] == "Extract" && s["id"] != from)
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect();
        let (to, elsewhere) = (&extract[0], &extract[1]);
        // Finance lines, a marketing line, finance again: undo takes them back as runs.
        let other_id = other["id"].as_str().unwrap();
        for (site, code) in [
            (
                "finance",
                format!(
                    r#"set_extract_tasks_schedule("{id}", "{to}"); set_extract_tasks_priority("{id}", 3);"#
                ),
            ),
            (
                "marketing",
                format!(r#"set_extract_tasks_priority("{other_id}", 99);"#),
            ),
        ] {
            let (_guard, script) = script_file(&code);
            run_audited_on(&emu, &script, &audit, site);
        }
        if meddled {
            let params = format!(r#"{{"ids": ["{id}"], "scheduleId": "{elsewhere}"}}"#);
            let args = [
                "call",
                "setExtractTasksSchedule",
                &params,
                "--site",
                "finance",
            ];
            let (code, _, err) = run(vizscript(&emu), &args);
            assert_eq!(code, 0, "{err}");
        }
        let (_guard, script) = script_file(&format!(r#"delete_extract_tasks("{id}");"#));
        run_audited_on(&emu, &script, &audit, "finance");
        assert!(tasks(&emu).iter().all(|t| t["id"] != id), "deleted");
        let restored = "which this undo creates again as it was before this line";
        // The preview says what the undo will say.
        let before_undo = tasks(&emu);
        let (code, _, preview) = run(
            vizscript(&emu),
            &["undo", audit.to_str().unwrap(), "--dry-run"],
        );
        assert_eq!(code, 0, "{preview}");
        assert_eq!(tasks(&emu), before_undo, "a dry run changes nothing");
        let (code, _, err) = run(vizscript(&emu), &["undo", audit.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        let again: Vec<Value> = on(&finance)
            .into_iter()
            .filter(|t| t["targetId"] == moved["targetId"] && t["type"] == moved["type"])
            .collect();
        assert_eq!(again.len(), 1, "{again:?}");
        assert_eq!(task(&emu, other_id)["priority"], other["priority"], "{err}");
        if meddled {
            // Someone else's move is kept, and the older line says it cannot be undone.
            assert_eq!(again[0]["scheduleId"], elsewhere.as_str(), "{err}");
            assert!(
                err.contains("was changed by someone else before a newer line deleted it"),
                "{err}"
            );
            assert!(!err.contains(restored), "{err}");
        } else {
            assert_eq!(again[0]["scheduleId"], moved["scheduleId"], "{err}");
            assert_eq!(again[0]["priority"], moved["priority"], "{err}");
            for text in [&err, &preview] {
                assert!(!text.contains("gone since"), "{text}");
                assert!(text.contains(restored), "{text}");
            }
        }
    }
}

/// A server trims the schedule names it stores; undo compares what the call set with what
/// the server shows as the server stores it, and restores the schedule.
#[test]
fn a_schedule_whose_name_the_server_trimmed_is_restored() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let schedule = schedules(&emu)
        .into_iter()
        .find(|s| s["scheduleType"] == "Monthly")
        .expect("a monthly schedule");
    let id = schedule["id"].as_str().unwrap().to_string();
    let (_guard, script) = script_file(&format!(
        r#"let s = schedules(#{{ id: "{id}" }})[0];
        update_schedule("{id}", #{{ name: s.name + " (moved) ",
            scheduleDetails: #{{ startTime: 120, recurrenceDayOfMonth: 15 }} }});"#
    ));
    run_audited_on(&emu, &script, &audit, "");
    let changed = schedules(&emu)
        .into_iter()
        .find(|s| s["id"] == id.as_str())
        .unwrap();
    assert!(
        changed["name"].as_str().unwrap().ends_with("(moved)"),
        "{changed}"
    );
    let (code, _, err) = run(vizscript(&emu), &["undo", audit.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("changed since"), "{err}");
    let back = schedules(&emu)
        .into_iter()
        .find(|s| s["id"] == id.as_str())
        .unwrap();
    assert_eq!(back["name"], schedule["name"]);
    assert_eq!(back["scheduleDetails"], schedule["scheduleDetails"]);
}

/// A last line cut off (the run was killed while writing it) is left out with a warning
/// and the rest is undone; a line whose time does not read is refused under --since
/// rather than silently left out.
#[test]
fn a_cut_off_last_line_is_left_out_and_an_unreadable_time_is_refused_under_since() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let (_guard, script) = script_file(
        r#"let t = extract_tasks()[0];
        set_extract_tasks_priority([t.id], if t.priority == 3 { 4 } else { 3 });"#,
    );
    let before = tasks(&emu);
    run_audited(&emu, &script, &audit, &[]);
    let whole = std::fs::read_to_string(&audit).unwrap();
    // Cut inside a character (the first byte of "é"), as a full disk may leave it.
    let mut cut = format!("{whole}{{\"time\":\"2026-11-30T0\",\"site\":\"").into_bytes();
    cut.push(0xC3);
    std::fs::write(&audit, cut).unwrap();
    // The next run's line starts on a line of its own, after the fragment.
    run_audited(&emu, &script, &audit, &[]);
    let (code, _, err) = run(vizscript(&emu), &["undo", audit.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(":2: the line is cut off"), "{err}");
    assert_eq!(tasks(&emu), before, "both runs' lines were undone");

    let bad_time = whole.replacen("\"time\":\"", "\"time\":\"yesterday ", 1);
    std::fs::write(&audit, bad_time).unwrap();
    let args = [
        "undo",
        audit.to_str().unwrap(),
        "--since",
        "2026-01-01T00:00:00Z",
    ];
    let (code, _, err) = run(vizscript(&emu), &args);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(":1: its time") && err.contains("--since cannot tell"),
        "{err}"
    );
}

#[test]
fn tasks_moved_to_a_schedule_the_run_then_deleted_come_back_where_they_were() {
    let emu = emulator_with(|c| c.dataset = one_site(40, 6));
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let before = tasks(&emu);
    // Three tasks whose targets have no other task of their type, so each comes back as
    // the one task of its kind.
    let single: Vec<&Value> = before
        .iter()
        .filter(|t| before.iter().filter(|o| kind(o) == kind(t)).count() == 1)
        .take(3)
        .collect();
    assert_eq!(single.len(), 3);
    let ids: Vec<&str> = single.iter().map(|t| t["id"].as_str().unwrap()).collect();
    let (_guard, script) = script_file(&format!(
        r#"let n = create_schedule(#{{ name: "Temporary window", scheduledAction: "Extract",
               scheduleType: "Daily", scheduleDetails: #{{ startTime: 600 }} }});
        set_extract_tasks_schedule({ids:?}, n.id);
        set_extract_tasks_priority({ids:?}, 7);
        delete_schedules(n.id);"#
    ));
    run_audited(&emu, &script, &audit, &[]);
    let after_run = tasks(&emu);
    assert!(
        after_run
            .iter()
            .all(|t| !ids.contains(&t["id"].as_str().unwrap())),
        "the tasks went with the schedule"
    );

    let (code, _, err) = run(vizscript(&emu), &["undo", audit.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("gone since"), "{err}");
    let restored = tasks(&emu);
    for old in &single {
        let again: Vec<&Value> = restored.iter().filter(|t| kind(t) == kind(old)).collect();
        let [again] = &again[..] else {
            panic!("one task for {:?}: {again:?}\n{err}", kind(old))
        };
        assert_eq!(again["scheduleId"], old["scheduleId"], "{err}");
        assert_eq!(again["priority"], old["priority"], "{err}");
    }
    assert_eq!(restored.len(), before.len(), "{err}");
}

#[test]
fn a_partly_failed_creation_is_audited_as_partial_and_undo_makes_nothing_extra() {
    let emu = emulator_with(|c| c.dataset = one_site(30, 6));
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let before = tasks(&emu);
    let old = before
        .iter()
        .find(|t| before.iter().filter(|o| kind(o) == kind(t)).count() == 1)
        .unwrap();
    // The task is deleted, made again for its target next to a target that does not
    // exist (which fails), and the one made is deleted: the run changed one thing.
    let (_guard, script) = script_file(&format!(
        r#"delete_extract_tasks(["{id}"]);
        try {{
            create_extract_tasks("{kind}", ["{target}", "99999"], "{schedule}", #{{ incremental: {inc} }});
        }} catch (e) {{
            print(e.created);
            delete_extract_tasks(e.created);
        }}"#,
        id = text(old, "id"),
        kind = text(old, "targetType"),
        target = text(old, "targetId"),
        schedule = text(old, "scheduleId"),
        inc = old["type"] == "IncrementExtract",
    ));
    run_audited(&emu, &script, &audit, &[]);
    let lines = audit_lines(&audit);
    let create = lines
        .iter()
        .find(|l| l["method"] == "createExtractTasks")
        .unwrap();
    assert_eq!(create["outcome"], "partial", "{create}");
    assert_eq!(create["failedIds"], serde_json::json!(["99999"]));

    let (code, _, err) = run(vizscript(&emu), &["undo", audit.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let shape = |list: &[Value]| {
        let mut rows: Vec<(String, String, String, String, String)> = list
            .iter()
            .map(|t| {
                let (a, b, c) = kind(t);
                (a, b, c, text(t, "scheduleId"), t["priority"].to_string())
            })
            .collect();
        rows.sort();
        rows
    };
    assert_eq!(
        shape(&tasks(&emu)),
        shape(&before),
        "as before the run: {err}"
    );
}

#[test]
fn a_change_whose_before_values_cannot_be_read_is_not_sent() {
    let emu = emulator_with(|c| c.dataset = one_site(10, 4));
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let before = tasks(&emu);
    // A sign-in page answers the read of the tasks (an SSO gateway stepping in).
    emu.set_faults(vizscript::emulator::Faults {
        html_for_methods: vec!["getExtractTasks".into()],
        ..Default::default()
    });
    let (_guard, script) =
        script_file(r#"set_extract_tasks_priority(["1", "2"], 5); delete_extract_tasks("3");"#);
    let args = ["run", &script, "--audit", audit.to_str().unwrap()];
    let (code, _, err) = run(vizscript(&emu), &args);
    assert_eq!(code, 4, "not the Vizportal API: {err}");
    assert!(
        err.contains("not sent") && err.contains("could not be read for the audit"),
        "{err}"
    );
    assert_eq!(tasks(&emu), before, "nothing changed");
    assert!(audit_lines(&audit).is_empty(), "nothing to record");
    // Without an audit nothing is read first, and the change goes through.
    let (code, _, err) = run(vizscript(&emu), &["run", &script]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn the_id_of_a_deleted_task_is_never_given_again_so_undo_finds_it_gone() {
    let emu = emulator_with(|c| c.dataset = one_site(30, 6));
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let before = tasks(&emu);
    let single = |t: &&Value| before.iter().filter(|o| kind(o) == kind(t)).count() == 1;
    let highest = before
        .iter()
        .max_by_key(|t| text(t, "id").parse::<u64>().unwrap())
        .unwrap();
    let other = before
        .iter()
        .filter(single)
        .find(|t| t["id"] != highest["id"])
        .unwrap();
    // The highest id goes, and a task made after it must not take it back.
    let (_guard, script) = script_file(&format!(
        r#"delete_extract_tasks(["{other}", "{highest}"]);
        print(create_extract_tasks("{kind}", "{target}", "{schedule}", #{{ incremental: {inc} }}).created);"#,
        other = text(other, "id"),
        highest = text(highest, "id"),
        kind = text(other, "targetType"),
        target = text(other, "targetId"),
        schedule = text(other, "scheduleId"),
        inc = other["type"] == "IncrementExtract",
    ));
    let args = ["run", &script, "--audit", audit.to_str().unwrap()];
    let (code, out, err) = run(vizscript(&emu), &args);
    assert_eq!(code, 0, "{err}");
    let made: u64 = out
        .trim()
        .trim_matches(|c| c == '[' || c == ']' || c == '"')
        .parse()
        .unwrap();
    assert!(made > text(highest, "id").parse().unwrap(), "new id {made}");
    let (code, _, err) = run(vizscript(&emu), &["undo", audit.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        tasks(&emu).iter().any(|t| kind(t) == kind(highest)),
        "the highest task came back: {err}"
    );
}

#[test]
fn a_task_is_not_made_again_on_a_schedule_another_sites_line_deleted() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let default_site = site_id(&emu, "");
    let task = tasks(&emu)
        .into_iter()
        .find(|t| t["siteId"] == default_site.as_str())
        .unwrap();
    let (id, schedule) = (
        task["id"].as_str().unwrap(),
        task["scheduleId"].as_str().unwrap(),
    );
    let (_a, delete_task) = script_file(&format!(r#"delete_extract_tasks("{id}");"#));
    run_audited_on(&emu, &delete_task, &audit, "");
    let (_b, delete_schedule) = script_file(&format!(
        r#"delete_schedules("{schedule}", #{{ other_sites: true }});"#
    ));
    run_audited_on(&emu, &delete_schedule, &audit, "finance");
    let (code, _, err) = run(vizscript(&emu), &["undo", audit.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!(
            "line 1: deleteExtractTasks (1 id(s): {id}): these tasks were on schedule {schedule}, which line 2 deleted and undo cannot restore"
        )),
        "{err}"
    );
}

/// A per-task loop's audit whose tasks were deleted since is reported in one line per
/// method and reason, not one per audit line.
#[test]
fn ids_gone_since_from_many_lines_are_reported_together() {
    let emu = emulator_with(|c| c.dataset = one_site(60, 4));
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let (_s, script) = script_file(
        "let ts = extract_tasks(); for t in ts.extract(0, 30) { set_extract_tasks_priority(t.id, 2); }",
    );
    run_audited(&emu, &script, &audit, &[]);
    let ids: Vec<String> = audit_lines(&audit)
        .iter()
        .map(|l| l["params"]["ids"][0].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 30);
    let params = serde_json::json!({ "ids": ids }).to_string();
    let (code, _, err) = run(vizscript(&emu), &["call", "deleteExtractTasks", &params]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(vizscript(&emu), &["undo", audit.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let gone: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("skipped, gone since"))
        .collect();
    assert_eq!(gone.len(), 1, "{err}");
    assert!(
        gone[0].contains("30 lines (1 to 30): setExtractTasksPriority (30 id(s): ")
            && gone[0].contains("and 20 more"),
        "{err}"
    );
}

/// Undo puts back what a call changed and nothing else: a name someone changed since
/// does not stop the priority the run changed from coming back, and an end time someone
/// added since to details the run set is theirs, reported and left, never overwritten.
#[test]
fn undo_puts_back_only_what_a_call_changed_and_never_a_change_made_since() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let of_type = |kind: &str| {
        schedules(&emu)
            .into_iter()
            .find(|s| s["scheduleType"] == kind)
            .unwrap_or_else(|| panic!("a {kind} schedule"))
    };
    let (daily, hourly) = (of_type("Daily"), of_type("Hourly"));
    let (daily_id, hourly_id) = (text(&daily, "id"), text(&hourly, "id"));
    let (_guard, script) = script_file(&format!(
        r#"update_schedule("{daily_id}", #{{ priority: 9 }});
        update_schedule("{hourly_id}", #{{ scheduleDetails: #{{ startTime: 0, recurrenceMinutes: 60 }} }});"#
    ));
    run_audited_on(&emu, &script, &audit, "");
    let call = |method: &str, params: Value| {
        let (code, _, err) = run(vizscript(&emu), &["call", method, &params.to_string()]);
        assert_eq!(code, 0, "{method}: {err}");
    };
    call(
        "setScheduleName",
        serde_json::json!({"id": daily_id, "name": "Daily, renamed by ops"}),
    );
    let mut theirs = schedules(&emu)
        .into_iter()
        .find(|s| s["id"] == hourly_id.as_str())
        .unwrap();
    theirs["scheduleDetails"]["endTime"] = serde_json::json!(720);
    let fields = [
        "id",
        "name",
        "scheduledAction",
        "scheduleType",
        "priority",
        "parallel",
    ];
    let mut params: serde_json::Map<String, Value> = fields
        .iter()
        .map(|f| (f.to_string(), theirs[*f].clone()))
        .collect();
    params.insert("scheduleDetails".into(), theirs["scheduleDetails"].clone());
    call("updateSchedule", Value::Object(params));

    let (code, _, err) = run(vizscript(&emu), &["undo", audit.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let now = |id: &str| schedules(&emu).into_iter().find(|s| s["id"] == id).unwrap();
    let daily_now = now(&daily_id);
    assert_eq!(daily_now["priority"], daily["priority"], "{err}");
    assert_eq!(daily_now["name"], "Daily, renamed by ops", "{err}");
    let hourly_now = now(&hourly_id);
    assert_eq!(hourly_now["scheduleDetails"]["endTime"], 720, "{err}");
    assert!(err.contains("changed since"), "{err}");
    assert!(
        !err.contains("the name"),
        "the rename is no conflict: {err}"
    );
}

/// A line whose outcome this version does not know is named, not silently left out; ids
/// skipped from one line are counted as that one line.
#[test]
fn a_line_of_an_unknown_outcome_is_named_and_skips_count_lines_once() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let ids = site_task_ids(&emu, "finance", 3);
    let (_one, first) = script_file(&format!(
        r#"set_extract_tasks_priority(["{}", "{}"], 3);"#,
        ids[0], ids[1]
    ));
    let (_two, second) = script_file(&format!(r#"set_extract_tasks_priority("{}", 4);"#, ids[2]));
    run_audited_on(&emu, &first, &audit, "finance");
    run_audited_on(&emu, &second, &audit, "finance");
    let text_of = std::fs::read_to_string(&audit).unwrap();
    let edited: Vec<String> = text_of
        .lines()
        .enumerate()
        .map(|(i, l)| match i {
            1 => l.replace(r#""outcome":"ok""#, r#""outcome":"applied""#),
            _ => l.to_string(),
        })
        .collect();
    std::fs::write(&audit, edited.join("\n") + "\n").unwrap();
    let params = serde_json::json!({"ids": [ids[0], ids[1]], "priority": 7}).to_string();
    let mut call = vizscript(&emu);
    call.env("TABLEAU_SITE", "finance");
    let (code, _, err) = run(call, &["call", "setExtractTasksPriority", &params]);
    assert_eq!(code, 0, "{err}");

    let (code, _, err) = run(vizscript(&emu), &["undo", audit.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("line(s) 2 have an outcome this version does not know"),
        "{err}"
    );
    assert!(err.contains("changed since: line 1"), "{err}");
    assert_eq!(task(&emu, &ids[2])["priority"], 4, "line 2 is not undone");
    assert_eq!(task(&emu, &ids[0])["priority"], 7, "changed since: left");
}

/// A server that filters lists only on the fields public sources name refuses the
/// client's reads by id (the audit's before values, a schedule read back after a change):
/// the client reads the whole list instead and filters it itself, so the audited run and
/// its undo work there as on a server that filters on every field.
#[test]
fn a_server_that_filters_only_on_documented_fields_gets_whole_lists_read_instead() {
    let emu = emulator_with(|c| c.documented_filters = true);
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let before_tasks = tasks(&emu);
    let before_schedules = schedules(&emu);
    let (_guard, script) = script_file(
        r#"let t = extract_tasks();
        let ids = [t[0].id, t[1].id];
        set_extract_tasks_priority(ids, 9);
        let s = schedules(#{ scheduledAction: "Extract" })[0];
        update_schedule(s.id, #{ priority: 42 });
        rename_schedule(s.id, s.name + " (renamed)");
        print(ids);
        print(s.id);"#,
    );
    let args = [
        "run",
        &script,
        "--site",
        "finance",
        "--audit",
        audit.to_str().unwrap(),
    ];
    let (code, out, err) = run(vizscript(&emu), &args);
    assert_eq!(code, 0, "{err}");
    let schedule_id = out.lines().nth(1).unwrap().trim().to_string();
    let changed = schedules(&emu)
        .into_iter()
        .find(|s| s["id"] == schedule_id.as_str())
        .unwrap();
    assert_eq!(changed["priority"], 42, "{err}");
    assert!(changed["name"].as_str().unwrap().ends_with("(renamed)"));
    let lines = audit_lines(&audit);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines
            .iter()
            .all(|l| l["before"].as_object().is_some_and(|b| !b.is_empty())),
        "every line has its before values: {lines:?}"
    );
    let (code, _, err) = run(vizscript(&emu), &["undo", audit.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(tasks(&emu), before_tasks);
    let without_run_times = |list: Vec<Value>| -> Vec<Value> {
        list.into_iter()
            .map(|mut s| {
                s.as_object_mut().unwrap().remove("runNextAt");
                s
            })
            .collect()
    };
    assert_eq!(
        without_run_times(schedules(&emu)),
        without_run_times(before_schedules)
    );
}

/// Names are unique: a run that swapped two schedules' names is undone by first moving
/// one aside, since neither could take its name back while the other held it.
#[test]
fn undo_takes_back_a_swap_of_two_schedule_names() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let before = schedules(&emu);
    let (a, b) = (text(&before[0], "id"), text(&before[1], "id"));
    let (_guard, script) = script_file(&format!(
        r#"let a = schedules(#{{ id: "{a}" }})[0].name;
        let b = schedules(#{{ id: "{b}" }})[0].name;
        rename_schedule("{a}", "swap in progress");
        rename_schedule("{b}", a);
        rename_schedule("{a}", b);"#
    ));
    run_audited_on(&emu, &script, &audit, "");
    let name =
        |id: &str| schedules(&emu).into_iter().find(|s| s["id"] == id).unwrap()["name"].clone();
    assert_eq!(name(&a), before[1]["name"]);
    let (code, _, err) = run(vizscript(&emu), &["undo", audit.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(name(&a), before[0]["name"], "{err}");
    assert_eq!(name(&b), before[1]["name"], "{err}");
}

/// `undo --dry-run` answers as the undo would: a task to move back to a schedule deleted
/// since, and a deleted task to create again on it, fail in the dry run as they then do.
#[test]
fn undo_dry_run_fails_what_the_undo_would_fail_on_a_schedule_deleted_since() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let call = |method: &str, params: Value| {
        let mut cmd = vizscript(&emu);
        cmd.env("TABLEAU_SITE", "finance");
        let (code, out, err) = run(cmd, &["call", method, &params.to_string()]);
        assert_eq!(code, 0, "{method}: {err}");
        out
    };
    let made = call(
        "createSchedule",
        serde_json::json!({"name": "Temporary", "scheduledAction": "Extract",
            "scheduleType": "Daily", "scheduleDetails": {"startTime": 30},
            "priority": 50, "parallel": true}),
    );
    let temporary: Value = serde_json::from_str(&made).unwrap();
    let temporary = text(&temporary, "id");
    let ids = site_task_ids(&emu, "finance", 2);
    call(
        "setExtractTasksSchedule",
        serde_json::json!({"ids": ids, "scheduleId": temporary}),
    );
    let other = schedules(&emu)
        .into_iter()
        .find(|s| s["scheduledAction"] == "Extract" && s["id"] != temporary.as_str())
        .unwrap();
    let (_guard, script) = script_file(&format!(
        r#"set_extract_tasks_schedule("{}", "{}"); delete_extract_tasks("{}");"#,
        ids[0],
        text(&other, "id"),
        ids[1]
    ));
    run_audited_on(&emu, &script, &audit, "finance");
    call("deleteSchedules", serde_json::json!({"ids": [temporary]}));

    let undo = |extra: &[&str]| {
        let args = [&["undo", audit.to_str().unwrap()][..], extra].concat();
        run(vizscript(&emu), &args)
    };
    let (dry_code, _, dry_err) = undo(&["--dry-run"]);
    let (code, _, err) = undo(&[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        dry_code, code,
        "the dry run ends as the undo does: {dry_err}"
    );
    assert!(
        dry_err.contains(&format!(
            "schedule {temporary} does not exist (checked under --dry-run)"
        )),
        "{dry_err}"
    );
    // Nothing the dry run fails is among the calls it held back.
    let held_back = dry_err.split("held back").nth(1).unwrap_or_default();
    assert!(
        !held_back.contains(&format!("\"scheduleId\":\"{temporary}\"")),
        "{dry_err}"
    );
    let failures = |text: &str| {
        text.lines()
            .filter(|l| l.contains("failed") || l.contains("does not exist"))
            .count()
    };
    assert_eq!(failures(&dry_err), failures(&err), "{dry_err}\n---\n{err}");
}

/// An `--all-sites` run's changes to one shared schedule, undone site by site under
/// `--dry-run`, meet what the newer site's undo would put back, not a change since.
#[test]
fn undo_dry_run_of_sites_that_changed_one_schedule_sees_the_newer_sites_undo() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let schedule = text(&schedules(&emu)[0], "id");
    let (_guard, script) = script_file(&format!(
        r#"let p = if session_info().site.urlName == "" {{ 10 }} else {{ 20 }};
        update_schedule("{schedule}", #{{ priority: p }});
        update_schedule("{schedule}", #{{ priority: p + 1 }});"#
    ));
    let args = [
        "run",
        &script,
        "--sites",
        ",finance",
        "--site-concurrency",
        "1",
        "--audit",
        audit.to_str().unwrap(),
    ];
    let (code, _, err) = run(vizscript(&emu), &args);
    assert_eq!(code, 0, "{err}");
    let (code, _, dry) = run(
        vizscript(&emu),
        &["undo", audit.to_str().unwrap(), "--dry-run"],
    );
    assert_eq!(code, 0, "{dry}");
    assert!(!dry.contains("changed since"), "{dry}");
    assert_eq!(
        dry.matches("updateSchedule would put back").count(),
        2,
        "{dry}"
    );
}

/// Once a server refused to filter on ids, an audited change of thousands of tasks reads
/// the whole list twice for its before values (for the first thousand, then for the
/// rest), not once for each thousand.
#[test]
fn before_values_of_a_large_change_read_an_unfiltered_list_once() {
    let emu = emulator_with(|c| {
        c.dataset = one_site(3000, 8);
        c.documented_filters = true;
    });
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let (_guard, script) =
        script_file("set_extract_tasks_priority(extract_tasks().map(|t| t.id), 7);");
    run_audited(&emu, &script, &audit, &[]);
    let reads = emu.stats().by_method.get("getExtractTasks").copied();
    // The script's own read (3 pages), the refused filter (1), the whole list for the
    // first thousand ids (3 pages) and for the other two thousand (3 pages).
    assert_eq!(reads, Some(10), "{:?}", emu.stats());
    let lines = audit_lines(&audit);
    let before: usize = lines
        .iter()
        .map(|l| l["before"].as_object().map_or(0, |b| b.len()))
        .sum();
    assert_eq!(before, 3000, "every id has its before values");
}

/// A call the dry run of an undo refuses puts nothing back for the runs after it, so the
/// dry run goes on as the undo does (here: the older run's rename is then changed since).
#[test]
fn undo_dry_run_counts_no_refused_call_as_put_back() {
    let emu = emulator();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let (_guard, script) = script_file(
        r#"rename_schedule("1", "A1"); switch_site("marketing"); rename_schedule("1", "B1");"#,
    );
    run_audited_on(&emu, &script, &audit, "finance");
    let mut taken = vizscript(&emu);
    taken.env("TABLEAU_SITE", "finance");
    let (code, _, err) = run(
        taken,
        &["call", "setScheduleName", r#"{"id": "4", "name": "A1"}"#],
    );
    assert_eq!(code, 0, "{err}");
    let undo = |extra: &[&str]| {
        let args = [&["undo", audit.to_str().unwrap()][..], extra].concat();
        run(vizscript(&emu), &args)
    };
    let (dry_code, _, dry) = undo(&["--dry-run"]);
    let (code, _, real) = undo(&[]);
    assert_eq!((dry_code, code), (1, 1), "{dry}\n---\n{real}");
    for err in [&dry, &real] {
        assert!(err.contains("changed since"), "{err}");
        assert!(!err.contains("setScheduleName would put back"), "{err}");
    }
}

//! `vizscript run`: the example scripts change the emulator as they promise; dry-run
//! changes nothing and prints the plan; audit lines; errors and their exit codes; batching.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;

use crate::support::*;

fn count_by_schedule(emu: &vizscript::emulator::Emulator, site: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for t in tasks(emu).iter().filter(|t| t["siteId"] == site) {
        *counts
            .entry(t["scheduleId"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    counts
}

fn extract_schedules_by_type(emu: &vizscript::emulator::Emulator) -> HashMap<String, Vec<String>> {
    let mut groups: HashMap<String, Vec<String>> = HashMap::new();
    for s in schedules(emu)
        .iter()
        .filter(|s| s["scheduledAction"] == "Extract" && s["enabled"] != false)
    {
        groups
            .entry(s["scheduleType"].as_str().unwrap().to_string())
            .or_default()
            .push(s["id"].as_str().unwrap().to_string());
    }
    groups
}

fn spread(counts: &HashMap<String, usize>, ids: &[String]) -> usize {
    let values: Vec<usize> = ids
        .iter()
        .map(|id| counts.get(id).copied().unwrap_or(0))
        .collect();
    values.iter().max().unwrap() - values.iter().min().unwrap()
}

#[test]
fn rebalance_evens_out_schedules_of_each_type() {
    let emu = emulator_with(|c| c.dataset = one_site(400, 12));
    let before = count_by_schedule(&emu, "1");
    let groups = extract_schedules_by_type(&emu);
    let (code, out, err) = run(vizscript(&emu), &["run", &example("rebalance.rhai")]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Moved"), "{out}");
    let after = count_by_schedule(&emu, "1");
    let mut improved = false;
    for ids in groups.values().filter(|ids| ids.len() > 1) {
        let total_before: usize = ids
            .iter()
            .map(|id| before.get(id).copied().unwrap_or(0))
            .sum();
        let total_after: usize = ids
            .iter()
            .map(|id| after.get(id).copied().unwrap_or(0))
            .sum();
        assert_eq!(
            total_before, total_after,
            "tasks stay within their schedule type"
        );
        assert!(spread(&after, ids) <= spread(&before, ids));
        improved |= spread(&after, ids) < spread(&before, ids);
        let average = total_after.div_ceil(ids.len());
        let limit = (average * 5).div_ceil(4);
        assert!(
            ids.iter()
                .all(|id| after.get(id).copied().unwrap_or(0) <= limit.max(average))
        );
    }
    assert!(improved, "the sample data has overloaded schedules to fix");
    let (code, out, _) = run(vizscript(&emu), &["run", &example("rebalance.rhai")]);
    assert_eq!(code, 0);
    assert!(
        out.contains("Nothing to rebalance"),
        "a second run finds nothing: {out}"
    );
}

#[test]
fn dry_run_changes_nothing_and_prints_the_plan() {
    let emu = emulator_with(|c| c.dataset = one_site(400, 12));
    let (before, since) = (emu.state(), now_stamp());
    let dir = tempfile::tempdir().unwrap();
    let plan_path = dir.path().join("plan.json");
    let (code, out, err) = run(
        vizscript(&emu),
        &[
            "run",
            &example("rebalance.rhai"),
            "--dry-run",
            "--plan-json",
            plan_path.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Would move"), "{out}");
    let after = emu.state();
    let mut expected = before;
    expect_sign_in(&mut expected, &after, "admin", &since);
    assert_state("nothing changed but the sign-in", &expected, &after);
    assert!(
        err.contains("dry run on site \"\":") && err.contains("setExtractTasksSchedule"),
        "{err}"
    );
    let plan: Value = serde_json::from_str(&std::fs::read_to_string(&plan_path).unwrap()).unwrap();
    let calls = plan.as_array().unwrap();
    assert!(!calls.is_empty());
    assert!(
        calls
            .iter()
            .all(|c| c["method"] == "setExtractTasksSchedule" && c["ids"].as_u64().unwrap() > 0)
    );
    let planned: u64 = calls.iter().map(|c| c["ids"].as_u64().unwrap()).sum();
    assert!(
        out.contains(&format!("Would move {planned} of 400 tasks")),
        "the plan holds every move the script announced: {out}"
    );
    assert_eq!(
        emu.stats().by_method.get("setExtractTasksSchedule"),
        None,
        "no mutation reached the server"
    );
}

#[test]
fn move_tasks_moves_matching_tasks_by_name_or_id() {
    let emu = emulator_with(|c| c.dataset = one_site(300, 8));
    let counts = count_by_schedule(&emu, "1");
    let all = schedules(&emu);
    let extract: Vec<&Value> = all
        .iter()
        .filter(|s| s["scheduledAction"] == "Extract")
        .collect();
    let from = extract
        .iter()
        .max_by_key(|s| counts.get(s["id"].as_str().unwrap()).copied().unwrap_or(0))
        .unwrap();
    let to = extract.iter().find(|s| s["id"] != from["id"]).unwrap();
    let from_id = from["id"].as_str().unwrap().to_string();
    let workbooks_on_from: Vec<String> = tasks(&emu)
        .iter()
        .filter(|t| t["scheduleId"] == from_id.as_str() && t["targetType"] == "Workbook")
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!workbooks_on_from.is_empty());
    let (code, out, err) = run(
        vizscript(&emu),
        &[
            "run",
            &example("move_tasks.rhai"),
            "--",
            from["name"].as_str().unwrap(),
            to["id"].as_str().unwrap(),
            "targetType=Workbook",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("Moved {} tasks", workbooks_on_from.len())),
        "{out}"
    );
    for id in &workbooks_on_from {
        assert_eq!(task(&emu, id)["scheduleId"], to["id"]);
    }
    let datasources_left = tasks(&emu)
        .iter()
        .filter(|t| t["scheduleId"] == from_id.as_str())
        .count();
    assert_eq!(datasources_left, counts[&from_id] - workbooks_on_from.len());
}

#[test]
fn prioritize_sets_priority_by_target_name_pattern() {
    let emu = emulator_with(|c| c.dataset = one_site(200, 6));
    let state = emu.state();
    let names: HashMap<(String, String), String> =
        [("Workbook", "workbooks"), ("Datasource", "datasources")]
            .iter()
            .flat_map(|(kind, key)| {
                state[*key]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .map(move |o| {
                        (
                            (kind.to_string(), o["id"].as_str().unwrap().to_string()),
                            o["name"].as_str().unwrap().to_string(),
                        )
                    })
            })
            .collect();
    let target = |t: &Value| {
        (
            t["targetType"].as_str().unwrap().to_string(),
            t["targetId"].as_str().unwrap().to_string(),
        )
    };
    let before: HashMap<String, Value> = tasks(&emu)
        .into_iter()
        .map(|t| (t["id"].as_str().unwrap().to_string(), t["priority"].clone()))
        .collect();
    let first_task = &tasks(&emu)[0];
    let name = names[&target(first_task)].clone();
    let word = name.split_whitespace().next().unwrap().to_lowercase();
    let pattern = format!("{word}*");
    let (code, out, err) = run(
        vizscript(&emu),
        &["run", &example("prioritize.rhai"), "--", &pattern, "7"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("priority 7"), "{out}");
    let mut matched = 0;
    for t in tasks(&emu) {
        if names[&target(&t)].to_lowercase().starts_with(&word) {
            matched += 1;
            assert_eq!(t["priority"], 7, "{t}");
        } else {
            assert_eq!(
                t["priority"],
                before[t["id"].as_str().unwrap()],
                "unmatched tasks keep their priority: {t}"
            );
        }
    }
    assert!(matched > 0);
}

/// The cells of a table row as `table()` prints it: columns are set apart by two or more
/// spaces inside the border.
fn cells(line: &str) -> Vec<&str> {
    line.trim_matches(|c: char| c == '│' || c.is_whitespace())
        .split("  ")
        .map(str::trim)
        .filter(|cell| !cell.is_empty())
        .collect()
}

#[test]
fn report_lists_schedules_per_site_and_returns_to_the_start() {
    let emu = emulator();
    let (code, out, err) = run(
        vizscript(&emu),
        &["run", &example("report.rhai"), "--site", "marketing"],
    );
    assert_eq!(code, 0, "{err}");
    // Tasks per (site, extract schedule), from the state: every pair is a row with its
    // count, and the total number of pairs is reported.
    let state = emu.state();
    let name_of = |table: &str, id: &Value| -> String {
        let rows = state[table].as_array().unwrap();
        let row = rows.iter().find(|r| r["id"] == *id).unwrap();
        row["name"].as_str().unwrap().to_string()
    };
    let extract: Vec<Value> = schedules(&emu)
        .into_iter()
        .filter(|s| s["scheduledAction"] == "Extract")
        .map(|s| s["id"].clone())
        .collect();
    let mut pairs: HashMap<(String, String), usize> = HashMap::new();
    for t in state["extractTasks"].as_array().unwrap() {
        let schedule = &t["scheduleId"];
        if extract.contains(schedule) {
            let key = (
                name_of("sites", &t["siteId"]),
                name_of("schedules", schedule),
            );
            *pairs.entry(key).or_default() += 1;
        }
    }
    assert!(pairs.len() > 1, "the sample has tasks to count");
    for ((site, schedule), count) in &pairs {
        let row = out.lines().map(cells).find(|cells| {
            cells.first() == Some(&site.as_str()) && cells.get(1) == Some(&schedule.as_str())
        });
        let row = row.unwrap_or_else(|| panic!("no row for {site}/{schedule}: {out}"));
        assert_eq!(
            row.get(3),
            Some(&count.to_string().as_str()),
            "{site}/{schedule}: {row:?}"
        );
    }
    assert!(
        out.contains(&format!("{} site/schedule pairs", pairs.len())),
        "{out}"
    );
    let last_switch = emu
        .calls()
        .into_iter()
        .rev()
        .find(|c| c.method == "switchSite")
        .unwrap();
    assert_eq!(last_switch.params["urlName"], "marketing");
}

#[test]
fn run_stale_runs_exactly_the_stale_tasks_once() {
    let emu = emulator_with(|c| c.dataset = clear_of_age(one_site(150, 6), 48));
    let now = chrono::Utc::now();
    let stale: Vec<String> = tasks(&emu)
        .iter()
        .filter(|t| match t["lastRunAt"].as_str() {
            Some(ts) => {
                (now - chrono::DateTime::parse_from_rfc3339(ts).unwrap().to_utc()).num_minutes()
                    > 48 * 60
            }
            None => true,
        })
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!stale.is_empty());
    let (code, out, err) = run(
        vizscript(&emu),
        &["run", &example("run_stale.rhai"), "--", "48"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("Started {} tasks", stale.len())),
        "{out}"
    );
    let run_calls: Vec<_> = emu
        .calls()
        .into_iter()
        .filter(|c| c.method == "runExtractTasks")
        .collect();
    let mut sent: Vec<String> = run_calls
        .iter()
        .flat_map(|c| {
            c.params["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
        })
        .collect();
    sent.sort();
    let mut expected = stale.clone();
    expected.sort();
    assert_eq!(sent, expected, "each stale task sent exactly once");
}

#[test]
fn audit_file_has_one_line_per_mutating_call() {
    let emu = emulator_with(|c| c.dataset = one_site(400, 12));
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let (code, _, err) = run(
        vizscript(&emu),
        &[
            "run",
            &example("rebalance.rhai"),
            "--audit",
            audit.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&audit).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let received: Vec<_> = emu
        .calls()
        .into_iter()
        .filter(|c| c.method == "setExtractTasksSchedule")
        .collect();
    assert!(!received.is_empty(), "the run sent moves to the server");
    assert!(received.iter().all(|c| c.status == 200));
    assert_eq!(lines.len(), received.len(), "one line per call received");
    for line in &lines {
        assert_eq!(line["method"], "setExtractTasksSchedule");
        assert_eq!(line["outcome"], "ok");
        assert_eq!(line["user"], "admin");
        assert_eq!(line["server"], emu.url());
        assert_eq!(line["failedIds"], serde_json::json!([]));
        assert!(line["time"].as_str().unwrap().ends_with('Z'));
    }
    // Chunks may be sent concurrently: compare the calls as a set, each by its ids and
    // target schedule.
    let call_of = |params: &Value| (params["ids"].to_string(), params["scheduleId"].clone());
    let mut audited: Vec<_> = lines.iter().map(|l| call_of(&l["params"])).collect();
    let mut sent: Vec<_> = received.iter().map(|c| call_of(&c.params)).collect();
    audited.sort_by_key(|(ids, schedule)| (ids.clone(), schedule.to_string()));
    sent.sort_by_key(|(ids, schedule)| (ids.clone(), schedule.to_string()));
    assert_eq!(
        audited, sent,
        "the audit names exactly the calls the server received"
    );
}

#[test]
fn a_partial_batch_failure_can_be_caught() {
    let emu = emulator_with(|c| c.dataset = one_site(50, 4));
    let all = tasks(&emu);
    let (good, schedule) = (
        all[0]["id"].as_str().unwrap(),
        all[0]["scheduleId"].as_str().unwrap(),
    );
    let other = schedules(&emu)
        .into_iter()
        .find(|s| s["scheduledAction"] == "Extract" && s["id"] != schedule)
        .unwrap();
    let (_dir, path) = script_file(&format!(
        r#"
        try {{
            set_extract_tasks_schedule(["{good}", "999999"], "{}");
            print("no error");
        }} catch (e) {{
            print(`${{e.kind}} ${{e.succeeded.len()}} ${{e.failed.len()}} ${{e.failed[0].id}} ${{e.failed[0].code}}`);
        }}
        "#,
        other["id"].as_str().unwrap()
    ));
    let (code, out, err) = run(vizscript(&emu), &["run", &path]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "vizportal 1 1 999999 120002");
    assert_eq!(task(&emu, good)["scheduleId"], other["id"]);
}

#[test]
fn an_uncaught_partial_failure_reports_what_was_applied() {
    let emu = emulator_with(|c| c.dataset = one_site(50, 4));
    let good = tasks(&emu)[0]["id"].as_str().unwrap().to_string();
    let (_dir, path) = script_file(&format!(
        "set_extract_tasks_priority([\"{good}\", \"999999\"], 3);\n"
    ));
    let (code, _, err) = run(vizscript(&emu), &["run", &path]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("applied: 1 ids") && err.contains("failed: 1 ids"),
        "{err}"
    );
    assert!(err.contains(":1:"), "{err}");
    assert_eq!(task(&emu, &good)["priority"], 3);
}

#[test]
fn a_raw_batch_call_that_fails_for_some_ids_says_which_were_applied() {
    let emu = emulator_with(|c| c.dataset = one_site(50, 4));
    let good = tasks(&emu)[0]["id"].as_str().unwrap().to_string();
    // vizportal() and vp:: in a script: the caught error carries the lists.
    let (_dir, path) = script_file(&format!(
        r#"
        for attempt in [|| vizportal("setExtractTasksPriority", #{{ids: ["{good}", "998", "999"], priority: 8}}),
                     || vp::setExtractTasksPriority(#{{ids: ["{good}", "998"], priority: 9}})] {{
            try {{
                attempt.call();
                print("no error");
            }} catch (e) {{
                print(`${{e.kind}} ${{e.method}} ${{e.succeeded}} ${{e.failed.len()}} ${{e.failed[0].id}}`);
            }}
        }}
        "#
    ));
    let (code, out, err) = run(vizscript(&emu), &["run", &path]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            format!("vizportal setExtractTasksPriority [\"{good}\"] 2 998"),
            format!("vizportal setExtractTasksPriority [\"{good}\"] 1 998"),
        ]
    );
    assert_eq!(task(&emu, &good)["priority"], 9);
    // `vizscript call` names the applied ids beside the error.
    let params = format!(r#"{{"ids": ["{good}", "999"], "priority": 7}}"#);
    let (code, out, err) = run(
        vizscript(&emu),
        &["call", "setExtractTasksPriority", &params],
    );
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("(id 999)"), "{err}");
    assert!(
        err.contains(&format!("applied to the other 1 of 2 id(s): {good}")),
        "{err}"
    );
    assert_eq!(task(&emu, &good)["priority"], 7);
}

#[test]
fn parse_errors_exit_2_with_line_and_column_before_any_login() {
    let emu = emulator();
    let (_dir, path) = script_file("let a = 1;\nlet b = (a + ;\n");
    let (code, _, err) = run(vizscript(&emu), &["run", &path]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("{path}:2:")), "{err}");
    assert!(
        err.contains("2 | let b = (a + ;") && err.contains('^'),
        "{err}"
    );
    assert_eq!(
        emu.stats().requests,
        0,
        "no request for a script that does not parse"
    );
}

#[test]
fn runtime_errors_exit_1_with_the_line() {
    let emu = emulator();
    let (_dir, path) = script_file("let s = schedules();\nlet x = s[0].name.nope();\n");
    let (code, _, err) = run(vizscript(&emu), &["run", &path]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&format!("{path}:2:")), "{err}");
    let (_dir, path) = script_file("throw \"stop here\";\n");
    let (code, _, err) = run(vizscript(&emu), &["run", &path]);
    assert_eq!(code, 1);
    assert!(err.contains("stop here"), "{err}");
}

#[test]
fn script_vizportal_errors_are_catchable_maps() {
    let emu = emulator();
    let (_dir, path) = script_file(
        r#"
        try { vizportal("setExtractTasksSchedule", #{ ids: ["1"], scheduleId: "424242" }); }
        catch (e) { print(`${e.kind}|${e.method}|${e.status}|${e.code}`); }
        try { set_extract_tasks_schedule(1.5, "1"); }
        catch (e) { print(`${e.kind}`); }
        print(ARGS);
        "#,
    );
    let (code, out, err) = run(vizscript(&emu), &["run", &path, "--", "a", "b c"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "vizportal|setExtractTasksSchedule|200|120001");
    assert_eq!(lines[1], "usage");
    assert_eq!(lines[2], r#"["a", "b c"]"#);
}

#[test]
fn moving_3000_tasks_takes_a_handful_of_requests() {
    let emu = emulator_with(|c| c.dataset = one_site(3000, 6));
    let target = schedules(&emu)
        .into_iter()
        .find(|s| s["scheduledAction"] == "Extract")
        .unwrap();
    let id = target["id"].as_str().unwrap();
    let (_dir, path) = script_file(&format!(
        "let r = set_extract_tasks_schedule(extract_tasks(), \"{id}\");\nprint(r.succeeded.len());\n"
    ));
    let (code, out, err) = run(vizscript(&emu), &["run", &path]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "3000");
    assert!(tasks(&emu).iter().all(|t| t["scheduleId"] == id));
    let stats = emu.stats();
    assert_eq!(
        stats.by_method["setExtractTasksSchedule"], 3,
        "chunks of 1000"
    );
    assert_eq!(stats.by_method["getExtractTasks"], 3, "pages of 1000");
    assert!(stats.requests <= 10, "{stats:?}");
}

#[test]
fn ctrl_c_stops_a_running_script_cleanly() {
    let emu = emulator();
    // "started" is printed just before the loop, so the interruption lands in it (line 3)
    // however late the signal arrives.
    let (_dir, path) = script_file("let n = 0;\nprint(\"started\");\nloop { n += 1; }\n");
    let child = start_script(&emu, &["run", &path, "--dry-run"]);
    let (_, err) = interrupt(child);
    assert!(err.contains("interrupted") && err.contains(":3:"), "{err}");
    assert!(
        err.contains(": 0 mutating call(s) held back"),
        "the plan is still printed: {err}"
    );
}

/// Against a slow server, `--concurrency` pages are asked for at once. (Against a quick one
/// two are; that case is timed by the machine, so the unit tests of `parallel` check it.)
#[test]
fn a_slow_server_gets_the_full_window() {
    let emu = emulator_with(|c| {
        c.dataset = one_site(2500, 12);
        c.max_page = 300;
        c.faults.latency = Duration::from_millis(30);
    });
    let (_dir, path) = script_file("print(extract_tasks().len());");
    let (code, out, err) = run(vizscript(&emu), &["run", &path, "--concurrency", "6"]);
    assert_eq!((code, out.trim()), (0, "2500"), "{err}");
    assert_eq!(emu.stats().by_method["getExtractTasks"], 9);
    let peak = emu.stats().peak_in_flight;
    assert!(
        (3..=6).contains(&peak),
        "more than two pages at once, never more than six: {peak}"
    );
}

#[test]
fn concurrency_changes_speed_not_outcome() {
    let mut finals = Vec::new();
    for concurrency in ["1", "8"] {
        let emu = emulator_with(|c| {
            c.dataset = one_site(2500, 12);
            c.max_page = 300;
            c.max_batch = 200;
        });
        let args = [
            "run",
            &example("rebalance.rhai"),
            "--concurrency",
            concurrency,
            "--chunk-size",
            "200",
        ];
        let (code, out, err) = run(vizscript(&emu), &args);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("Moved"), "{out}");
        let pages = emu.stats().by_method["getExtractTasks"];
        assert_eq!(
            pages, 9,
            "2500 tasks in pages of 300, whatever the concurrency"
        );
        // Timestamps in the sample are relative to its start; what a script changes is not.
        let placement: Vec<(String, String, Value)> = tasks(&emu)
            .iter()
            .map(|t| {
                (
                    t["id"].to_string(),
                    t["scheduleId"].to_string(),
                    t["priority"].clone(),
                )
            })
            .collect();
        finals.push((out, placement));
    }
    assert!(
        finals[0] == finals[1],
        "same output and same final state with and without concurrency"
    );
}

#[test]
fn a_batch_over_the_servers_limit_fails_whole_with_a_hint_and_a_smaller_chunk_works() {
    let emu = emulator_with(|c| {
        c.dataset = one_site(20, 4);
        c.max_batch = 3;
    });
    let (_dir, path) = script_file(
        "let r = set_extract_tasks_priority(extract_tasks().map(|t| t.id), 9); print(r.succeeded.len());",
    );
    let (code, _, err) = run(vizscript(&emu), &["run", &path]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("hint: if the server takes fewer ids per call, pass a smaller --chunk-size"),
        "{err}"
    );
    assert!(
        tasks(&emu).iter().all(|t| t["priority"] != 9),
        "nothing applied"
    );
    let (code, out, err) = run(vizscript(&emu), &["run", &path, "--chunk-size", "3"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "20");
    assert!(tasks(&emu).iter().all(|t| t["priority"] == 9));
}

#[test]
fn to_json_of_a_map_is_one_valid_json_line_also_holding_a_task() {
    let emu = emulator();
    let (_dir, path) = script_file(
        "print(to_json(#{ site: session_info().site.urlName, task: extract_tasks()[0] }));\nprint(to_json([1, 2]));",
    );
    let (code, out, err) = run(vizscript(&emu), &["run", &path, "--site", "finance"]);
    assert_eq!(code, 0, "{err}");
    let first = out.lines().next().unwrap();
    let value: serde_json::Value = serde_json::from_str(first).expect("valid JSON on one line");
    assert_eq!(value["site"], "finance");
    assert!(value["task"]["id"].is_string(), "{first}");
    assert!(
        out.contains("[\n  1,\n  2\n]"),
        "other values pretty-printed: {out}"
    );
}

#[test]
fn all_pages_takes_a_plain_filter_map_as_extract_tasks_does() {
    let emu = emulator();
    let (_dir, path) = script_file(
        r#"print(all_pages("getExtractTasks", #{filter: #{scheduleId: "1"}}).tasks.len());
print(extract_tasks(#{scheduleId: "1"}).len());"#,
    );
    let (code, out, err) = run(vizscript(&emu), &["run", &path, "--site", "finance"]);
    assert_eq!(code, 0, "{err}");
    let counts: Vec<&str> = out.lines().collect();
    assert_eq!(counts.len(), 2, "{out}");
    assert_eq!(counts[0], counts[1], "{out}");
    assert_ne!(counts[0], "0", "{out}");
}

/// An audit file that cannot be written stops the changes after the one it failed to
/// record, and the run fails saying so: a change missing from the audit cannot be undone.
#[test]
fn an_audit_file_that_cannot_be_written_stops_further_changes() {
    if !std::path::Path::new("/dev/full").exists() {
        return;
    }
    let emu = emulator();
    let (_dir, path) = script_file(
        r#"let id = extract_tasks()[0].id;
print(id);
set_extract_tasks_priority([id], 45);
set_extract_tasks_priority([id], 46);"#,
    );
    let (code, out, err) = run(vizscript(&emu), &["run", &path, "--audit", "/dev/full"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("cannot write the audit file /dev/full"),
        "{err}"
    );
    assert!(
        err.contains("in setExtractTasksPriority: not sent: cannot write the audit file"),
        "{err}"
    );
    assert_eq!(
        task(&emu, out.trim())["priority"],
        45,
        "the second change was not sent"
    );
}

/// Ctrl-C in the middle of a batch stops it between chunks: the chunks not yet sent are
/// not sent, the run says how far it got and exits 130, even when the batch is the
/// script's last statement. The signal is sent once the emulator has seen the batch's
/// first chunk.
#[test]
fn ctrl_c_stops_a_batch_between_chunks() {
    let (_dir, path) = script_file(
        "let ids = extract_tasks().map(|t| t.id);\nprint(\"started\");\nset_extract_tasks_priority(ids, 97);\n",
    );
    let emu = emulator_with(|c| {
        c.dataset = one_site(300, 4);
        c.faults.latency = std::time::Duration::from_millis(40);
    });
    let child = start_script(
        &emu,
        &["run", &path, "--chunk-size", "10", "--concurrency", "1"],
    );
    let chunks = || {
        emu.calls()
            .iter()
            .filter(|c| c.method == "setExtractTasksPriority" && c.status == 200)
            .map(|c| c.params["ids"].as_array().map_or(0, Vec::len))
            .collect::<Vec<_>>()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while chunks().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the batch never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let (_, err) = interrupt(child);
    let sent: usize = chunks().iter().sum();
    assert!(sent < 300, "the rest was not sent: {err}");
    let applied = err
        .split("interrupted: applied to ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse::<usize>().ok());
    assert_eq!(applied, Some(sent), "says how far it got: {err}");
}

/// Diagnostics written to a closed stderr (`2>&1 | head -1`) are dropped; the run goes on
/// and ends with its own exit code (it panicked, exit 101, and stopped halfway).
#[test]
fn a_closed_stderr_does_not_stop_the_run() {
    let emu = emulator();
    let (_dir, path) = script_file(
        "for i in 0..2000 { debug(i); }\nlet id = extract_tasks()[0].id;\nset_extract_tasks_priority([id], 42);\nprint(id);",
    );
    // A pipe whose reader is gone before the run starts: every write to it fails.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_vizscript"))
        .args(["run", &path])
        .env("TABLEAU_SERVER", emu.url())
        .env("TABLEAU_USERNAME", "admin")
        .env("TABLEAU_PASSWORD", "admin")
        .env("NO_PROXY", "*")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::from(writer))
        .spawn()
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let id = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        task(&emu, id.trim())["priority"],
        42,
        "the run went on to the end"
    );
}

#[test]
fn tasks_read_as_maps_in_json_messages_and_after_a_write() {
    let emu = emulator_with(|c| c.dataset = one_site(20, 4));
    let (_dir, path) = script_file(
        r#"let t = extract_tasks()[0];
        let name = t.scheduleName;
        print(to_json(t));
        t.scheduleId = "no such schedule";
        print(t.scheduleName == name && t.scheduleName != "");
        "#,
    );
    let (code, out, err) = run(vizscript(&emu), &["run", &path]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "one JSON line, as for a map: {out}");
    let task: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(task["id"], tasks(&emu)[0]["id"]);
    assert_eq!(lines[1], "true", "a written id leaves the name as read");

    for (call, says) in [
        (
            r#"vizportal("getSessionInfo", t)"#,
            "if that map is a task (from extract_tasks()), it is not taken for a map here: t.to_map() makes it one",
        ),
        (
            r#"exit(t)"#,
            "exit takes an exit code from 0 to 255, not #{\"id\": ",
        ),
        (
            r#"exit("4")"#,
            "not \"4\" (a string; parse_int makes it a number)",
        ),
    ] {
        let (_dir, path) = script_file(&format!("let t = extract_tasks()[0];\n{call};\n"));
        let (code, _, err) = run(vizscript(&emu), &["run", &path]);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains(says), "{call}: {err}");
        assert!(!err.contains("vizscript::"), "{call}: {err}");
    }
}

#[test]
fn save_json_replaces_its_file_only_once_all_is_written() {
    let emu = emulator_with(|c| c.dataset = one_site(5, 2));
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let (_guard, path) = script_file(&format!(
        r#"save_json({state:?}, #{{ done: [1, 2] }});
        try {{ save_json({state:?}, #{{ done: [3], f: |x| x }}); }} catch (e) {{ print(e.message); }}
        print(load_json({state:?}).done);
        "#,
        state = state.to_str().unwrap()
    ));
    let (code, out, err) = run(vizscript(&emu), &["run", &path]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("save_json: "), "{out}");
    assert_eq!(
        lines[1], "[1, 2]",
        "the file kept what was saved before: {out}"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "no temporary file left: {left:?}");

    // Through a link, into a file that keeps its permissions.
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o644)).unwrap();
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&state, &link).unwrap();
    let (_guard, path) = script_file(&format!(
        "save_json({:?}, #{{ done: [9] }});",
        link.to_str().unwrap()
    ));
    let (code, _, err) = run(vizscript(&emu), &["run", &path]);
    assert_eq!(code, 0, "{err}");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let mode = std::fs::metadata(&state).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);
    assert!(std::fs::read_to_string(&state).unwrap().contains('9'));
}

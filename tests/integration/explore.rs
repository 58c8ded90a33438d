//! Exploring the whole API: `vp::` functions (a read, a mutation planned under dry-run
//! and audited otherwise), `all_pages` and `call --all-pages --output csv` over a list of
//! several pages, a REPL session saved with `:save` that `vizscript run` repeats, and the
//! emulator telling a known-but-unmodelled method from a misspelt one.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use vizscript::emulator::Emulator;

use crate::support::*;

fn ids(values: &[Value]) -> BTreeSet<String> {
    values
        .iter()
        .map(|v| v["id"].as_str().expect("string id").to_string())
        .collect()
}

fn schedule(emu: &Emulator, id: &str) -> Value {
    schedules(emu)
        .into_iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("schedule {id}"))
}

/// Tasks on one site, with 230 tasks: several pages at `--page-size 40`.
fn paged_emulator() -> Emulator {
    emulator_with(|c| c.dataset = one_site(230, 12))
}

#[test]
fn a_vp_read_returns_the_result_map() {
    let emu = emulator();
    let (_dir, path) = script_file(
        "let r = vp::getSchedules(#{ page: #{ startIndex: 0, maxItems: 1000 } });\n\
         print(to_json(r.schedules.map(|s| s.id)));\n\
         print(vp::getSessionInfo().user.username);\n",
    );
    let (code, out, err) = run(vizscript(&emu), &["run", &path, "--site", ""]);
    assert_eq!(code, 0, "{err}");
    let (json, user) = out.trim_end().rsplit_once('\n').expect("two prints");
    let listed: Vec<String> = serde_json::from_str(json).unwrap();
    let listed: BTreeSet<String> = listed.into_iter().collect();
    assert_eq!(listed, ids(&schedules(&emu)));
    assert_eq!(user, "admin");
}

#[test]
fn a_vp_mutation_is_planned_under_dry_run_and_audited_otherwise() {
    let emu = emulator();
    let target = schedules(&emu)
        .into_iter()
        .find(|s| s["enabled"] != false)
        .expect("an enabled schedule");
    let id = target["id"].as_str().unwrap().to_string();
    let (_dir, path) = script_file(
        "let r = vp::setEnabledStatusForSchedules(#{ ids: [ARGS[0]], enabled: false });\n\
         print(r.dry_run ?? false);\n",
    );

    let (code, out, err) = run(vizscript(&emu), &["run", &path, "--dry-run", "--", &id]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "true\n");
    assert!(
        err.contains("setEnabledStatusForSchedules"),
        "the plan: {err}"
    );
    assert_ne!(schedule(&emu, &id)["enabled"], false, "nothing changed");

    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let audit_arg = audit.to_str().unwrap();
    let (code, out, err) = run(
        vizscript(&emu),
        &["run", &path, "--audit", audit_arg, "--", &id],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "false\n");
    assert_eq!(schedule(&emu, &id)["enabled"], false);
    let lines: Vec<Value> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["method"], "setEnabledStatusForSchedules");
    assert_eq!(lines[0]["outcome"], "ok");
    assert_eq!(lines[0]["params"]["ids"][0], id.as_str());
}

#[test]
fn all_pages_merges_every_page_of_a_list() {
    let emu = paged_emulator();
    let (_dir, path) = script_file(
        "let r = all_pages(\"getExtractTasks\");\n\
         print(to_json(#{ tasks: r.tasks.map(|t| t.id), schedules: r.schedules.map(|s| s.id),\n\
                          more: r.moreItems, total: r.totalCount }));\n",
    );
    let (code, out, err) = run(vizscript(&emu), &["run", &path, "--page-size", "40"]);
    assert_eq!(code, 0, "{err}");
    let merged: Value = serde_json::from_str(&out).unwrap();
    let task_ids: Vec<String> = serde_json::from_value(merged["tasks"].clone()).unwrap();
    let expected = tasks(&emu);
    assert_eq!(
        task_ids.len(),
        expected.len(),
        "no task twice, none missing"
    );
    assert_eq!(
        task_ids.iter().cloned().collect::<BTreeSet<_>>(),
        ids(&expected)
    );
    assert_eq!(merged["more"], false);
    assert_eq!(merged["total"], expected.len());

    let schedule_ids: Vec<String> = serde_json::from_value(merged["schedules"].clone()).unwrap();
    let used: BTreeSet<String> = expected
        .iter()
        .map(|t| t["scheduleId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(schedule_ids.len(), used.len(), "each schedule once");
    assert_eq!(schedule_ids.into_iter().collect::<BTreeSet<_>>(), used);

    let pages = emu
        .calls()
        .iter()
        .filter(|c| c.method == "getExtractTasks")
        .count();
    assert_eq!(pages, 230_usize.div_ceil(40), "one request per page");
}

#[test]
fn call_all_pages_prints_the_list_as_csv() {
    let emu = paged_emulator();
    let (code, out, err) = run(
        vizscript(&emu),
        &[
            "call",
            "getExtractTasks",
            "--all-pages",
            "--output",
            "csv",
            "--page-size",
            "40",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let mut lines = out.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    assert_eq!(header[0], "id");
    let priority = header.iter().position(|c| *c == "priority").unwrap();
    let rows: BTreeMap<String, String> = lines
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            (cells[0].to_string(), cells[priority].to_string())
        })
        .collect();
    let expected = tasks(&emu);
    assert_eq!(rows.len(), expected.len(), "{out}");
    for task in &expected {
        let id = task["id"].as_str().unwrap();
        assert_eq!(rows[id], task["priority"].to_string(), "task {id}");
    }
}

#[test]
fn the_emulator_tells_a_known_unmodelled_method_from_a_misspelt_one() {
    let emu = emulator();
    let (code, _, err) = run(vizscript(&emu), &["call", "getViews"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("exists on real Tableau servers but is not modelled by the emulator"),
        "{err}"
    );
    let (code, _, err) = run(vizscript(&emu), &["call", "getViewz"]);
    assert_eq!(code, 1, "an unknown name is sent as given: {err}");
    assert!(err.contains("unknown method"), "{err}");
    assert!(!err.contains("not modelled"), "{err}");
    let statuses: Vec<(String, u16)> = emu
        .calls()
        .into_iter()
        .filter(|c| c.method.starts_with("getView"))
        .map(|c| (c.method, c.status))
        .collect();
    assert_eq!(
        statuses,
        [("getViews".to_string(), 501), ("getViewz".to_string(), 400)]
    );
}

#[test]
fn shell_completions_offer_the_known_methods() {
    let cmd = assert_cmd::Command::cargo_bin("vizscript").unwrap();
    let (code, out, _) = run(cmd, &["completions", "bash"]);
    assert_eq!(code, 0);
    for name in [
        "getExtractTasks",
        "setEnabledStatusForSchedules",
        "getViews",
    ] {
        assert!(out.contains(name), "{name} in the bash completions");
    }
}

/// Priorities of every task and the enabled flag of every schedule.
fn effect(emu: &Emulator) -> (BTreeMap<String, Value>, BTreeMap<String, Value>) {
    let by_id = |items: Vec<Value>, field: &str| {
        items
            .iter()
            .map(|i| (i["id"].as_str().unwrap().to_string(), i[field].clone()))
            .collect()
    };
    (
        by_id(tasks(emu), "priority"),
        by_id(schedules(emu), "enabled"),
    )
}

#[test]
fn save_writes_a_script_that_run_repeats_to_the_same_effect() {
    let explored = emulator();
    let fresh = emulator();
    assert_eq!(effect(&explored), effect(&fresh), "same sample data");
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("explore.rhai");
    let input = format!(
        "let ids = extract_tasks(#{{ scheduleId: \"2\" }}).map(|t| t.id);\n\
         ids.len()\n\
         set_extract_tasks_priority(ids, _ % 7 + 3).succeeded.len()\n\
         nope()\n\
         let login = #{{ password: \"hunter2\" }};\n\
         vp::setEnabledStatusForSchedules(#{{ ids: [\"5\"], enabled: false }})\n\
         :history 2\n\
         :site finance\n\
         :save {}\n",
        saved.display()
    );
    let mut cmd = vizscript(&explored);
    cmd.write_stdin(input);
    let (code, out, err) = run(cmd, &["repl", "--site", ""]);
    assert_eq!(code, 1, "the failed input counts: {err}");
    assert!(err.contains("left out of :history and :save"), "{err}");
    assert!(
        out.contains(
            "  3  set_extract_tasks_priority(ids, _ % 7 + 3).succeeded.len()\n  \
             4  vp::setEnabledStatusForSchedules("
        ),
        "{out}"
    );
    assert!(
        err.contains(&format!("saved 5 inputs to {}", saved.display())),
        "{err}"
    );
    assert_ne!(
        effect(&explored),
        effect(&fresh),
        "the session changed things"
    );

    let text = std::fs::read_to_string(&saved).unwrap();
    assert!(text.starts_with("// Saved by vizscript repl on "), "{text}");
    // Where the first input ran, not where the session ended up.
    assert!(text.contains(&format!(
        "// Server {}, site \"\", user admin.",
        explored.url()
    )));
    assert!(
        text.contains("vizscript run FILE --site \"\" --dry-run"),
        "{text}"
    );
    assert!(
        text.trim_end().ends_with("switch_site(\"finance\");"),
        "{text}"
    );
    assert!(
        !text.contains("hunter2") && !text.contains("nope()"),
        "{text}"
    );

    let (code, _, err) = run(
        vizscript(&fresh),
        &["run", saved.to_str().unwrap(), "--site", ""],
    );
    assert_eq!(code, 0, "{err}\n{text}");
    assert_eq!(
        effect(&explored),
        effect(&fresh),
        "the script repeats the session"
    );
}

#[test]
fn functions_list_every_vp_method_with_its_doc() {
    let cmd = assert_cmd::Command::cargo_bin("vizscript").unwrap();
    let (code, out, _) = run(cmd, &["functions", "--json"]);
    assert_eq!(code, 0);
    let list: Vec<Value> = serde_json::from_str(&out).unwrap();
    let docs = |name: &str| -> Vec<String> {
        list.iter()
            .filter(|f| f["name"] == name)
            .map(|f| f["doc"].as_str().unwrap().to_string())
            .collect()
    };
    for method in vizscript::wire::KNOWN_METHODS {
        let overloads = docs(&format!("vp::{}", method.name));
        assert_eq!(
            overloads.len(),
            2,
            "{} with and without params",
            method.name
        );
        assert!(
            overloads
                .iter()
                .any(|d| d.contains("```rhai") && d.contains("Confidence: ")),
            "{}",
            method.name
        );
    }
    assert_eq!(docs("all_pages").len(), 2);
}

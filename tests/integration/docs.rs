//! Generated documentation cannot drift from the code.

use crate::support::run;

#[test]
fn scripting_reference_matches_the_code() {
    let path = format!("{}/docs/scripting.md", env!("CARGO_MANIFEST_DIR"));
    let committed = std::fs::read_to_string(&path).expect("docs/scripting.md exists");
    assert!(
        committed == vizscript::script::markdown(),
        "docs/scripting.md is stale: run `cargo run -- functions --markdown > docs/scripting.md`"
    );
}

#[test]
fn functions_lists_the_contract_api_with_docs() {
    let cmd = assert_cmd::Command::cargo_bin("vizscript").unwrap();
    let (code, out, _) = run(cmd, &["functions", "--json"]);
    assert_eq!(code, 0);
    let list: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    for name in [
        "vizportal",
        "session_info",
        "switch_site",
        "sites",
        "extract_tasks",
        "schedules",
        "set_extract_tasks_schedule",
        "set_extract_tasks_priority",
        "run_extract_tasks",
        "delete_extract_tasks",
        "subscriptions",
        "set_subscriptions_schedule",
        "workbooks",
        "datasources",
        "projects",
        "users",
        "table",
        "to_json",
    ] {
        let f = list
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("{name} listed"));
        assert!(
            f["doc"].as_str().unwrap().contains("```rhai"),
            "{name} has an example"
        );
        assert!(
            f["signature"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{name}("))
        );
    }
    let overloads = list.iter().filter(|f| f["name"] == "extract_tasks").count();
    assert_eq!(overloads, 2, "with and without a filter");
}

#[test]
fn completions_are_generated_for_the_shell() {
    let cmd = assert_cmd::Command::cargo_bin("vizscript").unwrap();
    let (code, out, _) = run(cmd, &["completions", "bash"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("_vizscript()") && out.contains("--dry-run"),
        "{}",
        &out[..out.len().min(200)]
    );
}

#[test]
fn the_hand_written_data_file_in_the_docs_loads_and_serves() {
    let path = format!("{}/docs/data-format.md", env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(&path).unwrap();
    let example = doc
        .split("<!-- data-file:start -->\n```json\n")
        .nth(1)
        .and_then(|rest| rest.split("```\n<!-- data-file:end -->").next())
        .expect("the example is marked");
    let data: serde_json::Value = serde_json::from_str(example).unwrap();
    let data = vizscript::emulator::Dataset::from_json(data).expect("it loads");
    let emu = crate::support::emulator_with(|c| c.dataset = data);
    let (_dir, script) = crate::support::script_file(
        "for t in extract_tasks() { print(`${t.id} ${t.targetName} ${t.scheduleName} ${t.priority}`); }",
    );
    let mut cmd = crate::support::vizscript(&emu);
    cmd.env("TABLEAU_USERNAME", "ana")
        .env("TABLEAU_PASSWORD", "ana");
    let (code, out, err) = run(cmd, &["run", &script, "--site", "finance"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "1 Budget Nightly 50\n2 Ledger Nightly 20\n");
}

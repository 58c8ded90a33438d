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

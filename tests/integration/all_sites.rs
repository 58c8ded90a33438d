//! `run --all-sites` and `run --sites`: the script once per site, each on its own site,
//! output kept together per site, one failing site not stopping the others, and token
//! sessions running one site at a time.

use std::collections::BTreeMap;

use vizscript::emulator::{Emulator, SAMPLE_TOKEN};

use crate::support::*;

/// Site URL name -> its id, for every site of the emulator.
fn site_ids(emu: &Emulator) -> BTreeMap<String, String> {
    emu.state()["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["urlName"].as_str().unwrap().to_string(),
                s["id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Priorities of the tasks of one site.
fn priorities_on(emu: &Emulator, site_id: &str) -> Vec<i64> {
    tasks(emu)
        .iter()
        .filter(|t| t["siteId"] == site_id)
        .map(|t| t["priority"].as_i64().unwrap())
        .collect()
}

/// Sets every task of the site to priority 7, unless the site is the one named by ARGS[0].
const SCRIPT: &str = r#"let site = session_info().site.urlName;
if ARGS.len() > 0 && site == ARGS[0] { throw `refusing ${site}`; }
let ids = extract_tasks().map(|t| t.id);
print(`site=${site}`);
print(`tasks=${ids.len()}`);
set_extract_tasks_priority(ids, 7);
print(`done=${site}`);
debug(`debugged ${site}`);"#;

#[test]
fn every_site_runs_the_script_on_its_own_site_with_output_kept_together() {
    let emu = emulator();
    let ids = site_ids(&emu);
    let (_dir, script) = script_file(SCRIPT);
    let (code, out, err) = run(vizscript(&emu), &["run", &script, "--all-sites"]);
    assert_eq!(code, 0, "{err}");
    for (url, id) in &ids {
        let priorities = priorities_on(&emu, id);
        assert!(!priorities.is_empty());
        assert!(
            priorities.iter().all(|p| *p == 7),
            "site {url:?}: {priorities:?}"
        );
    }
    let blocks: Vec<&str> = out.split("── site ").skip(1).collect();
    assert_eq!(blocks.len(), ids.len(), "{out}");
    for block in &blocks {
        let url = block
            .lines()
            .find_map(|l| l.strip_prefix("site="))
            .unwrap_or_else(|| panic!("{block}"));
        assert!(
            block.contains(&format!("done={url}")),
            "a block holds one site's run: {block}"
        );
        assert_eq!(
            block.matches("site=").count(),
            1,
            "not interleaved: {block}"
        );
        let expected = tasks(&emu)
            .iter()
            .filter(|t| t["siteId"] == ids[url].as_str())
            .count();
        assert!(block.contains(&format!("tasks={expected}")), "{block}");
    }
    assert!(err.contains("3 of 3 sites succeeded"), "{err}");
    for url in ids.keys() {
        // A debug line says whose it is: sites run at once share stderr.
        let line = format!("debug site {url:?} [");
        assert!(
            err.lines()
                .any(|l| l.starts_with(&line) && l.contains(&format!("debugged {url}"))),
            "{err}"
        );
    }
    assert_eq!(
        emu.stats().by_method.get("login").copied(),
        Some(4),
        "one session per site, plus the listing one"
    );
}

#[test]
fn one_failing_site_does_not_stop_the_others_and_decides_the_exit_code() {
    let emu = emulator();
    let ids = site_ids(&emu);
    let before = priorities_on(&emu, &ids["marketing"]);
    let (_dir, script) = script_file(SCRIPT);
    let (code, _out, err) = run(
        vizscript(&emu),
        &["run", &script, "--all-sites", "--", "marketing"],
    );
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        priorities_on(&emu, &ids["marketing"]),
        before,
        "the failing site changed nothing"
    );
    for url in ["", "finance"] {
        assert!(
            priorities_on(&emu, &ids[url]).iter().all(|p| *p == 7),
            "site {url:?}"
        );
    }
    assert!(err.contains("refusing marketing"), "{err}");
    assert!(err.contains("2 of 3 sites succeeded"), "{err}");
    let row = err
        .lines()
        .find(|l| l.starts_with("\"marketing\""))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(row.contains("error:"), "{row}");
}

#[test]
fn named_sites_only_and_the_dry_run_plan_names_each_site() {
    let emu = emulator();
    let ids = site_ids(&emu);
    let before = tasks(&emu);
    let (_dir, script) = script_file(SCRIPT);
    let (code, out, err) = run(
        vizscript(&emu),
        &[
            "run",
            &script,
            "--sites",
            "finance,marketing,Finance",
            "--dry-run",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.matches("site=finance").count(), 1, "once each: {out}");
    assert_eq!(tasks(&emu), before, "a dry run changes nothing");
    assert!(
        out.contains("site=finance") && out.contains("site=marketing"),
        "{out}"
    );
    assert!(
        !out.contains("site=\n"),
        "the Default site was not named: {out}"
    );
    let plan: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("setExtractTasksPriority"))
        .collect();
    assert_eq!(plan.len(), 2, "{err}");
    assert!(plan.iter().any(|l| l.contains("site \"finance\"")), "{err}");
    assert!(
        plan.iter().any(|l| l.contains("site \"marketing\"")),
        "{err}"
    );
    let _ = ids;

    // Names as people type them: spaces around a name, and "" for the Default site.
    let (code, out, err) = run(
        vizscript(&emu),
        &["run", &script, "--sites", "\"\", marketing ", "--dry-run"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("site=\n") && out.contains("site=marketing"),
        "{out}"
    );
    // --site picks one site: beside --sites or --all-sites it is a usage error, not ignored.
    let (code, _, err) = run(
        vizscript(&emu),
        &["run", &script, "--all-sites", "--site", "finance"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--site picks one site"), "{err}");
}

#[test]
fn a_token_runs_its_sites_one_at_a_time_signing_in_for_each() {
    let emu = emulator();
    let ids = site_ids(&emu);
    let state = tempfile::tempdir().unwrap();
    let (_dir, script) = script_file(SCRIPT);
    let mut cmd = vizscript(&emu);
    cmd.env_remove("TABLEAU_USERNAME")
        .env_remove("TABLEAU_PASSWORD")
        .env("VIZSCRIPT_STATE_DIR", state.path())
        .env("TABLEAU_PAT_NAME", SAMPLE_TOKEN.0)
        .env("TABLEAU_PAT_SECRET", SAMPLE_TOKEN.1);
    let (code, _out, err) = run(
        cmd,
        &["run", &script, "--all-sites", "--site-concurrency", "8"],
    );
    assert_eq!(code, 0, "{err}");
    for id in ids.values() {
        assert!(priorities_on(&emu, id).iter().all(|p| *p == 7));
    }
    let stats = emu.stats().by_method;
    assert_eq!(stats.get("login"), None, "no password login");
    let sign_ins = stats.get("REST auth/signin").copied().unwrap_or(0);
    let sign_outs = stats.get("REST auth/signout").copied().unwrap_or(0);
    assert!(sign_ins >= 3, "a sign-in per site: {stats:?}");
    assert_eq!(
        sign_ins, sign_outs,
        "every token session ended before the next: {stats:?}"
    );
}

/// One audit file for the whole run: a line that cannot be written stops the changes of the
/// sites that come after, and each of them says why.
#[test]
fn an_audit_file_that_cannot_be_written_stops_every_site_after_it() {
    if !std::path::Path::new("/dev/full").exists() {
        return;
    }
    let emu = emulator();
    let ids = site_ids(&emu);
    let before: Vec<Vec<i64>> = ids.values().map(|id| priorities_on(&emu, id)).collect();
    let (_dir, script) = script_file(SCRIPT);
    let args = [
        "run",
        &script,
        "--all-sites",
        "--site-concurrency",
        "1",
        "--audit",
        "/dev/full",
    ];
    let (code, _, err) = run(vizscript(&emu), &args);
    assert_eq!(code, 1, "{err}");
    let after: Vec<Vec<i64>> = ids.values().map(|id| priorities_on(&emu, id)).collect();
    let changed = before.iter().zip(&after).filter(|(b, a)| b != a).count();
    assert_eq!(changed, 1, "only the first site's change went out: {err}");
    assert!(
        err.contains("not sent: cannot write the audit file"),
        "{err}"
    );
    assert!(err.contains("0 of 3 sites succeeded"), "{err}");
}

#[test]
fn a_dry_run_over_sites_sees_the_schedule_changes_the_other_sites_planned() {
    let emu = emulator();
    // Schedules belong to the server: the first site's run creates the schedule, the
    // others' would find the name taken, in the dry run as in the real run.
    let (_dir, script) = script_file(
        r#"create_schedule(#{ name: "Shared nightly", scheduledAction: "Extract",
            scheduleType: "Daily", scheduleDetails: #{ startTime: 60 } });"#,
    );
    let schedules_before = schedules(&emu).len();
    for flags in [&["--dry-run"][..], &[]] {
        let mut args = vec!["run", &script, "--all-sites"];
        args.extend_from_slice(flags);
        let (code, _, err) = run(vizscript(&emu), &args);
        assert_eq!(code, 1, "{flags:?}: {err}");
        assert!(err.contains("1 of 3 sites succeeded"), "{flags:?}: {err}");
        if flags.is_empty() {
            assert_eq!(schedules(&emu).len(), schedules_before + 1);
        } else {
            assert!(
                err.contains("a schedule named \"Shared nightly\" is planned already ((new schedule of plan call 1 on site"),
                "{err}"
            );
            assert_eq!(schedules(&emu).len(), schedules_before, "a dry run");
        }
    }
}

#[test]
fn sites_dry_running_at_once_keep_their_stand_in_ids_apart() {
    let emu = emulator();
    // Each site makes a schedule; the Default site deletes its own, the others move tasks
    // to theirs: every site's stand-in is "plan call 1", each its own.
    let (_dir, script) = script_file(
        r#"let site = session_info().site.urlName;
        let s = create_schedule(#{ name: `${site} temp`, scheduledAction: "Extract",
            scheduleType: "Daily", scheduleDetails: #{ startTime: 60 } });
        if site == "" { delete_schedules(s.id); }
        else {
            sleep(0.2);
            let ts = extract_tasks().extract(0, 2);
            set_extract_tasks_schedule(ts, s.id);
            set_extract_tasks_priority(ts, 5);
        }"#,
    );
    for _ in 0..3 {
        let (code, _, err) = run(
            vizscript(&emu),
            &["run", &script, "--all-sites", "--dry-run"],
        );
        assert_eq!(code, 0, "{err}");
        assert!(err.contains("3 of 3 sites succeeded"), "{err}");
        // Each site's calls are numbered from 1, as its stand-in ids count them.
        assert!(
            err.contains("1. site \"finance\": createSchedule")
                && err.contains("2. site \"finance\": setExtractTasksSchedule 2 ids"),
            "{err}"
        );
    }
}

//! The schedule functions and `create_extract_tasks`: each one's effect on the emulator's
//! state, the field checks made before anything is sent, the emulator's own error codes,
//! the dry-run plan and the audit lines with their before values.

use serde_json::{Value, json};
use vizscript::emulator::Emulator;

use crate::support::*;

/// Runs a script text against `emu` with extra flags; (code, stdout, stderr).
fn run_script(emu: &Emulator, text: &str, flags: &[&str]) -> (i32, String, String) {
    let (_dir, path) = script_file(text);
    let mut args = vec!["run", path.as_str()];
    args.extend_from_slice(flags);
    run(vizscript(emu), &args)
}

/// The JSON a script printed as its last line.
fn last_json(out: &str) -> Value {
    let line = out.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// Fields of a daily extract schedule at 1 AM, for `create_schedule` maps in scripts.
const DAILY: &str =
    r#"scheduledAction: "Extract", scheduleType: "Daily", scheduleDetails: #{ startTime: 60 }"#;

/// The schedules of `emu` that run `action` (`Extract`, `Subscription`): (id, name).
fn running(emu: &Emulator, action: &str) -> Vec<(String, String)> {
    schedules(emu)
        .iter()
        .filter(|s| s["scheduledAction"] == action)
        .map(|s| {
            let text = |f: &str| s[f].as_str().unwrap().to_string();
            (text("id"), text("name"))
        })
        .collect()
}

fn schedule_row(emu: &Emulator, id: &str) -> Value {
    schedules(emu)
        .into_iter()
        .find(|s| s["id"] == id)
        .unwrap_or(Value::Null)
}

/// The row without `runNextAt` (computed from the clock), and the time of day of it.
fn without_next_run(mut row: Value) -> (Value, String) {
    let next = row
        .as_object_mut()
        .unwrap()
        .remove("runNextAt")
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    (row, next.get(10..).unwrap_or_default().to_owned())
}

const CREATE: &str = r#"
let s = create_schedule(#{
    name: "Nightly 2am", scheduledAction: "Extract", scheduleType: "Daily",
    scheduleDetails: #{ startTime: 120 }, priority: 40,
});
print(s.id);
"#;

#[test]
fn create_update_rename_disable_enable_delete_each_change_the_server() {
    let emu = emulator_with(|c| c.dataset = one_site(30, 6));
    let (code, out, err) = run_script(&emu, CREATE, &[]);
    assert_eq!(code, 0, "{err}");
    let id = out.trim().to_owned();
    let (row, next) = without_next_run(schedule_row(&emu, &id));
    let mut expected = json!({"id": id, "name": "Nightly 2am", "scheduledAction": "Extract",
        "scheduleType": "Daily", "scheduleDetails": {"startTime": 120}, "priority": 40,
        "parallel": true, "enabled": true});
    assert_eq!(row, expected);
    assert_eq!(next, "T02:00:00.000+00:00");

    let update = format!(
        r#"let s = update_schedule("{id}", #{{ scheduleType: "Weekly",
            scheduleDetails: #{{ startTime: 300, recurrenceDaysOfWeek: ["Mon", "Thu"] }},
            parallel: false }});
        print(`${{s.scheduleType}} ${{s.priority}}`);"#
    );
    emu.reset_stats();
    let (code, out, err) = run_script(&emu, &update, &[]);
    assert_eq!((code, out.trim()), (0, "Weekly 40"), "{err}");
    let sent = emu
        .calls()
        .into_iter()
        .find(|c| c.method == "updateSchedule")
        .expect("updateSchedule sent");
    assert_eq!(
        sent.params,
        json!({"id": id, "name": "Nightly 2am", "scheduledAction": "Extract", "priority": 40,
            "parallel": false, "scheduleType": "Weekly",
            "scheduleDetails": {"startTime": 300, "recurrenceDaysOfWeek": ["Mon", "Thu"]}}),
        "every field is sent, changed or not"
    );
    let (row, next) = without_next_run(schedule_row(&emu, &id));
    expected["scheduleType"] = json!("Weekly");
    expected["scheduleDetails"] = json!({"startTime": 300, "recurrenceDaysOfWeek": ["Mon", "Thu"]});
    expected["parallel"] = json!(false);
    assert_eq!(row, expected);
    assert_eq!(next, "T05:00:00.000+00:00");

    let rename = format!(r#"print(to_json(rename_schedule({id}, "Mon and Thu")));"#);
    let (code, out, err) = run_script(&emu, &rename, &[]);
    assert_eq!(code, 0, "{err}");
    let printed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        printed,
        json!({"id": id, "name": "Mon and Thu", "dry_run": false})
    );
    expected["name"] = json!("Mon and Thu");
    assert_eq!(without_next_run(schedule_row(&emu, &id)).0, expected);

    let others: Vec<String> = schedules(&emu)
        .iter()
        .filter(|s| s["scheduledAction"] == "Extract" && s["id"] != id.as_str())
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .take(2)
        .collect();
    let disable = format!(
        r#"print(to_json(disable_schedules(["{id}", "{}", "{}"])));"#,
        others[0], others[1]
    );
    let (code, out, err) = run_script(&emu, &disable, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        last_json(&out),
        json!({"requested": 3, "succeeded": [id, others[0], others[1]], "failed": [],
            "skipped": [], "unknown": [], "dry_run": false})
    );
    for s in [&id, &others[0], &others[1]] {
        let row = schedule_row(&emu, s);
        assert_eq!(row["enabled"], false, "{row}");
    }
    let enable = format!(r#"print(to_json(enable_schedules("{}")));"#, others[0]);
    let (code, _, err) = run_script(&emu, &enable, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(schedule_row(&emu, &others[0])["enabled"], true);
    assert_eq!(schedule_row(&emu, &others[1])["enabled"], false);

    let on_other = tasks(&emu)
        .iter()
        .filter(|t| t["scheduleId"] == others[1].as_str())
        .count();
    assert!(on_other > 0, "the sample has tasks on the second schedule");
    let tasks_before = tasks(&emu).len();
    let delete = format!(
        r#"print(to_json(delete_schedules(["{id}", "{}"])));"#,
        others[1]
    );
    let (code, out, err) = run_script(&emu, &delete, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(last_json(&out)["succeeded"], json!([id, others[1]]));
    assert_eq!(schedule_row(&emu, &id), Value::Null);
    assert_eq!(schedule_row(&emu, &others[1]), Value::Null);
    assert_eq!(
        tasks(&emu).len(),
        tasks_before - on_other,
        "the schedule's tasks went with it"
    );
}

#[test]
fn bad_fields_are_refused_naming_the_field_before_anything_is_sent() {
    let emu = emulator_with(|c| c.dataset = one_site(10, 4));
    let script = r#"
        let base = #{ name: "X", scheduledAction: "Extract", scheduleType: "Daily",
                      scheduleDetails: #{ startTime: 60 } };
        let tries = [
            #{ scheduleType: "Yearly" },
            #{ scheduledAction: "Refresh" },
            #{ priority: 0 },
            #{ priority: 101 },
            #{ scheduleType: "Hourly", scheduleDetails: #{ startTime: 0, recurrenceMinutes: 45 } },
            #{ scheduleType: "Weekly", scheduleDetails: #{ startTime: 0 } },
            #{ scheduleType: "Weekly", scheduleDetails: #{ startTime: 0, recurrenceDaysOfWeek: ["Funday"] } },
            #{ scheduleType: "Weekly", scheduleDetails: #{ startTime: 0, recurrenceDaysOfWeek: ["Mon", "Mon"] } },
            #{ scheduleDetails: #{ startTime: 60, recurrenceDaysOfWeek: ["Mon"] } },
            #{ scheduleType: "Monthly", scheduleDetails: #{ startTime: 0, recurrenceDayOfMonth: "32" } },
            #{ scheduleDetails: #{ startTime: 1440 } },
            #{ name: "" },
        ];
        for t in tries {
            let fields = base;
            fields += t;
            try { create_schedule(fields); print("sent"); } catch (e) { print(`${e.kind}: ${e.message}`); }
        }
        try { update_schedule("1", #{ priority: -5 }); } catch (e) { print(`${e.kind}: ${e.message}`); }
        try { create_extract_tasks("Flow", ["1"], "1"); } catch (e) { print(`${e.kind}: ${e.message}`); }
        try { create_extract_tasks("Workbook", ["1"], "1", #{ incremetal: true }); } catch (e) { print(`${e.kind}: ${e.message}`); }
        try { run_extract_tasks(["1"], #{ wiat: true }); } catch (e) { print(`${e.kind}: ${e.message}`); }
        try { run_extract_tasks(["1"], #{ wait: true, timeout: 0 }); } catch (e) { print(`${e.kind}: ${e.message}`); }
        try { run_schedules(["1"], #{ wait: "yes" }); } catch (e) { print(`${e.kind}: ${e.message}`); }
    "#;
    emu.reset_stats();
    let (code, out, err) = run_script(&emu, script, &[]);
    assert_eq!(code, 0, "{err}");
    let expected = [
        "usage: create_schedule: scheduleType: must be one of Hourly, Daily, Weekly, Monthly, not \"Yearly\"",
        "usage: create_schedule: scheduledAction: must be one of Extract, Subscription, not \"Refresh\"",
        "usage: create_schedule: priority: must be an integer from 1 (runs first) to 100, not 0",
        "usage: create_schedule: priority: must be an integer from 1 (runs first) to 100, not 101",
        "usage: create_schedule: scheduleDetails.recurrenceMinutes: must be one of 15, 30, 60, 120, 240, 360, 480, 720, not 45",
        "usage: create_schedule: scheduleDetails.recurrenceDaysOfWeek: required for a Weekly schedule, an array of Sun, Mon, Tue, Wed, Thu, Fri, Sat",
        "usage: create_schedule: scheduleDetails.recurrenceDaysOfWeek: must be a non-empty array of Sun, Mon, Tue, Wed, Thu, Fri, Sat (spelled so, each once), not [\"Funday\"]",
        "usage: create_schedule: scheduleDetails.recurrenceDaysOfWeek: must be a non-empty array of Sun, Mon, Tue, Wed, Thu, Fri, Sat (spelled so, each once), not [\"Mon\",\"Mon\"]",
        "usage: create_schedule: scheduleDetails.recurrenceDaysOfWeek: a Daily schedule does not use it (the server would drop it); it takes startTime",
        "usage: create_schedule: scheduleDetails.recurrenceDayOfMonth: must be a day \"1\" to \"31\", not \"32\"",
        "usage: create_schedule: scheduleDetails.startTime: must be minutes after midnight, 0 to 1439, not 1440",
        "usage: create_schedule: name: must be a non-empty string, not \"\"",
        "usage: update_schedule: priority: must be an integer from 1 (runs first) to 100, not -5",
        "usage: create_extract_tasks: target_type must be one of Workbook, Datasource, not \"Flow\"",
        "usage: create_extract_tasks: unknown option `incremetal`; the option is `incremental`",
        "usage: run_extract_tasks: unknown option `wiat`; the options are `wait` and `timeout`",
        "usage: run_extract_tasks: timeout must be a number of seconds above 0",
        "usage: run_schedules: wait must be true or false",
    ];
    assert_eq!(out.lines().collect::<Vec<_>>(), expected);
    let sent: Vec<String> = emu.calls().into_iter().map(|c| c.method).collect();
    assert!(
        !sent
            .iter()
            .any(|m| m.starts_with("create") || m.starts_with("update") || m.starts_with("run")),
        "{sent:?}"
    );
}

#[test]
fn the_emulator_refuses_bad_schedules_with_tableaus_codes() {
    let emu = emulator_with(|c| c.dataset = one_site(10, 4));
    let script = r#"
        let base = #{ name: "X", scheduledAction: "Extract", scheduleType: "Daily",
                      scheduleDetails: #{ startTime: 60 }, priority: 50, parallel: true };
        let tries = [
            #{ scheduleType: "Yearly" },
            #{ scheduledAction: "Refresh" },
            #{ priority: 0 },
            #{ scheduleType: "Hourly", scheduleDetails: #{ startTime: 0, recurrenceMinutes: 45 } },
            #{ scheduleType: "Weekly", scheduleDetails: #{ startTime: 0 } },
            #{ scheduleType: "Weekly", scheduleDetails: #{ startTime: 0, recurrenceDaysOfWeek: ["Funday"] } },
            #{ scheduleType: "Monthly", scheduleDetails: #{ startTime: 0 } },
            #{ scheduleType: "Monthly", scheduleDetails: #{ startTime: 0, recurrenceDayOfMonth: "32" } },
            #{ scheduleDetails: #{ startTime: 1440 } },
            #{ name: " " },
        ];
        for t in tries {
            let fields = base;
            fields += t;
            try { vizportal("createSchedule", fields); print("sent"); } catch (e) { print(e.code); }
        }
        try { vizportal("setScheduleName", #{ id: "999", name: "Y" }); } catch (e) { print(e.code); }
        try { vizportal("runSchedules", #{ ids: ["999"] }); } catch (e) { print(e.code); }
        try { vizportal("createExtractTasks", #{ targetType: "Flow", targetIds: ["1"], scheduleId: "1", type: "RefreshExtract" }); } catch (e) { print(e.code); }
        try { vizportal("createExtractTasks", #{ targetType: "Workbook", targetIds: ["1"], scheduleId: "1", type: "Refresh" }); } catch (e) { print(e.code); }
        try { vizportal("getBackgroundJobExtendedInfo", #{ backgroundJobId: "999" }); } catch (e) { print(e.code); }
        for action in ["Subscription", "Refresh"] {
            let fields = base;
            fields += #{ id: "1", scheduledAction: action };
            try { vizportal("updateSchedule", fields); } catch (e) { print(e.code); }
        }
        try { vizportal("updateSchedule", #{ id: "1", priority: 40 }); } catch (e) { print(e.code); }
        try { vizportal("deleteSchedules", #{ ids: ["999"] }); } catch (e) { print(e.code); }
        try { vizportal("setEnabledStatusForSchedules", #{ ids: [] , enabled: true }); } catch (e) { print(e.code); }
    "#;
    let (code, out, err) = run_script(&emu, script, &[]);
    assert_eq!(code, 0, "{err}");
    let codes: Vec<&str> = out.lines().collect();
    assert_eq!(
        codes,
        [
            "80007", "80006", "120011", "120008", "120009", "80009", "120010", "80008", "120006",
            "120003", "120001", "120001", "80011", "80010", "28", "25", "80006", "24", "120001",
            "120000"
        ]
    );
}

#[test]
fn create_extract_tasks_reports_each_target_that_fails() {
    let emu = emulator_with(|c| c.dataset = one_site(30, 6));
    let state = emu.state();
    let datasources = state["datasources"].as_array().unwrap();
    let has_task = |id: &str| {
        tasks(&emu).iter().any(|t| {
            t["targetType"] == "Datasource" && t["targetId"] == id && t["type"] == "RefreshExtract"
        })
    };
    let pick = |extract: bool, task: bool| {
        datasources
            .iter()
            .map(|d| d["id"].as_str().unwrap().to_owned())
            .find(|id| {
                let d = datasources.iter().find(|d| d["id"] == id.as_str()).unwrap();
                d["hasExtracts"] == extract && has_task(id) == task
            })
    };
    let with_task = pick(true, true).expect("a datasource with a task");
    let live = pick(false, false).expect("a live datasource");
    let schedule = schedules(&emu)
        .into_iter()
        .find(|s| s["scheduledAction"] == "Extract")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A datasource that has an extract and only a full-refresh task gets an incremental one.
    let tasks_before = tasks(&emu);
    let incremental_target = tasks_before
        .iter()
        .filter(|t| t["targetType"] == "Datasource")
        .map(|t| t["targetId"].as_str().unwrap().to_owned())
        .find(|id| {
            !tasks_before.iter().any(|t| {
                t["targetId"] == id.as_str()
                    && t["targetType"] == "Datasource"
                    && t["type"] == "IncrementExtract"
            })
        })
        .unwrap();
    let script = format!(
        r#"
        try {{
            create_extract_tasks("Datasource", ["{incremental_target}", "{live}", "99999"], "{schedule}", #{{ incremental: true }});
        }} catch (e) {{
            print(to_json(#{{ succeeded: e.succeeded, failed: e.failed, created: e.created }}));
        }}
        "#
    );
    let (code, out, err) = run_script(&emu, &script, &[]);
    assert_eq!(code, 0, "{err}");
    let result = last_json(&out.replace('\n', ""));
    assert_eq!(result["succeeded"], json!([incremental_target]));
    let failed: Vec<(String, i64)> = result["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_owned(),
                f["code"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(failed, [(live.clone(), 80012), ("99999".to_owned(), 11)]);
    let new: Vec<Value> = tasks(&emu)
        .into_iter()
        .filter(|t| {
            t["targetId"] == incremental_target.as_str()
                && t["targetType"] == "Datasource"
                && t["type"] == "IncrementExtract"
        })
        .collect();
    assert_eq!(new.len(), 1);
    let new = &new[0];
    assert_eq!(
        result["created"],
        json!([new["id"]]),
        "the new task's id is read back"
    );
    assert_eq!(
        (
            new["siteId"].as_str(),
            new["scheduleId"].as_str(),
            new["targetType"].as_str(),
            new["runCount"].as_i64()
        ),
        (
            Some("1"),
            Some(schedule.as_str()),
            Some("Datasource"),
            Some(0)
        )
    );
    let again = format!(
        r#"try {{ create_extract_tasks("Datasource", "{with_task}", "{schedule}"); }} catch (e) {{ print(e.failed[0].code); }}"#
    );
    let (_, out, _) = run_script(&emu, &again, &[]);
    assert_eq!(out.trim(), "120012");
}

/// A workbook of `state` without a full-refresh task: one a new task can be made for.
fn free_workbook(state: &Value) -> String {
    let taken = |id: &Value| {
        state["extractTasks"].as_array().unwrap().iter().any(|t| {
            t["targetType"] == "Workbook" && t["targetId"] == *id && t["type"] == "RefreshExtract"
        })
    };
    let free = state["workbooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| !taken(&w["id"]));
    free.expect("a workbook without a task")["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn dry_run_plans_each_change_and_the_audit_keeps_before_values() {
    let emu = emulator_with(|c| c.dataset = one_site(30, 6));
    let before = emu.state();
    let free = free_workbook(&before);
    let script = &r#"
        let s = create_schedule(#{ name: "Planned", scheduledAction: "Extract",
            scheduleType: "Hourly", scheduleDetails: #{ startTime: 0, endTime: 1440, recurrenceMinutes: 60 } });
        print(s.dry_run);
        update_schedule("1", #{ priority: 10 });
        rename_schedule("1", "Renamed");
        disable_schedules(["1", "2"]);
        enable_schedules("2");
        delete_schedules("3");
        run_schedules("1");
        create_extract_tasks("Workbook", ["FREE"], "1");
        let waited = run_extract_tasks(["1", "2"], #{ wait: true, timeout: 5 });
        print(`${waited.dry_run} ${waited.jobs.len()} ${waited.timed_out}`);
        print(update_schedule(s.id, #{ priority: 5 }).priority);
    "#
    .replace("FREE", &free);
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let audit_arg = audit.to_str().unwrap();
    let (code, out, err) = run_script(&emu, script, &["--dry-run", "--audit", audit_arg]);
    assert_eq!(code, 0, "{err}");
    let printed: Vec<&str> = out.lines().collect();
    assert_eq!(printed[..2], ["true", "true 0 false"]);
    assert_eq!(
        printed[2], "5",
        "a planned schedule can be changed too: {out}"
    );
    assert_eq!(
        emu.state()["schedules"],
        before["schedules"],
        "nothing changed"
    );
    assert_eq!(emu.state()["extractTasks"], before["extractTasks"]);
    let planned: Vec<&str> = err
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .filter_map(|l| l.split_once(". ").map(|(_, rest)| rest))
        .filter_map(|rest| rest.split(' ').next())
        .collect();
    assert_eq!(
        planned,
        [
            "createSchedule",
            "updateSchedule",
            "setScheduleName",
            "setEnabledStatusForSchedules",
            "setEnabledStatusForSchedules",
            "deleteSchedules",
            "runSchedules",
            "createExtractTasks",
            "runExtractTasks",
            "updateSchedule"
        ],
        "{err}"
    );
    // A call naming no ids says none ("createSchedule {...}", not "0 ids").
    assert!(err.contains("createSchedule {"), "{err}");
    assert!(!err.contains(" 0 ids"), "{err}");
    assert!(err.contains("setEnabledStatusForSchedules 2 ids"), "{err}");
    let lines: Vec<Value> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 10);
    assert!(lines.iter().all(|l| l["outcome"] == "dry_run"));
    let schedule_1 = schedule_row(&emu, "1");
    assert_eq!(
        lines[1]["before"]["1"]["priority"], schedule_1["priority"],
        "update keeps the old values"
    );
    assert_eq!(lines[1]["params"]["priority"], 10);
    assert_eq!(
        lines[2]["before"],
        json!({"1": {"name": schedule_1["name"]}})
    );
    assert_eq!(
        lines[3]["before"],
        json!({"1": {"enabled": true}, "2": {"enabled": true}})
    );
    assert_eq!(
        lines[5]["before"]["3"]["name"],
        schedule_row(&emu, "3")["name"]
    );
    assert_eq!(lines[7]["params"]["targetIds"], json!([free]));

    let (code, _, err) = run_script(
        &emu,
        r#"rename_schedule("1", "Renamed"); disable_schedules("2");"#,
        &["--audit", audit_arg],
    );
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&audit).unwrap();
    let applied: Vec<Value> = text
        .lines()
        .skip(10)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(applied.len(), 2);
    assert_eq!(
        (applied[0]["outcome"].as_str(), &applied[0]["before"]),
        (Some("ok"), &json!({"1": {"name": schedule_1["name"]}}))
    );
    assert_eq!(applied[1]["before"], json!({"2": {"enabled": true}}));
    assert_eq!(schedule_row(&emu, "1")["name"], "Renamed");
}

#[test]
fn maintenance_window_pauses_matching_schedules_and_resumes_only_those() {
    let mut data = one_site(30, 6).to_json();
    let extract: Vec<String> = data["schedules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["scheduledAction"] == "Extract")
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    let already_off = extract[1].clone();
    for s in data["schedules"].as_array_mut().unwrap() {
        if s["id"] == already_off.as_str() {
            s["enabled"] = json!(false);
        }
    }
    let data = vizscript::emulator::Dataset::from_json(data).unwrap();
    let emu = emulator_with(|c| c.dataset = data);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("window.json");
    let file_arg = file.to_str().unwrap();
    let script = example("maintenance_window.rhai");
    let enabled = |emu: &Emulator| -> Vec<(String, bool)> {
        schedules(emu)
            .iter()
            .map(|s| (s["id"].as_str().unwrap().to_owned(), s["enabled"] == true))
            .collect()
    };
    let before = enabled(&emu);

    let (code, out, err) = run(
        vizscript(&emu),
        &["run", &script, "--dry-run", "--", "off", "", file_arg],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        format!(
            "Would pause {} schedules; 1 were already off.",
            extract.len() - 1
        )
    );
    assert_eq!(enabled(&emu), before);
    assert!(!file.exists(), "a dry run writes no state");
    // Nothing to pause: still a dry run, still no state.
    let (code, out, err) = run(
        vizscript(&emu),
        &[
            "run",
            &script,
            "--dry-run",
            "--",
            "off",
            "no such schedule",
            file_arg,
        ],
    );
    assert_eq!(
        (code, out.trim()),
        (0, "Would pause 0 schedules; 0 were already off."),
        "{err}"
    );
    assert!(!file.exists(), "a dry run writes no state");

    let (code, out, err) = run(
        vizscript(&emu),
        &["run", &script, "--", "off", "", file_arg],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        format!(
            "Paused {} schedules; 1 were already off.",
            extract.len() - 1
        )
    );
    for (id, on) in enabled(&emu) {
        let subscription = !extract.contains(&id);
        assert_eq!(on, subscription, "schedule {id}");
    }
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let paused: Vec<&String> = extract.iter().filter(|id| **id != already_off).collect();
    assert_eq!(saved["paused"], json!(paused));
    assert_eq!(saved["already_off"], json!([already_off]));
    let (code, _, err) = run(
        vizscript(&emu),
        &["run", &script, "--", "off", "", file_arg],
    );
    assert_eq!(code, 1, "a second window is refused");
    assert!(err.contains("already open"), "{err}");

    let (code, out, err) = run(vizscript(&emu), &["run", &script, "--", "on", "", file_arg]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        format!("Resumed {} schedules; 1 stay off.", extract.len() - 1)
    );
    assert_eq!(enabled(&emu), before, "the schedule that was off stays off");
    assert!(!file.exists());

    // A pause whose answers are lost (applied, outcome unknown) still leaves the state
    // file, so "on" resumes them.
    emu.set_faults(vizscript::emulator::Faults {
        reset_rate: 1.0,
        reset_methods: vec!["setEnabledStatusForSchedules".into()],
        ..Default::default()
    });
    let args = [
        "run",
        &script,
        "--retries",
        "1",
        "--retry-delay-ms",
        "1",
        "--",
        "off",
        "",
        file_arg,
    ];
    let (code, _, err) = run(vizscript(&emu), &args);
    assert_eq!(code, 1, "{err}");
    assert!(
        enabled(&emu)
            .iter()
            .all(|(id, on)| *on != extract.contains(id)),
        "paused"
    );
    emu.set_faults(vizscript::emulator::Faults::default());
    let (code, _, err) = run(vizscript(&emu), &["run", &script, "--", "on", "", file_arg]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(enabled(&emu), before, "resumed");
}

/// A dry run refuses what the server would refuse, so its plan promises no more than a real
/// run does: a move to a schedule that does not exist or runs subscriptions, a priority out
/// of range, a schedule name that is taken. A schedule it plans to create gets a stand-in
/// id that the moves after it can name.
#[test]
fn a_dry_run_refuses_what_the_server_would_and_can_move_tasks_to_a_planned_schedule() {
    let emu = emulator_with(|c| c.dataset = one_site(10, 4));
    let state = emu.state();
    let subscription = state["schedules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["scheduledAction"] == "Subscription")
        .map(|s| s["id"].as_str().unwrap().to_string())
        .expect("the sample has a subscription schedule");
    let taken = schedules(&emu)[0]["name"].as_str().unwrap().to_string();
    let mut refused = vec![
        (r#"set_extract_tasks_schedule(["1"], "9999")"#.to_string(), "schedule 9999 does not exist"),
        (r#"create_schedule(#{ name: "TAKEN", scheduledAction: "Extract", scheduleType: "Daily", scheduleDetails: #{ startTime: 60 } })"#.replace("TAKEN", &taken), "exists already"),
    ];
    refused.push((
        format!(r#"set_extract_tasks_schedule(["1"], "{subscription}")"#),
        "scheduledAction is Subscription",
    ));
    for (call, says) in &refused {
        let (code, _, err) = run_script(&emu, &format!("{call};"), &["--dry-run"]);
        assert_eq!(code, 1, "{call}: {err}");
        assert!(err.contains(says), "{call}: {err}");
        assert!(
            err.contains(": 0 mutating call(s)"),
            "nothing planned: {err}"
        );
    }
    // A priority out of range is refused before anything is sent, dry run or not; one
    // given as a string (as ARGS are) is taken.
    let (code, _, err) = run_script(&emu, r#"set_extract_tasks_priority(["1"], 150);"#, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("from 1 to 100, not 150"), "{err}");
    let (code, _, err) = run_script(
        &emu,
        r#"set_extract_tasks_priority(["1"], ARGS[0]);"#,
        &["--", "7"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(task(&emu, "1")["priority"], 7);

    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let script = r#"
        let s = create_schedule(#{ name: "Quiet hours", scheduledAction: "Extract",
                                   scheduleType: "Daily", scheduleDetails: #{ startTime: 60 } });
        print(s.id);
        set_extract_tasks_schedule(["1", "2"], s.id);
    "#;
    let (code, out, err) = run_script(
        &emu,
        script,
        &["--dry-run", "--plan-json", plan.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "(new schedule of plan call 1)");
    let plan: Value = serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
    let methods: Vec<&str> = plan
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["method"].as_str().unwrap())
        .collect();
    assert_eq!(
        methods,
        ["createSchedule", "setExtractTasksSchedule"],
        "{plan}"
    );
    assert_eq!(
        plan[1]["params"]["scheduleId"],
        "(new schedule of plan call 1)"
    );

    // A planned schedule is checked like one on the server: the name it takes, and what
    // it runs.
    for (script, says) in [
        (
            r#"create_schedule(#{ name: "Twice", scheduledAction: "Extract", scheduleType: "Daily", scheduleDetails: #{ startTime: 60 } });
               create_schedule(#{ name: "twice ", scheduledAction: "Extract", scheduleType: "Daily", scheduleDetails: #{ startTime: 90 } });"#,
            "named \"twice \" is planned already ((new schedule of plan call 1))",
        ),
        (
            r#"let s = create_schedule(#{ name: "Mail", scheduledAction: "Subscription", scheduleType: "Daily", scheduleDetails: #{ startTime: 60 } });
               set_extract_tasks_schedule(["1"], s.id);"#,
            "(new schedule of plan call 1)'s scheduledAction is Subscription",
        ),
    ] {
        let (code, _, err) = run_script(&emu, script, &["--dry-run"]);
        assert_eq!(code, 1, "{script}: {err}");
        assert!(err.contains(says), "{script}: {err}");
    }
    assert_eq!(
        schedules(&emu).len(),
        state["schedules"].as_array().unwrap().len(),
        "nothing created"
    );
}

#[test]
fn a_dry_run_checks_each_schedule_change_against_the_server_as_its_plan_leaves_it() {
    let emu = emulator_with(|c| {
        c.dataset = one_site(10, 4);
        c.schedules_fire = false;
    });
    let state = emu.state();
    let (extract, subscription) = (running(&emu, "Extract"), running(&emu, "Subscription"));
    let [(a, a_name), (b, b_name), ..] = &extract[..] else {
        panic!("two extract schedules: {extract:?}")
    };
    let (mail, _) = &subscription[0];
    let sent_before = emu.calls().len();

    // Refused: what the real call would fail on.
    let refused = [
        (
            format!(r#"rename_schedule("{a}", "{}");"#, b_name.to_uppercase()),
            format!("exists already (id {b})"),
        ),
        (
            format!(r#"update_schedule("{a}", #{{ name: " {b_name}" }});"#),
            format!("exists already (id {b})"),
        ),
        (
            format!(r#"delete_schedules(["{a}"]); set_extract_tasks_schedule(["1"], "{a}");"#),
            format!("schedule {a} is deleted by plan call 1"),
        ),
        (
            format!(r#"delete_schedules(["{a}"]); update_schedule("{a}", #{{ priority: 5 }});"#),
            format!("schedule {a} is deleted by plan call 1"),
        ),
        (
            r#"disable_schedules(["999"]);"#.to_string(),
            "schedule 999 does not exist".to_string(),
        ),
        (
            r#"run_schedules(["999"]);"#.to_string(),
            "schedule 999 does not exist".to_string(),
        ),
        (
            r#"delete_schedules(["999"]);"#.to_string(),
            "schedule 999 does not exist".to_string(),
        ),
        (
            format!(r#"create_extract_tasks("Workbook", ["1"], "{mail}");"#),
            format!("schedule {mail}'s scheduledAction is Subscription"),
        ),
        (
            r#"create_extract_tasks("Workbook", ["1"], "999");"#.to_string(),
            "schedule 999 does not exist".to_string(),
        ),
        (
            format!(r#"update_schedule("{a}", #{{ scheduledAction: "Subscription" }});"#),
            "scheduledAction cannot change".to_string(),
        ),
    ];
    for (script, says) in &refused {
        let (code, _, err) = run_script(&emu, script, &["--dry-run"]);
        assert_eq!(code, 1, "{script}: {err}");
        let why = err.contains("checked under --dry-run")
            || err.contains("the server would refuse the name");
        assert!(err.contains(says.as_str()) && why, "{script}: {err}");
    }

    // Taken: what the real call would do, names freed and schedules made by the plan.
    let taken = [
        format!(r#"delete_schedules(["{a}"]); create_schedule(#{{ name: "{a_name}", {DAILY} }});"#),
        format!(
            r#"rename_schedule("{a}", "{a_name} (old)"); create_schedule(#{{ name: "{a_name}", {DAILY} }});"#
        ),
        format!(r#"rename_schedule("{a}", "{a_name}");"#),
        format!(
            r#"let s = create_schedule(#{{ name: "Fresh", {DAILY} }});
                   rename_schedule(s.id, "Fresher"); update_schedule(s.id, #{{ priority: 10 }});
                   disable_schedules(s.id); create_extract_tasks("Workbook", ["FREE"], s.id);"#
        ),
    ];
    let free = free_workbook(&emu.state());
    for script in &taken {
        let script = script.replace("FREE", &free);
        let (code, _, err) = run_script(&emu, &script, &["--dry-run"]);
        assert_eq!(code, 0, "{script}: {err}");
    }
    assert_eq!(
        emu.calls()[sent_before..]
            .iter()
            .filter(|c| !c.method.starts_with("get")
                && !["generatePublicKey", "login", "switchSite", "logout"]
                    .contains(&c.method.as_str()))
            .count(),
        0,
        "a dry run sends no change"
    );
    assert_eq!(emu.state()["schedules"], state["schedules"]);
}

#[test]
fn schedule_priorities_may_be_given_as_strings_and_waiting_on_subscriptions_is_refused() {
    let emu = emulator_with(|c| {
        c.dataset = one_site(10, 4);
        c.schedules_fire = false;
    });
    let script = r#"
        let s = create_schedule(#{ name: "From ARGS", scheduledAction: "Extract",
            scheduleType: "Daily", scheduleDetails: #{ startTime: 60 }, priority: ARGS[0] });
        update_schedule(s.id, #{ parallel: false, priority: ARGS[1] });
        print(s.id);
    "#;
    let (code, out, err) = run_script(&emu, script, &["--", "30", " 40"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(schedule_row(&emu, out.trim())["priority"], 40);

    let mail = schedules(&emu)
        .into_iter()
        .find(|s| s["scheduledAction"] == "Subscription")
        .map(|s| s["id"].as_str().unwrap().to_string())
        .unwrap();
    let (code, _, err) = run_script(
        &emu,
        &format!(r#"run_schedules("{mail}", #{{ wait: true, timeout: 5 }});"#),
        &[],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!("schedule(s) {mail} run subscriptions"))
            && err.contains("nothing was run"),
        "{err}"
    );
    assert!(
        !emu.calls().iter().any(|c| c.method == "runSchedules"),
        "nothing was run"
    );
}

#[test]
fn a_dry_run_fails_the_task_ids_the_server_does_not_list() {
    let emu = emulator_with(|c| c.dataset = one_site(10, 4));
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    for flags in [
        vec!["--dry-run"],
        vec!["--dry-run", "--audit", audit.to_str().unwrap()],
    ] {
        for call in [
            r#"run_extract_tasks(["1", "99999"])"#,
            r#"set_extract_tasks_priority(["1", "99999"], 5)"#,
            r#"delete_extract_tasks(["99999", "1"])"#,
        ] {
            let (code, _, err) = run_script(&emu, &format!("{call};"), &flags);
            assert_eq!(code, 1, "{call} {flags:?}: {err}");
            assert!(
                err.contains("id 99999: the server does not list it (checked under --dry-run)")
                    && err.contains("planned: 1 ids"),
                "{call} {flags:?}: {err}"
            );
        }
    }
    // A task the dry run deleted is gone for its later calls, a second deletion too; a
    // subscription of the same id is another item.
    let (code, _, err) = run_script(
        &emu,
        r#"delete_extract_tasks(["1"]); delete_extract_tasks(["1"]);"#,
        &["--dry-run"],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("id 1: an earlier call of this dry run deletes it"),
        "{err}"
    );
    let subscription = emu.state()["subscriptions"][0].clone();
    let (id, schedule) = (
        subscription["id"].as_str().unwrap(),
        subscription["scheduleId"].as_str().unwrap(),
    );
    let (code, _, err) = run_script(
        &emu,
        &format!(
            r#"delete_extract_tasks(["{id}"]); set_subscriptions_schedule(["{id}"], "{schedule}");"#
        ),
        &["--dry-run"],
    );
    assert_eq!(code, 0, "{err}");
    let changed = emu
        .calls()
        .iter()
        .filter(|c| c.method.contains("ExtractTask") && !c.method.starts_with("get"))
        .count();
    assert_eq!(changed, 0, "nothing was sent");
}

#[test]
fn a_creation_whose_read_back_fails_says_it_was_made() {
    let emu = emulator_with(|c| {
        c.dataset = one_site(10, 4);
        c.schedules_fire = false;
    });
    let before = schedules(&emu).len();
    emu.set_faults(vizscript::emulator::Faults {
        fail_rate: 1.0,
        fail_methods: vec!["getSchedules".into()],
        ..Default::default()
    });
    let (code, _, err) = run_script(
        &emu,
        r#"create_schedule(#{ name: "Made anyway", scheduledAction: "Extract",
            scheduleType: "Daily", scheduleDetails: #{ startTime: 60 } });"#,
        &["--retries", "0"],
    );
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("createSchedule created schedule")
            && err.contains("but reading it back failed"),
        "{err}"
    );
    emu.set_faults(vizscript::emulator::Faults::default());
    assert_eq!(schedules(&emu).len(), before + 1);

    // A new task for a target whose task was deleted, read back from a failing list.
    let task = tasks(&emu)[0].clone();
    let text = |f: &str| task[f].as_str().unwrap().to_string();
    let (code, _, err) = run_script(
        &emu,
        &format!(r#"delete_extract_tasks("{}");"#, text("id")),
        &[],
    );
    assert_eq!(code, 0, "{err}");
    emu.set_faults(vizscript::emulator::Faults {
        fail_rate: 1.0,
        fail_methods: vec!["getExtractTasks".into()],
        ..Default::default()
    });
    let script = format!(
        r#"create_extract_tasks("{}", "{}", "{}", #{{ incremental: {} }});"#,
        text("targetType"),
        text("targetId"),
        text("scheduleId"),
        task["type"] == "IncrementExtract"
    );
    let (code, _, err) = run_script(&emu, &script, &["--retries", "0"]);
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains(
            "createExtractTasks created tasks for 1 target(s), but reading them back failed"
        ),
        "{err}"
    );
    emu.set_faults(vizscript::emulator::Faults::default());
    assert!(
        tasks(&emu)
            .iter()
            .any(|t| t["targetId"] == task["targetId"] && t["type"] == task["type"])
    );
}

#[test]
fn calls_made_by_name_get_the_dry_run_checks_of_the_helpers() {
    let emu = emulator_with(|c| {
        c.dataset = one_site(10, 4);
        c.schedules_fire = false;
    });
    let mail = schedules(&emu)
        .into_iter()
        .find(|s| s["scheduledAction"] == "Subscription")
        .map(|s| s["id"].as_str().unwrap().to_string())
        .unwrap();
    let task = tasks(&emu)[0]["id"].as_str().unwrap().to_string();
    for (call, says) in [
        (
            format!(r#"vp::setExtractTasksSchedule(#{{ ids: ["{task}"], scheduleId: "{mail}" }})"#),
            format!("schedule {mail}'s scheduledAction is Subscription"),
        ),
        (
            format!(
                r#"vizportal("setExtractTasksPriority", #{{ ids: ["{task}", "99999"], priority: 3 }})"#
            ),
            "id 99999: the server does not list it (checked under --dry-run)".to_string(),
        ),
        (
            r#"vp::setEnabledStatusForSchedules(#{ ids: ["999"], enabled: false })"#.to_string(),
            "schedule 999 does not exist".to_string(),
        ),
    ] {
        let (code, _, err) = run_script(&emu, &format!("{call};"), &["--dry-run"]);
        assert_eq!(code, 1, "{call}: {err}");
        assert!(err.contains(&says), "{call}: {err}");
    }
    let (code, out, err) = run_script(
        &emu,
        &format!(
            r#"print(vp::setExtractTasksPriority(#{{ ids: ["{task}"], priority: 4 }}).dry_run);"#
        ),
        &["--dry-run"],
    );
    assert_eq!((code, out.trim()), (0, "true"), "{err}");
    assert!(
        !emu.calls().iter().any(|c| c.method.starts_with("set")),
        "a dry run sends no change"
    );
}

/// Differences a differential test of dry runs against real runs found: each script must
/// end the same way both ways.
#[test]
fn a_dry_run_ends_as_the_real_run_does() {
    let fresh = || {
        emulator_with(|c| {
            c.dataset = one_site(30, 6);
            c.schedules_fire = false;
        })
    };
    let probe = fresh();
    let extract = running(&probe, "Extract");
    let mail = running(&probe, "Subscription")[0].0.clone();
    let ((a, a_name), (b, _)) = (extract[0].clone(), extract[1].clone());
    let cases = [
        // A schedule batch with one unknown id applies the rest, freeing a name.
        (
            format!(
                r#"try {{ delete_schedules(["{a}", "999"], #{{ other_sites: true }}); }} catch (e) {{ print(e.failed.len()); }}
                create_schedule(#{{ name: "{a_name}", {DAILY} }});"#
            ),
            0,
        ),
        // A batch of no ids sends nothing, whatever its schedule.
        (
            format!(
                r#"set_extract_tasks_schedule([], "{mail}"); set_extract_tasks_schedule([], "999");"#
            ),
            0,
        ),
        // A schedule created by name has an id the next call can use.
        (
            format!(
                r#"let r = vp::createSchedule(#{{ name: "By name", {DAILY}, priority: 50, parallel: true }});
                set_extract_tasks_schedule(extract_tasks(#{{ scheduleId: "{b}" }}), r.id);"#
            ),
            0,
        ),
        // New extract tasks: on a target that has one, on one that does not exist, on one
        // whose task the run deleted (once: a second is refused).
        (
            r#"let t = extract_tasks().filter(|t| t.type == "RefreshExtract")[0];
            create_extract_tasks(t.targetType, t.targetId, t.scheduleId);"#
                .to_string(),
            1,
        ),
        (
            format!(r#"create_extract_tasks("Workbook", "99999", "{b}");"#),
            1,
        ),
        (
            r#"let t = extract_tasks().filter(|t| t.type == "RefreshExtract")[0];
            delete_extract_tasks(t.id);
            create_extract_tasks(t.targetType, t.targetId, t.scheduleId);"#
                .to_string(),
            0,
        ),
        (
            r#"let t = extract_tasks().filter(|t| t.type == "RefreshExtract")[0];
            delete_extract_tasks(t.id);
            create_extract_tasks(t.targetType, t.targetId, t.scheduleId);
            create_extract_tasks(t.targetType, t.targetId, t.scheduleId);"#
                .to_string(),
            1,
        ),
        // A target whose task went with its deleted schedule takes a new one.
        (
            format!(
                r#"let t = extract_tasks(#{{ scheduleId: "{b}" }})[0];
                delete_schedules("{b}", #{{ other_sites: true }});
                create_extract_tasks(t.targetType, t.targetId, "{a}", #{{ incremental: t.type == "IncrementExtract" }});"#
            ),
            0,
        ),
        // A task the plan made goes with its schedule, and frees its target.
        (
            r#"let t = extract_tasks().filter(|t| t.type == "RefreshExtract")[0];
            delete_extract_tasks(t.id);
            let s = create_schedule(#{ name: "Tmp", scheduledAction: "Extract",
                scheduleType: "Daily", scheduleDetails: #{ startTime: 60 } });
            create_extract_tasks(t.targetType, t.targetId, s.id);
            delete_schedules(s.id);
            create_extract_tasks(t.targetType, t.targetId, t.scheduleId);"#
                .to_string(),
            0,
        ),
        // A subscription goes with the schedule the plan last moved it to.
        (
            format!(
                r#"let x = subscriptions()[0];
                let s = create_schedule(#{{ name: "Mail 2", scheduledAction: "Subscription",
                    scheduleType: "Daily", scheduleDetails: #{{ startTime: 60 }} }});
                set_subscriptions_schedule(x, s.id);
                delete_schedules("{mail}", #{{ other_sites: true }});
                set_subscriptions_schedule(x, s.id);"#
            ),
            0,
        ),
        (
            r#"let x = subscriptions()[0];
            let s = create_schedule(#{ name: "Mail 2", scheduledAction: "Subscription",
                scheduleType: "Daily", scheduleDetails: #{ startTime: 60 } });
            set_subscriptions_schedule(x, s.id);
            delete_schedules(s.id);
            set_subscriptions_schedule(x, x.scheduleId);"#
                .to_string(),
            1,
        ),
        // Tasks moved onto a planned schedule go with it when it is deleted.
        (
            format!(
                r#"let ts = extract_tasks(#{{ scheduleId: "{b}" }});
                let s = create_schedule(#{{ name: "Doomed", {DAILY} }});
                set_extract_tasks_schedule(ts, s.id);
                delete_schedules(s.id);
                set_extract_tasks_priority(ts, 5);"#
            ),
            1,
        ),
        // Tasks go with the schedule deleted under them.
        (
            format!(
                r#"let ts = extract_tasks(#{{ scheduleId: "{b}" }});
                delete_schedules("{b}", #{{ other_sites: true }});
                set_extract_tasks_priority(ts, 5);"#
            ),
            1,
        ),
    ];
    for (script, code) in &cases {
        let (dry, real) = (fresh(), fresh());
        let (dry_code, _, dry_err) = run_script(&dry, script, &["--dry-run"]);
        let (real_code, _, real_err) = run_script(&real, script, &[]);
        assert_eq!(
            (dry_code, real_code),
            (*code, *code),
            "{script}\ndry run: {dry_err}\nreal run: {real_err}"
        );
        assert_eq!(
            dry.state()["schedules"],
            probe.state()["schedules"],
            "{script}"
        );
    }
}

/// A dry run warns once about a method no public source names (with the near name), and
/// `call --dry-run` is checked as a script's call by name is: an id or schedule the
/// server does not list fails there as the real call would.
#[test]
fn a_dry_run_warns_of_an_unknown_method_and_checks_a_call_made_from_the_command_line() {
    let emu = emulator();
    let site = site_id(&emu, "finance");
    let task = tasks(&emu)
        .into_iter()
        .find(|t| t["siteId"] == site.as_str())
        .unwrap();
    let id = task["id"].as_str().unwrap();
    let (_dir, script) = script_file(&format!(
        r#"for i in 0..3 {{ vizportal("setExtractTaskSchedule", #{{ids: ["{id}"], scheduleId: "5"}}); }}
        try {{ vizportal(" ", #{{}}); }} catch (e) {{ print(e.kind); }}"#
    ));
    let (code, out, err) = run(vizscript(&emu), &["run", &script, "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "usage", "a call with no method name");
    assert_eq!(
        err.matches("is not a Vizportal method known").count(),
        1,
        "{err}"
    );
    assert!(
        err.contains("did you mean setExtractTasksSchedule?"),
        "{err}"
    );

    for (params, says) in [
        (
            r#"{"ids":["999999"],"scheduleId":"1"}"#.to_string(),
            "the server does not list it",
        ),
        (
            format!(r#"{{"ids":["{id}"],"scheduleId":"999"}}"#),
            "schedule 999 does not exist",
        ),
        (
            format!(r#"{{"ids":["{id}"],"scheduleId":""}}"#),
            "no schedule id (it is empty)",
        ),
    ] {
        let args = ["call", "setExtractTasksSchedule", &params, "--dry-run"];
        let (code, _, err) = run(vizscript(&emu), &args);
        assert_eq!(code, 1, "{params}: {err}");
        assert!(err.contains(says), "{params}: {err}");
    }
    assert!(
        emu.calls()
            .iter()
            .all(|c| c.method != "setExtractTasksSchedule" && !c.method.is_empty()),
        "nothing was sent"
    );
}

/// A raw updateSchedule naming fewer than the seven fields is planned with a warning,
/// since the strict emulator (and perhaps a server) refuses it when sent.
#[test]
fn a_partial_update_schedule_is_planned_with_a_warning_and_refused_when_sent() {
    let emu = emulator();
    let (_dir, path) = script_file(r#"vizportal("updateSchedule", #{ id: "1", priority: 10 });"#);
    let (code, _, err) = run(vizscript(&emu), &["run", &path, "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("without name: Tableau's client sends all seven fields"),
        "{err}"
    );
    let (code, _, err) = run(vizscript(&emu), &["run", &path]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("code 24"), "{err}");
    // update_schedule sends all seven: no warning.
    let (_dir, helper) = script_file(r#"update_schedule("1", #{ priority: 10 });"#);
    let (code, _, err) = run(vizscript(&emu), &["run", &helper, "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("seven fields"), "{err}");
}

//! The load as a picture: `schedule_runs` and `chart` over a known set of schedules
//! (exact text), and `spread_peak.rhai` moving the least urgent tasks out of a crowded
//! hour.

use serde_json::{Value, json};
use vizscript::emulator::{Dataset, Emulator};

use crate::support::*;

/// One site, admin/admin, `workbooks` workbooks with extracts, the given schedules, and
/// tasks as (workbook number, schedule id, priority).
fn dataset(workbooks: usize, schedules: Value, tasks: &[(usize, &str, i64)]) -> Dataset {
    let at = "2017-01-06T18:54:51.095Z";
    let books: Vec<Value> = (1..=workbooks)
        .map(|n| {
            json!({"id": n.to_string(), "siteId": "1", "projectId": "1", "ownerId": "1",
                "name": format!("Book {n:02}"), "repositoryUrl": format!("Book{n}"),
                "hasExtracts": true, "updatedAt": at})
        })
        .collect();
    let tasks: Vec<Value> = tasks
        .iter()
        .enumerate()
        .map(|(i, (book, schedule, priority))| {
            json!({"id": (i + 1).to_string(), "siteId": "1", "scheduleId": schedule,
                "targetType": "Workbook", "targetId": book.to_string(),
                "type": "RefreshExtract", "priority": priority})
        })
        .collect();
    Dataset::from_json(json!({
        "sites": [{"id": "1", "name": "Default", "urlName": "", "luid": "00000000-0000-0000-0000-000000000001"}],
        "users": [{"id": "1", "username": "admin", "password": "admin", "displayName": "Admin",
                   "serverAdmin": true, "lastSiteId": "1"}],
        "projects": [{"id": "1", "siteId": "1", "name": "Default", "ownerId": "1", "createdAt": at}],
        "workbooks": books,
        "schedules": schedules,
        "extractTasks": tasks,
    }))
    .expect("a consistent dataset")
}

fn schedule(id: &str, name: &str, kind: &str, details: Value) -> Value {
    json!({"id": id, "name": name, "scheduledAction": "Extract", "scheduleType": kind,
        "scheduleDetails": details})
}

fn known_schedules() -> Emulator {
    known_schedules_shown(vizscript::emulator::ScheduleShape::default())
}

/// [`known_schedules`], `getSchedules` answering in `shape`.
fn known_schedules_shown(shape: vizscript::emulator::ScheduleShape) -> Emulator {
    let schedules = json!([
        schedule("1", "Daily 2am", "Daily", json!({"startTime": 120})),
        schedule(
            "2",
            "Weekly Mon Thu",
            "Weekly",
            json!({"startTime": 300, "recurrenceDaysOfWeek": ["Mon", "Thu"]})
        ),
        schedule(
            "3",
            "Hourly afternoons",
            "Hourly",
            json!({"startTime": 900, "endTime": 1080, "recurrenceMinutes": 60})
        ),
    ]);
    let data = dataset(
        4,
        schedules,
        &[(1, "1", 50), (2, "1", 50), (3, "2", 50), (4, "3", 50)],
    );
    emulator_with(|c| {
        c.dataset = data;
        c.schedule_shape = shape;
    })
}

/// A heat-map row: `counts` as (hour, count), dots elsewhere.
fn row(day: &str, counts: &[(usize, i64)]) -> String {
    let mut line = day.to_string();
    for hour in 0..24 {
        let cell = counts
            .iter()
            .find(|(h, _)| *h == hour)
            .map_or(".".to_string(), |(_, n)| n.to_string());
        line.push_str(&format!("{cell:>3}"));
    }
    line
}

#[test]
fn the_chart_of_a_known_schedule_set() {
    let emu = known_schedules();
    let script = r#"
        let runs = schedule_runs("2017-01-09T00:00:00Z", "2017-01-16T00:00:00Z");
        print(runs.len());
        chart(runs.map(|r| #{ at: r.at, count: r.taskCount }), #{ title: "tasks per hour" });
        let per_schedule = #{};
        for s in schedules() { per_schedule[s.name] = s.taskCount; }
        chart(per_schedule);
        print(week_hour(runs[0].at));
    "#;
    let (_dir, path) = script_file(script);
    let (code, out, err) = run(vizscript(&emu), &["run", &path]);
    assert_eq!(code, 0, "{err}");
    let mut header = "   ".to_string();
    for hour in 0..24 {
        header.push_str(&format!(" {hour:02}"));
    }
    let busy = |day: &str| row(day, &[(2, 2), (5, 1), (15, 1), (16, 1), (17, 1)]);
    let usual = |day: &str| row(day, &[(2, 2), (15, 1), (16, 1), (17, 1)]);
    let expected = [
        "30".to_string(),
        "tasks per hour".to_string(),
        header,
        busy("Mon"),
        usual("Tue"),
        usual("Wed"),
        busy("Thu"),
        usual("Fri"),
        usual("Sat"),
        usual("Sun"),
        "peak 2 at Mon 02:00; total 37".to_string(),
        format!("Daily 2am          {} 2", "█".repeat(40)),
        format!("Hourly afternoons  {} 1", "█".repeat(20)),
        format!("Weekly Mon Thu     {} 1", "█".repeat(20)),
        "Mon 02".to_string(),
    ];
    assert_eq!(out.lines().collect::<Vec<_>>(), expected);
}

#[test]
fn spread_peak_moves_the_least_urgent_tasks_to_a_quiet_schedule_of_the_same_type() {
    let schedules = json!([
        schedule("1", "Daily 2am", "Daily", json!({"startTime": 120})),
        schedule("2", "Daily 4am", "Daily", json!({"startTime": 240})),
        schedule(
            "3",
            "Weekly Mon",
            "Weekly",
            json!({"startTime": 360, "recurrenceDaysOfWeek": ["Mon"]})
        ),
    ]);
    let tasks: Vec<(usize, &str, i64)> = (1..=10).map(|n| (n, "1", n as i64 * 10)).collect();
    let emu = emulator_with(|c| c.dataset = dataset(10, schedules, &tasks));
    let script = example("spread_peak.rhai");
    let before = emu.state();
    let (code, out, err) = run(vizscript(&emu), &["run", &script, "--dry-run", "--", "6"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        "Would move 4 tasks; the busiest hour goes from 10 to 6 tasks (limit 6)."
    );
    assert_eq!(emu.state()["extractTasks"], before["extractTasks"]);

    let (code, out, err) = run(vizscript(&emu), &["run", &script, "--", "6"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Moved 4 tasks"), "{out}");
    let on: Vec<(String, String)> = tasks_of(&emu);
    let moved: Vec<&str> = on
        .iter()
        .filter(|(_, s)| s == "2")
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(
        moved,
        ["7", "8", "9", "10"],
        "priorities 70-100 are the least urgent"
    );
    assert!(
        on.iter().all(|(_, s)| s != "3"),
        "only a schedule of the same type"
    );
    let (code, out, _) = run(vizscript(&emu), &["run", &script, "--", "6"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("Nothing to spread"), "{out}");
}

fn tasks_of(emu: &Emulator) -> Vec<(String, String)> {
    tasks(emu)
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_owned(),
                t["scheduleId"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// A span of centuries is refused, not listed run by run until memory runs out.
#[test]
fn schedule_runs_over_more_than_two_years_is_refused() {
    let emu = known_schedules();
    let (_dir, path) = crate::support::script_file(
        r#"try { schedule_runs("0001-01-01T00:00:00Z", "9999-12-31T00:00:00Z"); print("listed"); }
        catch (e) { print(e.kind); }
        print(schedule_runs("2027-01-04T00:00:00Z", "2029-01-03T00:00:00Z").len() > 0);"#,
    );
    let (code, out, err) = run(vizscript(&emu), &["run", &path]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "usage\ntrue\n", "{err}");
}

/// A server that spells schedule details as the API guide's sample does
/// (`recurrencyDaysOfWeek`) and shows no `enabled`: its runs are counted alike, a disabled
/// schedule (no next run) is left out, a schedule is changed without refusing its own
/// details, and a snapshot of it loads.
#[test]
fn schedules_in_the_guides_spelling_without_enabled_are_read_alike() {
    let script = r#"
        let runs = schedule_runs("2017-01-09T00:00:00Z", "2017-01-16T00:00:00Z");
        print(runs.len());
        disable_schedules(["3"]);
        print(schedule_runs("2017-01-09T00:00:00Z", "2017-01-16T00:00:00Z").len());
        print(schedules().filter(|s| !s.enabled).map(|s| s.id));
        update_schedule("2", #{ priority: 40 });
        print(schedules(#{ scheduleType: "Weekly" })[0].priority);
    "#;
    let (_dir, path) = script_file(script);
    let plain = known_schedules();
    let (code, expected, err) = run(vizscript(&plain), &["run", &path]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(expected, "30\n9\n[\"3\"]\n40\n", "{err}");

    let guide = known_schedules_shown(vizscript::emulator::ScheduleShape {
        guide_spelling: true,
        without_enabled: true,
    });
    let (_, shown, _) = run(vizscript(&guide), &["call", "getSchedules"]);
    assert!(shown.contains("recurrencyDaysOfWeek"), "{shown}");
    assert!(!shown.contains("\"enabled\""), "{shown}");
    let (code, out, err) = run(vizscript(&guide), &["run", &path]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, expected, "{err}");
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("snapshot.json");
    let (code, _, err) = run(
        vizscript(&guide),
        &["snapshot", "--out", copy.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(
        vizscript(&guide),
        &["diff", copy.to_str().unwrap(), copy.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("no changes"), "{out}");

    // Changes of details given in either spelling, and a schedule disabled, are undone
    // on such a server.
    let audit = dir.path().join("audit.jsonl");
    let weekly = |emu: &Emulator| {
        let all = emu.state()["schedules"].clone();
        all.as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == "2")
            .unwrap()
            .clone()
    };
    let before = weekly(&guide);
    let (_script, change) = script_file(
        r#"update_schedule("2", #{ scheduleDetails: #{ startTime: 300, recurrenceDaysOfWeek: ["Tue"] } });
        let s = schedules(#{ scheduleType: "Weekly" })[0];
        vizportal("updateSchedule", #{ id: "2", name: s.name, scheduledAction: "Extract",
            scheduleType: "Weekly", priority: 60, parallel: true,
            scheduleDetails: #{ startTime: 300, recurrencyDaysOfWeek: ["Wed"] } });
        disable_schedules(["1"]);"#,
    );
    let args = ["run", &change, "--audit", audit.to_str().unwrap()];
    let (code, _, err) = run(vizscript(&guide), &args);
    assert_eq!(code, 0, "{err}");
    assert_ne!(weekly(&guide)["scheduleDetails"], before["scheduleDetails"]);
    let (code, _, err) = run(vizscript(&guide), &["undo", audit.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("changed since"), "{err}");
    assert_eq!(
        weekly(&guide)["scheduleDetails"],
        before["scheduleDetails"],
        "{err}"
    );
    assert_eq!(weekly(&guide)["priority"], before["priority"], "{err}");
    let daily = guide.state()["schedules"][0].clone();
    assert_eq!(daily["enabled"], true, "enabled again: {err}");
}

//! Running tasks and schedules and waiting for their jobs: the right jobs are reported
//! as failed, each task runs once, the call returns only once every job has finished (or
//! the timeout passed), and a server without `getBackgroundJobs` is waited on through
//! `lastRunAt`.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;
use vizscript::emulator::{Dataset, Emulator, JobSettings};

use crate::support::*;

/// Up to `n` tasks of site 1 whose targets have distinct names: (id, target name).
fn tasks_with_distinct_targets(data: &Dataset, n: usize) -> Vec<(String, String)> {
    let state = data.to_json();
    let name_of = |kind: &str, id: &Value| {
        let table = if kind == "Workbook" {
            "workbooks"
        } else {
            "datasources"
        };
        state[table]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["id"] == *id)
            .unwrap()["name"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let mut seen = BTreeSet::new();
    state["extractTasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let kind = t["targetType"].as_str().unwrap();
            (
                t["id"].as_str().unwrap().to_owned(),
                name_of(kind, &t["targetId"]),
            )
        })
        .filter(|(_, name)| seen.insert(name.to_lowercase()))
        .take(n)
        .collect()
}

fn start(data: Dataset, jobs: JobSettings, hidden: &[&str]) -> Emulator {
    emulator_with(|c| {
        c.dataset = data;
        c.jobs = jobs;
        c.hidden_methods = hidden.iter().map(|m| m.to_string()).collect();
    })
}

/// Runs `script`; returns the first output line and the JSON printed after it.
fn run_printing(emu: &Emulator, script: &str) -> (String, Value) {
    let (_dir, path) = script_file(script);
    let (code, out, err) = run(vizscript(emu), &["run", &path]);
    assert_eq!(code, 0, "{err}\n{out}");
    let (first, rest) = out.split_once('\n').unwrap();
    (first.to_owned(), serde_json::from_str(rest).unwrap())
}

fn id_list(ids: &[&String]) -> String {
    ids.iter()
        .map(|id| format!("\"{id}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn run_counts(emu: &Emulator) -> Vec<(String, i64)> {
    tasks(emu)
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_owned(),
                t["runCount"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn waiting_reports_the_failed_jobs_runs_each_task_once_and_ends_after_the_last_job() {
    let data = one_site(60, 6);
    let chosen = tasks_with_distinct_targets(&data, 6);
    let fail_targets = vec![chosen[1].1.clone(), chosen[4].1.clone()];
    let fails = |name: &str| {
        fail_targets
            .iter()
            .any(|p| name.to_lowercase().contains(&p.to_lowercase()))
    };
    let expected_failed: BTreeSet<String> = chosen
        .iter()
        .filter(|(_, name)| fails(name))
        .map(|(id, _)| id.clone())
        .collect();
    let jobs = JobSettings {
        duration: Duration::from_millis(1500),
        fail_rate: 0.0,
        fail_targets,
    };
    let emu = start(data, jobs, &[]);
    let ids: Vec<&String> = chosen.iter().map(|(id, _)| id).collect();
    let script = format!(
        r#"let r = run_extract_tasks([{}], #{{ wait: true, timeout: 60 }});
        print(now_utc());
        r.listed_failures = jobs(#{{ status: "Failed" }}).map(|j| j.jobId);
        r.listed = jobs().map(|j| j.jobRequestedTime);
        print(to_json(r));"#,
        id_list(&ids)
    );
    let (returned_at, r) = run_printing(&emu, &script);

    assert_eq!(
        (r["timed_out"].as_bool(), r["success_known"].as_bool()),
        (Some(false), Some(true))
    );
    assert_eq!(r["requested"], 6);
    let failed: BTreeSet<String> = r["failed_jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["taskId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(failed, expected_failed);
    let state = emu.state();
    let state_jobs = state["backgroundJobs"].as_array().unwrap();
    assert_eq!(state_jobs.len(), 6, "one job per task");
    let reported = r["jobs"].as_array().unwrap();
    assert_eq!(reported.len(), 6);
    for job in reported {
        let task = job["taskId"].as_str().unwrap();
        let actual = state_jobs.iter().find(|j| j["id"] == job["jobId"]).unwrap();
        assert_eq!(actual["taskId"], task, "the job found is the task's own");
        let failed = expected_failed.contains(task);
        let (status, outcome) = if failed {
            ("Failed", "failed")
        } else {
            ("Completed", "succeeded")
        };
        assert_eq!(
            (job["status"].as_str(), job["outcome"].as_str()),
            (Some(status), Some(outcome))
        );
        let finished =
            chrono::DateTime::parse_from_rfc3339(actual["requestedAt"].as_str().unwrap()).unwrap()
                + chrono::TimeDelta::milliseconds(actual["durationMs"].as_i64().unwrap());
        let returned = chrono::DateTime::parse_from_rfc3339(&returned_at).unwrap();
        assert!(
            returned >= finished,
            "returned {returned} before the job ended at {finished}"
        );
    }
    for (id, count) in run_counts(&emu) {
        let expected = i64::from(ids.contains(&&id));
        assert_eq!(count, expected, "task {id} ran {count} times");
    }
    let listed_failures: BTreeSet<String> = r["listed_failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap().to_owned())
        .collect();
    let failed_job_ids: BTreeSet<String> = r["failed_jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["jobId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        listed_failures, failed_job_ids,
        "jobs(filter) lists the failed jobs"
    );
    let times: Vec<&str> = r["listed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let mut newest_first = times.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, newest_first);
}

#[test]
fn a_wait_that_runs_out_of_time_says_so() {
    let data = one_site(30, 6);
    let chosen = tasks_with_distinct_targets(&data, 3);
    let jobs = JobSettings {
        duration: Duration::from_secs(120),
        ..JobSettings::default()
    };
    let emu = start(data, jobs, &[]);
    let ids: Vec<&String> = chosen.iter().map(|(id, _)| id).collect();
    let script = format!(
        r#"let r = run_extract_tasks([{}], #{{ wait: true, timeout: 1.5 }});
        print("done");
        print(to_json(r));"#,
        id_list(&ids)
    );
    let started = std::time::Instant::now();
    let (_, r) = run_printing(&emu, &script);
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(r["timed_out"], true);
    assert_eq!(r["failed_jobs"].as_array().unwrap().len(), 0);
    let statuses: Vec<(&str, &str)> = r["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            (
                j["status"].as_str().unwrap(),
                j["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(statuses, vec![("Pending", "running"); 3]);
    assert!(
        tasks(&emu)
            .iter()
            .filter(|t| ids.contains(&&t["id"].as_str().unwrap().to_owned()))
            .all(|t| t["runCount"] == 1)
    );
}

#[test]
fn without_background_jobs_or_their_names_the_wait_watches_last_run_at_and_success_is_unknown() {
    // No jobs list at all; or jobs that nothing names (no extended info).
    for hidden in ["getBackgroundJobs", "getBackgroundJobExtendedInfo"] {
        let data = one_site(30, 6);
        let chosen = tasks_with_distinct_targets(&data, 3);
        let jobs = JobSettings {
            duration: Duration::from_millis(1200),
            fail_rate: 0.0,
            fail_targets: vec![chosen[0].1.clone()],
        };
        let emu = start(data, jobs, &[hidden]);
        let ids: Vec<&String> = chosen.iter().map(|(id, _)| id).collect();
        let script = format!(
            r#"let r = run_extract_tasks([{}], #{{ wait: true, timeout: 60 }});
            print(now_utc());
            print(to_json(r));"#,
            id_list(&ids)
        );
        let (returned_at, r) = run_printing(&emu, &script);
        assert_eq!(
            (r["timed_out"].as_bool(), r["success_known"].as_bool()),
            (Some(false), Some(false)),
            "{hidden}: {r}"
        );
        assert!(r["note"].as_str().unwrap().contains(hidden), "{r}");
        assert_eq!(
            r["failed_jobs"].as_array().unwrap().len(),
            0,
            "failures cannot be seen"
        );
        let returned = chrono::DateTime::parse_from_rfc3339(&returned_at).unwrap();
        for job in r["jobs"].as_array().unwrap() {
            assert_eq!(
                (job["status"].as_str(), job["outcome"].as_str()),
                (Some("Ran"), Some("unknown"))
            );
            let task = task(&emu, job["taskId"].as_str().unwrap());
            assert_eq!(job["lastRunAt"], task["lastRunAt"]);
            assert_eq!(task["runCount"], 1);
            let ran =
                chrono::DateTime::parse_from_rfc3339(task["lastRunAt"].as_str().unwrap()).unwrap();
            assert!(returned >= ran);
        }
    }
}

#[test]
fn a_second_run_of_a_task_just_run_waits_for_its_own_job() {
    for hidden in [None, Some("getBackgroundJobs")] {
        let data = one_site(20, 4);
        let (id, _) = tasks_with_distinct_targets(&data, 1).remove(0);
        let jobs = JobSettings {
            duration: Duration::from_millis(700),
            ..JobSettings::default()
        };
        let emu = start(data, jobs, hidden.as_slice());
        let script = format!(
            r#"let first = run_extract_tasks(["{id}"], #{{ wait: true, timeout: 30 }});
            let second = run_extract_tasks(["{id}"], #{{ wait: true, timeout: 30 }});
            print("two runs");
            print(to_json([first.jobs[0], second.jobs[0]]));"#
        );
        let (_, both) = run_printing(&emu, &script);
        let (first, second) = (&both[0], &both[1]);
        let task = task(&emu, &id);
        assert_eq!(task["runCount"], 2, "{hidden:?}");
        match hidden {
            None => {
                let jobs = emu.state()["backgroundJobs"].as_array().unwrap().clone();
                let newest = jobs
                    .iter()
                    .map(|j| j["id"].as_str().unwrap())
                    .max_by_key(|j| j.parse::<u64>().unwrap());
                assert_ne!(first["jobId"], second["jobId"], "{both}");
                assert_eq!(
                    second["jobId"].as_str(),
                    newest,
                    "the second run's own job: {both}"
                );
                assert_eq!(second["status"], "Completed", "{both}");
            }
            Some(_) => {
                assert_ne!(first["lastRunAt"], second["lastRunAt"], "{both}");
                assert_eq!(second["lastRunAt"], task["lastRunAt"], "{both}");
            }
        }
    }
}

#[test]
fn run_schedules_waits_for_every_task_of_the_schedule() {
    let data = one_site(40, 6);
    let jobs = JobSettings {
        duration: Duration::from_millis(800),
        ..JobSettings::default()
    };
    let emu = start(data, jobs, &[]);
    let all = tasks(&emu);
    let schedule = all[0]["scheduleId"].as_str().unwrap().to_owned();
    let on_schedule: BTreeSet<String> = all
        .iter()
        .filter(|t| t["scheduleId"] == schedule.as_str())
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    let script = format!(
        r#"let r = run_schedules("{schedule}", #{{ wait: true, timeout: 60 }});
        print("done");
        print(to_json(r));"#
    );
    let (_, r) = run_printing(&emu, &script);
    assert_eq!(r["timed_out"], false);
    let reported: BTreeSet<String> = r["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["taskId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(reported, on_schedule);
    assert!(
        r["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|j| j["status"] == "Completed")
    );
    let state = emu.state();
    let jobs = state["backgroundJobs"].as_array().unwrap();
    assert_eq!(jobs.len(), on_schedule.len());
    assert!(
        jobs.iter()
            .all(|j| on_schedule.contains(j["taskId"].as_str().unwrap()))
    );
}

#[test]
fn refresh_and_wait_runs_the_stale_tasks_once_and_fails_on_a_failed_job() {
    let data = clear_of_age(one_site(40, 6), 24);
    let state = data.to_json();
    let now = chrono::Utc::now();
    let stale: BTreeSet<String> = state["extractTasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| match t["lastRunAt"].as_str() {
            Some(at) => {
                let at = chrono::DateTime::parse_from_rfc3339(at).unwrap().to_utc();
                (now - at).num_minutes() > 24 * 60
            }
            None => true,
        })
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    let named: Vec<(String, String)> = tasks_with_distinct_targets(&data, 60)
        .into_iter()
        .filter(|(id, _)| stale.contains(id))
        .collect();
    let failing = named[0].1.clone();
    let jobs = JobSettings {
        duration: Duration::from_millis(600),
        fail_rate: 0.0,
        fail_targets: vec![failing.clone()],
    };
    let emu = start(data, jobs, &[]);
    let script = example("refresh_and_wait.rhai");
    let (code, out, err) = run(vizscript(&emu), &["run", &script, "--", "24", "60"]);
    assert_eq!(code, 1, "a failed job fails the run: {out}{err}");
    let failed = emu.state()["backgroundJobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["outcome"] == "Failed")
        .count();
    assert!(failed >= 1);
    assert!(
        out.contains(&format!(
            "Ran {} tasks: {} finished, {failed} failed.",
            stale.len(),
            stale.len()
        )),
        "{out}"
    );
    assert!(
        out.contains(&failing),
        "the failure table names the target: {out}"
    );
    assert!(err.contains("jobs failed"), "{err}");
    for (id, count) in run_counts(&emu) {
        assert_eq!(count, i64::from(stale.contains(&id)), "task {id}");
    }
    let (code, out, err) = run(vizscript(&emu), &["run", &script, "--", "24", "60"]);
    assert_eq!(
        (code, out.trim()),
        (0, "No task older than 24.0 hours."),
        "{err}"
    );
}

#[test]
fn ctrl_c_ends_a_long_wait_promptly() {
    let data = one_site(20, 6);
    let chosen = tasks_with_distinct_targets(&data, 2);
    let jobs = JobSettings {
        duration: Duration::from_secs(600),
        ..JobSettings::default()
    };
    let emu = start(data, jobs, &[]);
    let ids: Vec<&String> = chosen.iter().map(|(id, _)| id).collect();
    let script = format!(
        "print(\"started\");\nrun_extract_tasks([{}], #{{ wait: true, timeout: 600 }});\nprint(\"not reached\");\n",
        id_list(&ids)
    );
    let (_dir, path) = script_file(&script);
    let child = start_script(&emu, &["run", &path]);
    // The wait has begun once the emulator is asked for jobs after the run (Ctrl-C during
    // the run itself says what the batch applied instead).
    let waiting = || {
        let calls: Vec<String> = emu.calls().into_iter().map(|c| c.method).collect();
        let ran = calls.iter().position(|m| m == "runExtractTasks");
        ran.is_some_and(|at| calls[at..].iter().any(|m| m == "getBackgroundJobs"))
    };
    let started = std::time::Instant::now();
    while !waiting() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the run never came"
        );
        std::thread::yield_now();
    }
    let interrupted = std::time::Instant::now();
    let (rest, err) = interrupt(child);
    assert!(
        interrupted.elapsed() < Duration::from_secs(5),
        "{:?}",
        interrupted.elapsed()
    );
    assert!(!rest.contains("not reached"), "{rest}");
    assert!(
        err.contains(
            "interrupted while waiting: runExtractTasks ran 2 id(s), whose jobs go on on the server"
        ),
        "says what it started: {err}"
    );
}

#[test]
fn schedules_whose_time_has_come_fire_unless_disabled() {
    let mut data = one_site(40, 6).to_json();
    let past = (chrono::Utc::now() - chrono::TimeDelta::minutes(5))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, false);
    let extract: Vec<String> = data["schedules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["scheduledAction"] == "Extract")
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .take(2)
        .collect();
    for s in data["schedules"].as_array_mut().unwrap() {
        if extract.contains(&s["id"].as_str().unwrap().to_owned()) {
            s["runNextAt"] = past.clone().into();
        }
        // Only the first may fire: another's run time could pass during the test.
        if s["id"] != extract[0].as_str() {
            s["enabled"] = false.into();
        }
    }
    let emu = emulator_with(|c| {
        c.dataset = Dataset::from_json(data).unwrap();
        c.schedules_fire = true;
    });
    let state = emu.state();
    let on = |schedule: &str| -> BTreeSet<String> {
        state["extractTasks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["scheduleId"] == schedule)
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(!on(&extract[0]).is_empty() && !on(&extract[1]).is_empty());
    let fired: BTreeSet<String> = state["backgroundJobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["taskId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        fired,
        on(&extract[0]),
        "the enabled schedule ran its tasks, the disabled one none"
    );
    let schedule = state["schedules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == extract[0].as_str())
        .unwrap();
    let next =
        chrono::DateTime::parse_from_rfc3339(schedule["runNextAt"].as_str().unwrap()).unwrap();
    assert!(
        next > chrono::Utc::now(),
        "runNextAt moved on to the next run: {next}"
    );
    let state_again = emu.state();
    assert_eq!(
        state_again["backgroundJobs"].as_array().unwrap().len(),
        fired.len(),
        "a schedule fires once per run time"
    );
}

#[test]
fn a_dumped_state_with_jobs_loads_again_after_their_task_is_gone() {
    let data = one_site(20, 6);
    let chosen = tasks_with_distinct_targets(&data, 2);
    let emu = start(data, JobSettings::default(), &[]);
    let script = format!(
        r#"run_extract_tasks(["{0}", "{1}"], #{{ wait: true, timeout: 30 }}); delete_extract_tasks("{0}");"#,
        chosen[0].0, chosen[1].0
    );
    let (_dir, path) = script_file(&script);
    let (code, _, err) = run(vizscript(&emu), &["run", &path]);
    assert_eq!(code, 0, "{err}");
    let dumped = emu.state();
    let jobs = dumped["backgroundJobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 2);
    assert!(
        jobs.iter()
            .all(|j| j["settled"] == true && j["outcome"] == "Completed")
    );
    let loaded = Dataset::from_json(dumped.clone()).expect("the dump loads");
    assert_eq!(loaded.to_json(), dumped);
    let mut broken = dumped;
    broken["backgroundJobs"][0]["siteId"] = "9".into();
    let message = format!("{:#}", Dataset::from_json(broken).unwrap_err());
    assert!(
        message.contains("backgroundJobs id 1: siteId 9 does not exist"),
        "{message}"
    );
}

#[test]
fn a_full_and_an_incremental_task_of_one_target_each_get_their_own_job() {
    let jobs = JobSettings {
        duration: Duration::from_millis(300),
        ..JobSettings::default()
    };
    let emu = start(one_site(20, 4), jobs, &[]);
    // A second task, of the other type, for the target of the first task that takes one.
    let script = r#"
        let pair = ();
        for t in extract_tasks() {
            let incremental = t.type == "RefreshExtract";
            try {
                let made = create_extract_tasks(t.targetType, [t.targetId], t.scheduleId,
                                                #{incremental: incremental});
                pair = [t.id, made.created[0]];
                break;
            } catch (e) {}
        }
        let r = run_extract_tasks(pair, #{wait: true, timeout: 30});
        print("ran");
        print(to_json(r.jobs));
    "#;
    let (_, reported) = run_printing(&emu, script);
    let reported = reported.as_array().unwrap();
    assert_eq!(reported.len(), 2, "{reported:?}");
    let state = emu.state();
    let tasks_of_jobs: Vec<(String, String)> = state["backgroundJobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| (j["id"].to_string(), j["taskId"].to_string()))
        .collect();
    let pair: Vec<&Value> = reported.iter().map(|j| &j["taskId"]).collect();
    let targets: BTreeSet<String> = pair
        .iter()
        .map(|id| {
            let t = task(&emu, id.as_str().unwrap());
            format!("{} {}", t["targetType"], t["targetId"])
        })
        .collect();
    assert_eq!(targets.len(), 1, "one target: {targets:?}");
    for job in reported {
        let expected = (job["jobId"].to_string(), job["taskId"].to_string());
        assert!(
            tasks_of_jobs.contains(&expected),
            "job {} is task {}'s: {tasks_of_jobs:?}",
            expected.0,
            expected.1
        );
    }
}

#[test]
fn a_jobs_list_that_stays_unavailable_fails_the_wait_and_says_what_ran() {
    let data = one_site(30, 6);
    let chosen = tasks_with_distinct_targets(&data, 3);
    let jobs = JobSettings {
        duration: Duration::from_secs(60),
        fail_rate: 1.0,
        ..JobSettings::default()
    };
    let emu = start(data, jobs, &[]);
    // The server has the jobs list, but it answers 503 through every retry: that says
    // nothing of whether the jobs failed (they all do), so the wait must not call them
    // finished by watching lastRunAt.
    emu.set_faults(vizscript::emulator::Faults {
        fail_rate: 1.0,
        fail_methods: vec!["getBackgroundJobs".into()],
        ..Default::default()
    });
    let ids: Vec<&String> = chosen.iter().map(|(id, _)| id).collect();
    let (_dir, path) = script_file(&format!(
        "run_extract_tasks([{}], #{{ wait: true, timeout: 20 }});",
        id_list(&ids)
    ));
    let args = ["run", &path, "--retries", "1", "--retry-delay-ms", "1"];
    let (code, _, err) = run(vizscript(&emu), &args);
    assert_eq!(code, 4, "the server stayed unavailable: {err}");
    assert!(
        err.contains("runExtractTasks ran 3 id(s), but waiting for their jobs failed"),
        "{err}"
    );
    let ran = run_counts(&emu)
        .into_iter()
        .filter(|(_, n)| *n == 1)
        .count();
    assert_eq!(ran, 3, "the run was sent once");
}

/// Numbers past what a clock counts are answered, not a crash: a wait with a timeout of
/// 1e300 seconds waits for the job like any other, and `hours_from_now` of too many hours
/// is a usage error.
#[test]
fn a_timeout_or_hours_too_large_for_the_clock_do_not_crash_the_run() {
    let jobs = JobSettings {
        duration: Duration::from_millis(50),
        fail_rate: 0.0,
        fail_targets: Vec::new(),
    };
    let emu = start(one_site(3, 2), jobs, &[]);
    let id = tasks(&emu)[0]["id"].as_str().unwrap().to_owned();
    let script = format!(
        r#"let r = run_extract_tasks("{id}", #{{ wait: true, timeout: 1e300 }});
        print("waited");
        let kinds = [];
        for h in [-1e20, 1e12, 1e300] {{
            try {{ hours_from_now(h); kinds.push("ok"); }} catch (e) {{ kinds.push(e.kind); }}
        }}
        r.kinds = kinds;
        r.later = hours_from_now(1.5) > now_utc();
        print(to_json(r));"#
    );
    let (_, r) = run_printing(&emu, &script);
    assert_eq!(r["timed_out"], false, "{r}");
    assert_eq!(r["jobs"].as_array().map(Vec::len), Some(1), "{r}");
    assert_eq!(
        r["kinds"],
        serde_json::json!(["usage", "usage", "usage"]),
        "{r}"
    );
    assert_eq!(r["later"], true, "{r}");
}

/// A server that filters tasks only on the fields public sources name: the tasks a wait
/// runs, the fallback's look at their last run, and the tasks `create_extract_tasks` made,
/// are read from the whole list instead.
#[test]
fn waiting_and_reading_back_work_on_a_server_that_filters_only_on_documented_fields() {
    let data = one_site(30, 6);
    let chosen = tasks_with_distinct_targets(&data, 2);
    let jobs = JobSettings {
        duration: Duration::from_millis(300),
        fail_rate: 0.0,
        fail_targets: Vec::new(),
    };
    let emu = emulator_with(|c| {
        c.dataset = data;
        c.jobs = jobs;
        c.hidden_methods = vec!["getBackgroundJobs".into()];
        c.documented_filters = true;
    });
    let ids: Vec<&String> = chosen.iter().map(|(id, _)| id).collect();
    let gone = task(&emu, ids[1]);
    let script = format!(
        r#"let r = run_extract_tasks([{}], #{{ wait: true, timeout: 60 }});
        run_extract_tasks([{0}], #{{ wait: true, timeout: 60 }});
        delete_extract_tasks("{gone_id}");
        let made = create_extract_tasks("{kind}", ["{target}"], "{schedule}");
        print(made.created.len());
        print(to_json(r));"#,
        id_list(&ids[..1]),
        gone_id = gone["id"].as_str().unwrap(),
        kind = gone["targetType"].as_str().unwrap(),
        target = gone["targetId"].as_str().unwrap(),
        schedule = gone["scheduleId"].as_str().unwrap(),
    );
    let (created, r) = run_printing(&emu, &script);
    assert_eq!(created, "1", "{r}");
    assert_eq!(r["timed_out"].as_bool(), Some(false), "{r}");
    assert_eq!(task(&emu, ids[0])["runCount"], 2);
    // The second wait does not ask for the filter refused for the first.
    let by_id = emu
        .calls()
        .iter()
        .filter(|c| {
            c.method == "getExtractTasks" && c.params["filter"].to_string().contains("\"id\"")
        })
        .count();
    assert_eq!(by_id, 1, "one refused read by id, remembered");
}

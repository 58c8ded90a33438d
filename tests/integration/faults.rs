//! The fault suite: a script that moves a thousand tasks and runs a few, against an
//! emulator that refuses requests (503), expires sessions, stalls, cuts connections after
//! applying a call, or all at once. Every run must end in exactly the expected state, and
//! no `runExtractTasks` reaches the server twice for one script call; where a run's
//! outcome is unknowable, the script is told so.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value;
use vizscript::emulator::{Emulator, Faults, Stats};

use crate::support::*;

const RUNS_PER_SCENARIO: usize = 3;
const TARGET: &str = "3";

const SCRIPT: &str = r#"
let target = ARGS[0];
let moving = extract_tasks().filter(|t| t.scheduleId != target && parse_int(t.id) % 3 == 0);
let r = set_extract_tasks_schedule(moving, target);
print(`moved ${r.succeeded.len()}`);
for id in ["2", "4", "8", "10", "14"] {
    try {
        run_extract_tasks(id);
        print(`ran ${id}`);
    } catch (e) {
        if e.outcome == "unknown" { print(`unknown ${id}`); } else { print(`refused ${id} ${e.status}`); }
    }
}
"#;

/// Expire every session every `period` until dropped.
struct Expirer {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Expirer {
    fn start(emu: &Arc<Emulator>, period: Duration) -> Expirer {
        let (stop, emu) = (Arc::new(AtomicBool::new(false)), emu.clone());
        let done = stop.clone();
        let thread = std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                std::thread::sleep(period);
                emu.expire_all_sessions();
            }
        });
        Expirer {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Expirer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What shows the fault really happened during a run (its stats and wall time).
type Evidence = fn(&Stats, Duration) -> bool;

fn refused(stats: &Stats, _: Duration) -> bool {
    stats.requests > stats.by_method.values().sum::<u64>()
}

fn relogged(stats: &Stats, _: Duration) -> bool {
    stats.by_method.get("login").copied().unwrap_or(0) > 1
}

fn reset(stats: &Stats, _: Duration) -> bool {
    stats.resets > 0
}

fn stalled(_: &Stats, wall: Duration) -> bool {
    wall >= Duration::from_millis(300)
}

fn scenario(name: &str, faults: Faults, expire_every: Option<Duration>, evidence: &[Evidence]) {
    let (_dir, script) = script_file(SCRIPT);
    let mut seen = vec![false; evidence.len()];
    for round in 0..RUNS_PER_SCENARIO {
        let emu = Arc::new(emulator_with(|c| c.dataset = one_site(3000, 8)));
        let before: HashMap<String, Value> = tasks(&emu)
            .into_iter()
            .map(|t| (t["id"].as_str().unwrap().to_string(), t))
            .collect();
        emu.set_faults(faults.clone());
        let expirer = expire_every.map(|p| Expirer::start(&emu, p));
        let started = std::time::Instant::now();
        // Small pages and chunks: ~30 requests a run, so every fault gets its chances.
        let args = [
            "run",
            &script,
            "--retries",
            "10",
            "--page-size",
            "200",
            "--chunk-size",
            "100",
            "--",
            TARGET,
        ];
        let (code, out, err) = run(vizscript(&emu), &args);
        let wall = started.elapsed();
        drop(expirer);
        emu.set_faults(Faults::default());
        assert_eq!(code, 0, "{name} round {round}: {err}");
        let stats = emu.stats();
        for (seen, happened) in seen.iter_mut().zip(evidence) {
            *seen |= happened(&stats, wall);
        }
        check_state(name, &emu, &before, &out);
    }
    assert!(
        seen.iter().all(|s| *s),
        "{name}: every fault happened in some round: {seen:?}"
    );
}

fn check_state(name: &str, emu: &Emulator, before: &HashMap<String, Value>, out: &str) {
    let after = tasks(emu);
    let expected_moves = before
        .values()
        .filter(|t| t["scheduleId"] != TARGET && id(t).is_multiple_of(3))
        .count();
    assert!(
        out.contains(&format!("moved {expected_moves}\n")),
        "{name}: {out}"
    );
    for task in &after {
        let old = &before[task["id"].as_str().unwrap()];
        let expected = if id(task).is_multiple_of(3) {
            TARGET.into()
        } else {
            old["scheduleId"].clone()
        };
        assert_eq!(task["scheduleId"], expected, "{name}: task {}", task["id"]);
        assert_eq!(
            task["priority"], old["priority"],
            "{name}: nothing else changed"
        );
    }
    // A call refused for an expired session (401) was not applied; one accepted was.
    let runs: Vec<_> = emu
        .calls()
        .into_iter()
        .filter(|c| c.method == "runExtractTasks" && c.status == 200)
        .collect();
    for run_id in ["2", "4", "8", "10", "14"] {
        let sent = runs.iter().filter(|c| c.params["ids"][0] == run_id).count();
        assert!(
            sent <= 1,
            "{name}: runExtractTasks for {run_id} was accepted {sent} times"
        );
        let count = after.iter().find(|t| t["id"] == run_id).unwrap()["runCount"]
            .as_u64()
            .unwrap();
        let said = out
            .lines()
            .find(|l| l.ends_with(&format!(" {run_id}")) || l.contains(&format!(" {run_id} ")))
            .unwrap();
        match said.split(' ').next().unwrap() {
            "ran" => assert_eq!(count, 1, "{name}: {said}"),
            "refused" => assert_eq!(count, 0, "{name}: {said}"),
            "unknown" => assert!(count <= 1, "{name}: {said}"),
            other => panic!("{name}: unexpected line {other}"),
        }
    }
}

fn id(task: &Value) -> u64 {
    task["id"].as_str().unwrap().parse().unwrap()
}

#[test]
fn survives_20_percent_503s() {
    let faults = Faults {
        fail_rate: 0.2,
        ..Faults::default()
    };
    scenario("503s", faults, None, &[refused]);
}

#[test]
fn survives_sessions_expiring_every_few_seconds() {
    // Often enough to land several times inside a run that takes a few hundred ms.
    let every = Some(Duration::from_millis(100));
    scenario("expiry", Faults::default(), every, &[relogged]);
}

#[test]
fn survives_300_ms_latency_spikes() {
    let faults = Faults {
        spike_rate: 0.5,
        spike: Duration::from_millis(300),
        ..Faults::default()
    };
    scenario("spikes", faults, None, &[stalled]);
}

#[test]
fn survives_connections_reset_after_the_call_was_applied() {
    let faults = Faults {
        reset_rate: 0.15,
        ..Faults::default()
    };
    scenario("resets", faults, None, &[reset]);
}

#[test]
fn survives_everything_at_once() {
    let faults = Faults {
        fail_rate: 0.2,
        reset_rate: 0.1,
        spike_rate: 0.3,
        spike: Duration::from_millis(300),
        ..Faults::default()
    };
    scenario(
        "all at once",
        faults,
        Some(Duration::from_millis(700)),
        &[refused, stalled],
    );
}

#[test]
fn a_run_cut_off_after_it_was_applied_is_reported_as_unknown() {
    let emu = emulator_with(|c| c.dataset = one_site(50, 4));
    let (_dir, script) = script_file(
        "try { run_extract_tasks(\"7\"); print(\"ran\"); } catch (e) { print(`${e.kind} ${e.outcome}`); }\n",
    );
    emu.set_faults(Faults {
        reset_rate: 1.0,
        ..Faults::default()
    });
    let mut cmd = vizscript(&emu);
    cmd.env("VIZSCRIPT_RETRY_DELAY_MS", "1");
    // Login itself is cut off too: every attempt fails, and the tool says so (exit 4).
    let (code, _, err) = run(cmd, &["run", &script, "--retries", "1"]);
    assert_eq!(code, 4, "{err}");
    emu.set_faults(Faults::default());

    let client = signed_in(&emu);
    emu.set_faults(Faults {
        reset_rate: 1.0,
        ..Faults::default()
    });
    let err = client
        .call("runExtractTasks", serde_json::json!({"ids": ["7"]}))
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    assert!(err.to_string().contains("outcome unknown"), "{err}");
    emu.set_faults(Faults::default());
    assert_eq!(task(&emu, "7")["runCount"], 1, "it was applied");
    assert_eq!(
        emu.calls()
            .iter()
            .filter(|c| c.method == "runExtractTasks")
            .count(),
        1,
        "and sent once"
    );
}

fn signed_in(emu: &Emulator) -> vizscript::vizportal::Client {
    let mut options = vizscript::vizportal::ConnectOptions::new(
        emu.url(),
        "admin",
        secrecy::SecretString::from("admin"),
    );
    options.retry.min_delay = Duration::from_millis(1);
    let session = vizscript::vizportal::Session::open(options).expect("login");
    vizscript::vizportal::Client::new(session, false, None, 1000)
}

//! The emulator and client under concurrent load on loopback: separate sessions stay
//! apart and two clients changing the same tasks at once lose neither change.

use std::time::Duration;

use secrecy::SecretString;
use serde_json::json;
use vizscript::vizportal::{Client, ConnectOptions, Session};

use crate::support::*;

fn client(emu: &vizscript::emulator::Emulator, user: &str) -> Client {
    let mut options = ConnectOptions::new(emu.url(), user, SecretString::from(user));
    options.site = Some(String::new());
    options.retry.min_delay = Duration::from_millis(1);
    Client::new(Session::open(options).expect("login"), false, None, 250)
}

/// Tasks split into four disjoint quarters; quarter `q` gets its own schedule from one
/// worker and, at the same time, its own priority from another. Every task must end with
/// exactly its quarter's two values, and nothing else in the state may change.
#[test]
fn concurrent_clients_changing_the_same_tasks_lose_no_update() {
    const QUARTERS: usize = 4;
    let emu = emulator_with(|c| c.dataset = one_site(2000, 12));
    let (before, since) = (emu.state(), now_stamp());
    let mut ids: Vec<String> = tasks(&emu)
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    let targets: Vec<String> = schedules(&emu)
        .into_iter()
        .filter(|s| s["scheduledAction"] == "Extract")
        .map(|s| s["id"].as_str().unwrap().to_string())
        .take(QUARTERS)
        .collect();
    assert_eq!(targets.len(), QUARTERS, "a distinct schedule per quarter");
    let quarter = |id: &str| id.parse::<usize>().unwrap() % QUARTERS;
    let priority = |q: usize| 10 + q as u64;
    std::thread::scope(|scope| {
        for worker in 0..2 * QUARTERS {
            let (emu, ids, targets) = (&emu, &ids, &targets);
            scope.spawn(move || {
                let client = client(emu, "admin");
                // Even workers set the schedule of quarter w/2, odd ones the priority of
                // the next quarter: every quarter is written by two workers at once.
                let q = (worker / 2 + worker % 2) % QUARTERS;
                let mine: Vec<String> = ids.iter().filter(|id| quarter(id) == q).cloned().collect();
                let mut extra = serde_json::Map::new();
                let method = if worker % 2 == 0 {
                    extra.insert("scheduleId".into(), json!(targets[q]));
                    "setExtractTasksSchedule"
                } else {
                    extra.insert("priority".into(), json!(priority(q)));
                    "setExtractTasksPriority"
                };
                let summary = client.batch(method, mine.clone(), extra, &|_, _| {});
                assert_eq!(summary.error.map(|e| e.to_string()), None, "{method}");
                let mut succeeded = summary.succeeded.clone();
                succeeded.sort();
                assert_eq!(succeeded, mine, "{method}: every id of quarter {q}");
                let all = client
                    .list_all(
                        "getExtractTasks",
                        &json!({}),
                        "tasks",
                        &|items: Vec<serde_json::Value>, _| items,
                        &|_, _| {},
                    )
                    .unwrap();
                let mut listed: Vec<String> = all
                    .iter()
                    .map(|t| t["id"].as_str().unwrap().to_string())
                    .collect();
                listed.sort();
                assert_eq!(&listed, ids, "reads page consistently under load");
            });
        }
    });
    let mut expected = before;
    for task in expected["extractTasks"].as_array_mut().unwrap() {
        let q = quarter(task["id"].as_str().unwrap());
        task["scheduleId"] = json!(targets[q]);
        task["priority"] = json!(priority(q));
    }
    let after = emu.state();
    expect_sign_in(&mut expected, &after, "admin", &since);
    assert_state("after concurrent writes", &expected, &after);
}

#[test]
fn sessions_of_different_users_stay_apart() {
    let emu = emulator();
    let admin = client(&emu, "admin");
    let analyst = client(&emu, "analyst");
    let a = admin.call("getSessionInfo", json!({})).unwrap();
    let b = analyst.call("getSessionInfo", json!({})).unwrap();
    assert_eq!(a["user"]["username"], "admin");
    assert_eq!(b["user"]["username"], "analyst");
    assert_eq!(admin.session().logins() + analyst.session().logins(), 2);
    let users: Vec<_> = emu
        .calls()
        .into_iter()
        .filter(|c| c.method == "getSessionInfo")
        .map(|c| c.session_user)
        .collect();
    assert_eq!(
        users,
        [Some("admin".to_string()), Some("analyst".to_string())]
    );
}

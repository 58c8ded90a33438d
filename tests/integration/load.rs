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

#[test]
fn concurrent_clients_changing_the_same_tasks_lose_no_update() {
    let emu = emulator_with(|c| c.dataset = one_site(2000, 8));
    let ids: Vec<String> = tasks(&emu)
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    let target = schedules(&emu)
        .into_iter()
        .find(|s| s["scheduledAction"] == "Extract")
        .unwrap()["id"]
        .clone();
    let target = target.as_str().unwrap().to_string();
    std::thread::scope(|scope| {
        for worker in 0..8 {
            let (emu, ids, target) = (&emu, &ids, &target);
            scope.spawn(move || {
                let client = client(emu, "admin");
                let mut extra = serde_json::Map::new();
                let method = if worker % 2 == 0 {
                    extra.insert("scheduleId".into(), json!(target));
                    "setExtractTasksSchedule"
                } else {
                    extra.insert("priority".into(), json!(9));
                    "setExtractTasksPriority"
                };
                let summary = client.batch(method, ids.clone(), extra, &|_, _| {});
                assert_eq!(
                    summary.succeeded.len(),
                    ids.len(),
                    "{method}: {:?}",
                    summary.error
                );
                let all = client.list_all(
                    "getExtractTasks",
                    &json!({}),
                    "tasks",
                    &|items: Vec<serde_json::Value>, _| items,
                    &|_, _| {},
                );
                assert_eq!(
                    all.unwrap().len(),
                    ids.len(),
                    "reads page consistently under load"
                );
            });
        }
    });
    for task in tasks(&emu) {
        assert_eq!(task["scheduleId"], target.as_str(), "{task}");
        assert_eq!(task["priority"], 9, "{task}");
    }
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

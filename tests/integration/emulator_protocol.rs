//! The emulator speaks the Vizportal protocol as strictly as a real Tableau Server 10.x:
//! raw HTTP against an in-process emulator (no client library, no cookie jar), checking
//! answers on the wire and the server state afterwards.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use reqwest::blocking::Client;
use rsa::pkcs8::DecodePrivateKey;
use rsa::{BoxedUint, PrivateKey, PublicKey};
use serde_json::{Value, json};
use vizscript::emulator::{Dataset, Emulator, EmulatorConfig, Faults, PageOverflow, SampleSpec};

use crate::support::http_client_builder;

const API: &str = "/vizportal/api/web/v1/";

/// An emulator with the committed key (key generation per test would be slow).
fn start(change: impl FnOnce(&mut EmulatorConfig)) -> Emulator {
    let key = PrivateKey::from_pkcs8_pem(include_str!("../fixtures/emulator_key.pem"))
        .expect("fixture key");
    let mut config = EmulatorConfig {
        key: Some(key),
        workers: 2,
        // Independent of the time of day the test runs at (see `support::emulator_with`).
        schedules_fire: false,
        ..EmulatorConfig::default()
    };
    change(&mut config);
    Emulator::start(config).expect("emulator starts")
}

/// An HTTP client that sends only what a test gives it: no cookie store, no proxy.
fn http() -> &'static Client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT.get_or_init(|| http_client_builder().no_proxy().build().expect("client"))
}

/// One answer: status, `Set-Cookie` headers in order, body.
struct Answer {
    status: u16,
    cookies: Vec<String>,
    body: Value,
}

impl Answer {
    fn result(&self) -> &Value {
        &self.body["result"]
    }

    /// Codes of `result.errors`.
    fn codes(&self) -> Vec<i64> {
        let errors = self.result()["errors"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        errors.iter().filter_map(|e| e["code"].as_i64()).collect()
    }

    /// The value of a cookie set by this answer.
    fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.iter().find_map(|c| {
            let (pair, _) = c.split_once(';').unwrap_or((c, ""));
            pair.strip_prefix(&format!("{name}=")).map(str::to_owned)
        })
    }
}

/// POST a Vizportal call with exactly these extra headers.
fn post(emu: &Emulator, method: &str, params: Value, headers: &[(&str, &str)]) -> Answer {
    let body = json!({ "method": method, "params": params });
    post_raw(emu, method, &body.to_string(), headers)
}

fn post_raw(emu: &Emulator, url_tail: &str, body: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = http()
        .post(format!("{}{API}{url_tail}", emu.url()))
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().expect("request");
    let status = response.status().as_u16();
    let cookies = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let text = response.text().expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer {
        status,
        cookies,
        body,
    }
}

/// What a client keeps after login.
#[derive(Clone)]
struct Session {
    id: String,
    xsrf: String,
}

impl Session {
    fn from(answer: &Answer) -> Session {
        Session {
            id: answer.cookie("workgroup_session_id").unwrap(),
            xsrf: answer.cookie("XSRF-TOKEN").unwrap(),
        }
    }

    fn cookie(&self) -> String {
        format!("workgroup_session_id={}; XSRF-TOKEN={}", self.id, self.xsrf)
    }
}

/// An authenticated call with the session's cookies and XSRF header.
fn call(emu: &Emulator, session: &Session, method: &str, params: Value) -> Answer {
    post(
        emu,
        method,
        params,
        &[
            ("Cookie", &session.cookie()),
            ("X-XSRF-TOKEN", &session.xsrf),
        ],
    )
}

/// The key of a fresh `generatePublicKey`: (keyId, n, e).
fn public_key(emu: &Emulator) -> (String, String, String) {
    let answer = post(emu, "generatePublicKey", json!({}), &[]);
    let r = answer.result();
    (
        r["keyId"].as_str().unwrap().to_owned(),
        r["key"]["n"].as_str().unwrap().to_owned(),
        r["key"]["e"].as_str().unwrap().to_owned(),
    )
}

/// PKCS#1 v1.5 as every Vizportal client does it; returns the raw ciphertext.
fn encrypt(n_hex: &str, e_hex: &str, password: &str) -> Vec<u8> {
    let bytes = |s: &str| {
        hex::decode(if s.len() % 2 == 1 {
            format!("0{s}")
        } else {
            s.to_owned()
        })
        .unwrap()
    };
    let n = BoxedUint::from_be_slice_vartime(&bytes(n_hex));
    let e = BoxedUint::from_be_slice_vartime(&bytes(e_hex));
    PublicKey::new(n, e)
        .unwrap()
        .pkcs1v15_encrypt(password.as_bytes())
        .unwrap()
}

fn login_with(emu: &Emulator, username: &str, password: &str, extra: Value) -> Answer {
    let (key_id, n, e) = public_key(emu);
    let mut params = json!({
        "username": username,
        "encryptedPassword": hex::encode(encrypt(&n, &e, password)),
        "keyId": key_id,
    });
    if let Value::Object(extra) = extra {
        params.as_object_mut().unwrap().extend(extra);
    }
    post(emu, "login", params, &[])
}

fn login(emu: &Emulator, username: &str) -> Session {
    let answer = login_with(emu, username, username, json!({}));
    assert_eq!(answer.status, 200, "{}", answer.body);
    Session::from(&answer)
}

/// A row of the emulator's state by table and id.
fn row(emu: &Emulator, table: &str, id: &str) -> Value {
    emu.state()[table]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .cloned()
        .unwrap_or(Value::Null)
}

/// Ids of the tasks of a site in the state.
fn task_ids(emu: &Emulator, site: &str) -> Vec<String> {
    let state = emu.state();
    let tasks = state["extractTasks"].as_array().unwrap();
    tasks
        .iter()
        .filter(|t| t["siteId"] == site)
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A task of `site` that is not on `schedule`.
fn task_not_on(emu: &Emulator, site: &str, schedule: &str) -> String {
    let state = emu.state();
    let tasks = state["extractTasks"].as_array().unwrap();
    let task = tasks
        .iter()
        .find(|t| t["siteId"] == site && t["scheduleId"] != schedule)
        .unwrap();
    task["id"].as_str().unwrap().to_owned()
}

fn one_site(tasks: usize) -> Dataset {
    Dataset::sample(&SampleSpec {
        sites: 1,
        tasks,
        schedules: 12,
        seed: 3,
    })
}

#[test]
fn login_accepts_the_password_and_refuses_anything_else() {
    let emu = start(|_| {});
    let good = login_with(&emu, "admin", "admin", json!({}));
    assert_eq!(good.status, 200);
    let user = &good.result()["user"];
    assert_eq!(
        (user["username"].as_str(), user["serverAdmin"].as_bool()),
        (Some("admin"), Some(true))
    );
    assert_eq!(user["numberOfSites"], 3);
    for (username, password) in [
        ("admin", "wrong"),
        ("nobody", "admin"),
        ("analyst", "admin"),
    ] {
        let bad = login_with(&emu, username, password, json!({}));
        assert_eq!(
            (bad.status, bad.codes()),
            (401, vec![16]),
            "{username}/{password}"
        );
        assert!(bad.cookies.is_empty());
    }
}

#[test]
fn key_ids_work_once() {
    let emu = start(|_| {});
    let (key_id, n, e) = public_key(&emu);
    assert_eq!(key_id.len(), 22);
    assert!(key_id.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(e, "10001");
    assert_eq!(n.len(), 512);
    assert_eq!(n, n.to_lowercase());
    let params = json!({"username": "admin", "encryptedPassword": hex::encode(encrypt(&n, &e, "admin")), "keyId": key_id});
    assert_eq!(post(&emu, "login", params.clone(), &[]).status, 200);
    let again = post(&emu, "login", params, &[]);
    assert_eq!((again.status, again.codes()), (401, vec![16]));
    let unknown = json!({"username": "admin", "encryptedPassword": hex::encode(encrypt(&n, &e, "admin")), "keyId": "x"});
    assert_eq!(post(&emu, "login", unknown, &[]).status, 401);
}

#[test]
fn browser_style_short_hex_and_uppercase_hex_are_accepted() {
    let emu = start(|_| {});
    // jsbn drops leading zeros: find a ciphertext whose first byte is 0 (about 1 in 160).
    // Every key id shares the server's one RSA key, so encrypting locally is enough.
    let (_, n, e) = public_key(&emu);
    let short = (0..20_000)
        .map(|_| encrypt(&n, &e, "admin"))
        .find(|ciphertext| ciphertext[0] == 0)
        .map(|ciphertext| hex::encode(ciphertext).trim_start_matches('0').to_owned())
        .expect("a ciphertext with a leading zero byte");
    assert!(short.len() < 512);
    let (key_id, _, _) = public_key(&emu);
    let answer = post(
        &emu,
        "login",
        json!({"username": "admin", "encryptedPassword": short, "keyId": key_id}),
        &[],
    );
    assert_eq!(answer.status, 200, "{}", answer.body);

    let (key_id, n, e) = public_key(&emu);
    let upper = hex::encode_upper(encrypt(&n, &e, "admin"));
    let answer = post(
        &emu,
        "login",
        json!({"username": "ADMIN", "encryptedPassword": upper, "keyId": key_id}),
        &[],
    );
    assert_eq!(
        answer.status, 200,
        "usernames ignore case, hex may be upper case: {}",
        answer.body
    );
}

#[test]
fn login_sets_two_cookies_in_tableaus_order_and_format() {
    let emu = start(|_| {});
    let (key_id, n, e) = public_key(&emu);
    let body = json!({"method": "login", "params": {
        "username": "admin", "encryptedPassword": hex::encode(encrypt(&n, &e, "admin")), "keyId": key_id}})
    .to_string();
    let port = emu.url().rsplit(':').next().unwrap().to_owned();
    let mut stream = TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    write!(
        stream,
        "POST {API}login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut wire = String::new();
    stream.read_to_string(&mut wire).unwrap();
    let (head, payload) = wire.split_once("\r\n\r\n").unwrap();
    let cookies: Vec<&str> = head
        .lines()
        .filter_map(|l| l.strip_prefix("Set-Cookie: "))
        .collect();
    assert_eq!(cookies.len(), 2, "{head}");
    let session = cookies[0]
        .strip_prefix("workgroup_session_id=")
        .and_then(|c| c.strip_suffix("; Path=/; HttpOnly"));
    let xsrf = cookies[1]
        .strip_prefix("XSRF-TOKEN=")
        .and_then(|c| c.strip_suffix("; Path=/"));
    for value in [session, xsrf] {
        let value = value.unwrap_or_else(|| panic!("cookie format: {cookies:?}"));
        assert!(
            !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric()),
            "{value}"
        );
    }
    assert!(head.lines().any(|l| l == "Server: Tableau"), "{head}");
    assert!(
        head.lines()
            .any(|l| l == "Content-Type: application/json;charset=UTF-8"),
        "{head}"
    );
    assert!(
        payload.starts_with("{\"result\":{"),
        "result is the first and only key: {payload}"
    );
    assert_eq!(
        serde_json::from_str::<Value>(payload)
            .unwrap()
            .as_object()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn calls_need_the_xsrf_token_issued_to_their_own_session() {
    let emu = start(|_| {});
    let admin = login(&emu, "admin");
    let analyst = login(&emu, "analyst");
    assert_eq!(call(&emu, &admin, "getSessionInfo", json!({})).status, 200);
    let no_header = post(
        &emu,
        "getSessionInfo",
        json!({}),
        &[("Cookie", &admin.cookie())],
    );
    assert_eq!((no_header.status, no_header.codes()), (403, vec![46]));
    let wrong = post(
        &emu,
        "getSessionInfo",
        json!({}),
        &[("Cookie", &admin.cookie()), ("X-XSRF-TOKEN", "abcxyz")],
    );
    assert_eq!(wrong.status, 403);
    let cookie_echo = format!("workgroup_session_id={}; XSRF-TOKEN=abcxyz", admin.id);
    let echoed = post(
        &emu,
        "getSessionInfo",
        json!({}),
        &[("Cookie", &cookie_echo), ("X-XSRF-TOKEN", "abcxyz")],
    );
    assert_eq!(echoed.status, 403, "echoing the cookie is not enough");
    let borrowed = post(
        &emu,
        "getSessionInfo",
        json!({}),
        &[("Cookie", &admin.cookie()), ("X-XSRF-TOKEN", &analyst.xsrf)],
    );
    assert_eq!(borrowed.status, 403, "another session's token");
    let lower = post(
        &emu,
        "getSessionInfo",
        json!({}),
        &[("cookie", &admin.cookie()), ("x-xsrf-token", &admin.xsrf)],
    );
    assert_eq!(lower.status, 200, "header names ignore case");
    let no_session = post(
        &emu,
        "getSessionInfo",
        json!({}),
        &[("X-XSRF-TOKEN", &admin.xsrf)],
    );
    assert_eq!((no_session.status, no_session.codes()), (401, vec![46]));
}

#[test]
fn the_xsrf_failure_status_is_configurable() {
    let emu = start(|c| c.xsrf_failure_status = 401);
    let session = login(&emu, "admin");
    let no_header = post(
        &emu,
        "getSessionInfo",
        json!({}),
        &[("Cookie", &session.cookie())],
    );
    assert_eq!((no_header.status, no_header.codes()), (401, vec![46]));
}

#[test]
fn cookies_sent_as_separate_headers_are_merged() {
    let emu = start(|_| {});
    let s = login(&emu, "admin");
    let headers = [
        ("Cookie", format!("XSRF-TOKEN={}", s.xsrf)),
        ("Cookie", format!("workgroup_session_id={}", s.id)),
        ("X-XSRF-TOKEN", s.xsrf.clone()),
    ];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let answer = post(&emu, "getSessionInfo", json!({}), &headers);
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[test]
fn switch_site_rotates_both_cookies_and_retires_the_old_pair() {
    let emu = start(|_| {});
    let old = login(&emu, "admin");
    let switched = call(&emu, &old, "switchSite", json!({"urlName": "MARKETING"}));
    assert_eq!(switched.status, 200, "{}", switched.body);
    assert_eq!(switched.result()["site"]["urlName"], "marketing");
    assert!(
        switched.cookies[0].starts_with("workgroup_session_id=")
            && switched.cookies[1].starts_with("XSRF-TOKEN=")
    );
    let new = Session::from(&switched);
    assert!(new.id != old.id && new.xsrf != old.xsrf);
    assert_eq!(call(&emu, &old, "getSessionInfo", json!({})).status, 401);
    let mixed = Session {
        id: new.id.clone(),
        xsrf: old.xsrf.clone(),
    };
    assert_eq!(call(&emu, &mixed, "getSessionInfo", json!({})).status, 403);
    let info = call(&emu, &new, "getSessionInfo", json!({}));
    assert_eq!(info.result()["site"]["name"], "Marketing");
    let not_member = call(
        &emu,
        &login(&emu, "analyst"),
        "switchSite",
        json!({"urlName": "finance"}),
    );
    assert_eq!((not_member.status, not_member.codes()), (200, vec![16]));
    let unknown = call(&emu, &new, "switchSite", json!({"urlName": "atlantis"}));
    assert_eq!(unknown.codes(), vec![16]);
    // Already there: code 10056, and the session and its cookies stay as they are.
    let again = call(&emu, &new, "switchSite", json!({"urlName": "marketing"}));
    assert_eq!((again.status, again.codes()), (200, vec![10056]));
    assert!(again.cookies.is_empty(), "{:?}", again.cookies);
    assert_eq!(call(&emu, &new, "getSessionInfo", json!({})).status, 200);
    assert_eq!(
        row(&emu, "users", "1")["lastSiteId"],
        "3",
        "the switch is remembered"
    );
}

#[test]
fn idle_sessions_expire_and_can_be_expired_at_once() {
    let emu = start(|c| c.session_ttl = Duration::from_millis(40));
    let s = login(&emu, "admin");
    std::thread::sleep(Duration::from_millis(80));
    let expired = call(&emu, &s, "getSessionInfo", json!({}));
    assert_eq!((expired.status, expired.codes()), (401, vec![46]));

    let emu = start(|_| {});
    let s = login(&emu, "admin");
    assert_eq!(call(&emu, &s, "getSessionInfo", json!({})).status, 200);
    emu.expire_all_sessions();
    let expired = call(&emu, &s, "getExtractTasks", json!({}));
    assert_eq!((expired.status, expired.codes()), (401, vec![46]));
}

#[test]
fn logout_ends_the_session() {
    let emu = start(|_| {});
    let s = login(&emu, "admin");
    let out = call(&emu, &s, "logout", json!({}));
    assert_eq!(out.result()["redirectUrl"], "/");
    assert_eq!(
        out.cookies,
        vec!["workgroup_session_id=\"\"; Path=/; HttpOnly".to_owned()]
    );
    assert_eq!(call(&emu, &s, "getSessionInfo", json!({})).status, 401);
}

#[test]
fn login_lands_on_the_last_used_site_unless_told_otherwise() {
    let emu = start(|_| {});
    let landed = login_with(&emu, "admin", "admin", json!({}));
    assert_eq!(
        landed.result()["site"]["urlName"],
        "finance",
        "admin's last site is not Default"
    );
    assert_eq!(landed.result()["site"]["role"], "ServerAdministrator");
    let default = login_with(&emu, "admin", "admin", json!({"siteUrlName": ""}));
    assert_eq!(
        (
            default.result()["site"]["name"].as_str(),
            default.result()["site"]["id"].as_str()
        ),
        (Some("Default"), Some("1"))
    );
    let again = login_with(&emu, "admin", "admin", json!({}));
    assert_eq!(
        again.result()["site"]["urlName"],
        "",
        "the last login's site is remembered"
    );
    let refused = login_with(
        &emu,
        "analyst",
        "analyst",
        json!({"siteUrlName": "finance"}),
    );
    assert_eq!((refused.status, refused.codes()), (401, vec![16]));
    let unknown = login_with(&emu, "admin", "admin", json!({"siteUrlName": "atlantis"}));
    assert_eq!(unknown.status, 401);
    let site_admin = login_with(&emu, "siteadmin", "siteadmin", json!({}));
    assert_eq!(site_admin.result()["site"]["role"], "SiteAdministrator");
}

#[test]
fn pages_are_clamped_or_refused_and_max_items_zero_only_counts() {
    let emu = start(|c| {
        c.dataset = one_site(120);
        c.max_page = 50;
    });
    let s = login(&emu, "admin");
    let page = |start: i64, max: i64| {
        call(
            &emu,
            &s,
            "getExtractTasks",
            json!({"page": {"startIndex": start, "maxItems": max}}),
        )
    };
    let clamped = page(0, 100);
    assert_eq!(clamped.result()["tasks"].as_array().unwrap().len(), 50);
    assert_eq!(
        (
            clamped.result()["totalCount"].as_u64(),
            clamped.result()["moreItems"].as_bool()
        ),
        (Some(120), Some(true))
    );
    let last = page(100, 50);
    assert_eq!(
        (
            last.result()["tasks"].as_array().unwrap().len(),
            last.result()["moreItems"].as_bool()
        ),
        (20, Some(false))
    );
    let ids = |answer: &Answer| -> Vec<String> {
        let tasks = answer.result()["tasks"].as_array().unwrap();
        tasks
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut paged = [ids(&clamped), ids(&page(50, 50)), ids(&last)].concat();
    paged.sort();
    let mut all = task_ids(&emu, "1");
    all.sort();
    assert_eq!(paged, all, "three pages hold every task once");
    let count = page(0, 0);
    assert_eq!(count.result()["tasks"], json!([]));
    assert_eq!(
        (
            count.result()["totalCount"].as_u64(),
            count.result()["moreItems"].as_bool()
        ),
        (Some(120), Some(true))
    );
    assert_eq!(
        count.result()["schedules"],
        json!([]),
        "side tables cover the page only"
    );
    assert_eq!(page(-1, 10).codes(), vec![20]);
    assert_eq!(page(0, -1).codes(), vec![19]);

    let strict = start(|c| {
        c.max_page = 50;
        c.page_overflow = PageOverflow::Reject;
    });
    let s = login(&strict, "admin");
    let refused = call(
        &strict,
        &s,
        "getExtractTasks",
        json!({"page": {"startIndex": 0, "maxItems": 51}}),
    );
    assert_eq!((refused.status, refused.codes()), (200, vec![19]));
}

#[test]
fn filters_compare_leniently_and_combine() {
    let emu = start(|c| c.dataset = one_site(200));
    let s = login(&emu, "admin");
    let list = |filter: Value| {
        let answer = call(
            &emu,
            &s,
            "getExtractTasks",
            json!({"filter": filter, "page": {"startIndex": 0, "maxItems": 1000}}),
        );
        let tasks = answer.result()["tasks"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut ids: Vec<String> = tasks
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    let state = emu.state();
    let expected = |keep: &dyn Fn(&Value) -> bool| -> Vec<String> {
        let tasks = state["extractTasks"].as_array().unwrap();
        let mut ids: Vec<String> = tasks
            .iter()
            .filter(|t| keep(t))
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    let as_string = list(json!({"operator": "eq", "field": "scheduleId", "value": "2"}));
    let as_number = list(json!({"operator": "eq", "field": "scheduleId", "value": 2}));
    assert!(!as_string.is_empty());
    assert_eq!(as_string, expected(&|t| t["scheduleId"] == "2"));
    assert_eq!(as_string, as_number);
    let both = list(json!({"operator": "and", "clauses": [
        {"operator": "eq", "field": "scheduleId", "value": "2"},
        {"operator": "gte", "field": "priority", "value": 50}]}));
    assert!(!both.is_empty() && both.len() < as_string.len());
    assert_eq!(
        both,
        expected(&|t| t["scheduleId"] == "2" && t["priority"].as_u64().unwrap() >= 50)
    );
    let either = list(json!({"operator": "or", "clauses": [
        {"operator": "eq", "field": "scheduleId", "value": "1"},
        {"operator": "eq", "field": "scheduleId", "value": "2"}]}));
    let within = list(json!({"operator": "in", "field": "scheduleId", "values": ["1", 2]}));
    assert_eq!(either, within);
    assert_eq!(
        either,
        expected(&|t| t["scheduleId"] == "1" || t["scheduleId"] == "2")
    );
    assert!(either.len() > as_string.len());
    assert_eq!(
        list(json!({"operator": "eq", "field": "siteId", "value": "2"})),
        Vec::<String>::new()
    );
    let unknown = call(
        &emu,
        &s,
        "getExtractTasks",
        json!({"filter": {"operator": "eq", "field": "colour", "value": 1}}),
    );
    assert_eq!(unknown.codes(), vec![25]);
    assert!(
        unknown.result()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("colour")
    );
}

#[test]
fn task_lists_join_names_through_side_tables() {
    let emu = start(|_| {});
    let s = login(&emu, "admin");
    let order = json!([{"field": "targetName", "ascending": true}]);
    let answer = call(
        &emu,
        &s,
        "getExtractTasks",
        json!({"order": order, "page": {"startIndex": 0, "maxItems": 10}}),
    );
    let r = answer.result();
    let tasks = r["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 10);
    assert!(
        tasks
            .iter()
            .all(|t| t["siteId"] == "2" && t.get("targetName").is_none())
    );
    let names: Vec<&str> = tasks
        .iter()
        .map(|t| {
            let table = if t["targetType"] == "Workbook" {
                "workbooks"
            } else {
                "datasources"
            };
            let entry = r[table]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["id"] == t["targetId"])
                .expect("side table entry");
            entry["name"].as_str().unwrap()
        })
        .collect();
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    assert_eq!(names, sorted);
    let schedules = r["schedules"].as_array().unwrap();
    let distinct: HashSet<&str> = schedules
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        distinct.len(),
        schedules.len(),
        "side tables are de-duplicated"
    );
    assert_eq!(
        r["sites"],
        json!([{"id": "2", "name": "Finance", "urlName": "finance", "luid": r["sites"][0]["luid"]}])
    );
}

#[test]
fn paging_a_sorted_list_sees_changes_made_between_pages() {
    let emu = start(|c| c.dataset = one_site(60));
    let s = login(&emu, "admin");
    let on_schedule_1 = |start: u64| {
        let params = json!({
            "filter": {"operator": "eq", "field": "scheduleId", "value": "1"},
            "order": [{"field": "targetName", "ascending": true}],
            "page": {"startIndex": start, "maxItems": 5},
        });
        let answer = call(&emu, &s, "getExtractTasks", params);
        let ids = answer.result()["tasks"].as_array().unwrap().iter();
        let ids: Vec<String> = ids.map(|t| t["id"].as_str().unwrap().to_owned()).collect();
        (answer.result()["totalCount"].as_u64().unwrap(), ids)
    };
    let (total, first) = on_schedule_1(0);
    let (_, second) = on_schedule_1(5);
    assert!(total > 10 && first.iter().all(|id| !second.contains(id)));
    let moved = call(
        &emu,
        &s,
        "setExtractTasksSchedule",
        json!({"ids": [first[0]], "scheduleId": "2"}),
    );
    assert_eq!(moved.result(), &json!({}));
    let (after, again) = on_schedule_1(0);
    assert_eq!(after, total - 1);
    assert_eq!(again[..4], first[1..], "the moved task left the list");
}

#[test]
fn a_partial_batch_applies_the_valid_ids_and_reports_each_other_one() {
    let emu = start(|_| {});
    let s = login(&emu, "admin");
    let mine = task_not_on(&emu, "2", "3");
    let elsewhere = task_ids(&emu, "1")[0].clone();
    let elsewhere_before = row(&emu, "extractTasks", &elsewhere);
    let answer = call(
        &emu,
        &s,
        "setExtractTasksSchedule",
        json!({"ids": [mine, "999999", elsewhere, "x"], "scheduleId": 3}),
    );
    assert_eq!(answer.status, 200);
    let errors = answer.result()["errors"].as_array().unwrap();
    let failed: Vec<(&str, i64)> = errors
        .iter()
        .map(|e| (e["id"].as_str().unwrap(), e["code"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        failed,
        vec![
            ("999999", 120002),
            (elsewhere.as_str(), 120002),
            ("x", 120002)
        ]
    );
    assert_eq!(row(&emu, "extractTasks", &mine)["scheduleId"], "3");
    assert_eq!(
        row(&emu, "extractTasks", &elsewhere),
        elsewhere_before,
        "another site's task is untouched"
    );
}

#[test]
fn whole_call_errors_apply_nothing() {
    let emu = start(|c| c.max_batch = 3);
    let s = login(&emu, "admin");
    let before = emu.state();
    let ids = task_ids(&emu, "2");
    let cases = [
        (
            "setExtractTasksSchedule",
            json!({"ids": [ids[0]], "scheduleId": "11"}),
            120001,
        ), // a Subscription schedule
        (
            "setExtractTasksSchedule",
            json!({"ids": [ids[0]], "scheduleId": "404"}),
            120001,
        ),
        (
            "setExtractTasksSchedule",
            json!({"ids": &ids[..4], "scheduleId": "3"}),
            25,
        ), // over max_batch
        (
            "setExtractTasksSchedule",
            json!({"ids": [], "scheduleId": "3"}),
            24,
        ),
        (
            "setExtractTasksPriority",
            json!({"ids": [ids[0]], "priority": 101}),
            120011,
        ),
        (
            "setExtractTaskPriority",
            json!({"ids": [ids[0]], "priority": "zero"}),
            120011,
        ),
        ("runExtractTasks", json!({}), 24),
    ];
    for (method, params, code) in cases {
        let answer = call(&emu, &s, method, params.clone());
        assert_eq!(
            (answer.status, answer.codes()),
            (200, vec![code]),
            "{method} {params}"
        );
    }
    assert_eq!(emu.state(), before);
    let analyst = login(&emu, "analyst");
    let denied = call(
        &emu,
        &analyst,
        "runExtractTasks",
        json!({"ids": [task_ids(&emu, "1")[0]]}),
    );
    assert_eq!(denied.codes(), vec![1], "only administrators change tasks");
    assert_eq!(emu.state()["extractTasks"], before["extractTasks"]);
}

#[test]
fn ids_and_numbers_may_be_strings_or_numbers() {
    let emu = start(|_| {});
    let s = login(&emu, "admin");
    let task = task_not_on(&emu, "2", "4");
    let numeric: u64 = task.parse().unwrap();
    let answer = call(
        &emu,
        &s,
        "setExtractTasksSchedule",
        json!({"ids": [numeric], "scheduleId": 4}),
    );
    assert_eq!(answer.result(), &json!({}));
    assert_eq!(
        call(
            &emu,
            &s,
            "setExtractTaskPriority",
            json!({"ids": [task], "priority": "7"})
        )
        .result(),
        &json!({})
    );
    let row = row(&emu, "extractTasks", &task);
    assert_eq!(
        (row["scheduleId"].as_str(), row["priority"].as_i64()),
        (Some("4"), Some(7))
    );
}

#[test]
fn running_a_task_runs_it_exactly_once() {
    let emu = start(|_| {});
    let s = login(&emu, "admin");
    let ids = task_ids(&emu, "2");
    let answer = call(
        &emu,
        &s,
        "runExtractTasks",
        json!({"ids": [ids[0], ids[1], ids[0]]}),
    );
    assert_eq!(answer.result(), &json!({}));
    assert_eq!(
        row(&emu, "extractTasks", &ids[0])["runCount"],
        1,
        "a repeated id runs once"
    );
    assert_eq!(row(&emu, "extractTasks", &ids[1])["runCount"], 1);
    assert_eq!(row(&emu, "extractTasks", &ids[2])["runCount"], 0);
}

#[test]
fn faults_answer_503_before_anything_is_applied() {
    let emu = start(|c| {
        c.faults = Faults {
            fail_rate: 1.0,
            ..Faults::default()
        }
    });
    let before = emu.state();
    let body = json!({"method": "getServerSettingsUnauthenticated", "params": {}}).to_string();
    let answer = post_raw(&emu, "getServerSettingsUnauthenticated", &body, &[]);
    assert_eq!(answer.status, 503);
    assert!(
        emu.calls().is_empty(),
        "a faulted call never reaches a handler"
    );
    assert_eq!(emu.stats().requests, 1, "but it is an HTTP request");
    assert!(emu.stats().by_method.is_empty());
    emu.set_faults(Faults::default());
    let s = login(&emu, "admin");
    let task = task_not_on(&emu, "2", "5");
    emu.set_faults(Faults {
        fail_rate: 1.0,
        latency: Duration::from_millis(5),
        ..Faults::default()
    });
    let failed = call(
        &emu,
        &s,
        "setExtractTasksSchedule",
        json!({"ids": [task], "scheduleId": "5"}),
    );
    assert_eq!(failed.status, 503);
    assert_eq!(
        row(&emu, "extractTasks", &task),
        before["extractTasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == task)
            .cloned()
            .unwrap()
    );
    assert!(
        emu.calls()
            .iter()
            .all(|c| c.method != "setExtractTasksSchedule")
    );
    emu.set_faults(Faults::default());
    assert_eq!(
        call(
            &emu,
            &s,
            "setExtractTasksSchedule",
            json!({"ids": [task], "scheduleId": "5"})
        )
        .result(),
        &json!({})
    );
    assert_eq!(row(&emu, "extractTasks", &task)["scheduleId"], "5");
}

#[test]
fn state_and_stats_show_a_move_and_the_calls_behind_it() {
    let emu = start(|_| {});
    let s = login(&emu, "admin");
    let task = task_not_on(&emu, "2", "6");
    let count = |emu: &Emulator| {
        let answer = call(
            emu,
            &s,
            "getSchedules",
            json!({"filter": {"operator": "eq", "field": "id", "value": "6"}}),
        );
        answer.result()["schedules"][0]["taskCount"]
            .as_u64()
            .unwrap()
    };
    let before_count = count(&emu);
    emu.reset_stats();
    call(
        &emu,
        &s,
        "setExtractTasksSchedule",
        json!({"ids": [task], "scheduleId": "6"}),
    );
    let over_http: Value = http()
        .get(format!("{}/__emulator/state", emu.url()))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(over_http, emu.state());
    let moved = over_http["extractTasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == task)
        .unwrap();
    assert_eq!(moved["scheduleId"], "6");
    assert_eq!(count(&emu), before_count + 1, "taskCount is computed live");
    let calls = emu.calls();
    assert_eq!(calls[0].method, "setExtractTasksSchedule");
    assert_eq!(
        (calls[0].status, calls[0].session_user.as_deref()),
        (200, Some("admin"))
    );
    assert_eq!(calls[0].params["ids"], json!([task]));
    let stats: Value = http()
        .get(format!("{}/__emulator/stats", emu.url()))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(stats["byMethod"]["setExtractTasksSchedule"], 1);
    assert_eq!(emu.stats().by_method.get("getSchedules"), Some(&1));
}

#[test]
fn schedules_can_be_created_with_checked_names() {
    let emu = start(|_| {});
    let s = login(&emu, "admin");
    let id = create_weekly_schedule(&emu, &s, "Twice a week").result()["id"]
        .as_str()
        .expect("new id")
        .to_owned();
    let schedule = row(&emu, "schedules", &id);
    assert_eq!(
        schedule["scheduledAction"], "Extract",
        "the API guide's scheduleAction spelling"
    );
    assert_eq!(
        (
            schedule["priority"].as_i64(),
            schedule["parallel"].as_bool()
        ),
        (Some(40), Some(false))
    );
    assert_eq!(
        schedule["scheduleDetails"]["recurrenceDaysOfWeek"],
        json!(["Tue", "Thu"])
    );
    assert!(schedule["runNextAt"].as_str().unwrap().ends_with("+00:00"));
    assert_eq!(
        create_weekly_schedule(&emu, &s, "twice A WEEK").codes(),
        vec![120005]
    );
    assert_eq!(create_weekly_schedule(&emu, &s, " ").codes(), vec![120003]);
    // Values are spelt as Tableau's clients spell them.
    let lower = json!({"name": "Lower", "scheduleType": "daily", "scheduledAction": "Extract",
        "scheduleDetails": {"startTime": 60}});
    assert_eq!(call(&emu, &s, "createSchedule", lower).codes(), vec![80007]);
    let day = json!({"name": "Day", "scheduleType": "Weekly", "scheduledAction": "Extract",
        "scheduleDetails": {"startTime": 60, "recurrenceDaysOfWeek": ["thu"]}});
    assert_eq!(call(&emu, &s, "createSchedule", day).codes(), vec![80009]);
    let analyst = login(&emu, "analyst");
    let denied = call(&emu, &analyst, "createSchedule", json!({"name": "Mine"}));
    assert_eq!(
        denied.codes(),
        vec![1],
        "only server administrators manage schedules"
    );
}

#[test]
fn schedules_can_be_changed_and_disabled() {
    let strict = start(|_| {});
    let s = login(&strict, "admin");
    let id = create_weekly_schedule(&strict, &s, "Twice a week").result()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let partial = call(
        &strict,
        &s,
        "updateSchedule",
        json!({"id": id, "name": "Y"}),
    );
    assert_eq!(
        partial.codes(),
        vec![24],
        "all seven fields, as Tableau's client sends"
    );

    let emu = start(|c| c.partial_schedule_updates = true);
    let s = login(&emu, "admin");
    let id = create_weekly_schedule(&emu, &s, "Twice a week").result()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let every_7_minutes = json!({"id": id, "scheduleType": "Hourly",
        "scheduleDetails": {"startTime": 0, "endTime": 0, "recurrenceMinutes": 7}});
    let refused = call(&emu, &s, "updateSchedule", every_7_minutes);
    assert_eq!(refused.codes(), vec![120008]);
    let renamed = call(
        &emu,
        &s,
        "updateSchedule",
        json!({"id": id, "name": "Tue and Thu"}),
    );
    assert_eq!(renamed.result(), &json!({}));
    let off = call(
        &emu,
        &s,
        "setEnabledStatusForSchedules",
        json!({"ids": [id, "777"], "enabled": false}),
    );
    assert_eq!(off.codes(), vec![120001]);
    let schedule = row(&emu, "schedules", &id);
    assert_eq!(schedule["name"], "Tue and Thu");
    assert_eq!(
        schedule["scheduleType"], "Weekly",
        "the refused update changed nothing"
    );
    assert_eq!(schedule["enabled"], false);
    let filter = json!({"operator": "eq", "field": "id", "value": id});
    let listed = call(&emu, &s, "getSchedules", json!({ "filter": filter }));
    let listed = &listed.result()["schedules"][0];
    assert_eq!(listed["enabled"], false);
    assert!(
        listed.get("runNextAt").is_none(),
        "a disabled schedule does not run"
    );
}

fn create_weekly_schedule(emu: &Emulator, s: &Session, name: &str) -> Answer {
    let params = json!({
        "name": name,
        "scheduleType": "Weekly",
        "scheduleDetails": {"startTime": 300, "recurrenceDaysOfWeek": ["Thu", "Tue"]},
        "scheduleAction": "Extract",
        "priority": "40",
        "parallel": false,
    });
    call(emu, s, "createSchedule", params)
}

#[test]
fn tasks_can_be_created_and_deleted() {
    let emu = start(|_| {});
    let s = login(&emu, "admin");
    let state = emu.state();
    let workbooks = state["workbooks"].as_array().unwrap();
    let on_site = |extract: bool| {
        workbooks
            .iter()
            .find(|w| w["siteId"] == "2" && w["hasExtracts"] == extract)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (live, extract) = (on_site(false), on_site(true));
    let old_tasks: Vec<String> = state["extractTasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["targetType"] == "Workbook" && t["targetId"] == extract.as_str())
        .filter(|t| t["type"] == "RefreshExtract")
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    if !old_tasks.is_empty() {
        let deleted = call(&emu, &s, "deleteExtractTasks", json!({ "ids": old_tasks }));
        assert_eq!(deleted.result(), &json!({}));
    }
    let params = json!({"targetType": "Workbook", "targetIds": [extract, live, "999999"], "scheduleId": "2", "type": "RefreshExtract"});
    let created = call(&emu, &s, "createExtractTasks", params.clone());
    assert_eq!(
        created.codes(),
        vec![80013, 7],
        "a workbook without an extract and an unknown workbook are reported by id"
    );
    let state = emu.state();
    let new = state["extractTasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| {
            t["targetId"] == extract.as_str()
                && t["targetType"] == "Workbook"
                && t["type"] == "RefreshExtract"
        })
        .unwrap()
        .clone();
    assert_eq!(
        (new["scheduleId"].as_str(), new["siteId"].as_str()),
        (Some("2"), Some("2"))
    );
    assert_eq!(
        call(&emu, &s, "createExtractTasks", params).codes(),
        vec![120012, 80013, 7]
    );
    let id = new["id"].as_str().unwrap();
    assert_eq!(
        call(&emu, &s, "deleteExtractTasks", json!({"ids": [id]})).result(),
        &json!({})
    );
    assert_eq!(row(&emu, "extractTasks", id), Value::Null);
    assert_eq!(
        call(&emu, &s, "deleteExtractTasks", json!({"ids": [id]})).codes(),
        vec![120002]
    );
}

#[test]
fn subscriptions_move_only_to_subscription_schedules() {
    let emu = start(|_| {});
    let s = login(&emu, "admin");
    let listed = call(
        &emu,
        &s,
        "getSubscriptions",
        json!({"order": [{"field": "name", "ascending": true}]}),
    );
    let subscriptions = listed.result()["subscriptions"].as_array().unwrap();
    let sorted_ids = |rows: &mut dyn Iterator<Item = &Value>| {
        let mut ids: Vec<String> = rows.map(|r| r["id"].to_string()).collect();
        ids.sort();
        ids
    };
    let state = emu.state();
    let on_site = sorted_ids(
        &mut state["subscriptions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["siteId"] == "2"),
    );
    assert!(!on_site.is_empty());
    assert_eq!(
        sorted_ids(&mut subscriptions.iter()),
        on_site,
        "the site's, all of them"
    );
    assert!(subscriptions[0]["targetName"].is_string());
    let id = subscriptions[0]["id"].as_str().unwrap().to_owned();
    let to_extract = call(
        &emu,
        &s,
        "setSubscriptionsSchedule",
        json!({"ids": [id], "scheduleId": "1"}),
    );
    assert_eq!(to_extract.codes(), vec![150000]);
    let target = if subscriptions[0]["scheduleId"] == "11" {
        "12"
    } else {
        "11"
    };
    assert_eq!(
        call(
            &emu,
            &s,
            "setSubscriptionsSchedule",
            json!({"ids": [id], "scheduleId": target})
        )
        .result(),
        &json!({})
    );
    assert_eq!(row(&emu, "subscriptions", &id)["scheduleId"], target);
}

#[test]
fn content_lists_cover_the_session_site() {
    let emu = start(|_| {});
    let s = login(&emu, "analyst");
    let site = call(&emu, &s, "getSessionInfo", json!({})).result()["site"]["id"].clone();
    let state = emu.state();
    for (method, key) in [
        ("getWorkbooks", "workbooks"),
        ("getDatasources", "datasources"),
        ("getProjects", "projects"),
    ] {
        let answer = call(&emu, &s, method, json!({}));
        let sorted_ids = |rows: &[Value]| {
            let mut ids: Vec<String> = rows.iter().map(|r| r["id"].to_string()).collect();
            ids.sort();
            ids
        };
        let listed = sorted_ids(answer.result()[key].as_array().unwrap());
        let on_site: Vec<Value> = state[key]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["siteId"] == site)
            .cloned()
            .collect();
        assert!(!on_site.is_empty(), "{method}");
        assert_eq!(
            listed,
            sorted_ids(&on_site),
            "{method}: the site's rows, all of them"
        );
    }
    for (method, key) in [
        ("getWorkbooks", "workbooks"),
        ("getDatasources", "datasources"),
        ("getProjects", "projects"),
        ("getUsers", "users"),
    ] {
        let answer = call(
            &emu,
            &s,
            method,
            json!({"order": [{"field": "name", "ascending": true}]}),
        );
        assert_eq!(answer.status, 200, "{method}: {}", answer.body);
        let items = answer.result()[key].as_array().unwrap();
        assert!(!items.is_empty(), "{method}");
        assert_eq!(
            answer.result()["totalCount"].as_u64(),
            Some(items.len() as u64),
            "{method}"
        );
    }
    let users = call(&emu, &s, "getUsers", json!({}));
    assert!(users.result().to_string().find("password").is_none());
    let sites = call(
        &emu,
        &s,
        "getSiteNamesAcrossAllPods",
        json!({"page": {"startIndex": 0, "maxItems": 1000}}),
    );
    assert_eq!(
        sites.result()["siteNames"],
        json!([{"name": "Default", "urlName": ""}, {"name": "Marketing", "urlName": "marketing"}])
    );
}

#[test]
fn server_settings_before_login_have_what_tableaus_client_needs() {
    let emu = start(|_| {});
    let answer = post(&emu, "getServerSettingsUnauthenticated", Value::Null, &[]);
    let r = answer.result();
    for field in [
        "defaultLanguage",
        "defaultLocale",
        "guestEnabled",
        "product",
        "domainFamily",
    ] {
        assert!(!r[field].is_null(), "{field}");
    }
    assert_eq!(r["authenticationType"]["type"], "LOCAL");
    assert!(r["customization"]["serverName"].is_string());
}

#[test]
fn malformed_calls_get_errors_not_crashes() {
    let emu = start(|_| {});
    let not_json = post_raw(&emu, "login", "{\"method\":", &[]);
    assert_eq!((not_json.status, not_json.codes()), (400, vec![25]));
    let unknown = post(&emu, "getTheMoon", json!({}), &[]);
    assert_eq!((unknown.status, unknown.codes()), (400, vec![80000]));
    let bad_params = post_raw(&emu, "login", "{\"method\":\"login\",\"params\":[1]}", &[]);
    assert_eq!(bad_params.status, 400);
    let missing = post(&emu, "login", json!({"username": "admin"}), &[]);
    assert_eq!(missing.codes(), vec![24]);
    // The body's method counts, not the URL; extra keys beside params are ignored.
    let body = json!({"method": "generatePublicKey", "params": null, "order": []}).to_string();
    let mismatch = post_raw(&emu, "getExtractTasks", &body, &[]);
    assert!(mismatch.result()["keyId"].is_string());
    let s = login(&emu, "admin");
    let weird = call(
        &emu,
        &s,
        "getExtractTasks",
        json!({"filter": [[[]]], "order": 5, "page": "all"}),
    );
    assert_eq!(weird.codes(), vec![25]);
    assert_eq!(
        call(&emu, &s, "getSessionInfo", json!({})).status,
        200,
        "the server still answers"
    );
}

/// The 2016 blog post's Python client (naive Set-Cookie parsing included) moves a task.
#[test]
fn the_2016_blog_client_logs_in_and_moves_a_task() {
    let emu = start(|_| {});
    let task = task_not_on(&emu, "2", "7");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/blog2016_client.py"
    );
    let output = Command::new("python3")
        .args([script, &emu.url(), "admin", "admin", &task, "7"])
        .env("NO_PROXY", "*")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "this test needs python3 on PATH (standard library only; \
                 e.g. `apt-get install python3`): {e}"
            )
        });
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "blog client failed: {stderr}");
    assert_eq!(row(&emu, "extractTasks", &task)["scheduleId"], "7");
}

/// A schedule created without its action is refused naming Tableau's key, not the API
/// guide's misspelling of it.
#[test]
fn a_schedule_without_its_action_is_refused_naming_scheduled_action() {
    let emu = crate::support::emulator();
    let params =
        r#"{"name": "No action", "scheduleType": "Daily", "scheduleDetails": {"startTime": 60}}"#;
    let (code, _, err) = crate::support::run(
        crate::support::vizscript(&emu),
        &["call", "createSchedule", params],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("\"scheduledAction\" is required"), "{err}");
}

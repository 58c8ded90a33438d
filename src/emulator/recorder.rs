//! What the emulator saw: request counts, handling time and, optionally, every call in
//! order, so tests and benchmarks can assert how a client behaved (how many calls, which
//! methods, in what order, as which user).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

/// Counters since start or the last `reset_stats`.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Every HTTP request, including fault-injected ones and `/__emulator/*`.
    pub requests: u64,
    /// Vizportal calls per body `method` that reached a handler (not fault-injected), so
    /// each counts what was applied; `requests` counts every attempt.
    pub by_method: BTreeMap<String, u64>,
    /// Server-side handling time of Vizportal calls, without injected latency or spikes.
    pub handling: Duration,
    /// Answers cut off after their call was applied (`Faults::reset_rate`).
    pub resets: u64,
    /// Calls refused with an injected 503 before anything was read (`Faults::fail_rate`).
    pub declined: u64,
    /// Calls held back by an injected latency spike (`Faults::spike_rate`).
    pub spikes: u64,
}

impl Stats {
    /// The JSON served at `GET /__emulator/stats`.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "requests": self.requests,
            "byMethod": self.by_method,
            "handlingMicros": u64::try_from(self.handling.as_micros()).unwrap_or(u64::MAX),
            "resets": self.resets,
            "declined": self.declined,
            "spikes": self.spikes,
        })
    }
}

/// One Vizportal call as the emulator handled it.
#[derive(Clone, Debug)]
pub struct CallRecord {
    /// The body's `method`.
    pub method: String,
    /// The body's `params` (`{}` when absent or null).
    pub params: Value,
    /// The HTTP status answered.
    pub status: u16,
    /// Username of the session that made the call; `None` for calls without one.
    pub session_user: Option<String>,
    /// The cookies the answer set, as (name, value): a new session id and XSRF token after
    /// `login` and `switchSite`, so tests can search a client's output for the real secrets.
    pub set_cookies: Vec<(String, String)>,
}

/// Stats and the call log, behind one lock.
#[derive(Default)]
pub(crate) struct Recorder {
    pub stats: Stats,
    pub calls: Vec<CallRecord>,
    /// Session tokens issued by REST sign-ins (they travel in no `Set-Cookie`).
    pub rest_tokens: Vec<String>,
}

impl Recorder {
    /// Counts a call that reached a handler and, if asked, logs it.
    pub(crate) fn record(&mut self, call: CallRecord, keep: bool) {
        *self.stats.by_method.entry(call.method.clone()).or_default() += 1;
        if keep {
            self.calls.push(call);
        }
    }
}

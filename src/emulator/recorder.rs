//! What the emulator saw: request counts, handling time and, optionally, every call in
//! order, so tests and benchmarks can assert how a client behaved (how many calls, which
//! methods, in what order, as which user). Concurrent calls overlap, so the time the server
//! was busy is kept as a union of intervals, not a sum: the benchmark subtracts it from a
//! client's wall time.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Counters since start or the last `reset_stats`.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Every HTTP request, including fault-injected ones and `/__emulator/*`.
    pub requests: u64,
    /// Vizportal calls per body `method` that reached a handler (not fault-injected), so
    /// each counts what was applied; `requests` counts every attempt.
    pub by_method: BTreeMap<String, u64>,
    /// Server-side handling time of Vizportal calls, without injected latency or spikes,
    /// summed over calls: concurrent calls each add their own time.
    pub handling: Duration,
    /// Wall time during which at least one Vizportal call was being read or handled: the
    /// union of the intervals summed in `handling`.
    pub busy: Duration,
    /// Wall time during which at least one Vizportal call was in the server, from its
    /// arrival (injected latency and spikes included) to the end of its handling.
    pub in_flight: Duration,
    /// The most Vizportal calls in the server at once (as [`Stats::in_flight`] counts them).
    pub peak_in_flight: usize,
    /// Injected latency and spikes, summed over calls.
    pub injected: Duration,
    /// Answers cut off after their call was applied (`Faults::reset_rate`).
    pub resets: u64,
    /// Calls refused with an injected 503 before anything was read (`Faults::fail_rate`).
    pub declined: u64,
    /// Calls held back by an injected latency spike (`Faults::spike_rate`).
    pub spikes: u64,
    /// Answers sent gzip-compressed (`EmulatorConfig::gzip`).
    pub gzipped: u64,
}

impl Stats {
    /// The JSON served at `GET /__emulator/stats`.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "requests": self.requests,
            "byMethod": self.by_method,
            "handlingMicros": micros(self.handling),
            "busyMicros": micros(self.busy),
            "inFlightMicros": micros(self.in_flight),
            "peakInFlight": self.peak_in_flight,
            "injectedMicros": micros(self.injected),
            "resets": self.resets,
            "declined": self.declined,
            "spikes": self.spikes,
            "gzipped": self.gzipped,
        })
    }
}

fn micros(time: Duration) -> u64 {
    u64::try_from(time.as_micros()).unwrap_or(u64::MAX)
}

/// Which union of intervals a stretch of a call counts in.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Stretch {
    /// [`Stats::busy`].
    Busy,
    /// [`Stats::in_flight`].
    InFlight,
}

/// A union of intervals kept as they open and close: the time during which at least one
/// was open.
#[derive(Default)]
struct Union {
    open: usize,
    since: Option<Instant>,
}

impl Union {
    fn open(&mut self, now: Instant) {
        if self.open == 0 {
            self.since = Some(now);
        }
        self.open += 1;
    }

    /// The time to add to the union's total when the last open interval closes.
    fn close(&mut self, now: Instant) -> Duration {
        // After a stats reset the count restarts at zero while older calls still close.
        self.open = self.open.saturating_sub(1);
        match self.since {
            Some(since) if self.open == 0 => {
                self.since = None;
                now.saturating_duration_since(since)
            }
            _ => Duration::ZERO,
        }
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
    busy: Union,
    in_flight: Union,
}

impl Recorder {
    /// Counts a call that reached a handler and, if asked, logs it.
    pub(crate) fn record(&mut self, call: CallRecord, keep: bool) {
        *self.stats.by_method.entry(call.method.clone()).or_default() += 1;
        if keep {
            self.calls.push(call);
        }
    }

    /// A call's stretch begins.
    pub(crate) fn open(&mut self, stretch: Stretch, now: Instant) {
        match stretch {
            Stretch::Busy => self.busy.open(now),
            Stretch::InFlight => {
                self.in_flight.open(now);
                self.stats.peak_in_flight = self.stats.peak_in_flight.max(self.in_flight.open);
            }
        }
    }

    /// A call's stretch ends; the union grows when no other call's stretch is still open.
    pub(crate) fn close(&mut self, stretch: Stretch, now: Instant) {
        match stretch {
            Stretch::Busy => self.stats.busy += self.busy.close(now),
            Stretch::InFlight => self.stats.in_flight += self.in_flight.close(now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_stretches_count_once_and_gaps_not_at_all() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let mut recorder = Recorder::default();
        // 0..30 and 10..50 overlap: 50 ms; 60..70 after a gap: 10 ms.
        recorder.open(Stretch::Busy, at(0));
        recorder.open(Stretch::Busy, at(10));
        recorder.close(Stretch::Busy, at(30));
        recorder.close(Stretch::Busy, at(50));
        recorder.open(Stretch::Busy, at(60));
        recorder.close(Stretch::Busy, at(70));
        assert_eq!(recorder.stats.busy, Duration::from_millis(60));
        assert_eq!(recorder.stats.in_flight, Duration::ZERO);
        assert_eq!(recorder.stats.peak_in_flight, 0);
        recorder.open(Stretch::InFlight, at(70));
        recorder.open(Stretch::InFlight, at(71));
        recorder.close(Stretch::InFlight, at(72));
        recorder.close(Stretch::InFlight, at(73));
        recorder.open(Stretch::InFlight, at(74));
        recorder.close(Stretch::InFlight, at(75));
        assert_eq!(recorder.stats.peak_in_flight, 2);
        assert_eq!(recorder.stats.in_flight, Duration::from_millis(4));
        // A close without an open (after a reset) adds nothing.
        recorder.close(Stretch::InFlight, at(80));
        assert_eq!(recorder.stats.in_flight, Duration::from_millis(4));
    }
}

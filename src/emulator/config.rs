//! How an emulator instance is set up: port, data, limits the protocol leaves open
//! (page cap, batch cap, XSRF failure status), and injected faults. Resolved once here so
//! the request handlers read plain values.

use std::time::Duration;

use super::dataset::Dataset;
use super::sample::SampleSpec;

/// Everything [`Emulator::start`](super::Emulator::start) needs.
pub struct EmulatorConfig {
    /// TCP port on 127.0.0.1; `0` picks a free port (see [`Emulator::url`](super::Emulator::url)).
    pub port: u16,
    /// The server state to serve (sites, users, schedules, tasks, ...).
    pub dataset: Dataset,
    /// A session not used for this long is expired (HTTP 401, code 46).
    pub session_ttl: Duration,
    /// Injected failures and latency; changeable later with `set_faults`.
    pub faults: Faults,
    /// Largest `page.maxItems` served in one list call.
    pub max_page: usize,
    /// What a list call with `maxItems > max_page` gets.
    pub page_overflow: PageOverflow,
    /// Largest `ids` array a batch call accepts; a longer one fails whole (code 25).
    pub max_batch: usize,
    /// RSA key for `generatePublicKey`/`login`; `None` generates a 2048-bit key at start.
    pub key: Option<rsa::PrivateKey>,
    /// HTTP status for a missing or wrong `X-XSRF-TOKEN` (unknown on real servers).
    pub xsrf_failure_status: u16,
    /// Number of request-handling threads.
    pub workers: usize,
    /// Keep a [`CallRecord`](super::CallRecord) per call for
    /// [`Emulator::calls`](super::Emulator::calls). Turn off for long-running servers,
    /// where the record would grow without bound.
    pub record_calls: bool,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            port: 0,
            dataset: Dataset::sample(&SampleSpec::default()),
            session_ttl: Duration::from_secs(30 * 60),
            faults: Faults::default(),
            max_page: 1000,
            page_overflow: PageOverflow::Clamp,
            max_batch: 1000,
            key: None,
            xsrf_failure_status: 403,
            workers: 8,
            record_calls: true,
        }
    }
}

/// Failures injected into Vizportal calls (never into `/__emulator/*`).
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Probability (0.0 to 1.0) that a call is answered `503 Service Unavailable`
    /// before anything in it is applied.
    pub fail_rate: f64,
    /// Added before every Vizportal call is handled.
    pub latency: Duration,
}

/// The answer to a list call asking for more than `max_page` items.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PageOverflow {
    /// Serve `max_page` items; `moreItems` tells the client to page on.
    #[default]
    Clamp,
    /// Refuse the call with code 19 (invalid page size).
    Reject,
}

/// The limits request handlers enforce, copied out of [`EmulatorConfig`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub session_ttl: Duration,
    pub max_page: usize,
    pub page_overflow: PageOverflow,
    pub max_batch: usize,
    pub xsrf_failure_status: u16,
}

impl Limits {
    pub(crate) fn from_config(config: &EmulatorConfig) -> Limits {
        Limits {
            session_ttl: config.session_ttl,
            max_page: config.max_page,
            page_overflow: config.page_overflow,
            max_batch: config.max_batch,
            xsrf_failure_status: config.xsrf_failure_status,
        }
    }
}

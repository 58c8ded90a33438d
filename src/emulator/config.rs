//! How an emulator instance is set up: port, HTTPS, data, limits the protocol leaves open
//! (page cap, batch cap, XSRF failure status), and injected faults. Resolved once here so
//! the request handlers read plain values.

use std::time::Duration;

use super::dataset::Dataset;
use super::sample::SampleSpec;
use super::tls::TlsIdentity;

/// Everything [`Emulator::start`](super::Emulator::start) needs.
pub struct EmulatorConfig {
    /// TCP port on 127.0.0.1; `0` picks a free port (see [`Emulator::url`](super::Emulator::url)).
    pub port: u16,
    /// Serve HTTPS with this certificate and key instead of plain HTTP. The URL then starts
    /// with `https://` and both cookies carry `Secure`, as on a real server behind TLS.
    pub tls: Option<TlsIdentity>,
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
    /// The newest REST API version served (`serverinfo`, `auth/signin`); newer versions
    /// in a path get 404, as on an older server.
    pub rest_api_version: (u32, u32),
    /// Most threads running method handlers at once. Handlers share one lock on the state,
    /// so more threads only queue on it; network I/O runs on separate threads and never
    /// waits for a handler.
    pub workers: usize,
    /// Keep a [`CallRecord`](super::CallRecord) per call for
    /// [`Emulator::calls`](super::Emulator::calls). Turn off for long-running servers,
    /// where the record would grow without bound.
    pub record_calls: bool,
    /// How long background jobs take and which of them fail.
    pub jobs: JobSettings,
    /// Enabled schedules fire by themselves when their `runNextAt` passes, as on a real
    /// server. Turn off where only the client's own calls may change anything: a rehearsal
    /// (whose difference must show what the script did, even if the snapshot's run times
    /// have passed) or a test (which must not depend on the time of day it runs at).
    /// `runSchedules` runs a schedule either way.
    pub schedules_fire: bool,
    /// Methods the emulator answers as unknown, as an older server would (e.g.
    /// `getBackgroundJobs`), so clients can rehearse their fallbacks.
    pub hidden_methods: Vec<String>,
    /// Seed of the random source that decides which calls get an injected fault; `None`
    /// seeds it from the operating system. The same seed draws the same sequence of faults
    /// for the same sequence of requests, so a failing fault test can be replayed.
    pub fault_seed: Option<u64>,
    /// Answer Vizportal calls gzip-compressed when the request accepts it, as a
    /// compressing gateway (a web server or load balancer) in front of a real server may.
    pub gzip: bool,
    /// Lists filter only on the fields public sources name (see
    /// [`listing::DOCUMENTED_FILTER_FIELDS`](super::listing::DOCUMENTED_FILTER_FIELDS)); a
    /// filter on any other field is refused (code 80014). Which fields each list filters
    /// on is not known, so by default the emulator filters on every field it lists.
    pub documented_filters: bool,
    /// How `getSchedules` shows a schedule where public sources differ or are silent:
    /// details spelt as the API guide's sample (`recurrencyDaysOfWeek`), and whether the
    /// `enabled` field is shown at all.
    pub schedule_shape: ScheduleShape,
    /// `updateSchedule` takes a call naming only some of a schedule's fields (the others
    /// keep their values). Tableau's client sends all seven, and whether a server takes
    /// fewer is not known, so by default a call missing one is refused (code 24).
    pub partial_schedule_updates: bool,
}

/// How `getSchedules` answers, where public sources leave it open (see
/// [`EmulatorConfig::schedule_shape`]). The default is Tableau's own clients' spelling,
/// with `enabled`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScheduleShape {
    /// Detail fields spelt `recurrency*`, as in the API guide's sample answer.
    pub guide_spelling: bool,
    /// No `enabled` field (a disabled schedule still shows no `runNextAt`).
    pub without_enabled: bool,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            port: 0,
            tls: None,
            dataset: Dataset::sample(&SampleSpec::default()),
            session_ttl: Duration::from_secs(30 * 60),
            faults: Faults::default(),
            max_page: 1000,
            page_overflow: PageOverflow::Clamp,
            max_batch: 1000,
            key: None,
            xsrf_failure_status: 403,
            rest_api_version: super::rest::REST_API_VERSION,
            workers: 8,
            record_calls: true,
            jobs: JobSettings::default(),
            schedules_fire: true,
            hidden_methods: Vec::new(),
            fault_seed: None,
            gzip: false,
            documented_filters: false,
            schedule_shape: ScheduleShape::default(),
            partial_schedule_updates: false,
        }
    }
}

/// Failures injected into Vizportal calls (never into `/__emulator/*`). The default injects
/// nothing. Probabilities outside 0.0 to 1.0 count as the nearer bound. Each injected fault
/// is counted in [`Stats`](super::Stats) (`declined`, `spikes`, `resets`).
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Probability that a call is answered `503 Service Unavailable` before anything in it
    /// is applied.
    pub fail_rate: f64,
    /// When not empty, `fail_rate` applies to these methods only (one method of a server
    /// that keeps failing while the rest answer).
    pub fail_methods: Vec<String>,
    /// Added before every Vizportal call is handled.
    pub latency: Duration,
    /// Probability that a call waits an extra [`spike`](Self::spike) before it is handled,
    /// on top of `latency`: the occasional slow answer of a busy server.
    pub spike_rate: f64,
    /// How long a latency spike lasts.
    pub spike: Duration,
    /// Probability that the answer to a call is lost after the call was handled and
    /// applied: the status line, the headers and half the body go out, then the connection
    /// is reset. The client sees a connection error for a call that took effect. Only calls
    /// that reached a method handler are cut; each cut counts in
    /// [`Stats::resets`](super::Stats::resets).
    pub reset_rate: f64,
    /// When not empty, `reset_rate` applies to these methods only (a write whose answers
    /// are lost while the reads around it go through).
    pub reset_methods: Vec<String>,
    /// Methods answered with an HTML sign-in page (HTTP 200, `text/html`) instead of
    /// Vizportal JSON, as when a proxy or single sign-on gateway in front of the server
    /// starts intercepting calls in the middle of a run.
    pub html_for_methods: Vec<String>,
}

/// The background-job lifecycle: a job waits in the queue (`Pending`) for the first third
/// of `duration`, runs (`InProgress`) for the rest, then ends `Completed` or `Failed`.
/// Nothing runs in the background: a job's status is computed from the time asked.
#[derive(Clone, Debug, Default)]
pub struct JobSettings {
    /// From request to finish; zero finishes a job the moment it is requested.
    pub duration: Duration,
    /// Probability (0.0 to 1.0) that a job fails.
    pub fail_rate: f64,
    /// A job whose target name contains one of these (ignoring case) always fails.
    pub fail_targets: Vec<String>,
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
    pub rest_api_version: (u32, u32),
    pub documented_filters: bool,
    pub schedule_shape: ScheduleShape,
    pub partial_schedule_updates: bool,
}

impl Limits {
    pub(crate) fn from_config(config: &EmulatorConfig) -> Limits {
        Limits {
            session_ttl: config.session_ttl,
            max_page: config.max_page,
            page_overflow: config.page_overflow,
            max_batch: config.max_batch,
            xsrf_failure_status: config.xsrf_failure_status,
            rest_api_version: config.rest_api_version,
            documented_filters: config.documented_filters,
            schedule_shape: config.schedule_shape,
            partial_schedule_updates: config.partial_schedule_updates,
        }
    }
}

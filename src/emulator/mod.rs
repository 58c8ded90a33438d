//! A strict, in-process Vizportal server.
//!
//! The Vizportal API is undocumented and a real Tableau Server is not something a test, a
//! benchmark or a first-time user can count on. The emulator stands in for one: it speaks
//! the wire protocol as observed from real servers and Tableau's own clients (see
//! `docs/protocol.md`), including the parts clients get wrong (RSA login with
//! single-use key ids, cookies rotating on `switchSite`, XSRF tokens bound to the session,
//! errors inside HTTP 200, paging limits, per-id errors of batch calls). It is strict on
//! purpose: a client that works against it has handled what a real server does. Its state
//! can be read back ([`Emulator::state`]), so tests check what a script changed rather than
//! what it printed.
//!
//! It serves `vizscript emulator`, `--demo`, the integration tests and the benchmarks. It
//! shares only [`crate::wire`] with the client.

mod config;
mod dataset;
pub(crate) mod entities;
mod http;
mod jobs;
mod lenient;
mod listing;
mod methods;
mod recorder;
mod recurrence;
mod response_body;
mod rest;
mod sample;
mod server;
mod sessions;
mod state;
mod timestamp;
mod tls;
mod validate;

use std::io;
use std::sync::{Arc, Mutex, RwLock};

pub use config::{EmulatorConfig, Faults, JobSettings, PageOverflow, ScheduleShape};
pub use dataset::{Dataset, FORMAT_VERSION, SnapshotOrigin};
pub use methods::serves;
pub use recorder::{CallRecord, Stats};
pub use sample::{SAMPLE_TOKEN, SAMPLE_USERS, SampleSpec};
pub use tls::TlsIdentity;

use config::Limits;
use recorder::Recorder;
use server::Server;
use sessions::LoginKeys;
use state::{ServerState, Shared, dice, lock};

/// A running emulator on 127.0.0.1. Dropping it stops the server.
pub struct Emulator {
    shared: Arc<Shared>,
    server: Server,
    secure: bool,
}

impl Emulator {
    /// Starts serving; returns once the port is listening.
    pub fn start(config: EmulatorConfig) -> io::Result<Emulator> {
        let limits = Limits::from_config(&config);
        let key = match config.key {
            Some(key) => key,
            None => rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).map_err(io::Error::other)?,
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(ServerState {
                jobs: config.jobs,
                schedules_fire: config.schedules_fire,
                hidden_methods: config.hidden_methods,
                ..ServerState::new(config.dataset, LoginKeys::new(key))
            }),
            limits,
            faults: RwLock::new(config.faults),
            recorder: Mutex::new(Recorder::default()),
            record_calls: config.record_calls,
            dice: dice(config.fault_seed),
            gzip: config.gzip,
        });
        let server = Server::start(
            config.port,
            config.tls.as_ref(),
            config.workers,
            Arc::clone(&shared),
        )?;
        Ok(Emulator {
            shared,
            server,
            secure: config.tls.is_some(),
        })
    }

    /// The base URL, `http://127.0.0.1:PORT`, or `https://` when serving TLS.
    pub fn url(&self) -> String {
        let scheme = if self.secure { "https" } else { "http" };
        format!("{scheme}://{}", self.server.addr())
    }

    /// The current server state in the data file format (as `GET /__emulator/state`).
    pub fn state(&self) -> serde_json::Value {
        let mut state = lock(&self.shared.state);
        state.advance(chrono::Utc::now());
        state.data.to_json()
    }

    /// Counters since start or the last [`reset_stats`](Self::reset_stats).
    pub fn stats(&self) -> Stats {
        lock(&self.shared.recorder).stats.clone()
    }

    /// Every Vizportal call that reached a method handler (not fault-injected), in order.
    pub fn calls(&self) -> Vec<CallRecord> {
        lock(&self.shared.recorder).calls.clone()
    }

    /// Every non-empty cookie value the emulator handed out (session ids and XSRF tokens
    /// of every login and site switch), from the recorded calls: the secrets a client must
    /// never print or write.
    pub fn issued_secrets(&self) -> Vec<String> {
        let recorder = lock(&self.shared.recorder);
        let mut secrets: Vec<String> = recorder
            .calls
            .iter()
            .flat_map(|call| call.set_cookies.iter().map(|(_, value)| value.clone()))
            .chain(recorder.rest_tokens.iter().cloned())
            .filter(|value| !value.is_empty())
            .collect();
        secrets.sort();
        secrets.dedup();
        secrets
    }

    /// Changes the injected faults from the next request on.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.set_faults(faults);
    }

    /// Ends every session: the next authenticated call gets HTTP 401, code 46.
    pub fn expire_all_sessions(&self) {
        lock(&self.shared.state).sessions.clear();
    }

    /// Zeroes the stats and forgets the recorded calls.
    pub fn reset_stats(&self) {
        *lock(&self.shared.recorder) = Recorder::default();
    }

    /// Stops accepting requests, lets those in flight finish and waits for the server
    /// thread (also done on drop).
    pub fn shutdown(mut self) {
        self.server.stop();
    }
}

//! A strict, in-process Vizportal server.
//!
//! The Vizportal API is undocumented and a real Tableau Server is not something a test, a
//! benchmark or a first-time user can count on. The emulator stands in for one: it speaks
//! the wire protocol as observed from real servers and Tableau's own clients (see
//! `shared/vizportal-protocol.md`), including the parts clients get wrong (RSA login with
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
mod entities;
mod http;
mod lenient;
mod listing;
mod methods;
mod recorder;
mod recurrence;
mod sample;
mod session;
mod state;
mod timestamp;
mod validate;

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;

pub use config::{EmulatorConfig, Faults, PageOverflow};
pub use dataset::Dataset;
pub use recorder::{CallRecord, Stats};
pub use sample::{SAMPLE_USERS, SampleSpec};

use config::Limits;
use recorder::Recorder;
use session::LoginKeys;
use state::{ServerState, Shared, lock};

/// A running emulator on 127.0.0.1. Dropping it stops the server.
pub struct Emulator {
    shared: Arc<Shared>,
    server: Arc<tiny_http::Server>,
    workers: Vec<JoinHandle<()>>,
    port: u16,
}

impl Emulator {
    /// Starts serving; returns once the port is listening.
    pub fn start(config: EmulatorConfig) -> io::Result<Emulator> {
        let limits = Limits::from_config(&config);
        let key = match config.key {
            Some(key) => key,
            None => rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).map_err(io::Error::other)?,
        };
        let server = Arc::new(
            tiny_http::Server::http(("127.0.0.1", config.port)).map_err(io::Error::other)?,
        );
        let port = server
            .server_addr()
            .to_ip()
            .map(|addr| addr.port())
            .ok_or_else(|| io::Error::other("the server is not listening on an IP address"))?;
        let shared = Arc::new(Shared {
            state: Mutex::new(ServerState::new(config.dataset, LoginKeys::new(key))),
            limits,
            faults: RwLock::new(config.faults),
            recorder: Mutex::new(Recorder::default()),
            record_calls: config.record_calls,
            stopping: AtomicBool::new(false),
        });
        let mut emulator = Emulator {
            shared,
            server,
            workers: Vec::new(),
            port,
        };
        for n in 0..config.workers.max(1) {
            let (server, shared) = (Arc::clone(&emulator.server), Arc::clone(&emulator.shared));
            // On failure, dropping `emulator` stops the workers started so far.
            let worker = std::thread::Builder::new()
                .name(format!("vizportal-emulator-{n}"))
                .spawn(move || http::work(&server, &shared))?;
            emulator.workers.push(worker);
        }
        Ok(emulator)
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The current server state in the data file format (as `GET /__emulator/state`).
    pub fn state(&self) -> serde_json::Value {
        lock(&self.shared.state).data.to_json()
    }

    /// Counters since start or the last [`reset_stats`](Self::reset_stats).
    pub fn stats(&self) -> Stats {
        lock(&self.shared.recorder).stats.clone()
    }

    /// Every Vizportal call that reached a method handler (not fault-injected), in order.
    pub fn calls(&self) -> Vec<CallRecord> {
        lock(&self.shared.recorder).calls.clone()
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

    /// Stops accepting requests and waits for the workers (also done on drop).
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if self.workers.is_empty() {
            return;
        }
        self.shared.stopping.store(true, Ordering::SeqCst);
        for _ in &self.workers {
            self.server.unblock();
        }
        for worker in self.workers.drain(..) {
            // A worker that panicked has nothing left to clean up.
            let _ = worker.join();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
    }
}

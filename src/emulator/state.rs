//! What the request handlers share. All server state (data, sessions, login keys) sits behind
//! one lock, so concurrent clients moving the same tasks never lose an update and a call
//! sees either all or nothing of another.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use super::config::{Faults, JobSettings, Limits};
use super::dataset::Dataset;
use super::entities::Id;
use super::jobs;
use super::recorder::Recorder;
use super::sessions::{LoginKeys, Sessions};

/// The emulated server: its data, who is logged in, and the login key.
pub(crate) struct ServerState {
    pub data: Dataset,
    pub sessions: Sessions,
    pub keys: LoginKeys,
    /// Counts calls that may have changed `data` (every method but the `get*` reads).
    pub generation: u64,
    pub selection: SelectionCache,
    /// How background jobs behave.
    pub jobs: JobSettings,
    /// Methods answered as unknown.
    pub hidden_methods: Vec<String>,
}

impl ServerState {
    pub(crate) fn new(data: Dataset, keys: LoginKeys) -> ServerState {
        ServerState {
            data,
            sessions: Sessions::default(),
            keys,
            generation: 0,
            selection: SelectionCache::default(),
            jobs: JobSettings::default(),
            hidden_methods: Vec::new(),
        }
    }

    /// Moves the server's clock to `now` (schedules fire, jobs finish); see `jobs`.
    pub(crate) fn advance(&mut self, now: chrono::DateTime<chrono::Utc>) {
        if jobs::advance(&mut self.data, &self.jobs, now) {
            self.generation += 1;
        }
    }
}

/// The last selection (filter and order applied) of a list, by a key naming the list and
/// the call's filter and order, kept while the data has not changed. A client paging through
/// 100,000 sorted tasks would otherwise have them sorted once per page.
#[derive(Default)]
pub(crate) struct SelectionCache {
    last: Option<(String, u64, Arc<[Id]>)>,
}

impl SelectionCache {
    pub(crate) fn get(&self, key: &str, generation: u64) -> Option<Arc<[Id]>> {
        let (k, g, ids) = self.last.as_ref()?;
        (k == key && *g == generation).then(|| Arc::clone(ids))
    }

    pub(crate) fn put(&mut self, key: String, generation: u64, ids: Arc<[Id]>) {
        self.last = Some((key, generation, ids));
    }
}

/// Shared by the [`Emulator`](super::Emulator) handle and its request handlers.
pub(crate) struct Shared {
    pub state: Mutex<ServerState>,
    pub limits: Limits,
    pub faults: RwLock<Faults>,
    pub recorder: Mutex<Recorder>,
    pub record_calls: bool,
}

/// Locks a mutex even if a thread panicked while holding it: handlers leave the state
/// consistent at every step, and one failed request must not stop the server.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// The current faults.
    pub(crate) fn faults(&self) -> Faults {
        self.faults
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the faults.
    pub(crate) fn set_faults(&self, faults: Faults) {
        *self.faults.write().unwrap_or_else(PoisonError::into_inner) = faults;
    }
}

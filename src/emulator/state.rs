//! What the request handlers share. All server state (data, sessions, login keys) sits behind
//! one lock, so concurrent clients moving the same tasks never lose an update and a call
//! sees either all or nothing of another.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

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
    /// Whether schedules fire when their time comes (`EmulatorConfig::schedules_fire`).
    pub schedules_fire: bool,
    /// Methods answered as unknown.
    pub hidden_methods: Vec<String>,
}

impl ServerState {
    pub(crate) fn new(mut data: Dataset, keys: LoginKeys) -> ServerState {
        data.issue_past_rows();
        ServerState {
            data,
            sessions: Sessions::default(),
            keys,
            generation: 0,
            selection: SelectionCache::default(),
            jobs: JobSettings::default(),
            schedules_fire: true,
            hidden_methods: Vec::new(),
        }
    }

    /// Moves the server's clock to `now` (schedules fire unless held, jobs finish); see
    /// `jobs`.
    pub(crate) fn advance(&mut self, now: chrono::DateTime<chrono::Utc>) {
        if jobs::advance(&mut self.data, &self.jobs, self.schedules_fire, now) {
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
    /// Decides which calls get an injected fault (seeded by `EmulatorConfig::fault_seed`).
    pub dice: Mutex<StdRng>,
    /// Answer gzip-compressed when the request accepts it (`EmulatorConfig::gzip`).
    pub gzip: bool,
}

fn happens(dice: &Mutex<StdRng>, rate: f64) -> bool {
    match rate {
        r if r >= 1.0 => true,
        r if r > 0.0 => lock(dice).random_bool(r),
        _ => false,
    }
}

/// The random source for injected faults: from `seed`, or from the operating system.
pub(crate) fn dice(seed: Option<u64>) -> Mutex<StdRng> {
    Mutex::new(match seed {
        Some(seed) => StdRng::seed_from_u64(seed),
        None => StdRng::from_os_rng(),
    })
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

    /// Whether an injected fault of this probability happens this time. Only rates strictly
    /// between 0 and 1 draw from the dice, so turning one fault on does not change which
    /// calls another seeded fault hits.
    pub(crate) fn happens(&self, rate: f64) -> bool {
        happens(&self.dice, rate)
    }

    /// Replaces the faults.
    pub(crate) fn set_faults(&self, faults: Faults) {
        *self.faults.write().unwrap_or_else(PoisonError::into_inner) = faults;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_rates_outside_zero_to_one_are_clamped() {
        let dice = dice(None);
        assert!(happens(&dice, 1.0) && happens(&dice, 7.0));
        assert!(!happens(&dice, 0.0) && !happens(&dice, -1.0) && !happens(&dice, f64::NAN));
    }

    #[test]
    fn one_seed_draws_one_sequence_of_faults() {
        let draw = |seed| {
            let dice = dice(Some(seed));
            (0..64).map(|_| happens(&dice, 0.5)).collect::<Vec<_>>()
        };
        assert_eq!(draw(42), draw(42));
        assert_ne!(draw(42), draw(43));
    }
}

//! A bounded number of requests in flight: workers take the next item as soon as they
//! finish one (a sliding window, not waves), and results come back in item order. The
//! calling thread is one of the workers.
//!
//! The window opens as wide as `--concurrency` only against a server that is slow to
//! answer. More requests in flight hide waiting (network latency, a server working on
//! several requests at once); against a server that answers within [`SLOW`] (the bundled
//! emulator, a fast server nearby) they hide little, and each costs the client a thread, a
//! connection and CPU. On the 10,000-task benchmark, two in flight took about a tenth less
//! client CPU and less wall time than eight. So the window starts at two, and opens
//! fully once an answer of the server takes [`SLOW`] or longer: the last one before the
//! window starts, or any while it runs. Only answers read in full count; a refused or
//! lost request opens nothing.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread::Scope;
use std::time::Duration;

/// An answer that takes this long opens the window fully.
pub(crate) const SLOW: Duration = Duration::from_millis(20);

/// Requests in flight while answers are quick.
const NARROW: usize = 2;

/// How long the server took over its last answer read in full (zero before any).
#[derive(Debug, Default)]
pub(crate) struct AnswerTime(AtomicU64);

impl AnswerTime {
    pub(crate) fn set(&self, took: Duration) {
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.0.store(micros, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> Duration {
        Duration::from_micros(self.0.load(Ordering::Relaxed))
    }
}

/// How many items may be worked on at once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window<'a> {
    /// The most at once.
    most: usize,
    /// At once until `answers` says an answer took [`SLOW`] or longer.
    narrow: usize,
    answers: Option<&'a AnswerTime>,
}

impl<'a> Window<'a> {
    /// At most `most` at once: all of them when the server's last answer (`answers`) took
    /// [`SLOW`] or longer, else two until one does.
    pub(crate) fn after(most: usize, answers: &'a AnswerTime) -> Window<'a> {
        let most = most.max(1);
        let narrow = if answers.get() >= SLOW {
            most
        } else {
            NARROW.min(most)
        };
        Window {
            most,
            narrow,
            answers: Some(answers),
        }
    }

    /// Exactly `n` at once, however long answers take.
    pub(crate) fn fixed(n: usize) -> Window<'static> {
        let n = n.max(1);
        Window {
            most: n,
            narrow: n,
            answers: None,
        }
    }

    /// Whether the server's answers now call for the whole window.
    fn slow_answers(&self) -> bool {
        self.answers.is_some_and(|a| a.get() >= SLOW)
    }
}

/// What the workers of one [`in_order`] share.
struct Shared<'a, I, T, W, S> {
    items: &'a [I],
    work: W,
    stop_on: S,
    results: Vec<Mutex<Option<T>>>,
    next: AtomicUsize,
    stop: AtomicBool,
    /// Workers started so far.
    started: AtomicUsize,
    /// The most workers this run can use.
    most: usize,
    window: Window<'a>,
}

impl<'a, I: Sync, T: Send, W, S> Shared<'a, I, T, W, S>
where
    W: Fn(&I) -> T + Sync,
    S: Fn(&T) -> bool + Sync,
{
    /// Take items until none are left (or a result stopped the rest).
    fn work<'scope>(&'scope self, scope: &'scope Scope<'scope, '_>) {
        while !self.stop.load(Ordering::SeqCst) {
            let i = self.next.fetch_add(1, Ordering::SeqCst);
            let Some(item) = self.items.get(i) else { break };
            let result = (self.work)(item);
            if (self.stop_on)(&result) {
                self.stop.store(true, Ordering::SeqCst);
            } else if self.window.slow_answers() {
                self.open(scope);
            }
            *self.results[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
        }
    }

    /// Start the workers not started yet. (One the system refuses is done without: the
    /// others take its items.)
    fn open<'scope>(&'scope self, scope: &'scope Scope<'scope, '_>) {
        if self.started.load(Ordering::SeqCst) >= self.most {
            return;
        }
        let before = self.started.swap(self.most, Ordering::SeqCst);
        for _ in before..self.most {
            if self.stop.load(Ordering::SeqCst) {
                return;
            }
            let spawned = std::thread::Builder::new().spawn_scoped(scope, move || self.work(scope));
            if spawned.is_err() {
                tracing::debug!("could not start another request thread; going on with fewer");
                return;
            }
        }
    }
}

/// Apply `work` to every item with at most `window` running at once. When `stop_on` says
/// a result should stop the rest, items not yet started are left as `None`.
pub(crate) fn in_order<I: Sync, T: Send>(
    window: Window<'_>,
    items: &[I],
    work: impl Fn(&I) -> T + Sync,
    stop_on: impl Fn(&T) -> bool + Sync,
) -> Vec<Option<T>> {
    let most = window.most.min(items.len()).max(1);
    let first = window.narrow.min(most);
    let shared = Shared {
        items,
        work,
        stop_on,
        results: items.iter().map(|_| Mutex::new(None)).collect(),
        next: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        started: AtomicUsize::new(first),
        most,
        window,
    };
    std::thread::scope(|scope| {
        for _ in 1..first {
            scope.spawn(|| shared.work(scope));
        }
        shared.work(scope);
    });
    shared
        .results
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Condvar;
    use std::time::Instant;

    #[test]
    fn results_keep_item_order() {
        let items: Vec<u64> = (0..20).collect();
        let out = in_order(Window::fixed(4), &items, |i| i * 2, |_| false);
        assert_eq!(out, items.iter().map(|i| Some(i * 2)).collect::<Vec<_>>());
    }

    #[test]
    fn a_stopping_result_leaves_later_items_unstarted() {
        let items: Vec<u64> = (0..100).collect();
        let out = in_order(Window::fixed(1), &items, |i| *i, |r| *r == 3);
        assert_eq!(out[3], Some(3));
        assert!(out[4..].iter().all(Option::is_none));
    }

    /// Counts items being worked on at once; `meet` holds each of the first items until
    /// that many are in at the same time (or a generous timeout passes).
    struct InFlight {
        now: Mutex<usize>,
        most: AtomicUsize,
        met: Condvar,
    }

    impl InFlight {
        fn new() -> InFlight {
            InFlight {
                now: Mutex::new(0),
                most: AtomicUsize::new(0),
                met: Condvar::new(),
            }
        }

        fn item(&self, meet: usize) {
            let mut now = self.now.lock().unwrap();
            *now += 1;
            self.most.fetch_max(*now, Ordering::SeqCst);
            self.met.notify_all();
            let deadline = Instant::now() + Duration::from_secs(10);
            while self.most.load(Ordering::SeqCst) < meet && Instant::now() < deadline {
                now = self
                    .met
                    .wait_timeout(now, Duration::from_millis(50))
                    .unwrap()
                    .0;
            }
            *now -= 1;
        }
    }

    /// Answer times as they were: quick, or slow.
    fn answered(took: Duration) -> AnswerTime {
        let answers = AnswerTime::default();
        answers.set(took);
        answers
    }

    #[test]
    fn quick_answers_keep_two_in_flight() {
        let items: Vec<u64> = (0..40).collect();
        let counter = InFlight::new();
        let threads = Mutex::new(std::collections::HashSet::new());
        let answers = answered(SLOW - Duration::from_millis(1));
        let out = in_order(
            Window::after(8, &answers),
            &items,
            |_| {
                threads.lock().unwrap().insert(std::thread::current().id());
                counter.item(2);
            },
            |_| false,
        );
        assert!(out.iter().all(Option::is_some));
        assert_eq!(counter.most.load(Ordering::SeqCst), 2);
        assert_eq!(threads.lock().unwrap().len(), 2, "two workers, no more");
    }

    #[test]
    fn a_slow_answer_opens_the_window() {
        let items: Vec<u64> = (0..40).collect();
        // The server's last answer was slow: eight from the start.
        let counter = InFlight::new();
        let answers = answered(SLOW);
        in_order(
            Window::after(8, &answers),
            &items,
            |_| counter.item(8),
            |_| false,
        );
        assert_eq!(counter.most.load(Ordering::SeqCst), 8);
        // Quick so far, then the first item's answer is slow: once the first two are
        // done, eight are at work.
        let counter = InFlight::new();
        let answers = answered(Duration::ZERO);
        let work = |i: &u64| {
            if *i == 0 {
                answers.set(SLOW);
            }
            counter.item(if *i < 2 { 1 } else { 8 });
        };
        let out = in_order(Window::after(8, &answers), &items, work, |_| false);
        assert!(out.iter().all(Option::is_some));
        assert_eq!(counter.most.load(Ordering::SeqCst), 8);
    }

    #[test]
    fn a_stopping_result_opens_nothing_more() {
        let items: Vec<u64> = (0..40).collect();
        // One worker so far; item 0 both stops the run and has a slow answer: no other
        // worker starts, and no other item.
        let answers = answered(Duration::ZERO);
        let window = Window {
            narrow: 1,
            ..Window::after(8, &answers)
        };
        let work = |i: &u64| {
            if *i == 0 {
                answers.set(SLOW);
            }
            *i
        };
        let out = in_order(window, &items, work, |r| *r == 0);
        assert_eq!(out[0], Some(0));
        assert!(out[1..].iter().all(Option::is_none), "{out:?}");
    }

    #[test]
    fn the_window_never_exceeds_the_items_or_most() {
        let items: Vec<u64> = (0..3).collect();
        let counter = InFlight::new();
        let slow = answered(SLOW);
        in_order(
            Window::after(8, &slow),
            &items,
            |_| counter.item(3),
            |_| false,
        );
        assert_eq!(counter.most.load(Ordering::SeqCst), 3);
        let quick = answered(Duration::ZERO);
        assert_eq!(Window::after(1, &slow).narrow, 1);
        assert_eq!(Window::after(1, &quick).narrow, 1);
        assert!(
            !Window::fixed(1).slow_answers(),
            "a fixed window never opens"
        );
    }
}

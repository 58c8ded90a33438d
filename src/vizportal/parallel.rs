//! A bounded number of requests in flight: `n` workers take the next item as soon as they
//! finish one (a sliding window, not waves), and results come back in item order. The
//! calling thread is one of the workers.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Apply `work` to every item with at most `n` running at once. When `stop_on` says a
/// result should stop the rest, items not yet started are left as `None`.
pub(crate) fn in_order<I: Sync, T: Send>(
    n: usize,
    items: &[I],
    work: impl Fn(&I) -> T + Sync,
    stop_on: impl Fn(&T) -> bool + Sync,
) -> Vec<Option<T>> {
    let results: Vec<Mutex<Option<T>>> = items.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let workers = n.clamp(1, items.len().max(1));
    let worker = || {
        loop {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let i = next.fetch_add(1, Ordering::SeqCst);
            let Some(item) = items.get(i) else { break };
            let result = work(item);
            if stop_on(&result) {
                stop.store(true, Ordering::SeqCst);
            }
            *results[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..workers {
            scope.spawn(worker);
        }
        worker();
    });
    results
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_item_order() {
        let items: Vec<u64> = (0..20).collect();
        let out = in_order(4, &items, |i| i * 2, |_| false);
        assert_eq!(out, items.iter().map(|i| Some(i * 2)).collect::<Vec<_>>());
    }

    #[test]
    fn a_stopping_result_leaves_later_items_unstarted() {
        let items: Vec<u64> = (0..100).collect();
        let out = in_order(1, &items, |i| *i, |r| *r == 3);
        assert_eq!(out[3], Some(3));
        assert!(out[4..].iter().all(Option::is_none));
    }
}

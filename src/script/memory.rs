//! How much heap the process holds, counted as it is allocated, so a script whose data
//! runs away (`loop { a += a; }`) is stopped at a limit instead of taking the machine's
//! memory. Rhai's own size limits are not used: it checks them by measuring a whole
//! value after every change to it, which makes building an array item by item cost time
//! in proportion to its length for each item.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, counting the bytes it holds for the process.
pub struct Counting;

static HELD: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed to the system allocator unchanged; the count is only
// bookkeeping beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract, which `System` has too.
        let block = unsafe { System.alloc(layout) };
        if !block.is_null() {
            HELD.fetch_add(layout.size(), Ordering::Relaxed);
        }
        block
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let block = unsafe { System.alloc_zeroed(layout) };
        if !block.is_null() {
            HELD.fetch_add(layout.size(), Ordering::Relaxed);
        }
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: `block` was allocated by this allocator (so by `System`) with `layout`.
        unsafe { System.dealloc(block, layout) };
        HELD.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds `realloc`'s contract, which `System` has too.
        let moved = unsafe { System.realloc(block, layout, new_size) };
        if !moved.is_null() {
            if new_size >= layout.size() {
                HELD.fetch_add(new_size - layout.size(), Ordering::Relaxed);
            } else {
                HELD.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes of heap the process holds now.
pub fn held() -> usize {
    HELD.load(Ordering::Relaxed)
}

/// How far the heap may grow during one evaluation (a script, a REPL input): checked
/// between operations, and by the functions that build large text in one call
/// (`to_json`, `save_json`, `table`) while they build it.
#[derive(Debug, Default)]
pub struct Budget {
    /// Bytes the heap may grow by (0 = no limit).
    max: usize,
    /// The heap held when the evaluation began.
    start: AtomicUsize,
}

impl Budget {
    /// A budget of `max` bytes (0 = no limit).
    pub fn new(max: usize) -> Budget {
        Budget {
            max,
            start: AtomicUsize::new(held()),
        }
    }

    /// An evaluation begins: its growth counts from the heap held now, so data an earlier
    /// REPL input left behind does not stop the next one, which may be the one that
    /// frees it.
    pub fn begin(&self) {
        self.start.store(held(), Ordering::Relaxed);
    }

    /// Whether the heap grew past the budget since the evaluation began.
    pub fn exceeded(&self) -> bool {
        self.max > 0 && held().saturating_sub(self.start.load(Ordering::Relaxed)) > self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_follows_allocations() {
        // Other tests allocate and free meanwhile: a large block, counted with room.
        const BLOCK: usize = 256 << 20;
        let before = held();
        let block = std::hint::black_box(vec![1u8; BLOCK]);
        let during = held();
        assert!(
            during >= before + BLOCK - (32 << 20),
            "{before} -> {during}"
        );
        drop(block);
        assert!(held() + BLOCK - (32 << 20) <= during, "freed");
    }
}

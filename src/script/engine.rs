//! The Rhai engine vizscript runs scripts with: the standard library, the vizscript
//! modules (the `vp::` namespace among them), the host in the engine's tag, output routed to the host, and limits that stop
//! runaway scripts without hindering real ones over 100,000 tasks.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rhai::{Dynamic, Engine, exported_module};

use super::api::vizportal_api;
use super::exit_api::exit_api;
use super::file_api::file_api;
use super::host::Host;
use super::jobs_api::jobs_api;
use super::load_api::load_api;
use super::output::output_api;
use super::pages::pages_api;
use super::schedule_api::schedule_api;
use super::time::time_api;
use super::vp;

/// Sandbox limits; generous by default, configurable from the command line. Data that
/// runs away is stopped by how much the heap grows during an evaluation
/// ([`super::memory`]), not by
/// Rhai's limits on the size of strings, arrays and maps: Rhai checks those by measuring
/// the whole value after every change to it, so with one set, building an array of
/// 100,000 task ids in a loop took 14 s (each `push` measured every item before it).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Operations before the script is stopped (0 = no limit).
    pub max_operations: u64,
    /// Nested function calls.
    pub max_call_levels: usize,
    /// Bytes by which the heap vizscript holds may grow during one evaluation before it is
    /// stopped (0 = no limit). Checked between operations and while `to_json` and `table`
    /// build their text ([`super::memory::Budget`]), so one other operation can pass it
    /// (an array doubling itself); runs of several sites at once share the process.
    pub max_memory: usize,
}

/// The default of [`Limits::max_memory`], in MiB.
pub const MAX_MEMORY_MIB: usize = 2048;

/// The token a script stopped for its memory ends with (see [`Limits::max_memory`]).
pub const OUT_OF_MEMORY: &str = "memory limit";

/// The token a script stopped for its operations ends with (see [`Limits::max_operations`]).
pub const TOO_MANY_OPERATIONS: &str = "operations limit";

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_operations: 500_000_000,
            max_call_levels: 128,
            max_memory: MAX_MEMORY_MIB << 20,
        }
    }
}

/// Build an engine around `host`. Setting `cancel` stops the running script cleanly.
pub fn build(host: Arc<Host>, limits: &Limits, cancel: Arc<AtomicBool>) -> Engine {
    let mut engine = Engine::new();
    // Operations are counted below, not by Rhai's own limit (see `on_progress`).
    engine
        .set_max_call_levels(limits.max_call_levels)
        .set_max_expr_depths(256, 128)
        .set_max_modules(64);
    engine.disable_symbol("eval");
    super::record::register(&mut engine);
    super::closures::register(&mut engine);
    engine.register_global_module(exported_module!(vizportal_api).into());
    engine.register_global_module(exported_module!(output_api).into());
    engine.register_global_module(exported_module!(time_api).into());
    engine.register_global_module(exported_module!(pages_api).into());
    engine.register_static_module(vp::NAMESPACE, vp::module());
    engine.register_global_module(exported_module!(schedule_api).into());
    engine.register_global_module(exported_module!(jobs_api).into());
    engine.register_global_module(exported_module!(file_api).into());
    engine.register_global_module(exported_module!(load_api).into());
    engine.register_global_module(exported_module!(exit_api).into());
    host.watch_cancel(cancel.clone());
    let out = host.clone();
    engine.on_print(move |text| out.print(text));
    let debug = host.clone();
    engine.on_debug(move |text, source, pos| debug.debug(text, source, pos));
    let budget = Arc::new(super::memory::Budget::new(limits.max_memory));
    host.watch_memory(budget.clone());
    // Rhai runs a closure that a native function calls (`map`, `filter`, `sort`, ...) on a
    // copy of its operation counter and drops the copy's count, so its own limit never saw
    // the work of nested closures. This callback runs once per operation wherever it
    // happens: counting its calls counts every operation of the evaluation.
    let (max_operations, done) = (limits.max_operations, AtomicU64::new(0));
    engine.on_progress(move |operations| {
        if cancel.load(Ordering::Relaxed) {
            return Some(Dynamic::from("interrupted"));
        }
        // The first operation of an evaluation (a script, a REPL input).
        let starts = operations <= 1;
        if starts {
            done.store(0, Ordering::Relaxed);
        }
        // One evaluation runs on one thread at a time: a plain add, not a locked one,
        // which cost W1's filter about a tenth.
        let counted = done.load(Ordering::Relaxed);
        done.store(counted + 1, Ordering::Relaxed);
        if max_operations > 0 && counted >= max_operations {
            return Some(Dynamic::from(TOO_MANY_OPERATIONS));
        }
        if starts {
            budget.begin();
        }
        budget.exceeded().then(|| Dynamic::from(OUT_OF_MEMORY))
    });
    engine.set_default_tag(Dynamic::from(host));
    engine
}

//! The Rhai engine vizscript runs scripts with: the standard library, the vizscript
//! modules (the `vp::` namespace among them), the host in the engine's tag, output routed to the host, and limits that stop
//! runaway scripts without hindering real ones over 100,000 tasks.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rhai::{Dynamic, Engine, exported_module};

use super::api::vizportal_api;
use super::file_api::file_api;
use super::host::Host;
use super::jobs_api::jobs_api;
use super::load_api::load_api;
use super::output::output_api;
use super::pages::pages_api;
use super::schedule_api::schedule_api;
use super::time::time_api;
use super::vp;

/// Sandbox limits; generous by default, configurable from the command line.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Operations before the script is stopped (0 = no limit).
    pub max_operations: u64,
    /// Nested function calls.
    pub max_call_levels: usize,
    /// Characters in one string.
    pub max_string_size: usize,
    /// Items in one array.
    pub max_array_size: usize,
    /// Entries in one map.
    pub max_map_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_operations: 500_000_000,
            max_call_levels: 128,
            max_string_size: 64 * 1024 * 1024,
            max_array_size: 5_000_000,
            max_map_size: 5_000_000,
        }
    }
}

/// Build an engine around `host`. Setting `cancel` stops the running script cleanly.
pub fn build(host: Arc<Host>, limits: &Limits, cancel: Arc<AtomicBool>) -> Engine {
    let mut engine = Engine::new();
    engine
        .set_max_operations(limits.max_operations)
        .set_max_call_levels(limits.max_call_levels)
        .set_max_expr_depths(256, 128)
        .set_max_string_size(limits.max_string_size)
        .set_max_array_size(limits.max_array_size)
        .set_max_map_size(limits.max_map_size)
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
    host.watch_cancel(cancel.clone());
    let out = host.clone();
    engine.on_print(move |text| out.print(text));
    engine.on_debug(|text, source, pos| match pos.line() {
        Some(line) => eprintln!("debug [{}:{line}]: {text}", source.unwrap_or("script")),
        None => eprintln!("debug: {text}"),
    });
    engine.on_progress(move |_| {
        cancel
            .load(Ordering::Relaxed)
            .then(|| Dynamic::from("interrupted"))
    });
    engine.set_default_tag(Dynamic::from(host));
    engine
}

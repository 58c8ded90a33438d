//! The scripting host: a Rhai engine whose functions are Vizportal calls made through the
//! gated client. Knows nothing of HTTP; every call goes through [`crate::vizportal::Client`].

mod api;
mod chart;
mod closures;
mod convert;
mod diagnostic;
mod docs;
mod engine;
mod error;
pub mod exit_api;
mod file_api;
mod host;
mod jobs_api;
mod json_out;
mod load_api;
pub mod memory;
mod output;
mod pages;
mod planned_schedules;
mod predicate;
mod progress;
pub mod record;
mod record_ops;
mod runner;
mod schedule_api;
mod schedule_runs;
pub mod table;
mod time;
pub mod unclosed;
mod vp;

pub use convert::{to_dynamic, to_json};
pub use diagnostic::{ScriptFailure, located, runtime_failure, uncaught};
pub use docs::{FunctionDoc, functions, markdown};
pub use engine::{Limits, MAX_MEMORY_MIB, build as build_engine};
pub use host::{Host, Output};
pub use progress::Progress;
pub use runner::Script;

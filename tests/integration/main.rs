//! The one integration-test binary: each module is one topic.

mod all_sites;
mod bad_scripts;
mod client;
mod docs;
mod emulator_http;
mod emulator_protocol;
mod exit_codes;
mod explore;
mod faults;
mod hostile;
mod load;
mod load_chart;
mod repl;
mod repl_terminal;
mod run_and_wait;
mod scale;
mod schedule_functions;
mod scripts;
mod secrets;
mod sign_in;
mod snapshot;
mod support;
mod tls;
mod undo;

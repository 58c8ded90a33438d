//! The one integration-test binary: each module is one topic.

mod bad_scripts;
mod client;
mod docs;
mod emulator_http;
mod emulator_protocol;
mod explore;
mod faults;
mod hostile;
mod load;
mod repl;
mod repl_terminal;
mod scripts;
mod secrets;
mod support;
mod tls;

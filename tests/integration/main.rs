//! The one integration-test binary: each module is one topic.

mod bad_scripts;
mod client;
mod docs;
mod emulator_http;
mod hostile;
mod emulator_protocol;
mod repl;
mod repl_terminal;
mod scripts;
mod support;

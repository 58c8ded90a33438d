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
mod repl;
mod repl_terminal;
mod scripts;
mod secrets;
mod sign_in;
mod support;
mod tls;

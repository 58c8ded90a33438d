//! The one integration-test binary: each module is one topic.

mod client;
mod docs;
mod emulator_protocol;
mod repl;
mod repl_terminal;
mod scripts;
mod support;

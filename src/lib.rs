//! vizscript: script Tableau Server's Vizportal web API.
//!
//! Layers, top-down: [`cli`] parses flags and dispatches; [`script`] turns a logged-in
//! [`vizportal::Session`] into Rhai functions; [`vizportal`] speaks the protocol; the
//! [`emulator`] is a strict Vizportal server for tests and `--demo`. Client and emulator
//! share only [`wire`].

pub mod app;
pub mod cli;
pub mod emulator;
pub mod exit;
pub mod repl;
pub mod script;
pub mod vizportal;
pub mod wire;

//! vizscript: script Tableau Server's Vizportal web API.
//!
//! Layers, top-down: [`app`] runs a command line (parsed by the clap types in [`cli`]) and
//! dispatches to a command; [`exit`] decides every exit code; [`script`] turns a signed-in
//! [`vizportal::Client`] into Rhai functions and [`repl`] is a front end over it;
//! [`vizportal`] speaks the protocol; [`snapshot`] captures a server in the emulator's
//! data format and tells what changed between two; the [`emulator`] is a strict
//! Vizportal server for tests, `--demo` and rehearsals. Client and emulator share only
//! [`wire`].

pub mod app;
pub mod cli;
pub mod emulator;
pub mod exit;
pub mod repl;
pub mod script;
pub mod snapshot;
pub mod vizportal;
pub mod wire;

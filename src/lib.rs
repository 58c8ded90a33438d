//! vizscript: script Tableau Server's Vizportal web API.
//!
//! Layers, top-down: [`app`] runs a command line (parsed by the clap types in [`cli`]) and
//! dispatches to a command; [`exit`] decides every exit code; [`script`] turns a signed-in
//! [`vizportal::Client`] into Rhai functions and [`repl`] is a front end over it;
//! [`vizportal`] speaks the protocol; [`snapshot`] captures a server in the emulator's
//! data format and tells what changed between two; the [`emulator`] is a strict
//! Vizportal server for tests, `--demo` and rehearsals. Client and emulator share only
//! [`wire`].

/// `eprintln!` that never panics: a diagnostic written to a closed stderr (a pipe whose
/// reader left, as in `2>&1 | head -1`) is dropped instead of stopping the run halfway.
#[macro_export]
macro_rules! diag {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Whether `-q` asked for errors only on stderr: set once by [`app::main`], read by [`note!`].
pub static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A [`diag!`] line that `-q` silences: information, nothing the user must act on.
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => {{
        if !$crate::QUIET.load(std::sync::atomic::Ordering::Relaxed) {
            $crate::diag!($($arg)*);
        }
    }};
}

/// `eprint!` that never panics (see [`diag!`]).
#[macro_export]
macro_rules! diag_part {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
}

pub mod app;
pub mod cli;
pub mod emulator;
pub mod exit;
pub mod file_in;
pub mod file_out;
pub mod repl;
pub mod script;
pub mod snapshot;
pub mod stdout;
pub mod vizportal;
pub mod wire;

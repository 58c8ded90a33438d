//! `vizscript repl`: explore a server interactively with the same engine scripts use.
//! One scope for the whole session; a terminal gets an editor, piped input gets results
//! only (`echo 'schedules().len()' | vizscript repl --demo`).

mod commands;
mod editor;
mod input;
mod last;
mod methods;
mod param_keys;
mod piped;
mod render;
mod session;
mod transcript;

pub use render::Format;
pub use session::{Repl, Step};

/// Drive `repl` from a terminal editor when stdin is a terminal, else from piped stdin.
/// Returns the number of inputs that failed.
pub fn run(repl: &mut Repl) -> usize {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        editor::run(repl)
    } else {
        piped::run(repl, std::io::stdin().lock())
    }
}

/// Drive `repl` from any reader, as piped stdin is (for tests and `:load`-like use).
pub fn run_reader(repl: &mut Repl, reader: impl std::io::BufRead) -> usize {
    piped::run(repl, reader)
}

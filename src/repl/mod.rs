//! `vizscript repl`: explore a server interactively with the same engine scripts use.
//! One scope for the whole session; a terminal gets an editor, piped input gets results
//! only (`echo 'schedules().len()' | vizscript repl --demo`).

mod commands;
mod editor;
mod evaluator;
mod input;
mod last;
mod methods;
mod param_keys;
mod piped;
mod render;
mod transcript;

pub use evaluator::{Repl, Step};
pub use render::Format;

/// Drive `repl` from a terminal editor when stdin is a terminal, else from piped stdin.
/// [`Repl::outcome`] then tells how it went; this fails only when the terminal's line
/// editor cannot start.
pub fn run(repl: &mut Repl) -> Result<(), String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        editor::run(repl)
    } else {
        piped::run(repl, std::io::stdin().lock());
        Ok(())
    }
}

//! The REPL over piped input: no prompt, no editor, results only. Lines are gathered until
//! they form a complete input, exactly as at the terminal.

use std::io::BufRead;

use super::evaluator::{Repl, Step};
use super::input::{Completeness, completeness};

/// Read inputs from `reader` until it ends or `:quit`.
pub fn run(repl: &mut Repl, reader: impl BufRead) {
    let engine = repl.engine();
    let mut buffer = String::new();
    // The line of the input (from 1) where the buffer's first line was read.
    let mut buffer_line = 1;
    for (number, line) in reader.lines().enumerate() {
        let Ok(line) = line else { break };
        if buffer.is_empty() {
            buffer_line = number + 1;
        }
        if repl.stop_piped_input() {
            return;
        }
        if buffer.is_empty() && line.trim_start().starts_with(':') {
            if repl.handle(&line) == Step::Quit || repl.stop_piped_input() {
                return;
            }
            continue;
        }
        buffer.push_str(&line);
        buffer.push('\n');
        if completeness(&engine, &buffer) == Completeness::NeedsMore {
            continue;
        }
        let input = std::mem::take(&mut buffer);
        if repl.handle(&input) == Step::Quit || repl.stop_piped_input() {
            return;
        }
    }
    if buffer.trim().is_empty() {
        return;
    }
    if completeness(&engine, &buffer) == Completeness::NeedsMore {
        repl.unfinished_at_end(&buffer, buffer_line);
    } else {
        repl.handle(&buffer);
    }
}

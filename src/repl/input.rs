//! Is this input finished? Compiling the buffer tells: an unfinished block, call or
//! string at the end of the input means "continue on the next line"; any other error is
//! a real error to report.

use rhai::{Engine, LexError, ParseErrorType, Position};

use crate::script::unclosed::at_end;

/// What the buffer needs.
#[derive(Debug, PartialEq, Eq)]
pub enum Completeness {
    /// It compiles, or has an error that more input will not fix.
    Complete,
    /// An unfinished construct at its end: read another line.
    NeedsMore,
}

/// Decide whether `input` is complete.
pub fn completeness(engine: &Engine, input: &str) -> Completeness {
    let Err(error) = engine.compile(input) else {
        return Completeness::Complete;
    };
    let unfinished = match error.err_type() {
        // A "..." string missing its quote cannot go on to the next line unless the line
        // ends in `\`: that is an error now, not a wait. Template strings (backticks, where
        // Rhai may point past a `${...}`) and raw strings (`#"..."#`) can span lines.
        ParseErrorType::BadInput(LexError::UnterminatedString) => {
            char_at(input, error.position()) != Some('"') || input.trim_end().ends_with('\\')
        }
        ParseErrorType::UnexpectedEOF | ParseErrorType::MissingToken(..) => {
            at_end(input, error.position())
        }
        _ => false,
    };
    if unfinished {
        Completeness::NeedsMore
    } else {
        Completeness::Complete
    }
}

/// The character of `input` at `pos` (Rhai counts lines and columns from 1).
fn char_at(input: &str, pos: Position) -> Option<char> {
    let (line, column) = (pos.line()?, pos.position()?);
    input.lines().nth(line - 1)?.chars().nth(column - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfinished_constructs_need_more() {
        let engine = Engine::new();
        for input in [
            "fn f() {",
            "foo(1,",
            "let s = `abc",
            "if true {\n let a = 1;\n",
            "let s = `line one\nline two",
            "print(`moved ${n} tasks",
            "let s = #\"raw\nstring",
            "let s = \"abc\\",
        ] {
            assert_eq!(
                completeness(&engine, input),
                Completeness::NeedsMore,
                "{input}"
            );
        }
        // A plain string missing its closing quote cannot be finished later.
        for input in ["print(\"hello);", "let a = \"abc"] {
            assert_eq!(
                completeness(&engine, input),
                Completeness::Complete,
                "{input}"
            );
        }
    }

    #[test]
    fn finished_or_broken_input_is_complete() {
        let engine = Engine::new();
        assert_eq!(completeness(&engine, "1 + 2"), Completeness::Complete);
        assert_eq!(completeness(&engine, "let x = ;"), Completeness::Complete);
        assert_eq!(
            completeness(&engine, "foo(1 2) + 3"),
            Completeness::Complete
        );
    }
}

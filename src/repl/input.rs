//! Is this input finished? Compiling the buffer tells: an unfinished block, call or
//! string at the end of the input means "continue on the next line"; any other error is
//! a real error to report.

use rhai::{Engine, LexError, ParseErrorType, Position};

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

/// What is still open when `input` ends unfinished, for a message such as "the input
/// ended with `{` from line 2 still open": the innermost unclosed bracket or template
/// string, and its line (counted from 1).
pub fn still_open(input: &str) -> Option<(char, usize)> {
    let chars: Vec<char> = input.chars().collect();
    let mut open: Vec<(char, usize)> = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < chars.len() {
        let c = chars[i];
        let in_template = open.last().is_some_and(|(o, _)| *o == '`');
        match c {
            '\n' => line += 1,
            '`' if in_template => {
                open.pop();
            }
            '$' if in_template && chars.get(i + 1) == Some(&'{') => {
                open.push(('{', line));
                i += 1;
            }
            _ if in_template => {}
            '`' | '(' | '[' | '{' => open.push((c, line)),
            ')' | ']' | '}' => {
                open.pop();
            }
            '"' | '\'' => {
                // A string or character on one line (a line ending in `\` goes on).
                i += 1;
                while i < chars.len() && chars[i] != c {
                    if chars[i] == '\\' {
                        i += 1;
                    }
                    if chars.get(i) == Some(&'\n') {
                        line += 1;
                    }
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i + 1 < chars.len() && chars[i + 1] != '\n' {
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    open.pop()
}

/// The character of `input` at `pos` (Rhai counts lines and columns from 1).
fn char_at(input: &str, pos: Position) -> Option<char> {
    let (line, column) = (pos.line()?, pos.position()?);
    input.lines().nth(line - 1)?.chars().nth(column - 1)
}

/// True when `pos` is past the last non-blank character of `input`.
fn at_end(input: &str, pos: Position) -> bool {
    let (Some(line), column) = (pos.line(), pos.position()) else {
        return true;
    };
    let lines: Vec<&str> = input.trim_end().lines().collect();
    match line.cmp(&lines.len()) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => {
            column.is_none_or(|c| c > lines[line - 1].trim_end().chars().count())
        }
    }
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
    fn says_what_is_still_open() {
        assert_eq!(still_open("let a = 1;\nfn f() {\n  a + 1\n"), Some(('{', 2)));
        assert_eq!(still_open("foo(1,\n"), Some(('(', 1)));
        assert_eq!(still_open("print(\"(\");\nlet s = `a\n${[1"), Some(('[', 3)));
        assert_eq!(still_open("let s = `x ${y} // {\n"), Some(('`', 1)));
        assert_eq!(still_open("// (\n1"), None);
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

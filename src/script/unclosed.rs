//! What a script or REPL input left open when it ended: Rhai reports an unclosed `{` at
//! the end of the input as "Expecting ';' to terminate this statement", which does not
//! say what to close. This names the bracket and where it was opened.

use rhai::Position;

/// A bracket (`(`, `[`, `{`) or template string (`` ` ``) still open at the end of the input.
#[derive(Debug, PartialEq, Eq)]
pub struct Open {
    /// The opening character.
    pub bracket: char,
    /// Its line, from 1.
    pub line: usize,
    /// Its column, from 1.
    pub column: usize,
}

impl Open {
    /// What ended with this still open, for a syntax error: "the script ended with `{`
    /// from line 2 still open (close it with `}`)". `first_line` is the input's first line
    /// number in what the user reads.
    pub fn describe(&self, what: &str, first_line: usize) -> String {
        let line = first_line + self.line - 1;
        let close = match self.bracket {
            '(' => ')',
            '[' => ']',
            '`' => '`',
            _ => '}',
        };
        if self.bracket == '`' {
            format!(
                "{what} ended inside the template string begun on line {line} (close it with {close})"
            )
        } else {
            format!(
                "{what} ended with `{}` from line {line} still open (close it with `{close}`)",
                self.bracket
            )
        }
    }

    /// Its place, for pointing at it.
    pub fn position(&self) -> Position {
        Position::new(self.line as u16, self.column as u16)
    }
}

/// The innermost bracket or template string still open at the end of `input`, if any.
pub fn still_open(input: &str) -> Option<Open> {
    let chars: Vec<char> = input.chars().collect();
    let mut open: Vec<Open> = Vec::new();
    let (mut i, mut line, mut line_start) = (0, 1, 0);
    while i < chars.len() {
        let c = chars[i];
        let in_template = open.last().is_some_and(|o| o.bracket == '`');
        let here = |bracket| Open {
            bracket,
            line,
            column: i - line_start + 1,
        };
        let skip = match c {
            _ if in_template => 0,
            '"' | '\'' => quoted_len(&chars, i, c),
            '/' => comment_len(&chars, i),
            _ => 0,
        };
        if skip > 0 {
            // A string, character or comment: its brackets do not count, its lines do.
            for (at, ch) in chars[i..i + skip].iter().enumerate() {
                if *ch == '\n' {
                    line += 1;
                    line_start = i + at + 1;
                }
            }
            i += skip;
            continue;
        }
        match c {
            '\n' => {
                line += 1;
                line_start = i + 1;
            }
            '`' if in_template => {
                open.pop();
            }
            '$' if in_template && chars.get(i + 1) == Some(&'{') => {
                open.push(here('{'));
                i += 1;
            }
            _ if in_template => {}
            '`' | '(' | '[' | '{' => open.push(here(c)),
            ')' | ']' | '}' => {
                open.pop();
            }
            _ => {}
        }
        i += 1;
    }
    open.pop()
}

/// Length of a quoted literal (`"..."` or `'.'`) starting at `start`: to its closing
/// quote, or the end.
pub(crate) fn quoted_len(chars: &[char], start: usize, quote: char) -> usize {
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            c if c == quote => return i + 1 - start,
            _ => i += 1,
        }
    }
    chars.len() - start
}

/// Length of a comment starting at `start` (`//` to the end of its line, or a possibly
/// nested `/* */`); 0 when none starts there.
pub(crate) fn comment_len(chars: &[char], start: usize) -> usize {
    match chars.get(start + 1) {
        Some('/') if chars[start] == '/' => chars[start..]
            .iter()
            .position(|&c| c == '\n')
            .unwrap_or(chars.len() - start),
        Some('*') if chars[start] == '/' => {
            let (mut depth, mut i) = (0usize, start);
            while i + 1 < chars.len() {
                match (chars[i], chars[i + 1]) {
                    ('/', '*') => {
                        depth += 1;
                        i += 2;
                    }
                    ('*', '/') => {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            return i - start;
                        }
                    }
                    _ => i += 1,
                }
            }
            chars.len() - start
        }
        _ => 0,
    }
}

/// True when `pos` is past the last non-blank character of `input`.
pub fn at_end(input: &str, pos: Position) -> bool {
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

    fn open(bracket: char, line: usize, column: usize) -> Option<Open> {
        Some(Open {
            bracket,
            line,
            column,
        })
    }

    #[test]
    fn says_what_is_still_open() {
        assert_eq!(
            still_open("let a = 1;\nfn f() {\n  a + 1\n"),
            open('{', 2, 8)
        );
        assert_eq!(still_open("foo(1,\n"), open('(', 1, 4));
        assert_eq!(
            still_open("print(\"(\");\nlet s = `a\n${[1"),
            open('[', 3, 3)
        );
        assert_eq!(still_open("let s = `x ${y} // {\n"), open('`', 1, 9));
        assert_eq!(still_open("// (\n1"), None);
        assert_eq!(
            still_open("fn f() {\n let x = 1; /* see g( */\n"),
            open('{', 1, 8)
        );
        assert_eq!(still_open("/* don't */ foo(\n"), open('(', 1, 16));
    }
}

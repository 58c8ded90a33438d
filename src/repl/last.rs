//! `_` holds the last result. Rhai reserves `_` for a `switch` catch-all, so the REPL keeps
//! the value in the variable `_last` and reads a standalone `_` outside strings and
//! comments as `_last`, except where it starts a catch-all arm (`_ =>`). Code inside a
//! template string's `${...}` is code too.

use std::borrow::Cow;

use crate::script::unclosed::{comment_len, quoted_len};

/// The variable that holds the last result.
pub const LAST: &str = "_last";

/// `code` with every standalone `_` that is not a catch-all arm replaced by [`LAST`].
pub fn rewrite(code: &str) -> Cow<'_, str> {
    if !code.contains('_') {
        return Cow::Borrowed(code);
    }
    let chars: Vec<char> = code.chars().collect();
    let mut out = String::with_capacity(code.len() + 8);
    code_until(&chars, 0, false, &mut out);
    Cow::Owned(out)
}

/// Copy code from `start` to `out`, rewriting `_`, up to the end or (when `in_template`)
/// the `}` that closes a template's `${`; returns the index reached (that `}` or the end).
fn code_until(chars: &[char], start: usize, in_template: bool, out: &mut String) -> usize {
    let ident = |c: Option<&char>| c.is_some_and(|c| c.is_alphanumeric() || *c == '_');
    let (mut i, mut depth) = (start, 0usize);
    while i < chars.len() {
        let c = chars[i];
        match c {
            '`' => {
                i = template(chars, i, out);
                continue;
            }
            '{' => depth += 1,
            '}' if depth == 0 && in_template => return i,
            '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        let skip = match c {
            '"' | '\'' => quoted_len(chars, i, c),
            '/' => comment_len(chars, i),
            _ => 0,
        };
        if skip > 0 {
            out.extend(&chars[i..i + skip]);
            i += skip;
            continue;
        }
        let standalone = c == '_'
            && !ident(i.checked_sub(1).and_then(|p| chars.get(p)))
            && !ident(chars.get(i + 1));
        if standalone && !starts_arm(&chars[i + 1..]) {
            out.push_str(LAST);
        } else {
            out.push(c);
        }
        i += 1;
    }
    i
}

/// Copy a template string starting at `start` (a backtick), rewriting the code of its
/// `${...}` parts; returns the index after its closing backtick (or the end).
fn template(chars: &[char], start: usize, out: &mut String) -> usize {
    out.push('`');
    let mut i = start + 1;
    while i < chars.len() {
        match (chars[i], chars.get(i + 1)) {
            ('`', Some('`')) => {
                out.push_str("``");
                i += 2;
            }
            ('`', _) => {
                out.push('`');
                return i + 1;
            }
            ('$', Some('{')) => {
                out.push_str("${");
                i = code_until(chars, i + 2, true, out);
                if i < chars.len() {
                    out.push('}');
                    i += 1;
                }
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    i
}

fn starts_arm(rest: &[char]) -> bool {
    let next: String = rest
        .iter()
        .skip_while(|c| c.is_whitespace())
        .take(2)
        .collect();
    next == "=>"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_standalone_underscores_only() {
        assert_eq!(rewrite("_ + 1"), "_last + 1");
        assert_eq!(rewrite("double(_)"), "double(_last)");
        assert_eq!(
            rewrite("_.len() + my_var + _x"),
            "_last.len() + my_var + _x"
        );
        assert_eq!(rewrite("\"_\" + `_` // _\n_"), "\"_\" + `_` // _\n_last");
        assert_eq!(
            rewrite("switch x { 1 => 2, _ => _ }"),
            "switch x { 1 => 2, _ => _last }"
        );
        assert_eq!(rewrite("/* _ /* _ */ _ */ _"), "/* _ /* _ */ _ */ _last");
    }

    #[test]
    fn rewrites_the_code_inside_a_template_string() {
        assert_eq!(rewrite("`${_} and _`"), "`${_last} and _`");
        assert_eq!(
            rewrite("`${ #{a: _}.a } `` _ ${`${_}`}` + _"),
            "`${ #{a: _last}.a } `` _ ${`${_last}`}` + _last"
        );
        assert_eq!(rewrite("`open ${_"), "`open ${_last");
    }
}

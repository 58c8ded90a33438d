//! The REPL at a terminal: a rustyline editor with history in the user's data directory,
//! multi-line input decided by compiling the buffer, tab completion (functions,
//! variables, commands, `vp::` method names, a map variable's keys after `.`, the known
//! param keys inside `vp::NAME(#{`) and a signature hint while a call's parentheses are
//! open.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rhai::Engine;
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Config, Context, Editor, Helper};

use super::commands::COMMANDS;
use super::evaluator::{Completions, Repl, Step};
use super::input::{Completeness, completeness};
use super::param_keys;
use crate::script::functions;

/// Script keywords offered beside functions and variables.
const KEYWORDS: &[&str] = &[
    "let", "const", "fn", "if", "else", "for", "in", "while", "loop", "break", "continue",
    "return", "throw", "try", "catch", "print", "true", "false",
];

struct ReplHelper {
    engine: Arc<Engine>,
    completions: Arc<Mutex<Completions>>,
    signatures: BTreeMap<String, Vec<String>>,
}

impl Helper for ReplHelper {}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        let input = ctx.input();
        if input.trim_start().starts_with(':') {
            return Ok(ValidationResult::Valid(None));
        }
        Ok(match completeness(&self.engine, input) {
            Completeness::NeedsMore => ValidationResult::Incomplete,
            Completeness::Complete => ValidationResult::Valid(None),
        })
    }
}

fn pair(s: &str) -> Pair {
    Pair {
        display: s.to_string(),
        replacement: s.to_string(),
    }
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        if let Some((start, keys)) = param_keys::candidates(before) {
            let found = keys.into_iter().map(pair).collect();
            return Ok((start, found));
        }
        let start = before
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':' || c == '-'))
            .map_or(0, |i| i + 1);
        let word = &before[start..];
        if word.starts_with(':') && start == 0 {
            let found = COMMANDS
                .iter()
                .map(|(c, _)| *c)
                .filter(|c| c.starts_with(word))
                .map(pair)
                .collect();
            return Ok((start, found));
        }
        let data = self
            .completions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if start > 0 && before[..start].ends_with('.') {
            let owner_end = start - 1;
            let owner_start = before[..owner_end]
                .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
                .map_or(0, |i| i + 1);
            let owner = &before[owner_start..owner_end];
            let keys = data.keys.get(owner).cloned().unwrap_or_default();
            let found = keys
                .iter()
                .filter(|k| k.starts_with(word))
                .map(|k| pair(k))
                .collect();
            return Ok((start, found));
        }
        let mut found: Vec<Pair> = self
            .signatures
            .keys()
            .map(String::as_str)
            .chain(data.variables.iter().map(String::as_str))
            .chain(KEYWORDS.iter().copied())
            .filter(|c| c.starts_with(word))
            .map(pair)
            .collect();
        found.sort_by(|a, b| a.display.cmp(&b.display));
        found.dedup_by(|a, b| a.display == b.display);
        Ok((start, found))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;

    fn hint(&self, line: &str, pos: usize, _: &Context<'_>) -> Option<String> {
        if pos < line.len() {
            return None;
        }
        let name = open_call(&line[..pos])?;
        let signatures = self.signatures.get(name)?;
        Some(format!("    {}", signatures.join("  |  ")))
    }
}

impl Highlighter for ReplHelper {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        Cow::Owned(format!("\x1b[2m{hint}\x1b[0m"))
    }
}

/// The function whose call's parenthesis is still open at the end of `text` (with its
/// namespace: `vp::getViews`).
fn open_call(text: &str) -> Option<&str> {
    let mut depth = 0i32;
    for (i, c) in text.char_indices().rev() {
        match c {
            ')' => depth += 1,
            '(' if depth > 0 => depth -= 1,
            '(' => {
                let head = &text[..i];
                let start = head
                    .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .map_or(0, |j| j + 1);
                let name = &head[start..];
                return (!name.is_empty()).then_some(name);
            }
            _ => {}
        }
    }
    None
}

fn history_path() -> Option<PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "vizscript")?;
    let dir = dirs.data_dir();
    std::fs::create_dir_all(dir).ok()?;
    Some(dir.join("repl-history.txt"))
}

/// Run the REPL at the terminal; fails only when the line editor cannot start.
pub fn run(repl: &mut Repl) -> Result<(), String> {
    let mut signatures: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in functions() {
        signatures.entry(f.name).or_default().push(f.signature);
    }
    let helper = ReplHelper {
        engine: repl.engine(),
        completions: repl.completions(),
        signatures,
    };
    let config = Config::builder()
        .auto_add_history(false)
        .bracketed_paste(true)
        .build();
    let mut editor: Editor<ReplHelper, DefaultHistory> = match Editor::with_config(config) {
        Ok(editor) => editor,
        Err(e) => return Err(format!("error: cannot start the line editor: {e}")),
    };
    editor.set_helper(Some(helper));
    let history = history_path();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    crate::diag!("vizscript REPL: :help for commands, Ctrl-D to leave");
    loop {
        match editor.readline("vizscript> ") {
            Ok(input) => {
                // An input giving a value to a secret stays out of the history file too,
                // as it does out of :history and :save.
                if !input.trim_start().starts_with(':')
                    && !input.trim().is_empty()
                    && !repl.holds_a_secret(&input)
                {
                    let _ = editor.add_history_entry(input.as_str());
                }
                if repl.handle(&input) == Step::Quit {
                    break;
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                crate::diag!("error: {e}");
                break;
            }
        }
    }
    if let Some(path) = &history {
        let _ = editor.save_history(path);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::open_call;

    #[test]
    fn finds_the_innermost_open_call() {
        assert_eq!(
            open_call("set_extract_tasks_schedule("),
            Some("set_extract_tasks_schedule")
        );
        assert_eq!(open_call("table(schedules(), "), Some("table"));
        assert_eq!(open_call("schedules()"), None);
        assert_eq!(open_call("vp::getViews(#{ "), Some("vp::getViews"));
    }
}

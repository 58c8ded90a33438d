//! What this REPL session did, kept so it can become a script: the inputs that ran without
//! error, in order (`:history` shows them, `:save FILE` writes them as a script for
//! `vizscript run`). An input whose value was printed becomes a statement; one that gives
//! a value to a password, secret or token (a map key, a property, a variable) is never
//! kept.

use rhai::Engine;

use super::last::LAST;

/// One input that ran without error.
#[derive(Debug, Clone)]
struct Entry {
    /// What the user typed (or the command, e.g. `:site finance`).
    typed: String,
    /// The code that ran (`_` already read as `_last`; a command as its script call).
    code: String,
    /// Whether the REPL printed its value (a bare expression).
    printed: bool,
    /// Whether it planned changes under `:dry-run on` (held back, not sent).
    dry_run: bool,
}

/// Where the session was, for the saved script's header.
#[derive(Debug, Clone)]
pub struct Origin {
    /// Server URL (without any user or password part).
    server: String,
    /// Site URL name (`""` = Default).
    site: String,
    /// The signed-in user.
    user: String,
}

impl Origin {
    /// Where a session is; any `user:password@` part of the server URL is dropped.
    pub fn new(server: &str, site: String, user: String) -> Origin {
        Origin {
            server: crate::vizportal::without_credentials(server),
            site,
            user,
        }
    }
}

/// The inputs of a session that ran without error.
#[derive(Debug, Default)]
pub struct Transcript {
    entries: Vec<Entry>,
}

impl Transcript {
    /// Keep an input that ran without error (`dry_run`: it planned changes under
    /// `:dry-run on`, which were held back).
    /// Returns false (and keeps nothing) when the input names a secret.
    pub fn record(&mut self, typed: &str, code: &str, printed: bool, dry_run: bool) -> bool {
        if names_a_secret(code) {
            return false;
        }
        self.entries.push(Entry {
            typed: typed.trim_end().to_string(),
            code: code.trim_end().to_string(),
            printed,
            dry_run,
        });
        true
    }

    /// How many inputs are kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The last `n` inputs (all without `n`), numbered from the session's first.
    pub fn history(&self, n: Option<usize>) -> String {
        let skip = n.map_or(0, |n| self.entries.len().saturating_sub(n));
        let lines: Vec<String> = self
            .entries
            .iter()
            .enumerate()
            .skip(skip)
            .map(|(i, entry)| {
                let text = entry.typed.replace('\n', "\n     ");
                format!("{:>3}  {text}", i + 1)
            })
            .collect();
        if lines.is_empty() {
            "(no inputs yet)".to_string()
        } else {
            lines.join("\n")
        }
    }

    /// The inputs as a script with a header comment, checked to compile with `engine`,
    /// and the functions the session defined more than once (the script keeps each one's
    /// last definition, as a script can hold only one).
    pub fn script(
        &self,
        engine: &Engine,
        origin: Option<&Origin>,
        when: &str,
    ) -> Result<(String, Vec<String>), String> {
        let mut text = format!("// Saved by vizscript repl on {when}.\n");
        let site = match origin {
            Some(o) => {
                text.push_str(&format!(
                    "// Server {}, site {:?}, user {}.\n",
                    o.server, o.site, o.user
                ));
                format!(" --site {:?}", o.site)
            }
            None => {
                text.push_str("// Not connected to a server.\n");
                String::new()
            }
        };
        text.push_str(&format!(
            "// The inputs that ran without error, in order. Try it first with:\n\
             //   vizscript run FILE{site} --dry-run\n\n"
        ));
        if let Some(o) = origin {
            // Ids are a site's own: the inputs name those of the site the session started
            // on, so the script stops on any other (`--site`, `--all-sites`) before it
            // changes anything there.
            let site = serde_json::Value::from(o.site.as_str());
            text.push_str(&format!(
                "// The inputs name ids of site {site}, where the session started.\n\
                 if session_info().site.urlName != {site} {{\n    \
                 throw `this script was saved on site {}: run it with --site {site}`;\n}}\n",
                site.to_string().replace('`', "")
            ));
        }
        let uses_last = self.entries.iter().any(|e| mentions(&e.code, LAST));
        if uses_last {
            text.push_str(&format!("let {LAST} = ();\n"));
        }
        let (replaced, names) = replaced_definitions(engine, &self.entries);
        for (i, entry) in self.entries.iter().enumerate() {
            if replaced.contains(&i) {
                text.push_str("// (a definition the session replaced by a later input)\n");
                continue;
            }
            if entry.dry_run {
                text.push_str("// Ran under :dry-run on in the REPL: planned, not sent.\n");
            }
            text.push_str(&statement(engine, entry, uses_last));
            text.push('\n');
        }
        engine.compile(&text).map_err(|e| {
            let hint = match e.to_string().contains("already exists") {
                true => " (the session defined it again after inputs that called it, or in an input that also did other things; a script can hold one definition: give the new one another name)",
                false => "",
            };
            format!("the saved inputs do not form a script: {e}{hint}")
        })?;
        Ok((text, names))
    }
}

/// An entry as a script statement: it ends with `;` where that still parses (a block
/// may not need one), and an input whose value was printed sets `_last` to it when later
/// inputs read it.
fn statement(engine: &Engine, entry: &Entry, uses_last: bool) -> String {
    let code = entry.code.trim_end();
    if entry.printed && uses_last {
        return keeping_value(engine, code).unwrap_or_else(|| {
            format!(
                "{}\n{LAST} = (); // the value of the input above is not kept for `_`",
                ended(engine, code)
            )
        });
    }
    ended(engine, code)
}

/// `code` ended with `;` where that still parses (a block may not need one; a last line
/// with a comment gets it on a line of its own).
fn ended(engine: &Engine, code: &str) -> String {
    if code.ends_with(';') {
        return code.to_string();
    }
    let with_end = format!("{code}{}", terminator(code));
    if engine.compile(&with_end).is_ok() {
        with_end
    } else {
        code.to_string()
    }
}

fn terminator(code: &str) -> &'static str {
    match code.lines().last().is_some_and(|l| l.contains("//")) {
        true => "\n;",
        false => ";",
    }
}

/// `code`, whose value the REPL printed, as statements that also keep that value in
/// `_last`: its last statement, an expression, becomes `_last = EXPRESSION;`. The last
/// statement starts after the last `;` or `}` that closes a statement at the top level
/// such that the rest is an expression and what comes before is a script; None when
/// there is no such place.
fn keeping_value(engine: &Engine, code: &str) -> Option<String> {
    // A last statement ended with `;` still gives its value.
    let expression = |text: &str| {
        let text = text.trim();
        let text = text.strip_suffix(';').unwrap_or(text).trim_end();
        (!text.is_empty() && engine.compile_expression(text).is_ok()).then(|| text.to_string())
    };
    if let Some(whole) = expression(code) {
        return Some(format!("{LAST} = {whole}{}", terminator(&whole)));
    }
    statement_ends(code).into_iter().rev().find_map(|at| {
        let (head, tail) = code.split_at(at);
        let tail = expression(tail)?;
        let joined = format!("{head}\n{LAST} = {tail}{}", terminator(&tail));
        // A `}` that closed a value, not a statement, leaves a head and tail that do not
        // join into the same statements.
        engine.compile(&joined).is_ok().then_some(joined)
    })
}

/// Byte offsets just after each `;` and `}` at the top level of `code` (outside brackets,
/// strings and comments): where a statement may end.
fn statement_ends(code: &str) -> Vec<usize> {
    let chars: Vec<(usize, char)> = code.char_indices().collect();
    let plain: Vec<char> = chars.iter().map(|(_, c)| *c).collect();
    let (mut ends, mut depth, mut i) = (Vec::new(), 0usize, 0);
    while i < plain.len() {
        let c = plain[i];
        let skip = match c {
            '"' | '\'' | '`' => crate::script::unclosed::quoted_len(&plain, i, c),
            '/' => crate::script::unclosed::comment_len(&plain, i),
            _ => 0,
        };
        if skip > 0 {
            i += skip;
            continue;
        }
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth == 0 && (c == ';' || c == '}') {
            ends.push(chars[i].0 + c.len_utf8());
        }
        i += 1;
    }
    ends
}

/// The entries that only define functions every one of which a later entry defines
/// again, with no input in between calling it (a script may define a function once, and
/// the inputs before the later definition would call that one), and the names of those
/// functions.
fn replaced_definitions(engine: &Engine, entries: &[Entry]) -> (Vec<usize>, Vec<String>) {
    let defined: Vec<(bool, Vec<(String, usize)>)> = entries
        .iter()
        .map(|entry| match engine.compile(&entry.code) {
            Ok(ast) => (
                ast.statements().is_empty(),
                ast.iter_functions()
                    .map(|f| (f.name.to_string(), f.params.len()))
                    .collect(),
            ),
            Err(_) => (false, Vec::new()),
        })
        .collect();
    // Any function of the session may call the one defined again: an input calling any of
    // them between the two definitions may have called the first.
    let session_functions: Vec<&str> = defined
        .iter()
        .flat_map(|(_, functions)| functions.iter().map(|(name, _)| name.as_str()))
        .collect();
    let (mut replaced, mut names) = (Vec::new(), Vec::new());
    for (i, (only_functions, functions)) in defined.iter().enumerate() {
        // Defined again by entry `j`, with no entry before it calling a session function.
        let again = |f: &(String, usize)| {
            let next = (i + 1..defined.len()).find(|j| defined[*j].1.contains(f));
            let calls = |e: &Entry| session_functions.iter().any(|name| mentions(&e.code, name));
            next.is_some_and(|j| !entries[i + 1..j].iter().any(calls))
        };
        if *only_functions && !functions.is_empty() && functions.iter().all(again) {
            replaced.push(i);
            names.extend(functions.iter().map(|(name, _)| format!("{name}()")));
        }
    }
    names.sort();
    names.dedup();
    (replaced, names)
}

/// True when `code` uses the identifier `name` (not as part of a longer one).
fn mentions(code: &str, name: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    code.match_indices(name).any(|(i, _)| {
        let before = code[..i].chars().next_back();
        let after = code[i + name.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

/// True when `code` gives a value to a key or variable named like a password, secret or
/// token (`encryptedPassword: "..."`, `"secret": ...`, `m.secret = ...`, `m["token"] =
/// ...`, `let password = ...`): such inputs stay out of the history and saved scripts.
/// Calling a method with such a word in its name, or comparing, is fine.
pub fn names_a_secret(code: &str) -> bool {
    let lower = code.to_ascii_lowercase();
    // `-` joins a name too: `"x-api-key"`.
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    lower
        .match_indices(|c: char| !is_word(c))
        .chain([(lower.len(), "")])
        .scan(0, |start, (end, separator)| {
            let name = &lower[*start..end];
            let rest = &lower[end..];
            *start = end + separator.len();
            Some((name, rest))
        })
        .any(|(name, rest)| {
            // Any name holding the word (`secretKey`, `passwordHash`, `password2`): leaving
            // out an input that held none costs only a line of history.
            let secret = crate::wire::is_secret_name(name);
            let quoted = rest.strip_prefix('"');
            // `m.set("password", value)`: a quoted name passed along with a value.
            let passed = quoted.is_some_and(|r| r.trim_start().starts_with(','));
            let rest = quoted.unwrap_or(rest);
            let rest = rest.strip_prefix(']').unwrap_or(rest).trim_start();
            let gives_a_value = (rest.starts_with(':') && !rest.starts_with("::"))
                || (rest.starts_with('=') && !rest.starts_with("==") && !rest.starts_with("=>"))
                || passed;
            secret && gives_a_value
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(inputs: &[(&str, bool)]) -> String {
        let mut t = Transcript::default();
        for (code, printed) in inputs {
            assert!(t.record(code, code, *printed, false));
        }
        t.script(&Engine::new(), None, "today").unwrap().0
    }

    #[test]
    fn printed_expressions_become_statements() {
        let text = saved(&[
            ("let n = 2", false),
            ("n + 1", true),
            ("n * 3 // why", true),
        ]);
        assert!(
            text.ends_with("let n = 2;\nn + 1;\nn * 3 // why\n;\n"),
            "{text}"
        );
    }

    #[test]
    fn last_is_kept_when_a_later_input_reads_it() {
        let text = saved(&[("40 + 1", true), ("_last + 1", true)]);
        assert!(
            text.contains("let _last = ();\n_last = 40 + 1;\n_last = _last + 1;\n"),
            "{text}"
        );
        let engine = Engine::new();
        let value: i64 = engine.eval(&format!("{text}\n_last")).unwrap();
        assert_eq!(value, 42);
        assert!(!saved(&[("my_last_one", true)]).contains("let _last"));
    }

    #[test]
    fn the_value_of_an_input_of_several_statements_is_kept_too() {
        let engine = Engine::new();
        let cases: [(&[(&str, bool)], i64); 6] = [
            (
                &[("let s = [1, 2, 3, 4]; s[3]", true), ("_last + 100", true)],
                104,
            ),
            (
                &[
                    ("let n = 5; if n > 1 { n * 2 } else { 0 }", true),
                    ("_last", true),
                ],
                10,
            ),
            (&[("fn g(x) { x * 3 }\ng(2)", true), ("_last + 1", true)], 7),
            (&[("let m = #{a: 1}; m.a // one", true), ("_last", true)], 1),
            (&[("let s = [5, 6]; s[1];", true), ("_last", true)], 6),
            (
                &[
                    ("let m = #{b: 2}; #{a: 1} + m", true),
                    ("_last.len()", true),
                ],
                2,
            ),
        ];
        for (inputs, want) in cases {
            let text = saved(inputs);
            let value: i64 = engine
                .eval(&format!("{text}\n_last"))
                .unwrap_or_else(|e| panic!("{e}: {text}"));
            assert_eq!(value, want, "{text}");
        }
        // A value that cannot be told apart is not kept: `_` reads as unit, not stale.
        assert_eq!(keeping_value(&engine, "let x = 1;"), None);
        assert_eq!(statement_ends("a(); \"};\" /* ; */ { b }"), [4, 23]);
    }

    #[test]
    fn a_function_defined_again_keeps_its_last_definition() {
        let saved = |inputs: &[&str]| {
            let mut t = Transcript::default();
            for code in inputs {
                t.record(code, code, false, false);
            }
            t.script(&Engine::new(), None, "today")
        };
        let (text, replaced) =
            saved(&["fn f(x) { x + 1 }", "fn f(x) { x + 2 }", "let y = f(1);"]).unwrap();
        assert_eq!(replaced, ["f()"]);
        let y: i64 = Engine::new().eval(&format!("{text}\ny")).unwrap();
        assert_eq!(y, 3, "{text}");
        // Inputs between the two called the first, and would call the last: it stays,
        // and the script is refused. So is a definition in an input that did more.
        for inputs in [
            &["fn f(x) { x + 1 }", "let a = f(1);", "fn f(x) { x + 2 }"][..],
            &[
                "fn g(x) { f(x) * 10 }",
                "fn f(x) { x + 1 }",
                "let a = g(1);",
                "fn f(x) { x + 2 }",
            ][..],
            &["fn h(x) { x } let z = 1;", "fn h(x) { x + 1 }"][..],
        ] {
            let error = saved(inputs).unwrap_err();
            assert!(error.contains("give the new one another name"), "{error}");
        }
    }

    #[test]
    fn secrets_stay_out() {
        assert!(names_a_secret(
            "vp::login(#{ username: \"a\", encryptedPassword: \"ff\" })"
        ));
        assert!(names_a_secret("let m = #{ \"secret\": s };"));
        assert!(!names_a_secret(
            "vp::createPersonalAccessToken(#{ clientId: \"x\" })"
        ));
        assert!(!names_a_secret("print(token_count);"));
        for named in ["secretKey", "passwordHash", "tokenValue", "password2"] {
            assert!(names_a_secret(&format!("#{{ {named}: \"x\" }}")), "{named}");
            assert!(names_a_secret(&format!("let {named} = \"x\";")), "{named}");
        }
        assert!(names_a_secret("let k = #{}; k.secret = \"s\";"));
        assert!(names_a_secret("m.set(\"password\", \"x\")"));
        assert!(names_a_secret("h[\"x-api-key\"] = k"));
        assert!(names_a_secret("#{ \"Authorization\": b }"));
        assert!(names_a_secret("let pw = \"x\";"));
        assert!(names_a_secret("let db_credentials = #{};"));
        assert!(!names_a_secret("let pwr = 2;"));
        assert!(!names_a_secret("print(\"password\")"));
        assert!(names_a_secret("k[\"apiToken\"] = s"));
        assert!(names_a_secret("let password = \"p\";"));
        assert!(!names_a_secret("if password == given { 1 }"));
        assert!(!names_a_secret("vp::getSecretThing(#{ id: 1 })"));
        assert!(names_a_secret("let café = 1; let token = \"é\";"));
        let mut t = Transcript::default();
        assert!(!t.record("x", "#{ password: \"p\" }", true, false));
        assert_eq!(t.len(), 0);
        assert_eq!(t.history(None), "(no inputs yet)");
    }

    #[test]
    fn an_input_that_ran_under_dry_run_says_so_in_the_saved_script() {
        let mut t = Transcript::default();
        assert!(t.record("let n = 1;", "let n = 1;", false, false));
        assert!(t.record(
            "disable_schedules(\"10\");",
            "disable_schedules(\"10\");",
            false,
            true
        ));
        let (text, _) = t.script(&Engine::new(), None, "today").unwrap();
        assert!(
            text.contains("let n = 1;\n// Ran under :dry-run on in the REPL: planned, not sent.\ndisable_schedules"),
            "{text}"
        );
    }

    #[test]
    fn the_header_names_the_server_without_credentials() {
        let origin = Origin::new("https://ops:pw@tab.example.com/x", "".into(), "ada".into());
        assert_eq!(origin.server, "https://tab.example.com/x");
        let t = Transcript::default();
        let (text, _) = t.script(&Engine::new(), Some(&origin), "today").unwrap();
        assert!(text.contains("// Server https://tab.example.com/x, site \"\", user ada."));
        assert!(
            text.contains("if session_info().site.urlName != \"\" {"),
            "{text}"
        );
        assert!(
            text.contains("vizscript run FILE --site \"\" --dry-run"),
            "{text}"
        );
    }

    #[test]
    fn history_numbers_inputs_from_the_first() {
        let mut t = Transcript::default();
        for code in ["a", "b", "c"] {
            t.record(code, code, false, false);
        }
        assert_eq!(t.history(Some(2)), "  2  b\n  3  c");
    }
}

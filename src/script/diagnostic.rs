//! Script failures as a user reads them: `file:line:col`, the source line and a caret,
//! then what went wrong; and the exit code each failure maps to. A client error thrown
//! into the script carries its class in the value's tag (`crate::exit::tag`), so an
//! uncaught one ends with the same code and hint as it would outside a script.

use rhai::{Dynamic, EvalAltResult, Map, ParseError, Position};

use crate::exit::{self, ExitCode};
use crate::script::exit_api::ScriptExit;
use crate::script::unclosed;

/// A script that did not finish.
#[derive(Debug)]
pub struct ScriptFailure {
    /// The text to print on stderr.
    pub report: String,
    /// The documented exit code.
    pub exit_code: ExitCode,
}

/// A parse error (exit 2).
pub fn parse_failure(name: &str, source: &str, error: &ParseError) -> ScriptFailure {
    let mut message = error.err_type().to_string();
    let mut position = error.position();
    // An error at the very end with a bracket still open: name the bracket and point at it.
    if unclosed::at_end(source, position)
        && let Some(open) = unclosed::still_open(source)
    {
        message = open.describe("the script", 1);
        position = open.position();
    }
    ScriptFailure {
        report: located(name, source, position, &format!("syntax error: {message}")),
        exit_code: ExitCode::Usage,
    }
}

/// An uncaught runtime error: exit 1, or the exit code of the client error that was
/// thrown (4 when the server could not be reached, ...), or 130 when interrupted.
pub fn runtime_failure(name: &str, source: &str, error: &EvalAltResult) -> ScriptFailure {
    if let Some(code) = ScriptExit::of(error) {
        let at = innermost_position(error)
            .line()
            .map(|line| format!(" at {name}:{line}"))
            .unwrap_or_default();
        return ScriptFailure {
            report: format!("the script called exit({code}){at}\n"),
            exit_code: ExitCode::Script(code),
        };
    }
    let position = innermost_position(error);
    let (message, exit_code) = uncaught(source, error);
    let mut report = located(name, source, position, &format!("error: {message}"));
    if let Some(trace) = call_trace(error) {
        report.push_str(&trace);
    }
    ScriptFailure { report, exit_code }
}

/// What an uncaught error says, and its exit code, without where it happened (`source`
/// is the script, for suggestions).
pub fn uncaught(source: &str, error: &EvalAltResult) -> (String, ExitCode) {
    let inner = error.unwrap_inner();
    match inner {
        EvalAltResult::ErrorRuntime(value, _) => describe_thrown(value),
        EvalAltResult::ErrorTerminated(token, _)
            if token.clone().into_string().is_ok_and(|t| t == super::engine::OUT_OF_MEMORY) =>
        {
            (
                "the script's data grew too large: its memory grew past the limit (raise it with --max-memory)".to_string(),
                ExitCode::Failed,
            )
        }
        EvalAltResult::ErrorTerminated(token, _)
            if token.clone().into_string().is_ok_and(|t| t == super::engine::TOO_MANY_OPERATIONS) =>
        {
            operations_limit()
        }
        // Ctrl-C; a function it stopped may say what it had done ("interrupted while ...").
        EvalAltResult::ErrorTerminated(token, _) => (
            token
                .clone()
                .into_string()
                .ok()
                .filter(|t| t.starts_with("interrupted"))
                .unwrap_or_else(|| "interrupted".to_string()),
            ExitCode::Interrupted,
        ),
        EvalAltResult::ErrorStackOverflow(_) => (
            "function calls nested too deeply (runaway recursion?)".to_string(),
            ExitCode::Failed,
        ),
        EvalAltResult::ErrorTooManyOperations(_) => operations_limit(),
        EvalAltResult::ErrorFunctionNotFound(signature, _) => (
            format!(
                "{}{}",
                readable_types(&without_position(&inner.to_string())),
                suggestion(signature, source)
            ),
            ExitCode::Failed,
        ),
        other => (without_position(&other.to_string()), ExitCode::Failed),
    }
}

/// A script stopped for its operations (`--max-operations`).
fn operations_limit() -> (String, ExitCode) {
    (
        "the script exceeded the operations limit (raise it with --max-operations)".to_string(),
        ExitCode::Failed,
    )
}

/// What to try instead of a call that matched no function (`signature` is Rhai's
/// `name (argument types)`): how a vizscript function or one of the script's own (`fn`
/// in `source`) of that name is called, or the nearest name, for a function or a `vp::`
/// method.
fn suggestion(signature: &str, source: &str) -> String {
    let called = signature.split(" (").next().unwrap_or(signature).trim();
    // A `map` that matched no `map` parameter is a task: Rhai names both `map`.
    let task_hint = match signature
        .split(" (")
        .nth(1)
        .is_some_and(|args| args.contains("map"))
    {
        true => {
            "\n  if that map is a task (from extract_tasks()), it is not taken for a map here: t.to_map() makes it one"
        }
        false => "",
    };
    if let Some(method) = called.strip_prefix(&format!("{}::", super::vp::NAMESPACE)) {
        if crate::wire::known_method(method).is_some() {
            return format!(
                "\n  vp::{method} takes one map of params: vp::{method}(#{{ ... }}) (vizscript functions, or :help vp::{method} in the REPL, shows them){task_hint}"
            );
        }
        let names = crate::wire::KNOWN_METHODS.iter().map(|m| m.name);
        return crate::wire::nearest(method, names)
            .map(|m| format!("\n  did you mean vp::{m}? (vizscript functions, or :methods in the REPL, lists them)"))
            .unwrap_or_default();
    }
    let functions = super::docs::functions();
    let overloads: Vec<&str> = functions
        .iter()
        .filter(|f| f.name == called)
        .map(|f| f.signature.as_str())
        .collect();
    if !overloads.is_empty() {
        // A string given where none of its overloads takes one is often a number read
        // from `ARGS` or a file: say how to turn it into one.
        let takes_maps = overloads.iter().any(|o| o.contains(": map"));
        let hint = match signature.contains("&str | ImmutableString | String") {
            _ if takes_maps && !task_hint.is_empty() => task_hint,
            true => {
                "\n  if a string holds a number (ARGS are strings), parse_int(s) or parse_float(s) makes it one"
            }
            false => "",
        };
        return format!("\n  {called} is called as {}{hint}", overloads.join(" or "));
    }
    let own = script_functions(source);
    let defined: Vec<&str> = own
        .iter()
        .filter(|(name, _)| *name == called)
        .map(|(_, header)| *header)
        .collect();
    if !defined.is_empty() {
        return format!("\n  the script defines it as {}", defined.join(" and "));
    }
    let names = own.iter().map(|(name, _)| *name);
    let near = crate::wire::nearest(
        called,
        names.chain(functions.iter().map(|f| f.name.as_str())),
    );
    match near {
        Some(f) if own.iter().any(|(name, _)| *name == f) => {
            format!("\n  did you mean {f}? (the script defines it)")
        }
        Some(f) => format!(
            "\n  did you mean {f}? (vizscript functions, or :functions in the REPL, lists them)"
        ),
        None => String::new(),
    }
}

/// Rhai names a string argument `&str | ImmutableString | String`; a user reads `string`.
fn readable_types(message: &str) -> String {
    message.replace("&str | ImmutableString | String", "string")
}

/// The functions `source` defines: each one's name and its header (`fn name(a, b)`).
fn script_functions(source: &str) -> Vec<(&str, &str)> {
    source
        .lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let line = line.strip_prefix("private ").unwrap_or(line).trim_start();
            let rest = line.strip_prefix("fn ")?.trim_start();
            let name_len = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let header_end = line.find(')')? + 1;
            (name_len > 0 && rest[name_len..].trim_start().starts_with('('))
                .then(|| (&rest[..name_len], &line[..header_end]))
        })
        .collect()
}

/// Rhai's messages end with " (line L, position C)"; the report shows that already.
fn without_position(message: &str) -> String {
    match message.rsplit_once(" (line ") {
        Some((head, tail)) if tail.ends_with(')') => head.to_string(),
        _ => message.to_string(),
    }
}

/// The position of the innermost error that has one: inside a function, the line that
/// failed, not the call site.
fn innermost_position(error: &EvalAltResult) -> Position {
    match error {
        EvalAltResult::ErrorInFunctionCall(.., inner, pos)
        | EvalAltResult::ErrorInModule(_, inner, pos) => {
            let p = innermost_position(inner);
            if p.is_none() { *pos } else { p }
        }
        other => other.position(),
    }
}

fn call_trace(error: &EvalAltResult) -> Option<String> {
    let mut lines = String::new();
    let mut current = error;
    while let EvalAltResult::ErrorInFunctionCall(name, _, inner, pos) = current {
        let at = pos
            .line()
            .map(|l| format!(" (called at line {l})"))
            .unwrap_or_default();
        lines.push_str(&format!("  in function '{name}'{at}\n"));
        current = inner;
    }
    (!lines.is_empty()).then_some(lines)
}

/// A thrown value: our error maps are spelled out, with batch outcomes and the hint of
/// their class; anything else is shown as it prints. The exit code comes from the class
/// in the value's tag.
fn describe_thrown(value: &Dynamic) -> (String, ExitCode) {
    let class = exit::tag::class(value.tag());
    // Something the script passed that cannot be sent is the script's own error (1),
    // not a usage error of the command line (2).
    let exit_code = match class.map(ExitCode::of_class) {
        None | Some(ExitCode::Usage) => ExitCode::Failed,
        Some(code) => code,
    };
    let Some(map) = value.read_lock::<Map>() else {
        return (format!("uncaught: {value}"), exit_code);
    };
    let text = |key: &str| map.get(key).filter(|v| !v.is_unit()).map(|v| v.to_string());
    let Some(kind) = text("kind") else {
        return (format!("uncaught: {value}"), exit_code);
    };
    let mut message = format!("{kind} error");
    if let Some(method) = text("method") {
        message.push_str(&format!(" in {method}"));
    }
    if let Some(code) = text("code") {
        message.push_str(&format!(" (code {code})"));
    }
    message.push_str(&format!(": {}", text("message").unwrap_or_default()));
    // A dry run's batch applied nothing: what passed was planned.
    let planned = map.get("dry_run").is_some_and(|d| d.as_bool() == Ok(true));
    for (key, label) in [
        ("succeeded", if planned { "planned" } else { "applied" }),
        ("failed", "failed"),
        ("skipped", "not sent"),
        ("unknown", "outcome unknown (may have been applied)"),
    ] {
        if let Some(list) = map
            .get(key)
            .and_then(|v| v.read_lock::<rhai::Array>().map(|a| a.len()))
            .filter(|len| *len > 0 || key == "succeeded")
        {
            message.push_str(&format!("\n  {label}: {list} ids"));
        }
    }
    match class {
        Some(class) => (exit::with_hint(message, class), exit_code),
        None => (message, exit_code),
    }
}

/// `--> file:line:col`, the line, a caret, then the message.
pub fn located(name: &str, source: &str, position: Position, message: &str) -> String {
    let (Some(line), column) = (position.line(), position.position()) else {
        return format!("{message}\n  --> {name}\n");
    };
    let column = column.unwrap_or(1).max(1);
    let text = source.lines().nth(line - 1).unwrap_or("");
    let gutter = line.to_string().len();
    let pad = " ".repeat(gutter);
    let caret_pad: String = text
        .chars()
        .take(column - 1)
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    format!(
        "{message}\n{pad}--> {name}:{line}:{column}\n{pad} |\n{line} | {text}\n{pad} | {caret_pad}^\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_show_line_column_and_caret() {
        let source = "let a = 1;\nlet b = ;\n";
        let engine = rhai::Engine::new();
        let err = engine.compile(source).unwrap_err();
        let failure = parse_failure("bad.rhai", source, &err);
        assert_eq!(failure.exit_code, ExitCode::Usage);
        assert!(
            failure.report.contains("bad.rhai:2:9"),
            "{}",
            failure.report
        );
        assert!(
            failure.report.contains("2 | let b = ;"),
            "{}",
            failure.report
        );
        assert!(
            failure.report.contains("  |         ^"),
            "{}",
            failure.report
        );
    }

    #[test]
    fn runtime_errors_point_inside_functions() {
        let source = "fn f(x) {\n  x.nope()\n}\nf(1);\n";
        let engine = rhai::Engine::new();
        let err = engine.run(source).unwrap_err();
        let failure = runtime_failure("f.rhai", source, &err);
        assert_eq!(failure.exit_code, ExitCode::Failed);
        assert!(failure.report.contains("f.rhai:2:"), "{}", failure.report);
        assert!(
            failure.report.contains("in function 'f'"),
            "{}",
            failure.report
        );
    }

    #[test]
    fn a_call_that_matches_nothing_suggests_what_to_call() {
        let near = suggestion("extract_task ()", "");
        assert!(near.contains("did you mean extract_tasks?"), "{near}");
        let source = "fn spread(tasks, over) {\n  tasks\n}\nsprad([], 1)\n";
        let own = suggestion("sprad (array, i64)", source);
        assert!(own.contains("did you mean spread?"), "{own}");
        let arity = suggestion("spread (array)", source);
        assert!(
            arity.contains("the script defines it as fn spread(tasks, over)"),
            "{arity}"
        );
        let method = suggestion("vp::getExtractTask ()", "");
        assert!(
            method.contains("did you mean vp::getExtractTasks?"),
            "{method}"
        );
        let types = suggestion("set_extract_tasks_priority (array, string)", "");
        assert!(
            types.contains("is called as set_extract_tasks_priority(ids"),
            "{types}"
        );
        let hint = suggestion("hours_from_now (&str | ImmutableString | String)", "");
        assert!(hint.contains("parse_int(s)"), "{hint}");
        let rhai_own = suggestion("sub_string (&str | ImmutableString | String, i64)", "");
        assert!(!rhai_own.contains("parse_int"), "{rhai_own}");
        assert_eq!(
            readable_types("f (&str | ImmutableString | String, i64)"),
            "f (string, i64)"
        );
        let params = suggestion("vp::getSchedules (i64)", "");
        assert!(params.contains("one map of params"), "{params}");
        assert_eq!(suggestion("frobnicate (i64)", ""), "");
    }
}

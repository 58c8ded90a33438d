//! The REPL evaluator: an engine, one scope that lives across inputs (functions defined on
//! one line stay callable, `_` holds the last result), the result format, and the
//! commands. Both front ends (a terminal editor and piped stdin) drive this.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rhai::{AST, Dynamic, Engine, Scope};

use super::commands::{COMMANDS, Command, parse};
use super::last;
use super::methods::listing;
use super::render::{Format, render};
use super::transcript::{Origin, Transcript};
use crate::exit::ExitCode;
use crate::script::exit_api::ScriptExit;
use crate::script::{
    Host, Limits, Output, Script, build_engine, functions, located, runtime_failure,
};
use crate::vizportal::{Client, PlannedCall};

/// Names the editor can complete: variables and, for map variables, their keys.
#[derive(Debug, Default, Clone)]
pub struct Completions {
    /// Variables in scope.
    pub variables: Vec<String>,
    /// Keys of map variables (for `var.` completion).
    pub keys: BTreeMap<String, Vec<String>>,
}

/// Whether to go on after an input.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Read the next input.
    Continue,
    /// Leave the REPL.
    Quit,
}

/// A REPL session.
pub struct Repl {
    engine: Arc<Engine>,
    scope: Scope<'static>,
    functions_ast: AST,
    format: Format,
    client: Option<Arc<Client>>,
    out: Output,
    err: Output,
    cancel: Arc<AtomicBool>,
    completions: Arc<Mutex<Completions>>,
    first_failure: Option<ExitCode>,
    /// An input called `exit(code)`: the session ends, with that code unless it is 0.
    exit_asked: Option<u8>,
    transcript: Transcript,
    /// The site the input being handled started on.
    input_site: Option<String>,
    /// The site the first kept input started on: where a saved script must run.
    start_site: Option<String>,
    /// Files `:save` wrote (as they resolve): only these may be written over again.
    saved_files: std::collections::HashSet<std::path::PathBuf>,
}

impl Repl {
    /// A session over `client`; results go to `out`, errors to `err`.
    pub fn new(
        client: Option<Arc<Client>>,
        limits: &Limits,
        out: Output,
        err: Output,
        progress: bool,
    ) -> Repl {
        let cancel = Arc::new(AtomicBool::new(false));
        let host = Host::new(client.clone(), out.clone(), progress);
        // As in `vizscript run` with nothing after `--`: a script `:load`ed here, or saved
        // from here, reads ARGS the same way.
        let mut scope = Scope::new();
        scope.push_constant("ARGS", rhai::Array::new());
        Repl {
            engine: Arc::new(build_engine(host, limits, cancel.clone())),
            scope,
            functions_ast: AST::empty(),
            format: Format::Table,
            client,
            out,
            err,
            cancel,
            completions: Arc::default(),
            first_failure: None,
            exit_asked: None,
            transcript: Transcript::default(),
            input_site: None,
            start_site: None,
            saved_files: std::collections::HashSet::new(),
        }
    }

    /// The engine (for input validation).
    pub fn engine(&self) -> Arc<Engine> {
        self.engine.clone()
    }

    /// Set this to stop the running evaluation (Ctrl-C).
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        self.cancel.clone()
    }

    /// Whether Ctrl-C was pressed since the last input began: piped input then runs no
    /// further input (a file of changes must stop when its operator says so), and the
    /// session ends as interrupted.
    pub fn stop_piped_input(&mut self) -> bool {
        if !self.cancel.load(Ordering::SeqCst) {
            return false;
        }
        self.fail(
            "note: interrupted: the inputs after this one are not run",
            ExitCode::Interrupted,
        );
        true
    }

    /// What the editor can complete, kept up to date after every input.
    pub fn completions(&self) -> Arc<Mutex<Completions>> {
        self.completions.clone()
    }

    /// How the session ends: success, or the exit code of the first input that failed
    /// (1 for a script or command error; a client error's own code, e.g. 4 when the
    /// server stopped answering as Vizportal).
    pub fn outcome(&self) -> ExitCode {
        if let Some(code) = self.exit_asked.filter(|code| *code != 0) {
            return ExitCode::Script(code);
        }
        self.first_failure.unwrap_or(ExitCode::Success)
    }

    /// Handle one complete input: a `:command` or script code.
    pub fn handle(&mut self, input: &str) -> Step {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Step::Continue;
        }
        self.input_site = self
            .client
            .as_ref()
            .map(|client| client.session().info().site_url_name);
        let step = if trimmed.starts_with(':') {
            match parse(trimmed) {
                Ok(command) => self.command(command),
                Err(message) => {
                    self.fail(&format!("error: {message}"), ExitCode::Failed);
                    Step::Continue
                }
            }
        } else {
            self.eval_and_keep(input, input, "<repl>");
            if self.exit_asked.is_some() {
                Step::Quit
            } else {
                Step::Continue
            }
        };
        self.refresh_completions();
        step
    }

    /// Evaluate `code`; on success, the code that ran and whether its value was printed.
    fn eval(&mut self, code: &str, name: &str) -> Option<(String, bool)> {
        let code = &*last::rewrite(code);
        let ast = match self.engine.compile_with_scope(&self.scope, code) {
            Ok(ast) => ast,
            Err(e) => {
                let report = located(
                    name,
                    code,
                    e.position(),
                    &format!("syntax error: {}", e.err_type()),
                );
                self.fail(report.trim_end(), ExitCode::Failed);
                return None;
            }
        };
        self.cancel.store(false, Ordering::SeqCst);
        // What the input defines is dropped if it fails (see `forget`).
        let (variables_before, functions_before) = (self.scope.len(), self.functions_ast.clone());
        let defines: Vec<String> = ast
            .iter_functions()
            .map(|f| format!("{}()", f.name))
            .collect();
        self.functions_ast += ast;
        let result = self
            .engine
            .eval_ast_with_scope::<Dynamic>(&mut self.scope, &self.functions_ast);
        self.functions_ast.clear_statements();
        match result {
            Ok(value) if value.is_unit() => Some((code.to_string(), false)),
            Ok(value) => {
                (self.out)(&render(&value, self.format));
                self.scope.set_or_push(last::LAST, value);
                Some((code.to_string(), true))
            }
            Err(error) if ScriptExit::of(&error).is_some() => {
                self.exit_asked = ScriptExit::of(&error);
                if let Some(code) = self.exit_asked.filter(|code| *code != 0) {
                    (self.err)(&format!("the input called exit({code})"));
                }
                None
            }
            Err(error) => {
                let failure = runtime_failure(name, code, &error);
                self.fail(failure.report.trim_end(), failure.exit_code);
                self.forget(variables_before, functions_before, defines);
                None
            }
        }
    }

    /// After a failed input: drop the variables it declared (those after the first
    /// `variables` of the scope) and the functions it defined (`functions` were there
    /// before), so the session holds what the inputs `:save` keeps, and say so.
    fn forget(&mut self, variables: usize, functions: AST, defined: Vec<String>) {
        // Newest first, as the scope lists them.
        let mut dropped: Vec<String> = self
            .scope
            .iter_raw()
            .take(self.scope.len().saturating_sub(variables))
            .map(|(name, ..)| name.to_string())
            .collect();
        dropped.reverse();
        self.scope.rewind(variables);
        self.functions_ast = functions;
        // A name the input declared again keeps its earlier value, and a function its
        // earlier definition: they are not gone.
        dropped.retain(|name| !self.scope.contains(name));
        let kept: Vec<String> = self
            .functions_ast
            .iter_functions()
            .map(|f| format!("{}()", f.name))
            .collect();
        dropped.extend(defined.into_iter().filter(|f| !kept.contains(f)));
        let mut seen = std::collections::HashSet::new();
        dropped.retain(|name| seen.insert(name.clone()));
        if !dropped.is_empty() {
            (self.err)(&format!(
                "note: the input failed, so what it defined is dropped: {}",
                dropped.join(", ")
            ));
        }
    }

    /// Evaluate `code` (named `name` in diagnostics) and, when it ran, keep it as `typed`
    /// for `:history` and `:save`, marked as held back when it planned a change under
    /// `:dry-run` (reads it made were sent).
    fn eval_and_keep(&mut self, typed: &str, code: &str, name: &str) {
        let planned = self.planned_calls();
        if let Some((code, printed)) = self.eval(code, name) {
            let held_back = self.planned_calls() > planned;
            self.keep(typed, &code, printed, held_back);
        }
    }

    /// How many calls dry runs have held back so far.
    fn planned_calls(&self) -> usize {
        self.client.as_ref().map_or(0, |c| c.planned_calls())
    }

    /// Whether an input names a secret or holds one of the session's own (its password,
    /// token secret or cookies, under any name): such input is kept out of the history
    /// file, `:history` and `:save`.
    pub fn holds_a_secret(&self, input: &str) -> bool {
        super::transcript::names_a_secret(input)
            || self
                .client
                .as_ref()
                .is_some_and(|client| client.session().holds_secret(input))
    }

    /// Keep an input that ran for `:history` and `:save` (one naming a secret is not kept).
    fn keep(&mut self, typed: &str, code: &str, printed: bool, held_back: bool) {
        if self.transcript.len() == 0 {
            self.start_site = self.input_site.clone();
        }
        let holds = self.holds_a_secret(typed) || self.holds_a_secret(code);
        if holds || !self.transcript.record(typed, code, printed, held_back) {
            (self.err)(
                "note: this input names or holds a password, secret or token; it is left out of :history and :save",
            );
        }
    }

    /// The input ended while `buffer`, read from line `first_line` on, was still
    /// unfinished (piped input only: at the terminal the editor keeps asking for more).
    pub fn unfinished_at_end(&mut self, buffer: &str, first_line: usize) {
        let message = match crate::script::unclosed::still_open(buffer) {
            Some(open) => open.describe("the input", first_line),
            None => "the input ended before it was complete".to_string(),
        };
        self.fail(&format!("syntax error: {message}"), ExitCode::Failed);
    }

    fn fail(&mut self, message: &str, code: ExitCode) {
        self.first_failure.get_or_insert(code);
        (self.err)(message);
    }

    fn command(&mut self, command: Command) -> Step {
        match command {
            Command::Quit => return Step::Quit,
            Command::Help(None) => (self.out)(&help_text()),
            Command::Help(Some(name)) => self.help_for(&name),
            Command::Functions => {
                let mut list: Vec<String> = functions()
                    .into_iter()
                    .filter(|f| !f.name.starts_with("vp::"))
                    .map(|f| f.signature)
                    .collect();
                list.push("vp::NAME() / vp::NAME(params) for every known method (:methods)".into());
                (self.out)(&list.join("\n"));
            }
            Command::Methods(pattern) => (self.out)(&listing(pattern.as_deref())),
            Command::Save(path) => self.save(&path),
            Command::History(n) => (self.out)(&self.transcript.history(n)),
            Command::Scope => (self.out)(&self.scope_text()),
            Command::Site(Some(url)) => self.switch_site(&url),
            Command::Site(None) => self.show_site(),
            Command::DryRun(on) => self.dry_run(on),
            Command::Plan => self.plan(),
            Command::Load(path) => self.load(&path),
            Command::Format(None) => (self.out)(&format!("{:?}", self.format).to_lowercase()),
            Command::Format(Some(name)) => match Format::parse(&name) {
                Some(format) => self.format = format,
                None => self.fail("error: :fmt takes table, json or rhai", ExitCode::Failed),
            },
        }
        Step::Continue
    }

    fn help_for(&mut self, name: &str) {
        // A REPL command: its line of the :help table.
        if name.starts_with(':') {
            match super::commands::COMMANDS.iter().find(|(c, _)| *c == name) {
                Some((_, line)) => (self.out)(line),
                None => self.fail(
                    &format!("error: no REPL command {name} (see :help)"),
                    ExitCode::Failed,
                ),
            }
            return;
        }
        let name = match crate::wire::known_method(name) {
            Some(method) => format!("vp::{}", method.name),
            None => name.to_string(),
        };
        let docs: Vec<String> = functions()
            .into_iter()
            .filter(|f| f.name == name)
            .map(|f| format!("{}\n\n{}", f.signature, f.doc.trim_end()))
            .collect();
        if docs.is_empty() {
            self.fail(
                &format!("error: no vizscript function named {name} (see :functions)"),
                ExitCode::Failed,
            );
        } else {
            (self.out)(&docs.join("\n\n"));
        }
    }

    fn scope_text(&self) -> String {
        let lines: Vec<String> = self
            .scope
            .iter_raw()
            .map(|(name, constant, value)| {
                let kind = if constant { "const" } else { "let" };
                // Only the start is shown: a long array is not rendered whole, and says
                // how long it is.
                let (start, count) = match value.read_lock::<rhai::Array>() {
                    Some(items) if items.len() > 3 => (
                        Some(Dynamic::from_array(items[..3].to_vec())),
                        format!(" ({} items)", items.len()),
                    ),
                    _ => (None, String::new()),
                };
                let shown = render(start.as_ref().unwrap_or(value), Format::Rhai);
                let mut shown: String = shown.chars().take(60).collect();
                if !count.is_empty() {
                    let start = shown.strip_suffix(']').unwrap_or(&shown);
                    shown = format!("{start} ...]{count}");
                }
                // The last result is typed as `_`, whatever name it is kept under.
                let name = if name == last::LAST { "_" } else { name };
                format!("{kind} {name}: {} = {shown}", value.type_name())
            })
            .collect();
        if lines.is_empty() {
            "(empty scope)".to_string()
        } else {
            lines.join("\n")
        }
    }

    fn connected(&mut self) -> Option<Arc<Client>> {
        let client = self.client.clone();
        if client.is_none() {
            self.fail("error: not connected to a server", ExitCode::Failed);
        }
        client
    }

    /// Which site the session is on (`:site` alone).
    fn show_site(&mut self) {
        let Some(client) = self.connected() else {
            return;
        };
        let info = client.session().info();
        (self.out)(&format!(
            "on site {} ({:?}); :site URLNAME switches",
            info.site_name, info.site_url_name
        ));
    }

    fn switch_site(&mut self, url: &str) {
        let Some(client) = self.connected() else {
            return;
        };
        match client.session().switch_site(url) {
            Ok(result) => {
                let site = &result["site"];
                // What a command did is a note, not a result: piped output stays results.
                (self.err)(&format!(
                    "now on site {} ({:?})",
                    site["name"].as_str().unwrap_or("?"),
                    site["urlName"].as_str().unwrap_or("")
                ));
                let code = format!("switch_site({});", serde_json::Value::from(url));
                self.keep(&format!(":site {url:?}"), &code, false, false);
            }
            Err(e) => self.fail(&crate::exit::describe(&e), ExitCode::of(&e)),
        }
    }

    fn dry_run(&mut self, on: Option<bool>) {
        let Some(client) = self.connected() else {
            return;
        };
        if let Some(on) = on {
            client.set_dry_run(on);
        }
        let state = if client.dry_run() {
            "on: mutating calls are held back"
        } else {
            "off"
        };
        (self.err)(&format!("dry-run {state}"));
    }

    fn plan(&mut self) {
        let Some(client) = self.connected() else {
            return;
        };
        let plan = client.plan();
        if plan.is_empty() {
            (self.out)("(no calls held back)");
            return;
        }
        let with_site = PlannedCall::on_several_sites(&plan);
        (self.out)(&PlannedCall::render(&plan, with_site).join("\n"));
    }

    fn load(&mut self, path: &str) {
        match Script::load(std::path::Path::new(path)) {
            Ok(script) => {
                self.eval_and_keep(&format!(":load {path}"), &script.source, &script.name);
            }
            Err(failure) => self.fail(failure.report.trim_end(), ExitCode::Failed),
        }
    }

    /// `:save FILE`: the kept inputs as a script, with a header saying when, where (the
    /// site the first input ran on: later inputs may have switched) and who.
    fn save(&mut self, path: &str) {
        // A file that was there before is someone's work: it is not written over.
        let resolved = std::fs::canonicalize(path).ok();
        if let Some(existing) = &resolved
            && existing.is_file()
            && !self.saved_files.contains(existing)
        {
            let message = format!(
                "error: {path} exists and this session did not save it: :save it under another name, or delete it first"
            );
            return self.fail(&message, ExitCode::Failed);
        }
        let origin = self.client.as_ref().map(|client| {
            let info = client.session().info();
            let site = self.start_site.clone().unwrap_or(info.site_url_name);
            Origin::new(client.session().server(), site, info.username)
        });
        let when = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
        let written = self
            .transcript
            .script(&self.engine, origin.as_ref(), &when)
            .and_then(|(text, replaced)| {
                let target = crate::file_out::Target::Named;
                crate::file_out::replace(path.as_ref(), target, |out| {
                    out.write_all(text.as_bytes())
                })
                .map_err(|e| format!("cannot write {path}: {e}"))?;
                Ok(replaced)
            });
        match written {
            Ok(replaced) => {
                if let Ok(written) = std::fs::canonicalize(path) {
                    self.saved_files.insert(written);
                }
                (self.err)(&format!("saved {} inputs to {path}", self.transcript.len()));
                if !replaced.is_empty() {
                    (self.err)(&format!(
                        "note: {} defined more than once: the script keeps the last definition, which the inputs before it call too",
                        replaced.join(", ")
                    ));
                }
            }
            Err(message) => self.fail(&format!("error: {message}"), ExitCode::Failed),
        }
    }

    fn refresh_completions(&self) {
        let mut data = Completions::default();
        for (name, _, value) in self.scope.iter_raw() {
            data.variables.push(name.to_string());
            if let Some(map) = crate::script::record::as_map(value) {
                data.keys.insert(
                    name.to_string(),
                    map.keys().map(|k| k.to_string()).collect(),
                );
            }
        }
        *self.completions.lock().unwrap_or_else(|p| p.into_inner()) = data;
    }
}

fn help_text() -> String {
    let mut text = String::from(
        "Type a Rhai expression or statement; results are shown, `_` holds the last one.\n\
         An unfinished block continues on the next line. Functions: :functions, :help NAME.\n\
         Every known Vizportal method is vp::NAME(#{ params }): :methods lists them.\n\n",
    );
    for (_, line) in COMMANDS {
        text.push_str(line);
        text.push('\n');
    }
    text.trim_end().to_string()
}

//! Running a script file: compile (a syntax error stops before any call is made), then
//! evaluate with `ARGS` in scope.

use std::path::Path;

use rhai::{Dynamic, Engine, Scope};

use super::diagnostic::{ScriptFailure, parse_failure, runtime_failure};
use super::exit_api::ScriptExit;

/// A script's text and the name its diagnostics use.
#[derive(Debug, Clone)]
pub struct Script {
    /// Shown in diagnostics (the path as given).
    pub name: String,
    /// The source text.
    pub source: String,
}

impl Script {
    /// Read a script file.
    pub fn load(path: &Path) -> Result<Script, ScriptFailure> {
        crate::file_in::read_text(path, crate::file_in::SMALL)
            .map(|source| Script {
                name: path.display().to_string(),
                source,
            })
            .map_err(|e| ScriptFailure {
                report: format!("cannot read {}: {e}\n", path.display()),
                exit_code: crate::exit::ExitCode::Usage,
            })
    }

    /// Check that the script parses, without running it.
    pub fn check(&self, engine: &Engine) -> Result<rhai::AST, ScriptFailure> {
        let mut ast = engine
            .compile(&self.source)
            .map_err(|e| parse_failure(&self.name, &self.source, &e))?;
        ast.set_source(self.name.as_str());
        Ok(ast)
    }

    /// Run the script, as compiled by [`Script::check`], with `args` as `ARGS`.
    pub fn run(
        &self,
        engine: &Engine,
        ast: &rhai::AST,
        args: &[String],
    ) -> Result<(), ScriptFailure> {
        let (outcome, _scope) = self.evaluate(engine, ast, args);
        outcome
    }

    /// [`Script::run`] for a process that exits once the script ends: what the script
    /// still holds is left for the operating system to take back at exit instead of
    /// being freed value by value (for 100,000 tasks, milliseconds of a short run).
    pub fn run_then_exit(
        &self,
        engine: &Engine,
        ast: &rhai::AST,
        args: &[String],
    ) -> Result<(), ScriptFailure> {
        let (outcome, scope) = self.evaluate(engine, ast, args);
        std::mem::forget(scope);
        outcome
    }

    fn evaluate<'s>(
        &self,
        engine: &Engine,
        ast: &rhai::AST,
        args: &[String],
    ) -> (Result<(), ScriptFailure>, Scope<'s>) {
        let mut scope = Scope::new();
        let args: rhai::Array = args.iter().map(|a| Dynamic::from(a.clone())).collect();
        scope.push_constant("ARGS", args);
        let outcome = match engine.run_ast_with_scope(&mut scope, ast) {
            Err(error) if ScriptExit::of(&error) == Some(0) => Ok(()),
            other => other.map_err(|error| runtime_failure(&self.name, &self.source, &error)),
        };
        (outcome, scope)
    }
}

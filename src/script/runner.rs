//! Running a script file: compile (a syntax error stops before any call is made), then
//! evaluate with `ARGS` in scope.

use std::path::Path;

use rhai::{Dynamic, Engine, EvalAltResult, Scope};

use super::diagnostic::{ScriptFailure, parse_failure, runtime_failure};

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
        std::fs::read_to_string(path)
            .map(|source| Script {
                name: path.display().to_string(),
                source,
            })
            .map_err(|e| ScriptFailure {
                report: format!("cannot read {}: {e}\n", path.display()),
                exit_code: 2,
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

    /// Run the script with `args` as `ARGS`.
    pub fn run(&self, engine: &Engine, args: &[String]) -> Result<(), ScriptFailure> {
        let ast = self.check(engine)?;
        let mut scope = Scope::new();
        let args: rhai::Array = args.iter().map(|a| Dynamic::from(a.clone())).collect();
        scope.push_constant("ARGS", args);
        match engine.run_ast_with_scope(&mut scope, &ast) {
            Ok(()) => Ok(()),
            Err(error) => match *error {
                EvalAltResult::Exit(value, _) => exit_with(value),
                other => Err(runtime_failure(&self.name, &self.source, &other)),
            },
        }
    }
}

/// `exit()` / `exit(n)` in a script ends it with that code.
fn exit_with(value: Dynamic) -> Result<(), ScriptFailure> {
    match value.as_int() {
        Ok(code) if code != 0 => Err(ScriptFailure {
            report: String::new(),
            exit_code: code.clamp(1, 255) as i32,
        }),
        _ => Ok(()),
    }
}

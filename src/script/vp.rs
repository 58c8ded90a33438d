//! The `vp::` namespace: one script function per Vizportal method known from public
//! sources, registered from the catalogue in [`crate::wire::KNOWN_METHODS`]. Each takes an
//! optional params map and returns the `result` map through the same gate as
//! `vizportal()`. Their docs are generated here from the catalogue's facts, so
//! `vizscript functions`, `:help vp::NAME` and docs/scripting.md all show them.

use rhai::{Dynamic, EvalAltResult, FuncRegistration, Map, Module, NativeCallContext};
use serde_json::json;

use super::convert;
use super::error::usage;
use super::host::Host;
use crate::vizportal::MethodKind;
use crate::wire::{KNOWN_METHODS, KnownMethod};

/// The name scripts use for the namespace.
pub const NAMESPACE: &str = "vp";

type Out<T> = Result<T, Box<EvalAltResult>>;

/// The `vp` module: `vp::NAME()` and `vp::NAME(params)` for every known method. Made once
/// per process and shared by every engine (`run --all-sites` makes one per site). Its
/// functions carry no doc comments: scripts do not read them, and writing 334 of them
/// was a tenth of a run's start-up.
pub fn module() -> rhai::Shared<Module> {
    static MODULE: std::sync::OnceLock<rhai::Shared<Module>> = std::sync::OnceLock::new();
    MODULE.get_or_init(|| build_module(false).into()).clone()
}

/// [`module`] with the doc comments, for the function reference.
pub fn documented_module() -> rhai::Shared<Module> {
    build_module(true).into()
}

fn build_module(documented: bool) -> Module {
    let mut module = Module::new();
    for method in KNOWN_METHODS {
        let name = method.name;
        let (bare_doc, params_doc) = match (documented, method.params.is_empty()) {
            (false, _) => (String::new(), String::new()),
            (true, true) => {
                let other = format!("vp::{name}()");
                (doc(method), pointer(name, "with a params map", &other))
            }
            (true, false) => {
                let other = format!("vp::{name}(params)");
                (
                    pointer(name, "with empty params (`{}`)", &other),
                    doc(method),
                )
            }
        };
        // Volatile: a server call never gives "the same result for the same input", so
        // the optimizer must not fold one away.
        FuncRegistration::new(name)
            .with_volatility(true)
            .with_comments(comments(&bare_doc))
            .with_params_info(["Map"])
            .set_into_module(&mut module, move |ctx: NativeCallContext| -> Out<Map> {
                let pos = ctx.call_position();
                Host::of(&ctx)?.call_map(pos, name, json!({}))
            });
        FuncRegistration::new(name)
            .with_volatility(true)
            .with_comments(comments(&params_doc))
            .with_params_info(["params: Map", "Map"])
            .set_into_module(
                &mut module,
                move |ctx: NativeCallContext, params: Map| -> Out<Map> {
                    let pos = ctx.call_position();
                    let params = convert::to_json(&Dynamic::from_map(params))
                        .map_err(|m| usage(format!("{name}: {m}"), pos))?;
                    Host::of(&ctx)?.call_map(pos, name, params)
                },
            );
    }
    module
}

/// The doc comments for a doc text (none for none).
fn comments(text: &str) -> Vec<String> {
    match text {
        "" => Vec::new(),
        text => vec![comment(text)],
    }
}

/// Text as a Rhai doc comment (`///` before every line).
fn comment(text: &str) -> String {
    let mut comment = String::with_capacity(text.len() + 64);
    for line in text.lines() {
        if !comment.is_empty() {
            comment.push('\n');
        }
        comment.push_str("///");
        if !line.trim_end().is_empty() {
            comment.push(' ');
            comment.push_str(line.trim_end());
        }
    }
    comment
}

/// The short doc of the overload that is not the usual way to call the method.
fn pointer(name: &str, how: &str, other: &str) -> String {
    format!("Call `{name}` {how}; `{other}` says what it does.")
}

/// The full doc of a method, from the catalogue's facts.
pub fn doc(method: &KnownMethod) -> String {
    let mut text = format!("{}\n\n", method.summary);
    text.push_str(&params_line(method));
    text.push(' ');
    text.push_str(&result_line(method));
    if let Some(items) = method.items {
        text.push_str(&format!(
            " A list: `all_pages(\"{}\")` reads every page and merges `{items}`.",
            method.name
        ));
    }
    text.push_str(&format!("\n\n{}\n\n", kind_line(method.name)));
    text.push_str(&format!(
        "Confidence: {} ({}).\n\n```rhai\n{}\n```",
        method.confidence.word(),
        confidence_reason(method),
        example(method)
    ));
    text
}

fn code_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn params_line(method: &KnownMethod) -> String {
    if method.params.is_empty() {
        "Public sources show no params.".to_string()
    } else {
        format!("Params seen: {}.", code_list(method.params))
    }
}

fn result_line(method: &KnownMethod) -> String {
    if method.result.is_empty() && MethodKind::of(method.name).is_mutation() {
        "The result is `{}` on success as far as public sources show; failures (per id for \
         batch calls) raise a `vizportal` error."
            .to_string()
    } else if method.result.is_empty() {
        "No public source captured its result fields.".to_string()
    } else {
        format!("Result fields seen: {}.", code_list(method.result))
    }
}

/// How the gate treats the method, from its name as the client classifies it.
fn kind_line(name: &str) -> &'static str {
    match MethodKind::of(name) {
        MethodKind::Read => "A read: sent straight to the server, retried on transient failures.",
        MethodKind::Session => "Session plumbing: never held back by `--dry-run`.",
        MethodKind::IdempotentWrite => {
            "A change: held back by `--dry-run`, written to `--audit`, retried on transient \
             failures (repeating it is harmless)."
        }
        MethodKind::NonIdempotentWrite => {
            "A change: held back by `--dry-run`, written to `--audit`, retried only when the \
             request certainly did not reach the server."
        }
    }
}

fn confidence_reason(method: &KnownMethod) -> &'static str {
    match method.confidence {
        crate::wire::Confidence::High => "several public sources agree, or Tableau's own code",
        crate::wire::Confidence::Medium => {
            "one good public source; fields may differ on other versions"
        }
        crate::wire::Confidence::Low => "one weak source or only the name; params are a guess",
    }
}

/// A small example: the call, then a look at what it answers.
fn example(method: &KnownMethod) -> String {
    let call = format!("vp::{}({})", method.name, method.example);
    if let Some(items) = method.items {
        format!("let r = {call};\nprint(r.{items}.len());")
    } else if let Some(field) = method.result.first() {
        format!("let r = {call};\nprint(r.{field});")
    } else {
        format!("{call};")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::known_method;

    #[test]
    fn docs_say_what_where_how_sure_with_an_example() {
        let views = doc(known_method("getViews").unwrap());
        assert!(
            views.contains("Params seen: `filter`, `order`, `page`"),
            "{views}"
        );
        assert!(views.contains("all_pages(\"getViews\")"), "{views}");
        assert!(views.contains("Confidence: high"), "{views}");
        assert!(views.contains("print(r.views.len());"), "{views}");
        let delete = doc(known_method("deleteSchedules").unwrap());
        assert!(delete.contains("held back by `--dry-run`"), "{delete}");
        assert!(
            delete.contains("vp::deleteSchedules(#{ ids: [\"4\"] });"),
            "{delete}"
        );
    }

    #[test]
    fn every_example_compiles() {
        let engine = rhai::Engine::new();
        for method in KNOWN_METHODS {
            let code = example(method);
            // `vp::` is not registered in a bare engine; parsing is what is checked.
            engine
                .compile(&code)
                .unwrap_or_else(|e| panic!("{}: {e}\n{code}", method.name));
        }
    }
}

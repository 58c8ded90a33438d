//! `vizscript call`: one raw Vizportal call through the same gate as scripts, or every
//! page of a list method with `--all-pages`.

use serde_json::Value;

use super::call_output::render;
use super::connect::{Connection, connect};
use super::failure::Failure;
use crate::cli::{CallArgs, CallOutput};
use crate::exit::ExitCode;
use crate::script::Host;
use crate::vizportal::{BatchSummary, MethodKind, VizportalError};

/// Make the call and print its `result` as `--output` says.
pub fn call(args: &CallArgs) -> Result<(), Failure> {
    let params: Value = match &args.params {
        None => Value::Object(Default::default()),
        Some(text) => serde_json::from_str(text)
            .map_err(|e| Failure::usage(format!("PARAMS_JSON is not valid JSON: {e}")))?,
    };
    if !params.is_object() {
        return Err(Failure::usage(
            "PARAMS_JSON must be a JSON object, e.g. '{\"ids\": [\"12\"]}'",
        ));
    }
    // Before signing in: a name that cannot be sent costs no request.
    if !crate::wire::method::is_method_name(&args.method) {
        return Err(Failure::usage(crate::wire::method::not_a_method_name(
            &args.method,
        )));
    }
    // Refused before anything is sent: only a read's answer is a list to show.
    if args.output != CallOutput::Json && MethodKind::of(&args.method) != MethodKind::Read {
        return Err(Failure::usage(format!(
            "--output table and csv show the items of a list method; {} is not a read: use --output json",
            args.method
        )));
    }
    let connection = connect(&args.connect)?;
    let outcome = answer(args, params, &connection).and_then(|result| {
        let text = render(&args.method, &result, args.output)?;
        crate::stdout::with(|out| writeln!(out, "{text}"));
        Ok(())
    });
    // Whatever the call's outcome, the session is kept or ended, the plan shown and a
    // lost audit line reported; the call's own failure decides the exit code.
    let finished = connection.finish();
    match (outcome, finished) {
        (Err(failure), Err(also)) => {
            crate::diag!("{}", also.message.trim_end());
            Err(failure)
        }
        (Err(failure), Ok(())) => Err(failure),
        (Ok(()), finished) => finished,
    }
}

/// The call's `result`, or every page's with `--all-pages`.
fn answer(args: &CallArgs, params: Value, connection: &Connection) -> Result<Value, Failure> {
    if args.all_pages {
        let items = crate::wire::known_method(&args.method).and_then(|m| m.items);
        let session = connection.client.session();
        return Ok(Value::Object(session.all_pages(
            &args.method,
            &params,
            items,
            &|_, _| {},
        )?));
    }
    if connection.client.dry_run() && MethodKind::of(&args.method).is_mutation() {
        return checked_under_dry_run(&args.method, params, connection);
    }
    let ids = BatchSummary::ids_named_by(&params);
    connection
        .client
        .call(&args.method, params)
        .map_err(|e| partly_applied(&args.method, ids, e))
}

/// Under `--dry-run`, the call is checked as a script's call by name (`vizportal()`) is:
/// what the real call would refuse is refused here too, before anything is planned.
fn checked_under_dry_run(
    method: &str,
    params: Value,
    connection: &Connection,
) -> Result<Value, Failure> {
    let host = Host::new(
        Some(connection.client.clone()),
        std::sync::Arc::new(|_: &str| {}),
        false,
    );
    match host.call_map(rhai::Position::NONE, method, params) {
        Ok(result) => crate::script::to_json(&rhai::Dynamic::from_map(result))
            .map_err(|e| Failure::new(ExitCode::Failed, format!("error: {e}"))),
        Err(error) => {
            let (message, code) = crate::script::uncaught("", &error);
            Err(Failure::new(code, format!("error: {message}")))
        }
    }
}

/// The failure of a call; one of a batch method that failed for some ids only also names
/// the ids it applied to, so no half-applied change goes unreported.
fn partly_applied(method: &str, ids: Vec<String>, error: VizportalError) -> Failure {
    let mut summary = match BatchSummary::of_partial_call(method, ids, error) {
        Ok(summary) => summary,
        Err(error) => return error.into(),
    };
    let applied = match summary.succeeded.as_slice() {
        [] => "none of its ids was applied".to_string(),
        ids => format!(
            "applied to the other {} of {} id(s): {}",
            ids.len(),
            summary.requested,
            crate::wire::first_ids(ids.iter(), 10)
        ),
    };
    let mut failure = match summary.error.take() {
        Some(error) => Failure::from(error),
        None => Failure::new(ExitCode::Failed, format!("error: {method} failed")),
    };
    failure.message = format!("{}\n  {applied}", failure.message.trim_end());
    failure
}

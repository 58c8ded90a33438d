//! `vizscript call`: one raw Vizportal call through the same gate as scripts, or every
//! page of a list method with `--all-pages`.

use std::io::Write;

use serde_json::Value;

use super::call_output::render;
use super::connect::connect;
use super::failure::Failure;
use crate::cli::CallArgs;

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
    let connection = connect(&args.connect)?;
    let result = if args.all_pages {
        let items = crate::wire::known_method(&args.method).and_then(|m| m.items);
        let session = connection.client.session();
        Value::Object(session.all_pages(&args.method, &params, items, &|_, _| {})?)
    } else {
        connection.client.call(&args.method, params)?
    };
    let text = render(&args.method, &result, args.output)?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    connection.finish()
}

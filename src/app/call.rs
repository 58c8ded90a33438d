//! `vizscript call`: one raw Vizportal call through the same gate as scripts.

use std::io::Write;

use serde_json::Value;

use super::connect::connect;
use super::failure::Failure;
use crate::cli::CallArgs;

/// Make the call and print its `result` as pretty JSON.
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
    let result = connection.client.call(&args.method, params)?;
    let text = serde_json::to_string_pretty(&result).unwrap_or_default();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    connection.finish()
}

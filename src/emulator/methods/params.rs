//! Reading a call's `params` with the server's leniency (see `lenient`) and its error codes:
//! a missing required parameter is code 24, a value of the wrong kind code 25, an `ids`
//! array longer than the server takes code 25 for the whole call.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::Failure;
use crate::emulator::config::Limits;
use crate::emulator::entities::{Id, PRIORITY_RANGE};
use crate::emulator::lenient;
use crate::wire::code;

type Params = Map<String, Value>;

/// An id as the client sent it (for error reports) and as a repository id, if it is one.
#[derive(Clone, Debug)]
pub(super) struct RequestedId {
    pub text: String,
    pub id: Option<Id>,
}

impl RequestedId {
    fn from_value(value: &Value) -> Option<RequestedId> {
        let text = lenient::as_text(value)?.into_owned();
        let id = Id::parse(text.trim());
        Some(RequestedId { text, id })
    }
}

fn present<'a>(params: &'a Params, key: &str) -> Option<&'a Value> {
    params.get(key).filter(|v| !v.is_null())
}

fn missing(key: &str) -> Failure {
    Failure::business(
        code::NULL_OR_EMPTY_PARAM,
        format!("parameter \"{key}\" is required"),
    )
}

fn wrong(key: &str, what: &str) -> Failure {
    Failure::business(
        code::BAD_PARAM_VALUE,
        format!("parameter \"{key}\" must be {what}"),
    )
}

/// An optional string parameter.
pub(super) fn opt_text<'a>(params: &'a Params, key: &str) -> Result<Option<&'a str>, Failure> {
    match present(params, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(wrong(key, "a string")),
    }
}

/// A required string parameter (may be empty).
pub(super) fn text<'a>(params: &'a Params, key: &str) -> Result<&'a str, Failure> {
    opt_text(params, key)?.ok_or_else(|| missing(key))
}

/// An optional boolean, given as `true`/`false` or as a string.
pub(super) fn opt_bool(params: &Params, key: &str) -> Result<Option<bool>, Failure> {
    present(params, key)
        .map(|v| lenient::as_bool(v).ok_or_else(|| wrong(key, "true or false")))
        .transpose()
}

/// A required single id, given as a string or a number.
pub(super) fn id(params: &Params, key: &str) -> Result<RequestedId, Failure> {
    let value = present(params, key).ok_or_else(|| missing(key))?;
    let requested = RequestedId::from_value(value).ok_or_else(|| wrong(key, "an id"))?;
    if requested.text.is_empty() {
        Err(missing(key))
    } else {
        Ok(requested)
    }
}

/// A required, non-empty array of ids, each a string or a number, at most `max_batch`
/// long. An id given twice counts once.
pub(super) fn ids(
    params: &Params,
    key: &str,
    limits: &Limits,
) -> Result<Vec<RequestedId>, Failure> {
    let items = match present(params, key) {
        None => return Err(missing(key)),
        Some(Value::Array(items)) if items.is_empty() => return Err(missing(key)),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(wrong(key, "an array of ids")),
    };
    if items.len() > limits.max_batch {
        return Err(Failure::business(
            code::BAD_PARAM_VALUE,
            format!(
                "{} ids in \"{key}\"; this server takes at most {} per call",
                items.len(),
                limits.max_batch
            ),
        ));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let requested =
            RequestedId::from_value(item).ok_or_else(|| wrong(key, "an array of ids"))?;
        if seen.insert(requested.text.clone()) {
            out.push(requested);
        }
    }
    Ok(out)
}

/// An optional task or schedule priority: an integer from 1 to 100, else code 120011.
pub(super) fn opt_priority(params: &Params) -> Result<Option<i64>, Failure> {
    present(params, "priority")
        .map(|v| {
            lenient::as_int(v)
                .filter(|p| PRIORITY_RANGE.contains(p))
                .ok_or_else(|| {
                    Failure::business(
                        code::PRIORITY_INVALID,
                        "priority must be an integer from 1 to 100",
                    )
                })
        })
        .transpose()
}

/// A required priority (see [`opt_priority`]).
pub(super) fn priority(params: &Params) -> Result<i64, Failure> {
    opt_priority(params)?.ok_or_else(|| missing("priority"))
}

/// A required wire-enum parameter whose wrong values have a code of their own (the
/// `NotA...` codes 80006-80011).
pub(super) fn coded_choice<T>(
    params: &Params,
    key: &str,
    parse: fn(&str) -> Option<T>,
    names: &[&str],
    wrong_code: i64,
) -> Result<T, Failure> {
    let value = text(params, key)?;
    parse(value).ok_or_else(|| {
        Failure::business(
            wrong_code,
            format!("parameter \"{key}\" must be one of {names:?}, not \"{value}\""),
        )
    })
}

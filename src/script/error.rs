//! Errors a script can catch. Every client error becomes one map,
//! `#{kind, method, status, code, message}`, in this one place; a batch with failed ids
//! also carries `succeeded`, `failed` and `skipped`.

use rhai::{Array, Dynamic, EvalAltResult, Map, Position};

use crate::exit;
use crate::vizportal::{BatchSummary, ErrorClass, ItemFailure, VizportalError};

/// A catchable error map from a client error.
pub fn error_map(error: &VizportalError) -> Map {
    let mut map = Map::new();
    map.insert("kind".into(), error.kind().into());
    map.insert(
        "method".into(),
        error
            .method()
            .map_or(Dynamic::UNIT, |m| m.to_string().into()),
    );
    map.insert(
        "status".into(),
        error
            .status()
            .map_or(Dynamic::UNIT, |s| Dynamic::from(s as i64)),
    );
    map.insert(
        "code".into(),
        error.code().map_or(Dynamic::UNIT, Dynamic::from),
    );
    map.insert("message".into(), error.message().into());
    if error.is_outcome_unknown() {
        map.insert("outcome".into(), "unknown".into());
    }
    map
}

/// Raise a client error at the caller's position. The thrown map is tagged with the
/// error's class, which decides the exit code if the script does not catch it.
pub fn raise(error: &VizportalError, pos: Position) -> Box<EvalAltResult> {
    thrown(error_map(error), error.class(), pos)
}

/// A thrown error map, tagged with its class.
fn thrown(map: Map, class: ErrorClass, pos: Position) -> Box<EvalAltResult> {
    let mut value = Dynamic::from_map(map);
    value.set_tag(exit::tag::of(class));
    EvalAltResult::ErrorRuntime(value, pos).into()
}

/// A `usage` error: the script passed something that cannot be sent.
pub fn usage(message: impl Into<String>, pos: Position) -> Box<EvalAltResult> {
    let mut map = Map::new();
    map.insert("kind".into(), "usage".into());
    map.insert("method".into(), Dynamic::UNIT);
    map.insert("status".into(), Dynamic::UNIT);
    map.insert("code".into(), Dynamic::UNIT);
    map.insert("message".into(), message.into().into());
    thrown(map, ErrorClass::Usage, pos)
}

/// The summary map of a batch call.
pub fn summary_map(summary: &BatchSummary) -> Map {
    let mut map = Map::new();
    map.insert("requested".into(), Dynamic::from(summary.requested as i64));
    map.insert("succeeded".into(), id_array(&summary.succeeded));
    map.insert("failed".into(), failures(&summary.failed));
    map.insert("skipped".into(), id_array(&summary.skipped));
    map.insert("unknown".into(), id_array(&summary.unknown));
    map.insert("dry_run".into(), summary.dry_run.into());
    map
}

/// The error for a batch in which some ids failed: a `vizportal` error (or the kind of
/// the error that stopped it) carrying the summary's lists.
pub fn batch_error(method: &str, summary: &BatchSummary, pos: Position) -> Box<EvalAltResult> {
    let mut map = match &summary.error {
        Some(error) => error_map(error),
        None => {
            let first = &summary.failed[0];
            let mut m = Map::new();
            m.insert("kind".into(), "vizportal".into());
            m.insert("method".into(), method.to_string().into());
            m.insert("status".into(), Dynamic::from(200_i64));
            m.insert(
                "code".into(),
                first.code.map_or(Dynamic::UNIT, Dynamic::from),
            );
            m.insert(
                "message".into(),
                format!(
                    "{method}: {} of {} ids failed (first: id {}: {})",
                    summary.failed.len(),
                    summary.requested,
                    first.id,
                    first.message
                )
                .into(),
            );
            m
        }
    };
    // A whole call of several ids refused for a bad parameter value may be one with more
    // ids than the server takes at once (the emulator's --max-batch; real limits are
    // unknown).
    let whole_call_refused = summary.failed.len() > 1
        && summary
            .error
            .as_ref()
            .is_some_and(|e| e.code() == Some(crate::wire::code::BAD_PARAM_VALUE));
    if whole_call_refused && let Some(message) = map.get_mut("message") {
        *message = format!(
            "{message}\n  hint: if the server takes fewer ids per call, pass a smaller --chunk-size"
        )
        .into();
    }
    for (k, v) in summary_map(summary) {
        map.insert(k, v);
    }
    let class = summary
        .error
        .as_ref()
        .map_or(ErrorClass::CallFailed, VizportalError::class);
    thrown(map, class, pos)
}

/// The same error with more fields in its map (e.g. what a batch created or waited for).
pub fn with_fields(error: EvalAltResult, extra: Map) -> Box<EvalAltResult> {
    match error {
        EvalAltResult::ErrorRuntime(value, pos) => {
            // The tag carries the error's class (its exit code): it stays.
            let tag = value.tag();
            let mut map = value.try_cast::<Map>().unwrap_or_default();
            map.extend(extra);
            let mut value = Dynamic::from_map(map);
            value.set_tag(tag);
            EvalAltResult::ErrorRuntime(value, pos).into()
        }
        other => other.into(),
    }
}

/// `error` (a thrown error map) with `context` before its message and `extra` fields:
/// what had already happened when the call that failed was made.
pub fn in_context(error: EvalAltResult, context: &str, mut extra: Map) -> Box<EvalAltResult> {
    // Ctrl-C stopped it: the run ends as interrupted, saying what had happened.
    if let EvalAltResult::ErrorTerminated(token, pos) = &error
        && token
            .clone()
            .into_string()
            .is_ok_and(|t| t == "interrupted")
    {
        let said = format!("interrupted: {context}");
        return EvalAltResult::ErrorTerminated(said.into(), *pos).into();
    }
    let message = match &error {
        EvalAltResult::ErrorRuntime(value, _) => value
            .read_lock::<Map>()
            .and_then(|map| map.get("message").map(|m| m.to_string()))
            .unwrap_or_default(),
        other => other.to_string(),
    };
    extra.insert("message".into(), format!("{context}: {message}").into());
    with_fields(error, extra)
}

fn id_array(ids: &[String]) -> Dynamic {
    Dynamic::from_array(
        ids.iter()
            .map(|id| Dynamic::from(id.clone()))
            .collect::<Array>(),
    )
}

fn failures(failed: &[ItemFailure]) -> Dynamic {
    Dynamic::from_array(
        failed
            .iter()
            .map(|f| {
                let mut m = Map::new();
                m.insert("id".into(), f.id.clone().into());
                m.insert("code".into(), f.code.map_or(Dynamic::UNIT, Dynamic::from));
                m.insert("message".into(), f.message.clone().into());
                Dynamic::from_map(m)
            })
            .collect(),
    )
}

//! Batch calls: ids sent in chunks, each chunk audited through the gate, and a summary of
//! what was applied id by id, so a partially applied batch is never silent.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;
use serde_json::{Map, Value};

use super::super::before;
use super::super::error::{ErrorClass, VizportalError};
use super::super::method::MethodKind;
use super::super::parallel::{Window, in_order};
use super::Client;

/// One id that a batch call did not apply.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemFailure {
    /// The item id.
    pub id: String,
    /// The server's error code, when it sent one.
    pub code: Option<i64>,
    /// What went wrong.
    pub message: String,
}

impl ItemFailure {
    /// Item `id` failed by a dry run's check, as the server would fail it, for `why`.
    pub fn under_dry_run(id: &str, why: &str) -> ItemFailure {
        ItemFailure {
            id: id.to_string(),
            code: None,
            message: format!("{why} (checked under --dry-run)"),
        }
    }
}

/// What a batch call did, id by id.
#[derive(Debug)]
pub struct BatchSummary {
    /// Ids asked for.
    pub requested: usize,
    /// Ids applied (or, under dry-run, that would have been sent).
    pub succeeded: Vec<String>,
    /// Ids the server refused or that were in a chunk whose outcome is an error.
    pub failed: Vec<ItemFailure>,
    /// Ids never sent because an earlier chunk failed as a whole.
    pub skipped: Vec<String>,
    /// Ids of a chunk whose request may have reached the server but whose answer was
    /// lost: they may or may not have been applied (check them before sending again).
    pub unknown: Vec<String>,
    /// True under dry-run.
    pub dry_run: bool,
    /// The error that stopped the batch, if one did.
    pub error: Option<VizportalError>,
}

impl BatchSummary {
    /// The ids a call's params name (`ids`, or one `id`), as [`Self::of_partial_call`]
    /// takes them: read before the call, which consumes the params.
    pub fn ids_named_by(params: &Value) -> Vec<String> {
        before::ids_of(params)
    }

    /// What one call of a batch method (a raw call with `ids`) did id by id, when it
    /// failed for some of its ids only (every error names one of the ids it was given):
    /// the others were applied. The error travels in the summary. Any other failure, or
    /// a method that changes nothing, gives the error back.
    pub fn of_partial_call(
        method: &str,
        ids: Vec<String>,
        error: VizportalError,
    ) -> Result<BatchSummary, VizportalError> {
        if !MethodKind::of(method).is_mutation() || ids.is_empty() || !names_only(&error, &ids) {
            return Err(error);
        }
        let (succeeded, failed) = split_by_errors(&ids, &error);
        Ok(BatchSummary {
            succeeded,
            failed,
            error: Some(error),
            ..BatchSummary::of(ids.len(), false)
        })
    }

    /// A summary of `requested` ids with nothing counted yet.
    pub(crate) fn of(requested: usize, dry_run: bool) -> BatchSummary {
        BatchSummary {
            requested,
            succeeded: Vec::with_capacity(requested),
            failed: Vec::new(),
            skipped: Vec::new(),
            unknown: Vec::new(),
            dry_run,
            error: None,
        }
    }

    /// Count one chunk's outcome (`None`: never sent).
    fn absorb(&mut self, chunk: &[String], outcome: Option<Result<Value, VizportalError>>) {
        match outcome {
            None => self.skipped.extend_from_slice(chunk),
            Some(Ok(_)) => self.succeeded.extend_from_slice(chunk),
            // Held back by the client: not sent, whatever the error says.
            Some(Err(error @ VizportalError::NotSent { .. })) => {
                self.skipped.extend_from_slice(chunk);
                self.error.get_or_insert(error);
            }
            Some(Err(error)) if error.is_outcome_unknown() => {
                self.unknown.extend_from_slice(chunk);
                self.error.get_or_insert(error);
            }
            Some(Err(error)) if names_only(&error, chunk) => {
                let (applied, failures) = split_by_errors(chunk, &error);
                self.succeeded.extend(applied);
                self.failed.extend(failures);
            }
            Some(Err(error)) => {
                self.failed.extend(chunk.iter().map(|id| ItemFailure {
                    id: id.clone(),
                    code: error.code(),
                    message: error.message(),
                }));
                self.error.get_or_insert(error);
            }
        }
    }
}

impl Client {
    /// Apply a batch method to `ids` in chunks: `extra` holds the other params (e.g.
    /// `scheduleId`). Chunks of an idempotent method go out a few at a time; others one
    /// by one. A chunk that fails as a whole stops the chunks not yet sent; their ids are
    /// reported as skipped.
    pub fn batch(
        &self,
        method: &str,
        ids: Vec<String>,
        extra: Map<String, Value>,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> BatchSummary {
        self.batch_noting(method, "ids", ids, extra, None, progress)
    }

    /// As [`Client::batch`], with the ids sent under `ids_key` (e.g. `targetIds`) and,
    /// when the caller read them first, each id's values before the call (`before`, by
    /// id), of which each chunk's audit line carries its own.
    pub fn batch_noting(
        &self,
        method: &str,
        ids_key: &str,
        ids: Vec<String>,
        extra: Map<String, Value>,
        before: Option<&Map<String, Value>>,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> BatchSummary {
        let read;
        let before = match before {
            Some(before) => Some(before),
            None => match self.read_before(method, &ids) {
                Ok(values) => {
                    read = values;
                    read.as_ref()
                }
                // Nothing is sent: a change the audit cannot say how to undo is not made.
                Err(error) => {
                    let mut summary = BatchSummary::of(ids.len(), self.dry_run());
                    summary.skipped = ids;
                    summary.error = Some(error);
                    return summary;
                }
            },
        };
        let with_contents;
        let before = match before {
            // Unless the caller read them already.
            Some(values)
                if method == crate::wire::method::DELETE_SCHEDULES
                    && self.audit.is_some()
                    && !values.values().all(|v| v.get("extractTasks").is_some()) =>
            {
                with_contents = self.with_schedule_contents(values, &ids);
                Some(&with_contents)
            }
            other => other,
        };
        let dry_run = self.dry_run();
        let planned_before = self.planned_calls();
        let chunks: Vec<&[String]> = ids.chunks(self.chunk_size).collect();
        let in_flight = if MethodKind::of(method).is_repeatable() && !dry_run {
            self.session.window()
        } else {
            Window::fixed(1)
        };
        let done = AtomicUsize::new(0);
        // `None`: not sent, the user having interrupted the run. (A chunk the audit could
        // not record is held back by `call_noting`, as not sent.)
        let send = |chunk: &&[String]| {
            if self.interrupted() {
                return None;
            }
            let mut params = extra.clone();
            params.insert(ids_key.into(), Value::from(chunk.to_vec()));
            let noted = before.map(|all| {
                let mine = chunk
                    .iter()
                    .filter_map(|id| Some((id.clone(), all.get(id)?.clone())));
                Value::Object(mine.collect())
            });
            let outcome = self.call_noting(method, Value::Object(params), noted);
            progress(
                done.fetch_add(chunk.len(), Ordering::SeqCst) + chunk.len(),
                ids.len(),
            );
            // A chunk that failed as a whole (not for some of its own ids) stops the rest.
            let stops = outcome.as_ref().is_err_and(|e| !names_only(e, chunk));
            Some((outcome, stops))
        };
        let stops = |sent: &Option<(Result<Value, VizportalError>, bool)>| {
            sent.as_ref().is_none_or(|(_, stops)| *stops)
        };
        let outcomes = in_order(in_flight, &chunks, send, stops);
        let mut summary = BatchSummary::of(ids.len(), dry_run);
        for (chunk, outcome) in chunks.iter().zip(outcomes) {
            summary.absorb(chunk, outcome.flatten().map(|(outcome, _)| outcome));
        }
        if dry_run {
            self.fail_the_absent(method, before, planned_before, &mut summary);
        }
        // Chunks held back by an interruption, with no error of their own, say why.
        if !summary.skipped.is_empty() && summary.error.is_none() {
            summary.error = Some(VizportalError::NotSent {
                method: method.to_string(),
                reason: "interrupted".into(),
                class: ErrorClass::CallFailed,
            });
        }
        summary
    }
}

/// Whether every error of `error` names one of `ids`: the call failed for those and was
/// applied to the others. An error naming an id the call was not given (or none) makes
/// the whole call's outcome the error.
pub(super) fn names_only(error: &VizportalError, ids: &[String]) -> bool {
    matches!(error, VizportalError::Api { errors, .. }
        if !errors.is_empty()
            && errors.iter().all(|e| e.id.as_ref().is_some_and(|id| ids.contains(id))))
}

/// `ids` of a call that failed for some of them: those its errors do not name (applied),
/// and the failures.
fn split_by_errors(ids: &[String], error: &VizportalError) -> (Vec<String>, Vec<ItemFailure>) {
    let failures = item_failures(error);
    let failed: HashSet<&str> = failures.iter().map(|f| f.id.as_str()).collect();
    let applied = ids
        .iter()
        .filter(|id| !failed.contains(id.as_str()))
        .cloned()
        .collect();
    (applied, failures)
}

pub(super) fn failed_ids(error: &VizportalError) -> Vec<String> {
    item_failures(error).into_iter().map(|f| f.id).collect()
}

fn item_failures(error: &VizportalError) -> Vec<ItemFailure> {
    match error {
        VizportalError::Api { errors, .. } => errors
            .iter()
            .filter_map(|e| {
                Some(ItemFailure {
                    id: e.id.clone()?,
                    code: e.code,
                    message: e.message.clone().unwrap_or_default(),
                })
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::WireError;
    use serde_json::json;

    fn refused(ids: &[&str]) -> VizportalError {
        VizportalError::Api {
            method: "setExtractTasksPriority".into(),
            status: 200,
            errors: ids
                .iter()
                .map(|id| WireError {
                    code: Some(120002),
                    id: Some(id.to_string()),
                    message: Some("not found".into()),
                })
                .collect(),
        }
    }

    #[test]
    fn a_raw_call_is_partly_applied_only_when_its_errors_name_its_own_ids() {
        let params = json!({"ids": ["1", "2", "3"], "priority": 5});
        let ids = || BatchSummary::ids_named_by(&params);
        let summary =
            BatchSummary::of_partial_call("setExtractTasksPriority", ids(), refused(&["2"]))
                .expect("partly applied");
        assert_eq!(summary.succeeded, ["1", "3"]);
        assert_eq!(summary.failed[0].id, "2");
        assert_eq!(
            summary.error.as_ref().and_then(VizportalError::status),
            Some(200)
        );
        // An error naming something else (a conflicting schedule, say) says nothing of
        // which given ids were applied; nor does a read.
        for (method, error) in [
            ("setExtractTasksPriority", refused(&["2", "77"])),
            ("updateSchedule", refused(&["77"])),
            ("getExtractTasks", refused(&["2"])),
        ] {
            assert!(
                BatchSummary::of_partial_call(method, ids(), error).is_err(),
                "{method}"
            );
        }
    }

    #[test]
    fn a_chunk_whose_errors_name_an_id_it_was_not_given_failed_as_a_whole() {
        let chunk: Vec<String> = ["1", "2", "3"].map(String::from).to_vec();
        let mut summary = BatchSummary::of(3, false);
        summary.absorb(&chunk, Some(Err(refused(&["424242"]))));
        assert!(summary.succeeded.is_empty(), "{:?}", summary.succeeded);
        assert_eq!(
            summary.failed.len(),
            3,
            "the counts add up to what was sent"
        );
        assert!(summary.error.is_some());
    }
}

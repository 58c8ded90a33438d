//! The one gate every call passes: reads go straight to the session; mutations are held
//! back under dry-run (and recorded in the plan), audited, and sent with the retry policy
//! of their kind. Batch calls split ids into chunks and report per-id outcomes, so a
//! partially applied batch is never silent.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

use super::audit::{AuditEntry, AuditLog, Outcome, redact_params};
use super::before;
use super::error::{ErrorClass, VizportalError};
use super::listing::{ConvertFn, ProgressFn, ReadFn, SideTables};
use super::local_filter;
use super::method::MethodKind;
use super::page_answer::{page_text, read_page};
use super::session::Session;
use crate::wire::id_text;

mod batch;
mod dry_run_checks;
mod plan;

pub use batch::{BatchSummary, ItemFailure};
pub use plan::{PlannedCall, PlannedChange, ServerPlan, is_planned_id, planned_id};

use batch::{failed_ids, names_only};
use plan::{Plan, SCHEDULE_CHANGES};

/// A session behind the mutation gate.
#[derive(Debug)]
pub struct Client {
    session: Session,
    dry_run: AtomicBool,
    plan: Mutex<Plan>,
    mutations: AtomicUsize,
    /// Shared by every connection of a run (the sites of --all-sites write one file).
    audit: Option<Arc<AuditLog>>,
    /// A line of this client's calls could not be written to the audit file.
    audit_lost: AtomicBool,
    chunk_size: usize,
    /// Set when the user interrupts (Ctrl-C): a batch sends no further chunk.
    interrupt: std::sync::OnceLock<Arc<AtomicBool>>,
    /// The schedule changes planned by every connection of the run, with this client's
    /// number among them.
    server_plan: std::sync::OnceLock<(Arc<ServerPlan>, usize)>,
    /// The server's schedules as a dry run's checks last listed them, and when: kept for
    /// a minute, until a change is sent for real.
    listed_schedules: Mutex<Option<(std::time::Instant, Arc<Vec<Value>>)>>,
    /// Filters the server refused, by method and the fields filtered on: such lists are
    /// read whole and filtered here (see [`Client::list_filtered`]).
    refused_filters: Mutex<HashSet<String>>,
}

impl Client {
    /// Wrap a session. `chunk_size` is the most ids sent in one batch request.
    pub fn new(
        session: Session,
        dry_run: bool,
        audit: Option<Arc<AuditLog>>,
        chunk_size: usize,
    ) -> Client {
        Client {
            session,
            dry_run: AtomicBool::new(dry_run),
            plan: Mutex::new(Plan::default()),
            mutations: AtomicUsize::new(0),
            audit,
            audit_lost: AtomicBool::new(false),
            chunk_size: chunk_size.max(1),
            interrupt: std::sync::OnceLock::new(),
            server_plan: std::sync::OnceLock::new(),
            listed_schedules: Mutex::new(None),
            refused_filters: Mutex::default(),
        }
    }

    /// The server's schedules for a dry run's checks: listed by `list` at most once a
    /// minute (a loop of checked calls does not list them each time), again after a
    /// change was sent for real.
    pub fn schedules_for_checks(
        &self,
        list: impl FnOnce() -> Result<Vec<Value>, VizportalError>,
    ) -> Result<Arc<Vec<Value>>, VizportalError> {
        let mut kept = self
            .listed_schedules
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some((at, listed)) = kept.as_ref()
            && at.elapsed() < std::time::Duration::from_secs(60)
        {
            return Ok(listed.clone());
        }
        let listed = Arc::new(list()?);
        *kept = Some((std::time::Instant::now(), listed.clone()));
        Ok(listed)
    }

    /// Share the schedule changes this client's dry run plans with the other connections
    /// of the run (the sites of `--all-sites`), and see theirs.
    pub fn share_schedule_plan(&self, plan: Arc<ServerPlan>) {
        let number = plan.join();
        let _ = self.server_plan.set((plan, number));
    }

    /// The schedule changes planned so far by this client's dry run and by those it
    /// shares them with, in the order they were planned.
    pub fn schedule_plan(&self) -> Vec<PlannedChange> {
        let Some((shared, me)) = self.server_plan.get() else {
            let own = self.plan.lock().unwrap_or_else(|p| p.into_inner());
            return own
                .schedule_changes
                .iter()
                .map(|&at| PlannedChange {
                    mine: true,
                    at,
                    call: own.calls[at].clone(),
                })
                .collect();
        };
        let shared = shared.calls.lock().unwrap_or_else(|p| p.into_inner());
        shared
            .iter()
            .map(|(number, at, call)| PlannedChange {
                mine: number == me,
                at: *at,
                call: call.clone(),
            })
            .collect()
    }

    /// Under a dry run sharing its schedule plan with other sites' (`--all-sites`), the
    /// turn to check a call of `method` against the plans and add it to them: held from
    /// the check to the call, so that no other site plans a change in between. `None` for
    /// a method that changes no schedule (only those, which every site's dry run sees, may
    /// race another site's: a name two sites both find free), and for a client that
    /// shares no plan (one made outside `vizscript run`, in tests).
    pub fn schedule_change_turn(&self, method: &str) -> Option<std::sync::MutexGuard<'_, ()>> {
        if !SCHEDULE_CHANGES.contains(&method) {
            return None;
        }
        let (shared, _) = self.server_plan.get()?;
        Some(shared.turn.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Stop batches between chunks once `flag` is set (by Ctrl-C): the chunks not sent
    /// are reported as skipped.
    pub fn stop_when(&self, flag: Arc<AtomicBool>) {
        let _ = self.interrupt.set(flag);
    }

    fn interrupted(&self) -> bool {
        self.interrupt
            .get()
            .is_some_and(|f| f.load(Ordering::Relaxed))
    }

    /// The session behind the gate (for reads and session facts).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Why the audit file could not be written, once it could not (by any connection of
    /// the run): no change is sent after.
    pub fn audit_broken(&self) -> Option<String> {
        self.audit.as_deref().and_then(AuditLog::broken)
    }

    /// Why a line of this client's own calls is missing from the audit file, if one is.
    pub fn audit_lost(&self) -> Option<String> {
        self.audit_lost
            .load(Ordering::SeqCst)
            .then(|| self.audit_broken())
            .flatten()
    }

    /// Whether mutations are held back.
    pub fn dry_run(&self) -> bool {
        self.dry_run.load(Ordering::SeqCst)
    }

    /// Turn dry-run on or off (the REPL's `:dry-run`).
    pub fn set_dry_run(&self, on: bool) {
        self.dry_run.store(on, Ordering::SeqCst);
    }

    /// The calls held back so far.
    pub fn plan(&self) -> Vec<PlannedCall> {
        let plan = self.plan.lock().unwrap_or_else(|p| p.into_inner());
        plan.calls.clone()
    }

    /// How many calls dry runs have held back so far.
    pub fn planned_calls(&self) -> usize {
        let plan = self.plan.lock().unwrap_or_else(|p| p.into_inner());
        plan.calls.len()
    }

    /// Mutating calls that passed the gate so far (sent or, under dry-run, planned).
    pub fn mutating_calls(&self) -> usize {
        self.mutations.load(Ordering::SeqCst)
    }

    /// Call any method. A mutation under dry-run answers `{"dry_run": true}`.
    pub fn call(&self, method: &str, params: Value) -> Result<Value, VizportalError> {
        self.call_noting(method, params, None)
    }

    /// Call any method; a mutation's audit line also carries `before`, what the call
    /// changes as it was (read by the caller first, else read here when auditing).
    pub fn call_noting(
        &self,
        method: &str,
        params: Value,
        before: Option<Value>,
    ) -> Result<Value, VizportalError> {
        // Checked here too: under dry-run a change never reaches the transport's check.
        if !crate::wire::method::is_method_name(method) {
            return Err(VizportalError::Usage(
                crate::wire::method::not_a_method_name(method),
            ));
        }
        if !MethodKind::of(method).is_mutation() {
            return self.session.call(method, &params);
        }
        // A change the audit file could not record could not be undone: held back.
        if let Some(why) = self.audit_broken() {
            return Err(VizportalError::NotSent {
                method: method.to_string(),
                reason: format!("{why}, and a change it cannot record could not be undone"),
                class: ErrorClass::CallFailed,
            });
        }
        let before = match before {
            Some(before) => Some(before),
            None => self
                .read_before(method, &before::ids_of(&params))?
                .map(Value::Object),
        };
        self.mutations.fetch_add(1, Ordering::SeqCst);
        let audit = |outcome: Outcome, failed: Vec<String>, error: Option<String>| {
            let noted = (before.clone(), None);
            self.audit_call(method, &params, outcome, failed, error, noted);
        };
        if self.dry_run() {
            audit(Outcome::DryRun, Vec::new(), None);
            self.hold_back(method, &params);
            return Ok(json!({ "dry_run": true }));
        }
        // A change sent for real may change what the dry run's checks listed.
        *self
            .listed_schedules
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = None;
        let outcome = self.session.call(method, &params);
        match &outcome {
            Ok(result) => {
                // What a creation made, when the answer names it.
                let created = result
                    .get("id")
                    .and_then(|id| id_text(id).map(String::from));
                let noted = (before.clone(), created);
                self.audit_call(method, &params, Outcome::Ok, Vec::new(), None, noted);
                tracing::info!("{method}: applied{}", ids_noted(&params));
            }
            Err(error) => {
                let failed = failed_ids(error);
                let label = outcome_of_failure(error, &params, &failed);
                tracing::info!("{method}: {label}{}", ids_noted(&params));
                audit(label, failed, Some(error.to_string()));
            }
        }
        outcome
    }

    /// Under dry-run, add a change to the plan instead of sending it (and to the plan the
    /// run's other sites share, for a schedule change).
    fn hold_back(&self, method: &str, params: &Value) {
        let call = PlannedCall {
            method: method.to_string(),
            // A plan is printed and written: never a password in it.
            params: redact_params(params, &self.session.secrets()),
            ids: ids_named(params).unwrap_or(0),
            site: self.session.info().site_url_name,
        };
        let mut plan = self.plan.lock().unwrap_or_else(|p| p.into_inner());
        // The real call would reach the server; a dry run cannot tell whether the server
        // has a method no public source names (a typo, most likely).
        if crate::wire::known_method(method).is_none() && plan.unknown.insert(method.into()) {
            let names = crate::wire::KNOWN_METHODS.iter().map(|m| m.name);
            let near = crate::wire::nearest(method, names)
                .map(|m| format!(" (did you mean {m}?)"))
                .unwrap_or_default();
            crate::diag!(
                "warning: {method} is not a Vizportal method known from public sources{near}: the dry run plans it, but cannot tell whether the server has it"
            );
        }
        if let Some((shared, me)) = self.server_plan.get()
            && SCHEDULE_CHANGES.contains(&method)
        {
            let mut shared = shared.calls.lock().unwrap_or_else(|p| p.into_inner());
            shared.push((*me, plan.calls.len(), call.clone()));
        }
        plan.push(call);
    }

    /// Every page of a list method, each page's items read as `I` and converted with
    /// their page's side tables. Only reads page: a list call whose method is not a read
    /// is refused before anything is sent, so paging can never repeat a write.
    pub fn list_all<I: serde::de::DeserializeOwned, T: Send>(
        &self,
        method: &str,
        params: &Value,
        items_key: &str,
        convert: ConvertFn<'_, I, T>,
        progress: ProgressFn<'_>,
    ) -> Result<Vec<T>, VizportalError> {
        let read = |body: &bytes::Bytes, items_key: &str| {
            read_page(
                page_text(body, items_key)?,
                items_key,
                std::marker::PhantomData::<Vec<I>>,
            )
            .map(|page| page.map_items(convert))
        };
        self.list_all_read(method, params, items_key, &read, progress)
    }

    /// Every page of a list method whose `params` filter it (the client's own reads of
    /// the ids or targets a change names), items converted by `convert`. Public sources
    /// do not say which fields each list filters on: a server that refuses the filter
    /// ([`refuses_filter`]: an error such as "not supported for filtering") is asked for
    /// the whole list instead, and the filter is applied here (see
    /// [`local_filter`](super::local_filter)); once that worked, for the rest of the
    /// session.
    pub fn list_filtered<T: Send>(
        &self,
        method: &str,
        params: &Value,
        items_key: &str,
        convert: ConvertFn<'_, Value, T>,
    ) -> Result<Vec<T>, VizportalError> {
        let Some(local) = params
            .get("filter")
            .and_then(local_filter::LocalFilter::new)
        else {
            return self.list_all(method, params, items_key, convert, &|_, _| {});
        };
        let refusal = match self.refuses(method, params) {
            true => None,
            false => match self.list_all(method, params, items_key, convert, &|_, _| {}) {
                Err(error) if refuses_filter(&error) => Some(error),
                other => return other,
            },
        };
        let mut whole = params.clone();
        if let Some(map) = whole.as_object_mut() {
            map.remove("filter");
        }
        let keep = |items: Vec<Value>, side: &SideTables| {
            let passed = items.into_iter().filter(|item| local.accepts(item));
            convert(passed.collect(), side)
        };
        let read = self.list_all(method, &whole, items_key, &keep, &|_, _| {});
        match (read, refusal) {
            (Ok(items), Some(refusal)) => {
                tracing::info!(
                    "{method}: the server refused the filter ({refusal}); read the whole list and filtered it here, as from now on"
                );
                self.note_refused(method, params);
                Ok(items)
            }
            (Ok(items), None) => Ok(items),
            // The whole list did not read either: its error is the one to act on.
            (Err(error), Some(refusal)) => {
                tracing::info!("{method}: the server refused the filter ({refusal})");
                Err(error)
            }
            (Err(error), None) => Err(error),
        }
    }

    /// Remember that the server refuses the filter of `params` on `method` (a caller read
    /// the whole list instead, and that worked): [`Client::refuses`] says so from now on.
    pub fn note_refused(&self, method: &str, params: &Value) {
        if let Some(key) = refusal_key(method, params) {
            let mut refused = self
                .refused_filters
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            refused.insert(key);
        }
    }

    /// Whether the server refused the filter of `params` on `method` before in this
    /// session (see [`Client::list_filtered`]): a caller reading in chunks then reads the
    /// whole list once instead of once a chunk.
    pub fn refuses(&self, method: &str, params: &Value) -> bool {
        refusal_key(method, params).is_some_and(|key| {
            self.refused_filters
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains(&key)
        })
    }

    /// Like [`Client::list_all`], with each page's answer read by `read` (which calls
    /// [`read_page`] with its own seed; see [`Session::list_all_read`]).
    pub fn list_all_read<T: Send>(
        &self,
        method: &str,
        params: &Value,
        items_key: &str,
        read: ReadFn<'_, T>,
        progress: ProgressFn<'_>,
    ) -> Result<Vec<T>, VizportalError> {
        only_reads_page(method)?;
        self.session
            .list_all_read(method, params, items_key, read, progress)
    }

    /// When auditing, what `method` is about to change on `ids`, read from the server
    /// (`None` when not auditing or for methods that change no listed fields). A read that
    /// fails holds the change back ([`VizportalError::NotSent`], with the read's class):
    /// a change the audit cannot say how to undo is not made.
    fn read_before(
        &self,
        method: &str,
        ids: &[String],
    ) -> Result<Option<Map<String, Value>>, VizportalError> {
        let Some(changes) = self.audit.as_ref().and(before::changes(method)) else {
            return Ok(None);
        };
        if ids.is_empty() {
            return Ok(None);
        }
        before::read(self, &changes, ids)
            .map(Some)
            .map_err(|e| VizportalError::NotSent {
                method: method.to_string(),
                reason: format!(
                    "what it changes could not be read for the audit, and a change the audit cannot say how to undo is not made: {e}"
                ),
                class: e.class(),
            })
    }

    /// What deleting the schedules `ids` takes, read once: the before values of their
    /// `keep` fields (with this site's tasks and subscriptions on them, when `contents`)
    /// and the schedules that also hold other sites', described for a message.
    pub fn schedule_deletion(
        &self,
        ids: &[String],
        keep: &[&str],
        contents: bool,
    ) -> Result<(Map<String, Value>, Vec<String>), VizportalError> {
        before::schedule_deletion(self, ids, keep, contents)
    }

    /// Whether mutating calls are written to an audit file.
    pub fn audits(&self) -> bool {
        self.audit.is_some()
    }

    /// A deleted schedule's tasks and subscriptions go with it: its before values list
    /// them (`extractTasks`, `subscriptions`), so the audit says what to rebuild.
    fn with_schedule_contents(
        &self,
        values: &Map<String, Value>,
        ids: &[String],
    ) -> Map<String, Value> {
        let mut values = values.clone();
        match before::schedule_contents(self, ids) {
            Ok(contents) => {
                // A schedule with nothing on it says so too.
                for fields in values.values_mut().filter_map(Value::as_object_mut) {
                    for member in ["extractTasks", "subscriptions"] {
                        fields.entry(member).or_insert_with(|| json!([]));
                    }
                }
                for (schedule, contents) in contents {
                    if let (Some(Value::Object(fields)), Value::Object(contents)) =
                        (values.get_mut(&schedule), contents)
                    {
                        fields.extend(contents);
                    }
                }
            }
            Err(e) => tracing::warn!(
                "deleteSchedules: cannot read the schedules' tasks and subscriptions for the audit: {e}"
            ),
        }
        values
    }

    fn audit_call(
        &self,
        method: &str,
        params: &Value,
        outcome: Outcome,
        failed: Vec<String>,
        error: Option<String>,
        (before, created): (Option<Value>, Option<String>),
    ) {
        let Some(audit) = &self.audit else { return };
        let info = self.session.info();
        let written = audit.record(&AuditEntry {
            time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            server: self.session.server(),
            site: &info.site_url_name,
            user: &info.username,
            method,
            params: redact_params(params, &self.session.secrets()),
            outcome,
            failed_ids: failed,
            error,
            before,
            created,
            rehearsal: audit.rehearsal(),
        });
        if !written {
            self.audit_lost.store(true, Ordering::SeqCst);
        }
    }
}

/// How a refused filter is remembered: the method and what the filter asks, without its
/// values; `None` for params without a filter.
fn refusal_key(method: &str, params: &Value) -> Option<String> {
    let filter = params.get("filter")?;
    Some(format!("{method} {}", local_filter::shape(filter)))
}

/// Whether `error` is a server's refusal of a list's filter: "not supported for filtering"
/// (80014 in TabJolt's names), a bad filter clause (21), or a bad parameter value (25, the
/// emulator's answer to a field it does not filter on). Any other error (permissions, a
/// session, a busy server) is no reason to read a whole list.
pub fn refuses_filter(error: &VizportalError) -> bool {
    use crate::wire::code;
    matches!(
        error.code(),
        Some(
            code::FILTER_FIELD_NOT_SUPPORTED | code::INVALID_FILTER_CLAUSES | code::BAD_PARAM_VALUE
        )
    )
}

/// How a change that failed with `error` is audited: `unknown` when it may have been
/// applied, `partial` when its errors name only some of the ids or targets sent (`failed`;
/// compared as a set, since a server may name one twice), else `failed`.
fn outcome_of_failure(error: &VizportalError, params: &Value, failed: &[String]) -> Outcome {
    let named = match params.get("targetIds") {
        Some(targets) => before::ids_of(&json!({ "ids": targets })),
        None => before::ids_of(params),
    };
    let refused: HashSet<&String> = failed.iter().collect();
    if error.is_outcome_unknown() {
        Outcome::Unknown
    } else if names_only(error, &named) && named.iter().any(|id| !refused.contains(id)) {
        Outcome::Partial
    } else {
        Outcome::Failed
    }
}

/// How many ids (or targets) a call's params name, if they name any.
fn ids_named(params: &Value) -> Option<usize> {
    ["ids", "targetIds"]
        .iter()
        .find_map(|key| params.get(*key).and_then(Value::as_array))
        .map(Vec::len)
}

/// For `-v`'s line about a change: how many ids or targets it named, if any.
fn ids_noted(params: &Value) -> String {
    ids_named(params).map_or(String::new(), |n| format!(" ({n} id(s))"))
}

/// Paging repeats a call, so only reads may page: a write is refused before anything is
/// sent.
fn only_reads_page(method: &str) -> Result<(), VizportalError> {
    if MethodKind::of(method) == MethodKind::Read {
        return Ok(());
    }
    Err(VizportalError::Usage(format!(
        "{method} is not a read (get...), so it cannot be paged through"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::WireError;

    #[test]
    fn only_an_error_about_the_filter_is_a_refused_filter() {
        let error = |code: i64| VizportalError::Api {
            method: "getExtractTasks".into(),
            status: 200,
            errors: vec![WireError {
                code: Some(code),
                id: None,
                message: Some("no".into()),
            }],
        };
        for code in [80014, 21, 25] {
            assert!(refuses_filter(&error(code)), "{code}");
        }
        // Permissions, an unexpected error, a session: no reason to read a whole list.
        for code in [1, 17, 46] {
            assert!(!refuses_filter(&error(code)), "{code}");
        }
    }
}

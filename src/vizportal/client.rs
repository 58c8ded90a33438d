//! The one gate every call passes: reads go straight to the session; mutations are held
//! back under dry-run (and recorded in the plan), audited, and sent with the retry policy
//! of their kind. Batch calls split ids into chunks and report per-id outcomes, so a
//! partially applied batch is never silent.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::audit::{AuditEntry, AuditLog, Outcome, redact_params};
use super::before;
use super::error::{ErrorClass, VizportalError};
use super::listing::{ConvertFn, ProgressFn, ReadFn};
use super::method::MethodKind;
use super::page_answer::{page_text, read_page};
use super::parallel::{Window, in_order};
use super::session::Session;
use crate::wire::{first_ids, id_text};

/// A mutating call that `--dry-run` held back.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedCall {
    /// The Vizportal method.
    pub method: String,
    /// The params that would have been sent.
    pub params: Value,
    /// How many ids the call names (0 when it names none).
    pub ids: usize,
    /// The site the call was made on (URL name, `""` = Default).
    pub site: String,
}

impl PlannedCall {
    /// Whether the calls of `plan` were held back on more than one site (a switch_site,
    /// an undo over sites): each line of the plan then says which.
    pub fn on_several_sites(plan: &[PlannedCall]) -> bool {
        plan.iter().any(|call| call.site != plan[0].site)
    }

    /// The plan as `run` and the REPL print it: one numbered line per call, with the
    /// number of ids and the first few of them, the other params, and the site first
    /// when `with_site` (runs over several sites). `--plan-json` has every id.
    pub fn render(plan: &[PlannedCall], with_site: bool) -> Vec<String> {
        const SHOWN: usize = 5;
        plan.iter()
            .enumerate()
            .map(|(n, call)| {
                let mut params = call.params.clone();
                let ids = params.as_object_mut().and_then(|map| {
                    let ids = map.remove("ids");
                    ids.or_else(|| map.remove("targetIds"))
                });
                let named_ids = ids.is_some();
                let shown = match ids {
                    Some(Value::Array(ids)) if !ids.is_empty() => {
                        let text = ids
                            .iter()
                            .map(|id| id_text(id).map_or_else(|| id.to_string(), String::from));
                        format!(" [{}]", first_ids(text, SHOWN))
                    }
                    _ => String::new(),
                };
                let site = if with_site {
                    format!("site {:?}: ", call.site)
                } else {
                    String::new()
                };
                // A call that names no ids (createSchedule, updateSchedule) says none; an
                // empty id list still shows.
                let ids = if named_ids {
                    format!(" {} ids", call.ids)
                } else {
                    String::new()
                };
                format!("{:>3}. {site}{}{ids}{shown} {}", n + 1, call.method, params)
            })
            .collect()
    }
}

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

/// The schedule changes the dry runs of one run planned, on every site (schedules are
/// shared by the sites): each with the plan it is in (a client's [`ServerPlan::join`]
/// number) and its place there.
#[derive(Debug, Default)]
pub struct ServerPlan(Mutex<Vec<(usize, usize, PlannedCall)>>);

impl ServerPlan {
    /// A number for a client's plan among the others.
    fn join(&self) -> usize {
        static PLANS: AtomicUsize = AtomicUsize::new(1);
        PLANS.fetch_add(1, Ordering::Relaxed)
    }
}

/// A schedule change planned by one of the run's dry runs, as [`Client::schedule_plan`]
/// lists them.
#[derive(Debug, Clone)]
pub struct PlannedChange {
    /// Whether the asking client planned it (else another site's dry run did).
    pub mine: bool,
    /// Its place in the plan of the client that planned it (from 0).
    pub at: usize,
    /// The call.
    pub call: PlannedCall,
}

/// What a dry run held back, with indexes its checks use on every call (a per-task loop
/// must not scan the whole plan each time).
#[derive(Debug, Default)]
struct Plan {
    calls: Vec<PlannedCall>,
    /// Where the schedule changes are among `calls`.
    schedule_changes: Vec<usize>,
    /// Extract tasks a planned deletion removes, with where the first such call is.
    deleted_tasks: HashMap<String, usize>,
    /// Schedules a planned deletion removes, with where the first such call is.
    deleted_schedules: HashMap<String, usize>,
    /// What planned creations made tasks for, (target type, target id, task type), with
    /// where and on which schedule.
    created_tasks: HashMap<(String, String, String), (usize, String)>,
    /// Extract tasks the plan moved: each move's place and schedule, in order.
    moved_tasks: HashMap<String, Vec<(usize, String)>>,
    /// Subscriptions the plan moved, as `moved_tasks` holds tasks.
    moved_subscriptions: HashMap<String, Vec<(usize, String)>>,
    /// Methods planned that no public source names (each is warned about once).
    unknown: HashSet<String>,
}

impl Plan {
    fn push(&mut self, call: PlannedCall) {
        let at = self.calls.len();
        if call.method == crate::wire::method::CREATE_EXTRACT_TASKS {
            let field = |key: &str| {
                call.params
                    .get(key)
                    .and_then(before::text)
                    .unwrap_or_default()
            };
            let (kind, task_type, on) = (field("targetType"), field("type"), field("scheduleId"));
            let targets = call.params.get("targetIds").and_then(Value::as_array);
            for target in targets.into_iter().flatten().filter_map(before::text) {
                let made = (kind.clone(), target, task_type.clone());
                self.created_tasks.insert(made, (at, on.clone()));
            }
        }
        let moves = match call.method.as_str() {
            crate::wire::method::SET_EXTRACT_TASKS_SCHEDULE => Some(&mut self.moved_tasks),
            crate::wire::method::SET_SUBSCRIPTIONS_SCHEDULE => Some(&mut self.moved_subscriptions),
            _ => None,
        };
        if let (Some(moves), Some(to)) =
            (moves, call.params.get("scheduleId").and_then(before::text))
        {
            for id in before::ids_of(&call.params) {
                moves.entry(id).or_default().push((at, to.clone()));
            }
        }
        if call.method == crate::wire::method::DELETE_SCHEDULES {
            for id in before::ids_of(&call.params) {
                self.deleted_schedules.entry(id).or_insert(at);
            }
        }
        if SCHEDULE_CHANGES.contains(&call.method.as_str()) {
            self.schedule_changes.push(at);
        }
        if call.method == crate::wire::method::DELETE_EXTRACT_TASKS {
            for id in before::ids_of(&call.params) {
                self.deleted_tasks.entry(id).or_insert(at);
            }
        }
        self.calls.push(call);
    }
}

/// The id a dry run gives a schedule that plan call `call` would create, for the calls
/// after it to name: `(new schedule of plan call 3)`.
pub fn planned_id(call: usize) -> String {
    format!("{PLANNED_PREFIX}{call})")
}

/// Whether `id` is a dry run's stand-in for a schedule it plans to create (see
/// [`planned_id`]; another site's carries its site too), not an id of the server's.
pub fn is_planned_id(id: &str) -> bool {
    id.starts_with(PLANNED_PREFIX)
}

/// How every [`planned_id`] begins.
const PLANNED_PREFIX: &str = "(new schedule of plan call ";

/// Methods whose planned calls change the schedules other sites see.
const SCHEDULE_CHANGES: [&str; 4] = [
    crate::wire::method::CREATE_SCHEDULE,
    crate::wire::method::SET_SCHEDULE_NAME,
    crate::wire::method::UPDATE_SCHEDULE,
    crate::wire::method::DELETE_SCHEDULES,
];

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
        let shared = shared.0.lock().unwrap_or_else(|p| p.into_inner());
        shared
            .iter()
            .map(|(number, at, call)| PlannedChange {
                mine: number == me,
                at: *at,
                call: call.clone(),
            })
            .collect()
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
            params: redact_params(params),
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
            let mut shared = shared.0.lock().unwrap_or_else(|p| p.into_inner());
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

    /// Under dry-run, the tasks and subscriptions a batch names that the server does not
    /// list fail as the real call would fail them, instead of passing as planned. (What
    /// `before` holds was read from the server; a schedule is checked by the script
    /// function, against the plan.)
    fn fail_the_absent(
        &self,
        method: &str,
        before: Option<&Map<String, Value>>,
        planned_before: usize,
        summary: &mut BatchSummary,
    ) {
        let failed = self.absent_under_dry_run(method, &summary.succeeded, before, planned_before);
        let gone: HashSet<&str> = failed.iter().map(|f| f.id.as_str()).collect();
        summary.succeeded.retain(|id| !gone.contains(id.as_str()));
        summary.failed.extend(failed);
    }

    /// Whether this dry run's plan creates a task of `task_type` for a target that is
    /// still there (its schedule not deleted since).
    pub fn plans_task_for(&self, (target_type, target_id, task_type): (&str, &str, &str)) -> bool {
        let plan = self.plan.lock().unwrap_or_else(|p| p.into_inner());
        let made = (
            target_type.to_string(),
            target_id.to_string(),
            task_type.to_string(),
        );
        plan.created_tasks
            .get(&made)
            .is_some_and(|(at, on)| plan.deleted_schedules.get(on).is_none_or(|gone| gone < at))
    }

    /// Forget the planned creations of these targets: the dry run failed them, so they
    /// make no task.
    pub fn unplan_tasks_for(&self, (target_type, task_type): (&str, &str), targets: &[String]) {
        let mut plan = self.plan.lock().unwrap_or_else(|p| p.into_inner());
        for target in targets {
            let made = (
                target_type.to_string(),
                target.clone(),
                task_type.to_string(),
            );
            plan.created_tasks.remove(&made);
        }
    }

    /// Those of `tasks` (id, the schedule the server shows it on) that this dry run's
    /// plan so far removes: deleted, or on a schedule it deleted.
    pub fn plan_removes_tasks<'t>(
        &self,
        tasks: impl Iterator<Item = (&'t str, Option<&'t str>)>,
    ) -> HashSet<String> {
        let planned = self.planned_calls();
        let gone = self.planned_schedule_deletions(planned);
        tasks
            .filter(|(id, on)| self.removed_by_plan(id, *on, planned, &gone))
            .map(|(id, _)| id.to_string())
            .collect()
    }

    /// Whether extract task `id`, which the server shows on `schedule`, is removed by the
    /// first `planned_before` calls of this dry run's plan: a deletion of it, or of the
    /// schedule it is on then (the server's, or the last one the plan moved it to), which
    /// are among `gone`.
    fn removed_by_plan(
        &self,
        id: &str,
        schedule: Option<&str>,
        planned_before: usize,
        gone: &HashSet<String>,
    ) -> bool {
        let plan = self.plan.lock().unwrap_or_else(|p| p.into_inner());
        if plan
            .deleted_tasks
            .get(id)
            .is_some_and(|at| *at < planned_before)
        {
            return true;
        }
        let moved = last_move(plan.moved_tasks.get(id), planned_before);
        moved.or(schedule).is_some_and(|s| gone.contains(s))
    }

    /// The schedule subscription `id` is on after the first `planned_before` calls of the
    /// plan: the last one it moved it to, else `listed` (the server's).
    fn subscription_schedule(
        &self,
        id: &str,
        listed: Option<&str>,
        planned_before: usize,
    ) -> Option<String> {
        let plan = self.plan.lock().unwrap_or_else(|p| p.into_inner());
        let moved = last_move(plan.moved_subscriptions.get(id), planned_before);
        moved.or(listed).map(str::to_string)
    }

    /// The schedules this dry run deleted in its first `planned_before` calls, and those
    /// the dry runs of the run's other sites deleted.
    fn planned_schedule_deletions(&self, planned_before: usize) -> HashSet<String> {
        let plan = self.plan.lock().unwrap_or_else(|p| p.into_inner());
        let mut gone: HashSet<String> = plan
            .deleted_schedules
            .iter()
            .filter(|(_, at)| **at < planned_before)
            .map(|(id, _)| id.clone())
            .collect();
        drop(plan);
        if let Some((shared, me)) = self.server_plan.get() {
            let shared = shared.0.lock().unwrap_or_else(|p| p.into_inner());
            let theirs = shared.iter().filter(|(number, _, call)| {
                number != me && call.method == crate::wire::method::DELETE_SCHEDULES
            });
            // Their stand-in ids name their own planned schedules, which this site's
            // tasks cannot be on.
            let real = |id: &String| !is_planned_id(id);
            gone.extend(
                theirs
                    .flat_map(|(_, _, call)| before::ids_of(&call.params))
                    .filter(real),
            );
        }
        gone
    }

    /// Under dry-run, those of `ids` that `method` (on extract tasks or subscriptions)
    /// would fail for, as the server would: not listed (`before`, when the caller read
    /// it, holds those that are), or extract tasks deleted by one of the first
    /// `planned_before` calls of the plan (those before this call).
    pub fn absent_under_dry_run(
        &self,
        method: &str,
        ids: &[String],
        before: Option<&Map<String, Value>>,
        planned_before: usize,
    ) -> Vec<ItemFailure> {
        use crate::wire::method::{CREATE_EXTRACT_TASKS, DELETE_EXTRACT_TASKS};
        // Every method on extract tasks by id reads them as a deletion does.
        let reader = if method == crate::wire::method::SET_SUBSCRIPTIONS_SCHEDULE {
            method
        } else if method.contains("ExtractTask") && method != CREATE_EXTRACT_TASKS {
            DELETE_EXTRACT_TASKS
        } else {
            return Vec::new();
        };
        if ids.is_empty() {
            return Vec::new();
        }
        // What the server lists, with each item's schedule.
        let listed: HashMap<String, Option<String>> = match before {
            // Values of a subscription move hold its schedule; those of a task's priority
            // do not, so tasks are read again.
            Some(values) if reader != DELETE_EXTRACT_TASKS => values
                .iter()
                .map(|(id, fields)| (id.clone(), fields.get("scheduleId").and_then(before::text)))
                .collect(),
            _ => {
                let Some(changes) = before::changes(reader) else {
                    return Vec::new();
                };
                match before::read(self, &changes, ids) {
                    Ok(values) => values
                        .into_iter()
                        .map(|(id, fields)| (id, fields.get("scheduleId").and_then(before::text)))
                        .collect(),
                    Err(e) => {
                        tracing::warn!("{method}: cannot check that the ids exist: {e}");
                        return Vec::new();
                    }
                }
            }
        };
        // Schedules the plans deleted take their tasks with them.
        let gone_schedules = self.planned_schedule_deletions(planned_before);
        // Extract tasks a call of the plan before this one deleted (they or their schedule,
        // the last one the plan moved them to) are gone by then; subscriptions go with
        // their schedule.
        let tasks = reader == DELETE_EXTRACT_TASKS;
        let why = |id: &String| match listed.get(id) {
            None => Some("the server does not list it".to_string()),
            Some(schedule)
                if tasks
                    && self.removed_by_plan(
                        id,
                        schedule.as_deref(),
                        planned_before,
                        &gone_schedules,
                    ) =>
            {
                Some("an earlier call of this dry run deletes it or its schedule".to_string())
            }
            Some(listed) if !tasks => {
                let on = self.subscription_schedule(id, listed.as_deref(), planned_before)?;
                gone_schedules.contains(&on).then(|| {
                    format!("its schedule {on} is deleted by an earlier call of this dry run")
                })
            }
            Some(_) => None,
        };
        ids.iter()
            .filter_map(|id| Some((id, why(id)?)))
            .map(|(id, why)| ItemFailure::under_dry_run(id, &why))
            .collect()
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
            params: redact_params(params),
            outcome,
            failed_ids: failed,
            error,
            before,
            created,
        });
        if !written {
            self.audit_lost.store(true, Ordering::SeqCst);
        }
    }
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

/// Whether every error of `error` names one of `ids`: the call failed for those and was
/// applied to the others. An error naming an id the call was not given (or none) makes
/// the whole call's outcome the error.
fn names_only(error: &VizportalError, ids: &[String]) -> bool {
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

fn failed_ids(error: &VizportalError) -> Vec<String> {
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

/// Where the last of `moves` (each a plan place and a schedule) before place
/// `planned_before` took its item.
fn last_move(moves: Option<&Vec<(usize, String)>>, planned_before: usize) -> Option<&str> {
    let before = moves?.iter().rev().find(|(at, _)| *at < planned_before);
    before.map(|(_, to)| to.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::WireError;

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

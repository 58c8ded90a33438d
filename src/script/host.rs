//! What script functions reach through the engine's tag: the gated client (absent when no
//! server is connected, e.g. for `vizscript functions`), the output sink for `print` and
//! `table`, and whether to draw progress bars.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

use rhai::{Dynamic, EvalAltResult, Map, NativeCallContext, Position};
use serde_json::Value;

use super::convert;
use super::error::{batch_error, raise, summary_map, usage};
use super::progress::Progress;
use super::record::PageReader;
use crate::vizportal::{BatchSummary, Client, ConvertFn, SideTables, page_text, read_page};

/// Where script output goes (stdout in the CLI, a buffer in tests).
pub type Output = Arc<dyn Fn(&str) + Send + Sync>;

/// The state behind every script function.
pub struct Host {
    /// Set at creation or once later ([`Host::attach`]): `run` checks a script with the
    /// engine it will run it with, before signing in.
    client: OnceLock<Arc<Client>>,
    output: Output,
    progress: bool,
    /// Set by Ctrl-C; long waits inside a function look at it.
    cancel: OnceLock<Arc<AtomicBool>>,
    /// What `debug` lines start with when runs of several sites share stderr.
    label: OnceLock<String>,
    /// The evaluation's memory budget (`--max-memory`).
    memory: OnceLock<Arc<crate::script::memory::Budget>>,
}

impl Host {
    /// A host for a connected client.
    pub fn new(client: Option<Arc<Client>>, output: Output, progress: bool) -> Arc<Host> {
        let slot = OnceLock::new();
        if let Some(client) = client {
            let _ = slot.set(client);
        }
        Arc::new(Host {
            client: slot,
            output,
            progress,
            cancel: OnceLock::new(),
            label: OnceLock::new(),
            memory: OnceLock::new(),
        })
    }

    /// Name the run in its `debug` lines (`site "finance"`): sites run at once share
    /// stderr.
    pub fn label(&self, label: String) {
        let _ = self.label.set(label);
    }

    /// A script's `debug` line, on stderr.
    pub fn debug(&self, text: &str, source: Option<&str>, pos: Position) {
        let label = self
            .label
            .get()
            .map(|l| format!(" {l}"))
            .unwrap_or_default();
        match pos.line() {
            Some(line) => crate::diag!(
                "debug{label} [{}:{line}]: {text}",
                source.unwrap_or("script")
            ),
            None => crate::diag!("debug{label}: {text}"),
        }
    }

    /// Connect a host made without a client; a host that has one keeps it (false).
    pub fn attach(&self, client: Arc<Client>) -> bool {
        if let Some(cancel) = self.cancel.get() {
            client.stop_when(cancel.clone());
        }
        self.client.set(client).is_ok()
    }

    /// The flag that Ctrl-C sets for the engine this host serves; the client's batches
    /// stop between chunks when it is set.
    pub fn watch_cancel(&self, cancel: Arc<AtomicBool>) {
        if let Some(client) = self.client.get() {
            client.stop_when(cancel.clone());
        }
        let _ = self.cancel.set(cancel);
    }

    /// Check the evaluation's heap against `budget` where a function builds large data.
    pub fn watch_memory(&self, budget: Arc<crate::script::memory::Budget>) {
        let _ = self.memory.set(budget);
    }

    /// Whether the evaluation's heap grew past its budget: functions that build large
    /// data in one call ask as they go, and stop with [`out_of_memory`].
    pub fn over_budget(&self) -> bool {
        self.memory.get().is_some_and(|b| b.exceeded())
    }

    /// True once the run was interrupted.
    pub fn cancelled(&self) -> bool {
        self.cancel
            .get()
            .is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// The host installed in the engine running this call.
    pub fn of(ctx: &NativeCallContext) -> Result<Arc<Host>, Box<EvalAltResult>> {
        ctx.tag()
            .and_then(|tag| tag.read_lock::<Arc<Host>>().map(|h| h.clone()))
            .ok_or_else(|| usage("this engine has no vizscript host", ctx.call_position()))
    }

    /// Write a line of script output.
    pub fn print(&self, text: &str) {
        (self.output)(text);
    }

    /// The connected client, or a usage error when there is none.
    pub fn client(&self, pos: Position) -> Result<&Client, Box<EvalAltResult>> {
        self.client.get().map(|c| &**c).ok_or_else(|| {
            usage(
                "not connected to a server (run with --server or --demo)",
                pos,
            )
        })
    }

    /// Call one method through the gate.
    pub fn call(
        &self,
        pos: Position,
        method: &str,
        params: Value,
    ) -> Result<Value, Box<EvalAltResult>> {
        let client = self.client(pos)?;
        // The ids the call names, for a partly failed batch's report.
        let ids = BatchSummary::ids_named_by(&params);
        client.call(method, params).map_err(|e| {
            // A batch method that failed for some ids only: say which were applied.
            match BatchSummary::of_partial_call(method, ids, e) {
                Ok(summary) => batch_error(method, &summary, pos),
                Err(e) => raise(&e, pos),
            }
        })
    }

    /// Call one method; its `result` (always an object) as a map.
    pub fn call_map(
        &self,
        pos: Position,
        method: &str,
        params: Value,
    ) -> Result<Map, Box<EvalAltResult>> {
        // A call made by name (`vizportal()`, `vp::`) is checked under dry-run as the
        // helpers' calls are.
        let _turn =
            crate::script::planned_schedules::check_call(self, pos, method, method, &params)?;
        let client = self.client(pos)?;
        let (ids, planned_before, absent) = match client.dry_run() {
            true => {
                let ids = crate::vizportal::ids_of(&params);
                let absent = crate::script::planned_schedules::absent(self, pos, method, &ids)?;
                (ids, client.planned_calls(), absent)
            }
            false => (Vec::new(), 0, Vec::new()),
        };
        let mut answer = self.call(pos, method, params)?;
        if answer.get("dry_run").is_some() {
            let mut summary = crate::vizportal::BatchSummary::of(ids.len(), true);
            summary.succeeded = ids.clone();
            let gone = client.absent_under_dry_run(method, &ids, None, planned_before);
            crate::script::planned_schedules::fail_in(&mut summary, gone);
            crate::script::planned_schedules::fail_in(&mut summary, absent);
            Host::summary_or_error(method, &summary, pos)?;
            // A schedule created by name gets the stand-in id the helpers' does.
            if method == crate::wire::method::CREATE_SCHEDULE
                && let Value::Object(fields) = &mut answer
            {
                let id = crate::vizportal::planned_id(client.planned_calls());
                fields.insert("id".into(), Value::String(id));
            }
        }
        match answer {
            Value::Object(fields) => Ok(convert::to_map(fields)),
            _ => Ok(Map::new()),
        }
    }

    /// Every page of a list method, with an optional filter; `convert` turns each
    /// page's items into script values as the page arrives.
    pub fn list(
        &self,
        pos: Position,
        method: &str,
        items_key: &str,
        filter: Option<&Map>,
        convert: ConvertFn<'_, Dynamic, Dynamic>,
    ) -> Result<Vec<Dynamic>, Box<EvalAltResult>> {
        let client = self.client(pos)?;
        let params = filter_params(filter, pos)?;
        let bar = Progress::start(self.progress, method);
        let report = |done: usize, total: Option<usize>| bar.update(done, total);
        client
            .list_all(method, &params, items_key, convert, &report)
            .map_err(|e| raise(&e, pos))
    }

    /// Every page of a list method as compact records (see [`crate::script::record`]),
    /// with the fields `with` present (empty when the server sends none) and `finish`
    /// run on each page's records with that page's side tables.
    pub fn list_records(
        &self,
        pos: Position,
        method: &str,
        items_key: &str,
        filter: Option<&Map>,
        with: &[&'static str],
        finish: &(dyn Fn(&mut [Dynamic], SideTables) + Sync),
    ) -> Result<Vec<Dynamic>, Box<EvalAltResult>> {
        let client = self.client(pos)?;
        let params = filter_params(filter, pos)?;
        self.read_records(client, method, items_key, &params, (with, finish))
            .map_err(|e| raise(&e, pos))
    }

    /// As [`Host::list_records`], for the client's own reads of the items a call names
    /// (tasks run and waited for, tasks made read back): a server that refuses the filter
    /// (see [`crate::vizportal::refuses_filter`]) gets the whole list read, and `filter`
    /// (all of its fields equal, an array meaning any of) is applied here.
    pub fn list_records_named(
        &self,
        pos: Position,
        method: &str,
        items_key: &str,
        filter: &Map,
        late: PageFill<'_>,
    ) -> Result<Vec<Dynamic>, Box<EvalAltResult>> {
        let client = self.client(pos)?;
        let params = filter_params(Some(filter), pos)?;
        if !client.refuses(method, &params) {
            match self.read_records(client, method, items_key, &params, late) {
                Err(e) if crate::vizportal::refuses_filter(&e) => {}
                read => return read.map_err(|e| raise(&e, pos)),
            }
        }
        let whole = serde_json::json!({});
        let all = self
            .read_records(client, method, items_key, &whole, late)
            .map_err(|e| raise(&e, pos))?;
        // For the rest of the session, as `Client::list_filtered` remembers a refusal.
        client.note_refused(method, &params);
        Ok(all
            .into_iter()
            .filter(|item| all_equal(item, filter))
            .collect())
    }

    /// Every page of `method` called with `params`, each item a record with the fields
    /// `late.0` that `late.1` fills in from the page's side tables.
    fn read_records(
        &self,
        client: &Client,
        method: &str,
        items_key: &str,
        params: &Value,
        (with, finish): PageFill<'_>,
    ) -> Result<Vec<Dynamic>, crate::vizportal::VizportalError> {
        let bar = Progress::start(self.progress, method);
        let report = |done: usize, total: Option<usize>| bar.update(done, total);
        let read = |body: &bytes::Bytes, items_key: &str| {
            let text = page_text(body, items_key)?;
            let mut reader = PageReader::new(with, text.len());
            let mut page = read_page(text, items_key, reader.seed())?;
            finish(&mut page.items, std::mem::take(&mut page.side));
            Ok(page)
        };
        client.list_all_read(method, params, items_key, &read, &report)
    }

    /// Every page of a list method called with `params` (`filter`, `order`), as maps.
    pub fn list_with(
        &self,
        pos: Position,
        method: &str,
        items_key: &str,
        params: &Value,
    ) -> Result<Vec<Dynamic>, Box<EvalAltResult>> {
        let client = self.client(pos)?;
        let bar = Progress::start(self.progress, method);
        let report = |done: usize, total: Option<usize>| bar.update(done, total);
        let convert = |items: Vec<Value>, _: &SideTables| {
            items.into_iter().map(convert::to_dynamic).collect()
        };
        client
            .list_all(method, params, items_key, &convert, &report)
            .map_err(|e| raise(&e, pos))
    }

    /// Call one method through the gate; its audit line carries `before`.
    pub fn call_noting(
        &self,
        pos: Position,
        method: &str,
        params: Value,
        before: Value,
    ) -> Result<Value, Box<EvalAltResult>> {
        self.client(pos)?
            .call_noting(method, params, Some(before))
            .map_err(|e| raise(&e, pos))
    }

    /// Every item of a list method as an array of maps.
    pub fn list_items(
        &self,
        pos: Position,
        method: &str,
        items_key: &str,
        filter: Option<&Map>,
    ) -> Result<rhai::Array, Box<EvalAltResult>> {
        let plain = |items: Vec<Dynamic>, _: &SideTables| items;
        self.list(pos, method, items_key, filter, &plain)
    }

    /// Every page of any list method, merged into one `result` map; the items member is
    /// the catalogue's when the method is known.
    pub fn all_pages(
        &self,
        pos: Position,
        method: &str,
        params: Value,
    ) -> Result<Map, Box<EvalAltResult>> {
        let client = self.client(pos)?;
        let items = crate::wire::known_method(method).and_then(|m| m.items);
        let bar = Progress::start(self.progress, method);
        let report = |done: usize, total: Option<usize>| bar.update(done, total);
        client
            .session()
            .all_pages(method, &params, items, &report)
            .map(convert::to_map)
            .map_err(|e| raise(&e, pos))
    }

    /// Whether progress bars are drawn.
    pub fn shows_progress(&self) -> bool {
        self.progress
    }

    /// A batch method over `ids`, chunked; raises when any id failed.
    pub fn batch(
        &self,
        pos: Position,
        method: &str,
        ids: &Dynamic,
        extra: serde_json::Map<String, Value>,
    ) -> Result<Map, Box<EvalAltResult>> {
        let summary = self.batch_summary(pos, method, "ids", ids, extra, None)?;
        Self::summary_or_error(method, &summary, pos)
    }

    /// A batch method's summary, not raised: ids go under `ids_key`, and each id's
    /// values before the call (`before`, by id) go into the audit.
    pub fn batch_summary(
        &self,
        pos: Position,
        method: &str,
        ids_key: &str,
        ids: &Dynamic,
        extra: serde_json::Map<String, Value>,
        before: Option<&serde_json::Map<String, Value>>,
    ) -> Result<BatchSummary, Box<EvalAltResult>> {
        let client = self.client(pos)?;
        let ids =
            convert::ids_for(method, ids).map_err(|m| usage(format!("{method}: {m}"), pos))?;
        let bar = Progress::start(self.progress && ids.len() > 1, method);
        let report = |done: usize, total: usize| bar.update(done, Some(total));
        let absent = crate::script::planned_schedules::absent(self, pos, method, &ids)?;
        let mut summary = client.batch_noting(method, ids_key, ids, extra, before, &report);
        crate::script::planned_schedules::fail_in(&mut summary, absent);
        if self.cancelled() {
            // Interrupted between chunks: say what was done, then end as interrupted.
            crate::diag!(
                "{method}: interrupted: applied to {} of {} id(s); {} not sent, {} refused, {} of unknown outcome (sent, answer lost)",
                summary.succeeded.len(),
                summary.requested,
                summary.skipped.len(),
                summary.failed.len(),
                summary.unknown.len()
            );
            return Err(EvalAltResult::ErrorTerminated("interrupted".into(), pos).into());
        }
        Ok(summary)
    }

    /// The summary map, or the error a batch with failed ids raises.
    pub fn summary_or_error(
        method: &str,
        summary: &BatchSummary,
        pos: Position,
    ) -> Result<Map, Box<EvalAltResult>> {
        if summary.failed.is_empty() && summary.error.is_none() {
            Ok(summary_map(summary))
        } else {
            Err(batch_error(method, summary, pos))
        }
    }
}

/// The params of a list call with an optional filter (see [`convert::filter`]).
fn filter_params(filter: Option<&Map>, pos: Position) -> Result<Value, Box<EvalAltResult>> {
    let mut params = serde_json::Map::new();
    if let Some(filter) = filter {
        params.insert(
            "filter".into(),
            convert::filter(filter).map_err(|m| usage(m, pos))?,
        );
    }
    Ok(Value::Object(params))
}

/// The error of an evaluation stopped for its memory (`--max-memory`) inside a function.
pub fn out_of_memory(pos: Position) -> Box<EvalAltResult> {
    EvalAltResult::ErrorTerminated(Dynamic::from(crate::script::engine::OUT_OF_MEMORY), pos).into()
}

/// Whether every field of `filter` equals `item`'s (an array: any of its values), as
/// text, as the server compares ids given as strings or numbers.
fn all_equal(item: &Dynamic, filter: &Map) -> bool {
    filter.iter().all(|(field, wanted)| {
        let Some(have) = crate::script::record::field(item, field) else {
            return false;
        };
        let have = have.to_string();
        match wanted.read_lock::<rhai::Array>() {
            Some(values) => values.iter().any(|v| v.to_string() == have),
            None => wanted.to_string() == have,
        }
    })
}

/// Fields records get from their page's side tables: their names, and what fills them in.
type PageFill<'a> = (
    &'a [&'static str],
    &'a (dyn Fn(&mut [Dynamic], SideTables) + Sync),
);

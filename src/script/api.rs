//! The script API (README.md and docs/scripting.md): Vizportal calls as Rhai functions. Doc comments here are
//! what `vizscript functions`, `docs/scripting.md` and the REPL's `:help` show.

use rhai::plugin::*;

#[export_module]
pub mod vizportal_api {
    use rhai::{Array, Dynamic, EvalAltResult, Map, NativeCallContext};
    use serde_json::{Value, json};

    use crate::script::convert;
    use crate::script::error::usage;
    use crate::script::host::Host;
    use crate::wire::method;

    type Out<T> = Result<T, Box<EvalAltResult>>;

    /// Call any Vizportal method with a params map and return its `result` map. Mutating
    /// methods pass the same gate as the helpers: `--dry-run` (with the helpers' checks of
    /// schedules and ids), `--audit` and the retry policy apply. A batch method (`ids`) that fails for some ids only raises an error
    /// that also carries `succeeded`, `failed` and `skipped`, as the helpers' do.
    ///
    /// ```rhai
    /// let r = vizportal("getSchedules", #{ page: #{ startIndex: 0, maxItems: 5 } });
    /// print(`${r.totalCount} schedules`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn vizportal(ctx: NativeCallContext, method: &str, params: Map) -> Out<Map> {
        let pos = ctx.call_position();
        let params = convert::to_json(&Dynamic::from_map(params)).map_err(|m| usage(m, pos))?;
        Host::of(&ctx)?.call_map(pos, method, params)
    }

    /// Call a Vizportal method that takes no params.
    ///
    /// ```rhai
    /// let info = vizportal("getSessionInfo");
    /// print(info.user.username);
    /// ```
    #[rhai_fn(name = "vizportal", return_raw)]
    pub fn vizportal_no_params(ctx: NativeCallContext, method: &str) -> Out<Map> {
        let pos = ctx.call_position();
        Host::of(&ctx)?.call_map(pos, method, json!({}))
    }

    /// Whether changes are held back (`--dry-run`, or `:dry-run on` in the REPL): a script
    /// that keeps its own state (a file) can leave it alone in a dry run.
    ///
    /// ```rhai
    /// if !is_dry_run() { save_json("done.json", #{ at: now_utc() }); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn is_dry_run(ctx: NativeCallContext) -> Out<bool> {
        let pos = ctx.call_position();
        Ok(Host::of(&ctx)?.client(pos)?.dry_run())
    }

    /// The session's user, site and server (`getSessionInfo`).
    ///
    /// ```rhai
    /// let s = session_info();
    /// print(`${s.user.username} on ${s.site.name}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn session_info(ctx: NativeCallContext) -> Out<Map> {
        vizportal_no_params(ctx, method::GET_SESSION_INFO)
    }

    /// Switch the session to another site by URL name (`""` = Default) and return the new
    /// session info. The session's cookies rotate; later calls work on the new site (the
    /// site it is on already: nothing changes, and its session info comes back). A
    /// site that does not exist (or the user is not a member of) raises a `session` error
    /// for `switchSite`, and later calls still work on the site before (a token session
    /// signs in there again); uncaught, it exits 3 as an unknown site at sign-in does. A
    /// token session goes to another site by signing in anew with the token, so a saved
    /// token session needs its secret given (`--token-file` or `TABLEAU_PAT_SECRET`).
    ///
    /// ```rhai
    /// switch_site("finance");
    /// print(session_info().site.name);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn switch_site(ctx: NativeCallContext, url_name: &str) -> Out<Map> {
        let pos = ctx.call_position();
        Host::of(&ctx)?.call_map(pos, method::SWITCH_SITE, json!({ "urlName": url_name }))
    }

    /// All sites the user can reach, as maps with `name` and `urlName`
    /// (`getSiteNamesAcrossAllPods`, every page).
    ///
    /// ```rhai
    /// for s in sites() { print(`${s.name} (${s.urlName})`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn sites(ctx: NativeCallContext) -> Out<Array> {
        Host::of(&ctx)?.list_items(
            ctx.call_position(),
            method::GET_SITE_NAMES_ACROSS_ALL_PODS,
            "siteNames",
            None,
        )
    }

    /// Every extract refresh task (`getExtractTasks`, every page). Each task keeps the wire
    /// fields (`id`, `priority`, `type`, `scheduleId`, `targetId`, `targetType`,
    /// `lastRunAt`, `runNextAt`, ...) and also carries `scheduleName`, `targetName` and
    /// `siteName`. Tasks are compact maps (100,000 fit in about 53 MiB) that do what a
    /// map does: `t.field`, `t["field"]`, `"field" in t`, `t.keys()`, assignment, `==`,
    /// `+` and `+=` with maps, `get`, `set`, `filter`, `to_json`, `table`, and
    /// `contains`/`index_of` on an array of them; `remove`, `clear`, `retain`, `drain` and
    /// `fill_with` turn the task into an ordinary map first, as `t.to_map()` does.
    ///
    /// ```rhai
    /// let tasks = extract_tasks();
    /// print(`${tasks.len()} tasks`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn extract_tasks(ctx: NativeCallContext) -> Out<Array> {
        super::tasks_with_names(&ctx, None)
    }

    /// Extract tasks matching a filter: a plain map means "all fields equal"
    /// (`#{scheduleId: "4"}`); a map with `operator` is sent as a Vizportal filter.
    ///
    /// ```rhai
    /// let on_four = extract_tasks(#{ scheduleId: "4" });
    /// ```
    #[rhai_fn(name = "extract_tasks", return_raw)]
    pub fn extract_tasks_where(ctx: NativeCallContext, filter: Map) -> Out<Array> {
        super::tasks_with_names(&ctx, Some(&filter))
    }

    /// Every schedule on the server (`getSchedules`, every page): `id`, `name`,
    /// `scheduledAction` (`Extract` or `Subscription`), `scheduleType`, `priority`,
    /// `taskCount`, `runNextAt`, ... Schedules belong to the whole server: `taskCount`
    /// may count the tasks and subscriptions of every site, so count one site's with
    /// `extract_tasks(#{ scheduleId: s.id }).len()`. `enabled` says whether it runs; from
    /// a server that does not show it, it is whether the schedule shows a `runNextAt`.
    ///
    /// ```rhai
    /// for s in schedules() { print(`${s.name}: ${s.taskCount} tasks`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn schedules(ctx: NativeCallContext) -> Out<Array> {
        let listed = Host::of(&ctx)?.list_items(
            ctx.call_position(),
            method::GET_SCHEDULES,
            "schedules",
            None,
        )?;
        Ok(super::with_enabled(listed))
    }

    /// Schedules matching a filter.
    ///
    /// ```rhai
    /// let extract_schedules = schedules(#{ scheduledAction: "Extract" });
    /// ```
    #[rhai_fn(name = "schedules", return_raw)]
    pub fn schedules_where(ctx: NativeCallContext, filter: Map) -> Out<Array> {
        let listed = Host::of(&ctx)?.list_items(
            ctx.call_position(),
            method::GET_SCHEDULES,
            "schedules",
            Some(&filter),
        )?;
        Ok(super::with_enabled(listed))
    }

    /// Move extract tasks to a schedule (`setExtractTasksSchedule`), in as few requests as
    /// the chunk size allows. `ids` is one id or an array of ids or task maps. Under
    /// dry-run the schedule is read first: one that does not exist or is not an Extract
    /// schedule is refused, as the server would refuse it. Returns a
    /// summary `#{requested, succeeded, failed, skipped, unknown, dry_run}` (`unknown`: ids
    /// of a request whose answer was lost, which may or may not have been applied); raises
    /// a `vizportal` error carrying the same lists when any id failed, or a `transport`
    /// one with `outcome: "unknown"` when an answer was lost.
    ///
    /// ```rhai
    /// let ids = extract_tasks(#{ scheduleId: "4" }).map(|t| t.id);
    /// let r = set_extract_tasks_schedule(ids, "7");
    /// print(`moved ${r.succeeded.len()} tasks`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn set_extract_tasks_schedule(
        ctx: NativeCallContext,
        ids: Dynamic,
        schedule_id: Dynamic,
    ) -> Out<Map> {
        super::batch_with(
            &ctx,
            method::SET_EXTRACT_TASKS_SCHEDULE,
            &ids,
            "scheduleId",
            &schedule_id,
        )
    }

    /// Set the priority (1 = first, 100 = last) of extract tasks
    /// (`setExtractTasksPriority`), batched like `set_extract_tasks_schedule`. `priority`
    /// is a whole number from 1 to 100, or a string holding one (as `ARGS` gives it);
    /// anything else is refused before a request is sent.
    ///
    /// ```rhai
    /// set_extract_tasks_priority(["12", "13"], 10);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn set_extract_tasks_priority(
        ctx: NativeCallContext,
        ids: Dynamic,
        priority: Dynamic,
    ) -> Out<Map> {
        let pos = ctx.call_position();
        let given = priority
            .as_int()
            .ok()
            .or_else(|| priority.clone().into_string().ok()?.trim().parse().ok())
            .filter(|p| crate::wire::schedule::PRIORITY_RANGE.contains(p));
        let Some(priority) = given else {
            return Err(usage(
                format!(
                    "set_extract_tasks_priority: priority must be a whole number from 1 to 100, not {}",
                    crate::script::record::shown(&priority)
                ),
                pos,
            ));
        };
        let mut extra = serde_json::Map::new();
        extra.insert("priority".into(), Value::from(priority));
        Host::of(&ctx)?.batch(
            ctx.call_position(),
            method::SET_EXTRACT_TASKS_PRIORITY,
            &ids,
            extra,
        )
    }

    /// Run extract tasks now (`runExtractTasks`). Never retried once the request may have
    /// reached the server: an ambiguous failure raises an error with `outcome: "unknown"`.
    ///
    /// ```rhai
    /// run_extract_tasks(["12"]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn run_extract_tasks(ctx: NativeCallContext, ids: Dynamic) -> Out<Map> {
        Host::of(&ctx)?.batch(
            ctx.call_position(),
            method::RUN_EXTRACT_TASKS,
            &ids,
            serde_json::Map::new(),
        )
    }

    /// Delete extract tasks (`deleteExtractTasks`).
    ///
    /// ```rhai
    /// delete_extract_tasks("12");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn delete_extract_tasks(ctx: NativeCallContext, ids: Dynamic) -> Out<Map> {
        Host::of(&ctx)?.batch(
            ctx.call_position(),
            method::DELETE_EXTRACT_TASKS,
            &ids,
            serde_json::Map::new(),
        )
    }

    /// Every subscription on the site (`getSubscriptions`, every page).
    ///
    /// ```rhai
    /// for s in subscriptions() { print(s.subject); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn subscriptions(ctx: NativeCallContext) -> Out<Array> {
        Host::of(&ctx)?.list_items(
            ctx.call_position(),
            method::GET_SUBSCRIPTIONS,
            "subscriptions",
            None,
        )
    }

    /// Subscriptions matching a filter.
    ///
    /// ```rhai
    /// let mine = subscriptions(#{ scheduleId: "9" });
    /// ```
    #[rhai_fn(name = "subscriptions", return_raw)]
    pub fn subscriptions_where(ctx: NativeCallContext, filter: Map) -> Out<Array> {
        Host::of(&ctx)?.list_items(
            ctx.call_position(),
            method::GET_SUBSCRIPTIONS,
            "subscriptions",
            Some(&filter),
        )
    }

    /// Move subscriptions to a subscription schedule (`setSubscriptionsSchedule`), batched.
    ///
    /// ```rhai
    /// set_subscriptions_schedule(["3", "4"], "9");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn set_subscriptions_schedule(
        ctx: NativeCallContext,
        ids: Dynamic,
        schedule_id: Dynamic,
    ) -> Out<Map> {
        super::batch_with(
            &ctx,
            method::SET_SUBSCRIPTIONS_SCHEDULE,
            &ids,
            "scheduleId",
            &schedule_id,
        )
    }

    /// Every workbook on the site (`getWorkbooks`, every page).
    ///
    /// ```rhai
    /// print(workbooks().len());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn workbooks(ctx: NativeCallContext) -> Out<Array> {
        Host::of(&ctx)?.list_items(
            ctx.call_position(),
            method::GET_WORKBOOKS,
            "workbooks",
            None,
        )
    }

    /// Every data source on the site (`getDatasources`, every page).
    ///
    /// ```rhai
    /// print(datasources().len());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn datasources(ctx: NativeCallContext) -> Out<Array> {
        Host::of(&ctx)?.list_items(
            ctx.call_position(),
            method::GET_DATASOURCES,
            "datasources",
            None,
        )
    }

    /// Every project on the site (`getProjects`, every page).
    ///
    /// ```rhai
    /// for p in projects() { print(p.name); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn projects(ctx: NativeCallContext) -> Out<Array> {
        Host::of(&ctx)?.list_items(ctx.call_position(), method::GET_PROJECTS, "projects", None)
    }

    /// Every user of the site (`getUsers`, every page).
    ///
    /// ```rhai
    /// for u in users() { print(`${u.username}: ${u.siteRole}`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn users(ctx: NativeCallContext) -> Out<Array> {
        Host::of(&ctx)?.list_items(ctx.call_position(), method::GET_USERS, "users", None)
    }
}

use rhai::{Array, Dynamic, EvalAltResult, ImmutableString, Map};
use serde_json::Value;

use std::sync::{Arc, OnceLock};

use crate::script::record::{LateFields, Record};
use crate::vizportal::{SideTables, TASK_NAME_FIELDS, TaskNames};
use crate::wire::method;

use crate::script::convert;
use crate::script::error::usage;
use crate::script::host::Host;

type Out<T> = Result<T, Box<EvalAltResult>>;

pub(super) fn batch_with(
    ctx: &NativeCallContext,
    method: &str,
    ids: &Dynamic,
    key: &str,
    value: &Dynamic,
) -> Out<Map> {
    let pos = ctx.call_position();
    let id = convert::id_for(method, key, value)
        .map_err(|m| usage(format!("{method}: {key}: {m}"), pos))?;
    let host = Host::of(ctx)?;
    if host.client(pos)?.dry_run() {
        // The ids too: a batch of none sends nothing, so nothing is checked. (A move takes
        // no turn: see `Client::schedule_change_turn`.)
        let named = convert::ids(ids).unwrap_or_default();
        if !named.is_empty() {
            let asked = serde_json::json!({ key: id, "ids": named });
            super::planned_schedules::check_call(&host, pos, method, method, &asked)?;
        }
    }
    let mut extra = serde_json::Map::new();
    extra.insert(key.into(), Value::String(id));
    host.batch(pos, method, ids, extra)
}

pub(crate) fn tasks_with_names(ctx: &NativeCallContext, filter: Option<&Map>) -> Out<Array> {
    let pos = ctx.call_position();
    Host::of(ctx)?.list_records(
        pos,
        method::GET_EXTRACT_TASKS,
        "tasks",
        filter,
        &TASK_NAME_FIELDS,
        &join_names,
    )
}

/// The tasks a call names (by `id`, or by target), with their names: as
/// [`tasks_with_names`], but a server that does not filter on those fields gets the whole
/// list read (see [`Host::list_records_named`]).
pub(crate) fn named_tasks(ctx: &NativeCallContext, filter: &Map) -> Out<Array> {
    Host::of(ctx)?.list_records_named(
        ctx.call_position(),
        method::GET_EXTRACT_TASKS,
        "tasks",
        filter,
        (&TASK_NAME_FIELDS, &join_names),
    )
}

/// Tasks of one page get the names their ids stand for ([`TASK_NAME_FIELDS`]), looked up
/// in the page's side tables ([`TaskNames`]) when a script first reads one.
fn join_names(tasks: &mut [Dynamic], side: SideTables) {
    let names: Arc<dyn LateFields> = Arc::new(PageNames {
        side,
        names: OnceLock::new(),
    });
    // The tasks of a page share it, and with it the names.
    if let Some(record) = tasks.iter().find_map(|task| task.read_lock::<Record>()) {
        record.set_page_late(names);
    }
}

/// One page's side tables, made into name lookups when the first name is read; each
/// name is then one shared string for the page.
struct PageNames {
    side: SideTables,
    names: OnceLock<TaskNames<Dynamic>>,
}

impl LateFields for PageNames {
    fn fields(&self) -> &[&'static str] {
        &TASK_NAME_FIELDS
    }

    fn value(&self, record: &Record, field: &str) -> Dynamic {
        let names = self.names.get_or_init(|| {
            TaskNames::new(&self.side, |name| {
                Dynamic::from(ImmutableString::from(name))
            })
        });
        names
            .field(field, |key| convert::one_id(&record.get(key)?).ok())
            .unwrap_or(Dynamic::UNIT)
    }
}

/// Schedules as a server that does not show `enabled` lists them, with `enabled` read from
/// whether each shows a next run (see [`crate::wire::schedule::enabled_of`]): scripts ask
/// `s.enabled` whatever the server. A server that shows it is left as it is.
fn with_enabled(schedules: Array) -> Array {
    schedules
        .into_iter()
        .map(|schedule| {
            let shown = crate::script::record::field(&schedule, "enabled");
            if shown.is_some_and(|enabled| !enabled.is_unit()) {
                return schedule;
            }
            let (Some(mut fields), Ok(Value::Object(wire))) = (
                crate::script::record::as_map(&schedule),
                convert::to_json(&schedule),
            ) else {
                return schedule;
            };
            let enabled = crate::wire::schedule::enabled_of(&wire);
            fields.insert("enabled".into(), enabled.into());
            Dynamic::from_map(fields)
        })
        .collect()
}

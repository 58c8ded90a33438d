//! `all_pages`: every page of any list method, for methods no typed function covers.

use rhai::plugin::*;

#[export_module]
pub mod pages_api {
    use rhai::{Dynamic, EvalAltResult, Map, NativeCallContext};
    use serde_json::json;

    use crate::script::convert;
    use crate::script::error::usage;
    use crate::script::host::Host;

    /// Every page of a list method (`get...` methods that answer `totalCount` and
    /// `moreItems`), fetched like the typed lists (the rest a few pages at a time once the
    /// total is known) and returned as one `result` map shaped like a single page: each
    /// array member holds the items of every page, side tables such as `schedules` or
    /// `workbooks` keep each id once, `totalCount` counts the merged items and `moreItems`
    /// is false. A read whose answer holds no list comes back as it is, in one call. A
    /// method that is not a read is refused before anything is sent.
    ///
    /// ```rhai
    /// let views = all_pages("getViews").views;
    /// print(`${views.len()} views`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn all_pages(ctx: NativeCallContext, method: &str) -> Result<Map, Box<EvalAltResult>> {
        Host::of(&ctx)?.all_pages(ctx.call_position(), method, json!({}))
    }

    /// Every page of a list method with params (`filter`, `order`; `page` is set for
    /// you). A `filter` may be a Vizportal filter map or, as for `extract_tasks`, a map of
    /// field to value (all equal).
    ///
    /// ```rhai
    /// let filter = #{ operator: "and", clauses: [#{ operator: "eq", field: "scheduleId", value: "1" }] };
    /// let r = all_pages("getExtractTasks", #{ filter: filter });
    /// print(`${r.tasks.len()} tasks on ${r.schedules.len()} schedule`);
    /// ```
    #[rhai_fn(name = "all_pages", return_raw)]
    pub fn all_pages_with(
        ctx: NativeCallContext,
        method: &str,
        params: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let pos = ctx.call_position();
        let mut params = convert::to_json(&Dynamic::from_map(params)).map_err(|m| usage(m, pos))?;
        let plain = params["filter"]
            .as_object()
            .is_some_and(|f| !f.contains_key("operator"));
        if plain {
            let filter = convert::to_map(params["filter"].as_object().cloned().unwrap_or_default());
            params["filter"] = convert::filter(&filter).map_err(|m| usage(m, pos))?;
        }
        Host::of(&ctx)?.all_pages(pos, method, params)
    }
}

//! Output helpers for scripts: tables and JSON.

use rhai::plugin::*;

#[export_module]
pub mod output_api {
    use rhai::{Array, Dynamic, EvalAltResult, NativeCallContext};

    use crate::script::error::usage;
    use crate::script::host::Host;
    use crate::script::table;

    /// Print an array of maps as an aligned table on stdout; columns are the maps' keys
    /// (`id` and `name` first).
    ///
    /// ```rhai
    /// table(schedules());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn table(ctx: NativeCallContext, rows: Array) -> Result<(), Box<EvalAltResult>> {
        Host::of(&ctx)?.print(&table::render(&rows, None));
        Ok(())
    }

    /// Print an array of maps as a table with the given columns, in that order.
    ///
    /// ```rhai
    /// table(extract_tasks(), ["id", "targetName", "scheduleName", "priority"]);
    /// ```
    #[rhai_fn(name = "table", return_raw)]
    pub fn table_columns(
        ctx: NativeCallContext,
        rows: Array,
        columns: Array,
    ) -> Result<(), Box<EvalAltResult>> {
        let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
        Host::of(&ctx)?.print(&table::render(&rows, Some(&columns)));
        Ok(())
    }

    /// A value as pretty-printed JSON text (a map or a task: on one line, see
    /// `to_json(map)`).
    ///
    /// ```rhai
    /// print(to_json(schedules()));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn to_json(ctx: NativeCallContext, value: Dynamic) -> Result<String, Box<EvalAltResult>> {
        let one_line = value.is::<crate::script::record::Record>();
        crate::script::to_json(&value)
            .and_then(|json| match one_line {
                true => serde_json::to_string(&json).map_err(|e| e.to_string()),
                false => serde_json::to_string_pretty(&json).map_err(|e| e.to_string()),
            })
            .map_err(|e| usage(format!("to_json: {e}"), ctx.call_position()))
    }

    /// A map as JSON text on one line (one JSON document per line, as Rhai's own
    /// `to_json` of a map writes it), valid JSON also when it holds tasks or other maps.
    ///
    /// ```rhai
    /// for t in extract_tasks() { print(to_json(#{ id: t.id, schedule: t.scheduleName })); }
    /// ```
    #[rhai_fn(name = "to_json", return_raw)]
    pub fn map_to_json(
        ctx: NativeCallContext,
        map: rhai::Map,
    ) -> Result<String, Box<EvalAltResult>> {
        crate::script::to_json(&Dynamic::from_map(map))
            .and_then(|json| serde_json::to_string(&json).map_err(|e| e.to_string()))
            .map_err(|e| usage(format!("to_json: {e}"), ctx.call_position()))
    }
}

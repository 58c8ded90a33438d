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

    /// A value as JSON text: pretty-printed, but for an ordinary map, which Rhai's own
    /// `to_json` writes on one line (handy for one JSON document per line).
    ///
    /// ```rhai
    /// print(to_json(session_info().site));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn to_json(ctx: NativeCallContext, value: Dynamic) -> Result<String, Box<EvalAltResult>> {
        crate::script::to_json(&value)
            .and_then(|json| serde_json::to_string_pretty(&json).map_err(|e| e.to_string()))
            .map_err(|e| usage(format!("to_json: {e}"), ctx.call_position()))
    }
}

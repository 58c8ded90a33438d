//! Output helpers for scripts: tables and JSON.

use rhai::plugin::*;

#[export_module]
pub mod output_api {
    use rhai::{Array, Dynamic, EvalAltResult, NativeCallContext};

    use crate::script::host::Host;
    use crate::script::json_out;

    /// Print an array of maps as an aligned table on stdout; columns are the maps' keys
    /// (`id` and `name` first).
    ///
    /// ```rhai
    /// table(schedules());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn table(ctx: NativeCallContext, rows: Array) -> Result<(), Box<EvalAltResult>> {
        super::print_table(&ctx, &rows, None)
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
        super::print_table(&ctx, &rows, Some(&columns))
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
        let host = Host::of(&ctx)?;
        json_out::text(&value, !one_line, &|| host.over_budget())
            .map_err(|f| f.raise("to_json", ctx.call_position()))
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
        let host = Host::of(&ctx)?;
        json_out::text(&Dynamic::from_map(map), false, &|| host.over_budget())
            .map_err(|f| f.raise("to_json", ctx.call_position()))
    }
}

/// Print `rows` as a table, stopping once the evaluation's memory budget runs out.
fn print_table(
    ctx: &NativeCallContext,
    rows: &rhai::Array,
    columns: Option<&[String]>,
) -> Result<(), Box<EvalAltResult>> {
    let host = crate::script::host::Host::of(ctx)?;
    let text = crate::script::table::render_within(rows, columns, &|| host.over_budget())
        .ok_or_else(|| crate::script::host::out_of_memory(ctx.call_position()))?;
    host.print(&text);
    Ok(())
}

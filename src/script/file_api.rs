//! Small state files for scripts that work in two steps (pause now, resume later): a
//! value saved as JSON by one run and read back by the next.

use rhai::plugin::*;

#[export_module]
pub mod file_api {
    use rhai::{Dynamic, EvalAltResult, NativeCallContext};

    use crate::script::convert;
    use crate::script::error::usage;

    type Out<T> = Result<T, Box<EvalAltResult>>;

    /// Write a value to a file as JSON, replacing the file only once all of it is written
    /// (a value that cannot be written leaves the file as it was).
    ///
    /// ```rhai
    /// save_json("paused.json", #{ ids: ["12", "13"] });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn save_json(ctx: NativeCallContext, path: &str, value: Dynamic) -> Out<()> {
        let pos = ctx.call_position();
        let host = crate::script::host::Host::of(&ctx)?;
        use crate::script::json_out::{self, Failure};
        // Written beside the file (the one a link points to), then put in its place, with
        // the file's permissions (see `file_out`).
        let target = crate::file_out::Target::Named;
        crate::file_out::replace(path.as_ref(), target, |out| {
            json_out::write(&value, true, &mut *out, &|| host.over_budget())?;
            Ok(out.write_all(b"\n")?)
        })
        .map_err(|failure| match failure {
            Failure::Other(message) => Failure::Other(format!("{path}: {message}")),
            over => over,
        })
        .map_err(|failure: Failure| failure.raise("save_json", pos))
    }

    /// Read a JSON file written by `save_json`; `()` when the file does not exist.
    ///
    /// ```rhai
    /// let state = load_json("paused.json");
    /// if state == () { print("nothing saved"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn load_json(ctx: NativeCallContext, path: &str) -> Out<Dynamic> {
        let pos = ctx.call_position();
        let text = match crate::file_in::read_text(path.as_ref(), u64::MAX) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Dynamic::UNIT),
            Err(e) => return Err(usage(format!("load_json: {path}: {e}"), pos)),
        };
        serde_json::from_str(&text)
            .map(convert::to_dynamic)
            .map_err(|e| usage(format!("load_json: {path} is not JSON: {e}"), pos))
    }

    /// Delete a file; a file that does not exist is not an error.
    ///
    /// ```rhai
    /// remove_file("paused.json");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn remove_file(ctx: NativeCallContext, path: &str) -> Out<()> {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(usage(
                format!("remove_file: {path}: {e}"),
                ctx.call_position(),
            )),
            _ => Ok(()),
        }
    }
}

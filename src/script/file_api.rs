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
        let failed = |e: &dyn std::fmt::Display| usage(format!("save_json: {path}: {e}"), pos);
        // Written beside the file (the one a link points to), then put in its place with
        // the file's permissions. Something else than a file (`/dev/stdout`) is written
        // to as it is.
        let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.into());
        let existing = std::fs::metadata(&target).ok();
        if existing.as_ref().is_some_and(|m| !m.is_file()) {
            let mut out = std::fs::OpenOptions::new()
                .write(true)
                .open(&target)
                .map_err(|e| failed(&e))?;
            crate::script::json_out::write(&value, true, &mut out, &|| host.over_budget())
                .map_err(|f| f.raise("save_json", pos))?;
            return std::io::Write::write_all(&mut out, b"\n").map_err(|e| failed(&e));
        }
        let dir = match target.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => std::path::Path::new("."),
        };
        let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(|e| failed(&e))?;
        if let Some(metadata) = &existing {
            let _ = temp.as_file().set_permissions(metadata.permissions());
        }
        let mut out = std::io::BufWriter::new(temp.as_file_mut());
        crate::script::json_out::write(&value, true, &mut out, &|| host.over_budget())
            .map_err(|f| f.raise("save_json", pos))?;
        std::io::Write::write_all(&mut out, b"\n")
            .and_then(|()| std::io::Write::flush(&mut out))
            .map_err(|e| failed(&e))?;
        drop(out);
        temp.persist(&target)
            .map(|_| ())
            .map_err(|e| failed(&e.error))
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
        let text = match std::fs::read_to_string(path) {
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

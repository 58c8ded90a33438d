//! Script values as JSON text, written as they are read: no JSON tree of the value is
//! made first (its strings would be copies of the script's), so `to_json` and
//! `save_json` of 100,000 tasks hold little more than the text, and `save_json` not even
//! that. Every MiB written, the evaluation's memory budget is asked whether to go on.

use std::io::Write;

use rhai::{Array, Dynamic, Map, Position};
use serde::Serialize;
use serde::ser::{Error as _, SerializeMap, SerializeSeq};
use serde_json::Value;

use super::record::Record;

/// Why JSON text was not written.
#[derive(Debug)]
pub enum Failure {
    /// The memory budget ran out while it was being written.
    OverBudget,
    /// The value holds something JSON cannot (a function pointer, say), or writing failed.
    Other(String),
}

impl From<std::io::Error> for Failure {
    fn from(error: std::io::Error) -> Failure {
        Failure::Other(error.to_string())
    }
}

impl Failure {
    /// As the script's error: the memory limit's, or a usage error of `function`.
    pub fn raise(self, function: &str, pos: Position) -> Box<rhai::EvalAltResult> {
        match self {
            Failure::OverBudget => super::host::out_of_memory(pos),
            Failure::Other(message) => super::error::usage(format!("{function}: {message}"), pos),
        }
    }
}

/// Write `value` as JSON (indented when `pretty`) to `out`, asking `over_budget` every
/// MiB whether to stop.
pub fn write(
    value: &Dynamic,
    pretty: bool,
    out: impl Write,
    over_budget: &dyn Fn() -> bool,
) -> Result<(), Failure> {
    let mut out = Watched {
        inner: out,
        since: 0,
        over_budget,
        stopped: false,
    };
    let written = match pretty {
        true => AsJson(value).serialize(&mut serde_json::Serializer::pretty(&mut out)),
        false => AsJson(value).serialize(&mut serde_json::Serializer::new(&mut out)),
    };
    match written {
        _ if out.stopped => Err(Failure::OverBudget),
        Ok(()) => out.inner.flush().map_err(|e| Failure::Other(e.to_string())),
        Err(e) => Err(Failure::Other(e.to_string())),
    }
}

/// `value` as JSON text (see [`write`]).
pub fn text(
    value: &Dynamic,
    pretty: bool,
    over_budget: &dyn Fn() -> bool,
) -> Result<String, Failure> {
    let mut bytes = Vec::new();
    write(value, pretty, &mut bytes, over_budget)?;
    // serde_json writes UTF-8.
    String::from_utf8(bytes).map_err(|e| Failure::Other(e.to_string()))
}

/// A script value serialized as JSON: maps, tasks and arrays member by member, other
/// values as `to_json` converts them.
pub(crate) struct AsJson<'a>(pub(crate) &'a Dynamic);

impl Serialize for AsJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if let Some(map) = self.0.read_lock::<Record>().map(|r| r.to_map()) {
            return members(&map, s);
        }
        if let Some(map) = self.0.read_lock::<Map>() {
            return members(&map, s);
        }
        if let Some(items) = self.0.read_lock::<Array>() {
            let mut out = s.serialize_seq(Some(items.len()))?;
            for item in items.iter() {
                out.serialize_element(&AsJson(item))?;
            }
            return out.end();
        }
        let scalar = rhai::serde::from_dynamic::<Value>(self.0).map_err(S::Error::custom)?;
        scalar.serialize(s)
    }
}

fn members<S: serde::Serializer>(map: &Map, s: S) -> Result<S::Ok, S::Error> {
    let mut out = s.serialize_map(Some(map.len()))?;
    for (key, value) in map {
        out.serialize_entry(key.as_str(), &AsJson(value))?;
    }
    out.end()
}

/// A writer that stops once its budget runs out, asked every MiB.
struct Watched<'a, W> {
    inner: W,
    since: usize,
    over_budget: &'a dyn Fn() -> bool,
    stopped: bool,
}

impl<W: Write> Write for Watched<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.since += buf.len();
        if self.since >= 1 << 20 {
            self.since = 0;
            if (self.over_budget)() {
                self.stopped = true;
                return Err(std::io::Error::other("memory limit"));
            }
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_written_as_json_text_and_as_trees() {
        let engine = rhai::Engine::new();
        let value: Dynamic = engine
            .eval(r#"#{ b: [1, 2.5, "x\"y", (), true], a: #{ z: "é", y: [] } }"#)
            .unwrap();
        let expected = r#"{"a":{"y":[],"z":"é"},"b":[1,2.5,"x\"y",null,true]}"#;
        let never = || false;
        assert_eq!(text(&value, false, &never).unwrap(), expected);
        let tree: Value = serde_json::from_str(expected).unwrap();
        assert_eq!(
            text(&value, true, &never).unwrap(),
            serde_json::to_string_pretty(&tree).unwrap()
        );
        assert_eq!(crate::script::convert::to_json(&value).unwrap(), tree);
    }

    #[test]
    fn writing_stops_once_the_budget_runs_out() {
        let big = Dynamic::from_array(vec![Dynamic::from("x".repeat(1 << 10)); 4096]);
        let asked = std::cell::Cell::new(0);
        let over = || {
            asked.set(asked.get() + 1);
            asked.get() > 1
        };
        assert!(matches!(text(&big, false, &over), Err(Failure::OverBudget)));
        assert_eq!(
            asked.get(),
            2,
            "asked every MiB, stopped at the first refusal"
        );
    }
}

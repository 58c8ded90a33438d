//! Time for scripts: arithmetic on the server's ISO-8601 timestamps (`lastRunAt`,
//! `runNextAt`, ...), in UTC like the server sends them.

use rhai::plugin::*;

#[export_module]
pub mod time_api {
    use rhai::{Dynamic, FLOAT};

    /// Hours elapsed since an ISO-8601 timestamp such as a task's `lastRunAt`; `()` when
    /// the value is empty or not a timestamp. A task that never ran has an empty
    /// `lastRunAt`, and any comparison with `()` is false: test for it as well when such
    /// tasks count as stale too.
    ///
    /// ```rhai
    /// let stale = extract_tasks().filter(|t| hours_since(t.lastRunAt) > 24.0);
    /// let never_ran = extract_tasks().filter(|t| hours_since(t.lastRunAt) == ());
    /// ```
    pub fn hours_since(timestamp: Dynamic) -> Dynamic {
        let Ok(text) = timestamp.into_immutable_string() else {
            return Dynamic::UNIT;
        };
        match chrono::DateTime::parse_from_rfc3339(text.as_str()) {
            Ok(t) => {
                let seconds =
                    (chrono::Utc::now() - t.to_utc()).num_milliseconds() as FLOAT / 1000.0;
                Dynamic::from(seconds / 3600.0)
            }
            Err(_) => Dynamic::UNIT,
        }
    }

    /// The current time as an ISO-8601 UTC timestamp, comparable with the server's.
    ///
    /// ```rhai
    /// print(now_utc());
    /// ```
    pub fn now_utc() -> String {
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }
}

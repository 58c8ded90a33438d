//! Time for scripts: arithmetic on the server's ISO-8601 timestamps (`lastRunAt`,
//! `runNextAt`, ...), in UTC like the server sends them.

use rhai::plugin::*;

#[export_module]
pub mod time_api {
    use rhai::{Dynamic, EvalAltResult, FLOAT, NativeCallContext};

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

    /// Wait `seconds` (a whole or fractional number). Ctrl-C ends the wait at once, as it
    /// ends any other part of a run. A wait that is not a number, or longer than the
    /// clock can count, is refused with a `usage` error.
    ///
    /// ```rhai
    /// sleep(0.5);
    /// ```
    #[rhai_fn(name = "sleep", volatile, return_raw)]
    pub fn sleep_float(ctx: NativeCallContext, seconds: FLOAT) -> Result<(), Box<EvalAltResult>> {
        super::pause(&ctx, seconds)
    }

    /// Wait `seconds` (a whole number). Ctrl-C ends the wait at once.
    ///
    /// ```rhai
    /// sleep(2);
    /// ```
    #[rhai_fn(name = "sleep", volatile, return_raw)]
    pub fn sleep_int(ctx: NativeCallContext, seconds: rhai::INT) -> Result<(), Box<EvalAltResult>> {
        super::pause(&ctx, seconds as FLOAT)
    }

    /// `sleep` given something else than a number (a string, say: `ARGS` are strings)
    /// is refused with a `usage` error; `parse_float(s)` makes a string a number.
    ///
    /// ```rhai
    /// try { sleep("2"); } catch (e) { print(e.message); }
    /// ```
    #[rhai_fn(name = "sleep", volatile, return_raw)]
    pub fn sleep_other(ctx: NativeCallContext, seconds: Dynamic) -> Result<(), Box<EvalAltResult>> {
        Err(crate::script::error::usage(
            format!(
                "sleep takes a number of seconds, not a {} ({}); parse_float(s) makes a string one",
                ctx.engine().map_type_name(seconds.type_name()),
                crate::script::record::shown(&seconds)
            ),
            ctx.call_position(),
        ))
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

/// Sleeps `seconds` in short slices, ending as interrupted once Ctrl-C is pressed (Rhai's
/// own `sleep` holds the thread for the whole time).
fn pause(
    ctx: &rhai::NativeCallContext,
    seconds: rhai::FLOAT,
) -> Result<(), Box<rhai::EvalAltResult>> {
    let host = super::host::Host::of(ctx)?;
    // Past what an Instant can hold (or not a number): refused, not a panic or no wait.
    let until = std::time::Duration::try_from_secs_f64(seconds.max(0.0))
        .ok()
        .filter(|_| !seconds.is_nan())
        .and_then(|total| std::time::Instant::now().checked_add(total))
        .ok_or_else(|| {
            super::error::usage(
                format!("sleep: {seconds} is not a number of seconds it can wait"),
                ctx.call_position(),
            )
        })?;
    loop {
        if host.cancelled() {
            return Err(rhai::EvalAltResult::ErrorTerminated(
                "interrupted".into(),
                ctx.call_position(),
            )
            .into());
        }
        let left = until.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        std::thread::sleep(left.min(std::time::Duration::from_millis(50)));
    }
}

//! The load on the backgrounders as a picture: when every enabled schedule runs in a
//! window, and a chart of counts (a bar per label, or a heat map of day of week by hour).

use rhai::plugin::*;

#[export_module]
pub mod load_api {
    use rhai::{Array, Dynamic, EvalAltResult, Map, NativeCallContext};

    type Out<T> = Result<T, Box<EvalAltResult>>;

    /// The runs of every enabled schedule from `from` up to `to` (ISO-8601 timestamps),
    /// computed from each schedule's type and details in the server's time zone as the
    /// schedule states it (the offset of its `runNextAt`). Each run is
    /// `#{at, scheduleId, scheduleName, scheduleType, scheduledAction, taskCount}`, in
    /// time order. The span is at most two years.
    ///
    /// ```rhai
    /// let week = schedule_runs("2027-01-04T00:00:00Z", "2027-01-11T00:00:00Z");
    /// print(`${week.len()} schedule runs`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn schedule_runs(ctx: NativeCallContext, from: &str, to: &str) -> Out<Array> {
        super::runs_between(&ctx, from, to)
    }

    /// The ISO-8601 UTC timestamp `hours` from now (negative: in the past).
    ///
    /// ```rhai
    /// let next_week = schedule_runs(now_utc(), hours_from_now(24 * 7));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn hours_from_now(ctx: NativeCallContext, hours: Dynamic) -> Out<String> {
        let hours = super::count_or_float(&hours).ok_or_else(|| {
            crate::script::error::usage(
                "hours_from_now: hours must be a number",
                ctx.call_position(),
            )
        })?;
        let milliseconds = hours * 3_600_000.0;
        // Within i64's range, where the cast below is exact enough.
        let at = (milliseconds.abs() < 9.0e18)
            .then(|| chrono::TimeDelta::try_milliseconds(milliseconds as i64))
            .flatten()
            .and_then(|delta| chrono::Utc::now().checked_add_signed(delta))
            .ok_or_else(|| {
                crate::script::error::usage(
                    format!("hours_from_now: {hours:e} hours from now is not a date"),
                    ctx.call_position(),
                )
            })?;
        Ok(at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
    }

    /// The day of week and hour of a timestamp, in the time zone it carries, as
    /// `"Mon 02"`: the slot a heat map counts it in.
    ///
    /// ```rhai
    /// print(week_hour("2017-01-09T02:30:00.000-05:00"));   // Mon 02
    /// ```
    #[rhai_fn(return_raw)]
    pub fn week_hour(ctx: NativeCallContext, timestamp: &str) -> Out<String> {
        let at = super::timestamp(timestamp, "week_hour", ctx.call_position())?;
        Ok(at.format("%a %H").to_string())
    }

    /// Print a compact chart. A map of label to number prints a bar chart, one bar per
    /// label in key order. An array prints a heat map of day of week by hour of day: each
    /// item is a timestamp, or a map with `at` and an optional `count` (default 1) added
    /// at its day and hour, in the time zone the timestamp carries.
    ///
    /// ```rhai
    /// chart(#{ Daily: 12, Hourly: 30, Weekly: 4 });
    /// chart(schedule_runs(now_utc(), hours_from_now(24 * 7)).map(|r| #{ at: r.at, count: r.taskCount }));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn chart(ctx: NativeCallContext, data: Dynamic) -> Out<()> {
        super::print_chart(&ctx, &data, &Map::new())
    }

    /// Print a chart with options: `title` (a line above it).
    ///
    /// ```rhai
    /// chart(#{ finance: 40, marketing: 12 }, #{ title: "tasks per site" });
    /// ```
    #[rhai_fn(name = "chart", return_raw)]
    pub fn chart_with(ctx: NativeCallContext, data: Dynamic, options: Map) -> Out<()> {
        super::print_chart(&ctx, &data, &options)
    }
}

use chrono::{DateTime, FixedOffset};
use rhai::{Array, Dynamic, EvalAltResult, Map, NativeCallContext, Position};
use serde_json::Value;

use crate::script::chart::{WeekGrid, bars};
use crate::script::convert;
use crate::script::error::usage;
use crate::script::host::Host;
use crate::script::schedule_runs::runs;

type Out<T> = Result<T, Box<EvalAltResult>>;

fn timestamp(text: &str, what: &str, pos: Position) -> Out<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(text).map_err(|e| {
        usage(
            format!("{what}: \"{text}\" is not an ISO-8601 timestamp: {e}"),
            pos,
        )
    })
}

/// The longest span `schedule_runs` lists (two years).
const MAX_RUN_DAYS: i64 = 731;

fn runs_between(ctx: &NativeCallContext, from: &str, to: &str) -> Out<Array> {
    let pos = ctx.call_position();
    let (from, to) = (
        timestamp(from, "schedule_runs", pos)?,
        timestamp(to, "schedule_runs", pos)?,
    );
    // Every run is listed: a span of centuries would list millions.
    if to - from > chrono::TimeDelta::days(MAX_RUN_DAYS) {
        return Err(usage(
            format!(
                "schedule_runs: {from} to {to} is longer than {MAX_RUN_DAYS} days; ask for a shorter span"
            ),
            pos,
        ));
    }
    let host = Host::of(ctx)?;
    let all = host.list_with(
        pos,
        crate::wire::method::GET_SCHEDULES,
        "schedules",
        &serde_json::json!({}),
    )?;
    let mut out: Vec<(DateTime<FixedOffset>, Map)> = Vec::new();
    for schedule in all {
        let Ok(Value::Object(fields)) = convert::to_json(&schedule) else {
            continue;
        };
        if !crate::wire::schedule::enabled_of(&fields) {
            continue;
        }
        for at in runs(&fields, from, to) {
            let mut run = Map::new();
            run.insert(
                "at".into(),
                at.to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
                    .into(),
            );
            for (key, name) in [
                ("id", "scheduleId"),
                ("name", "scheduleName"),
                ("scheduleType", "scheduleType"),
                ("scheduledAction", "scheduledAction"),
                ("taskCount", "taskCount"),
            ] {
                let value = fields.get(key).cloned().unwrap_or(Value::Null);
                run.insert(name.into(), convert::to_dynamic(value));
            }
            out.push((at, run));
        }
    }
    out.sort_by_key(|a| a.0);
    Ok(out
        .into_iter()
        .map(|(_, run)| Dynamic::from_map(run))
        .collect())
}

fn print_chart(ctx: &NativeCallContext, data: &Dynamic, options: &Map) -> Out<()> {
    let pos = ctx.call_position();
    let mut title = None;
    for (key, value) in options {
        match key.as_str() {
            "title" => title = Some(value.to_string()),
            other => {
                return Err(usage(
                    format!("chart: unknown option `{other}`; the option is `title`"),
                    pos,
                ));
            }
        }
    }
    let text = if let Some(map) = crate::script::record::as_map(data) {
        let mut rows: Vec<(String, i64)> = Vec::new();
        for (label, value) in map.iter() {
            let n = count_of(value)
                .ok_or_else(|| usage(format!("chart: {label}: not a number"), pos))?;
            rows.push((label.to_string(), n));
        }
        bars(&rows, title.as_deref())
    } else if let Some(items) = data.read_lock::<Array>() {
        let mut grid = WeekGrid::default();
        for item in items.iter() {
            let (at, count) = slot(item, pos)?;
            grid.add(at, count);
        }
        grid.render(title.as_deref())
    } else {
        return Err(usage(
            format!(
                "chart: expected a map or an array, not {}",
                data.type_name()
            ),
            pos,
        ));
    };
    Host::of(ctx)?.print(&text);
    Ok(())
}

/// A heat-map item: a timestamp, or a map with `at` and `count`.
fn slot(item: &Dynamic, pos: Position) -> Out<(DateTime<FixedOffset>, i64)> {
    if let Ok(text) = item.as_immutable_string_ref() {
        return Ok((timestamp(text.as_str(), "chart", pos)?, 1));
    }
    let map = crate::script::record::as_map(item).ok_or_else(|| {
        usage(
            "chart: array items must be timestamps or maps with `at`",
            pos,
        )
    })?;
    let at = map
        .get("at")
        .and_then(|a| a.clone().into_immutable_string().ok())
        .ok_or_else(|| usage("chart: an item has no `at` timestamp", pos))?;
    let count = match map.get("count") {
        None => 1,
        Some(c) => count_of(c).ok_or_else(|| usage("chart: `count` must be a number", pos))?,
    };
    Ok((timestamp(at.as_str(), "chart", pos)?, count))
}

fn count_of(value: &Dynamic) -> Option<i64> {
    value
        .as_int()
        .ok()
        .or_else(|| value.as_float().ok().map(|f| f.round() as i64))
}

fn count_or_float(value: &Dynamic) -> Option<f64> {
    value
        .as_float()
        .ok()
        .or_else(|| value.as_int().ok().map(|n| n as f64))
}

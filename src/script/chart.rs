//! Compact terminal charts: a bar chart of labelled counts, and a heat map of counts by
//! day of week and hour of day, so crowded hours jump out. Pure text, so a test can
//! compare it exactly.

use chrono::{DateTime, Datelike, FixedOffset, Timelike};

/// Days of the heat map's rows, Monday first.
const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Longest bar, in characters.
const BAR_WIDTH: i64 = 40;

/// Counts by (day of week from Monday = 0, hour of day).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WeekGrid {
    cells: [[i64; 24]; 7],
}

impl WeekGrid {
    /// Adds `count` at the day and hour of `at`, in the time zone `at` carries.
    pub fn add(&mut self, at: DateTime<FixedOffset>, count: i64) {
        let day = at.weekday().num_days_from_monday() as usize;
        self.cells[day][at.hour() as usize] += count;
    }

    /// The heat map: a header of hours, a row per day (`.` for none), and the peak.
    pub fn render(&self, title: Option<&str>) -> String {
        let max = self.cells.iter().flatten().copied().max().unwrap_or(0);
        let width = (max.to_string().len() + 1).max(3);
        let mut out = String::new();
        if let Some(title) = title {
            out.push_str(title);
            out.push('\n');
        }
        out.push_str("   ");
        for hour in 0..24 {
            out.push_str(&format!("{:>width$}", format!("{hour:02}")));
        }
        out.push('\n');
        for (day, row) in DAYS.iter().zip(&self.cells) {
            out.push_str(day);
            for count in row {
                let cell = if *count == 0 {
                    ".".to_string()
                } else {
                    count.to_string()
                };
                out.push_str(&format!("{cell:>width$}"));
            }
            out.push('\n');
        }
        let total: i64 = self.cells.iter().flatten().sum();
        match self.peak() {
            Some((day, hour, count)) => out.push_str(&format!(
                "peak {count} at {} {hour:02}:00; total {total}",
                DAYS[day]
            )),
            None => out.push_str("nothing scheduled"),
        }
        out
    }

    /// The busiest slot (the first one, Monday 00:00 onwards, on a tie).
    fn peak(&self) -> Option<(usize, usize, i64)> {
        let mut best: Option<(usize, usize, i64)> = None;
        for (day, row) in self.cells.iter().enumerate() {
            for (hour, count) in row.iter().enumerate() {
                if *count > 0 && best.is_none_or(|(_, _, b)| *count > b) {
                    best = Some((day, hour, *count));
                }
            }
        }
        best
    }
}

/// A bar chart: one line per label, in the order given, bars scaled to the largest.
pub fn bars(rows: &[(String, i64)], title: Option<&str>) -> String {
    let mut out = String::new();
    if let Some(title) = title {
        out.push_str(title);
        out.push('\n');
    }
    let label_width = rows
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    let max = rows.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let lines: Vec<String> = rows
        .iter()
        .map(|(label, value)| {
            let length = if *value > 0 {
                (value * BAR_WIDTH / max).max(1)
            } else {
                0
            };
            let bar = "█".repeat(length as usize);
            format!("{label:<label_width$}  {bar} {value}")
                .trim_end()
                .to_string()
        })
        .collect();
    out.push_str(&lines.join("\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_value() {
        let rows = vec![("Daily".to_string(), 4), ("Hourly".to_string(), 1)];
        assert_eq!(
            bars(&rows, Some("tasks")),
            format!(
                "tasks\nDaily   {} 4\nHourly  {} 1",
                "█".repeat(40),
                "█".repeat(10)
            )
        );
    }

    #[test]
    fn the_heat_map_puts_counts_at_their_day_and_hour() {
        let mut grid = WeekGrid::default();
        // 2017-01-09 was a Monday.
        let at = DateTime::parse_from_rfc3339("2017-01-09T02:30:00-05:00").unwrap();
        grid.add(at, 3);
        let text = grid.render(None);
        let monday = text.lines().nth(1).unwrap();
        assert!(monday.starts_with("Mon  .  .  3  ."), "{monday}");
        assert!(text.ends_with("peak 3 at Mon 02:00; total 3"), "{text}");
    }
}

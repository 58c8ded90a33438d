//! The difference as a person reads it: one heading per kind of change, each group with
//! its count and a few names, and the schedules whose task count changed.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use super::difference::{Difference, Moved, ScheduleRef};

impl Difference {
    /// The difference as lines of text (`"no changes"` when there are none).
    pub fn render(&self) -> String {
        if self.is_empty() {
            return "no changes\n".to_string();
        }
        let mut out = String::new();
        moved(&mut out, "extract tasks moved", &self.tasks_moved, schedule);
        moved(
            &mut out,
            "extract task priorities changed",
            &self.priorities_changed,
            |v| v.to_string(),
        );
        named(&mut out, "extract tasks run", &self.tasks_run);
        named(&mut out, "extract tasks created", &self.tasks_created);
        named(&mut out, "extract tasks deleted", &self.tasks_deleted);
        schedules(&mut out, "schedules created", &self.schedules_created);
        if !self.schedules_changed.is_empty() {
            let _ = writeln!(out, "schedules changed: {}", self.schedules_changed.len());
            for change in &self.schedules_changed {
                let fields: Vec<String> = change
                    .fields
                    .iter()
                    .map(|f| format!("{} {} -> {}", f.field, f.before, f.after))
                    .collect();
                let _ = writeln!(
                    out,
                    "  {}: {}",
                    reference(&change.schedule),
                    fields.join(", ")
                );
            }
        }
        schedules(&mut out, "schedules enabled", &self.schedules_enabled);
        schedules(&mut out, "schedules disabled", &self.schedules_disabled);
        schedules(&mut out, "schedules deleted", &self.schedules_deleted);
        moved(
            &mut out,
            "subscriptions moved",
            &self.subscriptions_moved,
            schedule,
        );
        named(
            &mut out,
            "subscriptions created",
            &self.subscriptions_created,
        );
        named(
            &mut out,
            "subscriptions deleted",
            &self.subscriptions_deleted,
        );
        if !self.task_counts.is_empty() {
            let _ = writeln!(out, "extract tasks per schedule (before -> after):");
            for count in &self.task_counts {
                let _ = writeln!(
                    out,
                    "  {}: {} -> {}",
                    reference(&count.schedule),
                    count.before,
                    count.after
                );
            }
        }
        out
    }
}

fn moved(out: &mut String, title: &str, groups: &[Moved], show: fn(&Value) -> String) {
    if groups.is_empty() {
        return;
    }
    let total: usize = groups.iter().map(|g| g.count).sum();
    let _ = writeln!(out, "{title}: {total}");
    for group in groups {
        let _ = writeln!(
            out,
            "  {} -> {}: {}{}",
            show(&group.from),
            show(&group.to),
            group.count,
            examples(&group.names, group.count)
        );
    }
}

fn named(out: &mut String, title: &str, items: &BTreeMap<String, String>) {
    if items.is_empty() {
        return;
    }
    let names: Vec<String> = items
        .iter()
        .take(5)
        .map(|(id, name)| format!("{name} [{id}]"))
        .collect();
    let _ = writeln!(
        out,
        "{title}: {}{}",
        items.len(),
        examples(&names, items.len())
    );
}

fn schedules(out: &mut String, title: &str, items: &[ScheduleRef]) {
    if items.is_empty() {
        return;
    }
    let names: Vec<String> = items.iter().map(reference).collect();
    let _ = writeln!(out, "{title}: {}", names.join(", "));
}

/// ` (a, b, c, ...)` after a count.
fn examples(names: &[String], count: usize) -> String {
    if names.is_empty() {
        return String::new();
    }
    let more = if count > names.len() { ", ..." } else { "" };
    format!(" ({}{more})", names.join(", "))
}

fn reference(schedule: &ScheduleRef) -> String {
    format!("\"{}\" [{}]", schedule.name, schedule.id)
}

/// A `{id, name}` schedule value as `"name" [id]`.
fn schedule(value: &Value) -> String {
    let text = |key: &str| value[key].as_str().unwrap_or_default().to_string();
    reference(&ScheduleRef {
        id: text("id"),
        name: text("name"),
    })
}

//! What changed between two states of a server (two snapshots, or a rehearsal's emulator
//! before and after a script), grouped for a human: tasks moved from one schedule to
//! another, priorities changed, tasks run, created or deleted, schedules created, changed,
//! enabled, disabled or deleted, subscriptions moved, created or deleted, and each
//! schedule's task count.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::emulator::Dataset;
use crate::emulator::entities::{ExtractTask, Id, Schedule, TargetType};

/// How many names a group shows; its count says how many there are.
const NAMES_SHOWN: usize = 5;

/// A schedule as the difference names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ScheduleRef {
    /// Its id.
    pub id: String,
    /// Its name (the name before the change, for a deleted or renamed schedule).
    pub name: String,
}

/// Items that went from one value to another: tasks or subscriptions moved between
/// schedules, or tasks whose priority changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Moved {
    /// The value before (a schedule, or a priority).
    pub from: Value,
    /// The value after.
    pub to: Value,
    /// How many items.
    pub count: usize,
    /// The first few items' names.
    pub names: Vec<String>,
    /// Every item's id.
    pub ids: Vec<String>,
}

/// One field of a schedule, before and after.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// The field (`name`, `priority`, `scheduleType`, `scheduleDetails`, `parallel`).
    pub field: String,
    /// Its value before.
    pub before: Value,
    /// Its value after.
    pub after: Value,
}

/// A schedule whose fields changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScheduleChange {
    /// The schedule.
    pub schedule: ScheduleRef,
    /// What changed.
    pub fields: Vec<FieldChange>,
}

/// A schedule's extract task count before and after, when it changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskCount {
    /// The schedule.
    pub schedule: ScheduleRef,
    /// Tasks before.
    pub before: usize,
    /// Tasks after.
    pub after: usize,
}

/// Everything that changed, group by group (JSON: `--diff-json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Difference {
    /// Extract tasks moved, by (from schedule, to schedule).
    pub tasks_moved: Vec<Moved>,
    /// Extract task priorities changed, by (from, to).
    pub priorities_changed: Vec<Moved>,
    /// Tasks run (their run count or last run time changed): id to name.
    pub tasks_run: BTreeMap<String, String>,
    /// Tasks created: id to name.
    pub tasks_created: BTreeMap<String, String>,
    /// Tasks deleted: id to name.
    pub tasks_deleted: BTreeMap<String, String>,
    /// Schedules created.
    pub schedules_created: Vec<ScheduleRef>,
    /// Schedules whose fields changed.
    pub schedules_changed: Vec<ScheduleChange>,
    /// Schedules enabled.
    pub schedules_enabled: Vec<ScheduleRef>,
    /// Schedules disabled.
    pub schedules_disabled: Vec<ScheduleRef>,
    /// Schedules deleted.
    pub schedules_deleted: Vec<ScheduleRef>,
    /// Subscriptions moved, by (from schedule, to schedule).
    pub subscriptions_moved: Vec<Moved>,
    /// Subscriptions created: id to subject.
    pub subscriptions_created: BTreeMap<String, String>,
    /// Subscriptions deleted (with their schedule, say): id to subject.
    pub subscriptions_deleted: BTreeMap<String, String>,
    /// Each schedule whose task count changed.
    pub task_counts: Vec<TaskCount>,
}

impl Difference {
    /// What changed from `before` to `after`.
    pub fn between(before: &Dataset, after: &Dataset) -> Difference {
        let mut diff = Difference::default();
        diff.tasks(before, after);
        diff.schedules(before, after);
        diff.subscriptions(before, after);
        diff.task_counts = task_counts(before, after);
        diff
    }

    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        *self == Difference::default()
    }

    fn tasks(&mut self, before: &Dataset, after: &Dataset) {
        let mut moved = Groups::default();
        let mut priorities = Groups::default();
        for (id, old) in &before.extract_tasks {
            let Some(new) = after.extract_tasks.get(id) else {
                self.tasks_deleted
                    .insert(id.to_string(), task_name(before, old));
                continue;
            };
            let name = || task_name(after, new);
            if old.schedule_id != new.schedule_id {
                let from = schedule_value(before, old.schedule_id);
                let to = schedule_value(after, new.schedule_id);
                moved.add(from, to, id, name());
            }
            if old.priority != new.priority {
                priorities.add(old.priority.into(), new.priority.into(), id, name());
            }
            if old.run_count != new.run_count || old.last_run_at != new.last_run_at {
                self.tasks_run.insert(id.to_string(), name());
            }
        }
        for (id, new) in &after.extract_tasks {
            if !before.extract_tasks.contains_key(id) {
                self.tasks_created
                    .insert(id.to_string(), task_name(after, new));
            }
        }
        self.tasks_moved = moved.into_list();
        self.priorities_changed = priorities.into_list();
    }

    fn schedules(&mut self, before: &Dataset, after: &Dataset) {
        for (id, old) in &before.schedules {
            let Some(new) = after.schedules.get(id) else {
                self.schedules_deleted.push(schedule_ref(old));
                continue;
            };
            match (old.enabled, new.enabled) {
                (false, true) => self.schedules_enabled.push(schedule_ref(new)),
                (true, false) => self.schedules_disabled.push(schedule_ref(new)),
                _ => {}
            }
            let fields = schedule_fields(old, new);
            if !fields.is_empty() {
                self.schedules_changed.push(ScheduleChange {
                    schedule: schedule_ref(old),
                    fields,
                });
            }
        }
        for (id, new) in &after.schedules {
            if !before.schedules.contains_key(id) {
                self.schedules_created.push(schedule_ref(new));
            }
        }
    }

    fn subscriptions(&mut self, before: &Dataset, after: &Dataset) {
        let mut moved = Groups::default();
        for (id, old) in &before.subscriptions {
            let Some(new) = after.subscriptions.get(id) else {
                self.subscriptions_deleted
                    .insert(id.to_string(), old.subject.clone());
                continue;
            };
            if old.schedule_id != new.schedule_id {
                let from = schedule_value(before, old.schedule_id);
                let to = schedule_value(after, new.schedule_id);
                moved.add(from, to, id, new.subject.clone());
            }
        }
        for (id, new) in &after.subscriptions {
            if !before.subscriptions.contains_key(id) {
                self.subscriptions_created
                    .insert(id.to_string(), new.subject.clone());
            }
        }
        self.subscriptions_moved = moved.into_list();
    }
}

/// Items grouped by (from, to), in the order the groups were first seen.
#[derive(Default)]
struct Groups {
    groups: Vec<Moved>,
}

impl Groups {
    fn add(&mut self, from: Value, to: Value, id: &Id, name: String) {
        let index = match self
            .groups
            .iter()
            .position(|g| g.from == from && g.to == to)
        {
            Some(index) => index,
            None => {
                self.groups.push(Moved {
                    from,
                    to,
                    count: 0,
                    names: Vec::new(),
                    ids: Vec::new(),
                });
                self.groups.len() - 1
            }
        };
        let group = &mut self.groups[index];
        group.count += 1;
        group.ids.push(id.to_string());
        if group.names.len() < NAMES_SHOWN {
            group.names.push(name);
        }
    }

    /// The groups, largest first.
    fn into_list(mut self) -> Vec<Moved> {
        self.groups.sort_by_key(|g| std::cmp::Reverse(g.count));
        self.groups
    }
}

fn schedule_ref(schedule: &Schedule) -> ScheduleRef {
    ScheduleRef {
        id: schedule.id.to_string(),
        name: schedule.name.clone(),
    }
}

/// A schedule as a JSON value `{id, name}` (the name empty when it is unknown).
fn schedule_value(data: &Dataset, id: Id) -> Value {
    let name = data.schedules.get(&id).map_or("", |s| s.name.as_str());
    serde_json::json!({ "id": id.to_string(), "name": name })
}

/// The fields of a schedule a script can change, other than `enabled`.
fn schedule_fields(old: &Schedule, new: &Schedule) -> Vec<FieldChange> {
    let mut fields = Vec::new();
    let mut check = |field: &str, before: Value, after: Value| {
        if before != after {
            fields.push(FieldChange {
                field: field.to_string(),
                before,
                after,
            });
        }
    };
    let json = |details| serde_json::to_value(details).unwrap_or_default();
    check("name", old.name.clone().into(), new.name.clone().into());
    check("priority", old.priority.into(), new.priority.into());
    check(
        "scheduleType",
        old.schedule_type.as_str().into(),
        new.schedule_type.as_str().into(),
    );
    check(
        "scheduleDetails",
        json(&old.schedule_details),
        json(&new.schedule_details),
    );
    check("parallel", old.parallel.into(), new.parallel.into());
    fields
}

/// A task as a person knows it: what it refreshes, on which site.
fn task_name(data: &Dataset, task: &ExtractTask) -> String {
    let target = match task.target_type {
        TargetType::Workbook => data.workbooks.get(&task.target_id).map(|w| &w.name),
        TargetType::Datasource => data.datasources.get(&task.target_id).map(|d| &d.name),
    };
    let target = target.map_or_else(
        || format!("{} {}", task.target_type.as_str(), task.target_id),
        Clone::clone,
    );
    match data.sites.get(&task.site_id) {
        Some(site) if !site.url_name.is_empty() => format!("{target} ({})", site.url_name),
        _ => target,
    }
}

/// Every schedule whose extract task count differs, in id order.
fn task_counts(before: &Dataset, after: &Dataset) -> Vec<TaskCount> {
    let count = |data: &Dataset| {
        let mut counts: BTreeMap<Id, usize> = BTreeMap::new();
        for task in data.extract_tasks.values() {
            *counts.entry(task.schedule_id).or_default() += 1;
        }
        counts
    };
    let (old, new) = (count(before), count(after));
    let mut ids: Vec<Id> = old.keys().chain(new.keys()).copied().collect();
    ids.sort();
    ids.dedup();
    ids.into_iter()
        .filter_map(|id| {
            let (b, a) = (
                old.get(&id).copied().unwrap_or(0),
                new.get(&id).copied().unwrap_or(0),
            );
            let schedule = after
                .schedules
                .get(&id)
                .or_else(|| before.schedules.get(&id))
                .map_or_else(
                    || ScheduleRef {
                        id: id.to_string(),
                        name: String::new(),
                    },
                    schedule_ref,
                );
            (b != a).then_some(TaskCount {
                schedule,
                before: b,
                after: a,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::SampleSpec;

    #[test]
    fn moves_are_grouped_by_schedule_pair_largest_first() {
        let before = Dataset::sample(&SampleSpec {
            sites: 1,
            tasks: 40,
            schedules: 4,
            seed: 3,
        });
        let mut after = before.clone();
        let on_one: Vec<Id> = after
            .extract_tasks
            .values()
            .filter(|t| t.schedule_id == Id(1))
            .map(|t| t.id)
            .collect();
        assert!(on_one.len() >= 3);
        for (n, id) in on_one.iter().enumerate() {
            let task = after.extract_tasks.get_mut(id).unwrap();
            task.schedule_id = if n == 0 { Id(4) } else { Id(3) };
            task.priority = 7;
        }
        after.schedules.get_mut(&Id(2)).unwrap().enabled = false;
        let diff = Difference::between(&before, &after);
        assert_eq!(diff.tasks_moved.len(), 2);
        assert_eq!(diff.tasks_moved[0].count, on_one.len() - 1);
        assert_eq!(diff.tasks_moved[0].from["id"], "1");
        assert_eq!(diff.tasks_moved[0].to["id"], "3");
        assert!(diff.tasks_moved[0].names.len() <= NAMES_SHOWN);
        assert_eq!(diff.tasks_moved[1].ids, vec![on_one[0].to_string()]);
        assert_eq!(diff.schedules_disabled[0].id, "2");
        let one = diff
            .task_counts
            .iter()
            .find(|c| c.schedule.id == "1")
            .unwrap();
        assert_eq!((one.before - one.after), on_one.len());
        let text = diff.render();
        assert!(
            text.contains(&format!("extract tasks moved: {}", on_one.len())),
            "{text}"
        );
        assert!(Difference::between(&before, &before).is_empty());
    }

    #[test]
    fn subscriptions_deleted_with_their_schedule_are_named() {
        let before = Dataset::sample(&SampleSpec::default());
        let mut after = before.clone();
        let (id, gone) = before.subscriptions.iter().next().unwrap();
        let schedule = gone.schedule_id;
        after.schedules.remove(&schedule);
        after.subscriptions.retain(|_, s| s.schedule_id != schedule);
        let diff = Difference::between(&before, &after);
        assert_eq!(diff.subscriptions_deleted[&id.to_string()], gone.subject);
        let on_it = before
            .subscriptions
            .values()
            .filter(|s| s.schedule_id == schedule);
        assert_eq!(diff.subscriptions_deleted.len(), on_it.count());
        let text = diff.render();
        assert!(
            text.contains(&format!(
                "subscriptions deleted: {}",
                diff.subscriptions_deleted.len()
            )),
            "{text}"
        );
    }
}

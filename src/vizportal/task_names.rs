//! Which side tables name what an extract task refers to. A `getExtractTasks` page lists
//! tasks with ids only (`scheduleId`, `targetId`, `siteId`) and, beside them, the
//! `schedules`, `workbooks`, `datasources` and `sites` those ids point into. The target
//! table depends on `targetType`. This is protocol knowledge, so it lives with the listing.

use std::collections::HashMap;

use super::listing::SideTables;

/// Name lookups by id.
type Lookup<T> = HashMap<Box<str>, T, ahash::RandomState>;

/// Name lookups for one page's tasks; `T` is how a name is held (shared once per page).
pub struct TaskNames<T> {
    schedules: Lookup<T>,
    workbooks: Lookup<T>,
    datasources: Lookup<T>,
    sites: Lookup<T>,
}

/// The fields a task gains from its page's side tables. (Some servers send `targetName`
/// themselves; a name a server sends is kept.)
pub const TASK_NAME_FIELDS: [&str; 3] = ["scheduleName", "targetName", "siteName"];

impl<T: Clone> TaskNames<T> {
    /// Lookups from a page's side tables; `make` turns each name into a `T` once.
    pub fn new(side: &SideTables, make: impl Fn(&str) -> T) -> TaskNames<T> {
        let table = |name: &str| {
            let names = side.names(name, &make);
            let mut table = Lookup::with_capacity_and_hasher(names.len(), Default::default());
            table.extend(names.into_iter().map(|(id, name)| (Box::from(id), name)));
            table
        };
        TaskNames {
            schedules: table("schedules"),
            workbooks: table("workbooks"),
            datasources: table("datasources"),
            sites: table("sites"),
        }
    }

    /// The name a task gains as `field`, one of [`TASK_NAME_FIELDS`]; `None` where the
    /// page's tables do not name the id. `text` reads one of the task's fields as text
    /// (in whatever form the caller holds it).
    pub fn field<S: AsRef<str>>(&self, field: &str, text: impl Fn(&str) -> Option<S>) -> Option<T> {
        let (table, key) = match field {
            "scheduleName" => (&self.schedules, "scheduleId"),
            "siteName" => (&self.sites, "siteId"),
            "targetName" => {
                // Another kind of target (a flow, say) is in neither table.
                let kind = text("targetType")?;
                let targets = match kind.as_ref() {
                    t if t.eq_ignore_ascii_case("workbook") => &self.workbooks,
                    t if t.eq_ignore_ascii_case("datasource") => &self.datasources,
                    _ => return None,
                };
                (targets, "targetId")
            }
            _ => return None,
        };
        text(key).and_then(|id| table.get(id.as_ref()).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn targets_are_named_from_the_table_of_their_type() {
        let side = SideTables::from_value(json!({
            "schedules": [{"id": "1", "name": "Daily"}],
            "workbooks": [{"id": "7", "name": "Sales"}],
            "datasources": [{"id": 7, "name": "Orders"}],
            "sites": [{"id": "3", "name": "Finance"}]
        }));
        let names = TaskNames::new(&side, str::to_string);
        let task = |target_type: &'static str| {
            move |key: &str| {
                let value = match key {
                    "targetType" => target_type,
                    "scheduleId" => "1",
                    "targetId" => "7",
                    "siteId" => "3",
                    _ => return None,
                };
                Some(value.to_string())
            }
        };
        let workbook = task("Workbook");
        assert_eq!(
            names.field("scheduleName", workbook).as_deref(),
            Some("Daily")
        );
        assert_eq!(
            names.field("targetName", workbook).as_deref(),
            Some("Sales")
        );
        assert_eq!(
            names.field("siteName", workbook).as_deref(),
            Some("Finance")
        );
        assert_eq!(
            names.field("targetName", task("Datasource")).as_deref(),
            Some("Orders")
        );
        assert_eq!(names.field("targetName", task("Flow")), None);
        assert_eq!(names.field("scheduleName", |_| None::<String>), None);
        assert_eq!(names.field("notAName", workbook), None);
    }
}

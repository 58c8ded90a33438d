//! Which side tables name what an extract task refers to. A `getExtractTasks` page lists
//! tasks with ids only (`scheduleId`, `targetId`, `siteId`) and, beside them, the
//! `schedules`, `workbooks`, `datasources` and `sites` those ids point into. The target
//! table depends on `targetType`. This is protocol knowledge, so it lives with the listing.

use std::borrow::Cow;
use std::collections::HashMap;

use super::listing::SideTables;

/// Name lookups by id, borrowed from one page's side tables.
type Lookup<'s, T> = HashMap<Cow<'s, str>, T, ahash::RandomState>;

/// Name lookups for one page's tasks; `T` is how a name is held (shared once per page).
pub struct TaskNames<'s, T> {
    schedules: Lookup<'s, T>,
    workbooks: Lookup<'s, T>,
    datasources: Lookup<'s, T>,
    sites: Lookup<'s, T>,
}

impl<'s, T: Clone> TaskNames<'s, T> {
    /// The field a server may send itself; when it does, its value is kept.
    pub const SENT_BY_SOME_SERVERS: &'static str = "targetName";

    /// Lookups from a page's side tables; `make` turns each name into a `T` once.
    pub fn new(side: &'s SideTables, make: impl Fn(&str) -> T) -> TaskNames<'s, T> {
        let table = |name: &str| side.names(name, &make);
        TaskNames {
            schedules: table("schedules"),
            workbooks: table("workbooks"),
            datasources: table("datasources"),
            sites: table("sites"),
        }
    }

    /// The names a task gains, as `(field, name)`: `scheduleName`, `targetName` and
    /// `siteName`, `None` where the page's tables do not name the id. `text` reads one of
    /// the task's fields as text (in whatever form the caller holds it).
    pub fn for_task<S: AsRef<str>>(
        &self,
        text: impl Fn(&str) -> Option<S>,
    ) -> [(&'static str, Option<T>); 3] {
        let workbook =
            text("targetType").is_some_and(|t| t.as_ref().eq_ignore_ascii_case("workbook"));
        let targets = if workbook {
            &self.workbooks
        } else {
            &self.datasources
        };
        let look = |table: &Lookup<'s, T>, key: &str| {
            text(key).and_then(|id| table.get(id.as_ref()).cloned())
        };
        [
            ("scheduleName", look(&self.schedules, "scheduleId")),
            (Self::SENT_BY_SOME_SERVERS, look(targets, "targetId")),
            ("siteName", look(&self.sites, "siteId")),
        ]
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
        let joined = names.for_task(task("Workbook"));
        assert_eq!(joined[0], ("scheduleName", Some("Daily".to_string())));
        assert_eq!(joined[1], ("targetName", Some("Sales".to_string())));
        assert_eq!(joined[2], ("siteName", Some("Finance".to_string())));
        assert_eq!(
            names.for_task(task("Datasource"))[1].1.as_deref(),
            Some("Orders")
        );
        assert_eq!(names.for_task(|_| None::<String>)[0].1, None);
    }
}

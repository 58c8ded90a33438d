//! `vizscript undo AUDIT.jsonl`: put back what the audited calls changed, newest first,
//! through the same gate as a script (so `--dry-run`, `--audit` and retries apply), then
//! create deleted extract tasks again; on each site the lines name, or only on the site
//! `--site` names. Lines of another server (or of other sites than `--site`) are refused;
//! ids changed or deleted since are skipped and reported; calls that cannot be undone
//! (runs, creations, other deletions) are listed.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, FixedOffset};

use super::connect::connect;
use super::failure::Failure;
use crate::cli::{SettingOrigin, UndoArgs};
use crate::exit::ExitCode;
use crate::vizportal::{
    AuditLine, NotUndoable, Outcome, PutBack, Recreated, Recreation, UndoHistory, UndoPlan,
};
use crate::wire::first_ids;

/// Undo the audit file's calls: on the site `--site` names (lines of other sites are
/// refused), or without it on each site the lines name, one after the other.
pub fn undo(args: &UndoArgs) -> Result<(), Failure> {
    let lines = changes_to_undo(args)?;
    // A site given as a flag or in the environment picks one site; otherwise (a profile's
    // site included) every site the lines name is visited, the newest line's first.
    let chosen = matches!(
        args.connect.origin("site"),
        Some(SettingOrigin::Flag | SettingOrigin::Environment)
    );
    let mut connect_args = args.connect.clone();
    if !chosen {
        // Sign in where the session lands; each run of lines then goes to its site, and a
        // site gone since fails only its own lines.
        connect_args.site = None;
    }
    let connection = connect(&connect_args)?;
    let client = &connection.client;
    let here = chosen.then(|| client.session().info().site_url_name);
    let runs = Runs::of(lines, client.session().server(), here.as_deref());
    for line in &runs.refused {
        crate::diag!("refused: {line}");
    }
    let failed = undo_runs(client, &runs.by_site, &args.audit_file);
    connection.finish()?;
    let mut problems = Vec::new();
    if failed > 0 {
        problems.push(format!("{failed} undo step(s) failed"));
    }
    if runs.foreign > 0 {
        problems.push(format!(
            "{} line(s) of another server were not undone",
            runs.foreign
        ));
    }
    if runs.by_site.is_empty() && !runs.refused.is_empty() && runs.foreign == 0 {
        problems.push(format!(
            "no line of {} can be undone here ({} refused)",
            args.audit_file.display(),
            runs.refused.len()
        ));
    }
    if !problems.is_empty() {
        return Err(Failure::new(
            ExitCode::Failed,
            format!("error: {}", problems.join("; ")),
        ));
    }
    Ok(())
}

/// The audit file's lines that may have changed something (at or after `--since`), with
/// their 1-based numbers, oldest first; none is an error saying why.
fn changes_to_undo(args: &UndoArgs) -> Result<Vec<(usize, AuditLine)>, Failure> {
    let since = args
        .since
        .as_deref()
        .map(|t| {
            DateTime::parse_from_rfc3339(t).map_err(|e| {
                Failure::usage(format!(
                    "--since {t:?}: {e} (use RFC 3339, e.g. 2026-11-30T08:00:00Z)"
                ))
            })
        })
        .transpose()?;
    let all = read_lines(&args.audit_file)?;
    let read = all.len();
    // --since cannot place a line whose time does not read: refuse rather than drop it.
    if since.is_some()
        && let Some((number, line)) = all
            .iter()
            .find(|(_, line)| line.outcome.may_have_changed() && written_at(line).is_none())
    {
        return Err(Failure::usage(format!(
            "{}:{number}: its time {:?} is not an RFC 3339 timestamp, so --since cannot tell whether to undo it",
            args.audit_file.display(),
            line.time
        )));
    }
    // A line whose outcome this version does not know (a newer one, or a hand edit) is not
    // taken as a change; the user is told, since it may have been one.
    let unknown: Vec<String> = all
        .iter()
        .filter(|(_, line)| line.outcome == Outcome::Other)
        .map(|(number, _)| number.to_string())
        .collect();
    if !unknown.is_empty() {
        crate::diag!(
            "warning: {}: line(s) {} have an outcome this version does not know (not ok, partial, failed, unknown or dry_run): they are not undone; check what they changed",
            args.audit_file.display(),
            first_ids(unknown.into_iter(), 10)
        );
    }
    // A rehearsal's calls went to an emulator that is gone: nothing to put back.
    let rehearsed = all.iter().filter(|(_, l)| l.rehearsal.is_some()).count();
    if rehearsed > 0 {
        crate::note!(
            "note: {rehearsed} line(s) of {} record rehearsals (--rehearse), which changed no server: left out",
            args.audit_file.display()
        );
    }
    let lines: Vec<(usize, AuditLine)> = all
        .into_iter()
        .filter(|(_, line)| {
            line.rehearsal.is_none()
                && line.outcome.may_have_changed()
                && since.is_none_or(|since| written_at(line).is_some_and(|at| at >= since))
        })
        .collect();
    if lines.is_empty() {
        let since = args
            .since
            .as_deref()
            .map_or(String::new(), |t| format!(" at or after {t}"));
        return Err(Failure::new(
            ExitCode::Failed,
            format!(
                "error: nothing to undo: none of the {read} line(s) of {} is a change{since} (dry runs and refused calls changed nothing)",
                args.audit_file.display()
            ),
        ));
    }
    Ok(lines)
}

/// The lines to undo, in runs of one site each.
struct Runs {
    /// Runs of lines of one site, the newest run first, each run's lines oldest first (as
    /// planning expects). Schedules are shared by all sites, so lines of sites that took
    /// turns (an --all-sites run's) are undone in turn.
    by_site: Vec<(String, Vec<(usize, AuditLine)>)>,
    /// Lines that are not undone here, and why, oldest first.
    refused: Vec<String>,
    /// How many of them were called on another server.
    foreign: usize,
}

impl Runs {
    /// `lines` (oldest first) of `server` in runs by site; with `here`, the one site the
    /// user chose, whose lines alone are undone.
    fn of(lines: Vec<(usize, AuditLine)>, server: &str, here: Option<&str>) -> Runs {
        let mut runs = Runs {
            by_site: Vec::new(),
            refused: Vec::new(),
            foreign: 0,
        };
        for (number, line) in lines.into_iter().rev() {
            let site = here.unwrap_or(line.site.as_str());
            if !same_server(&line.server, server) {
                runs.foreign += 1;
                runs.refused.push(format!(
                    "line {number}: {} was called on {}, not {server}",
                    line.method, line.server
                ));
            } else if !line.site.eq_ignore_ascii_case(site) {
                runs.refused.push(format!(
                    "line {number}: {} was called on site {:?}, not {site:?}; undo it with --site {:?}",
                    line.method, line.site, line.site
                ));
            } else {
                match runs.by_site.last_mut() {
                    Some((s, selected)) if s.eq_ignore_ascii_case(site) => {
                        selected.push((number, line));
                    }
                    _ => runs.by_site.push((site.to_string(), vec![(number, line)])),
                }
            }
        }
        runs.refused.reverse();
        for (_, selected) in &mut runs.by_site {
            selected.reverse();
        }
        runs
    }
}

/// Undo each run of lines on its site, newest first; the number of steps that failed.
fn undo_runs(
    client: &crate::vizportal::Client,
    by_site: &[(String, Vec<(usize, AuditLine)>)],
    audit_file: &Path,
) -> usize {
    let server = client.session().server().to_string();
    let mut failed = 0;
    let mut recreated = BTreeMap::new();
    let mut put_back = PutBack::default();
    // Schedules are shared by the sites: one any line deleted is gone for every site's
    // tasks to be created on.
    let deleted_schedules =
        crate::vizportal::deleted_schedules(by_site.iter().flat_map(|(_, lines)| lines));
    for (run, (site, selected)) in by_site.iter().enumerate() {
        // The site's older runs: a task they changed may be deleted in this one.
        let earlier: Vec<&(usize, AuditLine)> = by_site[run + 1..]
            .iter()
            .rev()
            .filter(|(s, _)| s.eq_ignore_ascii_case(site))
            .flat_map(|(_, lines)| lines)
            .collect();
        let current = client.session().info().site_url_name;
        if !site.eq_ignore_ascii_case(&current)
            && let Err(e) = client.session().switch_site(site)
        {
            crate::diag!(
                "undo: cannot go to site {site:?} for its {} line(s): {e}",
                selected.len()
            );
            failed += 1;
            continue;
        }
        crate::diag!(
            "undo: {} audited call(s) from {} on site {site:?} of {server}",
            selected.len(),
            audit_file.display()
        );
        let mut history = UndoHistory {
            earlier: &earlier,
            recreated: std::mem::take(&mut recreated),
            deleted_schedules: deleted_schedules.clone(),
            put_back: std::mem::take(&mut put_back),
        };
        match client.plan_undo(selected, &history) {
            Ok(plan) => {
                failed += undo_plan(client, &plan, &mut history);
                (recreated, put_back) = (history.recreated, history.put_back);
            }
            Err(e) => {
                (recreated, put_back) = (history.recreated, history.put_back);
                crate::diag!("undo: cannot plan the undo on site {site:?}: {e}");
                failed += 1;
            }
        }
    }
    failed
}

/// Report `plan` and carry it out; the number of steps that failed. Tasks created again
/// as they were before older runs of lines are added to `recreated` (old id: new id, or
/// `None` under `--dry-run`).
fn undo_plan(
    client: &crate::vizportal::Client,
    plan: &UndoPlan,
    history: &mut UndoHistory,
) -> usize {
    report_plan(plan);
    let (results, outcomes) = client.apply_undo(plan, history);
    if client.dry_run() {
        history.put_back.absorb(plan, &results);
    }
    let recreated = &mut history.recreated;
    let verb = if client.dry_run() {
        "would put back"
    } else {
        "put back"
    };
    let mut failed = 0;
    for (call, result) in plan.calls.iter().zip(&results) {
        match result {
            Ok(ids) => crate::diag!("  {} {verb} {} id(s)", call.method, ids.len()),
            Err(e) => {
                failed += 1;
                // The error names its method already ("M failed: ...", "M: ...").
                crate::diag!("  failed: {e}");
            }
        }
    }
    for (task, outcome) in plan.recreate.iter().zip(&outcomes) {
        failed += usize::from(!report_recreated(task, outcome));
        if plan.restored_from_earlier.contains(&task.id) {
            match outcome {
                Recreated::Created { new_id, .. } => {
                    recreated.insert(task.id.clone(), Some(new_id.clone()));
                }
                Recreated::Planned => {
                    recreated.insert(task.id.clone(), None);
                }
                _ => {}
            }
        }
    }
    failed
}

/// One re-creation's outcome on stderr; false when it did not fully succeed.
fn report_recreated(task: &Recreation, outcome: &Recreated) -> bool {
    let what = format!("deleted task {}", task.id);
    match outcome {
        Recreated::Planned => {
            let priority = task.priority.as_ref().map_or(String::new(), |p| {
                format!(", then set its priority to {p} if the server gives another")
            });
            crate::diag!("  would create {what} again{priority}");
            true
        }
        Recreated::Created { new_id, note: None } => {
            crate::diag!("  created {what} again: it is task {new_id} now");
            true
        }
        Recreated::Created {
            new_id,
            note: Some(note),
        } => {
            crate::diag!("  created {what} again as task {new_id}, but {note}");
            false
        }
        Recreated::Present(why) if task.made_by_run.is_some() => {
            crate::diag!("  cannot be undone: {what} is not created again: {why}");
            true
        }
        Recreated::Present(why) => {
            crate::diag!("  skipped, changed since: {what} is not created again: {why}");
            true
        }
        Recreated::Unconfirmed(why) => {
            crate::diag!("  {what}: {why}");
            false
        }
        Recreated::Failed(why) => {
            crate::diag!("  {what} was not created again: {why}");
            false
        }
    }
}

/// Calls reported under `label`, one line per method and reason (a per-task loop's
/// audit has thousands of lines that say the same): which audit lines, how many ids, the
/// first of them.
fn report_calls(label: &str, calls: &[NotUndoable]) {
    /// The audit lines and ids of one method and reason.
    type Group<'a> = ((&'a str, &'a str), Vec<usize>, Vec<&'a str>);
    let mut groups: Vec<Group> = Vec::new();
    // Where each group is, found without a search (a reason may name its line, so there
    // may be as many groups as lines).
    let mut places = std::collections::HashMap::new();
    for call in calls {
        let key = (call.method.as_str(), call.reason.as_str());
        let at = *places.entry(key).or_insert_with(|| {
            groups.push((key, Vec::new(), Vec::new()));
            groups.len() - 1
        });
        groups[at].1.push(call.line);
        groups[at].2.extend(call.ids.iter().map(String::as_str));
    }
    for ((method, reason), lines, ids) in groups {
        // createExtractTasks names workbooks or data sources, not the tasks it made.
        let what = match method {
            crate::wire::method::CREATE_EXTRACT_TASKS => "target(s)",
            _ => "id(s)",
        };
        crate::diag!(
            "{label}: {}: {method} ({} {what}: {}): {reason}",
            line_list(&lines),
            ids.len(),
            crate::wire::first_ids(ids.iter(), 10)
        );
    }
}

/// Audit line numbers for a message (each once, however many of its ids it counts):
/// `line 4`, or `12 lines (4 to 97)`.
fn line_list(lines: &[usize]) -> String {
    let mut lines = lines.to_vec();
    lines.sort_unstable();
    lines.dedup();
    match (&lines[..], lines.first(), lines.last()) {
        ([one], _, _) => format!("line {one}"),
        (_, Some(first), Some(last)) => format!("{} lines ({first} to {last})", lines.len()),
        _ => "no line".to_string(),
    }
}

/// The plan on stderr: calls that cannot be undone, skipped ids, and the inverse calls.
fn report_plan(plan: &UndoPlan) {
    report_calls("cannot be undone", &plan.not_undoable);
    report_calls("skipped, gone since", &plan.gone);
    report_calls("nothing to put back", &plan.unchanged);
    // Ids changed since, by method and field: the first few with their values.
    let mut by_field: Vec<((&str, &str), Vec<&crate::vizportal::Skipped>)> = Vec::new();
    for skip in &plan.skipped {
        let key = (skip.method.as_str(), skip.field.as_str());
        match by_field.iter_mut().find(|(k, _)| *k == key) {
            Some((_, skips)) => skips.push(skip),
            None => by_field.push((key, vec![skip])),
        }
    }
    for ((method, field), skips) in by_field {
        let lines: Vec<usize> = skips.iter().map(|s| s.line).collect();
        let shown = skips.iter().map(|s| {
            format!(
                "{} (now {}, the audited call set {})",
                s.id, s.now, s.audited
            )
        });
        crate::diag!(
            "skipped, changed since: {}: {method}: the {field} of {} id(s): {}",
            line_list(&lines),
            skips.len(),
            crate::wire::first_ids(shown, 5)
        );
    }
    let recreate = match plan.recreate.len() {
        0 => String::new(),
        n => format!(", and {n} deleted extract task(s) to create again"),
    };
    let nothing = match plan.calls.is_empty() && plan.recreate.is_empty() {
        true => ": everything the audit changed is as it was before it, or listed above",
        false => "",
    };
    crate::diag!("undo plan: {} call(s){recreate}{nothing}", plan.calls.len());
    for (n, call) in plan.calls.iter().enumerate() {
        crate::diag!(
            "{:>3}. (line {}) {} {} ids {}",
            n + 1,
            call.line,
            call.method,
            call.ids.len(),
            serde_json::Value::Object(call.params.clone())
        );
    }
    if !plan.recreate.is_empty() {
        crate::diag!(
            "deleted extract tasks to create again (they get new ids): {}",
            plan.recreate.len()
        );
    }
    for task in &plan.recreate {
        let priority = task
            .priority
            .as_ref()
            .map_or(String::new(), |p| format!(", priority {p}"));
        crate::diag!(
            "     (line {}) task {}: {} of {} {} on schedule {}{priority}",
            task.line,
            task.id,
            task.task_type,
            task.target_type,
            task.target_id,
            task.schedule_id
        );
    }
}

/// The audit file's lines with their 1-based numbers; a line that is not an audit line
/// is a usage error naming it, except a line cut off before its end (the run was killed
/// while writing it), which is left out with a warning.
fn read_lines(path: &Path) -> Result<Vec<(usize, AuditLine)>, Failure> {
    let bytes =
        std::fs::read(path).map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
    // Read as text line by line: a line cut off inside a character spoils only itself.
    let text = String::from_utf8_lossy(&bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(parsed) => lines.push((i + 1, parsed)),
            Err(e) if e.is_eof() => crate::diag!(
                "warning: {}:{}: the line is cut off ({e}); it is left out: what it recorded may have been sent, check it by hand",
                path.display(),
                i + 1
            ),
            Err(e) => {
                return Err(Failure::usage(format!(
                    "{}:{}: not an audit line: {e}",
                    path.display(),
                    i + 1
                )));
            }
        }
    }
    Ok(lines)
}

fn written_at(line: &AuditLine) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(&line.time).ok()
}

fn same_server(a: &str, b: &str) -> bool {
    a.trim_end_matches('/')
        .eq_ignore_ascii_case(b.trim_end_matches('/'))
}

//! `run --all-sites` and `run --sites A,B,...`: the script once per site, each run on its
//! own site with its own scope and the same `ARGS`. With a password, sites run at once
//! over separate sessions (`--site-concurrency`); a token or an existing session is one
//! session, so its sites run one after another, switching (a token signs in again). What
//! a site's run prints is kept together and printed in site order; a table at the end
//! says how each site went. One site failing does not stop the others.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rhai::AST;
use serde_json::{Value, json};

use super::connect::{Connection, Connector};
use super::failure::Failure;
use super::rehearsal::Rehearsal;
use super::run::SCRIPT_STACK;
use crate::cli::{RunArgs, SettingOrigin};
use crate::exit::ExitCode;
use crate::script::{Host, Limits, Output, Script, build_engine};
use crate::vizportal::{Client, PlannedCall};
use crate::wire::method;

/// A site to run on.
#[derive(Debug, Clone)]
struct Site {
    url_name: String,
    name: String,
}

/// How one site's run went.
struct SiteOutcome {
    printed: String,
    result: Result<(), Failure>,
    mutations: usize,
    elapsed: Duration,
    plan: Vec<PlannedCall>,
}

/// Everything a site's run needs besides its connection.
struct Job<'a> {
    script: &'a Script,
    ast: &'a AST,
    args: &'a [String],
    limits: &'a Limits,
    cancel: Arc<AtomicBool>,
}

/// Run the script on every site (or the named ones).
pub fn run_sites(
    args: &RunArgs,
    script: &Script,
    ast: &AST,
    limits: &Limits,
    quiet: bool,
) -> Result<(), Failure> {
    if args.connect.origin("site") == Some(SettingOrigin::Flag) {
        return Err(Failure::usage(
            "--site picks one site, but --all-sites and --sites run on their own: drop --site, or name the site in --sites",
        ));
    }
    let rehearsal = Rehearsal::start(&args.rehearse, &args.connect)?;
    let (rehearsal, connector) = match rehearsal {
        Some((rehearsal, connector)) => (Some(rehearsal), connector),
        None => (None, Connector::new(&args.connect, true)?),
    };
    let first = connector.open(None)?;
    let sites = sites(args, &first.client)?;
    // A token session (a saved one, with no secret given) is on one site: refuse before
    // any site runs rather than run on that one and fail on the others.
    // A site the first session cannot go to (a saved token session, with no secret given,
    // on another site) stops the run before any site runs, rather than after some did.
    let session = first.client.session();
    if let Some(refused) = sites
        .iter()
        .find_map(|site| session.can_go_to(&site.url_name).err())
    {
        let mut failure = Failure::from(refused);
        failure.message = format!("{}; nothing was run", failure.message.trim_end());
        return Err(failure);
    }
    let cancel = Arc::new(AtomicBool::new(false));
    super::on_interrupt(cancel.clone());
    let job = Job {
        script,
        ast,
        args: &args.args,
        limits,
        cancel,
    };
    let printer = Printer::new(&sites, !quiet && std::io::stderr().is_terminal());
    let at_once = connector.can_open_many() && args.site_concurrency > 1;
    let outcomes = if at_once {
        concurrently(&connector, &sites, &job, &printer, args.site_concurrency)
    } else {
        // One thread with the script stack runs every site in turn.
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("sites".into())
                .stack_size(SCRIPT_STACK)
                .spawn_scoped(scope, || one_by_one(&first, &sites, &job, &printer))
                .ok()
                .and_then(|thread| thread.join().ok())
                // A thread that could not start or that stopped on an internal error
                // reports no site: none counts as a success.
                .unwrap_or_else(|| sites.iter().map(|_| not_run()).collect())
        })
    };
    first.close()?;
    // Sites run at once plan apart (their stand-in ids count their own calls); one after
    // the other, on one connection, they number one plan.
    let parts: Vec<Vec<PlannedCall>> = match at_once {
        true => outcomes.iter().map(|o| o.plan.clone()).collect(),
        false => vec![outcomes.iter().flat_map(|o| o.plan.clone()).collect()],
    };
    first.report_plan_parts(&parts, true)?;
    summary(&sites, &outcomes);
    if let Some(rehearsal) = &rehearsal {
        rehearsal.report()?;
    }
    match outcomes.into_iter().find_map(|o| o.result.err()) {
        None => Ok(()),
        Some(failure) => Err(Failure::new(failure.code, "")),
    }
}

/// `text` cut to about `most` characters at a word's end, with an ellipsis when cut (the
/// whole message is in the site's own output above the table).
fn shortened(text: &str, most: usize) -> String {
    if text.chars().count() <= most {
        return text.to_string();
    }
    let cut: String = text.chars().take(most).collect();
    let at_word = cut
        .rfind(' ')
        .filter(|&i| i > most / 2)
        .unwrap_or(cut.len());
    format!("{} ...", cut[..at_word].trim_end())
}

/// A site as `--sites` names it: spaces around it dropped, and `""` (quotes the shell
/// passed on) the Default site, as README writes it.
fn site_named(text: &str) -> String {
    match text.trim() {
        "\"\"" | "''" => String::new(),
        name => name.to_string(),
    }
}

/// The named sites, or every site the user can reach.
fn sites(args: &RunArgs, client: &Client) -> Result<Vec<Site>, Failure> {
    let listed: Vec<Value> = client.list_all(
        method::GET_SITE_NAMES_ACROSS_ALL_PODS,
        &json!({}),
        "siteNames",
        &|items: Vec<Value>, _| items,
        &|_, _| {},
    )?;
    let known: Vec<Site> = listed
        .iter()
        .map(|s| Site {
            url_name: s["urlName"].as_str().unwrap_or_default().to_string(),
            name: s["name"].as_str().unwrap_or_default().to_string(),
        })
        .collect();
    if args.sites.is_empty() {
        return Ok(known);
    }
    // A site named twice (in any case) runs once: twice would apply every change twice.
    let mut named: Vec<String> = Vec::new();
    for wanted in args.sites.iter().map(|s| site_named(s)) {
        if !named.iter().any(|n| n.eq_ignore_ascii_case(&wanted)) {
            named.push(wanted);
        }
    }
    Ok(named
        .into_iter()
        .map(|wanted| {
            known
                .iter()
                .find(|s| s.url_name.eq_ignore_ascii_case(&wanted))
                .cloned()
                .unwrap_or_else(|| Site {
                    url_name: wanted.clone(),
                    name: wanted,
                })
        })
        .collect())
}

/// Sites at once, each over its own session, up to `limit` at a time.
fn concurrently(
    connector: &Connector,
    sites: &[Site],
    job: &Job,
    printer: &Printer,
    limit: usize,
) -> Vec<SiteOutcome> {
    let next = AtomicUsize::new(0);
    let results: Mutex<BTreeMap<usize, SiteOutcome>> = Mutex::default();
    std::thread::scope(|scope| {
        for worker in 0..limit.min(sites.len()) {
            let (next, results) = (&next, &results);
            let spawned = std::thread::Builder::new()
                .name(format!("site-{worker}"))
                .stack_size(SCRIPT_STACK)
                .spawn_scoped(scope, move || {
                    loop {
                        let index = next.fetch_add(1, Ordering::SeqCst);
                        let Some(site) = sites.get(index) else { break };
                        let started = Instant::now();
                        let outcome = match connector.open(Some(&site.url_name)) {
                            Ok(connection) => {
                                let outcome = run_on(&connection.client, job);
                                let closed = connection.close();
                                with_close(outcome, closed)
                            }
                            Err(failure) => failed_before_running(failure, started),
                        };
                        printer.done(index, &outcome);
                        results
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert(index, outcome);
                    }
                });
            if let Err(e) = spawned {
                crate::diag!("warning: cannot start a site thread: {e}");
            }
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    (0..sites.len())
        .map(|i| results.remove(&i).unwrap_or_else(not_run))
        .collect()
}

/// Sites one after another on one session, switching site before each run.
fn one_by_one(
    connection: &Connection,
    sites: &[Site],
    job: &Job,
    printer: &Printer,
) -> Vec<SiteOutcome> {
    let client = &connection.client;
    let mut outcomes = Vec::with_capacity(sites.len());
    for (index, site) in sites.iter().enumerate() {
        let started = Instant::now();
        let session = client.session();
        let here = session.info().site_url_name;
        let switched = if here.eq_ignore_ascii_case(&site.url_name) {
            Ok(())
        } else {
            session
                .switch_site(&site.url_name)
                .map(|_| ())
                .map_err(Failure::from)
        };
        let outcome = match switched {
            Ok(()) => {
                let planned = client.plan().len();
                let mut outcome = run_on(client, job);
                outcome.plan = client.plan().split_off(planned);
                outcome
            }
            Err(failure) => failed_before_running(failure, started),
        };
        printer.done(index, &outcome);
        outcomes.push(outcome);
        if job.cancel.load(Ordering::SeqCst) {
            break;
        }
    }
    outcomes
}

/// One run of the script on the client's current site; what it prints is kept.
fn run_on(client: &Arc<Client>, job: &Job) -> SiteOutcome {
    let printed = Arc::new(Mutex::new(String::new()));
    let sink = printed.clone();
    let output: Output = Arc::new(move |text: &str| {
        let mut buffer = sink.lock().unwrap_or_else(|p| p.into_inner());
        buffer.push_str(text);
        buffer.push('\n');
    });
    let host = Host::new(Some(client.clone()), output, false);
    host.label(format!("site {:?}", client.session().info().site_url_name));
    let engine = build_engine(host, job.limits, job.cancel.clone());
    let before = client.mutating_calls();
    let lost_before = client.audit_lost().is_some();
    let started = Instant::now();
    let result = match (
        job.script.run(&engine, job.ast, job.args),
        client.audit_lost().filter(|_| !lost_before),
    ) {
        // A change this site's run sent is missing from the audit file.
        (Ok(()), Some(why)) => Err(Failure::new(ExitCode::Failed, format!("error: {why}"))),
        (result, _) => result.map_err(Failure::from),
    };
    let printed = printed.lock().unwrap_or_else(|p| p.into_inner()).clone();
    SiteOutcome {
        printed,
        result,
        mutations: client.mutating_calls() - before,
        elapsed: started.elapsed(),
        plan: client.plan(),
    }
}

fn with_close(mut outcome: SiteOutcome, closed: Result<(), Failure>) -> SiteOutcome {
    if let (Ok(()), Err(failure)) = (&outcome.result, closed) {
        outcome.result = Err(failure);
    }
    outcome
}

/// A site whose run never reported: its thread could not start, or stopped on an
/// internal error (what it printed is above).
fn not_run() -> SiteOutcome {
    let failure = Failure::new(
        ExitCode::Failed,
        "error: the site's run did not report (its thread could not start or stopped on an internal error)",
    );
    failed_before_running(failure, Instant::now())
}

fn failed_before_running(failure: Failure, started: Instant) -> SiteOutcome {
    SiteOutcome {
        printed: String::new(),
        result: Err(failure),
        mutations: 0,
        elapsed: started.elapsed(),
        plan: Vec::new(),
    }
}

/// The next site to print, and the finished sites waiting for it: (stdout, stderr).
type Pending = (usize, BTreeMap<usize, (String, String)>);

/// Prints each site's output as one block, in site order, as soon as it and every site
/// before it are done; on a terminal, a progress line per finished site on stderr.
struct Printer<'a> {
    sites: &'a [Site],
    progress: bool,
    state: Mutex<Pending>,
    finished: AtomicUsize,
}

impl<'a> Printer<'a> {
    fn new(sites: &'a [Site], progress: bool) -> Printer<'a> {
        Printer {
            sites,
            progress,
            state: Mutex::new((0, BTreeMap::new())),
            finished: AtomicUsize::new(0),
        }
    }

    fn done(&self, index: usize, outcome: &SiteOutcome) {
        let site = &self.sites[index];
        let header = format!("── site {} ({:?}) ──\n", site.name, site.url_name);
        let report = match &outcome.result {
            Ok(()) => String::new(),
            Err(failure) => failure.message.clone(),
        };
        if self.progress {
            let finished = self.finished.fetch_add(1, Ordering::SeqCst) + 1;
            let result = if outcome.result.is_ok() {
                "ok"
            } else {
                "error"
            };
            crate::diag!(
                "[{finished}/{}] {:?}: {result} in {:.1} s",
                self.sites.len(),
                site.url_name,
                outcome.elapsed.as_secs_f64()
            );
        }
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let state = &mut *guard;
        state
            .1
            .insert(index, (format!("{header}{}", outcome.printed), report));
        while let Some((printed, report)) = state.1.remove(&state.0) {
            crate::stdout::write(printed.as_bytes());
            if !report.is_empty() {
                let site = &self.sites[state.0];
                crate::diag_part!("site {:?}: {report}", site.url_name);
                if !report.ends_with('\n') {
                    crate::diag!();
                }
            }
            state.0 += 1;
        }
    }
}

/// The closing table on stderr: site, result, mutating calls, time.
fn summary(sites: &[Site], outcomes: &[SiteOutcome]) {
    let rows: Vec<[String; 4]> = sites
        .iter()
        .zip(outcomes)
        .map(|(site, outcome)| {
            let result = match &outcome.result {
                Ok(()) => "ok".to_string(),
                Err(failure) => {
                    let first = failure
                        .message
                        .lines()
                        .find(|l| !l.trim().is_empty())
                        .unwrap_or("failed")
                        .trim()
                        .trim_start_matches("error: ");
                    format!("error: {}", shortened(first, 70))
                }
            };
            [
                format!("{:?}", site.url_name),
                result,
                outcome.mutations.to_string(),
                format!("{:.1} s", outcome.elapsed.as_secs_f64()),
            ]
        })
        .collect();
    let header = ["site", "result", "mutating calls", "time"].map(str::to_string);
    let widths: Vec<usize> = (0..4)
        .map(|c| {
            rows.iter()
                .chain(std::iter::once(&header))
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |r: &[String; 4]| {
        format!(
            "{:w0$}  {:w1$}  {:>w2$}  {:>w3$}",
            r[0],
            r[1],
            r[2],
            r[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        )
    };
    let ok = outcomes.iter().filter(|o| o.result.is_ok()).count();
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}", line(&header).trim_end());
    for row in &rows {
        let _ = writeln!(err, "{}", line(row).trim_end());
    }
    let _ = writeln!(err, "{ok} of {} sites succeeded", sites.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_errors_are_cut_at_a_word() {
        assert_eq!(shortened("short", 70), "short");
        let long =
            "site \"x\" does not exist or the user is not a member of it (use the site's URL name)";
        let cut = shortened(long, 70);
        assert!(cut.ends_with(" ...") && cut.len() <= 74, "{cut}");
        assert!(long.starts_with(cut.trim_end_matches(" ...")), "{cut}");
        assert!(!cut.contains(" o ..."), "{cut}");
    }
}

//! Command-line types only: what the user can type. Field docs are the `--help` text.
//! Meaning is resolved once, in `app`, into the options the library takes.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Script Tableau Server's Vizportal API: move extract tasks between schedules, change
/// priorities, run tasks in bulk, from Rhai scripts or an interactive REPL.
#[derive(Debug, Parser)]
#[command(
    name = "vizscript",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// More diagnostics on stderr (-v: info, -vv: debug). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr, besides what a run reports by design (a dry run's plan, the
    /// --all-sites table): no banners, progress or notes.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in once, run a Rhai script, exit.
    Run(RunArgs),
    /// Log in once and explore interactively (or evaluate piped input).
    Repl(ReplArgs),
    /// One raw Vizportal call; the result as JSON on stdout.
    Call(CallArgs),
    /// Serve the bundled Vizportal emulator (sample admin: admin / admin).
    Emulator(EmulatorArgs),
    /// List every script function with its signature and documentation.
    Functions(FunctionsArgs),
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Sign in; with --save keep the session so later commands need no credential.
    Login(LoginArgs),
    /// End the saved session on the server and delete it.
    Logout(LogoutArgs),
    /// Show the resolved settings and where each came from.
    Config(ConfigArgs),
    /// A read-only copy of the server (sites, schedules, extract tasks, subscriptions and
    /// what explains them) in the emulator's data format, for --rehearse and diff.
    Snapshot(SnapshotArgs),
    /// What changed between two snapshots (e.g. one taken before and one after a run).
    Diff(DiffArgs),
    /// Put back what the calls of an audit file changed, newest first, on each site they
    /// name (or only --site), skipping ids changed since by someone else, and create
    /// deleted extract tasks again (--dry-run shows the plan).
    Undo(UndoArgs),
}

/// `vizscript snapshot`.
#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Write the snapshot to this file (default: stdout).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// `vizscript diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The snapshot taken first.
    #[arg(value_name = "BEFORE")]
    pub before: PathBuf,
    /// The snapshot taken later.
    #[arg(value_name = "AFTER")]
    pub after: PathBuf,
    /// Also write the difference as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub diff_json: Option<PathBuf>,
}

/// `vizscript undo`.
#[derive(Debug, Args)]
pub struct UndoArgs {
    /// The audit file (`--audit`) of the run to take back.
    #[arg(value_name = "AUDIT.jsonl")]
    pub audit_file: PathBuf,
    /// Only lines written at or after this time (RFC 3339, e.g. 2026-11-30T08:00:00Z).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// `--rehearse`: run against a snapshot in an in-process emulator.
#[derive(Debug, Clone, Args)]
pub struct RehearseArgs {
    /// Run against an in-process emulator loaded with this snapshot (`vizscript
    /// snapshot`), signed in as the snapshot's user on its site; nothing reaches any
    /// server and no credential is asked for. What changed is printed at the end.
    #[arg(long, value_name = "SNAPSHOT", conflicts_with = "demo")]
    pub rehearse: Option<PathBuf>,
    /// With --rehearse, also write what changed as JSON to this file.
    #[arg(long, value_name = "FILE", requires = "rehearse")]
    pub diff_json: Option<PathBuf>,
}

/// `vizscript login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Keep the session (server, site, user, session id; never a password or token secret)
    /// in the user's state directory for later commands (not of --demo's emulator, which
    /// is gone when the command ends).
    #[arg(long, conflicts_with = "demo")]
    pub save: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// `vizscript logout`.
#[derive(Debug, Args)]
pub struct LogoutArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// `vizscript config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// What to do with the configuration.
    #[command(subcommand)]
    pub action: ConfigAction,
}

/// `vizscript config ...`.
#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Print the settings `run`, `repl` and `call` would use, each with its source
    /// (flag, environment, profile or default); secrets redacted.
    Show {
        #[command(flatten)]
        connect: ConnectArgs,
    },
}

/// Where a connection setting came from; filled in after parsing (see
/// `app::profile::apply`) for the settings that were given at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingOrigin {
    /// A flag on the command line.
    Flag,
    /// An environment variable (`TABLEAU_SITE`, ...).
    Environment,
    /// The `--profile` in the config file.
    Profile,
}

/// Where and how to sign in; shared by `run`, `repl` and `call`.
#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    /// Server base URL, e.g. https://tableau.example.com
    // Its value is not shown in --help: a URL may carry a password.
    #[arg(
        long,
        env = "TABLEAU_SERVER",
        value_name = "URL",
        hide_env_values = true
    )]
    pub server: Option<String>,
    /// User to sign in as.
    #[arg(long, env = "TABLEAU_USERNAME", value_name = "NAME")]
    pub username: Option<String>,
    /// Site to work on, by URL name ("" = Default). The tool switches to it after login.
    #[arg(long, env = "TABLEAU_SITE", value_name = "URLNAME")]
    pub site: Option<String>,
    /// Read the password from the first line of this file (else TABLEAU_PASSWORD, or a prompt).
    #[arg(long, value_name = "PATH", conflicts_with = "password_stdin")]
    pub password_file: Option<PathBuf>,
    /// Read the password from the first line of standard input (at a terminal, a prompt
    /// that does not show what is typed).
    #[arg(long)]
    pub password_stdin: bool,
    /// Sign in with this personal access token (its secret from TABLEAU_PAT_SECRET,
    /// --token-file or a prompt; never a flag value).
    #[arg(long, env = "TABLEAU_PAT_NAME", value_name = "NAME")]
    pub token_name: Option<String>,
    /// Read the personal access token's secret from the first line of this file.
    #[arg(long, value_name = "PATH", requires = "token_name")]
    pub token_file: Option<PathBuf>,
    /// Use this existing workgroup_session_id (e.g. from a browser after single sign-on);
    /// TABLEAU_XSRF_TOKEN may give the session's XSRF token.
    #[arg(
        long,
        env = "TABLEAU_SESSION_ID",
        value_name = "ID",
        hide_env_values = true,
        value_parser = secret_value
    )]
    pub session_id: Option<secrecy::SecretString>,
    /// Named settings from the config file (see `vizscript config show`).
    #[arg(long, env = "VIZSCRIPT_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
    /// Send every request through this proxy (default: the environment's HTTPS_PROXY etc.).
    #[arg(long, value_name = "URL", conflicts_with = "no_proxy")]
    pub proxy: Option<String>,
    /// Use no proxy, not even one from the environment.
    #[arg(long)]
    pub no_proxy: bool,
    /// Extra trusted root certificate(s) in PEM, for a private CA.
    #[arg(long, env = "TABLEAU_CA_CERT", value_name = "PEM", value_parser = any_path)]
    pub ca_cert: Vec<PathBuf>,
    /// Accept any TLS certificate (prints a warning every time).
    #[arg(long)]
    pub insecure: bool,
    /// Per-request timeout in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
    /// Retries for transient failures (reads and set*/update* calls; run/create/delete only
    /// when the request certainly did not reach the server).
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub retries: usize,
    /// First retry delay in milliseconds (at most 60000); it doubles each retry, with
    /// jitter, up to 5 s or this first delay, whichever is longer (or as long as a busy
    /// server's Retry-After asks, up to 60 s).
    #[arg(
        long,
        env = "VIZSCRIPT_RETRY_DELAY_MS",
        value_name = "MS",
        default_value_t = 200,
        value_parser = clap::value_parser!(u64).range(0..=60_000)
    )]
    pub retry_delay_ms: u64,
    /// Record mutating calls instead of sending them, and print the plan at the end.
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run, also write the plan as JSON to this file.
    #[arg(long, value_name = "FILE", requires = "dry_run")]
    pub plan_json: Option<PathBuf>,
    /// Append one JSON line per mutating call to this file.
    #[arg(long, env = "VIZSCRIPT_AUDIT", value_name = "FILE", value_parser = any_path)]
    pub audit: Option<PathBuf>,
    /// Items asked for per page in list calls (the server may serve fewer).
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = at_least_one)]
    pub page_size: usize,
    /// Most requests in flight at once when fetching the remaining pages of a list and
    /// when sending the chunks of an idempotent batch (1 = strictly one at a time). While
    /// the server answers within 20 ms, two are enough and more only cost CPU.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = at_least_one)]
    pub concurrency: usize,
    /// Most ids sent in one batch request.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = at_least_one)]
    pub chunk_size: usize,
    /// Start the bundled emulator with sample data in-process and sign in to it as admin
    /// (a server, and a user it does not know, from the environment or a profile are set
    /// aside).
    #[arg(long)]
    pub demo: bool,
    /// Where each given setting came from, by name (`server`, `site`, ...).
    #[arg(skip)]
    pub origins: std::collections::BTreeMap<&'static str, SettingOrigin>,
}

/// A path, empty too: an empty variable (`VIZSCRIPT_AUDIT=`) counts as not set, and an
/// empty flag value is refused, when the profile is applied.
fn any_path(text: &str) -> Result<PathBuf, std::convert::Infallible> {
    Ok(PathBuf::from(text))
}

/// A flag's value held as a secret from the start (debug output redacts it).
fn secret_value(text: &str) -> Result<secrecy::SecretString, std::convert::Infallible> {
    Ok(secrecy::SecretString::from(text))
}

impl ConnectArgs {
    /// Where `setting` came from; `None` when it was not given (or not recorded).
    pub fn origin(&self, setting: &str) -> Option<SettingOrigin> {
        self.origins.get(setting).copied()
    }
}

/// `vizscript run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The Rhai script.
    #[arg(value_name = "SCRIPT.rhai")]
    pub script: PathBuf,
    /// Connection and safety options.
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Stop the script after this many operations (0 = no limit).
    #[arg(long, value_name = "N", default_value_t = 500_000_000)]
    pub max_operations: u64,
    /// Stop the script when the heap vizscript holds has grown by more than this many MiB
    /// since it began (0 = no limit): data that runs away ends with an error, not by
    /// taking the machine's memory. Checked between operations and while to_json and
    /// table build their text, so one other operation can pass it (an array doubling
    /// itself, a string built from a huge value). Sites run at once with --all-sites share
    /// it.
    #[arg(long, value_name = "MIB", default_value_t = crate::script::MAX_MEMORY_MIB)]
    pub max_memory: usize,
    /// Run the script once on every site the user can reach, each run on its own site
    /// with its own scope; a summary line per site at the end.
    #[arg(long, conflicts_with = "sites")]
    pub all_sites: bool,
    /// Run the script once on each of these sites (URL names, comma-separated; "" is
    /// Default).
    #[arg(long, value_name = "A,B,...", value_delimiter = ',', num_args = 1..)]
    pub sites: Vec<String>,
    /// Sites run at once with --all-sites/--sites, each over its own session (a token or
    /// an existing session runs one site at a time).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = at_least_one)]
    pub site_concurrency: usize,
    /// Rehearsal against a snapshot.
    #[command(flatten)]
    pub rehearse: RehearseArgs,
    /// Arguments for the script, available as ARGS.
    #[arg(last = true, value_name = "ARG")]
    pub args: Vec<String>,
}

/// `vizscript repl`.
#[derive(Debug, Args)]
pub struct ReplArgs {
    /// Connection and safety options.
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Stop one evaluation after this many operations (0 = no limit).
    #[arg(long, value_name = "N", default_value_t = 500_000_000)]
    pub max_operations: u64,
    /// Stop one evaluation when the heap vizscript holds has grown by more than this many
    /// MiB since it began (0 = no limit).
    #[arg(long, value_name = "MIB", default_value_t = crate::script::MAX_MEMORY_MIB)]
    pub max_memory: usize,
    /// Rehearsal against a snapshot.
    #[command(flatten)]
    pub rehearse: RehearseArgs,
}

/// `vizscript call`.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// The Vizportal method, e.g. getSessionInfo (`:methods` in the REPL lists the known
    /// ones; any other name of letters, digits and _ is sent as given).
    #[arg(value_parser = MethodName, hide_possible_values = true)]
    pub method: String,
    /// The params as a JSON object (default {}).
    #[arg(value_name = "PARAMS_JSON")]
    pub params: Option<String>,
    /// Fetch every page of a list method and merge them: each array member holds the
    /// items of all pages (side tables without duplicate ids), `moreItems` is false.
    #[arg(long)]
    pub all_pages: bool,
    /// How to print the result. `table` and `csv` show the result's list: the member
    /// named for the method (`views` for getViews), else its longest array of maps.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = CallOutput::Json)]
    pub output: CallOutput,
    /// Connection and safety options.
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// `vizscript emulator --page-overflow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PageOverflowArg {
    /// Serve --max-page items; `moreItems` tells the client to page on.
    Clamp,
    /// Refuse the call with code 19 (invalid page size).
    Reject,
}

/// How `vizscript call` prints the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CallOutput {
    /// The `result` as indented JSON.
    Json,
    /// The result's list as an aligned table.
    Table,
    /// The result's list as CSV (a header row, then one row per item).
    Csv,
}

/// Accepts any method name, and offers the known ones to shell completion.
#[derive(Debug, Clone, Copy)]
pub struct MethodName;

impl clap::builder::TypedValueParser for MethodName {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::NonEmptyStringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            crate::wire::KNOWN_METHODS
                .iter()
                .map(|m| clap::builder::PossibleValue::new(m.name)),
        ))
    }
}

/// `vizscript emulator`.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Load this JSON dataset instead of the generated sample data.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// Extract tasks in the sample data.
    #[arg(long, value_name = "N", default_value_t = 300)]
    pub tasks: usize,
    /// Schedules in the sample data.
    #[arg(long, value_name = "N", default_value_t = 12)]
    pub schedules: usize,
    /// Sites in the sample data.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = at_least_one)]
    pub sites: usize,
    /// Seed of the sample data generator.
    #[arg(long, value_name = "S", default_value_t = 42)]
    pub seed: u64,
    /// Idle seconds before a session expires.
    #[arg(long, value_name = "S", default_value_t = 1800)]
    pub session_ttl: u64,
    /// HTTP status for a missing or wrong X-XSRF-TOKEN (unknown on real servers; 401 or
    /// 403 are the likely ones).
    #[arg(long, value_name = "STATUS", default_value_t = 403, value_parser = clap::value_parser!(u16).range(400..=499))]
    pub xsrf_failure_status: u16,
    /// Newest REST API version served (serverinfo, auth/signin), as MAJOR.MINOR: a newer
    /// version in a path gets 404, as on an older server.
    #[arg(long, value_name = "VERSION", default_value = "3.24", value_parser = rest_version)]
    pub rest_api_version: (u32, u32),
    /// Probability (0..1) of answering 503 before applying anything.
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = probability)]
    pub fail_rate: f64,
    /// Milliseconds added to every request.
    #[arg(long, value_name = "L", default_value_t = 0)]
    pub latency_ms: u64,
    /// Probability (0..1) of an extra --spike-ms delay before a call is handled.
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = probability)]
    pub spike_rate: f64,
    /// Milliseconds of a latency spike.
    #[arg(long, value_name = "L", default_value_t = 1000)]
    pub spike_ms: u64,
    /// Probability (0..1) of applying a call and then resetting the connection halfway
    /// through its answer.
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = probability)]
    pub reset_rate: f64,
    /// Apply --fail-rate to this method only (repeatable; default: every method).
    #[arg(long, value_name = "METHOD")]
    pub fail_only: Vec<String>,
    /// Apply --reset-rate to this method only (repeatable; default: every method).
    #[arg(long, value_name = "METHOD")]
    pub reset_only: Vec<String>,
    /// Answer this method with an HTML sign-in page instead of JSON, as a single sign-on
    /// gateway in front of a server would (repeatable).
    #[arg(long, value_name = "METHOD")]
    pub html_for: Vec<String>,
    /// Largest page served by list calls.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = at_least_one)]
    pub max_page: usize,
    /// A list call asking for more than --max-page items gets that many and `moreItems`
    /// (clamp), or is refused with code 19, invalid page size (reject).
    #[arg(long, value_name = "ANSWER", default_value = "clamp")]
    pub page_overflow: PageOverflowArg,
    /// Most ids accepted by one batch call.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = at_least_one)]
    pub max_batch: usize,
    /// Seconds a background job takes from request to finish (a third queued, the rest
    /// running).
    #[arg(long, value_name = "S", default_value_t = 10.0)]
    pub job_seconds: f64,
    /// Probability (0..1) that a background job fails.
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = probability)]
    pub job_fail_rate: f64,
    /// Jobs whose target name contains TEXT (ignoring case) fail; repeatable.
    #[arg(long, value_name = "TEXT")]
    pub job_fail_target: Vec<String>,
    /// Answer this method as unknown, as an older server would (e.g. getBackgroundJobs);
    /// repeatable.
    #[arg(long, value_name = "METHOD")]
    pub hide_method: Vec<String>,
    /// Schedules never fire by themselves when their next run time passes, so only the
    /// clients' calls change anything (runSchedules still runs a schedule).
    #[arg(long)]
    pub hold_schedules: bool,
    /// Lists filter only on the fields public sources name (scheduleId, siteId,
    /// workbookId, ...); any other field (id, targetId, priority, ...) is refused with code
    /// 80014, as a server that does not filter on it would. Rehearse with this to check a
    /// script does not depend on such filters.
    #[arg(long)]
    pub documented_filters: bool,
    /// getSchedules spells detail fields as the API guide's sample answer does
    /// (recurrencyDaysOfWeek, recurrencyDayOfMonth), not as Tableau's own clients do.
    #[arg(long)]
    pub guide_detail_spelling: bool,
    /// getSchedules shows no `enabled` field (public sources do not say a server shows
    /// it; a disabled schedule still shows no runNextAt).
    #[arg(long)]
    pub no_enabled_field: bool,
    /// updateSchedule takes a call naming only some of a schedule's fields, the others
    /// keeping their values (by default all seven are required, as Tableau's client
    /// sends them: whether a server takes fewer is not known).
    #[arg(long)]
    pub partial_schedule_updates: bool,
    /// Answer Vizportal calls gzip-compressed when the client accepts it, as a compressing
    /// gateway (a web server or load balancer) in front of a real server may.
    #[arg(long)]
    pub gzip: bool,
    /// Serve HTTPS with this certificate chain (PEM, server certificate first).
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

/// `vizscript functions`.
#[derive(Debug, Args)]
pub struct FunctionsArgs {
    /// As JSON.
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// As the Markdown reference (docs/scripting.md).
    #[arg(long)]
    pub markdown: bool,
}

/// A count of at least 1 (`0` is refused, not quietly raised).
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{text:?} is not a whole number (1 or more)")),
    }
}

/// A REST API version, `MAJOR.MINOR`.
fn rest_version(text: &str) -> Result<(u32, u32), String> {
    let parsed = text
        .split_once('.')
        .and_then(|(major, minor)| Some((major.parse().ok()?, minor.parse().ok()?)));
    parsed.ok_or_else(|| format!("{text:?} is not MAJOR.MINOR, e.g. 3.19"))
}

/// A probability from 0 to 1.
fn probability(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        Ok(_) => Err("must be between 0 and 1 (e.g. 0.2 for 20%)".to_string()),
        Err(_) => Err(format!("{text:?} is not a number between 0 and 1")),
    }
}

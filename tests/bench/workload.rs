//! The workload benchmark: `cargo bench --bench workload` (add `-- --quick` for fewer
//! repetitions). It starts the emulator as a separate process (`vizscript emulator` on
//! loopback, a fresh one for each run), runs the release `vizscript` binary against it as a
//! child process, and prints one table of medians over several runs of each workload:
//!
//! - wall time, with its spread (min-max over the runs);
//! - requests the emulator saw;
//! - server: the time the emulator was handling at least one call (the union of its
//!   handlers' intervals, so concurrent calls count once);
//! - latency: the time calls were in the emulator waiting out injected latency while none
//!   was being handled;
//! - wall - server - latency: everything else, the client's own share (signed: a negative
//!   figure is shown, not hidden);
//! - the client's CPU time and peak RSS, from `wait4`'s `rusage` of the child;
//! - each wall time's ratio to its baseline from the same run.
//!
//! Both modes use the sizes the targets are set for; `--quick` runs each workload fewer
//! times.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use vizscript::emulator::{Dataset, SampleSpec};
use vizscript::script::{Host, Limits, build_engine, to_dynamic};

const MOVE_SCRIPT: &str = r#"
let target = ARGS[0];
let moving = extract_tasks().filter(|t| t.priority > 64 && t.scheduleId != target);
let r = set_extract_tasks_schedule(moving, target);
print(r.succeeded.len());
"#;

const NAIVE_SCRIPT: &str = r#"
let target = ARGS[0];
let moving = extract_tasks().filter(|t| t.priority > 64 && t.scheduleId != target);
let n = 0;
for t in moving {
    vizportal("setExtractTasksSchedule", #{ ids: [t.id], scheduleId: target });
    n += 1;
}
print(n);
"#;

/// W6: the same change on every site, run once per site.
const SITE_SCRIPT: &str = r#"
let busy = extract_tasks().filter(|t| t.priority > 64);
set_extract_tasks_priority(busy, 64);
print(busy.len());
"#;

/// W4: grouping in a loop, building an array item by item (each `push` must cost the
/// same however long the array is), and a filter.
const GROUP_SCRIPT: &str = r#"
let per_schedule = #{};
let busy = [];
for t in tasks {
    if t.priority > 50 {
        let k = t.scheduleId;
        per_schedule[k] = if k in per_schedule { per_schedule[k] + 1 } else { 1 };
        busy.push(t.id);
    }
}
let refresh = tasks.filter(|t| t.type == "RefreshExtract" && t.targetType == "Workbook");
per_schedule.len() + refresh.len() + busy.len()
"#;

/// How much to run.
struct Plan {
    /// Tasks for W1, W5 and the naive baseline.
    small: usize,
    /// Tasks for W3 and maps for W4: ten times `small`, as the W3/W1 target assumes.
    large: usize,
    /// Runs of each workload.
    repeats: usize,
    /// Cold `call`s for W2.
    cold_calls: usize,
}

/// One measured client run (or, for W4, one in-process evaluation: wall only).
#[derive(Clone, Copy, Default)]
struct Run {
    wall: Duration,
    requests: u64,
    /// Union of the emulator's handler intervals during the run.
    server: Duration,
    /// Union of the intervals calls spent in the emulator, injected waits included.
    in_flight: Duration,
    /// Injected latency summed over calls.
    injected: Duration,
    rss_kib: u64,
    /// The client's own CPU time (user + system).
    cpu: Duration,
    moved: usize,
}

impl Run {
    fn wall_ms(&self) -> f64 {
        ms(self.wall)
    }

    fn server_ms(&self) -> f64 {
        ms(self.server)
    }

    /// Time only injected waits were in progress in the emulator.
    fn latency_ms(&self) -> f64 {
        ms(self.in_flight) - ms(self.server)
    }

    /// Wall time outside the emulator: wall - server - latency.
    fn client_ms(&self) -> f64 {
        ms(self.wall) - ms(self.in_flight)
    }

    fn cpu_ms(&self) -> f64 {
        ms(self.cpu)
    }

    fn rss_mib(&self) -> f64 {
        self.rss_kib as f64 / 1024.0
    }
}

/// Several runs of one workload.
struct Runs(Vec<Run>);

impl Runs {
    fn repeat(times: usize, mut once: impl FnMut() -> Run) -> Runs {
        Runs((0..times).map(|_| once()).collect())
    }

    /// The median of one figure over the runs (the upper middle one for an even count).
    fn median(&self, figure: impl Fn(&Run) -> f64) -> f64 {
        let mut values: Vec<f64> = self.0.iter().map(figure).collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    }

    fn min_max(&self, figure: impl Fn(&Run) -> f64) -> (f64, f64) {
        let values = self.0.iter().map(&figure);
        let min = values.clone().fold(f64::INFINITY, f64::min);
        (min, values.fold(f64::NEG_INFINITY, f64::max))
    }

    fn wall(&self) -> f64 {
        self.median(Run::wall_ms)
    }

    fn measured_by_server(&self) -> bool {
        self.0.iter().any(|r| r.requests > 0)
    }
}

struct Row<'a> {
    workload: &'a str,
    size: String,
    runs: &'a Runs,
    baseline: Option<(&'a str, &'a Runs)>,
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let plan = Plan {
        small: 10_000,
        large: 100_000,
        repeats: if quick { 3 } else { 5 },
        cold_calls: if quick { 11 } else { 21 },
    };
    let Plan { small, large, .. } = plan;
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write script");
        path
    };
    let (move_script, naive_script, site_script) = (
        write("move.rhai", MOVE_SCRIPT),
        write("naive.rhai", NAIVE_SCRIPT),
        write("sites.rhai", SITE_SCRIPT),
    );
    let repeat = |once: &dyn Fn() -> Run| Runs::repeat(plan.repeats, once);
    let none = Duration::ZERO;
    let w1 = repeat(&|| move_run(&move_script, small, none, &[]));
    let naive = repeat(&|| move_run(&naive_script, small, none, &[]));
    assert!(
        w1.0.iter()
            .chain(&naive.0)
            .all(|r| r.moved == w1.0[0].moved),
        "both ways move the same tasks"
    );
    let cold = cold_calls(plan.cold_calls);
    let w3 = repeat(&|| move_run(&move_script, large, none, &[]));
    let latency = Duration::from_millis(50);
    let sequential = repeat(&|| move_run(&move_script, small, latency, &["--concurrency", "1"]));
    let concurrent = repeat(&|| move_run(&move_script, small, latency, &["--concurrency", "8"]));
    let site_latency = Duration::from_millis(20);
    let all_sites = repeat(&|| sites_run(&site_script, 20, 10_000, site_latency, false));
    let site_by_site = repeat(&|| sites_run(&site_script, 20, 10_000, site_latency, true));
    assert!(
        all_sites
            .0
            .iter()
            .chain(&site_by_site.0)
            .all(|r| r.moved == all_sites.0[0].moved),
        "both ways change the same tasks"
    );
    // What every child's peak RSS includes (see `ExternalEmulator`).
    let harness_rss = own_peak_rss_kib();
    // Last: it holds the large task list in this process.
    let (rhai, native) = script_cost(large, plan.repeats);
    let moved = w1.0[0].moved;
    let rows = [
        Row {
            workload: "W1 move (batched)",
            size: format!("{small} tasks"),
            runs: &w1,
            baseline: Some(("naive", &naive)),
        },
        Row {
            workload: "W1 baseline: naive",
            size: format!("{moved} moved"),
            runs: &naive,
            baseline: None,
        },
        Row {
            workload: "W2 cold call",
            size: "getSessionInfo".into(),
            runs: &cold,
            baseline: None,
        },
        Row {
            workload: "W3 scale",
            size: format!("{large} tasks"),
            runs: &w3,
            baseline: Some(("W1", &w1)),
        },
        Row {
            workload: "W4 script cost (Rhai)",
            size: format!("{large} maps"),
            runs: &rhai,
            baseline: Some(("native Rust", &native)),
        },
        Row {
            workload: "W5 latency 50ms, concurrent",
            size: format!("{small} tasks"),
            runs: &concurrent,
            baseline: Some(("sequential", &sequential)),
        },
        Row {
            workload: "W5 baseline: sequential",
            size: format!("{small} tasks"),
            runs: &sequential,
            baseline: None,
        },
        Row {
            workload: "W6 20 sites, --all-sites",
            size: "20 x 500 tasks".into(),
            runs: &all_sites,
            baseline: Some(("site by site", &site_by_site)),
        },
        Row {
            workload: "W6 baseline: site by site",
            size: "20 runs".into(),
            runs: &site_by_site,
            baseline: None,
        },
    ];
    println!(
        "{} runs of each workload ({} cold calls for W2); medians, wall spread min-max",
        plan.repeats, plan.cold_calls
    );
    print_table(&rows);
    println!();
    print_targets(
        &plan,
        [&w1, &naive, &cold, &w3, &rhai, &sequential, &concurrent],
    );
    let w6 = all_sites.wall() / site_by_site.wall();
    println!(
        "W6 --all-sites / site by site at 20 ms latency: {w6:.2}x (target <= 0.4x): {}",
        if w6 <= 0.4 { "met" } else { "MISSED" }
    );
    println!(
        "RSS floor: a child's peak RSS includes this harness's own at spawn time, {:.1} MiB",
        harness_rss as f64 / 1024.0
    );
}

/// Each target with the measured figure and whether it is met.
fn print_targets(plan: &Plan, [w1, naive, cold, w3, rhai, sequential, concurrent]: [&Runs; 7]) {
    let verdict = |met: bool| if met { "met" } else { "MISSED" };
    let moved = w1.0[0].moved;
    let most_requests = 2 + 1 + plan.small.div_ceil(1000) + moved.div_ceil(1000) + 2;
    let requests = w1.median(|r| r.requests as f64);
    println!(
        "W1 requests: {requests} (target <= {most_requests}): {}",
        verdict(requests <= most_requests as f64)
    );
    let speed_up = naive.wall() / w1.wall();
    println!(
        "W1 speed-up over naive: {speed_up:.1}x (target >= 50x): {}",
        verdict(speed_up >= 50.0)
    );
    let overhead = 100.0 * w1.median(|r| r.wall_ms() - r.server_ms()) / w1.wall();
    let cpu = 100.0 * w1.median(Run::cpu_ms) / w1.wall();
    println!(
        "W1 client overhead: wall - server = {overhead:.0}% of wall; client CPU = {cpu:.0}% of wall (target < 25%): {}",
        verdict(cpu < 25.0)
    );
    println!(
        "W2 median: {:.1} ms (target < 50 ms): {}",
        cold.wall(),
        verdict(cold.wall() < 50.0)
    );
    let scale = w3.wall() / w1.wall();
    let (_, w3_rss) = w3.min_max(Run::rss_mib);
    println!(
        "W3/W1 wall: {scale:.1}x (target <= 12x): {}; W3 peak RSS, largest of the runs: {w3_rss:.0} MiB (target < 200): {}",
        verdict(scale <= 12.0),
        verdict(w3_rss < 200.0)
    );
    println!(
        "W4 Rhai: {:.0} ms (target < 1000 ms): {}",
        rhai.wall(),
        verdict(rhai.wall() < 1000.0)
    );
    let w5 = concurrent.wall() / sequential.wall();
    println!(
        "W5 concurrent/sequential: {w5:.2}x (target <= 0.4x): {}",
        verdict(w5 <= 0.4)
    );
    println!(
        "W5 injected latency, summed over calls: {:.0} ms sequential, {:.0} ms concurrent; \
         on the wall (the latency column): {:.0} ms and {:.0} ms",
        sequential.median(|r| ms(r.injected)),
        concurrent.median(|r| ms(r.injected)),
        sequential.median(Run::latency_ms),
        concurrent.median(Run::latency_ms),
    );
}

/// The emulator's counters at one moment.
struct ServerStats {
    requests: u64,
    busy: Duration,
    in_flight: Duration,
    injected: Duration,
}

/// The emulator as a child process, so that this harness stays small: Linux carries a
/// process's peak RSS across `exec`, so a child spawned from a large process reports the
/// parent's memory as its own peak.
struct ExternalEmulator {
    child: std::process::Child,
    url: String,
    http: reqwest::blocking::Client,
}

impl ExternalEmulator {
    fn start(tasks: usize, latency: Duration) -> ExternalEmulator {
        ExternalEmulator::start_sites(1, tasks, latency)
    }

    fn start_sites(sites: usize, tasks: usize, latency: Duration) -> ExternalEmulator {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vizscript"))
            .args(["emulator", "--port", "0", "--sites", &sites.to_string()])
            // The same work at any time of day: no schedule fires during a run.
            .args(["--schedules", "20", "--seed", "11", "--hold-schedules"])
            .args([
                "--tasks",
                &tasks.to_string(),
                "--latency-ms",
                &latency.as_millis().to_string(),
            ])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the emulator");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
            .expect("listening line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .expect("listening on URL")
            .to_string();
        // reqwest has no crypto provider of its own here (see Cargo.toml).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::blocking::Client::builder()
            .no_proxy()
            .build()
            .expect("http client");
        ExternalEmulator { child, url, http }
    }

    fn get(&self, path: &str) -> serde_json::Value {
        self.http
            .get(format!("{}{path}", self.url))
            .send()
            .and_then(|r| r.json())
            .expect("emulator inspection")
    }

    /// The emulator's counters so far.
    fn stats(&self) -> ServerStats {
        let s = self.get("/__emulator/stats");
        let micros = |key: &str| Duration::from_micros(s[key].as_u64().expect(key));
        ServerStats {
            requests: s["requests"].as_u64().expect("requests"),
            busy: micros("busyMicros"),
            in_flight: micros("inFlightMicros"),
            injected: micros("injectedMicros"),
        }
    }
}

impl Drop for ExternalEmulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn vizscript(emu: &ExternalEmulator) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vizscript"));
    cmd.env("TABLEAU_SERVER", &emu.url)
        .env("TABLEAU_USERNAME", "admin")
        .env("TABLEAU_PASSWORD", "admin")
        .env("NO_PROXY", "*")
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    cmd
}

/// What one child run cost.
struct Measured {
    wall: Duration,
    rss_kib: u64,
    cpu: Duration,
    stdout: String,
}

/// Run the child and measure it: wall time from spawn to exit, and the kernel's account of
/// the child from `wait4`: CPU as user + system time, peak RSS as `ru_maxrss`.
// The child is reaped by `wait4` below, which std's `Child::wait` cannot stand in for: it
// drops the resource usage.
#[allow(clippy::zombie_processes)]
fn measure(mut cmd: Command) -> Measured {
    let start = Instant::now();
    let mut child = cmd.stdout(Stdio::piped()).spawn().expect("spawn vizscript");
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut text).expect("read stdout");
        text
    });
    let (status, usage) = wait4(child.id());
    let wall = start.elapsed();
    let stdout = reader.join().expect("stdout reader");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "vizscript failed (wait status {status}): {stdout}"
    );
    Measured {
        wall,
        rss_kib: u64::try_from(usage.ru_maxrss).expect("ru_maxrss"),
        cpu: duration(usage.ru_utime) + duration(usage.ru_stime),
        stdout,
    }
}

/// Reaps the child `pid`: its wait status and resource usage.
fn wait4(pid: u32) -> (libc::c_int, libc::rusage) {
    let pid = libc::pid_t::try_from(pid).expect("pid");
    let mut status = 0;
    // SAFETY: all-zero bytes are a valid `rusage` (integers and timevals).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both pointers are to live locals; `pid` is our own unreaped child.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            return (status, usage);
        }
        let error = std::io::Error::last_os_error();
        assert_eq!(
            error.kind(),
            std::io::ErrorKind::Interrupted,
            "wait4: {error}"
        );
    }
}

/// This process's own peak RSS so far, in KiB: its memory's high-water mark, `VmHWM`,
/// which is what a child inherits at `exec`. (`getrusage(RUSAGE_SELF)` would not do: it
/// also carries the peak of whatever spawned this harness, cargo.)
fn own_peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}

fn duration(time: libc::timeval) -> Duration {
    let secs = u64::try_from(time.tv_sec).expect("tv_sec");
    let micros = u32::try_from(time.tv_usec).expect("tv_usec");
    Duration::from_secs(secs) + Duration::from_micros(micros.into())
}

/// Measure a child run against `emu`: wall, peak RSS, CPU, and the emulator's requests,
/// server time and injected waits during it (the inspection calls themselves excluded:
/// they count as requests but are no Vizportal calls).
fn measured_run(emu: &ExternalEmulator, cmd: Command) -> (Run, String) {
    let before = emu.stats();
    let m = measure(cmd);
    let after = emu.stats();
    let run = Run {
        wall: m.wall,
        requests: after.requests - before.requests - 1,
        server: after.busy - before.busy,
        in_flight: after.in_flight - before.in_flight,
        injected: after.injected - before.injected,
        rss_kib: m.rss_kib,
        cpu: m.cpu,
        moved: 0,
    };
    (run, m.stdout)
}

fn move_run(script: &Path, tasks: usize, latency: Duration, extra: &[&str]) -> Run {
    let emu = ExternalEmulator::start(tasks, latency);
    let target = "5";
    let mut cmd = vizscript(&emu);
    cmd.arg("run").arg(script).args(extra).args(["--", target]);
    let (mut run, out) = measured_run(&emu, cmd);
    run.moved = out
        .trim()
        .parse()
        .expect("the script prints how many tasks it moved");
    assert!(
        tasks_on(&emu, target) >= run.moved,
        "the moved tasks are on the target schedule"
    );
    run
}

/// How many tasks the emulator has on `schedule`, asked through a `vizscript call` child:
/// reading the whole state here would grow this harness, and with it every later child's
/// peak RSS (see `ExternalEmulator`).
fn tasks_on(emu: &ExternalEmulator, schedule: &str) -> usize {
    let filter = serde_json::json!({
        "filter": {"operator": "eq", "field": "scheduleId", "value": schedule},
        "page": {"startIndex": 0, "maxItems": 1},
    });
    let mut cmd = vizscript(emu);
    cmd.args(["call", "getExtractTasks", &filter.to_string()]);
    let answer: serde_json::Value =
        serde_json::from_str(&measure(cmd).stdout).expect("getExtractTasks answers JSON");
    let total = answer["totalCount"].as_u64().expect("totalCount");
    usize::try_from(total).expect("a count")
}

/// W6: `SITE_SCRIPT` on every one of `sites` sites (`tasks` tasks in all) at `latency`:
/// with `--all-sites` in one run, or (`one_at_a_time`) as one run per site in turn, the
/// way an admin would without it. The runs' figures are added up.
fn sites_run(
    script: &Path,
    sites: usize,
    tasks: usize,
    latency: Duration,
    one_at_a_time: bool,
) -> Run {
    let emu = ExternalEmulator::start_sites(sites, tasks, latency);
    let names = site_url_names(&emu);
    assert_eq!(names.len(), sites, "every site is listed");
    let runs: Vec<(Run, String)> = if one_at_a_time {
        names
            .iter()
            .map(|site| {
                let mut cmd = vizscript(&emu);
                cmd.arg("run").arg(script).args(["--site", site]);
                measured_run(&emu, cmd)
            })
            .collect()
    } else {
        let mut cmd = vizscript(&emu);
        // Its per-site summary table on stderr is not part of the benchmark's output.
        cmd.arg("run")
            .arg(script)
            .arg("--all-sites")
            .stderr(Stdio::null());
        vec![measured_run(&emu, cmd)]
    };
    let mut total = Run::default();
    for (run, out) in &runs {
        total.wall += run.wall;
        total.requests += run.requests;
        total.server += run.server;
        total.in_flight += run.in_flight;
        total.injected += run.injected;
        total.cpu += run.cpu;
        total.rss_kib = total.rss_kib.max(run.rss_kib);
        total.moved += out
            .lines()
            .filter_map(|l| l.trim().parse::<usize>().ok())
            .sum::<usize>();
    }
    total
}

/// The URL names of the emulator's sites, asked through a `vizscript call` child.
fn site_url_names(emu: &ExternalEmulator) -> Vec<String> {
    let mut cmd = vizscript(emu);
    cmd.args([
        "call",
        "getSiteNamesAcrossAllPods",
        r#"{"page": {"startIndex": 0, "maxItems": 1000}}"#,
    ]);
    let answer: serde_json::Value =
        serde_json::from_str(&measure(cmd).stdout).expect("getSiteNamesAcrossAllPods answers JSON");
    answer["siteNames"]
        .as_array()
        .expect("siteNames")
        .iter()
        .map(|s| s["urlName"].as_str().expect("urlName").to_string())
        .collect()
}

/// `times` cold `vizscript call`s against one emulator.
fn cold_calls(times: usize) -> Runs {
    let emu = ExternalEmulator::start(300, Duration::ZERO);
    Runs::repeat(times, || {
        let mut cmd = vizscript(&emu);
        cmd.args(["call", "getSessionInfo"]);
        measured_run(&emu, cmd).0
    })
}

/// Rhai's time to filter and group task maps already in memory, and the same in Rust,
/// `times` each.
fn script_cost(tasks: usize, times: usize) -> (Runs, Runs) {
    let data = Dataset::sample(&SampleSpec {
        sites: 1,
        tasks,
        schedules: 20,
        seed: 11,
    })
    .to_json();
    let list = data["extractTasks"].as_array().expect("tasks").clone();
    let host = Host::new(None, Arc::new(|_: &str| {}), false);
    let engine = build_engine(host, &Limits::default(), Arc::new(AtomicBool::new(false)));
    let ast = engine.compile(GROUP_SCRIPT).expect("compiles");
    let tasks = to_dynamic(serde_json::Value::Array(list.clone()));
    let rhai = Runs::repeat(times, || {
        let mut scope = rhai::Scope::new();
        scope.push("tasks", tasks.clone());
        let start = Instant::now();
        let answer: i64 = engine.eval_ast_with_scope(&mut scope, &ast).expect("runs");
        let wall = start.elapsed();
        assert_eq!(answer, native_group(&list), "both compute the same answer");
        as_run(wall)
    });
    let native = Runs::repeat(times, || {
        let start = Instant::now();
        std::hint::black_box(native_group(std::hint::black_box(&list)));
        as_run(start.elapsed())
    });
    (rhai, native)
}

/// GROUP_SCRIPT in Rust.
fn native_group(list: &[serde_json::Value]) -> i64 {
    let mut per_schedule = std::collections::HashMap::new();
    let mut busy = Vec::new();
    let mut refresh = 0i64;
    for t in list {
        if t["priority"].as_i64().unwrap_or(0) > 50 {
            *per_schedule
                .entry(t["scheduleId"].as_str().unwrap_or(""))
                .or_insert(0) += 1;
            busy.push(t["id"].as_str().unwrap_or("").to_string());
        }
        if t["type"] == "RefreshExtract" && t["targetType"] == "Workbook" {
            refresh += 1;
        }
    }
    per_schedule.len() as i64 + refresh + busy.len() as i64
}

fn as_run(wall: Duration) -> Run {
    Run {
        wall,
        ..Run::default()
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn print_table(rows: &[Row]) {
    println!(
        "{:<28} {:>14} {:>9} {:>17} {:>8} {:>9} {:>10} {:>13} {:>10} {:>7}  vs baseline",
        "workload",
        "size",
        "wall ms",
        "wall min-max",
        "requests",
        "server ms",
        "latency ms",
        "wall-srv-lat",
        "client CPU",
        "RSS MiB",
    );
    for row in rows {
        let runs = row.runs;
        let (low, high) = runs.min_max(Run::wall_ms);
        let vs = match row.baseline {
            Some((name, base)) => format!(
                "{:.3}x wall of {name} ({:.1} ms)",
                runs.wall() / base.wall(),
                base.wall()
            ),
            None => String::new(),
        };
        let measured = runs.measured_by_server();
        let figure = |f: fn(&Run) -> f64, precision: usize| {
            if measured {
                format!("{:.*}", precision, runs.median(f))
            } else {
                "-".into()
            }
        };
        println!(
            "{:<28} {:>14} {:>9.1} {:>17} {:>8} {:>9} {:>10} {:>13} {:>10} {:>7}  {}",
            row.workload,
            row.size,
            runs.wall(),
            format!("{low:.1}-{high:.1}"),
            figure(|r| r.requests as f64, 0),
            figure(Run::server_ms, 1),
            figure(Run::latency_ms, 1),
            figure(Run::client_ms, 1),
            figure(Run::cpu_ms, 0),
            figure(Run::rss_mib, 0),
            vs
        );
    }
}

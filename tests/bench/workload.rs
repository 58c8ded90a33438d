//! The workload benchmark: `cargo bench --bench workload` (add `-- --quick` for a smaller
//! run). It starts the emulator in this process on loopback, runs the release `vizscript`
//! binary against it as a child process, and prints one table: wall time, requests the
//! emulator saw, the emulator's own handling time, client overhead (wall minus server
//! time), the child's peak RSS, and each figure's ratio to its baseline from the same run.

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

const GROUP_SCRIPT: &str = r#"
let per_schedule = #{};
for t in tasks {
    if t.priority > 50 {
        let k = t.scheduleId;
        per_schedule[k] = if k in per_schedule { per_schedule[k] + 1 } else { 1 };
    }
}
let refresh = tasks.filter(|t| t.type == "RefreshExtract" && t.targetType == "Workbook");
per_schedule.len() + refresh.len()
"#;

/// One measured client run.
#[derive(Clone, Copy, Default)]
struct Run {
    wall: Duration,
    requests: u64,
    server: Duration,
    rss_kib: u64,
    /// The client's own CPU time (user + system).
    cpu: Duration,
    moved: usize,
}

struct Row {
    workload: String,
    size: String,
    run: Run,
    baseline: Option<(String, Run)>,
}

impl Row {
    fn new(workload: &str, size: String, run: Run, baseline: Option<(&str, Run)>) -> Row {
        let baseline = baseline.map(|(name, b)| (name.to_string(), b));
        Row {
            workload: workload.to_string(),
            size,
            run,
            baseline,
        }
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (small, large) = if quick {
        (2_000, 20_000)
    } else {
        (10_000, 100_000)
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write script");
        path
    };
    let (move_script, naive_script) = (
        write("move.rhai", MOVE_SCRIPT),
        write("naive.rhai", NAIVE_SCRIPT),
    );
    let w1 = move_run(&move_script, small, Duration::ZERO, &[]);
    let naive = move_run(&naive_script, small, Duration::ZERO, &[]);
    assert_eq!(w1.moved, naive.moved, "both ways move the same tasks");
    let cold = cold_calls(if quick { 7 } else { 21 });
    let w3 = move_run(&move_script, large, Duration::ZERO, &[]);
    let latency = Duration::from_millis(50);
    let sequential = move_run(&move_script, small, latency, &["--concurrency", "1"]);
    let concurrent = move_run(&move_script, small, latency, &["--concurrency", "8"]);
    // Last: it holds 100,000 tasks in this process.
    let (rhai, native) = script_cost(large);
    let as_run = |wall| Run {
        wall,
        ..Run::default()
    };
    let rows = [
        Row::new(
            "W1 move (batched)",
            format!("{small} tasks"),
            w1,
            Some(("naive", naive)),
        ),
        Row::new(
            "W1 baseline: naive",
            format!("{} moved", naive.moved),
            naive,
            None,
        ),
        Row::new("W2 cold call (median)", "getSessionInfo".into(), cold, None),
        Row::new("W3 scale", format!("{large} tasks"), w3, Some(("W1", w1))),
        Row::new(
            "W4 script cost (Rhai)",
            format!("{large} maps"),
            as_run(rhai),
            Some(("native Rust", as_run(native))),
        ),
        Row::new(
            "W5 latency 50ms, concurrent",
            format!("{small} tasks"),
            concurrent,
            Some(("sequential", sequential)),
        ),
        Row::new(
            "W5 baseline: sequential",
            format!("{small} tasks"),
            sequential,
            None,
        ),
    ];
    print_table(&rows);
    println!();
    println!(
        "W1 requests: {} (target <= {})",
        w1.requests,
        2 + 1 + small.div_ceil(1000) + w1.moved.div_ceil(1000) + 2
    );
    println!(
        "W1 speed-up over naive: {:.1}x (target >= 50x)",
        ratio(naive.wall, w1.wall)
    );
    println!(
        "W1 client overhead: wall - server = {:.0}% of wall; client CPU = {:.0}% of wall (target < 25%)",
        100.0 * overhead(w1).as_secs_f64() / w1.wall.as_secs_f64(),
        100.0 * w1.cpu.as_secs_f64() / w1.wall.as_secs_f64()
    );
    println!("W2 median: {:.1} ms (target < 50 ms)", ms(cold.wall));
    println!(
        "W3/W1 wall: {:.1}x (target <= 12x); W3 peak RSS {} MiB (target < 200)",
        ratio(w3.wall, w1.wall),
        w3.rss_kib / 1024
    );
    println!("W4 Rhai: {:.0} ms (target < 1000 ms)", ms(rhai));
    println!(
        "W5 concurrent/sequential: {:.2}x (target <= 0.4x)",
        concurrent.wall.as_secs_f64() / sequential.wall.as_secs_f64()
    );
}

/// The emulator as a child process, so that this harness stays small: a child spawned
/// from a large process would count the parent's memory in its own peak RSS.
struct ExternalEmulator {
    child: std::process::Child,
    url: String,
    http: reqwest::blocking::Client,
}

impl ExternalEmulator {
    fn start(tasks: usize, latency: Duration) -> ExternalEmulator {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vizscript"))
            .args([
                "emulator",
                "--port",
                "0",
                "--sites",
                "1",
                "--schedules",
                "20",
                "--seed",
                "11",
            ])
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

    /// (requests, handling time) so far.
    fn stats(&self) -> (u64, Duration) {
        let s = self.get("/__emulator/stats");
        (
            s["requests"].as_u64().unwrap_or(0),
            Duration::from_micros(s["handlingMicros"].as_u64().unwrap_or(0)),
        )
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

/// Run the child and measure it. Peak RSS is the child's own high-water mark (`VmHWM`
/// in /proc; it covers only the new program, not the memory of this process it was
/// spawned from) and CPU its user + system time, both read every 2 ms while it runs.
fn measure(mut cmd: Command) -> Measured {
    let start = Instant::now();
    let mut child = cmd.stdout(Stdio::piped()).spawn().expect("spawn vizscript");
    let proc_dir = format!("/proc/{}", child.id());
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut text).expect("read stdout");
        text
    });
    let (mut rss_kib, mut ticks) = (0, 0);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        rss_kib = rss_kib.max(high_water_kib(&proc_dir).unwrap_or(0));
        ticks = ticks.max(cpu_ticks(&proc_dir).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(2));
    };
    let wall = start.elapsed();
    let stdout = reader.join().expect("stdout reader");
    assert!(status.success(), "vizscript failed: {stdout}");
    // Linux reports CPU time in clock ticks of 10 ms.
    Measured {
        wall,
        rss_kib,
        cpu: Duration::from_millis(ticks * 10),
        stdout,
    }
}

fn high_water_kib(proc_dir: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("{proc_dir}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn cpu_ticks(proc_dir: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("{proc_dir}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Measure a child run against `emu`: wall, peak RSS, CPU, and the emulator's requests
/// and handling time during it (the inspection call itself excluded).
fn measured_run(emu: &ExternalEmulator, cmd: Command) -> (Run, String) {
    let (requests_before, server_before) = emu.stats();
    let m = measure(cmd);
    let (requests_after, server_after) = emu.stats();
    let run = Run {
        wall: m.wall,
        requests: requests_after - requests_before - 1,
        server: server_after - server_before,
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
    let state = emu.get("/__emulator/state");
    let on_target = state["extractTasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["scheduleId"] == target)
        .count();
    assert!(
        on_target >= run.moved,
        "the moved tasks are on the target schedule"
    );
    run
}

fn cold_calls(times: usize) -> Run {
    let emu = ExternalEmulator::start(300, Duration::ZERO);
    let mut runs: Vec<Run> = (0..times)
        .map(|_| {
            let mut cmd = vizscript(&emu);
            cmd.args(["call", "getSessionInfo"]);
            measured_run(&emu, cmd).0
        })
        .collect();
    runs.sort_by_key(|r| r.wall);
    runs[times / 2]
}

/// Rhai's time to filter and group task maps already in memory, and the same in Rust.
fn script_cost(tasks: usize) -> (Duration, Duration) {
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
    let mut scope = rhai::Scope::new();
    scope.push("tasks", to_dynamic(serde_json::Value::Array(list.clone())));
    let start = Instant::now();
    let rhai_answer: i64 = engine.eval_ast_with_scope(&mut scope, &ast).expect("runs");
    let rhai = start.elapsed();

    let start = Instant::now();
    let mut per_schedule = std::collections::HashMap::new();
    let mut refresh = 0i64;
    for t in &list {
        if t["priority"].as_i64().unwrap_or(0) > 50 {
            *per_schedule
                .entry(t["scheduleId"].as_str().unwrap_or(""))
                .or_insert(0) += 1;
        }
        if t["type"] == "RefreshExtract" && t["targetType"] == "Workbook" {
            refresh += 1;
        }
    }
    let native_answer = per_schedule.len() as i64 + refresh;
    let native = start.elapsed();
    assert_eq!(rhai_answer, native_answer, "both compute the same answer");
    (rhai, native)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

fn overhead(run: Run) -> Duration {
    run.wall.saturating_sub(run.server)
}

fn print_table(rows: &[Row]) {
    println!(
        "{:<28} {:>13} {:>9} {:>8} {:>9} {:>12} {:>10} {:>7}  vs baseline",
        "workload",
        "size",
        "wall ms",
        "requests",
        "server ms",
        "wall-server",
        "client CPU",
        "RSS MiB",
    );
    for row in rows {
        let r = row.run;
        let vs = match &row.baseline {
            Some((name, b)) => format!(
                "{:.3}x wall of {name} ({:.1} ms)",
                ratio(r.wall, b.wall),
                ms(b.wall)
            ),
            None => String::new(),
        };
        let measured = r.requests > 0;
        let dash = |v: String| if measured { v } else { "-".into() };
        println!(
            "{:<28} {:>13} {:>9.1} {:>8} {:>9} {:>12} {:>10} {:>7}  {}",
            row.workload,
            row.size,
            ms(r.wall),
            dash(r.requests.to_string()),
            dash(format!("{:.1}", ms(r.server))),
            dash(format!("{:.1}", ms(overhead(r)))),
            dash(format!("{:.0}", ms(r.cpu))),
            dash((r.rss_kib / 1024).to_string()),
            vs
        );
    }
}

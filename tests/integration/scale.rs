//! The 100,000-task server: a script holding every task of a big site stays under
//! 200 MiB peak RSS, as the kernel measured it for the process (`wait4`), not estimated.

use std::process::Command;

use crate::support::*;

/// Run the binary through `tests/python/peak_rss.py`, which measures it with `wait4` from
/// a small process (started from this big test process, the child would inherit the
/// test's memory high-water mark). Returns the exit code, the peak RSS in KiB and stderr.
fn run_measured(args: &[&str], env: &[(&str, String)]) -> (i32, i64, String) {
    let wrapper = format!("{}/tests/python/peak_rss.py", env!("CARGO_MANIFEST_DIR"));
    let binary = assert_cmd::cargo::cargo_bin("vizscript");
    let mut command = Command::new("python3");
    command.env_clear().arg(wrapper).arg(binary).args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command
        .output()
        .expect("python3 runs (it is needed by the tests; install python3)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let peak = stdout
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak RSS from the wrapper: {stdout}"));
    (
        output.status.code().unwrap_or(-1),
        peak,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_script_holding_100_000_tasks_stays_under_200_mib() {
    let emu = emulator_with(|c| c.dataset = one_site(100_000, 20));
    let (_dir, script) = script_file(
        r#"let tasks = extract_tasks();
if tasks.len() != 100000 { throw `only ${tasks.len()} tasks`; }
let first = tasks[0].scheduleId;
let on_first = tasks.filter(|t| t.scheduleId == first && t.scheduleName != ());
if on_first.len() == 0 { throw "names were not joined"; }
print(tasks.len());"#,
    );
    let env = [
        ("TABLEAU_SERVER", emu.url()),
        ("TABLEAU_USERNAME", "admin".to_string()),
        ("TABLEAU_PASSWORD", "admin".to_string()),
        ("NO_PROXY", "*".to_string()),
    ];
    let (code, peak_kib, stderr) = run_measured(&["run", &script], &env);
    assert_eq!(code, 0, "the script held and checked every task: {stderr}");
    let peak_mib = peak_kib / 1024;
    assert!(peak_mib < 200, "peak RSS {peak_mib} MiB for 100,000 tasks");
    eprintln!("peak RSS with 100,000 tasks: {peak_mib} MiB");
}

//! The 100,000-task server: a script holding every task of a big site stays under
//! 200 MiB peak RSS, measured by the kernel for the process (`wait4`), not estimated.

use std::process::{Command, Stdio};

use crate::support::*;

/// Peak resident memory the kernel recorded for the child, in KiB, and its exit status.
// The child is reaped by `wait4` below, which also reports its rusage; `Child::wait`
// cannot, so clippy's zombie check does not see the wait.
#[allow(clippy::zombie_processes)]
fn run_measured(mut command: Command) -> (i32, i64) {
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: `rusage` is plain data the kernel fills; the child is ours and waited for
    // here only (`Child::wait` is never called on it).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (code, usage.ru_maxrss)
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
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("vizscript"));
    command
        .env_clear()
        .env("TABLEAU_SERVER", emu.url())
        .env("TABLEAU_USERNAME", "admin")
        .env("TABLEAU_PASSWORD", "admin")
        .env("NO_PROXY", "*")
        .args(["run", &script]);
    let (code, peak_kib) = run_measured(command);
    assert_eq!(code, 0, "the script held and checked every task");
    let peak_mib = peak_kib / 1024;
    assert!(peak_mib < 200, "peak RSS {peak_mib} MiB for 100,000 tasks");
    eprintln!("peak RSS with 100,000 tasks: {peak_mib} MiB");
}

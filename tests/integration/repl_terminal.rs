//! The REPL at a real terminal (tmux): tab completion (of `vp::` names and their param
//! keys too), signature hints, Ctrl-C cancelling a running evaluation, Ctrl-D leaving,
//! history saved in the data directory.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::*;

/// A tmux session running `vizscript repl`, removed on drop.
struct Terminal {
    name: String,
}

impl Terminal {
    fn start(emu: &vizscript::emulator::Emulator, home: &std::path::Path) -> Terminal {
        let name = format!(
            "vizscript-test-{}-{}",
            std::process::id(),
            emu.url().rsplit(':').next().unwrap()
        );
        let command = format!("{} repl --site ''", env!("CARGO_BIN_EXE_vizscript"));
        let status = Command::new("tmux")
            .args(["new-session", "-d", "-s", &name, "-x", "160", "-y", "40"])
            .args(["-e", &format!("TABLEAU_SERVER={}", emu.url())])
            .args([
                "-e",
                "TABLEAU_USERNAME=admin",
                "-e",
                "TABLEAU_PASSWORD=admin",
                "-e",
                "NO_PROXY=*",
            ])
            .args(["-e", &format!("HOME={}", home.display())])
            .args([
                "-e",
                &format!("XDG_DATA_HOME={}", home.join("data").display()),
            ])
            .arg(command)
            .status()
            .expect("tmux runs");
        assert!(status.success());
        let terminal = Terminal { name };
        terminal.wait_for("vizscript>");
        terminal
    }

    /// Send a mix of literal text and tmux key names (`Enter`, `Tab`, `C-c`, ...).
    fn send(&self, keys: &[&str]) {
        const KEYS: &[&str] = &["Enter", "Tab", "C-c", "C-d"];
        for key in keys {
            let mut cmd = Command::new("tmux");
            cmd.args(["send-keys", "-t", &self.name]);
            if !KEYS.contains(key) {
                cmd.arg("-l");
            }
            assert!(cmd.arg(key).status().unwrap().success());
        }
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Wait until the screen shows `text` (at most 20 s).
    fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "never saw {text:?} on:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Type a line, wait for its echo (so the editor has it), press Enter and wait for the
    /// next empty prompt.
    fn enter_line(&self, text: &str) {
        self.send(&[text]);
        self.wait_for(text);
        self.send(&["Enter"]);
        self.wait_ready();
    }

    /// Wait until the editor shows an empty prompt: only then is typing safe (the editor
    /// reads the terminal when it takes it back, and type-ahead can be lost). Call it once
    /// the screen shows that the last keys were handled, or it may see the old prompt.
    fn wait_ready(&self) {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.lines().rfind(|l| !l.trim().is_empty()) == Some("vizscript>") {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "never saw an empty prompt on:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn alive(&self) -> bool {
        Command::new("tmux")
            .args(["has-session", "-t", &self.name])
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .status();
    }
}

#[test]
fn completion_hints_ctrl_c_and_ctrl_d_at_a_terminal() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let term = Terminal::start(&emu, home.path());

    // ("sched" would be ambiguous: schedules, schedule_runs.)
    term.send(&["workb", "Tab"]);
    term.wait_for("vizscript> workbooks");
    term.send(&["(", ")", ".len()", "Enter"]);
    let on_default = emu.state()["workbooks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["siteId"] == "1")
        .count();
    term.wait_for(&format!("\n{on_default}\n"));
    term.wait_ready();

    term.enter_line("let s = session_info()");
    term.send(&["s.us", "Tab"]);
    term.wait_for("vizscript> s.user");
    term.send(&[".username", "Enter"]);
    term.wait_for("\nadmin\n");
    term.wait_ready();

    term.send(&["set_extract_tasks_priority("]);
    term.wait_for("set_extract_tasks_priority(ids: any, priority: int) -> map");
    term.send(&["C-c"]);
    term.wait_ready();

    term.send(&["let n = 0; loop { n += 1; }", "Enter"]);
    // A Ctrl-C that lands before the evaluation starts is reset by it: repeat until one
    // interrupts the loop.
    let start = Instant::now();
    while !term.screen().contains("interrupted") {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "never interrupted"
        );
        term.send(&["C-c"]);
        std::thread::sleep(Duration::from_millis(100));
    }
    term.wait_ready();
    term.enter_line("n > 0");
    term.wait_for("\ntrue\n");

    term.send(&["fn twice(x) {", "Enter", "x * 2", "Enter", "}", "Enter"]);
    term.wait_for("x * 2\n}");
    term.wait_ready();
    term.enter_line("twice(21)");
    term.wait_for("\n42\n");

    term.send(&["C-d"]);
    let start = Instant::now();
    while term.alive() && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!term.alive(), "Ctrl-D leaves the REPL");
    let history =
        std::fs::read_to_string(home.path().join("data/vizscript/repl-history.txt")).unwrap();
    assert!(history.contains("twice(21)"), "{history}");
}

#[test]
fn vp_names_and_their_param_keys_complete_at_a_terminal() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let term = Terminal::start(&emu, home.path());

    term.send(&["vp::getSchedul", "Tab"]);
    term.wait_for("vizscript> vp::getSchedules");
    term.send(&["(#{ pa", "Tab"]);
    term.wait_for("vizscript> vp::getSchedules(#{ page");
    term.send(&[": #{ startIndex: 0, maxItems: 2 }, ord", "Tab"]);
    term.wait_for("maxItems: 2 }, order");
    term.send(&[": [] }).schedules.len()", "Enter"]);
    term.wait_for("\n2\n");
    term.wait_ready();

    term.send(&[":help vp::getSchedules", "Enter"]);
    term.wait_for("Confidence: high");
}

//! The REPL at a real terminal: tab completion (of `vp::` names and their param keys
//! too), signature hints, Ctrl-C cancelling a
//! running evaluation, Ctrl-D leaving, history saved in the data directory. The test owns
//! the terminal: a pseudo-terminal (`pty-process`) with `vt100` rendering what the REPL
//! writes into a screen, so it needs no terminal multiplexer installed.

use std::cell::Cell;
use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::os::fd::AsRawFd;
use std::process::Child;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pty_process::blocking::{Command, Pty};

use crate::support::*;

const ROWS: u16 = 40;
const COLS: u16 = 160;
/// How long any expected screen or state may take to show up.
const DEADLINE: Duration = Duration::from_secs(20);

/// The screen as rendered so far, and whether the REPL has closed the terminal.
struct Screen {
    parser: vt100::Parser,
    /// How many times output changed the screen.
    changes: u64,
    /// How many line feeds the REPL has written: one at least each time the line editor
    /// accepts or cancels a line, whether or not the screen scrolled.
    line_feeds: u64,
    closed: bool,
}

/// `vizscript repl` on a pseudo-terminal; killed on drop if still running.
struct Terminal {
    pty: Arc<Pty>,
    child: Child,
    screen: Arc<(Mutex<Screen>, Condvar)>,
    /// `Screen::changes` and `Screen::line_feeds` when keys were last sent.
    sent_at: Cell<(u64, u64)>,
    reader: Option<JoinHandle<()>>,
}

impl Terminal {
    fn start(emu: &vizscript::emulator::Emulator, home: &std::path::Path) -> Terminal {
        let terminal = Terminal::start_with(emu, home, &["repl", "--site", ""], true);
        terminal.wait_for("vizscript>");
        terminal
    }

    /// vizscript with `args` on a pseudo-terminal, signing in as admin, with the password
    /// in the environment or not.
    fn start_with(
        emu: &vizscript::emulator::Emulator,
        home: &std::path::Path,
        args: &[&str],
        password_in_environment: bool,
    ) -> Terminal {
        let (pty, pts) = pty_process::blocking::open().expect("open a pseudo-terminal");
        pty.resize(pty_process::Size::new(ROWS, COLS))
            .expect("size the terminal");
        let mut command =
            Command::new(env!("CARGO_BIN_EXE_vizscript")).env_remove("TABLEAU_PASSWORD");
        if password_in_environment {
            command = command.env("TABLEAU_PASSWORD", "admin");
        }
        let child = command
            .args(args)
            .env("TERM", "xterm")
            .env("TABLEAU_SERVER", emu.url())
            .env("TABLEAU_USERNAME", "admin")
            .env("NO_PROXY", "*")
            .env("HOME", home)
            .env("XDG_DATA_HOME", home.join("data"))
            .spawn(pts)
            .expect("start vizscript repl");
        let pty = Arc::new(pty);
        let rows = NonZeroU16::new(ROWS).unwrap();
        let cols = NonZeroU16::new(COLS).unwrap();
        let screen = Arc::new((
            Mutex::new(Screen {
                parser: vt100::Parser::new(rows, cols, 0),
                changes: 0,
                line_feeds: 0,
                closed: false,
            }),
            Condvar::new(),
        ));
        let reader = {
            let (pty, screen) = (Arc::clone(&pty), Arc::clone(&screen));
            std::thread::spawn(move || render(&pty, &screen))
        };
        Terminal {
            pty,
            child,
            screen,
            sent_at: Cell::new((0, 0)),
            reader: Some(reader),
        }
    }

    /// Types `text` at the next empty prompt: waits until the line editor has ended the
    /// line typed last (a line feed written since) and shows a new empty prompt in raw
    /// mode. Keys typed earlier would be lost: the line editor drops what it read past an
    /// Enter, and while an evaluation runs the terminal, not the REPL, echoes them. (An
    /// empty prompt alone is not enough: it is still on screen, unchanged, while the keys
    /// sent last wait to be read.)
    fn type_in(&self, text: &str) {
        let (changes_at, line_feeds_at) = self.sent_at.get();
        let ready = |shown: &Screen| {
            let screen = shown.parser.screen();
            let row = screen.cursor_position().0;
            let line = screen.rows(0, COLS).nth(row.into()).unwrap_or_default();
            shown.changes > changes_at
                && shown.line_feeds > line_feeds_at
                && line.trim_end() == "vizscript>"
                && !self.signals_enabled()
        };
        if let Err(screen) = self.wait_until(ready, DEADLINE) {
            panic!("never got back to an empty prompt:\n{screen}");
        }
        self.send(text);
    }

    /// Types `text` as it is: `\t` is Tab, `\r` Enter, `\x03` Ctrl-C, `\x04` Ctrl-D.
    fn send(&self, text: &str) {
        let shown = self.screen.0.lock().unwrap();
        self.sent_at.set((shown.changes, shown.line_feeds));
        drop(shown);
        let mut pty = &*self.pty;
        pty.write_all(text.as_bytes())
            .expect("write to the terminal");
        pty.flush().expect("flush the terminal");
    }

    /// Waits until the screen shows `text`; fails after the deadline with the screen.
    fn wait_for(&self, text: &str) -> String {
        self.wait_within(text, DEADLINE)
            .unwrap_or_else(|screen| panic!("never saw {text:?} on:\n{screen}"))
    }

    /// The screen once it shows `text`, or `Err(screen)` when `limit` passed first.
    fn wait_within(&self, text: &str, limit: Duration) -> Result<String, String> {
        self.wait_until(
            |shown| shown.parser.screen().contents().contains(text),
            limit,
        )
    }

    /// The screen's text once `ready` holds for it, or `Err(text)` when `limit` passed
    /// first. Checked on every change of the screen, and every 10 ms for what the screen
    /// does not show (the terminal's mode).
    fn wait_until(
        &self,
        ready: impl Fn(&Screen) -> bool,
        limit: Duration,
    ) -> Result<String, String> {
        let start = Instant::now();
        let (lock, changed) = &*self.screen;
        let mut shown = lock.lock().unwrap();
        loop {
            if ready(&shown) {
                return Ok(shown.parser.screen().contents());
            }
            let left = limit.saturating_sub(start.elapsed());
            if left.is_zero() || shown.closed {
                return Err(shown.parser.screen().contents());
            }
            let tick = left.min(Duration::from_millis(10));
            shown = changed.wait_timeout(shown, tick).unwrap().0;
        }
    }

    /// Whether the REPL has given the terminal back to the line discipline (it is out of
    /// rustyline's raw mode, so Ctrl-C raises SIGINT). The master side reads the terminal
    /// settings the child set.
    fn signals_enabled(&self) -> bool {
        let mut settings = std::mem::MaybeUninit::<libc::termios>::uninit();
        // SAFETY: the descriptor is the open pty master and `settings` is written in full
        // by a successful call before it is read.
        let ok = unsafe { libc::tcgetattr(self.pty.as_raw_fd(), settings.as_mut_ptr()) } == 0;
        ok && unsafe { settings.assume_init() }.c_lflag & libc::ISIG != 0
    }

    /// Ctrl-C a running evaluation until the screen shows `text`. The REPL clears its
    /// cancel flag as an evaluation starts, so a SIGINT in the instant before is lost:
    /// wait for the terminal to leave raw mode, then press Ctrl-C again if nothing shows.
    fn interrupt_until(&self, text: &str) {
        let start = Instant::now();
        loop {
            assert!(
                start.elapsed() < DEADLINE,
                "the terminal never left raw mode"
            );
            if self.signals_enabled() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        loop {
            self.send("\x03");
            match self.wait_within(text, Duration::from_secs(2)) {
                Ok(_) => return,
                Err(screen) => assert!(
                    start.elapsed() < DEADLINE,
                    "never saw {text:?} after Ctrl-C on:\n{screen}"
                ),
            }
        }
    }

    /// Waits for the REPL to exit; its exit status.
    fn exit_status(&mut self) -> std::process::ExitStatus {
        let (lock, changed) = &*self.screen;
        let start = Instant::now();
        let mut screen = lock.lock().unwrap();
        while !screen.closed {
            let left = DEADLINE.saturating_sub(start.elapsed());
            assert!(!left.is_zero(), "the REPL never closed its terminal");
            screen = changed.wait_timeout(screen, left).unwrap().0;
        }
        drop(screen);
        self.child.wait().expect("wait for the REPL")
    }
}

/// Feeds everything the REPL writes into the screen until the terminal closes (reading
/// the master fails with EIO once no process holds the other side).
fn render(mut pty: &Pty, screen: &(Mutex<Screen>, Condvar)) {
    let mut buf = [0u8; 4096];
    loop {
        let read = pty.read(&mut buf);
        let mut shown = screen.0.lock().unwrap();
        match read {
            Ok(n) if n > 0 => {
                shown.parser.process(&buf[..n]);
                shown.changes += 1;
                shown.line_feeds += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            _ => shown.closed = true,
        }
        screen.1.notify_all();
        if shown.closed {
            return;
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

#[test]
fn completion_hints_ctrl_c_and_ctrl_d_at_a_terminal() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let mut term = Terminal::start(&emu, home.path());

    // ("sched" would be ambiguous: schedules, schedule_runs.)
    term.type_in("workb\t");
    term.wait_for("vizscript> workbooks");
    term.send("().len()\r");
    let on_default = emu.state()["workbooks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["siteId"] == "1")
        .count();
    term.wait_for(&format!("\n{on_default}\n"));

    term.type_in("let s = session_info();\r");
    term.type_in("s.us\t");
    term.wait_for("vizscript> s.user");
    term.send(".username\r");
    term.wait_for("\nadmin\n");

    term.type_in("set_extract_tasks_priority(");
    term.wait_for("set_extract_tasks_priority(ids: any, priority: any) -> map");
    term.send("\x03");

    // The interrupted input keeps nothing it defined; the session goes on.
    term.type_in("let n = 0; loop { n += 1; }\r");
    term.interrupt_until("interrupted");
    term.wait_for("so what it defined is dropped: n");
    term.type_in("s.user.username.len() > 0\r");
    term.wait_for("\ntrue\n");

    // One line at a time, each once the editor shows it: keys that arrive together
    // with an Enter may be read past it.
    term.type_in("fn twice(x) {\r");
    term.wait_for("fn twice(x) {");
    term.send("x * 2\r");
    term.wait_for("x * 2");
    term.send("}\r");
    term.type_in("twice(21)\r");
    term.wait_for("\n42\n");

    term.type_in("\x04");
    assert!(term.exit_status().success(), "Ctrl-D leaves the REPL");
    let history =
        std::fs::read_to_string(home.path().join("data/vizscript/repl-history.txt")).unwrap();
    assert!(history.contains("twice(21)"), "{history}");
}

#[test]
fn vp_names_and_their_param_keys_complete_at_a_terminal() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let term = Terminal::start(&emu, home.path());

    term.type_in("vp::getSchedul\t");
    term.wait_for("vizscript> vp::getSchedules");
    term.send("(#{ pa\t");
    term.wait_for("vizscript> vp::getSchedules(#{ page");
    term.send(": #{ startIndex: 0, maxItems: 2 }, ord\t");
    term.wait_for("maxItems: 2 }, order");
    term.send(": [] }).schedules.len()\r");
    term.wait_for("\n2\n");

    term.type_in(":help vp::getSchedules\r");
    term.wait_for("Confidence: high");
}

#[test]
fn exit_with_a_code_ends_the_terminal_session_with_it() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let mut term = Terminal::start(&emu, home.path());
    term.wait_for("vizscript> ");
    term.type_in("sleep(30); 1\r");
    term.interrupt_until("interrupted");
    term.type_in("exit(3)\r");
    term.wait_for("the input called exit(3)");
    assert_eq!(
        term.exit_status().code(),
        Some(3),
        "the code a wrapper sees"
    );
}

/// `--password-stdin` at a terminal asks without showing what is typed.
#[test]
fn password_stdin_at_a_terminal_does_not_show_the_password() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let args = ["call", "getSessionInfo", "--password-stdin"];
    let mut term = Terminal::start_with(&emu, home.path(), &args, false);
    term.wait_for("Password for admin: ");
    term.send("admin\r");
    let shown = term.wait_for("\"username\": \"admin\"");
    assert!(!shown.contains("admin: admin"), "{shown}");
    assert_eq!(term.exit_status().code(), Some(0), "{shown}");
}

//! Standard output, where results go (a script's `print`, `call`'s JSON, a snapshot): a
//! write that fails is remembered, so that a result cut short by a full disk
//! (`> /mnt/full/snapshot.json`) or a broken device ends the command with an error instead
//! of exit 0. A reader that left (`| head -1`) is not an error: output simply stops.

use std::io::{self, Write};
use std::sync::Mutex;

/// The first failed write, other than to a reader that left.
static FAILED: Mutex<Option<String>> = Mutex::new(None);

/// Write `bytes` to standard output now; whether they were written.
pub fn write(bytes: &[u8]) -> bool {
    with(|out| out.write_all(bytes))
}

/// Run `write` on standard output (locked, buffered: whole results go out together) and
/// flush it; whether all was written. A failure is noted for [`finish`].
pub fn with(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> bool {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let written = write(&mut out).and_then(|()| out.flush());
    note(written)
}

/// Flush standard output now (before a command's closing lines on stderr).
pub fn flush() {
    note(io::stdout().flush());
}

/// Flush standard output at the end of a command: why a result could not be written, if
/// one could not.
pub fn finish() -> Option<String> {
    note(io::stdout().flush());
    FAILED.lock().unwrap_or_else(|p| p.into_inner()).take()
}

fn note(written: io::Result<()>) -> bool {
    match written {
        Ok(()) => true,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => false,
        Err(e) => {
            let mut failed = FAILED.lock().unwrap_or_else(|p| p.into_inner());
            failed.get_or_insert_with(|| e.to_string());
            false
        }
    }
}

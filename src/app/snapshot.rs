//! `vizscript snapshot` and `vizscript diff`: a read-only copy of the server in the
//! emulator's data format, and what changed between two such copies.

use std::io::{IsTerminal, Write};
use std::path::Path;

use super::connect::connect;
use super::failure::Failure;
use super::rehearsal::write_json;
use crate::cli::{DiffArgs, SnapshotArgs};
use crate::emulator::Dataset;
use crate::exit::ExitCode;
use crate::script::Progress;
use crate::snapshot::{Difference, capture};

/// Capture the server and write the snapshot to `--out` or stdout.
pub fn snapshot(args: &SnapshotArgs, quiet: bool) -> Result<(), Failure> {
    let connection = connect(&args.connect)?;
    let progress = !quiet && std::io::stderr().is_terminal();
    let bar = |label: &str| -> Box<dyn Fn(usize, Option<usize>) + Sync> {
        let bar = Progress::start(progress, label);
        Box::new(move |done, total| bar.update(done, total))
    };
    let captured = capture(&connection.client, &bar);
    connection.close()?;
    let captured = captured?;
    // Checked as the emulator will load it: a snapshot that does not load is no use.
    let dataset = Dataset::from_text(&captured).map_err(|e| {
        Failure::new(
            ExitCode::Failed,
            format!("error: the server's answers do not make a consistent snapshot: {e:#}"),
        )
    })?;
    drop(captured);
    // Written from the dataset (its fields in the documented order), as it is encoded.
    let write = |out: &mut dyn Write| -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, &dataset)?;
        out.write_all(b"\n")
    };
    match &args.out {
        Some(path) => crate::file_out::replace(path, crate::file_out::Target::Named, write)
            .map_err(|e| Failure::usage(format!("--out {}: {e}", path.display())))?,
        None if !crate::stdout::with(write) => return Ok(()),
        None => {}
    }
    if !quiet {
        crate::diag!(
            "snapshot: {} site(s), {} schedule(s), {} extract task(s), {} subscription(s)",
            dataset.sites.len(),
            dataset.schedules.len(),
            dataset.extract_tasks.len(),
            dataset.subscriptions.len()
        );
    }
    Ok(())
}

/// Print what changed from one snapshot to another (and write it as JSON when asked).
pub fn diff(args: &DiffArgs) -> Result<(), Failure> {
    let before = load(&args.before)?;
    let after = load(&args.after)?;
    // Snapshots of two servers compare unrelated ids: say so rather than list nonsense.
    let server = |data: &Dataset| {
        let origin = data.snapshot_origin().map(|o| o.server.clone());
        origin
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_lowercase()
    };
    let (server_a, server_b) = (server(&before), server(&after));
    if !server_a.is_empty() && !server_b.is_empty() && server_a != server_b {
        crate::diag!(
            "note: the snapshots come from different servers ({server_a} and {server_b}): the difference compares unrelated data"
        );
    }
    let difference = Difference::between(&before, &after);
    crate::stdout::write(difference.render().as_bytes());
    if let Some(path) = &args.diff_json {
        write_json(path, &difference, "--diff-json")?;
    }
    Ok(())
}

fn load(path: &Path) -> Result<Dataset, Failure> {
    Dataset::load(path).map_err(|e| Failure::usage(format!("{e:#}")))
}

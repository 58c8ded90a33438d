//! `vizscript emulator`: serve the bundled emulator until stopped.

use std::io::Write;
use std::time::Duration;

use super::failure::Failure;
use crate::cli::EmulatorArgs;
use crate::emulator::{Dataset, Emulator, EmulatorConfig, Faults, SAMPLE_USERS, SampleSpec};

/// Start the emulator, print where it listens and who can sign in, and serve.
pub fn serve(args: &EmulatorArgs) -> Result<(), Failure> {
    if !(0.0..=1.0).contains(&args.fail_rate) {
        return Err(Failure::usage("--fail-rate must be between 0 and 1"));
    }
    let dataset = match &args.data {
        Some(path) => Dataset::load(path).map_err(|e| Failure::usage(format!("{e:#}")))?,
        None => Dataset::sample(&SampleSpec {
            sites: args.sites.max(1),
            tasks: args.tasks,
            schedules: args.schedules,
            seed: args.seed,
        }),
    };
    let config = EmulatorConfig {
        port: args.port,
        dataset,
        session_ttl: Duration::from_secs(args.session_ttl),
        faults: Faults {
            fail_rate: args.fail_rate,
            latency: Duration::from_millis(args.latency_ms),
        },
        max_page: args.max_page.max(1),
        max_batch: args.max_batch.max(1),
        record_calls: false,
        ..EmulatorConfig::default()
    };
    let emulator = Emulator::start(config).map_err(|e| Failure {
        code: 4,
        message: format!("error: cannot listen on port {}: {e}", args.port),
    })?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on {}", emulator.url());
    if args.data.is_none() {
        for (user, password) in SAMPLE_USERS {
            let _ = writeln!(out, "sample user: {user} / {password}");
        }
    }
    let _ = out.flush();
    drop(out);
    loop {
        std::thread::park();
    }
}

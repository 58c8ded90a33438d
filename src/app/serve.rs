//! `vizscript emulator`: serve the bundled emulator until stopped.

use std::path::Path;
use std::time::Duration;

use super::failure::Failure;
use crate::cli::{EmulatorArgs, PageOverflowArg};
use crate::emulator::{
    Dataset, Emulator, EmulatorConfig, Faults, JobSettings, PageOverflow, SAMPLE_TOKEN,
    SAMPLE_USERS, SampleSpec, TlsIdentity,
};
use crate::exit::ExitCode;

/// Start the emulator, print where it listens and who can sign in, and serve.
pub fn serve(args: &EmulatorArgs) -> Result<(), Failure> {
    let faults = faults(args);
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(tls_identity(cert, key)?),
        _ => None,
    };
    let dataset = match &args.data {
        Some(path) => Dataset::load(path).map_err(|e| Failure::usage(format!("{e:#}")))?,
        None => Dataset::sample(&SampleSpec {
            sites: args.sites,
            tasks: args.tasks,
            schedules: args.schedules,
            seed: args.seed,
        }),
    };
    let config = EmulatorConfig {
        port: args.port,
        dataset,
        session_ttl: Duration::from_secs(args.session_ttl),
        xsrf_failure_status: args.xsrf_failure_status,
        rest_api_version: args.rest_api_version,
        tls,
        faults,
        max_page: args.max_page,
        page_overflow: match args.page_overflow {
            PageOverflowArg::Clamp => PageOverflow::Clamp,
            PageOverflowArg::Reject => PageOverflow::Reject,
        },
        max_batch: args.max_batch,
        record_calls: false,
        jobs: job_settings(args)?,
        hidden_methods: args.hide_method.clone(),
        schedules_fire: !args.hold_schedules,
        gzip: args.gzip,
        documented_filters: args.documented_filters,
        schedule_shape: crate::emulator::ScheduleShape {
            guide_spelling: args.guide_detail_spelling,
            without_enabled: args.no_enabled_field,
        },
        partial_schedule_updates: args.partial_schedule_updates,
        ..EmulatorConfig::default()
    };
    // A misspelt method in a fault flag would quietly inject nothing.
    let named = [
        ("--fail-only", &args.fail_only),
        ("--reset-only", &args.reset_only),
        ("--html-for", &args.html_for),
        ("--hide-method", &args.hide_method),
    ];
    for (flag, methods) in named {
        if let Some(unknown) = methods.iter().find(|m| !crate::emulator::serves(m)) {
            return Err(Failure::usage(format!(
                "{flag} {unknown}: the emulator has no such method (methods are case-sensitive, e.g. getSchedules)"
            )));
        }
    }
    let emulator = Emulator::start(config).map_err(|e| {
        Failure::new(
            ExitCode::Unreachable,
            format!("error: cannot listen on port {}: {e}", args.port),
        )
    })?;
    crate::stdout::with(|out| {
        writeln!(out, "listening on {}", emulator.url())?;
        if args.data.is_none() {
            for (user, password) in SAMPLE_USERS {
                writeln!(out, "sample user: {user} / {password}")?;
            }
            let (name, secret, user) = SAMPLE_TOKEN;
            writeln!(out, "sample access token of {user}: {name} / {secret}")?;
        }
        Ok(())
    });
    loop {
        std::thread::park();
    }
}

/// The injected faults (clap has checked every probability).
fn faults(args: &EmulatorArgs) -> Faults {
    Faults {
        fail_rate: args.fail_rate,
        fail_methods: args.fail_only.clone(),
        latency: Duration::from_millis(args.latency_ms),
        spike_rate: args.spike_rate,
        spike: Duration::from_millis(args.spike_ms),
        reset_rate: args.reset_rate,
        reset_methods: args.reset_only.clone(),
        html_for_methods: args.html_for.clone(),
    }
}

/// How background jobs behave, with the flags checked.
fn job_settings(args: &EmulatorArgs) -> Result<JobSettings, Failure> {
    let duration = Duration::try_from_secs_f64(args.job_seconds)
        .map_err(|_| Failure::usage("--job-seconds must be a number of seconds, 0 or more"))?;
    Ok(JobSettings {
        duration,
        fail_rate: args.job_fail_rate,
        fail_targets: args.job_fail_target.clone(),
    })
}

/// The certificate chain and key of `--tls-cert` and `--tls-key`.
fn tls_identity(cert: &Path, key: &Path) -> Result<TlsIdentity, Failure> {
    let read = |path: &Path| {
        crate::file_in::read(path, crate::file_in::SMALL)
            .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))
    };
    TlsIdentity::from_pem(&read(cert)?, &read(key)?)
        .map_err(|e| Failure::usage(format!("{} and {}: {e}", cert.display(), key.display())))
}

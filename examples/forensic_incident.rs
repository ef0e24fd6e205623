//! Forensic (incident) mode end to end, with no collector: ordinary traffic is tail-sampled
//! at 10% (errors always kept); three policy violations put tenant `acme-corp` in forensic
//! mode (100% of its traces, its debug logs, `incident=true`, 10 s exports) while `globex`
//! stays at 10%; thirty minutes later (a manual clock, so the example does not wait) the
//! incident expires by itself. Spool files go to a temporary directory.
//!
//! Run: `cargo run --example forensic_incident`

use std::sync::Arc;
use std::time::Duration;
use stellaops_telemetry::incident::{IncidentEvent, ThresholdTrigger};
use stellaops_telemetry::sampling::{Decision, KeepReason, ManualClock, SamplerStats};

fn traffic(dispatch: &tracing::Dispatch, tenant: &str, requests: usize) {
    tracing::dispatcher::with_default(dispatch, || {
        for i in 0..requests {
            let span = tracing::info_span!(
                "http.request",
                tenant = tenant,
                request = i,
                otel.status_code = tracing::field::Empty
            );
            let _e = span.enter();
            tracing::debug!("cache lookup");
            if i.is_multiple_of(100) {
                tracing::error!("upstream failed");
                span.record("otel.status_code", "error");
            }
        }
    });
}

fn report(phase: &str, before: &SamplerStats, after: &SamplerStats) {
    let d = |decision| after.traces_with(decision) - before.traces_with(decision);
    println!(
        "{phase}: kept {} (error {}, forensic {}, ratio {}), dropped {}",
        after.traces_kept() - before.traces_kept(),
        d(Decision::Keep(KeepReason::Error)),
        d(Decision::Keep(KeepReason::Forensic)),
        d(Decision::Keep(KeepReason::Ratio)),
        after.traces_dropped() - before.traces_dropped(),
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let spool = tempfile::tempdir()?;
    // The spool refuses a directory other users can read (it holds tenant data).
    std::fs::set_permissions(
        spool.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )?;
    let clock = Arc::new(ManualClock::at(std::time::SystemTime::now()));
    let (telemetry, dispatch) = stellaops_telemetry::builder("policy-engine")
        .spool_dir(spool.path())
        .stdout_logs(false)
        .clock(clock.clone())
        .build()?;
    telemetry.incidents().observe(Box::new(|event| match event {
        IncidentEvent::Activated {
            tenant,
            source,
            reason,
            expires_at,
            ..
        } => {
            println!("incident activated for {tenant} by {source}: {reason} (until {expires_at})");
        }
        IncidentEvent::Expired {
            tenant,
            started_at,
            ended_at,
            ..
        } => {
            println!("incident for {tenant} expired ({started_at} .. {ended_at})");
        }
        other => println!("incident event: {other:?}"),
    }));

    let s0 = telemetry.sampler_stats();
    traffic(&dispatch, "acme-corp", 1_000);
    traffic(&dispatch, "globex", 1_000);
    telemetry.flush();
    let s1 = telemetry.sampler_stats();
    report("normal operation, 2000 traces", &s0, &s1);

    let trigger = ThresholdTrigger::new(telemetry.incidents().clone(), 3, Duration::from_secs(60));
    tracing::dispatcher::with_default(&dispatch, || -> Result<(), Box<dyn std::error::Error>> {
        for _ in 0..3 {
            trigger.record_violation("acme-corp", "deny-critical-cves")?;
        }
        Ok(())
    })?;
    traffic(&dispatch, "acme-corp", 1_000);
    let s2a = {
        telemetry.flush();
        telemetry.sampler_stats()
    };
    report("incident, acme-corp 1000 traces", &s1, &s2a);
    traffic(&dispatch, "globex", 1_000);
    telemetry.flush();
    let s2 = telemetry.sampler_stats();
    report("incident, globex 1000 traces", &s2a, &s2);

    clock.advance(Duration::from_secs(30 * 60));
    tracing::dispatcher::with_default(&dispatch, || telemetry.incidents().expire_due());
    println!(
        "active incidents now: {}",
        telemetry.incidents().status().len()
    );
    for line in telemetry.render_prometheus().lines() {
        if line.starts_with("telemetry_incident_mode{")
            || line.starts_with("telemetry_sampler_traces_total{")
        {
            println!("  {line}");
        }
    }
    telemetry.shutdown(Duration::from_secs(5));
    Ok(())
}

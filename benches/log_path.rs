//! Cost per log line on the emitting thread: the workload's two info lines (one
//! with an `authorization` bearer token that redaction masks, one with two numbers), inside
//! an entered span with a tenant, through `init`'s log layer (JSON line + OTLP record, and
//! OTLP record only), against the plain stack's log layers (tracing-subscriber's fmt JSON +
//! opentelemetry-appender-tracing with a `BatchLogProcessor`) and against the redaction calls
//! alone (the floor: the same `redact_text` / `redact_value` calls, nothing else), in one run.
//!
//! The export threads run beside the bench (their cost is not in these times; see the
//! workload bench for whole-process CPU).
//!
//! Run: `cargo bench --bench log_path -- --warm-up-time 1 --measurement-time 3`
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use opentelemetry::trace::TracerProvider as _;
mod support;

use opentelemetry_sdk::logs::{BatchLogProcessor, SdkLoggerProvider};
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};
use std::hint::black_box;
use stellaops_telemetry::redaction::{RedactionPolicy, Redactor};
use support::{DiscardLogs, DiscardSpans};
use tracing_subscriber::layer::SubscriberExt as _;

const SECRET: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ3b3JrbG9hZCJ9.c2lnbmF0dXJl";

/// The workload's two log lines.
fn lines(i: u64) {
    tracing::info!(
        authorization = format_args!("Bearer {SECRET}"),
        upstream = "registry.local",
        "upstream registry call authorised"
    );
    tracing::info!(componentCount = i, digest = i % 1_000, "Scan completed");
}

/// Runs `lines` inside an entered `http.request` span with a tenant, under `dispatch`.
fn in_span(c: &mut Criterion, name: &str, dispatch: &tracing::Dispatch) {
    tracing::dispatcher::with_default(dispatch, || {
        let root = tracing::info_span!("http.request", tenant = "acme-corp");
        let _entered = root.enter();
        c.bench_function(name, |b| {
            let mut i = 0;
            b.iter(|| {
                i += 1;
                lines(i);
            });
        });
    });
}

fn sink() -> stellaops_telemetry::telemetry_core::logging::LogSink {
    std::sync::Arc::new(std::sync::Mutex::new(Box::new(std::io::sink())))
}

fn private_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    // The spool refuses a directory other users can read.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .expect("chmod 700");
    dir
}

fn bench(c: &mut Criterion) {
    // The floor: the redaction calls a layer must make for these two lines.
    let redactor = Redactor::new(RedactionPolicy::default());
    c.bench_function("two_lines/redaction_calls_only", |b| {
        let mut i = 0_u64;
        b.iter(|| {
            i += 1;
            let bearer = format!("Bearer {SECRET}");
            black_box(redactor.redact_text("upstream registry call authorised"));
            black_box(redactor.redact_value("authorization", &bearer));
            black_box(redactor.redact_value("upstream", "registry.local"));
            black_box(redactor.redact_text("Scan completed"));
            black_box(redactor.redact_value("componentCount", &i.to_string()));
            black_box(redactor.redact_value("digest", &(i % 1_000).to_string()));
        });
    });

    {
        let tracer_provider = SdkTracerProvider::builder()
            .with_span_processor(BatchSpanProcessor::builder(DiscardSpans).build())
            .build();
        let logger_provider = SdkLoggerProvider::builder()
            .with_log_processor(BatchLogProcessor::builder(DiscardLogs).build())
            .build();
        let subscriber = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::sink),
            )
            .with(tracing_opentelemetry::layer().with_tracer(tracer_provider.tracer("bench")))
            .with(
                opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge::new(
                    &logger_provider,
                ),
            );
        let dispatch = tracing::Dispatch::new(subscriber);
        in_span(c, "two_lines/plain_fmt_json_and_appender", &dispatch);
        let _ = logger_provider.shutdown();
        let _ = tracer_provider.shutdown();
    }

    for (name, stdout) in [
        ("two_lines/init_json_and_otlp", true),
        ("two_lines/init_otlp_only", false),
    ] {
        let dir = private_dir();
        let (telemetry, dispatch) = stellaops_telemetry::builder("scanner")
            .profile("default")
            .spool_dir(dir.path())
            .log_sink(sink())
            .stdout_logs(stdout)
            .build()
            .expect("telemetry");
        in_span(c, name, &dispatch);
        telemetry.shutdown(std::time::Duration::from_secs(10));
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

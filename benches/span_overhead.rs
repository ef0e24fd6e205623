//! Cost per instrumented request (a root span, two child spans with three attributes each,
//! one log line, three metric updates) through `init`'s stack, against the same work with no
//! telemetry and with a plain tracing-opentelemetry + BatchSpanProcessor stack, in one run.
//!
//! Run: `cargo bench --bench span_overhead`
#![allow(missing_docs)]

mod support;

use criterion::{Criterion, criterion_group, criterion_main};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};
use stellaops_telemetry::metrics::MetricCatalogue;
use support::DiscardSpans;
use tracing_subscriber::layer::SubscriberExt as _;

fn request(catalogue: &MetricCatalogue, i: u64) {
    let root = tracing::info_span!(
        "http.request",
        http.request.method = "POST",
        url.path = "/api/scan",
        tenant = "acme-corp"
    );
    let _r = root.enter();
    {
        let db = tracing::info_span!(
            "db.query",
            db.system.name = "mongodb",
            db.collection.name = "scans",
            db.operation.name = "find"
        );
        let _d = db.enter();
    }
    {
        let policy = tracing::info_span!(
            "policy.evaluate",
            policyId = "baseline",
            version = "7",
            rules = 42_u64
        );
        let _p = policy.enter();
        tracing::info!(componentCount = i, "Scan completed");
    }
    catalogue.request_total("scanner", "ok").inc();
    catalogue
        .request_duration("scanner", "/api/scan")
        .observe(0.012);
    catalogue.scanner_sbom_components("npm").inc_by(3);
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("request");
    let catalogue = MetricCatalogue::default();

    group.bench_function("no_telemetry", |b| {
        let dispatch = tracing::Dispatch::none();
        tracing::dispatcher::with_default(&dispatch, || {
            let mut i = 0;
            b.iter(|| {
                i += 1;
                request(&catalogue, i);
            });
        });
    });

    group.bench_function("plain_otel_batch", |b| {
        let provider = SdkTracerProvider::builder()
            .with_span_processor(BatchSpanProcessor::builder(DiscardSpans).build())
            .build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench")));
        let dispatch = tracing::Dispatch::new(subscriber);
        tracing::dispatcher::with_default(&dispatch, || {
            let mut i = 0;
            b.iter(|| {
                i += 1;
                request(&catalogue, i);
            });
        });
        let _ = provider.shutdown();
    });

    group.bench_function("stellaops_init", |b| {
        let dir = tempfile::tempdir().expect("tempdir");
        // The spool refuses a directory other users can read.
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .expect("chmod 700");
        let sink: stellaops_telemetry::telemetry_core::logging::LogSink =
            std::sync::Arc::new(std::sync::Mutex::new(Box::new(std::io::sink())));
        let (telemetry, dispatch) = stellaops_telemetry::builder("scanner")
            .trace_sampling_ratio(1.0)
            .profile("airgap")
            .spool_dir(dir.path())
            .log_sink(sink)
            .build()
            .expect("telemetry");
        tracing::dispatcher::with_default(&dispatch, || {
            let mut i = 0;
            b.iter(|| {
                i += 1;
                request(telemetry.metrics(), i);
            });
        });
        telemetry.shutdown(std::time::Duration::from_secs(5));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Tail sampling cost on one core: spans/s through the OpenTelemetry SDK with the tail
//! sampler (default rules, 10%) against the same SDK with a processor that drops every span
//! (`sdk_noop_processor`, the named baseline); bytes per buffered span (counting
//! allocator); incident activation latency (`start()` until `is_active()`, and until the next
//! span of the tenant is decided `keep forensic`) against `is_active()` alone.
//!
//! The lean path of `init` is measured too: the same 4-span trace through the span
//! layer and the sampler against the `tracing` registry alone.
//!
//! Run: `cargo bench --bench tail_sampling -- --warm-up-time 1 --measurement-time 3`
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use opentelemetry::KeyValue;
use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanProcessor};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;
use stellaops_telemetry::incident::{IncidentController, IncidentRequest};
use stellaops_telemetry::sampling::{
    Decision, KeepReason, ManualClock, SamplingConfig, SpanSink, TailSampler, TailSamplingProcessor,
};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The baseline: the SDK builds and ends every span, then this drops it.
#[derive(Debug)]
struct NoopProcessor;

impl SpanProcessor for NoopProcessor {
    fn on_start(&self, _span: &mut opentelemetry_sdk::trace::Span, _cx: &opentelemetry::Context) {}
    fn on_end(&self, span: SpanData) {
        black_box(span);
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// Kept spans go nowhere (the export worker's cost is not the sampler's).
#[derive(Debug)]
struct DiscardSink;

impl SpanSink for DiscardSink {
    fn export(&self, spans: Vec<SpanData>) {
        black_box(spans);
    }
    fn flush(&self, _timeout: Duration) -> bool {
        true
    }
    fn shutdown(&self, _timeout: Duration) -> bool {
        true
    }
}

/// One trace: a root and three children, tenant on the root.
fn trace(tracer: &opentelemetry_sdk::trace::SdkTracer, tenant: &'static str) {
    tracer.in_span("http.request", |cx| {
        cx.span().set_attribute(KeyValue::new("tenant", tenant));
        for name in ["db.query", "policy.evaluate", "cache.get"] {
            let mut child = tracer.start(name);
            child.set_attribute(KeyValue::new("component", "scanner"));
            child.end();
        }
    });
}

use opentelemetry::trace::TraceContextExt as _;

fn sampler(clock: &Arc<ManualClock>) -> Arc<TailSampler<SpanData>> {
    Arc::new(TailSampler::new(SamplingConfig::default(), clock.clone()).unwrap())
}

fn spans_per_second(c: &mut Criterion) {
    let mut group = c.benchmark_group("tail_sampling/trace_of_4_spans");
    group.throughput(Throughput::Elements(4));

    let baseline = SdkTracerProvider::builder()
        .with_span_processor(NoopProcessor)
        .build();
    let tracer = baseline.tracer("bench");
    group.bench_function("sdk_noop_processor", |b| b.iter(|| trace(&tracer, "acme")));

    let clock = Arc::new(ManualClock::at(std::time::SystemTime::now()));
    let processor = Arc::new(TailSamplingProcessor::new(
        sampler(&clock),
        Arc::new(DiscardSink),
    ));
    let provider = SdkTracerProvider::builder()
        .with_span_processor(SharedProcessor(processor.clone()))
        .build();
    let tracer = provider.tracer("bench");
    let mut n = 0u64;
    group.bench_function("sdk_tail_sampler", |b| {
        b.iter(|| {
            trace(&tracer, "acme");
            n += 1;
            if n.is_multiple_of(256) {
                // housekeeping: the grace period passes, due traces are decided
                clock.advance(Duration::from_millis(150));
                processor.expire_due();
            }
        });
    });
    group.finish();
}

/// The same trace through `tracing` (what services write).
fn tracing_trace(tenant: &'static str) {
    let root = tracing::info_span!("http.request", tenant);
    let _r = root.enter();
    {
        let _c = tracing::info_span!("db.query", component = "scanner").entered();
    }
    {
        let _c = tracing::info_span!("policy.evaluate", component = "scanner").entered();
    }
    {
        let _c = tracing::info_span!("cache.get", component = "scanner").entered();
    }
}

/// The lean path under `init` (span layer, local buffering, one hand-over per trace, the tail
/// sampler with default rules) against the `tracing` registry alone (the floor of any
/// `tracing`-based telemetry). Only the service thread is timed: deciding and freeing happen on
/// the housekeeping thread, exporting the kept 10% on the export thread (the workload bench
/// counts those).
fn lean_spans_per_second(c: &mut Criterion) {
    let mut group = c.benchmark_group("tail_sampling/lean_trace_of_4_spans");
    group.throughput(Throughput::Elements(4));
    let registry = tracing::Dispatch::new(tracing_subscriber::registry());
    tracing::dispatcher::with_default(&registry, || {
        group.bench_function("registry_only_baseline", |b| {
            b.iter(|| tracing_trace("acme"));
        });
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let (telemetry, dispatch) = stellaops_telemetry::builder("bench")
        .profile("airgap")
        .spool_dir(dir.path())
        .stdout_logs(false)
        .trace_sampling_ratio(0.1)
        .build()
        .unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        group.bench_function("init_span_layer", |b| {
            b.iter(|| tracing_trace("acme"));
        });
    });
    group.finish();
    telemetry.shutdown(Duration::from_secs(10));
}

/// Lets the bench keep a handle on the processor the provider owns.
#[derive(Debug)]
struct SharedProcessor(Arc<TailSamplingProcessor>);

impl SpanProcessor for SharedProcessor {
    fn on_start(&self, span: &mut opentelemetry_sdk::trace::Span, cx: &opentelemetry::Context) {
        self.0.on_start(span, cx);
    }
    fn on_end(&self, span: SpanData) {
        self.0.on_end(span);
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
}

fn bytes_per_buffered_span() {
    let clock = Arc::new(ManualClock::at(std::time::SystemTime::now()));
    let s = sampler(&clock);
    let processor = Arc::new(TailSamplingProcessor::new(s.clone(), Arc::new(DiscardSink)));
    let provider = SdkTracerProvider::builder()
        .with_span_processor(SharedProcessor(processor))
        .build();
    let tracer = provider.tracer("bench");
    // children whose roots have not ended: everything stays buffered
    let spans: u64 = 20_000;
    let parents: Vec<_> = (0..spans / 4)
        .map(|_| tracer.start("http.request"))
        .collect();
    let region = Region::new(GLOBAL);
    for p in &parents {
        let cx = opentelemetry::Context::new().with_remote_span_context(p.span_context().clone());
        for name in ["db.query", "policy.evaluate", "cache.get", "render"] {
            let mut child = tracer.start_with_context(name, &cx);
            child.set_attribute(KeyValue::new("tenant", "acme"));
            child.set_attribute(KeyValue::new("component", "scanner"));
            child.end();
        }
    }
    let stats = region.change();
    let buffered = s.stats().buffered_spans as u64;
    let net = stats.bytes_allocated as i64 - stats.bytes_deallocated as i64
        + stats.bytes_reallocated as i64;
    eprintln!(
        "tail_sampling/bytes_per_buffered_span: {} bytes ({} spans buffered in {} traces, net heap {} bytes; SpanData itself is {} bytes)",
        net / buffered.max(1) as i64,
        buffered,
        s.stats().in_flight_traces,
        net,
        std::mem::size_of::<SpanData>(),
    );
    drop(parents);
}

fn incident_activation(c: &mut Criterion) {
    let mut group = c.benchmark_group("tail_sampling/incident_activation");
    let clock = Arc::new(ManualClock::at(std::time::SystemTime::now()));
    let incidents = IncidentController::new(clock.clone());
    incidents
        .start(IncidentRequest::manual("other", "bench", "bench"))
        .unwrap();
    group.bench_function("is_active_only_baseline", |b| {
        b.iter(|| black_box(incidents.is_active(black_box("acme"))));
    });
    group.bench_function("start_until_is_active", |b| {
        b.iter(|| {
            incidents
                .start(IncidentRequest::manual("acme", "bench", "bench"))
                .unwrap();
            assert!(incidents.is_active("acme"));
            incidents.stop("acme", "bench").unwrap();
        });
    });

    let s = Arc::new(
        TailSampler::new(
            SamplingConfig {
                ratio: 0.0,
                ..SamplingConfig::default()
            },
            clock.clone(),
        )
        .unwrap()
        .with_forensic(Arc::new(incidents.clone())),
    );
    let processor = Arc::new(TailSamplingProcessor::new(s.clone(), Arc::new(DiscardSink)));
    let provider = SdkTracerProvider::builder()
        .with_span_processor(SharedProcessor(processor.clone()))
        .build();
    let tracer = provider.tracer("bench");
    group.bench_function("start_until_next_span_kept", |b| {
        b.iter(|| {
            incidents
                .start(IncidentRequest::manual("acme", "bench", "bench"))
                .unwrap();
            let mut span = tracer.start("http.request");
            span.set_attribute(KeyValue::new("tenant", "acme"));
            let id = span.span_context().trace_id().to_bytes();
            span.end();
            processor.force_flush().unwrap();
            assert_eq!(
                s.decision_of(&id),
                Some(Decision::Keep(KeepReason::Forensic))
            );
            incidents.stop("acme", "bench").unwrap();
        });
    });
    group.finish();
}

fn all(c: &mut Criterion) {
    // Not while a test runner lists the benchmarks (its stdout is parsed).
    if !std::env::args().any(|a| a == "--list") {
        bytes_per_buffered_span();
    }
    spans_per_second(c);
    lean_spans_per_second(c);
    incident_activation(c);
}

criterion_group!(benches, all);
criterion_main!(benches);

//! Cost of the telemetry HTTP API against calling the traits directly.
//!
//! `status`: `GET /telemetry/incidents/status` through the router with `oneshot` (bearer
//! lookup, scope and tenant checks, JSON encoding, body collection) vs the baseline
//! `MemoryIncidentRegistry::status` + `serde_json::to_vec` called directly.
//! `forensic_export`: `GET /telemetry/exports/forensic/1h` of a small signed bundle (50
//! records of 512 bytes, built in `/dev/shm` when present) streamed through the bounded
//! channel vs the baseline `MemoryExporter::export` into a `Vec<u8>` on the calling thread.
//! Paired: every iteration runs both variants back to back and times one, so the ratio holds
//! on a shared, noisy machine. Run with `cargo bench --bench http_api -- --warm-up-time 1 --measurement-time 3`;
//! results are recorded in `docs/benchmarks.md`.
// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use axum::body::Body;
use criterion::{Criterion, criterion_group, criterion_main};
use http::Request;
use http_body_util::BodyExt as _;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};
use stellaops_telemetry::bundle::Signal;
use stellaops_telemetry::dsse::HmacSha256Key;
use stellaops_telemetry_http::window::Window;
use stellaops_telemetry_http::{
    Clock as _, ForensicExporter as _, IncidentApi as _, ManualClock, MemoryAudit, MemoryExporter,
    MemoryIncidentRegistry, Principal, StaticTokens, TelemetryRouter, TelemetryState,
};
use tower::ServiceExt as _;

struct Setup {
    router: axum::Router,
    incidents: Arc<MemoryIncidentRegistry>,
    exporter: Arc<MemoryExporter>,
    clock: Arc<ManualClock>,
}

fn setup() -> Setup {
    let clock = Arc::new(ManualClock::new("2025-03-01T12:00:00Z".parse().unwrap()));
    let key = Arc::new(HmacSha256Key::new("bench", vec![1u8; 32]).unwrap());
    let incidents = Arc::new(MemoryIncidentRegistry::new(clock.clone()));
    // Bundles are built in tmpfs when there is one: the fsync of a real disk under a loaded
    // machine would otherwise dominate both sides and hide the HTTP cost being measured.
    let shm = std::path::Path::new("/dev/shm");
    let temp = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let exporter = Arc::new(MemoryExporter::new(key.clone(), clock.clone()).with_temp_dir(temp));
    for i in 0..50 {
        exporter.push(
            "acme",
            clock.now() - chrono::Duration::seconds(i * 30),
            Signal::Traces,
            vec![(i % 251) as u8; 512],
        );
    }
    incidents
        .start("acme", "bench", "ops", std::time::Duration::from_secs(1800))
        .unwrap();
    let tokens = StaticTokens::new().with(
        "t",
        Principal::new("ops", "acme", ["telemetry:read", "telemetry:export"]),
    );
    let state = TelemetryState::builder(Arc::new(tokens), incidents.clone(), exporter.clone(), key)
        .clock(clock.clone())
        .audit(Arc::new(MemoryAudit::new()))
        .build()
        .unwrap();
    Setup {
        router: TelemetryRouter::new(state).into_router(),
        incidents,
        exporter,
        clock,
    }
}

async fn get(router: &axum::Router, uri: &str) -> usize {
    let request = Request::get(uri)
        .header("authorization", "Bearer t")
        .body(Body::empty())
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert!(response.status().is_success());
    response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .len()
}

/// Times `timed` over `iters` iterations, running `other` untimed right before each one, so
/// both variants see the same machine state (the pair is measured twice, timing each side).
fn paired(
    iters: u64,
    other: &mut dyn FnMut() -> usize,
    timed: &mut dyn FnMut() -> usize,
) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        black_box(other());
        let start = Instant::now();
        black_box(timed());
        total += start.elapsed();
    }
    total
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let s = setup();
    let mut status_trait = || {
        let views = s.incidents.status(Some("acme"));
        serde_json::to_vec(&serde_json::json!({ "incidents": views }))
            .unwrap()
            .len()
    };
    let mut status_router = || runtime.block_on(get(&s.router, "/telemetry/incidents/status"));
    assert_eq!(status_trait() + 1, status_router()); // same JSON, plus the router's newline
    let mut group = c.benchmark_group("http_api/status");
    group.bench_function("baseline_trait", |b| {
        b.iter_custom(|iters| paired(iters, &mut status_router, &mut status_trait));
    });
    group.bench_function("router_oneshot", |b| {
        b.iter_custom(|iters| paired(iters, &mut status_trait, &mut status_router));
    });
    group.finish();

    let window = Window::parse("1h", s.clock.now()).unwrap();
    let mut export_trait = || {
        let mut out = Vec::new();
        s.exporter.export("acme", &window, &mut out).unwrap();
        out.len()
    };
    let mut export_router = || runtime.block_on(get(&s.router, "/telemetry/exports/forensic/1h"));
    assert_eq!(export_trait(), export_router()); // the same bundle bytes either way
    let mut group = c.benchmark_group("http_api/forensic_export");
    group.bench_function("baseline_trait", |b| {
        b.iter_custom(|iters| paired(iters, &mut export_router, &mut export_trait));
    });
    group.bench_function("router_oneshot", |b| {
        b.iter_custom(|iters| paired(iters, &mut export_trait, &mut export_router));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

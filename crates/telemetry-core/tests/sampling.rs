//! Tail sampling: the TraceIdRatioBased rule exactly, the 10% ratio, error and slow traces
//! always kept (also under memory pressure), forensic tenants at 100%, late spans following
//! the decision, early decisions by cause, metrics, configuration errors, and the engine's
//! invariants under arbitrary input (proptest). Manual clock throughout: no sleeps.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{
    Sampler, SamplingDecision, ShouldSample, SpanData, SpanEvents, SpanLinks,
};
use proptest::prelude::*;
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use stellaops_telemetry_core::incident::{IncidentController, IncidentRequest};
use stellaops_telemetry_core::metrics::{MetricCatalogue, encode_prometheus_text};
use stellaops_telemetry_core::sampling::{
    Decision, DropReason, EarlyCause, InMemorySpanSink, KeepReason, ManualClock, SamplingConfig,
    TailSampler, TailSamplingProcessor, TraceIdRatio, UpstreamPolicy,
};

/// 2025-11-29T12:00:00Z in milliseconds.
const BASE_MS: u64 = 1_764_417_600_000;

/// A deterministic id source (splitmix64).
struct Ids(u64);

impl Ids {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn trace(&mut self) -> [u8; 16] {
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&self.next().to_be_bytes());
        id[8..].copy_from_slice(&self.next().to_be_bytes());
        id
    }
}

fn at(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(BASE_MS + ms)
}

#[allow(clippy::too_many_arguments)]
fn span(
    trace: [u8; 16],
    id: u64,
    parent: u64,
    start_ms: u64,
    end_ms: u64,
    error: bool,
    attributes: Vec<KeyValue>,
) -> SpanData {
    SpanData {
        span_context: SpanContext::new(
            TraceId::from_bytes(trace),
            SpanId::from_bytes(id.to_be_bytes()),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        ),
        parent_span_id: SpanId::from_bytes(parent.to_be_bytes()),
        parent_span_is_remote: false,
        span_kind: SpanKind::Internal,
        name: "op".into(),
        start_time: at(start_ms),
        end_time: at(end_ms),
        attributes,
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: if error {
            Status::error("boom")
        } else {
            Status::Unset
        },
        instrumentation_scope: InstrumentationScope::builder("test").build(),
    }
}

/// A one-span trace (its root), 10 ms long.
fn root(trace: [u8; 16], error: bool) -> SpanData {
    span(trace, 1, 0, 0, 10, error, vec![])
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::at(at(0)))
}

fn sampler(config: SamplingConfig, clock: &Arc<ManualClock>) -> TailSampler<SpanData> {
    TailSampler::new(config, clock.clone()).unwrap()
}

fn sdk_keeps(ratio: f64, trace: [u8; 16]) -> bool {
    Sampler::TraceIdRatioBased(ratio)
        .should_sample(
            None,
            TraceId::from_bytes(trace),
            "op",
            &SpanKind::Internal,
            &[],
            &[],
        )
        .decision
        == SamplingDecision::RecordAndSample
}

fn trace_ids(spans: &[SpanData]) -> BTreeSet<[u8; 16]> {
    spans
        .iter()
        .map(|s| s.span_context.trace_id().to_bytes())
        .collect()
}

#[test]
fn ratio_rule_equals_trace_id_ratio_based_exactly() {
    let mut ids = Ids(7);
    for ratio in [0.0, 1e-9, 0.01, 0.1, 0.25, 0.5, 0.75, 0.999_999, 1.0] {
        let rule = TraceIdRatio::new(ratio);
        for _ in 0..5_000 {
            let t = ids.trace();
            assert_eq!(
                rule.keeps(&t),
                sdk_keeps(ratio, t),
                "ratio {ratio} id {t:?}"
            );
        }
        // boundary ids: just below and at the upper bound
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let bound = (ratio * (1u64 << 63) as f64) as u64;
        for low in [
            bound.saturating_sub(1) << 1,
            bound << 1,
            (bound << 1) | 1,
            0,
            u64::MAX,
        ] {
            let mut t = [0xab; 16];
            t[8..].copy_from_slice(&low.to_be_bytes());
            assert_eq!(
                rule.keeps(&t),
                sdk_keeps(ratio, t),
                "ratio {ratio} low {low:#x}"
            );
        }
    }
}

#[test]
fn engine_keeps_exactly_the_traces_trace_id_ratio_based_keeps_and_converges_to_ten_percent() {
    let clock = clock();
    let s = sampler(SamplingConfig::default(), &clock);
    let mut ids = Ids(42);
    let mut out = Vec::new();
    let mut expected = BTreeSet::new();
    let n: u32 = 50_000;
    for i in 0..n {
        let t = ids.trace();
        if sdk_keeps(0.10, t) {
            expected.insert(t);
        }
        s.push(root(t, false), &mut out);
        if i % 1_000 == 999 {
            clock.advance(Duration::from_millis(200));
            s.expire_due(&mut out);
        }
    }
    clock.advance(Duration::from_millis(200));
    s.expire_due(&mut out);
    assert_eq!(trace_ids(&out), expected);
    let kept = out.len() as f64 / f64::from(n);
    assert!((kept - 0.10).abs() < 0.005, "kept {kept}");
    let stats = s.stats();
    assert_eq!(
        stats.traces_with(Decision::Keep(KeepReason::Ratio)),
        expected.len() as u64
    );
    assert_eq!(
        stats.traces_with(Decision::Drop(DropReason::Ratio)),
        u64::from(n) - expected.len() as u64
    );
    assert_eq!(stats.in_flight_traces, 0);
    assert_eq!(stats.buffered_spans, 0);
}

#[test]
fn decision_waits_for_the_grace_period_after_the_local_root_ends() {
    let clock = clock();
    let config = SamplingConfig {
        ratio: 1.0,
        ..SamplingConfig::default()
    };
    let s = sampler(config, &clock);
    let t = [1; 16];
    let mut out = Vec::new();
    s.push(span(t, 2, 1, 1, 5, false, vec![]), &mut out);
    clock.advance(Duration::from_secs(5));
    s.expire_due(&mut out);
    assert!(out.is_empty(), "no root yet: still buffered");
    s.push(span(t, 1, 0, 0, 10, false, vec![]), &mut out);
    clock.advance(Duration::from_millis(99));
    s.expire_due(&mut out);
    assert!(out.is_empty(), "within the grace period");
    s.push(span(t, 3, 1, 2, 9, false, vec![]), &mut out);
    clock.advance(Duration::from_millis(1));
    s.expire_due(&mut out);
    assert_eq!(out.len(), 3, "root, child and the straggler");
}

#[test]
fn error_and_slow_traces_are_kept_at_ratio_zero() {
    let clock = clock();
    let config = SamplingConfig {
        ratio: 0.0,
        ..SamplingConfig::default()
    };
    let s = sampler(config, &clock);
    let mut out = Vec::new();
    // error in a child span
    s.push(span([1; 16], 2, 1, 1, 2, true, vec![]), &mut out);
    s.push(span([1; 16], 1, 0, 0, 10, false, vec![]), &mut out);
    // exactly the slow threshold (2 s), and just below it
    s.push(span([2; 16], 1, 0, 0, 2_000, false, vec![]), &mut out);
    s.push(span([3; 16], 1, 0, 0, 1_999, false, vec![]), &mut out);
    // audit
    s.push(
        span(
            [4; 16],
            1,
            0,
            0,
            1,
            false,
            vec![KeyValue::new("audit", true)],
        ),
        &mut out,
    );
    clock.advance(Duration::from_millis(100));
    s.expire_due(&mut out);
    assert_eq!(trace_ids(&out), BTreeSet::from([[1; 16], [2; 16], [4; 16]]));
    assert_eq!(
        s.decision_of(&[1; 16]),
        Some(Decision::Keep(KeepReason::Error))
    );
    assert_eq!(
        s.decision_of(&[2; 16]),
        Some(Decision::Keep(KeepReason::Slow))
    );
    assert_eq!(
        s.decision_of(&[3; 16]),
        Some(Decision::Drop(DropReason::Ratio))
    );
    assert_eq!(
        s.decision_of(&[4; 16]),
        Some(Decision::Keep(KeepReason::Audit))
    );
}

#[test]
fn late_spans_follow_the_decision_and_a_late_error_flips_it() {
    let clock = clock();
    let config = SamplingConfig {
        ratio: 0.0,
        ..SamplingConfig::default()
    };
    let s = sampler(config, &clock);
    let mut out = Vec::new();
    let kept = [1; 16];
    let dropped = [2; 16];
    s.push(span(kept, 1, 0, 0, 10, true, vec![]), &mut out);
    s.push(span(dropped, 1, 0, 0, 10, false, vec![]), &mut out);
    clock.advance(Duration::from_millis(100));
    s.expire_due(&mut out);
    assert_eq!(out.len(), 1);
    out.clear();

    // a late ordinary span of the kept trace is exported at once
    s.push(span(kept, 5, 1, 1, 3, false, vec![]), &mut out);
    assert_eq!(out.len(), 1);
    // a late ordinary span of the dropped trace is discarded
    s.push(span(dropped, 5, 1, 1, 3, false, vec![]), &mut out);
    assert_eq!(out.len(), 1);
    // a late error span of the dropped trace is exported and flips the decision...
    s.push(span(dropped, 6, 1, 1, 3, true, vec![]), &mut out);
    assert_eq!(out.len(), 2);
    assert_eq!(
        s.decision_of(&dropped),
        Some(Decision::Keep(KeepReason::Error))
    );
    // ...so the trace's later spans are kept too
    s.push(span(dropped, 7, 1, 1, 3, false, vec![]), &mut out);
    assert_eq!(out.len(), 3);
    // a late span that makes the dropped trace slow flips it as well
    s.push(span([3; 16], 1, 0, 0, 10, false, vec![]), &mut out);
    clock.advance(Duration::from_millis(100));
    s.expire_due(&mut out);
    s.push(span([3; 16], 2, 1, 5, 2_500, false, vec![]), &mut out);
    assert_eq!(out.len(), 4);
    assert_eq!(
        s.decision_of(&[3; 16]),
        Some(Decision::Keep(KeepReason::Slow))
    );
    let stats = s.stats();
    assert_eq!(stats.flipped_to_keep, 2);
    // the dropped root, its late ordinary span, and the root of the third trace
    assert_eq!(stats.spans_with(Decision::Drop(DropReason::Ratio)), 3);
}

/// Thousands of interleaved traces with tiny bounds: every error span is exported, the
/// bounds hold after every span, and early decisions are counted by cause.
#[test]
fn error_traces_are_kept_under_load_and_memory_pressure() {
    let clock = clock();
    let config = SamplingConfig {
        ratio: 0.0,
        max_traces: 4,
        max_spans: 9,
        decision_cache: 16,
        ..SamplingConfig::default()
    };
    let s = sampler(config.clone(), &clock);
    let mut ids = Ids(99);
    let mut out = Vec::new();
    let mut error_spans = HashSet::new();
    let mut live: Vec<([u8; 16], u64)> = Vec::new();
    let mut pushed = 0u64;
    for _ in 0..20_000 {
        let r = ids.next();
        if live.len() < 8 && (r.is_multiple_of(3) || live.is_empty()) {
            live.push((ids.trace(), 2));
            continue;
        }
        let idx = (r as usize / 3) % live.len();
        let (t, next) = live[idx];
        let error = r.is_multiple_of(17);
        let is_root = r.is_multiple_of(5);
        let sid = if is_root { 1 } else { next };
        let sp = span(t, sid, if is_root { 0 } else { 1 }, 0, 10, error, vec![]);
        if error {
            error_spans.insert((t, sid));
        }
        s.push(sp, &mut out);
        pushed += 1;
        if is_root {
            live.swap_remove(idx);
        } else {
            live[idx].1 += 1;
        }
        let stats = s.stats();
        assert!(stats.buffered_spans <= config.max_spans, "{stats:?}");
        assert!(stats.in_flight_traces <= config.max_traces, "{stats:?}");
        assert!(stats.cached_decisions <= config.decision_cache, "{stats:?}");
        if r.is_multiple_of(50) {
            clock.advance(Duration::from_millis(100));
            s.expire_due(&mut out);
        }
    }
    s.decide_all(&mut out);
    let exported: HashSet<([u8; 16], u64)> = out
        .iter()
        .map(|sp| {
            (
                sp.span_context.trace_id().to_bytes(),
                u64::from_be_bytes(sp.span_context.span_id().to_bytes()),
            )
        })
        .collect();
    assert!(error_spans.len() > 500, "{}", error_spans.len());
    for e in &error_spans {
        assert!(exported.contains(e), "error span {e:?} was dropped");
    }
    let stats = s.stats();
    assert!(stats.early_for(EarlyCause::TracesFull) > 0, "{stats:?}");
    assert!(stats.early_for(EarlyCause::SpansFull) > 0, "{stats:?}");
    let spans: u64 = stats.spans.iter().sum();
    assert_eq!(
        spans, pushed,
        "every span is counted once as kept or dropped"
    );
    assert_eq!(out.len() as u64, stats.spans.iter().take(6).sum::<u64>());
}

#[test]
fn max_wait_decides_a_trace_whose_root_never_ends() {
    let clock = clock();
    let config = SamplingConfig {
        ratio: 0.0,
        ..SamplingConfig::default()
    };
    let s = sampler(config, &clock);
    let mut out = Vec::new();
    s.push(span([5; 16], 2, 1, 0, 1, true, vec![]), &mut out);
    clock.advance(Duration::from_millis(29_999));
    s.expire_due(&mut out);
    assert!(out.is_empty());
    clock.advance(Duration::from_millis(1));
    s.expire_due(&mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(s.stats().early_for(EarlyCause::MaxWait), 1);
}

#[test]
fn forensic_tenant_is_kept_in_full_while_another_stays_at_ten_percent() {
    let clock = clock();
    let incidents = IncidentController::new(clock.clone());
    let s = sampler(SamplingConfig::default(), &clock).with_forensic(Arc::new(incidents.clone()));
    incidents
        .start(IncidentRequest::manual(
            "acme-corp",
            "CVE-2025-12345",
            "alice",
        ))
        .unwrap();
    let mut ids = Ids(3);
    let mut out = Vec::new();
    let mut expected_other = 0usize;
    let n: u64 = 20_000;
    for _ in 0..n {
        for tenant in ["acme-corp", "globex"] {
            let t = ids.trace();
            if tenant == "globex" && sdk_keeps(0.10, t) {
                expected_other += 1;
            }
            // the tenant is on a child span only; the root has none
            s.push(
                span(t, 2, 1, 0, 1, false, vec![KeyValue::new("tenant", tenant)]),
                &mut out,
            );
            s.push(span(t, 1, 0, 0, 2, false, vec![]), &mut out);
        }
        clock.advance(Duration::from_millis(1));
        s.expire_due(&mut out);
    }
    clock.advance(Duration::from_secs(1));
    s.expire_due(&mut out);
    let stats = s.stats();
    assert_eq!(stats.traces_with(Decision::Keep(KeepReason::Forensic)), n);
    assert_eq!(
        stats.traces_with(Decision::Keep(KeepReason::Ratio)),
        expected_other as u64
    );
    let other = expected_other as f64 / n as f64;
    assert!((other - 0.10).abs() < 0.01, "{other}");

    // after the incident ends, the tenant is back at the ratio
    incidents.stop("acme-corp", "alice").unwrap();
    let t = (0..)
        .map(|_| ids.trace())
        .find(|t| !sdk_keeps(0.10, *t))
        .unwrap();
    s.push(
        span(
            t,
            1,
            0,
            0,
            1,
            false,
            vec![KeyValue::new("tenant", "acme-corp")],
        ),
        &mut out,
    );
    clock.advance(Duration::from_secs(1));
    s.expire_due(&mut out);
    assert_eq!(s.decision_of(&t), Some(Decision::Drop(DropReason::Ratio)));
}

#[test]
fn upstream_decision_is_honoured_per_policy() {
    let sampled = [8; 16];
    let unsampled = [9; 16];
    for (policy, ratio, expect_sampled, expect_unsampled) in [
        (UpstreamPolicy::Ignore, 0.0, false, false),
        (UpstreamPolicy::KeepSampled, 0.0, true, false),
        (UpstreamPolicy::KeepSampled, 1.0, true, true),
        (UpstreamPolicy::Follow, 1.0, true, false),
    ] {
        let clock = clock();
        let s = sampler(
            SamplingConfig {
                ratio,
                upstream: policy,
                ..SamplingConfig::default()
            },
            &clock,
        );
        let mut out = Vec::new();
        s.note_upstream(sampled, true, &mut out);
        s.note_upstream(unsampled, false, &mut out);
        s.push(root(sampled, false), &mut out);
        s.push(root(unsampled, false), &mut out);
        clock.advance(Duration::from_millis(100));
        s.expire_due(&mut out);
        let kept = trace_ids(&out);
        assert_eq!(kept.contains(&sampled), expect_sampled, "{policy:?}");
        assert_eq!(kept.contains(&unsampled), expect_unsampled, "{policy:?}");
    }
    // an error trace is kept even when upstream did not sample it
    let clock = clock();
    let s = sampler(
        SamplingConfig {
            ratio: 1.0,
            upstream: UpstreamPolicy::Follow,
            ..SamplingConfig::default()
        },
        &clock,
    );
    let mut out = Vec::new();
    s.note_upstream(unsampled, false, &mut out);
    s.push(root(unsampled, true), &mut out);
    clock.advance(Duration::from_millis(100));
    s.expire_due(&mut out);
    assert_eq!(out.len(), 1);
}

#[test]
fn decisions_are_counted_in_the_catalogue() {
    let clock = clock();
    let catalogue = MetricCatalogue::default();
    let mut registry = prometheus_client::registry::Registry::default();
    catalogue.register(&mut registry);
    let s = sampler(
        SamplingConfig {
            ratio: 0.0,
            max_traces: 1,
            ..SamplingConfig::default()
        },
        &clock,
    )
    .with_metrics(&catalogue);
    let mut out = Vec::new();
    s.push(span([1; 16], 2, 1, 0, 1, true, vec![]), &mut out);
    s.push(span([1; 16], 3, 1, 0, 1, false, vec![]), &mut out);
    s.push(root([2; 16], false), &mut out); // evicts trace 1 early
    clock.advance(Duration::from_millis(100));
    s.expire_due(&mut out);
    let text = encode_prometheus_text(&registry).unwrap();
    for line in [
        "telemetry_sampler_traces_total{decision=\"keep\",reason=\"error\"} 1",
        "telemetry_sampler_traces_total{decision=\"drop\",reason=\"ratio\"} 1",
        "telemetry_sampler_spans_total{decision=\"keep\",reason=\"error\"} 2",
        "telemetry_sampler_spans_total{decision=\"drop\",reason=\"ratio\"} 1",
        "telemetry_sampler_early_decisions_total{cause=\"traces_full\"} 1",
        "telemetry_sampler_early_decisions_total{cause=\"spans_full\"} 0",
        "telemetry_sampler_early_decisions_total{cause=\"max_wait\"} 0",
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
}

#[test]
fn unusable_configuration_is_refused_with_a_code() {
    let clock = clock();
    for (config, code) in [
        (
            SamplingConfig {
                ratio: 1.5,
                ..SamplingConfig::default()
            },
            "telemetry.sampling.invalid_ratio",
        ),
        (
            SamplingConfig {
                ratio: f64::NAN,
                ..SamplingConfig::default()
            },
            "telemetry.sampling.invalid_ratio",
        ),
        (
            SamplingConfig {
                max_spans: 0,
                ..SamplingConfig::default()
            },
            "telemetry.sampling.zero_bound",
        ),
        (
            SamplingConfig {
                max_wait: Duration::from_millis(1),
                ..SamplingConfig::default()
            },
            "telemetry.sampling.invalid_max_wait",
        ),
    ] {
        let err = TailSampler::<SpanData>::new(config, clock.clone()).unwrap_err();
        assert_eq!(err.code(), code, "{err}");
    }
    let err = stellaops_telemetry_core::builder("scanner")
        .trace_sampling_ratio(-0.1)
        .stdout_logs(false)
        .build()
        .unwrap_err();
    assert!(
        matches!(err, stellaops_telemetry_core::InitError::Sampling(_)),
        "{err:?}"
    );
    assert!(err.to_string().contains("-0.1"), "{err}");
}

#[test]
fn processor_flush_and_shutdown_decide_pending_traces_and_keep_errors() {
    use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
    let clock = clock();
    let s = Arc::new(sampler(
        SamplingConfig {
            ratio: 0.0,
            ..SamplingConfig::default()
        },
        &clock,
    ));
    let sink = Arc::new(InMemorySpanSink::default());
    let processor = TailSamplingProcessor::new(s.clone(), sink.clone());
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_span_processor(processor)
        .build();
    let tracer = provider.tracer("test");
    for i in 0..100 {
        let mut span = tracer.start(format!("op-{i}"));
        if i % 10 == 0 {
            span.set_status(Status::error("failed"));
        }
        span.end();
    }
    assert!(sink.is_empty(), "nothing due yet (manual clock)");
    provider.force_flush().unwrap();
    assert_eq!(sink.len(), 10);
    let mut span = tracer.start("last");
    span.set_status(Status::error("failed at shutdown"));
    span.end();
    provider.shutdown().unwrap();
    let all = sink.take();
    assert_eq!(all.len(), 11);
    assert!(all.iter().all(|s| matches!(s.status, Status::Error { .. })));
    assert_eq!(s.stats().in_flight_traces, 0);
}

#[derive(Debug, Clone)]
enum Op {
    Span {
        trace: u8,
        id: u8,
        root: bool,
        error: bool,
        long: bool,
    },
    Advance(u16),
    Expire,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0u8..24, 2u8..200, any::<bool>(), prop::bool::weighted(0.1), prop::bool::weighted(0.05))
            .prop_map(|(trace, id, root, error, long)| Op::Span { trace, id, root, error, long }),
        1 => (0u16..400).prop_map(Op::Advance),
        1 => Just(Op::Expire),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// No error span is ever dropped, the bounds are never exceeded, no span is exported
    /// twice, and every span is accounted for exactly once.
    #[test]
    fn engine_invariants(
        ops in prop::collection::vec(op(), 1..400),
        max_traces in 1usize..6,
        max_spans in 1usize..12,
        cache in 1usize..8,
        ratio in prop_oneof![Just(0.0), Just(0.1), Just(1.0)],
    ) {
        let clock = clock();
        let config = SamplingConfig {
            ratio,
            max_traces,
            max_spans,
            decision_cache: cache,
            grace_period: Duration::from_millis(50),
            max_wait: Duration::from_millis(500),
            ..SamplingConfig::default()
        };
        let s = sampler(config, &clock);
        let mut out = Vec::new();
        let mut errors = Vec::new();
        let mut pushed = 0u64;
        for (n, op) in ops.into_iter().enumerate() {
            match op {
                Op::Span { trace, id, root, error, long } => {
                    let t = [trace; 16];
                    // unique span ids: the op index
                    let sid = (u64::from(id) << 32) | (n as u64 + 1);
                    let end = if long { 3_000 } else { 10 };
                    s.push(span(t, sid, if root { 0 } else { 1 }, 0, end, error, vec![]), &mut out);
                    pushed += 1;
                    if error {
                        errors.push(sid);
                    }
                }
                Op::Advance(ms) => clock.advance(Duration::from_millis(u64::from(ms))),
                Op::Expire => s.expire_due(&mut out),
            }
            let stats = s.stats();
            prop_assert!(stats.buffered_spans <= max_spans);
            prop_assert!(stats.in_flight_traces <= max_traces);
            prop_assert!(stats.cached_decisions <= cache);
        }
        s.decide_all(&mut out);
        let exported: Vec<u64> = out
            .iter()
            .map(|sp| u64::from_be_bytes(sp.span_context.span_id().to_bytes()))
            .collect();
        let unique: HashSet<u64> = exported.iter().copied().collect();
        prop_assert_eq!(unique.len(), exported.len());
        for e in errors {
            prop_assert!(unique.contains(&e), "error span {} dropped", e);
        }
        let stats = s.stats();
        prop_assert_eq!(stats.spans.iter().sum::<u64>(), pushed);
        prop_assert_eq!(stats.spans.iter().take(6).sum::<u64>(), exported.len() as u64);
        prop_assert_eq!(stats.buffered_spans, 0);
    }
}

/// Through the SDK: a span whose remote parent was sampled upstream is kept under
/// `KeepSampled` at ratio 0 (the processor reads the parent's flag in `on_start`); one whose
/// remote parent was not sampled is dropped.
#[test]
fn processor_reads_the_remote_parent_sampled_flag() {
    use opentelemetry::trace::{TraceContextExt as _, Tracer as _, TracerProvider as _};
    let clock = clock();
    let s = Arc::new(sampler(
        SamplingConfig {
            ratio: 0.0,
            upstream: UpstreamPolicy::KeepSampled,
            ..SamplingConfig::default()
        },
        &clock,
    ));
    let sink = Arc::new(InMemorySpanSink::default());
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_sampler(Sampler::AlwaysOn)
        .with_span_processor(TailSamplingProcessor::new(s.clone(), sink.clone()))
        .build();
    let tracer = provider.tracer("test");
    for (trace, flags) in [
        ([0x11; 16], TraceFlags::SAMPLED),
        ([0x22; 16], TraceFlags::default()),
    ] {
        let parent = SpanContext::new(
            TraceId::from_bytes(trace),
            SpanId::from_bytes([7; 8]),
            flags,
            true,
            TraceState::default(),
        );
        let cx = opentelemetry::Context::new().with_remote_span_context(parent);
        drop(tracer.start_with_context("server.op", &cx));
    }
    provider.force_flush().unwrap();
    assert_eq!(trace_ids(&sink.take()), BTreeSet::from([[0x11; 16]]));
    assert_eq!(
        s.decision_of(&[0x11; 16]),
        Some(Decision::Keep(KeepReason::Upstream))
    );
    assert_eq!(
        s.decision_of(&[0x22; 16]),
        Some(Decision::Drop(DropReason::Ratio))
    );
}

//! Tail sampling and forensic mode end to end through `builder().build()` and the real rotel
//! collector: at ratio 0 an ordinary trace never leaves the process, while an error trace and
//! every trace of a tenant in forensic mode arrive.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;
use stellaops_telemetry_core::incident::IncidentRequest;
use stellaops_telemetry_core::sampling::{Decision, DropReason, KeepReason};
use stellaops_telemetry_core::settings::Protocol;
use stellaops_telemetry_testkit::Collector;

const WAIT: Duration = Duration::from_secs(30);

#[test]
fn error_and_forensic_traces_reach_the_collector_and_ordinary_ones_do_not() {
    let collector = Collector::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (telemetry, dispatch) = stellaops_telemetry_core::builder("policy-engine")
        .trace_sampling_ratio(0.0)
        .otlp_endpoint(collector.grpc_endpoint())
        .protocol(Protocol::Grpc)
        .spool_dir(dir.path())
        .stdout_logs(false)
        .build()
        .unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        telemetry
            .incidents()
            .start(IncidentRequest::manual(
                "acme-corp",
                "investigation",
                "alice",
            ))
            .unwrap();
        {
            let span = tracing::info_span!("ordinary.op", tenant = "globex");
            let _e = span.enter();
        }
        {
            let span = tracing::info_span!(
                "failing.op",
                tenant = "globex",
                otel.status_code = tracing::field::Empty
            );
            let _e = span.enter();
            span.record("otel.status_code", "error");
        }
        {
            let root = tracing::info_span!("forensic.op", tenant = "acme-corp");
            let _e = root.enter();
            let child = tracing::info_span!("forensic.child");
            let _c = child.enter();
        }
    });
    assert!(telemetry.flush());
    let failing = collector.wait_for_span("failing.op", WAIT).unwrap();
    assert_eq!(failing.attr("tenant").as_deref(), Some("globex"));
    let forensic = collector.wait_for_span("forensic.op", WAIT).unwrap();
    let child = collector.wait_for_span("forensic.child", WAIT).unwrap();
    assert_eq!(child.span.trace_id, forensic.span.trace_id);
    // kept spans are exported together at flush: the dropped one would be among them
    let names: Vec<String> = collector
        .received()
        .spans()
        .into_iter()
        .map(|s| s.span.name)
        .collect();
    assert!(!names.iter().any(|n| n == "ordinary.op"), "{names:?}");
    let stats = telemetry.sampler_stats();
    assert_eq!(stats.traces_with(Decision::Keep(KeepReason::Error)), 1);
    assert_eq!(stats.traces_with(Decision::Keep(KeepReason::Forensic)), 1);
    assert_eq!(stats.traces_with(Decision::Drop(DropReason::Ratio)), 1);
    telemetry.shutdown(Duration::from_secs(5));
}

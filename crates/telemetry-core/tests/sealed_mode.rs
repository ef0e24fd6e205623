//! Sealed mode at init: with a non-loopback collector configured, no connection is attempted
//! (a listener on the host's own non-loopback address sees nothing), one structured warning
//! names the remediation, and the data lands in the file exporter.

mod support;

use prost::Message;
use std::time::Duration;
use stellaops_telemetry_core::settings::Protocol;
use support::Captured;

#[test]
fn sealed_mode_refuses_a_remote_collector_and_spools_instead() {
    let addr =
        stellaops_telemetry_testkit::host_non_loopback_ipv4().expect("a non-loopback address");
    let listener = std::net::TcpListener::bind((addr, 0)).unwrap();
    listener.set_nonblocking(true).unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());

    let dir = support::private_tempdir();
    let logs = Captured::default();
    let (telemetry, dispatch) = stellaops_telemetry_core::builder("authority")
        .trace_sampling_ratio(1.0)
        .sealed(true)
        .otlp_endpoint(endpoint.clone())
        // A plain-text collector on a non-loopback address (needs the insecure plain-text switch).
        .insecure_plaintext(true)
        .protocol(Protocol::Grpc)
        .spool_dir(dir.path())
        .log_sink(logs.sink())
        .build()
        .unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        let _s = tracing::info_span!(
            "sign.dsse",
            predicateType = "https://slsa.dev/provenance/v1"
        )
        .entered();
        tracing::info!("signed");
    });
    assert!(telemetry.flush());
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("something connected to the remote collector address: {other:?}"),
    }

    let spans = support::spooled(dir.path(), "traces");
    let names: Vec<String> = spans
        .iter()
        .map(|b| {
            opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest::decode(
                b.as_slice(),
            )
            .unwrap()
        })
        .flat_map(|r| r.resource_spans)
        .flat_map(|rs| rs.scope_spans)
        .flat_map(|ss| ss.spans)
        .map(|s| s.name)
        .collect();
    assert!(names.contains(&"sign.dsse".to_owned()), "{names:?}");
    assert!(!support::spooled(dir.path(), "logs").is_empty());

    // One warning per refused exporter (traces, metrics, logs), not one per batch, with the
    // remediation; flushing again adds none.
    let warnings = |text: &str| {
        text.lines()
            .filter(|l| l.contains("remediation") && l.contains(&endpoint))
            // (not the start-up warning about the insecure plain-text switch)
            .filter(|l| !l.contains("plain text (insecure)"))
            .count()
    };
    let before = warnings(&logs.text());
    assert_eq!(before, 3, "{}", logs.text());
    assert!(telemetry.flush());
    assert_eq!(warnings(&logs.text()), before);
}

#[test]
fn sealing_at_run_time_moves_exports_to_the_spool_before_the_next_batch() {
    let addr =
        stellaops_telemetry_testkit::host_non_loopback_ipv4().expect("a non-loopback address");
    let collector = stellaops_telemetry_testkit::Collector::start_on(addr.into()).unwrap();
    let dir = support::private_tempdir();
    let (telemetry, dispatch) = stellaops_telemetry_core::builder("orchestrator")
        .trace_sampling_ratio(1.0)
        .otlp_endpoint(collector.grpc_endpoint())
        // A plain-text collector on a non-loopback address (needs the insecure plain-text switch).
        .insecure_plaintext(true)
        .spool_dir(dir.path())
        .stdout_logs(false)
        .build()
        .unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        let _s = tracing::info_span!("before.seal").entered();
    });
    assert!(telemetry.flush());
    collector
        .wait_for_span("before.seal", Duration::from_secs(30))
        .unwrap();
    assert!(support::spooled(dir.path(), "traces").is_empty());

    telemetry.sealed_mode().seal();
    tracing::dispatcher::with_default(&dispatch, || {
        let _s = tracing::info_span!("after.seal").entered();
    });
    assert!(telemetry.flush());
    let spooled = support::spooled(dir.path(), "traces");
    assert_eq!(
        spooled.len(),
        1,
        "the batch after sealing went to the spool"
    );
    let spans = format!(
        "{:?}",
        collector
            .received()
            .spans()
            .iter()
            .map(|s| s.span.name.clone())
            .collect::<Vec<_>>()
    );
    assert!(
        !spans.contains("after.seal"),
        "a sealed service exported to a remote collector: {spans}"
    );

    telemetry.sealed_mode().unseal();
    tracing::dispatcher::with_default(&dispatch, || {
        let _s = tracing::info_span!("after.unseal").entered();
    });
    assert!(telemetry.flush());
    collector
        .wait_for_span("after.unseal", Duration::from_secs(30))
        .unwrap();
}

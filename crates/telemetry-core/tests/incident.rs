//! Forensic (incident) mode: start/escalate/stop/expire with a manual clock, observer events
//! carrying tenant, start and end, audit events, the `telemetry_incident_mode` gauge, the
//! automatic triggers, and the effects through `builder().build()`: 100% sampling for the
//! tenant, its debug events logged and tagged `incident=true`, other tenants untouched.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;
use stellaops_telemetry_core::incident::{
    CircuitBreakerTrigger, IncidentController, IncidentEvent, IncidentRequest, IncidentSource,
    ThresholdTrigger,
};
use stellaops_telemetry_core::metrics::{MetricCatalogue, encode_prometheus_text};
use stellaops_telemetry_core::profile::LogLevel;
use stellaops_telemetry_core::sampling::{Decision, KeepReason, ManualClock};
use support::Captured;

/// 2025-11-29T12:00:00Z.
const T0_NANOS: u64 = 1_764_417_600_000_000_000;

fn utc(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap()
        .with_timezone(&chrono::Utc)
}

fn recording(controller: &IncidentController) -> Arc<Mutex<Vec<IncidentEvent>>> {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    controller.observe(Box::new(move |e| sink.lock().unwrap().push(e.clone())));
    events
}

#[test]
fn start_status_and_stop_emit_events_with_clock_timestamps() {
    let clock = Arc::new(ManualClock::at_unix_nanos(T0_NANOS));
    let incidents = IncidentController::new(clock.clone());
    let events = recording(&incidents);
    let status = incidents
        .start(IncidentRequest::manual(
            "acme-corp",
            "CVE-2025-12345 investigation",
            "alice",
        ))
        .unwrap();
    assert_eq!(status.started_at, utc("2025-11-29T12:00:00Z"));
    assert_eq!(status.expires_at, utc("2025-11-29T12:30:00Z"));
    assert_eq!(status.source, IncidentSource::Manual);
    assert!(incidents.is_active("acme-corp"));
    assert!(!incidents.is_active("globex"));
    assert_eq!(incidents.status(), vec![status.clone()]);
    assert_eq!(incidents.status_of("acme-corp"), Some(status));

    clock.advance(Duration::from_secs(60));
    incidents.stop("acme-corp", "bob").unwrap();
    assert!(!incidents.is_active("acme-corp"));
    assert!(incidents.status().is_empty());
    let err = incidents.stop("acme-corp", "bob").unwrap_err();
    assert_eq!(err.code(), "telemetry.incident.not_active");

    let events = events.lock().unwrap();
    assert_eq!(
        *events,
        vec![
            IncidentEvent::Activated {
                tenant: "acme-corp".into(),
                actor: "alice".into(),
                source: IncidentSource::Manual,
                reason: "CVE-2025-12345 investigation".into(),
                started_at: utc("2025-11-29T12:00:00Z"),
                expires_at: utc("2025-11-29T12:30:00Z"),
            },
            IncidentEvent::Stopped {
                tenant: "acme-corp".into(),
                actor: "bob".into(),
                source: IncidentSource::Manual,
                reason: "CVE-2025-12345 investigation".into(),
                started_at: utc("2025-11-29T12:00:00Z"),
                ended_at: utc("2025-11-29T12:01:00Z"),
            },
        ]
    );
    assert_eq!(events[1].tenant(), "acme-corp");
    assert_eq!(events[1].ends_at(), utc("2025-11-29T12:01:00Z"));
}

#[test]
fn ttl_expiry_follows_the_manual_clock() {
    let clock = Arc::new(ManualClock::at_unix_nanos(T0_NANOS));
    let incidents = IncidentController::new(clock.clone());
    let events = recording(&incidents);
    incidents
        .start(IncidentRequest::manual("acme", "r", "alice").ttl(Duration::from_secs(600)))
        .unwrap();
    incidents
        .start(IncidentRequest::manual("globex", "r", "alice"))
        .unwrap();
    clock.advance(Duration::from_secs(599));
    assert!(incidents.expire_due().is_empty());
    assert!(incidents.is_active("acme"));
    clock.advance(Duration::from_secs(1));
    // past its expiry it is no longer active, even before expire_due reaps it
    assert!(!incidents.is_active("acme"));
    let expired = incidents.expire_due();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].tenant, "acme");
    assert!(incidents.is_active("globex"));
    clock.advance(Duration::from_secs(20 * 60));
    assert_eq!(incidents.expire_due().len(), 1);
    assert!(!incidents.any_active());
    let events = events.lock().unwrap();
    assert!(matches!(
        &events[2],
        IncidentEvent::Expired { tenant, ended_at, .. }
            if tenant == "acme" && *ended_at == utc("2025-11-29T12:10:00Z")
    ));
    assert!(matches!(
        &events[3],
        IncidentEvent::Expired { tenant, ended_at, .. }
            if tenant == "globex" && *ended_at == utc("2025-11-29T12:30:00Z")
    ));
}

#[test]
fn a_second_start_or_an_escalation_extends_and_never_shortens() {
    let clock = Arc::new(ManualClock::at_unix_nanos(T0_NANOS));
    let incidents = IncidentController::new(clock.clone());
    let events = recording(&incidents);
    incidents
        .start(IncidentRequest::manual("acme", "first", "alice"))
        .unwrap();
    clock.advance(Duration::from_secs(600));
    let s = incidents
        .escalate("acme", "orchestrator says so", "orchestrator", None)
        .unwrap();
    assert_eq!(s.started_at, utc("2025-11-29T12:00:00Z"));
    assert_eq!(s.expires_at, utc("2025-11-29T12:40:00Z"));
    assert_eq!(s.extensions, 1);
    assert_eq!(s.reason, "first");
    let s = incidents
        .start(IncidentRequest::manual("acme", "short", "bob").ttl(Duration::from_secs(1)))
        .unwrap();
    assert_eq!(s.expires_at, utc("2025-11-29T12:40:00Z"));
    let events = events.lock().unwrap();
    assert!(matches!(
        &events[1],
        IncidentEvent::Extended { source: IncidentSource::OrchestratorEscalation, expires_at, .. }
            if *expires_at == utc("2025-11-29T12:40:00Z")
    ));
    assert_eq!(
        IncidentSource::OrchestratorEscalation.as_str(),
        "orchestrator_escalation"
    );
}

#[test]
fn invalid_requests_are_refused_with_codes() {
    let incidents = IncidentController::new(Arc::new(ManualClock::at_unix_nanos(T0_NANOS)));
    let err = incidents
        .start(IncidentRequest::manual("", "r", "a"))
        .unwrap_err();
    assert_eq!(err.code(), "telemetry.incident.empty_tenant");
    let err = incidents
        .start(IncidentRequest::manual("acme", "r", "a").ttl(Duration::ZERO))
        .unwrap_err();
    assert_eq!(err.code(), "telemetry.incident.zero_ttl");
    assert!(err.to_string().contains("acme"), "{err}");
    assert!(!incidents.any_active());
}

#[test]
fn gauge_counts_active_tenants() {
    let clock = Arc::new(ManualClock::at_unix_nanos(T0_NANOS));
    let catalogue = MetricCatalogue::default();
    let mut registry = prometheus_client::registry::Registry::default();
    catalogue.register(&mut registry);
    let incidents = IncidentController::with_metrics(clock.clone(), &catalogue);
    let gauge = || {
        let text = encode_prometheus_text(&registry).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix("telemetry_incident_mode{state=\"active\"} "))
            .unwrap()
            .to_owned()
    };
    assert_eq!(gauge(), "0");
    incidents
        .start(IncidentRequest::manual("a", "r", "x"))
        .unwrap();
    incidents
        .start(IncidentRequest::manual("b", "r", "x").ttl(Duration::from_secs(5)))
        .unwrap();
    assert_eq!(gauge(), "2");
    clock.advance(Duration::from_secs(5));
    incidents.expire_due();
    assert_eq!(gauge(), "1");
    incidents.stop("a", "x").unwrap();
    assert_eq!(gauge(), "0");
}

#[test]
fn threshold_trigger_starts_an_incident_when_violations_cross_n_within_the_window() {
    let clock = Arc::new(ManualClock::at_unix_nanos(T0_NANOS));
    let incidents = IncidentController::new(clock.clone());
    let events = recording(&incidents);
    let trigger = ThresholdTrigger::new(incidents.clone(), 3, Duration::from_secs(60))
        .with_ttl(Duration::from_secs(300));
    // two violations, then the window slides past the first
    assert!(trigger.record_violation("acme", "p").unwrap().is_none());
    clock.advance(Duration::from_secs(40));
    assert!(trigger.record_violation("acme", "p").unwrap().is_none());
    clock.advance(Duration::from_secs(30));
    assert_eq!(trigger.count("acme"), 1);
    assert!(trigger.record_violation("acme", "p").unwrap().is_none());
    // another tenant's violations do not count
    assert!(trigger.record_violation("globex", "p").unwrap().is_none());
    assert!(!incidents.is_active("acme"));
    let status = trigger
        .record_violation("acme", "deny-critical")
        .unwrap()
        .unwrap();
    assert_eq!(status.source, IncidentSource::PolicyViolationThreshold);
    assert!(status.reason.contains("deny-critical"), "{}", status.reason);
    assert!(incidents.is_active("acme"));
    assert!(!incidents.is_active("globex"));
    assert_eq!(
        status.expires_at - status.started_at,
        chrono::Duration::seconds(300)
    );
    let events = events.lock().unwrap();
    assert_eq!(events.len(), 1);
    assert!(matches!(
        &events[0],
        IncidentEvent::Activated {
            source: IncidentSource::PolicyViolationThreshold,
            ..
        }
    ));
}

#[test]
fn circuit_breaker_trigger_starts_an_incident_on_open() {
    let clock = Arc::new(ManualClock::at_unix_nanos(T0_NANOS));
    let incidents = IncidentController::new(clock);
    let trigger = CircuitBreakerTrigger::new(incidents.clone());
    let status = trigger.on_open("acme", "scanner-db").unwrap();
    assert_eq!(status.source, IncidentSource::CircuitBreaker);
    assert_eq!(status.source.to_string(), "circuit_breaker");
    assert!(status.reason.contains("scanner-db"));
    assert!(incidents.is_active("acme"));
}

/// Through `builder().build()`: audit events as JSON log lines, forensic sampling, the
/// tenant's debug events and `incident=true`.
#[test]
fn telemetry_applies_forensic_mode_per_tenant() {
    let clock = Arc::new(ManualClock::at_unix_nanos(T0_NANOS));
    let logs = Captured::default();
    let dir = support::private_tempdir();
    let (telemetry, dispatch) = stellaops_telemetry_core::builder("scanner")
        .trace_sampling_ratio(0.0)
        .log_level(LogLevel::Info)
        .spool_dir(dir.path())
        .log_sink(logs.sink())
        .clock(clock.clone())
        .build()
        .unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        telemetry
            .incidents()
            .start(IncidentRequest::manual(
                "acme-corp",
                "CVE-2025-12345",
                "alice",
            ))
            .unwrap();
        for tenant in ["acme-corp", "globex"] {
            let span = tracing::info_span!("scan", tenant = tenant);
            let _e = span.enter();
            tracing::debug!("debug detail");
            tracing::info!("scan done");
        }
        clock.advance(Duration::from_secs(31 * 60));
        telemetry.incidents().expire_due();
    });
    assert!(telemetry.flush());
    let stats = telemetry.sampler_stats();
    assert_eq!(stats.traces_with(Decision::Keep(KeepReason::Forensic)), 1);
    assert_eq!(stats.traces_kept(), 1);
    assert_eq!(stats.traces_dropped(), 1);

    let lines = logs.lines();
    let activated = lines
        .iter()
        .find(|l| l["message"] == "telemetry.incident.activated")
        .unwrap();
    assert_eq!(activated["tenant"], "acme-corp");
    assert_eq!(activated["actor"], "alice");
    assert_eq!(activated["source"], "manual");
    assert_eq!(activated["reason"], "CVE-2025-12345");
    assert_eq!(activated["expires_at"], "2025-11-29T12:30:00.000Z");
    let expired = lines
        .iter()
        .find(|l| l["message"] == "telemetry.incident.expired")
        .unwrap();
    assert_eq!(expired["tenant"], "acme-corp");

    let of = |tenant: &str, message: &str| {
        lines
            .iter()
            .filter(|l| l["tenant"] == tenant && l["message"] == message)
            .cloned()
            .collect::<Vec<_>>()
    };
    let acme_debug = of("acme-corp", "debug detail");
    assert_eq!(acme_debug.len(), 1, "{lines:#?}");
    assert_eq!(acme_debug[0]["incident"], true);
    assert_eq!(of("acme-corp", "scan done")[0]["incident"], true);
    assert!(of("globex", "debug detail").is_empty());
    assert!(of("globex", "scan done")[0].get("incident").is_none());
    // Extended attributes: the kept span says which incident kept it.
    use prost::Message as _;
    let spans: Vec<_> = support::spooled(dir.path(), "traces")
        .iter()
        .map(|r| {
            opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest::decode(
                r.as_slice(),
            )
            .unwrap()
        })
        .flat_map(|r| r.resource_spans)
        .flat_map(|r| r.scope_spans)
        .flat_map(|s| s.spans)
        .collect();
    assert_eq!(spans.len(), 1, "only acme-corp's trace is kept");
    let attribute = |key: &str| {
        spans[0]
            .attributes
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.clone())
            .and_then(|v| v.value)
    };
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    assert_eq!(attribute("incident"), Some(Value::BoolValue(true)));
    assert_eq!(
        attribute("incident.reason"),
        Some(Value::StringValue("CVE-2025-12345".into()))
    );
    assert_eq!(
        attribute("incident.source"),
        Some(Value::StringValue("manual".into()))
    );
    assert_eq!(
        attribute("incident.actor"),
        Some(Value::StringValue("alice".into()))
    );
    assert_eq!(
        attribute("incident.started_at"),
        Some(Value::StringValue("2025-11-29T12:00:00.000Z".into()))
    );
    let rendered = telemetry.render_prometheus();
    assert!(
        rendered.contains("telemetry_incident_mode{state=\"active\"} 0"),
        "{rendered}"
    );
    assert!(
        rendered
            .contains("telemetry_sampler_traces_total{decision=\"keep\",reason=\"forensic\"} 1"),
        "{rendered}"
    );
}

#[test]
fn export_interval_is_ten_seconds_while_any_incident_is_active() {
    let clock = Arc::new(ManualClock::at_unix_nanos(T0_NANOS));
    let dir = support::private_tempdir();
    let (telemetry, _dispatch) = stellaops_telemetry_core::builder("scanner")
        .spool_dir(dir.path())
        .stdout_logs(false)
        .export_interval(Duration::from_secs(60))
        .clock(clock.clone())
        .build()
        .unwrap();
    let incidents = telemetry.incidents();
    assert_eq!(telemetry.export_interval(), Duration::from_secs(60));
    incidents
        .start(IncidentRequest::manual("a", "r", "x").ttl(Duration::from_secs(60)))
        .unwrap();
    assert_eq!(
        telemetry.export_interval(),
        stellaops_telemetry_core::FORENSIC_EXPORT_INTERVAL
    );
    incidents
        .start(IncidentRequest::manual("b", "r", "x"))
        .unwrap();
    clock.advance(Duration::from_secs(60));
    incidents.expire_due();
    assert_eq!(
        telemetry.export_interval(),
        Duration::from_secs(10),
        "b still active"
    );
    incidents.stop("b", "x").unwrap();
    assert_eq!(
        telemetry.export_interval(),
        Duration::from_secs(60),
        "restored"
    );
}

#[test]
fn an_incident_becomes_a_persisted_spool_hold_that_extensions_widen() {
    let clock = Arc::new(ManualClock::at_unix_nanos(T0_NANOS));
    let dir = support::private_tempdir();
    let t0 = chrono::DateTime::from_timestamp_nanos(i64::try_from(T0_NANOS).unwrap());
    // The spool's retention decisions use the same fixed time line.
    let spool_clock = stellaops_bundle_format::ManualClock::new(t0 + chrono::Duration::hours(2));
    let (telemetry, _dispatch) = stellaops_telemetry_core::builder("scanner")
        .spool_dir(dir.path())
        .stdout_logs(false)
        .clock(clock.clone())
        .build()
        .unwrap();
    let incidents = telemetry.incidents();
    incidents
        .start(IncidentRequest::manual("acme", "CVE-2025-1", "ops").ttl(Duration::from_secs(1800)))
        .unwrap();
    clock.advance(Duration::from_secs(600));
    incidents
        .start(IncidentRequest::manual("acme", "still open", "ops").ttl(Duration::from_secs(3600)))
        .unwrap();
    let holds = telemetry.spool().unwrap().holds();
    let widest = holds
        .iter()
        .filter(|h| h.tenant == "acme")
        .map(|h| (h.start, h.end))
        .max_by_key(|(_, end)| *end)
        .unwrap();
    assert_eq!(widest.0, t0);
    assert_eq!(widest.1, t0 + chrono::Duration::seconds(600 + 3600));
    assert!(holds.iter().all(|h| h.tenant == "acme"), "{holds:?}");
    telemetry.shutdown(Duration::from_secs(5));
    drop(telemetry);
    // The holds survive a restart of the service.
    let reopened = stellaops_telemetry_core::spool::Spool::builder(dir.path())
        .clock(spool_clock)
        .read_only()
        .open()
        .unwrap();
    assert!(
        reopened
            .holds()
            .iter()
            .any(|h| h.tenant == "acme" && h.end == widest.1),
        "{:?}",
        reopened.holds()
    );
}

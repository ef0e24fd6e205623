//! Window capture: the bundle verifies with the bundle-format verifier and holds exactly the
//! window's records for the tenant, in (timestamp, traceId) order, with config files and the
//! redaction digest; it is reproducible; Python's opentelemetry-proto decodes it; in sealed
//! mode capture works and nothing leaves the host.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod otlp_records;

use otlp_records::{gauge, gauge_points, log_bodies, logs, span_names, spans, t};
use stellaops_bundle_format::{BundleReader, Compression, ManualClock, Signal};
use stellaops_dsse::{Ed25519Signer, TrustedKeys, Verifier};
use stellaops_telemetry_core::spool::{Spool, SpoolConfig};
use stellaops_telemetry_core::window::Window;
use stellaops_telemetry_model::Clock as _;

struct Fixture {
    _tmp: tempfile::TempDir,
    dir: std::path::PathBuf,
    spool: Spool,
    clock: ManualClock,
}

/// Three hourly segments of spans, logs and gauges for tenants acme and globex, some items
/// without a tenant, spread around the window 2025-03-01T01:00Z/03:00Z.
fn fixture() -> Fixture {
    let tmp = otlp_records::private_tempdir();
    let dir = tmp.path().to_path_buf();
    let clock = ManualClock::new(t("2025-03-01T00:00:00Z"));
    let spool = Spool::builder(dir.join("spool"))
        .config(SpoolConfig::default())
        .clock(clock.clone())
        .open()
        .unwrap();
    for hour in 0..4 {
        let at = |m: u32| t(&format!("2025-03-01T0{hour}:{m:02}:00Z"));
        // Resource tenant acme, one span overriding it with globex, one in the window's edge.
        spool
            .append_request(&spans(
                Some("acme"),
                &[
                    (&format!("acme-{hour}-30"), at(30), None),
                    (&format!("acme-{hour}-10"), at(10), None),
                    (&format!("globex-{hour}"), at(20), Some("globex")),
                ],
            ))
            .unwrap();
        // No resource tenant: only the item attribute decides.
        spool
            .append_request(&spans(
                None,
                &[
                    (&format!("acme-{hour}-00"), at(0), Some("acme")),
                    (&format!("none-{hour}"), at(40), None),
                ],
            ))
            .unwrap();
        spool
            .append_request(&logs(
                None,
                &[
                    (&format!("log-acme-{hour}"), at(5), Some("acme")),
                    (&format!("log-globex-{hour}"), at(6), Some("globex")),
                ],
            ))
            .unwrap();
        spool
            .append_request(&gauge(
                Some("globex"),
                "queue_depth",
                &[(at(1), Some("acme")), (at(2), None)],
            ))
            .unwrap();
        clock.advance(chrono::Duration::hours(1));
        spool.seal_expired().unwrap();
    }
    Fixture {
        _tmp: tmp,
        dir,
        spool,
        clock,
    }
}

fn window() -> Window {
    Window::parse(
        "2025-03-01T01:00:00Z/2025-03-01T03:00:00Z",
        t("2025-03-02T00:00:00Z"),
    )
    .unwrap()
}

fn signer_and_reader() -> (Ed25519Signer, BundleReader) {
    let signer = Ed25519Signer::generate().unwrap();
    let trusted = TrustedKeys::new()
        .with(signer.public_key().verifier(signer.key_id()))
        .unwrap();
    (signer, BundleReader::new(Verifier::new(trusted)))
}

#[test]
fn a_tenant_capture_holds_exactly_the_window_records_of_the_tenant_in_order() {
    let f = fixture();
    let (signer, reader) = signer_and_reader();
    let out = f.dir.join("acme.tar.gz");
    let summary = f
        .spool
        .capture(window())
        .tenant("acme")
        .profile("forensic")
        .signer(signer)
        .config_file("config/collector.yaml", b"receivers: {}\n".to_vec())
        .config_file("config/dashboards/platform.json", b"{}".to_vec())
        .redaction_policy_digest(format!("sha256:{}", "ab".repeat(32)))
        .created_at_clock(ManualClock::new(t("2025-03-02T00:00:00Z")))
        .write_to(&out)
        .unwrap();
    assert_eq!(
        summary.segments_read,
        2 * 3,
        "hours 0 and 3 are outside (hour 0 ends at 00:40)"
    );

    let (verified, records) = reader
        .read_records(std::fs::File::open(&out).unwrap())
        .unwrap();
    let m = verified.manifest();
    assert_eq!(
        (m.tenant.as_str(), m.profile.as_str()),
        ("acme", "forensic")
    );
    let w = m.window.clone().unwrap();
    assert_eq!(
        (w.from.as_str(), w.to.as_str()),
        ("2025-03-01T01:00:00Z", "2025-03-01T03:00:00Z")
    );
    assert_eq!(
        m.redaction_policy_sha256.as_deref(),
        Some(format!("sha256:{}", "ab".repeat(32)).as_str())
    );
    assert!(m.collector_config_sha256.is_some());
    assert!(
        m.files
            .iter()
            .any(|f| f.path == "config/dashboards/platform.json")
    );
    assert_eq!(m.created_at, "2025-03-02T00:00:00Z");

    let of = |s: Signal| {
        records
            .iter()
            .filter(|(sig, _)| *sig == s)
            .map(|(_, r)| r.clone())
            .collect::<Vec<_>>()
    };
    let spans: Vec<(String, u64)> = of(Signal::Traces)
        .iter()
        .flat_map(|r| span_names(r))
        .collect();
    let names: Vec<&str> = spans.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "acme-1-00",
            "acme-1-10",
            "acme-1-30",
            "acme-2-00",
            "acme-2-10",
            "acme-2-30"
        ],
        "window [01:00, 03:00), tenant acme only, ordered by start time"
    );
    assert!(spans.windows(2).all(|p| p[0].1 <= p[1].1));
    let bodies: Vec<String> = of(Signal::Logs)
        .iter()
        .flat_map(|r| log_bodies(r))
        .collect();
    assert_eq!(bodies, ["log-acme-1", "log-acme-2"]);
    // Data point tenant acme wins over the resource's globex; the point without one falls
    // back to globex and is left out.
    let points: Vec<(String, i64)> = of(Signal::Metrics)
        .iter()
        .flat_map(|r| gauge_points(r))
        .collect();
    assert_eq!(
        points,
        [("queue_depth".to_owned(), 0), ("queue_depth".to_owned(), 0)]
    );
    assert_eq!(
        summary.items,
        [(Signal::Logs, 2), (Signal::Metrics, 2), (Signal::Traces, 6)]
    );
}

#[test]
fn an_all_tenant_capture_keeps_items_without_a_tenant_and_is_reproducible() {
    let f = fixture();
    let signer = stellaops_dsse::HmacSha256Key::new("site", vec![9u8; 32]).unwrap();
    let capture = |path: &std::path::Path| {
        f.spool
            .capture(window())
            .signer(signer.clone())
            .compression(Compression::Zstd)
            .created_at_clock(ManualClock::new(t("2025-03-02T00:00:00Z")))
            .write_to(path)
            .unwrap()
    };
    let a = capture(&f.dir.join("a.tar.zst"));
    let b = capture(&f.dir.join("b.tar.zst"));
    assert_eq!(
        a.sha256, b.sha256,
        "same spool, window and clock: same bytes"
    );
    assert_eq!(
        std::fs::read(f.dir.join("a.tar.zst")).unwrap(),
        std::fs::read(f.dir.join("b.tar.zst")).unwrap()
    );
    assert_eq!(a.manifest.tenant, "*");
    assert_eq!(
        a.items,
        [
            (Signal::Logs, 4),
            (Signal::Metrics, 4),
            (Signal::Traces, 10)
        ]
    );
    // write() streams the same bytes to any writer.
    let mut buf = Vec::new();
    let c = f
        .spool
        .capture(window())
        .signer(signer.clone())
        .compression(Compression::Zstd)
        .created_at_clock(ManualClock::new(t("2025-03-02T00:00:00Z")))
        .write(&mut buf)
        .unwrap();
    assert_eq!((c.path, c.sha256), (None, a.sha256));
    assert_eq!(buf, std::fs::read(f.dir.join("a.tar.zst")).unwrap());
}

#[test]
fn the_open_segment_is_captured_and_an_empty_window_gives_an_empty_verified_bundle() {
    let f = fixture();
    f.spool
        .append_request(&spans(Some("acme"), &[("live", f.clock.now(), None)]))
        .unwrap();
    let (signer, reader) = signer_and_reader();
    let out = f.dir.join("live.tar.gz");
    let live = Window::parse("10m", f.clock.now() + chrono::Duration::minutes(1)).unwrap();
    f.spool
        .capture(live)
        .tenant("acme")
        .signer(signer)
        .write_to(&out)
        .unwrap();
    let (_, records) = reader
        .read_records(std::fs::File::open(&out).unwrap())
        .unwrap();
    let names: Vec<String> = records
        .iter()
        .flat_map(|(_, r)| span_names(r))
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["live"]);

    let (signer, reader) = signer_and_reader();
    let empty = Window::parse("2020-01-01T00:00:00Z/2020-01-02T00:00:00Z", f.clock.now()).unwrap();
    let out = f.dir.join("empty.tar.gz");
    let s = f
        .spool
        .capture(empty)
        .signer(signer)
        .write_to(&out)
        .unwrap();
    assert_eq!(s.segments_read, 0);
    let verified = reader.verify_file(&out).unwrap();
    assert_eq!(
        verified.manifest().record_counts(),
        [(Signal::Logs, 0), (Signal::Metrics, 0), (Signal::Traces, 0)]
    );
}

#[test]
fn a_corrupt_sealed_segment_fails_the_capture_naming_it() {
    let f = fixture();
    let seg = f.spool.segments(Signal::Logs, &window()).unwrap()[0]
        .path
        .clone();
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes.truncate(bytes.len() - 2);
    std::fs::write(&seg, bytes).unwrap();
    let out = f.dir.join("x.tar.gz");
    let err = f.spool.capture(window()).write_to(&out).unwrap_err();
    assert_eq!(err.code(), "telemetry.capture.corrupt_segment");
    assert!(
        err.to_string()
            .contains(seg.file_name().unwrap().to_str().unwrap()),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn python_opentelemetry_proto_decodes_the_captured_records() {
    let f = fixture();
    let (signer, reader) = signer_and_reader();
    let out = f.dir.join("py.tar.gz");
    f.spool
        .capture(window())
        .tenant("acme")
        .signer(signer)
        .write_to(&out)
        .unwrap();
    let extracted = f.dir.join("extracted");
    reader.extract(&out, &extracted).unwrap();
    let python = stellaops_telemetry_testkit::Python::locate().unwrap();
    let traces = python
        .decode_otlp_file("traces", &extracted.join("otlp/traces.pb"))
        .unwrap();
    let names: Vec<String> = traces
        .iter()
        .flat_map(|r| r["resourceSpans"].as_array().unwrap().clone())
        .flat_map(|rs| rs["scopeSpans"].as_array().unwrap().clone())
        .flat_map(|ss| ss["spans"].as_array().unwrap().clone())
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "acme-1-00",
            "acme-1-10",
            "acme-1-30",
            "acme-2-00",
            "acme-2-10",
            "acme-2-30"
        ]
    );
    let logs = python
        .decode_otlp_file("logs", &extracted.join("otlp/logs.pb"))
        .unwrap();
    assert_eq!(logs.len(), 2);
    let metrics = python
        .decode_otlp_file("metrics", &extracted.join("otlp/metrics.pb"))
        .unwrap();
    assert_eq!(metrics.len(), 2);
}

#[test]
fn sealed_telemetry_captures_locally_and_nothing_leaves() {
    let tmp = otlp_records::private_tempdir();
    let clock = ManualClock::new(t("2025-03-01T12:00:00Z"));
    let (telemetry, dispatch) = stellaops_telemetry_core::builder("scanner")
        .trace_sampling_ratio(1.0)
        .profile("default")
        .sealed(true)
        .otlp_endpoint("http://10.0.0.7:4317")
        // A plain-text collector on a non-loopback address (needs the insecure plain-text switch).
        .insecure_plaintext(true)
        .spool_dir(tmp.path().join("spool"))
        .spool_copy(true)
        .clock(clock.clone())
        .stdout_logs(false)
        .build()
        .unwrap();
    assert!(
        telemetry.spool().is_some(),
        "spool copy opens the spool at start-up"
    );
    tracing::dispatcher::with_default(&dispatch, || {
        let span = tracing::info_span!("scan.image", tenant = "acme");
        let _e = span.enter();
        tracing::info!(tenant = "acme", "scan finished");
        let other = tracing::info_span!("scan.image", tenant = "globex");
        drop(other.enter());
    });
    assert!(telemetry.flush());
    let (signer, reader) = signer_and_reader();
    let out = tmp.path().join("sealed.tar.gz");
    // Spans carry the times of the builder's one clock: capture a window around it.
    let now = clock.now();
    let window = Window::new(
        now - chrono::Duration::hours(1),
        now + chrono::Duration::hours(1),
    )
    .unwrap();
    let summary = telemetry
        .capture(window)
        .tenant("acme")
        .signer(signer)
        .write_to(&out)
        .unwrap();
    let (verified, records) = reader
        .read_records(std::fs::File::open(&out).unwrap())
        .unwrap();
    assert_eq!(verified.manifest().profile, "default");
    assert!(
        verified
            .manifest()
            .redaction_policy_sha256
            .as_deref()
            .is_some_and(|d| d.starts_with("sha256:"))
    );
    let names: Vec<String> = records
        .iter()
        .filter(|(s, _)| *s == Signal::Traces)
        .flat_map(|(_, r)| span_names(r))
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["scan.image"], "only acme's span");
    assert_eq!(
        summary
            .items
            .iter()
            .find(|(s, _)| *s == Signal::Logs)
            .unwrap()
            .1,
        1
    );
    // Nothing left: every egress decision for the remote collector was a refusal.
    let egress = telemetry.egress().metrics();
    for signal in stellaops_egress_policy::Signal::ALL {
        assert_eq!(egress.count(signal, true), 0, "{signal:?} was allowed out");
    }
    assert!(egress.count(stellaops_egress_policy::Signal::Traces, false) >= 1);
    // The generation time was recorded.
    assert!(
        telemetry
            .render_prometheus()
            .contains("telemetry_bundle_generation_seconds_count 1")
    );
}

#[test]
fn capture_without_a_spool_fails_with_a_code() {
    let tmp = otlp_records::private_tempdir();
    let (telemetry, _dispatch) = stellaops_telemetry_core::builder("scanner")
        .trace_sampling_ratio(1.0)
        .otlp_endpoint("http://127.0.0.1:9")
        .spool_dir(tmp.path().join("never"))
        .stdout_logs(false)
        .build()
        .unwrap();
    assert!(telemetry.spool().is_none());
    let err = telemetry
        .capture(Window::parse("1h", chrono::Utc::now()).unwrap())
        .write_to(tmp.path().join("x.tar.gz"))
        .unwrap_err();
    assert_eq!(err.code(), "telemetry.capture.no_spool");
}

#[test]
fn forensic_spool_copy_keeps_what_the_collector_accepted_and_captures_it() {
    let collector = stellaops_telemetry_testkit::Collector::start().unwrap();
    let tmp = otlp_records::private_tempdir();
    let (telemetry, dispatch) = stellaops_telemetry_core::builder("policy")
        .trace_sampling_ratio(1.0)
        .profile("forensic")
        .otlp_endpoint(collector.grpc_endpoint())
        .spool_dir(tmp.path().join("spool"))
        .stdout_logs(false)
        .build()
        .unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        let _s = tracing::info_span!("policy.evaluate", tenant = "acme").entered();
    });
    assert!(telemetry.flush());
    collector
        .wait_for_span("policy.evaluate", std::time::Duration::from_secs(30))
        .unwrap();
    let spool = telemetry
        .spool()
        .expect("forensic opens the spool (spool copy)");
    assert_eq!(
        spool.config().retention,
        std::time::Duration::from_secs(180 * 86_400)
    );
    let copied: Vec<String> = otlp_records::spooled(spool.dir(), Signal::Traces)
        .iter()
        .flat_map(|r| span_names(r))
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        copied,
        ["policy.evaluate"],
        "the accepted batch is also in the spool"
    );

    let (signer, reader) = signer_and_reader();
    let now = chrono::Utc::now();
    let out = tmp.path().join("forensic.tar.gz");
    telemetry
        .capture(
            Window::new(
                now - chrono::Duration::hours(1),
                now + chrono::Duration::hours(1),
            )
            .unwrap(),
        )
        .tenant("acme")
        .signer(signer)
        .write_to(&out)
        .unwrap();
    let (verified, records) = reader
        .read_records(std::fs::File::open(&out).unwrap())
        .unwrap();
    assert_eq!(verified.manifest().profile, "forensic");
    let names: Vec<String> = records
        .iter()
        .filter(|(s, _)| *s == Signal::Traces)
        .flat_map(|(_, r)| span_names(r))
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["policy.evaluate"]);
}

#[test]
fn a_clean_shutdown_leaves_only_sealed_segments() {
    let tmp = otlp_records::private_tempdir();
    let dir = tmp.path().join("spool");
    let (telemetry, dispatch) = stellaops_telemetry_core::builder("scanner")
        .trace_sampling_ratio(1.0)
        .profile("airgap")
        .spool_dir(&dir)
        .stdout_logs(false)
        .build()
        .unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        let _s = tracing::info_span!("scan.image").entered();
    });
    assert!(telemetry.shutdown(std::time::Duration::from_secs(5)));
    let files: Vec<String> = std::fs::read_dir(dir.join("traces"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(!files.is_empty());
    assert!(files.iter().all(|f| f.ends_with(".otlp")), "{files:?}");
    // Reopening finds nothing to recover.
    let spool = Spool::builder(&dir).open().unwrap();
    assert!(spool.recovered().is_empty());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
    /// Against a brute-force filter: a capture holds exactly the spans whose start is in the
    /// window and whose tenant (span attribute, else resource attribute) is the one asked
    /// for, and its records are ordered by their earliest span's start.
    #[test]
    fn capture_matches_a_brute_force_filter(
        records in proptest::collection::vec(
            (
                proptest::option::of(proptest::sample::select(vec!["acme", "globex"])),
                proptest::collection::vec((0i64..240, proptest::option::of(proptest::sample::select(vec!["acme", "globex"]))), 1..5),
            ),
            1..12,
        ),
        start in 0i64..240,
        len in 1i64..240,
        tenant in proptest::option::of(proptest::sample::select(vec!["acme", "globex"])),
        seal_every in 1usize..5,
    ) {
        let tmp = otlp_records::private_tempdir();
        let base = t("2025-03-01T00:00:00Z");
        let clock = ManualClock::new(base);
        let spool = Spool::builder(tmp.path().join("spool")).clock(clock.clone()).open().unwrap();
        let mut expected = Vec::new();
        let window = Window::new(base + chrono::Duration::minutes(start), base + chrono::Duration::minutes(start + len)).unwrap();
        for (i, (resource_tenant, items)) in records.iter().enumerate() {
            let names: Vec<String> = items.iter().enumerate().map(|(j, _)| format!("s{i}-{j}")).collect();
            let spec: Vec<otlp_records::Item<'_>> = items
                .iter()
                .zip(&names)
                .map(|((minute, item_tenant), name)| (name.as_str(), base + chrono::Duration::minutes(*minute), *item_tenant))
                .collect();
            for (name, at, item_tenant) in &spec {
                let owner = item_tenant.or(*resource_tenant);
                if window.contains(*at) && (tenant.is_none() || owner == tenant) {
                    expected.push((*name).to_owned());
                }
            }
            spool.append_request(&spans(*resource_tenant, &spec)).unwrap();
            if (i + 1) % seal_every == 0 {
                spool.seal_all().unwrap();
            }
        }
        let mut capture = spool.capture(window);
        if let Some(t) = tenant {
            capture = capture.tenant(t);
        }
        let out = tmp.path().join("c.tar.gz");
        capture.write_to(&out).unwrap();
        let (_, got) = BundleReader::dangerous_skip_signature().read_records(std::fs::File::open(&out).unwrap()).unwrap();
        let per_record: Vec<Vec<(String, u64)>> = got.iter().map(|(_, r)| span_names(r)).collect();
        let mut names: Vec<String> = per_record.iter().flatten().map(|(n, _)| n.clone()).collect();
        names.sort();
        expected.sort();
        proptest::prop_assert_eq!(names, expected);
        let firsts: Vec<u64> = per_record.iter().map(|r| r[0].1).collect();
        proptest::prop_assert!(firsts.windows(2).all(|w| w[0] <= w[1]), "records out of order: {:?}", firsts);
        for r in &per_record {
            proptest::prop_assert!(r.windows(2).all(|w| w[0].1 <= w[1].1), "spans out of order in a record");
        }
    }
}

#[test]
fn an_idle_signal_segment_is_sealed_by_the_spool_clock_when_another_signal_writes() {
    let tmp = otlp_records::private_tempdir();
    let dir = tmp.path().join("spool");
    let clock = ManualClock::new(t("2025-03-01T00:00:00Z"));
    let (telemetry, dispatch) = stellaops_telemetry_core::builder("scanner")
        .trace_sampling_ratio(1.0)
        .profile("airgap")
        .spool_dir(&dir)
        .clock(clock.clone())
        .stdout_logs(false)
        .build()
        .unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        let _s = tracing::info_span!("scan.image").entered();
    });
    assert!(telemetry.flush());
    let sealed = |signal: Signal| {
        telemetry
            .spool()
            .unwrap()
            .segments(
                signal,
                &Window::parse("1970-01-01T00:00:00Z/2200-01-01T00:00:00Z", clock.now()).unwrap(),
            )
            .unwrap()
            .iter()
            .map(|s| s.sealed)
            .collect::<Vec<_>>()
    };
    assert_eq!(sealed(Signal::Traces), [false]);
    clock.advance(chrono::Duration::minutes(61));
    tracing::dispatcher::with_default(&dispatch, || tracing::info!("only a log line"));
    assert!(telemetry.flush());
    assert_eq!(
        sealed(Signal::Traces),
        [true],
        "the idle traces segment aged out"
    );
}

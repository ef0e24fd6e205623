//! `stella-telemetry capture --spool`, run through the real binary: a tenant's window of a
//! live spool (one segment still open) as a signed bundle that `bundle verify` accepts,
//! byte-identical under SOURCE_DATE_EPOCH, the spool left untouched; usage errors exit 2
//! naming the bad part; capture failures exit 1 with a code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message as _;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use stellaops_bundle_format::{BundleReader, Signal};
use stellaops_telemetry_core::export::ExportRequest;
use stellaops_telemetry_core::spool::{ManualClock, Spool};

fn cli(args: &[&str], epoch: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stella-telemetry"));
    cmd.args(args);
    match epoch {
        Some(e) => cmd.env("SOURCE_DATE_EPOCH", e),
        None => cmd.env_remove("SOURCE_DATE_EPOCH"),
    };
    cmd.output().unwrap()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn ok_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn time(s: &str) -> chrono::DateTime<chrono::Utc> {
    s.parse().unwrap()
}

fn span(name: &str, at: &str, tenant: &str) -> ExportRequest {
    let start = u64::try_from(time(at).timestamp_nanos_opt().unwrap()).unwrap();
    ExportRequest::Traces(ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource::default()),
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    trace_id: vec![1; 16],
                    span_id: vec![2; 8],
                    name: name.into(),
                    start_time_unix_nano: start,
                    end_time_unix_nano: start + 1,
                    attributes: vec![KeyValue {
                        key: "tenant".into(),
                        value: Some(AnyValue {
                            value: Some(any_value::Value::StringValue(tenant.into())),
                        }),
                        ..KeyValue::default()
                    }],
                    ..Span::default()
                }],
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    })
}

/// A spool with one sealed segment (01:00-01:30) and one still open (02:00), as a running
/// service leaves it.
fn live_spool(dir: &Path) -> PathBuf {
    let spool_dir = dir.join("spool");
    let clock = ManualClock::new(time("2025-03-01T01:00:00Z"));
    let spool = Spool::builder(&spool_dir)
        .clock(clock.clone())
        .open()
        .unwrap();
    spool
        .append_request(&span("acme-1", "2025-03-01T01:00:00Z", "acme"))
        .unwrap();
    spool
        .append_request(&span("globex-1", "2025-03-01T01:10:00Z", "globex"))
        .unwrap();
    spool
        .append_request(&span("acme-2", "2025-03-01T01:30:00Z", "acme"))
        .unwrap();
    clock.advance(chrono::Duration::hours(1));
    spool
        .append_request(&span("acme-3", "2025-03-01T02:00:00Z", "acme"))
        .unwrap();
    spool
        .append_request(&span("acme-late", "2025-03-01T04:00:00Z", "acme"))
        .unwrap();
    drop(spool); // still open on disk: the service is "running"
    spool_dir
}

fn keygen(dir: &Path) -> (PathBuf, PathBuf) {
    let out = cli(
        &[
            "dsse",
            "keygen",
            "--type",
            "ed25519",
            "--out",
            p(&dir.join("site")),
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (dir.join("site.key"), dir.join("site.pub"))
}

fn names(bundle: &Path) -> Vec<String> {
    let (_, records) = BundleReader::dangerous_skip_signature()
        .read_records(std::fs::File::open(bundle).unwrap())
        .unwrap();
    records
        .iter()
        .filter(|(s, _)| *s == Signal::Traces)
        .flat_map(|(_, r)| {
            ExportTraceServiceRequest::decode(&r[..])
                .unwrap()
                .resource_spans
        })
        .flat_map(|rs| rs.scope_spans)
        .flat_map(|ss| ss.spans)
        .map(|s| s.name)
        .collect()
}

fn listing(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir.join("traces"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    out.sort();
    out
}

#[test]
fn capture_writes_a_signed_tenant_window_reproducibly_and_leaves_the_spool_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let spool = live_spool(tmp.path());
    let before = listing(&spool);
    assert!(before.iter().any(|n| n.ends_with(".open")));
    let (key, public) = keygen(tmp.path());
    let run = |out: &Path| {
        ok_json(&cli(
            &[
                "capture",
                "--spool",
                p(&spool),
                "--window",
                "2025-03-01T01:00:00Z/2025-03-01T03:00:00Z",
                "--tenant",
                "acme",
                "--key",
                p(&key),
                "--out",
                p(out),
                "--json",
            ],
            Some("1740787200"),
        ))
    };
    let a = run(&tmp.path().join("a.tar.gz"));
    let b = run(&tmp.path().join("b.tar.gz"));
    assert_eq!(a["sha256"], b["sha256"]);
    assert_eq!(
        std::fs::read(tmp.path().join("a.tar.gz")).unwrap(),
        std::fs::read(tmp.path().join("b.tar.gz")).unwrap()
    );
    assert_eq!(a["tenant"], "acme");
    assert_eq!(a["signed"], true);
    assert_eq!(a["window"], "2025-03-01T01:00:00Z/2025-03-01T03:00:00Z");
    assert_eq!(a["items"]["traces"], 3);
    assert_eq!(
        names(&tmp.path().join("a.tar.gz")),
        ["acme-1", "acme-2", "acme-3"]
    );
    let verify = ok_json(&cli(
        &[
            "bundle",
            "verify",
            p(&tmp.path().join("a.tar.gz")),
            "--trusted",
            p(&public),
        ],
        None,
    ));
    assert_eq!(verify["signature"]["status"], "verified");
    assert_eq!(verify["createdAt"], "2025-03-01T00:00:00Z");
    assert_eq!(
        listing(&spool),
        before,
        "read-only: nothing recovered, sealed or pruned"
    );
}

#[test]
fn relative_windows_end_at_source_date_epoch_and_text_output_is_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let spool = live_spool(tmp.path());
    let out = cli(
        &[
            "capture",
            "--spool",
            p(&spool),
            "--window",
            "90m",
            "--zstd",
            "--out",
            p(&tmp.path().join("x.tar.zst")),
        ],
        Some("1740794400"), // 2025-03-01T02:00:00Z
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1);
    assert!(text.contains("UNSIGNED"), "{text}");
    assert!(
        text.contains("2025-03-01T00:30:00Z/2025-03-01T02:00:00Z"),
        "{text}"
    );
    assert_eq!(
        names(&tmp.path().join("x.tar.zst")),
        ["acme-1", "globex-1", "acme-2"]
    );
}

#[test]
fn usage_errors_exit_2_and_capture_failures_exit_1_with_a_code() {
    let tmp = tempfile::tempdir().unwrap();
    let spool = live_spool(tmp.path());
    let out_path = tmp.path().join("x.tar.gz");
    let bad = cli(
        &[
            "capture",
            "--spool",
            p(&spool),
            "--window",
            "24y",
            "--out",
            p(&out_path),
        ],
        None,
    );
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.starts_with(
            "error[telemetry.capture.invalid_window]: --window: window duration \"24y\""
        ),
        "{err}"
    );

    let no_source = cli(&["capture", "--window", "24h", "--out", p(&out_path)], None);
    assert_eq!(no_source.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_source.stderr).contains("--spool"));

    let missing = cli(
        &[
            "capture",
            "--spool",
            p(&tmp.path().join("nope")),
            "--window",
            "24h",
            "--out",
            p(&out_path),
        ],
        None,
    );
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).starts_with("error[telemetry.spool.io]: "));
    assert!(!out_path.exists());

    let epoch = cli(
        &[
            "capture",
            "--spool",
            p(&spool),
            "--window",
            "24h",
            "--out",
            p(&out_path),
        ],
        Some("yesterday"),
    );
    assert_eq!(epoch.status.code(), Some(2));
}

//! OTLP exporters over TLS against in-test TLS receivers (a test PKI made at run time): a test
//! CA delivers spans over gRPC and HTTP; mTLS with a client certificate succeeds and without
//! one fails clearly with nothing delivered; a wrong CA sends no data; plain text to a
//! non-loopback host is refused unless the insecure switch is on; the `OTEL_EXPORTER_OTLP_*`
//! certificate variables are honoured, per-signal over generic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;
mod tls_peers;

use std::time::Duration;
use stellaops_telemetry_core::settings::{Protocol, Signal};
use stellaops_telemetry_core::tls::ClientTlsConfig;
use stellaops_telemetry_core::{InitError, Telemetry};
use support::{Captured, fixed_clock};
use tls_peers::{ServerTls as _, TestPki, TlsReceiver, Wire};

const WAIT: Duration = Duration::from_secs(20);

fn protocol(wire: Wire) -> Protocol {
    match wire {
        Wire::Grpc => Protocol::Grpc,
        Wire::Http => Protocol::HttpProtobuf,
    }
}

fn started(
    receiver: &TlsReceiver,
    wire: Wire,
    tls: ClientTlsConfig,
    logs: &Captured,
    spool: &std::path::Path,
) -> (Telemetry, tracing::Dispatch) {
    stellaops_telemetry_core::builder("scanner")
        // forensic: every trace is kept, whatever tail sampling decides for ordinary ones.
        .profile("forensic")
        .otlp_endpoint(receiver.endpoint("localhost"))
        .protocol(protocol(wire))
        .tls(tls)
        .spool_dir(spool)
        .export_interval(Duration::from_secs(3600))
        .export_timeout(Duration::from_secs(10))
        .log_sink(logs.sink())
        .clock(fixed_clock())
        .build()
        .unwrap()
}

fn emit_span(telemetry: &Telemetry, dispatch: &tracing::Dispatch, name: &'static str) {
    tracing::dispatcher::with_default(dispatch, || {
        let span = tracing::info_span!("tls.test", otel.name = name);
        span.in_scope(|| tracing::info!("inside the span"));
    });
    telemetry.flush();
}

fn delivers(wire: Wire) {
    let dir = support::private_tempdir();
    let pki = TestPki::generate(dir.path(), "main").unwrap();
    let receiver = TlsReceiver::start(wire, &pki.server_tls(false));
    let logs = Captured::default();
    let (telemetry, dispatch) = started(
        &receiver,
        wire,
        ClientTlsConfig::new().ca_file(&pki.ca_path),
        &logs,
        dir.path(),
    );
    emit_span(&telemetry, &dispatch, "delivered-over-tls");
    assert!(
        receiver.wait_until(WAIT, |s| s
            .span_names()
            .contains(&"delivered-over-tls".to_owned())
            && !s.log_bodies().is_empty()),
        "{:?}; logs: {}",
        receiver.with_seen(|s| s.span_names()),
        logs.text()
    );
    assert_eq!(telemetry.metrics().otlp_export_failures("traces").get(), 0);
    assert!(receiver.with_seen(|s| s.handshake_failures.is_empty()));
}

#[test]
fn grpc_exporter_with_the_test_ca_delivers_spans_and_logs() {
    delivers(Wire::Grpc);
}

#[test]
fn http_exporter_with_the_test_ca_delivers_spans_and_logs() {
    delivers(Wire::Http);
}

fn mtls_with_client_certificate(wire: Wire) {
    let dir = support::private_tempdir();
    let pki = TestPki::generate(dir.path(), "mtls").unwrap();
    let receiver = TlsReceiver::start(wire, &pki.server_tls(true));
    let logs = Captured::default();
    let tls = ClientTlsConfig::new()
        .ca_file(&pki.ca_path)
        .client_identity_files(&pki.client.cert_path, &pki.client.key_path);
    let (telemetry, dispatch) = started(&receiver, wire, tls, &logs, dir.path());
    emit_span(&telemetry, &dispatch, "mutual");
    assert!(
        receiver.wait_until(WAIT, |s| s.span_names().contains(&"mutual".to_owned())),
        "failures: {:?}; logs: {}",
        receiver.with_seen(|s| s.handshake_failures.clone()),
        logs.text()
    );
}

#[test]
fn mtls_with_a_client_certificate_succeeds_over_grpc() {
    mtls_with_client_certificate(Wire::Grpc);
}

#[test]
fn mtls_with_a_client_certificate_succeeds_over_http() {
    mtls_with_client_certificate(Wire::Http);
}

/// The failure warning the exporter logged, as text.
fn export_failure_warning(logs: &Captured) -> String {
    logs.lines()
        .into_iter()
        .find(|l| l.to_string().contains("OTLP export failed"))
        .map(|l| l.to_string())
        .unwrap_or_else(|| panic!("no export failure was logged: {}", logs.text()))
}

fn fails_without_delivering(
    wire: Wire,
    mtls_server: bool,
    tls: impl Fn(&TestPki, &TestPki) -> ClientTlsConfig,
) -> String {
    let dir = support::private_tempdir();
    let pki = TestPki::generate(dir.path(), "server-side").unwrap();
    let other = TestPki::generate(dir.path(), "other").unwrap();
    let receiver = TlsReceiver::start(wire, &pki.server_tls(mtls_server));
    let logs = Captured::default();
    let (telemetry, dispatch) = started(&receiver, wire, tls(&pki, &other), &logs, dir.path());
    emit_span(&telemetry, &dispatch, "must-not-arrive");
    // The failure is counted in the export failure metrics...
    let failures = telemetry.metrics().otlp_export_failures("traces");
    assert!(
        failures.get() >= 1,
        "the failed export is counted; logs: {}",
        logs.text()
    );
    assert!(
        telemetry
            .render_prometheus()
            .contains("telemetry_otlp_export_failures_total{signal=\"traces\"}"),
    );
    // ...and the server saw a refused handshake, never a request.
    assert!(
        receiver.wait_until(WAIT, |s| !s.handshake_failures.is_empty()),
        "the receiver saw no failed handshake"
    );
    receiver.with_seen(|s| {
        assert_eq!(
            s.items(),
            0,
            "nothing may be delivered: {:?}",
            s.span_names()
        );
    });
    // Nothing is lost: the batch went to the spool.
    assert!(!support::spooled(dir.path(), "traces").is_empty());
    export_failure_warning(&logs)
}

#[test]
fn mtls_without_a_client_certificate_fails_clearly_over_grpc() {
    let warning = fails_without_delivering(Wire::Grpc, true, |pki, _| {
        ClientTlsConfig::new().ca_file(&pki.ca_path)
    });
    assert!(warning.contains("TLS"), "{warning}");
    assert!(
        warning.contains("CertificateRequired") || warning.contains("certificate"),
        "{warning}"
    );
}

#[test]
fn mtls_without_a_client_certificate_fails_clearly_over_http() {
    let warning = fails_without_delivering(Wire::Http, true, |pki, _| {
        ClientTlsConfig::new().ca_file(&pki.ca_path)
    });
    assert!(warning.contains("TLS"), "{warning}");
}

#[test]
fn a_client_certificate_from_an_untrusted_ca_is_refused() {
    // The server refuses after the client's TLS 1.3 handshake has finished; whether the client
    // reads the server's alert or first hits the closed socket is a race, so the message is
    // not asserted here (the receiver's refused handshake and the empty receiver are).
    let warning = fails_without_delivering(Wire::Grpc, true, |pki, other| {
        ClientTlsConfig::new()
            .ca_file(&pki.ca_path)
            .client_identity_files(&other.client.cert_path, &other.client.key_path)
    });
    assert!(warning.contains("OTLP grpc export"), "{warning}");
}

#[test]
fn a_wrong_ca_fails_without_sending_data_over_grpc() {
    let warning = fails_without_delivering(Wire::Grpc, false, |_, other| {
        ClientTlsConfig::new().ca_file(&other.ca_path)
    });
    assert!(
        warning.contains("TLS handshake with localhost failed"),
        "{warning}"
    );
    assert!(warning.contains("UnknownIssuer"), "{warning}");
}

#[test]
fn a_wrong_ca_fails_without_sending_data_over_http() {
    let warning = fails_without_delivering(Wire::Http, false, |_, other| {
        ClientTlsConfig::new().ca_file(&other.ca_path)
    });
    assert!(
        warning.contains("TLS handshake with localhost failed"),
        "{warning}"
    );
    assert!(warning.contains("UnknownIssuer"), "{warning}");
}

#[test]
fn the_server_name_override_is_what_gets_verified() {
    let dir = support::private_tempdir();
    let pki = TestPki::generate(dir.path(), "names").unwrap();
    let receiver = TlsReceiver::start(Wire::Grpc, &pki.server_tls(false));
    let logs = Captured::default();
    // The endpoint says 127.0.0.1; the certificate is checked against collector.internal.
    let (telemetry, dispatch) = stellaops_telemetry_core::builder("scanner")
        .profile("forensic")
        .otlp_endpoint(format!("https://127.0.0.1:{}", receiver.addr.port()))
        .tls(
            ClientTlsConfig::new()
                .ca_file(&pki.ca_path)
                .server_name("collector.internal"),
        )
        .spool_dir(dir.path())
        .export_interval(Duration::from_secs(3600))
        .log_sink(logs.sink())
        .build()
        .unwrap();
    emit_span(&telemetry, &dispatch, "by-name");
    assert!(receiver.wait_until(WAIT, |s| s.span_names().contains(&"by-name".to_owned())));

    // A name the certificate does not carry fails the handshake.
    let receiver = TlsReceiver::start(Wire::Grpc, &pki.server_tls(false));
    let logs = Captured::default();
    let dir2 = support::private_tempdir();
    let (telemetry, dispatch) = stellaops_telemetry_core::builder("scanner")
        .otlp_endpoint(receiver.endpoint("localhost"))
        .tls(
            ClientTlsConfig::new()
                .ca_file(&pki.ca_path)
                .server_name("elsewhere.internal"),
        )
        .spool_dir(dir2.path())
        .export_interval(Duration::from_secs(3600))
        .log_sink(logs.sink())
        .build()
        .unwrap();
    emit_span(&telemetry, &dispatch, "wrong-name");
    let warning = export_failure_warning(&logs);
    assert!(
        warning.contains("TLS handshake with elsewhere.internal failed"),
        "{warning}"
    );
    assert_eq!(receiver.with_seen(Seen::items), 0);
}

use tls_peers::Seen;

#[test]
fn non_loopback_plain_text_is_refused_at_init_without_the_insecure_switch() {
    let dir = support::private_tempdir();
    let err = stellaops_telemetry_core::builder("scanner")
        .otlp_endpoint("http://192.0.2.10:4317")
        .spool_dir(dir.path())
        .build()
        .map(drop)
        .unwrap_err();
    assert!(matches!(err, InitError::PlaintextEndpoint { .. }), "{err}");
    assert_eq!(err.code(), "telemetry.tls.plaintext_refused");
    let text = err.to_string();
    assert!(text.contains("http://192.0.2.10:4317"), "{text}");
    assert!(text.contains("insecure_plaintext(true)"), "{text}");
    assert!(
        text.contains("STELLAOPS_TELEMETRY_OTLP_INSECURE=true"),
        "{text}"
    );

    // One signal is enough to refuse.
    let err = stellaops_telemetry_core::builder("scanner")
        .signal_endpoint(Signal::Logs, "http://collector.example:4318/v1/logs")
        .protocol(Protocol::HttpProtobuf)
        .spool_dir(dir.path())
        .build()
        .map(drop)
        .unwrap_err();
    assert!(err.to_string().contains("logs OTLP endpoint"), "{err}");
}

#[test]
fn the_insecure_switch_allows_plain_text_with_one_warning() {
    let dir = support::private_tempdir();
    let logs = Captured::default();
    let (telemetry, _dispatch) = stellaops_telemetry_core::builder("scanner")
        .otlp_endpoint("http://192.0.2.10:4317")
        .insecure_plaintext(true)
        // Nothing is exported in this test; keep any shutdown attempt short.
        .export_timeout(Duration::from_millis(200))
        .export_interval(Duration::from_secs(3600))
        .spool_dir(dir.path())
        .log_sink(logs.sink())
        .clock(fixed_clock())
        .build()
        .unwrap();
    let warnings: Vec<_> = logs
        .lines()
        .into_iter()
        .filter(|l| l.to_string().contains("plain text (insecure)"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", logs.text());
    assert!(warnings[0].to_string().contains("http://192.0.2.10:4317"));
    assert!(telemetry.settings().insecure_plaintext);
    telemetry.shutdown(Duration::from_secs(5));
}

#[test]
fn loopback_plain_text_needs_no_switch_and_logs_no_warning() {
    let dir = support::private_tempdir();
    let logs = Captured::default();
    for endpoint in ["http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9"] {
        let (telemetry, _dispatch) = stellaops_telemetry_core::builder("scanner")
            .otlp_endpoint(endpoint)
            .export_interval(Duration::from_secs(3600))
            .export_timeout(Duration::from_millis(200))
            .spool_dir(dir.path())
            .log_sink(logs.sink())
            .build()
            .unwrap_or_else(|e| panic!("{endpoint}: {e}"));
        telemetry.shutdown(Duration::from_secs(5));
    }
    assert!(!logs.text().contains("insecure"), "{}", logs.text());
}

#[test]
fn an_unreadable_ca_file_fails_init_naming_the_file_and_setting() {
    let dir = support::private_tempdir();
    let missing = dir.path().join("missing-ca.pem");
    let err = stellaops_telemetry_core::builder("scanner")
        .otlp_endpoint("https://127.0.0.1:4317")
        .tls(ClientTlsConfig::new().ca_file(&missing))
        .spool_dir(dir.path())
        .build()
        .map(drop)
        .unwrap_err();
    assert_eq!(err.code(), "telemetry.tls.pem_unreadable");
    let text = err.to_string();
    assert!(text.contains(&missing.display().to_string()), "{text}");
    assert!(text.contains("ClientTlsConfig::ca_file"), "{text}");

    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "this is no certificate").unwrap();
    let err = stellaops_telemetry_core::builder("scanner")
        .otlp_endpoint("https://127.0.0.1:4317")
        .signal_tls(Signal::Traces, ClientTlsConfig::new().ca_file(&garbage))
        .spool_dir(dir.path())
        .build()
        .map(drop)
        .unwrap_err();
    assert_eq!(err.code(), "telemetry.tls.pem_invalid");
    assert!(err.to_string().contains("traces OTLP exporter"), "{err}");
}

// ---- environment variables, in a child process (the environment is process-wide) ----

const CHILD: &str = "STELLAOPS_TLS_TEST_CHILD";

/// Runs in a child process started by the tests below: telemetry configured only by the
/// environment, one span, flush, then exit. Does nothing when run directly.
#[test]
fn child_exports_one_span_configured_by_environment() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let dir = support::private_tempdir();
    match stellaops_telemetry_core::builder("env-child")
        .profile("forensic")
        .spool_dir(dir.path())
        .export_interval(Duration::from_secs(3600))
        .stdout_logs(false)
        .build()
    {
        Ok((telemetry, dispatch)) => {
            emit_span(&telemetry, &dispatch, "from-env");
            telemetry.shutdown(Duration::from_secs(10));
        }
        Err(e) => panic!("init failed: {e}"),
    }
}

fn run_child(envs: &[(&str, String)]) -> std::process::Output {
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "child_exports_one_span_configured_by_environment",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1");
    for (k, _) in std::env::vars() {
        if k.starts_with("OTEL_") || k.starts_with("STELLAOPS_TELEMETRY_") {
            command.env_remove(k);
        }
    }
    for (k, v) in envs {
        command.env(k, v);
    }
    command.output().unwrap()
}

#[test]
fn environment_certificates_are_honoured_per_signal_over_generic() {
    let dir = support::private_tempdir();
    let pki = TestPki::generate(dir.path(), "env").unwrap();
    let other = TestPki::generate(dir.path(), "env-other").unwrap();
    let receiver = TlsReceiver::start(Wire::Grpc, &pki.server_tls(true));
    let path = |p: &std::path::Path| p.display().to_string();

    // Generic: the wrong CA; per-signal for traces: the right one, plus the client identity.
    let out = run_child(&[
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            receiver.endpoint("localhost"),
        ),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", path(&other.ca_path)),
        ("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", path(&pki.ca_path)),
        (
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
            path(&pki.client.cert_path),
        ),
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", path(&pki.client.key_path)),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        receiver.wait_until(WAIT, |s| s.span_names().contains(&"from-env".to_owned())),
        "the traces CA variable wins over the generic one"
    );
    // Logs used the generic (wrong) CA: none arrived.
    assert!(receiver.with_seen(|s| s.logs.is_empty()));

    // The other way round: the per-signal variable points at the wrong CA.
    let receiver = TlsReceiver::start(Wire::Grpc, &pki.server_tls(true));
    let out = run_child(&[
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            receiver.endpoint("localhost"),
        ),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", path(&pki.ca_path)),
        (
            "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
            path(&other.ca_path),
        ),
        (
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
            path(&pki.client.cert_path),
        ),
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", path(&pki.client.key_path)),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        receiver.wait_until(WAIT, |s| !s.logs.is_empty()),
        "logs use the generic CA and arrive"
    );
    assert!(
        receiver.with_seen(|s| s.traces.is_empty()),
        "traces use their own (wrong) CA and do not arrive"
    );
}

#[test]
fn unusable_environment_files_fail_init_naming_the_variable() {
    let endpoint = (
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "https://127.0.0.1:4317".to_owned(),
    );
    let out = run_child(&[
        endpoint.clone(),
        (
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
            "/nonexistent/client.pem".to_owned(),
        ),
        (
            "OTEL_EXPORTER_OTLP_CLIENT_KEY",
            "/nonexistent/client-key.pem".to_owned(),
        ),
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("init failed"), "{stderr}");
    assert!(stderr.contains("/nonexistent/client.pem"), "{stderr}");
    assert!(
        stderr.contains("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"),
        "{stderr}"
    );

    // A key for one signal only: that signal's identity is incomplete.
    let out = run_child(&[
        endpoint,
        (
            "OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY",
            "/nonexistent/client-key.pem".to_owned(),
        ),
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("logs OTLP exporter"), "{stderr}");
    assert!(
        stderr.contains("OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY"),
        "{stderr}"
    );
}

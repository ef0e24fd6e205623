//! `stella-telemetry bundle replay`: verify a bundle, decide the endpoint with the egress
//! policy, then stream every record into an OTLP collector with `telemetry-core`'s
//! `Replayer`. The argument parsers live here too (endpoint, signal, rate).
//!
//! Exit status: 0 when every record was acknowledged, 1 when the bundle is refused or any
//! record failed, 2 on a usage error, 3 when the egress policy refuses the endpoint.

use crate::failure::{Exit, Failure};
use crate::trusted::trusted_reader;
use clap::{Args, ValueEnum};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;
use stellaops_bundle_format::{Signal, SignatureStatus, VerifiedBundle};
use stellaops_egress_policy::{
    EgressPolicy, EgressRequest, Endpoint, Scheme, SealState, SealedMode, SealedModePolicy,
};
use stellaops_telemetry_core::replay::{
    Backoff, DEFAULT_INITIAL_BACKOFF, DEFAULT_MAX_BACKOFF, DEFAULT_SEND_TIMEOUT, OtlpRecordSink,
    Rate, ReplayObserver, Replayer, SendFailure, SystemClock,
};
use stellaops_telemetry_core::settings::Protocol;

/// The wire protocol of `--protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReplayProtocol {
    /// OTLP/gRPC (collector port 4317).
    Grpc,
    /// OTLP/HTTP with protobuf bodies (collector port 4318; records post to /v1/SIGNAL).
    Http,
}

#[derive(Debug, Args)]
pub(crate) struct ReplayArgs {
    /// The bundle (.tar.gz or .tar.zst).
    path: PathBuf,

    #[arg(
        long,
        value_name = "URL",
        value_parser = parse_endpoint,
        help = "The collector: https://HOST:PORT (TLS; see --ca), http://HOST:PORT or \
                HOST:PORT (for --protocol http the base URL; records post to URL/v1/SIGNAL). \
                Decided by the egress policy first: while sealed only loopback hosts are \
                allowed"
    )]
    endpoint: String,

    /// Wire protocol.
    #[arg(long, value_enum, default_value = "grpc")]
    protocol: ReplayProtocol,

    /// Replay only this signal (traces, metrics or logs); repeatable. Default: all.
    #[arg(long = "signal", value_name = "SIGNAL", value_parser = parse_signal)]
    signals: Vec<Signal>,

    #[arg(
        long,
        value_name = "RECORDS_PER_S",
        value_parser = Rate::parse,
        help = "Send at most this many records per second (a decimal number above 0, such \
                as 200 or 0.5). Default: as fast as the collector acknowledges"
    )]
    rate: Option<Rate>,

    /// A trusted public key (SPKI PEM, securesystemslib JSON) or hmac-sha256 key file;
    /// repeatable. The bundle's signature must verify with one of them.
    #[arg(long, value_name = "FILE")]
    trusted: Vec<PathBuf>,

    /// Replay even though the signature is not checked against a trusted key (integrity
    /// is still checked). Anyone could have written such a bundle: say so loudly.
    #[arg(long, conflicts_with = "trusted")]
    insecure_skip_verify: bool,

    /// Decide the endpoint as a sealed (air-gapped) site: only loopback endpoints. Also on
    /// when STELLAOPS_TELEMETRY_SEALED=true.
    #[arg(long)]
    sealed: bool,

    /// For an https:// collector: the CA bundle (PEM) that verifies it (default: the
    /// webpki roots).
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,

    /// For an https:// collector that requires mTLS: this client's certificate chain (PEM).
    #[arg(long, value_name = "FILE", requires = "client_key")]
    client_cert: Option<PathBuf>,

    /// The private key (PEM) of --client-cert.
    #[arg(long, value_name = "FILE", requires = "client_cert")]
    client_key: Option<PathBuf>,

    /// Retries of one record before the collector counts as unreachable (back-off doubles
    /// from 100 ms up to 5 s).
    #[arg(long, value_name = "N", default_value_t = stellaops_telemetry_core::replay::DEFAULT_MAX_RETRIES)]
    max_retries: u32,
}

/// Parses `--endpoint`: `http://...` and `https://...` as written, `HOST:PORT` as
/// `http://HOST:PORT`. Unix sockets and files are refused with what to write instead.
pub(crate) fn parse_endpoint(text: &str) -> Result<String, String> {
    let endpoint = Endpoint::try_parse(text).map_err(|e| {
        format!("expected http://HOST:PORT or HOST:PORT (a local collector is http://127.0.0.1:4317), found {text:?}: {e}")
    })?;
    let url = match endpoint.scheme() {
        Some(Scheme::Http | Scheme::Https) => text.trim().to_owned(),
        None if endpoint.host().is_some() => format!("http://{}", text.trim()),
        _ => {
            return Err(format!(
                "expected a network collector endpoint (http://HOST:PORT or HOST:PORT), found \
                 {text:?} ({}): replay sends over OTLP, not to files or sockets",
                endpoint.class().as_str()
            ));
        }
    };
    // The URL the client uses must name the host and port that were written.
    let reparsed = Endpoint::parse(&url);
    if reparsed.class() != endpoint.class()
        || reparsed.host() != endpoint.host()
        || reparsed.effective_port()
            != endpoint
                .effective_port()
                .or(Some(if endpoint.scheme() == Some(Scheme::Https) {
                    443
                } else {
                    80
                }))
    {
        return Err(format!(
            "expected http://HOST:PORT or HOST:PORT, found {text:?}, which reads differently \
             as a URL ({url:?}); write the URL explicitly"
        ));
    }
    Ok(url)
}

/// Parses `--signal`.
pub(crate) fn parse_signal(text: &str) -> Result<Signal, String> {
    stellaops_bundle_format::BUNDLE_ORDER
        .into_iter()
        .find(|s| s.as_str() == text)
        .ok_or_else(|| format!("expected traces, metrics or logs, found {text:?}"))
}

fn sealed_from_env() -> Result<bool, String> {
    match std::env::var("STELLAOPS_TELEMETRY_SEALED") {
        Err(_) => Ok(false),
        Ok(v) => match v.trim() {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(format!(
                "STELLAOPS_TELEMETRY_SEALED: expected true or false, found {other:?}"
            )),
        },
    }
}

pub(crate) fn run(args: &ReplayArgs) -> Result<(), Failure> {
    // An unusable environment variable is a usage error found after parsing.
    let sealed_env = sealed_from_env()
        .map_err(|message| Failure::usage("replay.invalid_environment", message))?;
    let sealed = args.sealed || sealed_env;
    // 1. The egress policy: decided on the exact URL the client will connect to.
    let state = if sealed {
        SealState::Sealed
    } else {
        SealState::Unsealed
    };
    let policy = SealedModePolicy::new(SealedMode::new(state));
    // The sealed-mode policy decides the same for every signal; the first replayed stands in.
    let signal = match args.signals.first() {
        Some(Signal::Logs) => stellaops_egress_policy::Signal::Logs,
        Some(Signal::Metrics) => stellaops_egress_policy::Signal::Metrics,
        _ => stellaops_egress_policy::Signal::Traces,
    };
    let request = EgressRequest::new("stella-telemetry", signal, Endpoint::parse(&args.endpoint))
        .with_intent("bundle replay");
    let decision = policy.decide(&request);
    if !decision.allowed() {
        let denied = Failure::new(
            Exit::Denied,
            "egress.denied",
            format!(
                "{}: refused by the egress policy, nothing sent: {}",
                request.endpoint().redacted(),
                decision.reason()
            ),
        );
        return Err(match decision.remediation() {
            Some(remediation) => denied.with_remediation(remediation),
            None => denied,
        });
    }
    replay(args)
}

/// Runs the replay; fails when the bundle is refused or any record failed.
fn replay(args: &ReplayArgs) -> Result<(), Failure> {
    let trusted = if args.insecure_skip_verify {
        eprintln!(
            "WARNING: --insecure-skip-verify: the bundle's signature is NOT checked against \
             any trusted key. Anyone could have written this bundle; its records will be \
             replayed as if they were genuine. Only digests, sizes and counts are checked."
        );
        Vec::new()
    } else if args.trusted.is_empty() {
        return Err(Failure::failed(
            "replay.unverified",
            "nothing sent: expected --trusted FILE (the key that signed the bundle) to verify \
             it; --insecure-skip-verify replays without checking the signature",
        ));
    } else {
        args.trusted.clone()
    };
    let reader = trusted_reader(&trusted)?;
    let protocol = match args.protocol {
        ReplayProtocol::Grpc => Protocol::Grpc,
        ReplayProtocol::Http => Protocol::HttpProtobuf,
    };
    let tls = (args.ca.is_some() || args.client_cert.is_some()).then(|| {
        let mut tls = stellaops_telemetry_core::tls::ClientTlsConfig::default();
        if let Some(ca) = &args.ca {
            tls = tls.ca_file(ca);
        }
        if let (Some(cert), Some(key)) = (&args.client_cert, &args.client_key) {
            tls = tls.client_identity_files(cert, key);
        }
        tls
    });
    if tls.is_some() && !args.endpoint.starts_with("https://") {
        return Err(Failure::failed(
            "replay.invalid_endpoint",
            format!(
                "--ca/--client-cert apply to an https:// collector, found {}",
                args.endpoint
            ),
        ));
    }
    let mut sink =
        OtlpRecordSink::with_tls(&args.endpoint, protocol, DEFAULT_SEND_TIMEOUT, tls.as_ref())?;
    let clock = SystemClock;
    let mut progress = Progress::new(args.max_retries);
    let mut replayer = Replayer::new(&mut sink, &clock)
        .backoff(Backoff::new(
            DEFAULT_INITIAL_BACKOFF,
            DEFAULT_MAX_BACKOFF,
            args.max_retries,
        ))
        .rate(args.rate)
        .signals(&args.signals)
        .observer(&mut progress);
    if args.insecure_skip_verify {
        replayer = replayer.dangerous_allow_unverified();
    }
    let report = replayer.replay_file(&reader, &args.path)?;
    progress.finish();

    let mut signals = serde_json::Map::new();
    for (signal, c) in report.counts() {
        signals.insert(
            signal.as_str().to_owned(),
            json!({"records": c.records, "sent": c.sent, "retried": c.retried, "failed": c.failed}),
        );
        eprintln!(
            "{signal}: {} records, {} sent, {} retried, {} failed",
            c.records, c.sent, c.retried, c.failed
        );
    }
    let verified = report.verified();
    let summary = json!({
        "bundleId": verified.manifest().bundle_id,
        "sha256": verified.sha256(),
        "endpoint": Endpoint::parse(&args.endpoint).redacted(),
        "protocol": match args.protocol { ReplayProtocol::Grpc => "grpc", ReplayProtocol::Http => "http/protobuf" },
        "signature": signature(verified),
        "signals": Value::Object(signals),
        "sent": report.sent(),
        "failed": report.failed(),
        "gaveUp": report.gave_up(),
    });
    println!("{summary}");
    if let Some(reason) = report.gave_up() {
        return Err(Failure::failed(
            "replay.gave_up",
            format!(
                "the collector stayed unreachable after {} retries ({reason}); records after \
                 that point were not sent. Fix the collector and replay again (records already \
                 acknowledged will be sent again: replay the remaining signals with --signal \
                 to avoid that)",
                args.max_retries
            ),
        ));
    }
    match report.failed() {
        0 => Ok(()),
        failed => Err(Failure::failed(
            "replay.records_failed",
            format!("{failed} record(s) failed (each named on a `failed:` line above)"),
        )),
    }
}

fn signature(verified: &VerifiedBundle) -> Value {
    match verified.signature() {
        SignatureStatus::Verified { key_ids } => json!({"status": "verified", "keyIds": key_ids}),
        SignatureStatus::NotChecked { unsigned, .. } => json!({
            "status": if *unsigned { "unsigned" } else { "not-checked" },
        }),
        _ => json!({"status": "unknown"}),
    }
}

/// Progress on stderr: a redrawn bar on a terminal, one line per retry or failure always.
struct Progress {
    bar: crate::progress::Bar,
    max_retries: u32,
    total: u64,
    done: u64,
    signal: Option<Signal>,
}

impl Progress {
    fn new(max_retries: u32) -> Self {
        Self {
            bar: crate::progress::Bar::stderr(),
            max_retries,
            total: 0,
            done: 0,
            signal: None,
        }
    }

    fn draw(&mut self, force: bool) {
        let suffix = self.signal.map(|s| format!(" ({s})")).unwrap_or_default();
        self.bar
            .draw(force, self.done, Some(self.total), "records", &suffix);
    }

    /// Prints a line above the bar.
    fn line(&mut self, text: &str) {
        self.bar.clear();
        eprintln!("{text}");
        self.draw(true);
    }

    fn finish(&mut self) {
        self.draw(true);
        self.bar.finish();
    }
}

impl ReplayObserver for Progress {
    fn bundle_verified(&mut self, bundle: &VerifiedBundle) {
        self.total = bundle
            .manifest()
            .record_counts()
            .iter()
            .map(|(_, n)| n)
            .sum();
        let signed = match bundle.signature() {
            SignatureStatus::Verified { key_ids } => format!("signed by {}", key_ids.join(", ")),
            _ => "SIGNATURE NOT CHECKED".to_owned(),
        };
        self.line(&format!(
            "verified bundle {} ({signed}); replaying",
            bundle.manifest().bundle_id
        ));
    }
    fn signal_started(&mut self, signal: Signal, _records: u64) {
        self.signal = Some(signal);
        self.draw(true);
    }
    fn record_sent(&mut self, _signal: Signal, _index: u64) {
        self.done += 1;
        self.draw(false);
    }
    fn retrying(
        &mut self,
        signal: Signal,
        index: u64,
        retry: u32,
        delay: Duration,
        failure: &SendFailure,
    ) {
        let max = self.max_retries;
        self.line(&format!(
            "retry {retry}/{max}: {signal} record {index} in {} ms: {failure}",
            delay.as_millis()
        ));
    }
    fn record_failed(&mut self, signal: Signal, index: u64, failure: &SendFailure) {
        self.done += 1;
        self.line(&format!("failed: {signal} record {index}: {failure}"));
    }
    fn gave_up(&mut self, signal: Signal, index: u64, failure: &SendFailure) {
        self.line(&format!(
            "giving up: {signal} record {index} still failing after {} retries: {failure}",
            self.max_retries
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn endpoints_are_normalized_or_refused_with_what_to_write() {
        assert_eq!(
            parse_endpoint("127.0.0.1:4317").unwrap(),
            "http://127.0.0.1:4317"
        );
        assert_eq!(
            parse_endpoint("http://localhost:4318").unwrap(),
            "http://localhost:4318"
        );
        assert_eq!(
            parse_endpoint("https://c.example:4317").unwrap(),
            "https://c.example:4317"
        );
        assert!(
            parse_endpoint("unix:///run/otel.sock")
                .unwrap_err()
                .contains("not to files or sockets")
        );
        assert!(
            parse_endpoint("ftp://x")
                .unwrap_err()
                .contains("http://127.0.0.1:4317")
        );
    }

    proptest! {
        #[test]
        fn endpoint_parsing_never_panics_and_always_yields_an_http_url(text in "\\PC{0,40}") {
            if let Ok(url) = parse_endpoint(&text) {
                prop_assert!(url.starts_with("http://") || url.starts_with("https://"));
                // What the client connects to is what the egress policy decides.
                prop_assert_eq!(Endpoint::parse(&url).class(), Endpoint::parse(&text).class());
            }
        }

        #[test]
        fn host_port_endpoints_keep_their_host_and_port(a in 0u8..=255, b in 0u8..=255, port in 1u16..=65535) {
            let text = format!("10.{a}.{b}.1:{port}");
            let url = parse_endpoint(&text).unwrap();
            prop_assert_eq!(&url, &format!("http://{text}"));
            prop_assert_eq!(Endpoint::parse(&url).port(), Some(port));
        }

        #[test]
        fn signal_parsing_accepts_exactly_the_three_names(text in "[a-z]{0,8}") {
            let parsed = parse_signal(&text);
            prop_assert_eq!(parsed.is_ok(), ["traces", "metrics", "logs"].contains(&text.as_str()));
        }
    }
}

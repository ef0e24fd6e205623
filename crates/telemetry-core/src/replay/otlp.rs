//! The OTLP sink of a replay: [`OtlpRecordSink`] decodes each record and sends it to a
//! collector over gRPC or HTTP/protobuf. Not an egress guard: the caller decides whether the
//! endpoint may be used before it builds the sink.

use super::report::ReplayError;
use super::sink::{RecordSink, SendFailure};
use crate::export::{ExportRequest, OtlpClient, OtlpTls};
use crate::settings::{OtlpTarget, Protocol};
use crate::tls::ClientTlsConfig;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use std::fmt;
use std::time::Duration;
use stellaops_bundle_format::Signal;

/// How long one send may wait for the collector's answer: 10 s.
pub const DEFAULT_SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// A [`RecordSink`] that decodes each record and sends it with an [`OtlpClient`] (gRPC or
/// HTTP/protobuf), blocking on its own single-threaded Tokio runtime.
///
/// For HTTP, `endpoint` is the base URL: records post to `<endpoint>/v1/<signal>`.
pub struct OtlpRecordSink {
    runtime: tokio::runtime::Runtime,
    clients: Vec<(Signal, OtlpClient)>,
}

impl fmt::Debug for OtlpRecordSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpRecordSink")
            .field(
                "endpoints",
                &self
                    .clients
                    .iter()
                    .map(|(s, c)| (s.as_str(), c.endpoint()))
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl OtlpRecordSink {
    /// A sink for `endpoint` over `protocol`, each send bounded by `timeout`. No connection
    /// is opened here.
    ///
    /// # Errors
    /// [`ReplayError::Endpoint`] when the endpoint is not a URL, [`ReplayError::Io`] when the
    /// runtime cannot start.
    pub fn new(endpoint: &str, protocol: Protocol, timeout: Duration) -> Result<Self, ReplayError> {
        Self::with_tls(endpoint, protocol, timeout, None)
    }

    /// As [`Self::new`], with `tls` (CA bundle, client certificate, server name) for an
    /// `https://` endpoint; without it an `https://` collector is verified against the
    /// `webpki-roots` CAs. Ignored for `http://`.
    ///
    /// # Errors
    /// As [`Self::new`], and [`ReplayError::Tls`] when a TLS file is unreadable or invalid.
    pub fn with_tls(
        endpoint: &str,
        protocol: Protocol,
        timeout: Duration,
        tls: Option<&ClientTlsConfig>,
    ) -> Result<Self, ReplayError> {
        let tls = tls
            .map(|config| OtlpTls::build(config, protocol))
            .transpose()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| ReplayError::Io {
                context: "starting the OTLP client runtime".into(),
                source,
            })?;
        let mut clients = Vec::new();
        {
            let _entered = runtime.enter();
            let base = http_base(endpoint);
            for signal in stellaops_bundle_format::BUNDLE_ORDER {
                let endpoint = match protocol {
                    Protocol::Grpc => endpoint.to_owned(),
                    Protocol::HttpProtobuf => format!("{base}/v1/{}", signal.as_str()),
                };
                let client = OtlpClient::with_tls(
                    &OtlpTarget { endpoint, protocol },
                    timeout,
                    tls.as_ref(),
                )?;
                clients.push((signal, client));
            }
        }
        Ok(Self { runtime, clients })
    }

    /// The URL records of `signal` are sent to.
    pub fn endpoint_for(&self, signal: Signal) -> Option<&str> {
        self.clients
            .iter()
            .find(|(s, _)| *s == signal)
            .map(|(_, c)| c.endpoint())
    }
}

/// The base of an OTLP/HTTP endpoint: trailing slashes and a signal path (`/v1/traces`,
/// `/v1/metrics`, `/v1/logs`) removed, so `http://h:4318` and `http://h:4318/v1/traces` both
/// post each signal to its own path.
///
/// ```
/// use stellaops_telemetry_core::replay::http_base;
/// assert_eq!(http_base("http://127.0.0.1:4318/"), "http://127.0.0.1:4318");
/// assert_eq!(http_base("http://127.0.0.1:4318/v1/logs"), "http://127.0.0.1:4318");
/// assert_eq!(http_base("http://gw/otlp/v1/traces/"), "http://gw/otlp");
/// ```
pub fn http_base(endpoint: &str) -> &str {
    let trimmed = endpoint.trim_end_matches('/');
    stellaops_bundle_format::BUNDLE_ORDER
        .into_iter()
        .find_map(|s| trimmed.strip_suffix(&format!("/v1/{}", s.as_str())))
        .map_or(trimmed, |base| base.trim_end_matches('/'))
}

/// Decodes one framed record as its signal's export request.
///
/// # Errors
/// A permanent [`SendFailure`] naming the expected message type.
pub fn decode_record(signal: Signal, record: &[u8]) -> Result<ExportRequest, SendFailure> {
    let bad = |kind: &str, e: prost::DecodeError| {
        SendFailure::permanent(format!(
            "expected an {kind}, found bytes that do not decode: {e}"
        ))
    };
    match signal {
        Signal::Traces => ExportTraceServiceRequest::decode(record)
            .map(ExportRequest::Traces)
            .map_err(|e| bad("ExportTraceServiceRequest", e)),
        Signal::Metrics => ExportMetricsServiceRequest::decode(record)
            .map(ExportRequest::Metrics)
            .map_err(|e| bad("ExportMetricsServiceRequest", e)),
        Signal::Logs => ExportLogsServiceRequest::decode(record)
            .map(ExportRequest::Logs)
            .map_err(|e| bad("ExportLogsServiceRequest", e)),
    }
}

impl RecordSink for OtlpRecordSink {
    fn send(&mut self, signal: Signal, record: &[u8]) -> Result<(), SendFailure> {
        let request = decode_record(signal, record)?;
        let Some((_, client)) = self.clients.iter().find(|(s, _)| *s == signal) else {
            return Err(SendFailure::permanent(format!(
                "no OTLP client for signal {signal}"
            )));
        };
        self.runtime
            .block_on(client.send(&request))
            .map_err(SendFailure::from)
    }
}

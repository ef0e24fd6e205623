//! OTLP clients for one collector endpoint: gRPC (tonic, with the OTLP services' paths and
//! answer types) and HTTP/protobuf (hyper), both sending already-built export requests with a
//! timeout; the export requests themselves ([`ExportRequest`], [`EncodedLogs`],
//! [`EncodedTraces`]).
//!
//! `https://` endpoints use TLS (rustls, see [`crate::tls`]); `http://` ones plain TCP.
//!
//! Not a retry policy or a queue: the export worker decides what to do with a failure.

use super::connector::{OtlpConnector, TlsErrorSlot, describe_chain};
use crate::settings::{OtlpTarget, Protocol};
use crate::spool::LogClass;
use crate::tls::{ClientTlsConfig, TlsError};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use rustls::pki_types::ServerName;
use std::sync::Arc;
use std::time::Duration;

/// One export request of any signal. New forms may be added (`#[non_exhaustive]`): match on
/// [`ExportRequest::signal`] to tell the signals apart.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ExportRequest {
    /// Spans.
    Traces(ExportTraceServiceRequest),
    /// Metrics.
    Metrics(ExportMetricsServiceRequest),
    /// Log records.
    Logs(ExportLogsServiceRequest),
    /// Log records already encoded as protobuf (what the log layer's export worker makes):
    /// sent and spooled as they are, without building the proto structs.
    EncodedLogs(EncodedLogs),
    /// Spans already encoded as protobuf (what the span layer's export worker makes): sent
    /// and spooled as they are, without building the proto structs.
    EncodedTraces(EncodedTraces),
}

impl ExportRequest {
    /// The signal this request carries.
    pub fn signal(&self) -> stellaops_bundle_format::Signal {
        use stellaops_bundle_format::Signal;
        match self {
            ExportRequest::Traces(_) | ExportRequest::EncodedTraces(_) => Signal::Traces,
            ExportRequest::Metrics(_) => Signal::Metrics,
            ExportRequest::Logs(_) | ExportRequest::EncodedLogs(_) => Signal::Logs,
        }
    }

    /// The protobuf encoding (what OTLP/HTTP posts and the file exporter frames).
    pub fn encode(&self) -> Vec<u8> {
        match self {
            ExportRequest::Traces(r) => r.encode_to_vec(),
            ExportRequest::Metrics(r) => r.encode_to_vec(),
            ExportRequest::Logs(r) => r.encode_to_vec(),
            ExportRequest::EncodedLogs(r) => r.as_bytes().to_vec(),
            ExportRequest::EncodedTraces(r) => r.as_bytes().to_vec(),
        }
    }

    /// The protobuf encoding as [`Bytes`]: encoded here, or shared (not copied) for
    /// [`ExportRequest::EncodedLogs`] and [`ExportRequest::EncodedTraces`].
    pub fn encode_to_bytes(&self) -> Bytes {
        match self {
            ExportRequest::EncodedLogs(r) => r.bytes.clone(),
            ExportRequest::EncodedTraces(r) => r.bytes.clone(),
            _ => Bytes::from(self.encode()),
        }
    }

    /// How many spans, data points or log records it carries.
    pub fn item_count(&self) -> usize {
        match self {
            ExportRequest::Traces(r) => r
                .resource_spans
                .iter()
                .flat_map(|rs| &rs.scope_spans)
                .map(|ss| ss.spans.len())
                .sum(),
            ExportRequest::Metrics(r) => r
                .resource_metrics
                .iter()
                .flat_map(|rm| &rm.scope_metrics)
                .map(|sm| sm.metrics.len())
                .sum(),
            ExportRequest::Logs(r) => r
                .resource_logs
                .iter()
                .flat_map(|rl| &rl.scope_logs)
                .map(|sl| sl.log_records.len())
                .sum(),
            ExportRequest::EncodedLogs(r) => r.records,
            ExportRequest::EncodedTraces(r) => r.spans,
        }
    }
}

/// A logs export request already encoded as protobuf: an `ExportLogsServiceRequest` made of
/// one part per log retention class ([`LogClass`]), each part itself a complete request with
/// one `ResourceLogs` (concatenated protobuf messages are one message whose repeated fields
/// are joined). Built by the log layer's export worker; the spool writes each part to its
/// class stream without decoding it.
#[derive(Clone, PartialEq)]
pub struct EncodedLogs {
    /// The whole request.
    bytes: Bytes,
    /// Its parts, back to back, in [`LogClass::ALL`] order.
    parts: Vec<LogPart>,
    /// How many log records it holds.
    records: usize,
}

/// One part of an [`EncodedLogs`]: the records of one class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogPart {
    /// The class of every record of the part.
    pub(crate) class: LogClass,
    /// Where the part is in [`EncodedLogs::as_bytes`].
    pub(crate) range: std::ops::Range<usize>,
    /// The earliest and latest record time (Unix ns), as `records::logs_time_range` finds it.
    pub(crate) time: Option<(u64, u64)>,
}

impl EncodedLogs {
    /// A request of `records` log records made of `parts` of `bytes`.
    pub(crate) fn new(bytes: Bytes, parts: Vec<LogPart>, records: usize) -> Self {
        Self {
            bytes,
            parts,
            records,
        }
    }

    /// The encoded `ExportLogsServiceRequest`.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// How many log records it holds.
    pub fn record_count(&self) -> usize {
        self.records
    }

    /// The retention classes of its records, most severe first.
    pub fn classes(&self) -> impl Iterator<Item = LogClass> + '_ {
        self.parts.iter().map(|p| p.class)
    }

    /// The request decoded (for tests and tools; the export path never decodes it).
    ///
    /// # Errors
    /// [`prost::DecodeError`] when the bytes are not a request (not for a value this crate
    /// built).
    pub fn decode(&self) -> Result<ExportLogsServiceRequest, prost::DecodeError> {
        ExportLogsServiceRequest::decode(self.as_bytes())
    }

    /// Its parts, one per class.
    pub(crate) fn parts(&self) -> &[LogPart] {
        &self.parts
    }

    /// The bytes of `part` (empty for a part of another request).
    pub(crate) fn part_bytes(&self, part: &LogPart) -> &[u8] {
        self.bytes.get(part.range.clone()).unwrap_or_default()
    }

    /// The earliest and latest record time (Unix ns), or `None` without records.
    pub(crate) fn time_range(&self) -> Option<(u64, u64)> {
        self.parts
            .iter()
            .filter_map(|p| p.time)
            .reduce(|(a, b), (c, d)| (a.min(c), b.max(d)))
    }
}

impl std::fmt::Debug for EncodedLogs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncodedLogs")
            .field("len", &self.bytes.len())
            .field("parts", &self.parts)
            .field("records", &self.records)
            .finish()
    }
}

/// A traces export request already encoded as protobuf: one complete
/// `ExportTraceServiceRequest` (one `ResourceSpans`, one `ScopeSpans`), byte for byte what
/// prost makes of the request the structs would have formed. Built by the span layer's export
/// worker (`span_layer::encode`) from the kept span records.
#[derive(Clone, PartialEq)]
pub struct EncodedTraces {
    /// The whole request.
    bytes: Bytes,
    /// How many spans it holds.
    spans: usize,
    /// The earliest and latest span start time (Unix ns), as `records::time_range` finds it.
    time: Option<(u64, u64)>,
}

impl EncodedTraces {
    /// A request of `spans` spans, encoded in `bytes`, starting within `time`.
    pub(crate) fn new(bytes: Bytes, spans: usize, time: Option<(u64, u64)>) -> Self {
        Self { bytes, spans, time }
    }

    /// The encoded `ExportTraceServiceRequest`.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// How many spans it holds.
    pub fn span_count(&self) -> usize {
        self.spans
    }

    /// The request decoded (for tests and tools; the export path never decodes it).
    ///
    /// # Errors
    /// [`prost::DecodeError`] when the bytes are not a request (not for a value this crate
    /// built).
    pub fn decode(&self) -> Result<ExportTraceServiceRequest, prost::DecodeError> {
        ExportTraceServiceRequest::decode(self.as_bytes())
    }

    /// The earliest and latest span start time (Unix ns), or `None` without spans.
    pub(crate) fn time_range(&self) -> Option<(u64, u64)> {
        self.time
    }
}

impl std::fmt::Debug for EncodedTraces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncodedTraces")
            .field("len", &self.bytes.len())
            .field("spans", &self.spans)
            .field("time", &self.time)
            .finish()
    }
}

/// A gRPC codec that sends an already encoded request as it is and decodes the collector's
/// answer `U` with prost, as the generated clients' codec does.
struct RawCodec<U>(std::marker::PhantomData<U>);

/// The encoder of [`RawCodec`]: copies the request's bytes into the frame.
struct RawEncoder;

/// The decoder of [`RawCodec`]: the answer, with prost.
struct ProstAnswerDecoder<U>(std::marker::PhantomData<U>);

impl tonic::codec::Encoder for RawEncoder {
    type Item = Bytes;
    type Error = tonic::Status;

    fn encode(
        &mut self,
        item: Bytes,
        buf: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        bytes::BufMut::put_slice(buf, &item);
        Ok(())
    }
}

impl<U: Message + Default> tonic::codec::Decoder for ProstAnswerDecoder<U> {
    type Item = U;
    type Error = tonic::Status;

    fn decode(
        &mut self,
        buf: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<U>, tonic::Status> {
        // A parse error is INTERNAL, as the generated clients' codec says.
        U::decode(buf)
            .map(Some)
            .map_err(|e| tonic::Status::internal(e.to_string()))
    }
}

impl<U: Message + Default + Send + 'static> tonic::codec::Codec for RawCodec<U> {
    type Encode = Bytes;
    type Decode = U;
    type Encoder = RawEncoder;
    type Decoder = ProstAnswerDecoder<U>;

    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }

    fn decoder(&mut self) -> ProstAnswerDecoder<U> {
        ProstAnswerDecoder(std::marker::PhantomData)
    }
}

/// Sends `request` (an encoded `Export*ServiceRequest`) to the `Export` method of `service`
/// and decodes the answer as `U`: what the generated `*ServiceClient::export` does, without
/// encoding (or cloning) a request struct here.
async fn export_raw<U: Message + Default + Send + Sync + 'static>(
    channel: &tonic::transport::Channel,
    service: &'static str,
    path: &'static str,
    request: Bytes,
) -> Result<(), tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unknown(format!("Service was not ready: {e}")))?;
    let mut request = tonic::Request::new(request);
    request
        .extensions_mut()
        .insert(tonic::GrpcMethod::new(service, "Export"));
    grpc.unary::<Bytes, U, _>(
        request,
        http::uri::PathAndQuery::from_static(path),
        RawCodec::<U>(std::marker::PhantomData),
    )
    .await
    .map(drop)
}

/// Why a send failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OtlpSendError {
    /// The endpoint is not a usable URL.
    #[error("invalid OTLP endpoint {endpoint:?}: {detail}")]
    InvalidEndpoint {
        /// The endpoint.
        endpoint: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The collector answered with an error or could not be reached.
    #[error("OTLP {protocol} export to {endpoint} failed: {detail}")]
    Failed {
        /// `grpc` or `http/protobuf`.
        protocol: &'static str,
        /// The endpoint.
        endpoint: String,
        /// What happened.
        detail: String,
        /// Whether the OTLP specification calls this failure retryable: the collector could
        /// not be reached, gRPC `UNAVAILABLE`, `DEADLINE_EXCEEDED`, `RESOURCE_EXHAUSTED`,
        /// `ABORTED`, `CANCELLED`, `OUT_OF_RANGE` or `DATA_LOSS`, or HTTP 429, 502, 503, 504.
        transient: bool,
    },
    /// No answer within the timeout.
    #[error("OTLP export to {endpoint} timed out after {timeout:?}")]
    Timeout {
        /// The endpoint.
        endpoint: String,
        /// The timeout.
        timeout: Duration,
    },
}

impl OtlpSendError {
    /// Whether sending the same request again later may succeed (the OTLP specification's
    /// retryable failures and timeouts); `false` for a bad endpoint or a rejected request.
    pub fn is_transient(&self) -> bool {
        match self {
            OtlpSendError::InvalidEndpoint { .. } => false,
            OtlpSendError::Failed { transient, .. } => *transient,
            OtlpSendError::Timeout { .. } => true,
        }
    }
}

/// The gRPC status codes the OTLP specification lists as retryable.
fn grpc_code_is_transient(code: tonic::Code) -> bool {
    matches!(
        code,
        tonic::Code::Unavailable
            | tonic::Code::DeadlineExceeded
            | tonic::Code::ResourceExhausted
            | tonic::Code::Aborted
            | tonic::Code::Cancelled
            | tonic::Code::OutOfRange
            | tonic::Code::DataLoss
    )
}

/// The HTTP statuses the OTLP specification lists as retryable.
fn http_status_is_transient(status: http::StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

type HttpClient = hyper_util::client::legacy::Client<OtlpConnector, Full<Bytes>>;

/// TLS for one OTLP endpoint, built (PEM read and checked) from a [`ClientTlsConfig`] with the
/// ALPN protocol its wire protocol needs (`h2` for gRPC, `http/1.1` for OTLP/HTTP).
#[derive(Debug, Clone)]
pub struct OtlpTls {
    config: Arc<rustls::ClientConfig>,
    server_name: Option<ServerName<'static>>,
}

impl OtlpTls {
    /// Builds the rustls configuration for `protocol`.
    ///
    /// # Errors
    /// [`TlsError`] naming the PEM file and the setting it came from.
    pub fn build(config: &ClientTlsConfig, protocol: Protocol) -> Result<Self, TlsError> {
        let alpn: &[&[u8]] = match protocol {
            Protocol::Grpc => &[b"h2"],
            Protocol::HttpProtobuf => &[b"http/1.1"],
        };
        Ok(Self {
            config: Arc::new(config.build_client(alpn)?),
            server_name: config.parsed_server_name()?,
        })
    }
}

/// Whether `endpoint` asks for TLS (`https://`, any case).
pub fn endpoint_uses_tls(endpoint: &str) -> bool {
    endpoint
        .trim_start()
        .get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
}

/// A client for one endpoint. Creating it opens no connection; the first send does.
/// Must be created and used inside a Tokio runtime.
#[derive(Debug, Clone)]
pub enum OtlpClient {
    /// OTLP/gRPC.
    Grpc {
        /// The endpoint.
        endpoint: String,
        /// The lazily-connecting channel.
        channel: tonic::transport::Channel,
        /// Per-request timeout.
        timeout: Duration,
        /// TLS errors met after the handshake (explains a "connection closed").
        tls_errors: TlsErrorSlot,
    },
    /// OTLP/HTTP with protobuf bodies.
    Http {
        /// The full URL posted to.
        endpoint: String,
        /// The HTTP client.
        client: Box<HttpClient>,
        /// Per-request timeout.
        timeout: Duration,
        /// TLS errors met after the handshake (explains a "connection closed").
        tls_errors: TlsErrorSlot,
    },
}

impl OtlpClient {
    /// A client for `target`. No connection is attempted here. An `https://` endpoint trusts
    /// the `webpki-roots` CAs; use [`OtlpClient::with_tls`] for a CA bundle or mTLS.
    ///
    /// # Errors
    /// [`OtlpSendError::InvalidEndpoint`] when the endpoint is not a URL.
    pub fn new(target: &OtlpTarget, timeout: Duration) -> Result<Self, OtlpSendError> {
        Self::with_tls(target, timeout, None)
    }

    /// A client for `target` using `tls` for an `https://` endpoint (`None`: trust the
    /// `webpki-roots` CAs, no client certificate). `tls` is ignored for `http://`.
    ///
    /// # Errors
    /// [`OtlpSendError::InvalidEndpoint`] when the endpoint is not a URL.
    pub fn with_tls(
        target: &OtlpTarget,
        timeout: Duration,
        tls: Option<&OtlpTls>,
    ) -> Result<Self, OtlpSendError> {
        let invalid = |detail: String| OtlpSendError::InvalidEndpoint {
            endpoint: target.endpoint.clone(),
            detail,
        };
        let tls = if endpoint_uses_tls(&target.endpoint) {
            let tls = match tls {
                Some(tls) => tls.clone(),
                None => OtlpTls::build(&ClientTlsConfig::new(), target.protocol)
                    .map_err(|e| invalid(e.to_string()))?,
            };
            Some((tls.config, tls.server_name))
        } else {
            None
        };
        let connector = OtlpConnector::new(timeout, tls);
        let tls_errors = connector.tls_errors();
        match target.protocol {
            Protocol::Grpc => {
                let channel = tonic::transport::Endpoint::from_shared(target.endpoint.clone())
                    .map_err(|e| invalid(e.to_string()))?
                    .connect_timeout(timeout)
                    .timeout(timeout)
                    .connect_with_connector_lazy(connector);
                Ok(OtlpClient::Grpc {
                    endpoint: target.endpoint.clone(),
                    channel,
                    timeout,
                    tls_errors,
                })
            }
            Protocol::HttpProtobuf => {
                let _: http::Uri = target
                    .endpoint
                    .parse()
                    .map_err(|e: http::uri::InvalidUri| invalid(e.to_string()))?;
                let client = hyper_util::client::legacy::Client::builder(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .build(connector);
                Ok(OtlpClient::Http {
                    endpoint: target.endpoint.clone(),
                    client: Box::new(client),
                    timeout,
                    tls_errors,
                })
            }
        }
    }

    /// The endpoint this client sends to.
    pub fn endpoint(&self) -> &str {
        match self {
            OtlpClient::Grpc { endpoint, .. } | OtlpClient::Http { endpoint, .. } => endpoint,
        }
    }

    /// Sends one request and waits for the collector's answer (bounded by the timeout).
    ///
    /// # Errors
    /// [`OtlpSendError::Failed`] or [`OtlpSendError::Timeout`].
    pub async fn send(&self, request: &ExportRequest) -> Result<(), OtlpSendError> {
        let tls_errors = match self {
            OtlpClient::Grpc { tls_errors, .. } | OtlpClient::Http { tls_errors, .. } => tls_errors,
        };
        // Only TLS errors met while sending this request explain its failure.
        let _ = tls_errors.take();
        self.send_inner(request, tls_errors).await
    }

    async fn send_inner(
        &self,
        request: &ExportRequest,
        tls_errors: &TlsErrorSlot,
    ) -> Result<(), OtlpSendError> {
        // A connection-level failure (not an answer from the collector) after a TLS error on
        // the connection is that TLS error: say so.
        let explain = |detail: String, tls: bool| -> (String, bool) {
            if tls {
                return (detail, true);
            }
            match tls_errors.take() {
                Some(note) => (
                    format!("TLS: the connection failed after the handshake: {note} ({detail})"),
                    true,
                ),
                None => (detail, false),
            }
        };
        match self {
            OtlpClient::Grpc {
                endpoint,
                channel,
                timeout,
                ..
            } => {
                let fail = |detail: String, transient: bool| OtlpSendError::Failed {
                    protocol: "grpc",
                    endpoint: endpoint.clone(),
                    detail,
                    transient,
                };
                let result = tokio::time::timeout(*timeout, async {
                    match request {
                        ExportRequest::Traces(_) | ExportRequest::EncodedTraces(_) => {
                            export_raw::<ExportTraceServiceResponse>(
                                channel,
                                "opentelemetry.proto.collector.trace.v1.TraceService",
                                "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                                request.encode_to_bytes(),
                            )
                            .await
                        }
                        ExportRequest::Metrics(r) => {
                            export_raw::<ExportMetricsServiceResponse>(
                                channel,
                                "opentelemetry.proto.collector.metrics.v1.MetricsService",
                                "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
                                Bytes::from(r.encode_to_vec()),
                            )
                            .await
                        }
                        ExportRequest::Logs(_) | ExportRequest::EncodedLogs(_) => {
                            export_raw::<ExportLogsServiceResponse>(
                                channel,
                                "opentelemetry.proto.collector.logs.v1.LogsService",
                                "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
                                request.encode_to_bytes(),
                            )
                            .await
                        }
                    }
                })
                .await;
                match result {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(status)) => {
                        let mut detail = format!("{:?}: {}", status.code(), status.message());
                        let mut tls = false;
                        // A status with a source is the transport's, not the collector's answer.
                        if let Some(cause) = std::error::Error::source(&status) {
                            let (causes, is_tls) = describe_chain(cause);
                            if !detail.contains(&causes) {
                                detail = format!("{detail}: {causes}");
                            }
                            (detail, tls) = explain(detail, is_tls);
                        }
                        if tls && !detail.starts_with("TLS") {
                            detail = format!("TLS: {detail}");
                        }
                        // A certificate problem does not fix itself by sending again.
                        Err(fail(detail, !tls && grpc_code_is_transient(status.code())))
                    }
                    Err(_) => Err(OtlpSendError::Timeout {
                        endpoint: endpoint.clone(),
                        timeout: *timeout,
                    }),
                }
            }
            OtlpClient::Http {
                endpoint,
                client,
                timeout,
                ..
            } => {
                let fail = |detail: String, transient: bool| OtlpSendError::Failed {
                    protocol: "http/protobuf",
                    endpoint: endpoint.clone(),
                    detail,
                    transient,
                };
                let req = http::Request::post(endpoint.as_str())
                    .header(http::header::CONTENT_TYPE, "application/x-protobuf")
                    .body(Full::new(request.encode_to_bytes()))
                    .map_err(|e| fail(e.to_string(), false))?;
                let result = tokio::time::timeout(*timeout, async {
                    // A request that never got an answer (refused, reset) may be sent again.
                    let response = client.request(req).await.map_err(|e| {
                        let (detail, tls) = describe_chain(&e);
                        let (detail, tls) = explain(detail, tls);
                        fail(detail, !tls)
                    })?;
                    let status = response.status();
                    let body = response
                        .into_body()
                        .collect()
                        .await
                        .map(|b| b.to_bytes())
                        .unwrap_or_default();
                    if status.is_success() {
                        Ok(())
                    } else {
                        Err(fail(
                            format!("HTTP {status}: {}", String::from_utf8_lossy(&body)),
                            http_status_is_transient(status),
                        ))
                    }
                })
                .await;
                match result {
                    Ok(r) => r,
                    Err(_) => Err(OtlpSendError::Timeout {
                        endpoint: endpoint.clone(),
                        timeout: *timeout,
                    }),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_grpc_codes_follow_the_otlp_specification() {
        assert!(grpc_code_is_transient(tonic::Code::Unavailable));
        assert!(grpc_code_is_transient(tonic::Code::ResourceExhausted));
        assert!(!grpc_code_is_transient(tonic::Code::InvalidArgument));
        assert!(!grpc_code_is_transient(tonic::Code::Unauthenticated));
        assert!(!grpc_code_is_transient(tonic::Code::Ok));
    }

    #[test]
    fn retryable_http_statuses_follow_the_otlp_specification() {
        for code in [429u16, 502, 503, 504] {
            assert!(http_status_is_transient(
                http::StatusCode::from_u16(code).unwrap()
            ));
        }
        for code in [400u16, 401, 404, 413, 500] {
            assert!(!http_status_is_transient(
                http::StatusCode::from_u16(code).unwrap()
            ));
        }
    }
}

//! Exporters: OTLP gRPC and HTTP/protobuf clients, the local file exporter, and the per-signal
//! export worker that batches, routes through the egress guard and counts failures and drops.

mod connector;
mod destination;
mod file;
mod otlp;
pub(crate) mod worker;

pub use connector::{OtlpConnector, OtlpStream};
pub use destination::{Destination, EXPORTER_COMPONENT};
pub use file::{DEFAULT_KEEP_FILES, DEFAULT_ROTATE_BYTES, FileExportError, OtlpFileWriter};
pub(crate) use otlp::LogPart;
pub use otlp::{
    EncodedLogs, EncodedTraces, ExportRequest, OtlpClient, OtlpSendError, OtlpTls,
    endpoint_uses_tls,
};
pub use worker::{BatchConfig, BuildFn, ExportWorker};

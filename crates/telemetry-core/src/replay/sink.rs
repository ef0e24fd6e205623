//! Where replayed records go: the [`RecordSink`] trait and the [`SendFailure`] a send
//! reports (transient or permanent). The OTLP sink itself is in `otlp`.

use crate::export::OtlpSendError;
use std::fmt;
use stellaops_bundle_format::Signal;

/// Why one send failed, and whether sending it again may succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendFailure {
    transient: bool,
    message: String,
}

impl SendFailure {
    /// A failure worth retrying (collector unreachable, overloaded, timed out).
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            transient: true,
            message: message.into(),
        }
    }
    /// A failure that retrying cannot fix (the record was rejected).
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            transient: false,
            message: message.into(),
        }
    }
    /// Whether a retry may succeed.
    pub fn is_transient(&self) -> bool {
        self.transient
    }
    /// What happened.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for SendFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<OtlpSendError> for SendFailure {
    fn from(e: OtlpSendError) -> Self {
        Self {
            transient: e.is_transient(),
            message: e.to_string(),
        }
    }
}

/// Where replayed records go. `Ok` means the receiver acknowledged the record: it is never
/// sent again.
pub trait RecordSink {
    /// Sends one framed record's bytes (an `Export{Traces,Metrics,Logs}ServiceRequest`).
    ///
    /// # Errors
    /// A [`SendFailure`], transient or permanent.
    fn send(&mut self, signal: Signal, record: &[u8]) -> Result<(), SendFailure>;
}

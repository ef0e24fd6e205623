//! What a replay reports: per-signal [`SignalCounts`] in a [`ReplayReport`], or the
//! [`ReplayError`] that kept it from running, with stable machine codes.

use crate::export::OtlpSendError;
use crate::tls::TlsError;
use std::io;
use stellaops_bundle_format::{BundleError, Signal, VerifiedBundle};

/// What happened to one signal's records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignalCounts {
    /// Records in the bundle (the manifest's count).
    pub records: u64,
    /// Records the collector acknowledged (each exactly once).
    pub sent: u64,
    /// Records that needed at least one retry (sent or not in the end).
    pub retried: u64,
    /// Records not acknowledged: rejected, or not sent after the collector became unreachable.
    pub failed: u64,
}

/// The outcome of a replay.
#[derive(Debug, Clone)]
pub struct ReplayReport {
    pub(super) verified: VerifiedBundle,
    pub(super) counts: Vec<(Signal, SignalCounts)>,
    pub(super) gave_up: Option<String>,
}

impl ReplayReport {
    /// The verification result of the replayed bundle.
    pub fn verified(&self) -> &VerifiedBundle {
        &self.verified
    }
    /// Counts per replayed signal, in bundle order (signals absent from the bundle or not
    /// selected are not listed).
    pub fn counts(&self) -> &[(Signal, SignalCounts)] {
        &self.counts
    }
    /// The counts of one signal.
    pub fn signal(&self, signal: Signal) -> Option<&SignalCounts> {
        self.counts
            .iter()
            .find(|(s, _)| *s == signal)
            .map(|(_, c)| c)
    }
    /// Records not acknowledged, over every signal.
    pub fn failed(&self) -> u64 {
        self.counts.iter().map(|(_, c)| c.failed).sum()
    }
    /// Records acknowledged, over every signal.
    pub fn sent(&self) -> u64 {
        self.counts.iter().map(|(_, c)| c.sent).sum()
    }
    /// Why replay stopped sending early (the last transient failure), if it did.
    pub fn gave_up(&self) -> Option<&str> {
        self.gave_up.as_deref()
    }
}

/// Why a replay could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// The bundle failed verification; nothing was sent.
    #[error("bundle refused, nothing sent: {0}")]
    Bundle(#[from] BundleError),
    /// The bundle is intact but its signature was not verified against a trusted key, and
    /// the replayer was not told to accept that; nothing was sent.
    #[error(
        "bundle refused, nothing sent: signatures/manifest.sig: expected a signature verified by a trusted key, found {found}"
    )]
    Unverified {
        /// What was found (`an unsigned bundle`, `a signature not checked against any key`).
        found: &'static str,
    },
    /// The bundle file changed between verification and replay.
    #[error("the bundle changed while it was replayed: {detail}")]
    Changed {
        /// What differed.
        detail: String,
    },
    /// The OTLP client could not be built.
    #[error(transparent)]
    Endpoint(#[from] OtlpSendError),
    /// The TLS configuration for an `https://` collector is unusable (a file, a key).
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// A file system error.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        #[source]
        source: io::Error,
    },
}

impl ReplayError {
    /// A stable machine code: the bundle error's `bundle.*` code, `replay.unverified`,
    /// `replay.bundle_changed`, `replay.invalid_endpoint`, the TLS error's `telemetry.tls.*`
    /// or `replay.io`.
    pub fn code(&self) -> &'static str {
        match self {
            ReplayError::Bundle(e) => e.code(),
            ReplayError::Unverified { .. } => "replay.unverified",
            ReplayError::Changed { .. } => "replay.bundle_changed",
            ReplayError::Endpoint(_) => "replay.invalid_endpoint",
            ReplayError::Tls(e) => e.code(),
            ReplayError::Io { .. } => "replay.io",
        }
    }
}

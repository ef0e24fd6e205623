//! The one error type of the test kit: which peer failed, and what to do about it.

use std::path::PathBuf;
use std::time::Duration;

/// A peer could not be found, started or asked, or what a test waited for did not arrive.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PeerError {
    /// The peer's program is not installed where the kit looks for it.
    #[error(
        "{peer} not found at {path}: run scripts/install-peers.sh (the README's test command does)"
    )]
    NotInstalled {
        /// Which peer.
        peer: &'static str,
        /// Where the kit looked.
        path: PathBuf,
    },
    /// Starting or talking to the peer failed at the operating-system level.
    #[error("{peer}: {action}: {source}")]
    Io {
        /// Which peer.
        peer: &'static str,
        /// What the kit was doing.
        action: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The peer started but did not become ready in time.
    #[error("{peer} did not become ready within {waited:?}; its log says:\n{log}")]
    NotReady {
        /// Which peer.
        peer: &'static str,
        /// How long the kit waited.
        waited: Duration,
        /// The tail of the peer's log.
        log: String,
    },
    /// What a test waited for did not arrive in time.
    #[error("timed out after {waited:?} waiting for {what}; received so far: {seen}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long the kit waited.
        waited: Duration,
        /// A summary of what had arrived.
        seen: String,
    },
    /// A peer ran but its output could not be understood.
    #[error("{peer} output not understood: {detail}")]
    BadOutput {
        /// Which peer.
        peer: &'static str,
        /// What was wrong.
        detail: String,
    },
}

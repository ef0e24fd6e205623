//! The [`Spool`] handle and its shared state: accessors, the read-only guard and the stream
//! lookup. What a spool does is in sibling files, one `impl Spool` each: opening (`builder`),
//! writing (`append`), sealing, listing, pruning and holds, and capture.

use super::clock::Clock;
use super::config::SpoolConfig;
use super::error::SpoolError;
use super::holds::Hold;
use super::metrics::{SpoolMetrics, class_label};
use super::recovery::Recovery;
use super::retention::LogClass;
use super::stream::Stream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use stellaops_bundle_format::Signal;
/// Locks a mutex, recovering the data of a lock poisoned by a panic.
pub(super) use stellaops_telemetry_model::sync::lock;

/// What every clone of a [`Spool`] shares.
pub(super) struct Inner {
    pub(super) dir: PathBuf,
    pub(super) config: SpoolConfig,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) streams: Vec<Stream>,
    pub(super) holds: Mutex<Vec<Hold>>,
    pub(super) metrics: SpoolMetrics,
    pub(super) recovered: Vec<Recovery>,
    pub(super) read_only: bool,
}

/// The spool of one service. Cheap to clone (shared state); safe to use from every thread.
#[derive(Clone)]
pub struct Spool {
    pub(super) inner: Arc<Inner>,
}

impl std::fmt::Debug for Spool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spool")
            .field("dir", &self.inner.dir)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Spool {
    /// Refuses a write to a spool opened read-only.
    pub(super) fn writable(&self) -> Result<(), SpoolError> {
        if self.inner.read_only {
            return Err(SpoolError::ReadOnly {
                path: self.inner.dir.clone(),
            });
        }
        Ok(())
    }

    /// Whether this spool was opened read-only.
    pub fn is_read_only(&self) -> bool {
        self.inner.read_only
    }

    /// The spool directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The configuration.
    pub fn config(&self) -> &SpoolConfig {
        &self.inner.config
    }

    /// The spool's clock.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.inner.clock.clone()
    }

    /// The spool's metrics.
    pub fn metrics(&self) -> &SpoolMetrics {
        &self.inner.metrics
    }

    /// Segments recovered when this spool was opened.
    pub fn recovered(&self) -> &[Recovery] {
        &self.inner.recovered
    }

    /// The stream records of `signal` (and log `class`) are written to.
    pub(super) fn stream(
        &self,
        signal: Signal,
        class: Option<LogClass>,
    ) -> Result<&Stream, SpoolError> {
        self.inner
            .streams
            .iter()
            .find(|s| s.signal == signal && s.class == class)
            .ok_or_else(|| SpoolError::Io {
                path: self.inner.dir.clone(),
                action: "find the segment stream",
                source: std::io::Error::other(format!(
                    "no stream for {signal} {}",
                    class_label(signal, class)
                )),
            })
    }
}

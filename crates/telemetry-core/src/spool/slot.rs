//! The spool slot of a running service: the spool opened at start-up or on the first export
//! that needs it, shared by the export workers and `Telemetry`. Not a spool itself.

use super::clock::Clock;
use super::config::SpoolConfig;
use super::error::SpoolError;
use super::handle::{Spool, lock};
use super::metrics::SpoolMetrics;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The spool of a running service, opened at start-up or on first use (shared by the export
/// workers and `Telemetry`).
#[derive(Clone)]
pub(crate) struct SpoolSlot {
    inner: Arc<SlotInner>,
}

struct SlotInner {
    dir: PathBuf,
    config: SpoolConfig,
    clock: Arc<dyn Clock>,
    metrics: SpoolMetrics,
    cell: std::sync::OnceLock<Spool>,
    opening: Mutex<()>,
}

impl SpoolSlot {
    pub(crate) fn new(
        dir: PathBuf,
        config: SpoolConfig,
        clock: Arc<dyn Clock>,
        metrics: SpoolMetrics,
    ) -> Self {
        Self {
            inner: Arc::new(SlotInner {
                dir,
                config,
                clock,
                metrics,
                cell: std::sync::OnceLock::new(),
                opening: Mutex::new(()),
            }),
        }
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.inner.dir
    }

    pub(crate) fn metrics(&self) -> &SpoolMetrics {
        &self.inner.metrics
    }

    /// The spool if it is open.
    pub(crate) fn get(&self) -> Option<&Spool> {
        self.inner.cell.get()
    }

    /// The spool, opening it now if needed (a failed open is retried on the next call).
    pub(crate) fn get_or_open(&self) -> Result<&Spool, SpoolError> {
        if let Some(s) = self.inner.cell.get() {
            return Ok(s);
        }
        let _opening = lock(&self.inner.opening);
        if let Some(s) = self.inner.cell.get() {
            return Ok(s);
        }
        let spool = Spool::builder(self.inner.dir.clone())
            .config(self.inner.config.clone())
            .shared_clock(self.inner.clock.clone())
            .metrics(self.inner.metrics.clone())
            .open()?;
        Ok(self.inner.cell.get_or_init(|| spool))
    }
}

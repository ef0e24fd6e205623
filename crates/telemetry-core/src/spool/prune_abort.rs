//! The prune abort hook of this crate's own crash-safety tests: with the `test-hooks` cargo
//! feature, `PRUNE_ABORT_ENV` set to `N` makes a prune abort the process right after its
//! `N`-th deletion. Not for services: without the feature (the default) the variable is never
//! read and no abort path is compiled in.

/// With the `test-hooks` feature only (the crate's crash-safety tests): with this variable
/// set to `N`, a prune aborts the process (`std::process::abort`, as a kill would) right after
/// deleting its `N`-th segment.
#[cfg(feature = "test-hooks")]
pub const PRUNE_ABORT_ENV: &str = "STELLAOPS_TELEMETRY_SPOOL_TEST_ABORT_PRUNE_AFTER";

/// Counts one prune's deletions and aborts after the `N`-th when [`PRUNE_ABORT_ENV`] asks.
#[cfg(feature = "test-hooks")]
pub(super) struct PruneAbortHook {
    after: Option<u64>,
    deleted: u64,
}

#[cfg(feature = "test-hooks")]
impl PruneAbortHook {
    /// Reads [`PRUNE_ABORT_ENV`] (one environment lookup per prune).
    pub(super) fn new() -> Self {
        Self {
            after: std::env::var(PRUNE_ABORT_ENV)
                .ok()
                .and_then(|v| v.trim().parse().ok()),
            deleted: 0,
        }
    }

    /// Counts a deletion; aborts the process when it is the `N`-th.
    pub(super) fn deleted(&mut self) {
        self.deleted += 1;
        if self.after == Some(self.deleted) {
            std::process::abort();
        }
    }
}

/// Without the `test-hooks` feature: reads nothing, never aborts.
#[cfg(not(feature = "test-hooks"))]
pub(super) struct PruneAbortHook;

#[cfg(not(feature = "test-hooks"))]
impl PruneAbortHook {
    /// The hook that does nothing.
    pub(super) fn new() -> Self {
        Self
    }

    /// Does nothing.
    pub(super) fn deleted(&mut self) {}
}

//! The prune abort hook of this crate's own crash-safety tests: [`PRUNE_ABORT_ENV`] set to
//! `N` makes a prune abort the process right after its `N`-th deletion. Not for services.

/// Test hook for crash-safety tests: with this variable set to `N`, a prune aborts the
/// process (`std::process::abort`, as a kill would) right after deleting its `N`-th segment.
/// Unset (the only sensible production setting), it costs one environment lookup per prune.
pub const PRUNE_ABORT_ENV: &str = "STELLAOPS_TELEMETRY_SPOOL_TEST_ABORT_PRUNE_AFTER";

/// Counts one prune's deletions and aborts after the `N`-th when [`PRUNE_ABORT_ENV`] asks.
pub(super) struct PruneAbortHook {
    after: Option<u64>,
    deleted: u64,
}

impl PruneAbortHook {
    /// Reads [`PRUNE_ABORT_ENV`].
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

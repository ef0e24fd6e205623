//! What the sampler decides about a trace ([`Decision`], with its keep or drop reason), why
//! it decided early ([`EarlyCause`]), and the counters of those decisions ([`SamplerStats`]).
//!
//! Not the decision rules (`engine`).

/// Why a trace is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeepReason {
    /// A span has error status.
    Error,
    /// The trace lasted at least the slow threshold.
    Slow,
    /// Its tenant is in forensic (incident) mode.
    Forensic,
    /// A span has `audit=true`.
    Audit,
    /// The upstream service sampled it.
    Upstream,
    /// The trace-id ratio chose it.
    Ratio,
}

/// Why a trace is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DropReason {
    /// The trace-id ratio did not choose it.
    Ratio,
    /// The upstream service did not sample it
    /// ([`UpstreamPolicy::Follow`](super::UpstreamPolicy::Follow)).
    Upstream,
}

/// A trace's fate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Decision {
    /// Export its spans.
    Keep(KeepReason),
    /// Discard its spans.
    Drop(DropReason),
}

/// Every decision, in the order of the metric label table.
pub const DECISIONS: [Decision; 8] = [
    Decision::Keep(KeepReason::Error),
    Decision::Keep(KeepReason::Slow),
    Decision::Keep(KeepReason::Forensic),
    Decision::Keep(KeepReason::Audit),
    Decision::Keep(KeepReason::Upstream),
    Decision::Keep(KeepReason::Ratio),
    Decision::Drop(DropReason::Ratio),
    Decision::Drop(DropReason::Upstream),
];

impl Decision {
    /// Whether the spans are exported.
    pub fn is_keep(self) -> bool {
        matches!(self, Self::Keep(_))
    }

    /// The `decision` label: `keep` or `drop`.
    pub fn decision_label(self) -> &'static str {
        if self.is_keep() { "keep" } else { "drop" }
    }

    /// The `reason` label: `error`, `slow`, `forensic`, `audit`, `upstream` or `ratio`.
    pub fn reason_label(self) -> &'static str {
        match self {
            Self::Keep(KeepReason::Error) => "error",
            Self::Keep(KeepReason::Slow) => "slow",
            Self::Keep(KeepReason::Forensic) => "forensic",
            Self::Keep(KeepReason::Audit) => "audit",
            Self::Keep(KeepReason::Upstream) | Self::Drop(DropReason::Upstream) => "upstream",
            Self::Keep(KeepReason::Ratio) | Self::Drop(DropReason::Ratio) => "ratio",
        }
    }

    pub(super) fn index(self) -> usize {
        DECISIONS.iter().position(|d| *d == self).unwrap_or(0)
    }
}

/// Why a trace was decided before its local root ended plus the grace period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EarlyCause {
    /// `max_traces` traces were buffered and a new one arrived.
    TracesFull,
    /// `max_spans` spans were buffered and another arrived.
    SpansFull,
    /// The trace waited `max_wait`.
    MaxWait,
}

/// Every early cause, in label order.
pub const EARLY_CAUSES: [EarlyCause; 3] = [
    EarlyCause::TracesFull,
    EarlyCause::SpansFull,
    EarlyCause::MaxWait,
];

impl EarlyCause {
    /// The `cause` label: `traces_full`, `spans_full` or `max_wait`.
    pub fn label(self) -> &'static str {
        match self {
            Self::TracesFull => "traces_full",
            Self::SpansFull => "spans_full",
            Self::MaxWait => "max_wait",
        }
    }

    pub(super) fn index(self) -> usize {
        match self {
            Self::TracesFull => 0,
            Self::SpansFull => 1,
            Self::MaxWait => 2,
        }
    }
}

/// Counters of a sampler since it started, and its current occupancy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SamplerStats {
    /// Traces decided, by decision (index as in [`DECISIONS`]). A dropped trace whose late
    /// span flipped it to keep is counted once under each.
    pub traces: [u64; 8],
    /// Spans exported or discarded, by the decision that applied to them.
    pub spans: [u64; 8],
    /// Early decisions, by cause (index as in [`EARLY_CAUSES`]).
    pub early: [u64; 3],
    /// Dropped decisions flipped to keep by a late error (or slow, audit, forensic) span.
    pub flipped_to_keep: u64,
    /// Traces buffered now.
    pub in_flight_traces: usize,
    /// Spans buffered now.
    pub buffered_spans: usize,
    /// Decisions remembered now.
    pub cached_decisions: usize,
}

impl SamplerStats {
    /// Traces decided as `decision`.
    pub fn traces_with(&self, decision: Decision) -> u64 {
        self.traces.get(decision.index()).copied().unwrap_or(0)
    }

    /// Spans that followed `decision`.
    pub fn spans_with(&self, decision: Decision) -> u64 {
        self.spans.get(decision.index()).copied().unwrap_or(0)
    }

    /// Early decisions for `cause`.
    pub fn early_for(&self, cause: EarlyCause) -> u64 {
        self.early.get(cause.index()).copied().unwrap_or(0)
    }

    /// Traces kept, all reasons.
    pub fn traces_kept(&self) -> u64 {
        DECISIONS
            .iter()
            .filter(|d| d.is_keep())
            .map(|d| self.traces_with(*d))
            .sum()
    }

    /// Traces dropped, all reasons.
    pub fn traces_dropped(&self) -> u64 {
        DECISIONS
            .iter()
            .filter(|d| !d.is_keep())
            .map(|d| self.traces_with(*d))
            .sum()
    }
}

//! Why something was redacted: [`Reason`], the [`ReasonSet`] bitset and the [`Report`] a
//! redaction call returns. All three are `Copy` and allocation-free, so the hot path can
//! return them on every attribute and log line. Counting them is [`crate::ScrubMetrics`]' job.

use std::fmt;

/// Why a value, a span of text or a key was redacted.
///
/// The names ([`Reason::as_str`]) are the `reason` label of
/// `telemetry_scrub_events_total{tenant,reason}` and the reason tags on scrubbed records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Reason {
    /// A secret detector matched: a credential, token, key or password was masked.
    Secret,
    /// A personal-data detector matched: an e-mail address or a payment card number.
    Pii,
    /// The value was longer than the policy's `max_value_length` and was truncated.
    Length,
    /// The key matched a blocked key or key pattern, so its whole value was replaced.
    Pattern,
    /// Allow-list mode: the key is not on the allow-list, so it was dropped.
    NotAllowed,
}

impl Reason {
    /// Every reason, in bit order.
    pub const ALL: [Reason; 5] = [
        Reason::Secret,
        Reason::Pii,
        Reason::Length,
        Reason::Pattern,
        Reason::NotAllowed,
    ];

    /// The stable name: `secret`, `pii`, `length`, `pattern` or `not_allowed`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::Secret => "secret",
            Reason::Pii => "pii",
            Reason::Length => "length",
            Reason::Pattern => "pattern",
            Reason::NotAllowed => "not_allowed",
        }
    }

    const fn bit(self) -> u8 {
        match self {
            Reason::Secret => 1,
            Reason::Pii => 1 << 1,
            Reason::Length => 1 << 2,
            Reason::Pattern => 1 << 3,
            Reason::NotAllowed => 1 << 4,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of [`Reason`]s, one bit each.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ReasonSet(u8);

impl ReasonSet {
    /// The empty set.
    pub const EMPTY: ReasonSet = ReasonSet(0);

    /// A set holding one reason.
    #[must_use]
    pub const fn only(reason: Reason) -> Self {
        ReasonSet(reason.bit())
    }

    /// Adds a reason.
    pub fn insert(&mut self, reason: Reason) {
        self.0 |= reason.bit();
    }

    /// Whether the set holds `reason`.
    #[must_use]
    pub const fn contains(self, reason: Reason) -> bool {
        self.0 & reason.bit() != 0
    }

    /// Whether the set is empty.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The union of two sets.
    #[must_use]
    pub const fn union(self, other: ReasonSet) -> ReasonSet {
        ReasonSet(self.0 | other.0)
    }

    /// The reasons in the set, in the order of [`Reason::ALL`].
    pub fn iter(self) -> impl Iterator<Item = Reason> {
        Reason::ALL.into_iter().filter(move |r| self.contains(*r))
    }
}

impl fmt::Debug for ReasonSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl FromIterator<Reason> for ReasonSet {
    fn from_iter<I: IntoIterator<Item = Reason>>(iter: I) -> Self {
        let mut set = ReasonSet::EMPTY;
        for reason in iter {
            set.insert(reason);
        }
        set
    }
}

/// What one redaction call changed: the reasons (empty when nothing changed) and whether a
/// value was replaced by a salted hash.
///
/// A caller tags the record `scrubbed=true` when [`Report::scrubbed`] holds, adds the reason
/// tags, `hashed=true` when [`Report::hashed`] holds, and hands the report to
/// [`crate::ScrubMetrics::record`].
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Report {
    reasons: ReasonSet,
    hashed: bool,
}

impl Report {
    /// The report of a call that changed nothing.
    pub const CLEAN: Report = Report {
        reasons: ReasonSet::EMPTY,
        hashed: false,
    };

    /// A report with one reason.
    #[must_use]
    pub const fn with_reason(reason: Reason) -> Self {
        Report {
            reasons: ReasonSet::only(reason),
            hashed: false,
        }
    }

    /// Whether anything was redacted.
    #[must_use]
    pub const fn scrubbed(self) -> bool {
        !self.reasons.is_empty()
    }

    /// Why.
    #[must_use]
    pub const fn reasons(self) -> ReasonSet {
        self.reasons
    }

    /// Whether at least one value was replaced by its salted SHA-256 hash.
    #[must_use]
    pub const fn hashed(self) -> bool {
        self.hashed
    }

    /// Adds a reason.
    pub fn add(&mut self, reason: Reason) {
        self.reasons.insert(reason);
    }

    /// Records that a hash replaced a value.
    pub fn mark_hashed(&mut self) {
        self.hashed = true;
    }

    /// Folds another report into this one.
    pub fn merge(&mut self, other: Report) {
        self.reasons = self.reasons.union(other.reasons);
        self.hashed |= other.hashed;
    }
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Report")
            .field("scrubbed", &self.scrubbed())
            .field("reasons", &self.reasons)
            .field("hashed", &self.hashed)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_names_are_the_label_values() {
        let names: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(names, ["secret", "pii", "length", "pattern", "not_allowed"]);
    }

    #[test]
    fn report_merges_reasons_and_hash_flag() {
        let mut report = Report::CLEAN;
        assert!(!report.scrubbed());
        report.merge(Report::with_reason(Reason::Pii));
        let mut hashed = Report::with_reason(Reason::Pattern);
        hashed.mark_hashed();
        report.merge(hashed);
        assert!(report.scrubbed());
        assert!(report.hashed());
        assert_eq!(
            report.reasons().iter().collect::<Vec<_>>(),
            [Reason::Pii, Reason::Pattern]
        );
        assert_eq!(
            format!("{report:?}"),
            "Report { scrubbed: true, reasons: {Pii, Pattern}, hashed: true }"
        );
    }
}

//! The privacy budget: how much privacy loss (epsilon) one tenant's data may spend per period.
//!
//! Every aggregation charges its epsilon; once the remaining budget is smaller than a query's
//! epsilon, aggregation is suppressed until the next period starts. Accounting is in integer
//! micro-epsilon, so no rounding drift decides whether a query fits. Periods are aligned to the
//! Unix epoch (a 24 h period is a UTC day). Not a scheduler: the budget resets when it is next
//! asked after the period ends.

use crate::clock::format_time;
use crate::error::FederationError;
use chrono::{DateTime, TimeDelta, Utc};

/// One epsilon in the budget's integer unit.
const MICROS: f64 = 1_000_000.0;

/// Converts a validated epsilon to micro-epsilon (at least 1).
pub(crate) fn to_micros(name: &str, epsilon: f64) -> Result<u64, FederationError> {
    if !(epsilon.is_finite() && epsilon > 0.0) {
        return Err(FederationError::options(format!(
            "expected {name} to be a finite number greater than 0, found {epsilon}"
        )));
    }
    let micros = (epsilon * MICROS).round();
    if !(1.0..=1e15).contains(&micros) {
        return Err(FederationError::options(format!(
            "expected {name} between 0.000001 and 1000000000, found {epsilon}"
        )));
    }
    Ok(micros as u64)
}

fn from_micros(micros: u64) -> f64 {
    micros as f64 / MICROS
}

/// A per-period epsilon budget (the reference implementation's privacy budget: default
/// epsilon 1.0 per 24 h).
#[derive(Debug, Clone)]
pub struct PrivacyBudget {
    total: u64,
    period_secs: i64,
    period_index: Option<i64>,
    spent: u64,
    queries: u64,
    suppressions: u64,
}

/// The budget as seen at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetReport {
    /// Epsilon left in this period.
    pub remaining: f64,
    /// Epsilon per period.
    pub total: f64,
    /// Whether the next query (of the epsilon asked for) would be suppressed; without a query
    /// size, whether nothing is left.
    pub exhausted: bool,
    /// Queries charged in this period.
    pub queries: u64,
    /// Queries suppressed in this period because the budget was exhausted.
    pub suppressions: u64,
    /// When this period started.
    pub period_start: DateTime<Utc>,
    /// When the budget resets.
    pub resets_at: DateTime<Utc>,
}

impl PrivacyBudget {
    /// A budget of `total_epsilon` per `period` (whole seconds, at least one).
    ///
    /// ```
    /// use chrono::{DateTime, TimeDelta};
    /// use stellaops_federation::PrivacyBudget;
    /// let mut budget = PrivacyBudget::new(1.0, TimeDelta::hours(24))?;
    /// let noon = DateTime::from_timestamp(1_772_625_600, 0).unwrap(); // 2026-03-04T12:00:00Z
    /// assert!(budget.try_spend(0.6, noon)?);
    /// assert!(!budget.try_spend(0.6, noon)?); // 0.4 left: suppressed
    /// let report = budget.report(noon);
    /// assert_eq!((report.queries, report.suppressions), (1, 1));
    /// assert_eq!(report.resets_at.to_rfc3339(), "2026-03-05T00:00:00+00:00");
    /// assert!(budget.try_spend(0.6, report.resets_at)?); // a new UTC day
    /// # Ok::<(), stellaops_federation::FederationError>(())
    /// ```
    ///
    /// # Errors
    /// [`FederationError::InvalidOptions`] for a non-positive or non-finite epsilon, or a
    /// period shorter than one second or not in whole seconds.
    pub fn new(total_epsilon: f64, period: TimeDelta) -> Result<Self, FederationError> {
        let total = to_micros("the epsilon budget", total_epsilon)?;
        let period_secs = period.num_seconds();
        if period_secs < 1 || period.subsec_nanos() != 0 {
            return Err(FederationError::options(format!(
                "expected a budget period of whole seconds, at least 1 s, found {period}"
            )));
        }
        Ok(Self {
            total,
            period_secs,
            period_index: None,
            spent: 0,
            queries: 0,
            suppressions: 0,
        })
    }

    /// Charges `epsilon` at `now` if it fits in what is left of the current period (and counts
    /// a query), else counts a suppression. Returns whether it was charged.
    ///
    /// # Errors
    /// [`FederationError::InvalidOptions`] for a non-positive or non-finite `epsilon`.
    pub fn try_spend(&mut self, epsilon: f64, now: DateTime<Utc>) -> Result<bool, FederationError> {
        let cost = to_micros("the query epsilon", epsilon)?;
        self.roll(now);
        if self.total.saturating_sub(self.spent) >= cost {
            self.spent += cost;
            self.queries += 1;
            Ok(true)
        } else {
            self.suppressions += 1;
            Ok(false)
        }
    }

    /// The budget at `now` (a period that has ended reads as fresh).
    pub fn report(&self, now: DateTime<Utc>) -> BudgetReport {
        self.report_for(now, 1)
    }

    /// The budget at `now`, `exhausted` meaning a query of `epsilon` would be suppressed.
    pub fn report_for_query(&self, epsilon: f64, now: DateTime<Utc>) -> BudgetReport {
        self.report_for(now, to_micros("epsilon", epsilon).unwrap_or(u64::MAX))
    }

    fn report_for(&self, now: DateTime<Utc>, cost: u64) -> BudgetReport {
        let index = self.index(now);
        let (spent, queries, suppressions) = if self.period_index == Some(index) {
            (self.spent, self.queries, self.suppressions)
        } else {
            (0, 0, 0)
        };
        let remaining = self.total.saturating_sub(spent);
        let start = index.saturating_mul(self.period_secs);
        let at = |secs: i64| DateTime::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::MAX_UTC);
        BudgetReport {
            remaining: from_micros(remaining),
            total: from_micros(self.total),
            exhausted: remaining < cost,
            queries,
            suppressions,
            period_start: at(start),
            resets_at: at(start.saturating_add(self.period_secs)),
        }
    }

    fn index(&self, now: DateTime<Utc>) -> i64 {
        now.timestamp().div_euclid(self.period_secs)
    }

    fn roll(&mut self, now: DateTime<Utc>) {
        let index = self.index(now);
        if self.period_index != Some(index) {
            self.period_index = Some(index);
            self.spent = 0;
            self.queries = 0;
            self.suppressions = 0;
        }
    }
}

impl std::fmt::Display for BudgetReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "epsilon {} of {} left ({} queries, {} suppressed){}; resets at {}",
            self.remaining,
            self.total,
            self.queries,
            self.suppressions,
            if self.exhausted { ", exhausted" } else { "" },
            format_time(self.resets_at)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    const DAY: i64 = 86_400;
    const MIDNIGHT: i64 = 1_772_582_400; // 2026-03-04T00:00:00Z

    #[test]
    fn exhaustion_suppresses_until_the_period_resets() {
        let mut b = PrivacyBudget::new(1.0, TimeDelta::hours(24)).unwrap();
        let now = t(MIDNIGHT + 3600);
        for _ in 0..4 {
            assert!(b.try_spend(0.25, now).unwrap());
        }
        let r = b.report_for_query(0.25, now);
        assert_eq!(r.remaining, 0.0);
        assert!(r.exhausted);
        assert!(!b.try_spend(0.25, now).unwrap());
        assert!(!b.try_spend(0.000001, t(MIDNIGHT + DAY - 1)).unwrap());
        let r = b.report(t(MIDNIGHT + DAY - 1));
        assert_eq!((r.queries, r.suppressions, r.exhausted), (4, 2, true));
        assert_eq!(r.period_start, t(MIDNIGHT));
        assert_eq!(r.resets_at, t(MIDNIGHT + DAY));
        assert_eq!(
            r.to_string(),
            "epsilon 0 of 1 left (4 queries, 2 suppressed), exhausted; resets at \
             2026-03-05T00:00:00Z"
        );

        // The next UTC day: fresh.
        let next = t(MIDNIGHT + DAY);
        let r = b.report(next);
        assert_eq!(
            (r.remaining, r.queries, r.suppressions, r.exhausted),
            (1.0, 0, 0, false)
        );
        assert!(b.try_spend(1.0, next).unwrap());
        assert!(b.report(next).exhausted);
    }

    #[test]
    fn tenths_add_up_exactly() {
        // 10 x 0.1 is not 1.0 in floating point; in micro-epsilon it is.
        let mut b = PrivacyBudget::new(1.0, TimeDelta::hours(1)).unwrap();
        for _ in 0..10 {
            assert!(b.try_spend(0.1, t(MIDNIGHT)).unwrap());
        }
        assert!(!b.try_spend(0.1, t(MIDNIGHT)).unwrap());
    }

    #[test]
    fn refuses_bad_parameters() {
        for (eps, period) in [
            (0.0, TimeDelta::hours(1)),
            (f64::NAN, TimeDelta::hours(1)),
            (1e-9, TimeDelta::hours(1)),
            (1.0, TimeDelta::zero()),
            (1.0, TimeDelta::milliseconds(1500)),
            (1.0, TimeDelta::hours(-1)),
        ] {
            let err = PrivacyBudget::new(eps, period).unwrap_err();
            assert_eq!(err.code(), "federation.options.invalid");
        }
        let mut b = PrivacyBudget::new(1.0, TimeDelta::hours(1)).unwrap();
        assert!(b.try_spend(-1.0, t(0)).is_err());
    }

    proptest! {
        /// Whatever the sequence of queries and times, no period ever spends more than its
        /// budget, and queries + suppressions counts every call of the period.
        #[test]
        fn never_overspends_a_period(
            queries in proptest::collection::vec((1u64..600_000, 0i64..4 * 3600), 1..40)
        ) {
            let mut b = PrivacyBudget::new(1.0, TimeDelta::hours(1)).unwrap();
            let mut sorted = queries;
            sorted.sort_by_key(|q| q.1);
            let mut per_period: std::collections::BTreeMap<i64, (u64, u64)> = Default::default();
            for (micros, offset) in sorted {
                let now = t(MIDNIGHT + offset);
                let eps = micros as f64 / 1e6;
                let charged = b.try_spend(eps, now).unwrap();
                let entry = per_period.entry(offset / 3600).or_default();
                if charged { entry.0 += micros; }
                entry.1 += 1;
                let r = b.report(now);
                prop_assert_eq!(r.queries + r.suppressions, entry.1);
                prop_assert!(r.remaining >= 0.0);
            }
            for (spent, _) in per_period.values() {
                prop_assert!(*spent <= 1_000_000);
            }
        }
    }
}

//! The cardinality guard: label values trimmed to 64 characters, and a cap on distinct values
//! per metric label past which values fold into one overflow value, counted.
//!
//! Not a rate limiter: values already admitted always pass.

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::{Arc, RwLock};
use stellaops_telemetry_model::sync::{read, write};

/// Longest label value kept; longer values are cut at a character boundary.
pub const MAX_LABEL_VALUE_CHARS: usize = 64;
/// Default cap on distinct values per metric label.
pub const DEFAULT_MAX_VALUES_PER_LABEL: usize = 1000;
/// The value that stands for every value past the cap.
pub const OVERFLOW_VALUE: &str = "__overflow__";

/// A label value admitted by the guard (cheap to clone).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LabelValue(Arc<str>);

impl LabelValue {
    /// The value as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl EncodeLabelValue for LabelValue {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.write_str(&self.0)
    }
}

/// Labels of `telemetry_label_overflow_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct OverflowLabels {
    /// The metric whose label overflowed.
    pub metric: String,
    /// The label that overflowed.
    pub label: String,
}

/// A (metric, label) pair.
type MetricLabel = (&'static str, &'static str);

/// Admits label values for every metric of a catalogue.
#[derive(Debug)]
pub struct CardinalityGuard {
    max_values: usize,
    seen: RwLock<HashMap<MetricLabel, HashSet<Arc<str>>>>,
    overflow: Family<OverflowLabels, Counter>,
}

impl CardinalityGuard {
    /// A guard allowing `max_values` distinct values per metric label.
    pub fn new(max_values: usize) -> Self {
        Self {
            max_values,
            seen: RwLock::default(),
            overflow: Family::default(),
        }
    }

    /// The counter of values folded into [`OVERFLOW_VALUE`], by metric and label.
    pub fn overflow_counter(&self) -> &Family<OverflowLabels, Counter> {
        &self.overflow
    }

    /// Admits `raw` as a value of `label` on `metric`: trimmed to 64 characters, and folded
    /// into [`OVERFLOW_VALUE`] (counting the fold) once the label already has the maximum
    /// number of distinct values.
    pub fn admit(&self, metric: &'static str, label: &'static str, raw: &str) -> LabelValue {
        let value = trim(raw);
        let key = (metric, label);
        {
            let seen = read(&self.seen);
            if let Some(known) = seen.get(&key).and_then(|set| set.get(value)) {
                return LabelValue(known.clone());
            }
        }
        let mut seen = write(&self.seen);
        let set = seen.entry(key).or_default();
        if let Some(known) = set.get(value) {
            return LabelValue(known.clone());
        }
        if set.len() >= self.max_values {
            drop(seen);
            self.overflow
                .get_or_create(&OverflowLabels {
                    metric: metric.to_owned(),
                    label: label.to_owned(),
                })
                .inc();
            return LabelValue(Arc::from(OVERFLOW_VALUE));
        }
        let admitted: Arc<str> = Arc::from(value);
        set.insert(admitted.clone());
        LabelValue(admitted)
    }

    /// How many distinct values `label` of `metric` holds.
    pub fn distinct(&self, metric: &'static str, label: &'static str) -> usize {
        let seen = read(&self.seen);
        seen.get(&(metric, label)).map_or(0, HashSet::len)
    }
}

impl Default for CardinalityGuard {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_VALUES_PER_LABEL)
    }
}

fn trim(raw: &str) -> &str {
    match raw.char_indices().nth(MAX_LABEL_VALUE_CHARS) {
        Some((cut, _)) => raw.get(..cut).unwrap_or(raw),
        None => raw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_trimmed_to_64_characters_at_a_char_boundary() {
        let guard = CardinalityGuard::default();
        let long = "é".repeat(100);
        let v = guard.admit("m", "l", &long);
        assert_eq!(v.as_str().chars().count(), 64);
        assert_eq!(guard.admit("m", "l", "short").as_str(), "short");
    }

    #[test]
    fn past_the_cap_values_fold_and_the_fold_is_counted() {
        let guard = CardinalityGuard::new(2);
        assert_eq!(guard.admit("m", "tenant", "a").as_str(), "a");
        assert_eq!(guard.admit("m", "tenant", "b").as_str(), "b");
        assert_eq!(guard.admit("m", "tenant", "c").as_str(), OVERFLOW_VALUE);
        assert_eq!(guard.admit("m", "tenant", "d").as_str(), OVERFLOW_VALUE);
        assert_eq!(
            guard.admit("m", "tenant", "a").as_str(),
            "a",
            "admitted values still pass"
        );
        assert_eq!(
            guard.admit("other", "tenant", "c").as_str(),
            "c",
            "caps are per metric"
        );
        let folded = guard
            .overflow_counter()
            .get_or_create(&OverflowLabels {
                metric: "m".into(),
                label: "tenant".into(),
            })
            .get();
        assert_eq!(folded, 2);
        assert_eq!(guard.distinct("m", "tenant"), 2);
    }
}

//! Time differences as exact nanoseconds and as hours: the one conversion every DORA
//! computation reports hours through, so the same two times always give the same `f64`. Not
//! for choosing events by time: see [`crate::Window`].

use chrono::{DateTime, TimeDelta, Utc};

/// A duration in whole nanoseconds, exact for every difference of two representable times.
pub(crate) fn duration_nanos(delta: TimeDelta) -> i128 {
    i128::from(delta.num_seconds()) * 1_000_000_000 + i128::from(delta.subsec_nanos())
}

/// `later - earlier` in hours. Every computation that reports hours converts through here, so
/// the same two times always give the same `f64`.
pub fn hours_between(earlier: DateTime<Utc>, later: DateTime<Utc>) -> f64 {
    nanos_to_hours(duration_nanos(later - earlier))
}

/// Nanoseconds as hours.
pub(crate) fn nanos_to_hours(nanos: i128) -> f64 {
    nanos as f64 / 3_600e9
}

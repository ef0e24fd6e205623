//! Where "now" comes from for consent and bundles: consent grants, expiry checks, privacy
//! budget periods and bundle creation times all ask a [`Clock`]; tests inject a [`FixedClock`].
//!
//! Not a scheduler: nothing here waits or wakes up.

use chrono::{DateTime, TimeDelta, Utc};
use std::fmt::Debug;
use std::sync::{PoisonError, RwLock};

/// A source of the current time.
pub trait Clock: Send + Sync + Debug {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to: for tests and for replaying a day of federation.
#[derive(Debug)]
pub struct FixedClock {
    now: RwLock<DateTime<Utc>>,
}

impl FixedClock {
    /// A clock standing at `now`.
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            now: RwLock::new(now),
        }
    }

    /// Moves the clock to `now` (backwards too).
    pub fn set(&self, now: DateTime<Utc>) {
        *self.now.write().unwrap_or_else(PoisonError::into_inner) = now;
    }

    /// Moves the clock forward by `by` (saturating at the largest representable time).
    pub fn advance(&self, by: TimeDelta) {
        let mut now = self.now.write().unwrap_or_else(PoisonError::into_inner);
        *now = now
            .checked_add_signed(by)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.read().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}

/// Times in consent and bundle payloads are written in one form only, RFC 3339 UTC with
/// whole seconds (`2026-03-04T10:00:00Z`), so identical logical input gives identical bytes.
pub(crate) fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `time` without its sub-second part (payload times have whole seconds).
pub(crate) fn whole_seconds(time: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(time.timestamp(), 0).unwrap_or(time)
}

/// Parses a payload time, accepting only the form [`format_time`] writes.
pub(crate) fn parse_time(field: &str, text: &str) -> Result<DateTime<Utc>, String> {
    let parsed = DateTime::parse_from_rfc3339(text)
        .map_err(|e| format!("expected `{field}` as RFC 3339 UTC time, found `{text}`: {e}"))?
        .with_timezone(&Utc);
    if format_time(parsed) != text {
        return Err(format!(
            "expected `{field}` as `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds), found `{text}`"
        ));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_moves_only_when_told() {
        let t = DateTime::from_timestamp(1_772_618_400, 0).unwrap();
        let clock = FixedClock::new(t);
        assert_eq!(clock.now(), t);
        clock.advance(TimeDelta::hours(2));
        assert_eq!(clock.now(), t + TimeDelta::hours(2));
        clock.set(t);
        assert_eq!(clock.now(), t);
        clock.advance(TimeDelta::MAX);
        assert_eq!(clock.now(), DateTime::<Utc>::MAX_UTC);
    }

    #[test]
    fn times_have_one_written_form() {
        let t = DateTime::from_timestamp(1_772_618_400, 123_000_000).unwrap();
        assert_eq!(format_time(whole_seconds(t)), "2026-03-04T10:00:00Z");
        assert_eq!(
            parse_time("grantedAt", "2026-03-04T10:00:00Z").unwrap(),
            whole_seconds(t)
        );
        for bad in [
            "2026-03-04T10:00:00.123Z",
            "2026-03-04T11:00:00+01:00",
            "2026-03-04 10:00:00Z",
            "yesterday",
        ] {
            let err = parse_time("grantedAt", bad).unwrap_err();
            assert!(err.contains("grantedAt") && err.contains(bad), "{err}");
        }
    }
}

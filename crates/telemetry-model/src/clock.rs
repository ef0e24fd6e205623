//! The one clock of the workspace: [`Clock`] says what time it is (Unix nanoseconds, or as a
//! UTC time); [`SystemClock`] reads the system clock, [`ManualClock`] moves only when told, so
//! tests and reproducible runs never read the wall clock or sleep. [`Sleep`] is the separate
//! wait, for the few callers that pace themselves (bundle replay).
//!
//! Not a timer: nothing here wakes anybody up; callers ask for the time when they need it.

use chrono::{DateTime, TimeDelta, Utc};
use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where "now" comes from.
///
/// Implement [`Clock::now_nanos`]; [`Clock::now`] follows from it.
pub trait Clock: Send + Sync + Debug {
    /// Nanoseconds since the Unix epoch (0 for times before it).
    fn now_nanos(&self) -> u64;

    /// The current time in UTC.
    fn now(&self) -> DateTime<Utc> {
        nanos_to_utc(self.now_nanos())
    }
}

/// Waiting on a clock, injected so that pacing code runs in tests without real sleeps: after
/// `sleep(d)` the clock reads at least `d` later.
pub trait Sleep: Clock {
    /// Waits for `duration`.
    fn sleep(&self, duration: Duration);
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now_nanos(&self) -> u64 {
        (**self).now_nanos()
    }
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now_nanos(&self) -> u64 {
        (**self).now_nanos()
    }
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}

impl<S: Sleep + ?Sized> Sleep for Arc<S> {
    fn sleep(&self, duration: Duration) {
        (**self).sleep(duration);
    }
}

impl<S: Sleep + ?Sized> Sleep for &S {
    fn sleep(&self, duration: Duration) {
        (**self).sleep(duration);
    }
}

/// Nanoseconds since the Unix epoch as a UTC time (saturating at the largest time `chrono`
/// can hold in nanoseconds, in the year 2262).
pub fn nanos_to_utc(nanos: u64) -> DateTime<Utc> {
    DateTime::from_timestamp_nanos(i64::try_from(nanos).unwrap_or(i64::MAX))
}

/// A UTC time as nanoseconds since the Unix epoch (0 before the epoch, saturating after 2554).
pub fn utc_to_nanos(time: DateTime<Utc>) -> u64 {
    match time.timestamp_nanos_opt() {
        Some(n) => u64::try_from(n).unwrap_or(0),
        None if time.timestamp() > 0 => u64::MAX,
        None => 0,
    }
}

/// A system time as nanoseconds since the Unix epoch (0 before the epoch).
pub fn unix_nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// A duration in nanoseconds, saturating.
pub fn duration_nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_nanos(&self) -> u64 {
        unix_nanos(SystemTime::now())
    }
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

impl Sleep for SystemClock {
    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// A step a [`ManualClock`] moves by: a [`std::time::Duration`] or a `chrono` [`TimeDelta`]
/// (which may be negative: the clock then moves back, stopping at the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    forward: bool,
    nanos: u64,
}

impl From<Duration> for Step {
    fn from(duration: Duration) -> Self {
        Self {
            forward: true,
            nanos: duration_nanos(duration),
        }
    }
}

impl From<TimeDelta> for Step {
    fn from(delta: TimeDelta) -> Self {
        let forward = delta >= TimeDelta::zero();
        let magnitude = delta.abs().to_std().map_or(u64::MAX, duration_nanos);
        Self {
            forward,
            nanos: magnitude,
        }
    }
}

/// A clock that moves only when set or advanced (and, as a [`Sleep`], when slept on: a sleep
/// advances it by the duration and is remembered, so a test can read back how its code paced
/// itself). Clones share one time line, so a test keeps a clone to move the clock it handed
/// to the code under test; reads and moves are atomic.
#[derive(Debug, Default, Clone)]
pub struct ManualClock(Arc<ManualTime>);

#[derive(Debug, Default)]
struct ManualTime {
    nanos: AtomicU64,
    sleeps: Mutex<Vec<Duration>>,
}

impl ManualClock {
    /// A clock standing at `time`.
    pub fn new(time: DateTime<Utc>) -> Self {
        Self::at_unix_nanos(utc_to_nanos(time))
    }

    /// A clock standing at `nanos` since the Unix epoch.
    pub fn at_unix_nanos(nanos: u64) -> Self {
        Self(Arc::new(ManualTime {
            nanos: AtomicU64::new(nanos),
            sleeps: Mutex::new(Vec::new()),
        }))
    }

    /// A clock standing at `time`.
    pub fn at(time: SystemTime) -> Self {
        Self::at_unix_nanos(unix_nanos(time))
    }

    /// Moves the clock by `by` (forward for a [`Duration`]; either way for a [`TimeDelta`]),
    /// saturating at the ends of the range.
    pub fn advance(&self, by: impl Into<Step>) {
        let step = by.into();
        let _ = self
            .0
            .nanos
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| {
                Some(if step.forward {
                    now.saturating_add(step.nanos)
                } else {
                    now.saturating_sub(step.nanos)
                })
            });
    }

    /// Sets the clock to `time`.
    pub fn set(&self, time: DateTime<Utc>) {
        self.set_unix_nanos(utc_to_nanos(time));
    }

    /// Sets the clock to `nanos` since the Unix epoch.
    pub fn set_unix_nanos(&self, nanos: u64) {
        self.0.nanos.store(nanos, Ordering::SeqCst);
    }

    /// Every sleep asked of this clock, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        crate::sync::lock(&self.0.sleeps).clone()
    }
}

impl Clock for ManualClock {
    fn now_nanos(&self) -> u64 {
        self.0.nanos.load(Ordering::SeqCst)
    }
}

impl Sleep for ManualClock {
    fn sleep(&self, duration: Duration) {
        crate::sync::lock(&self.0.sleeps).push(duration);
        self.advance(duration);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let t = at("2026-03-04T10:00:00Z");
        let clock = ManualClock::new(t);
        assert_eq!(clock.now(), t);
        clock.advance(TimeDelta::hours(2));
        assert_eq!(clock.now(), t + TimeDelta::hours(2));
        clock.advance(Duration::from_millis(1500));
        assert_eq!(
            clock.now(),
            t + TimeDelta::hours(2) + TimeDelta::milliseconds(1500)
        );
        clock.advance(TimeDelta::hours(-2));
        clock.set(t);
        assert_eq!(clock.now(), t);
        clock.advance(TimeDelta::MAX);
        assert_eq!(clock.now_nanos(), u64::MAX);
        clock.advance(TimeDelta::MIN);
        assert_eq!(clock.now_nanos(), 0);
    }

    #[test]
    fn sleeping_on_a_manual_clock_advances_it_and_is_remembered() {
        let clock = ManualClock::default();
        clock.sleep(Duration::from_millis(250));
        clock.sleep(Duration::from_secs(1));
        assert_eq!(clock.now_nanos(), 1_250_000_000);
        assert_eq!(
            clock.sleeps(),
            vec![Duration::from_millis(250), Duration::from_secs(1)]
        );
    }

    #[test]
    fn clones_share_one_time_line() {
        let clock = ManualClock::at_unix_nanos(10);
        let handle = clock.clone();
        handle.advance(Duration::from_nanos(5));
        assert_eq!(clock.now_nanos(), 15);
    }

    #[test]
    fn system_clock_agrees_with_itself() {
        let nanos = SystemClock.now_nanos();
        let utc = SystemClock.now();
        assert!(utc_to_nanos(utc) >= nanos);
        assert!(utc_to_nanos(utc) - nanos < 60_000_000_000);
    }

    #[test]
    fn clocks_behind_pointers_are_clocks() {
        let clock = Arc::new(ManualClock::at_unix_nanos(42));
        let shared: Arc<dyn Clock> = clock.clone();
        assert_eq!(shared.now_nanos(), 42);
        fn read(clock: impl Clock) -> u64 {
            clock.now_nanos()
        }
        assert_eq!(read(&*clock), 42);
    }

    proptest! {
        #[test]
        fn nanos_and_utc_round_trip(nanos in 0u64..i64::MAX as u64) {
            prop_assert_eq!(utc_to_nanos(nanos_to_utc(nanos)), nanos);
        }
    }
}

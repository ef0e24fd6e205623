//! The replay's monotonic time and sleeping ([`ReplayClock`]): the system clock, and
//! [`ManualClock`] so tests replay without real sleeps. Not the spool's wall clock.

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

/// Monotonic time and sleeping, injected so tests replay without real sleeps.
pub trait ReplayClock {
    /// Time elapsed since an arbitrary fixed start.
    fn now(&self) -> Duration;
    /// Waits for `duration`.
    fn sleep(&self, duration: Duration);
}

/// The real clock: [`Instant`] and [`std::thread::sleep`].
#[derive(Debug, Clone, Copy)]
pub struct SystemReplayClock {
    start: Instant,
}

impl Default for SystemReplayClock {
    fn default() -> Self {
        Self {
            start: Instant::now(),
        }
    }
}

impl ReplayClock for SystemReplayClock {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }
    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// A clock that only moves when slept on or advanced, and remembers every sleep.
#[derive(Debug, Default)]
pub struct ManualClock {
    now: Cell<Duration>,
    sleeps: RefCell<Vec<Duration>>,
}

impl ManualClock {
    /// A clock at zero.
    pub fn new() -> Self {
        Self::default()
    }
    /// Moves the clock forward without recording a sleep (time spent sending).
    pub fn advance(&self, by: Duration) {
        self.now.set(self.now.get().saturating_add(by));
    }
    /// Every sleep so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.sleeps.borrow().clone()
    }
}

impl ReplayClock for ManualClock {
    fn now(&self) -> Duration {
        self.now.get()
    }
    fn sleep(&self, duration: Duration) {
        self.sleeps.borrow_mut().push(duration);
        self.advance(duration);
    }
}

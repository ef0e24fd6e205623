//! Poison-tolerant locking: telemetry keeps working after a thread panicked while holding a
//! lock, because the data behind every lock here stays consistent between statements.
//!
//! Not a lock type of its own: these are the standard library's locks, read past poisoning.

use std::sync::{
    Condvar, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard,
};
use std::time::Duration;

/// Locks `mutex`, taking the guard even when another thread panicked while holding it.
pub fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Read-locks `lock`, taking the guard even when a writer panicked while holding it.
pub fn read<T: ?Sized>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

/// Write-locks `lock`, taking the guard even when another thread panicked while holding it.
pub fn write<T: ?Sized>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

/// The data of a mutex held exclusively, even when another thread panicked while holding it.
pub fn get_mut<T: ?Sized>(mutex: &mut Mutex<T>) -> &mut T {
    mutex.get_mut().unwrap_or_else(PoisonError::into_inner)
}

/// Waits on `condvar` for at most `timeout`, taking the guard back even when another thread
/// panicked while holding the lock. Returns the guard and whether the wait timed out.
pub fn wait_timeout<'a, T>(
    condvar: &Condvar,
    guard: MutexGuard<'a, T>,
    timeout: Duration,
) -> (MutexGuard<'a, T>, bool) {
    let (guard, result) = condvar
        .wait_timeout(guard, timeout)
        .unwrap_or_else(PoisonError::into_inner);
    (guard, result.timed_out())
}

/// Waits on `condvar` while `condition` holds, for at most `timeout`, taking the guard back
/// even when another thread panicked while holding the lock. Returns the guard and whether the
/// wait timed out.
pub fn wait_timeout_while<'a, T, F>(
    condvar: &Condvar,
    guard: MutexGuard<'a, T>,
    timeout: Duration,
    condition: F,
) -> (MutexGuard<'a, T>, bool)
where
    F: FnMut(&mut T) -> bool,
{
    let (guard, result) = condvar
        .wait_timeout_while(guard, timeout, condition)
        .unwrap_or_else(PoisonError::into_inner);
    (guard, result.timed_out())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_panic_while_locked_does_not_lock_others_out() {
        let shared = Arc::new((Mutex::new(1), RwLock::new(2)));
        let poisoner = Arc::clone(&shared);
        let joined = std::thread::spawn(move || {
            let _m = poisoner.0.lock();
            let _w = poisoner.1.write();
            panic!("poison both");
        })
        .join();
        assert!(joined.is_err());
        assert!(shared.0.is_poisoned() && shared.1.is_poisoned());
        *lock(&shared.0) += 1;
        *write(&shared.1) += 1;
        assert_eq!((*lock(&shared.0), *read(&shared.1)), (2, 3));
    }

    #[test]
    fn waits_time_out_and_say_so() {
        let pair = (Mutex::new(0), Condvar::new());
        let (guard, timed_out) = wait_timeout(&pair.1, lock(&pair.0), Duration::from_millis(1));
        assert!(timed_out);
        drop(guard);
        let (guard, timed_out) =
            wait_timeout_while(&pair.1, lock(&pair.0), Duration::from_secs(5), |v| *v != 0);
        assert!(!timed_out, "the condition is already false: no wait");
        drop(guard);
        let mut owned = Mutex::new(1);
        *get_mut(&mut owned) += 1;
        assert_eq!(*lock(&owned), 2);
    }
}

//! Poison-tolerant locking: telemetry keeps working after a thread panicked while holding a
//! lock, because the data behind every lock here stays consistent between statements.
//!
//! Not a lock type of its own: these are the standard library's locks, read past poisoning.

use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

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
}

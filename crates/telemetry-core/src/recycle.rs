//! Buffer recycling between the threads that fill records (the service's threads) and the
//! threads that consume them (export workers, the tail sampler's housekeeping).
//!
//! A trace's buffer of span records, a captured event or a log record is filled on a service
//! thread and freed on a background thread. With glibc's allocator that pattern is costly on both sides (the freeing thread
//! keeps the chunks in its own cache, the allocating thread falls to the arena's slow paths
//! and touches fresh pages), and it was measured as a large share of the per-span and
//! per-line cost (`benches/workload.rs`). A [`Recycler`] instead hands emptied buffers back:
//! each thread keeps a small stash, and stashes exchange buffers with one shared list in
//! batches, so a lock is taken once per [`BATCH`] buffers.
//!
//! Span records themselves hold their attributes and text inline (`span_layer`): a recycled
//! buffer comes back from another core cold, and for data that small the first write into
//! it cost more than the allocation it saved.
//!
//! Not a general object pool: what is recycled must be emptied by its owner first, and
//! buffers that grew large are dropped, not kept.

use std::cell::RefCell;
use std::sync::Mutex;
use std::thread::LocalKey;
use stellaops_telemetry_model::sync::lock;

/// Buffers moved between a thread's stash and the shared list at once.
pub(crate) const BATCH: usize = 32;

/// A thread's stash of spare buffers of one kind (declare one with `thread_local!`).
pub(crate) type Stash<T> = RefCell<Vec<T>>;

/// Spare buffers of one kind, shared by every thread (see the module docs).
pub(crate) struct Recycler<T: 'static> {
    spare: Mutex<Vec<T>>,
    stash: &'static LocalKey<Stash<T>>,
    max_spare: usize,
}

impl<T: 'static> Recycler<T> {
    /// A recycler keeping at most `max_spare` buffers in the shared list, with per-thread
    /// stashes in `stash`.
    pub(crate) const fn new(stash: &'static LocalKey<Stash<T>>, max_spare: usize) -> Self {
        Self {
            spare: Mutex::new(Vec::new()),
            stash,
            max_spare,
        }
    }

    /// A spare buffer, if there is one (this thread's stash first, then a batch from the
    /// shared list). `None` also when the thread's stash is unavailable (in use further up the
    /// stack, or already destroyed).
    pub(crate) fn take(&self) -> Option<T> {
        self.stash
            .try_with(|stash| {
                let mut stash = stash.try_borrow_mut().ok()?;
                if stash.is_empty() {
                    let mut spare = lock(&self.spare);
                    let from = spare.len().saturating_sub(BATCH);
                    stash.extend(spare.drain(from..));
                }
                stash.pop()
            })
            .ok()
            .flatten()
    }

    /// Keeps an emptied buffer for reuse (dropped when every list is full or the thread's
    /// stash is unavailable).
    pub(crate) fn give(&self, buffer: T) {
        let _ = self.stash.try_with(|stash| {
            let Ok(mut stash) = stash.try_borrow_mut() else {
                return;
            };
            stash.push(buffer);
            if stash.len() >= 2 * BATCH {
                let mut spare = lock(&self.spare);
                let room = self.max_spare.saturating_sub(spare.len()).min(BATCH);
                let from = stash.len() - BATCH;
                spare.extend(stash.drain(from..).take(room));
            }
        });
    }

    /// How many buffers the shared list holds (tests).
    #[cfg(test)]
    pub(crate) fn shared_len(&self) -> usize {
        lock(&self.spare).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        static STASH: Stash<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    static POOL: Recycler<Vec<u8>> = Recycler::new(&STASH, 3 * BATCH);

    #[test]
    fn buffers_given_on_one_thread_are_taken_on_another_and_the_shared_list_is_bounded() {
        std::thread::spawn(|| {
            for _ in 0..10 * BATCH {
                POOL.give(Vec::with_capacity(16));
            }
        })
        .join()
        .unwrap_or_else(|_| panic!("giver panicked"));
        // The giving thread's stash died with it; what reached the shared list is bounded.
        assert_eq!(POOL.shared_len(), 3 * BATCH);
        let taken = std::thread::spawn(|| {
            let mut n = 0;
            while let Some(b) = POOL.take() {
                assert_eq!(b.capacity(), 16, "a recycled buffer keeps its capacity");
                n += 1;
            }
            n
        })
        .join()
        .unwrap_or_else(|_| panic!("taker panicked"));
        assert_eq!(taken, 3 * BATCH);
        assert_eq!(POOL.shared_len(), 0);
    }
}

//! The size limits that bound what a hostile bundle can make a reader do ([`Limits`]), and
//! the reader that enforces the decompressed-size and compression-ratio limits as bytes
//! stream past. Not where the per-entry limits are checked: that is the archive walk.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

/// Size limits that bound what a hostile bundle can make a reader do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest payload file (tar entry) accepted. Default 64 GiB.
    pub max_entry_size: u64,
    /// Largest `manifest.json` / `signatures/manifest.sig`. Default 16 MiB.
    pub max_metadata_size: u64,
    /// Largest decompressed archive. Default 256 GiB.
    pub max_total_size: u64,
    /// Largest ratio of decompressed to compressed bytes (after the first
    /// [`Limits::ratio_slack`] bytes). Default 200.
    pub max_ratio: u64,
    /// Decompressed bytes allowed before the ratio applies. Default 4 MiB.
    pub ratio_slack: u64,
    /// Largest OTLP record. Default [`crate::framing::DEFAULT_MAX_RECORD_SIZE`].
    pub max_record_size: u32,
    /// Most entries in the archive. Default 10 000.
    pub max_entries: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_entry_size: 64 << 30,
            max_metadata_size: 16 << 20,
            max_total_size: 256 << 30,
            max_ratio: 200,
            ratio_slack: 4 << 20,
            max_record_size: crate::framing::DEFAULT_MAX_RECORD_SIZE,
            max_entries: 10_000,
        }
    }
}

/// Marks an I/O error raised by a [`Limits`] check.
#[derive(Debug)]
pub(super) struct LimitHit(pub(super) String);
impl std::fmt::Display for LimitHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for LimitHit {}

/// Decompressed bytes, checked against the total-size and ratio limits.
pub(super) struct GuardedReader<'a, R> {
    pub(super) inner: &'a mut R,
    pub(super) raw_count: Rc<Cell<u64>>,
    pub(super) count: u64,
    pub(super) limits: Limits,
}

impl<R: Read> Read for GuardedReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        if self.count > self.limits.max_total_size {
            return Err(io::Error::other(LimitHit(format!(
                "expected at most {} decompressed bytes, found more",
                self.limits.max_total_size
            ))));
        }
        let raw = self.raw_count.get().max(1);
        if self.count > self.limits.ratio_slack && self.count / raw > self.limits.max_ratio {
            return Err(io::Error::other(LimitHit(format!(
                "expected a compression ratio of at most {}:1, found {} decompressed bytes from {raw} compressed (a decompression bomb?)",
                self.limits.max_ratio, self.count
            ))));
        }
        Ok(n)
    }
}

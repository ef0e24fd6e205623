//! Listing what the spool holds: the segments of a signal overlapping a window (capture and
//! pruning read these) and [`SpoolStats`]. Not the parsing of file names (`segment`).

use super::error::SpoolError;
use super::handle::{Spool, lock};
use super::segment::{SegmentInfo, list, millis_to_time};
use super::stream::Stream;
use crate::window::Window;
use chrono::{DateTime, Utc};
use stellaops_bundle_format::Signal;

/// Per-signal numbers of [`SpoolStats`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignalStats {
    /// Segments on disk (sealed and open).
    pub segments: usize,
    /// Their bytes.
    pub bytes: u64,
}

/// What the spool holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpoolStats {
    /// Per signal (`logs`, `metrics`, `traces` order).
    pub signals: Vec<(Signal, SignalStats)>,
    /// Bytes of every segment.
    pub total_bytes: u64,
    /// Incident holds in force.
    pub holds: usize,
}

impl Spool {
    /// Segments of `signal` whose record time range overlaps `window`, by sequence number;
    /// includes the open segment.
    ///
    /// # Errors
    /// [`SpoolError::Io`] when the directory cannot be listed.
    pub fn segments(
        &self,
        signal: Signal,
        window: &Window,
    ) -> Result<Vec<SegmentInfo>, SpoolError> {
        Ok(self
            .all_segments(signal)?
            .into_iter()
            .filter(|s| s.overlaps(window))
            .collect())
    }

    /// Every segment of `signal`: stream by stream (legacy `logs/` first, then each log
    /// class, most severe first), each by sequence number, its open segment last.
    pub(super) fn all_segments(&self, signal: Signal) -> Result<Vec<SegmentInfo>, SpoolError> {
        let mut out = Vec::new();
        for stream in self.inner.streams.iter().filter(|s| s.signal == signal) {
            self.stream_segments(stream, &mut out)?;
        }
        Ok(out)
    }

    fn stream_segments(
        &self,
        stream: &Stream,
        out: &mut Vec<SegmentInfo>,
    ) -> Result<(), SpoolError> {
        let (signal, class) = (stream.signal, stream.class);
        let state = lock(&stream.state);
        if !state.ready && !state.dir.is_dir() {
            return Ok(());
        }
        for entry in list(&state.dir)? {
            let (from, to, sealed) = match (entry.sealed, entry.range, &state.open) {
                (true, Some((f, t)), _) => (millis_to_time(f), millis_to_time(t), true),
                (false, _, Some(open)) if open.seq == entry.seq => match open.range {
                    Some((f, t)) => (millis_to_time(f), millis_to_time(t), false),
                    None => continue,
                },
                // Another process's open segment: its range is unknown until sealed.
                (false, _, _) if self.inner.read_only => {
                    (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, false)
                }
                _ => continue,
            };
            let size = std::fs::metadata(&entry.path).map_or(0, |m| m.len());
            out.push(SegmentInfo {
                signal,
                log_class: class,
                seq: entry.seq,
                path: entry.path,
                from,
                to,
                size,
                sealed,
            });
        }
        Ok(())
    }

    /// Segment counts and sizes per signal, total bytes and holds.
    ///
    /// # Errors
    /// [`SpoolError::Io`] when a directory cannot be listed.
    pub fn stats(&self) -> Result<SpoolStats, SpoolError> {
        let mut stats = SpoolStats {
            holds: lock(&self.inner.holds).len(),
            ..SpoolStats::default()
        };
        for signal in stellaops_bundle_format::BUNDLE_ORDER {
            let segs = self.all_segments(signal)?;
            let s = SignalStats {
                segments: segs.len(),
                bytes: segs.iter().map(|s| s.size).sum(),
            };
            stats.total_bytes += s.bytes;
            stats.signals.push((signal, s));
        }
        Ok(stats)
    }
}

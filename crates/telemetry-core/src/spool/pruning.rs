//! Pruning and incident holds: sealed segments deleted past their retention, then oldest
//! first over the size cap, except what a hold keeps; [`PruneReport`] says what went. Only
//! whole sealed files are deleted, never rewritten, so a crash mid-prune loses nothing that
//! is still in retention.

use super::error::SpoolError;
use super::fsutil::remove;
use super::handle::{Spool, lock};
use super::holds::{self, Hold};
use super::metrics::class_label;
use super::prune_abort::PruneAbortHook;
use super::retention::LogClass;
use super::segment::SegmentInfo;
use chrono::{DateTime, TimeDelta, Utc};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::Duration;
use stellaops_bundle_format::BundleSignal;
use stellaops_bundle_format::Signal;
use stellaops_bundle_format::framing::RecordReader;

/// What one prune removed of one signal and class for one reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrunedGroup {
    /// `retention` or `size_cap`.
    pub reason: &'static str,
    /// The signal.
    pub signal: Signal,
    /// The log class (`None`: traces, metrics, or legacy mixed-class logs).
    pub log_class: Option<LogClass>,
    /// Segments deleted.
    pub segments: usize,
    /// Their bytes.
    pub bytes: u64,
    /// OTLP export records (frames) they held.
    pub records: u64,
}

/// What one [`Spool::prune`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// What was deleted, per reason, signal and class (in that order).
    pub removed: Vec<PrunedGroup>,
    /// Segments deleted because their retention passed.
    pub expired: Vec<PathBuf>,
    /// Segments deleted, oldest first, to get under the size cap.
    pub over_cap: Vec<PathBuf>,
    /// Segments kept past retention or the cap because a hold covers them.
    pub held: usize,
    /// Bytes over the cap the spool still holds because of holds (0 when under the cap).
    pub held_over_cap_bytes: u64,
    /// Holds dropped because every segment they could cover is past its hold retention.
    pub holds_expired: usize,
}

impl PruneReport {
    /// The group of `reason`, `signal` and `class`, if anything of it was deleted.
    pub fn group(
        &self,
        reason: &str,
        signal: Signal,
        class: Option<LogClass>,
    ) -> Option<&PrunedGroup> {
        self.removed
            .iter()
            .find(|g| g.reason == reason && g.signal == signal && g.log_class == class)
    }

    fn count(&mut self, reason: &'static str, segment: &SegmentInfo, records: u64) {
        let (signal, log_class) = (segment.signal, segment.log_class);
        let index = match self
            .removed
            .iter()
            .position(|g| g.reason == reason && g.signal == signal && g.log_class == log_class)
        {
            Some(i) => i,
            None => {
                self.removed.push(PrunedGroup {
                    reason,
                    signal,
                    log_class,
                    segments: 0,
                    bytes: 0,
                    records: 0,
                });
                self.removed.len() - 1
            }
        };
        if let Some(group) = self.removed.get_mut(index) {
            group.segments += 1;
            group.bytes += segment.size;
            group.records += records;
        }
    }
}

impl Spool {
    /// Adds an incident hold (persisted in `holds.json` before returning): segments
    /// overlapping `[start, end]` are kept [`SpoolConfig::hold_retention`] after their end,
    /// over the retention and over the size cap. Adding the same hold twice is a no-op.
    ///
    /// # Errors
    /// [`SpoolError::InvalidHold`] when `end < start`; [`SpoolError::Io`] when the file
    /// cannot be written (the hold is then not added).
    ///
    /// [`SpoolConfig::hold_retention`]: super::SpoolConfig::hold_retention
    pub fn add_hold(
        &self,
        tenant: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<(), SpoolError> {
        self.writable()?;
        if end < start {
            return Err(SpoolError::InvalidHold {
                tenant: tenant.to_owned(),
                start,
                end,
            });
        }
        let hold = Hold {
            tenant: tenant.to_owned(),
            start,
            end,
        };
        let mut holds = lock(&self.inner.holds);
        if holds.contains(&hold) {
            return Ok(());
        }
        let mut next = holds.clone();
        next.push(hold);
        next.sort();
        holds::save(&self.inner.dir, &next)?;
        *holds = next;
        tracing::info!(
            tenant,
            start = %start,
            end = %end,
            "spool incident hold added: overlapping segments are kept past retention and the size cap"
        );
        Ok(())
    }

    /// The holds in force.
    pub fn holds(&self) -> Vec<Hold> {
        lock(&self.inner.holds).clone()
    }

    /// Deletes sealed segments past retention, then the oldest sealed segments while the
    /// spool is over its size cap. Segments a hold covers are kept until
    /// [`SpoolConfig::hold_retention`] after their end, even over the cap: holds win over the
    /// cap, and `telemetry_spool_held_over_cap_bytes` plus a warning report it. The open
    /// segments are never deleted. Holds that can no longer keep anything are dropped.
    ///
    /// # Errors
    /// [`SpoolError::Io`] when a segment cannot be listed or deleted, or `holds.json` written.
    ///
    /// [`SpoolConfig::hold_retention`]: super::SpoolConfig::hold_retention
    pub fn prune(&self) -> Result<PruneReport, SpoolError> {
        self.writable()?;
        let now = self.inner.clock.now();
        let config = &self.inner.config;
        let delta = |d: Duration| TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX);
        let retention = delta(config.retention);
        let hold_retention = delta(config.hold_retention).max(retention);
        let holds = self.holds();
        let mut report = PruneReport::default();
        let mut abort_hook = PruneAbortHook::new();
        // (segment, held, past its ordinary retention)
        let mut live: Vec<(SegmentInfo, bool, bool)> = Vec::new();
        for signal in stellaops_bundle_format::BUNDLE_ORDER {
            for seg in self.all_segments(signal)? {
                let held = holds.iter().any(|h| h.covers(seg.from, seg.to));
                // Traces and metrics by the profile's retention, logs by their class.
                let own = delta(config.retention_of(seg.signal, seg.log_class));
                let past = |keep: TimeDelta| {
                    seg.to
                        .checked_add_signed(keep)
                        .is_some_and(|expires| now >= expires)
                };
                let past_retention = past(own);
                let keep = if held {
                    delta(config.hold_retention).max(own)
                } else {
                    own
                };
                if seg.sealed && past(keep) {
                    let records = count_records(&seg.path);
                    remove(&seg.path)?;
                    self.inner.metrics.pruned("retention", &seg, records);
                    report.count("retention", &seg, records);
                    report.expired.push(seg.path);
                    abort_hook.deleted();
                } else {
                    live.push((seg, held, past_retention));
                }
            }
        }
        let mut total: u64 = live.iter().map(|(s, _, _)| s.size).sum();
        if total > config.max_total_bytes {
            let mut candidates: Vec<&SegmentInfo> = live
                .iter()
                .filter(|(s, held, _)| s.sealed && !held)
                .map(|(s, _, _)| s)
                .collect();
            candidates.sort_by_key(|s| (s.to, s.from, s.signal.bundle_rank(), s.log_class, s.seq));
            let mut removed = Vec::new();
            for seg in candidates {
                if total <= config.max_total_bytes {
                    break;
                }
                let records = count_records(&seg.path);
                remove(&seg.path)?;
                self.inner.metrics.pruned("size_cap", seg, records);
                report.count("size_cap", seg, records);
                total = total.saturating_sub(seg.size);
                removed.push(seg.path.clone());
                abort_hook.deleted();
            }
            live.retain(|(s, _, _)| !removed.contains(&s.path));
            report.over_cap = removed;
        }
        let over_cap = total > config.max_total_bytes;
        if over_cap {
            let held_bytes: u64 = live
                .iter()
                .filter(|(_, held, _)| *held)
                .map(|(s, _, _)| s.size)
                .sum();
            report.held_over_cap_bytes = (total - config.max_total_bytes).min(held_bytes);
            if report.held_over_cap_bytes > 0 {
                tracing::warn!(
                    total_bytes = total,
                    max_total_bytes = config.max_total_bytes,
                    held_over_cap_bytes = report.held_over_cap_bytes,
                    "spool is over its size cap because incident holds keep segments (holds win over the cap)"
                );
            }
        }
        report.held = live
            .iter()
            .filter(|(s, held, past)| s.sealed && *held && (*past || over_cap))
            .count();
        self.inner
            .metrics
            .set_held_over_cap(report.held_over_cap_bytes);
        for signal in stellaops_bundle_format::BUNDLE_ORDER {
            let bytes: u64 = live
                .iter()
                .filter(|(s, _, _)| s.signal == signal)
                .map(|(s, _, _)| s.size)
                .sum();
            self.inner.metrics.set_bytes(signal, bytes);
        }
        // A hold whose end is past the hold retention covers only deletable segments.
        let keep: Vec<Hold> = holds
            .iter()
            .filter(|h| {
                h.end
                    .checked_add_signed(hold_retention)
                    .is_none_or(|e| now < e)
            })
            .cloned()
            .collect();
        if keep.len() != holds.len() {
            report.holds_expired = holds.len() - keep.len();
            let mut guard = lock(&self.inner.holds);
            guard.retain(|h| keep.contains(h));
            holds::save(&self.inner.dir, &guard)?;
        }
        for group in &report.removed {
            tracing::info!(
                reason = group.reason,
                signal = group.signal.as_str(),
                class = class_label(group.signal, group.log_class),
                segments = group.segments,
                bytes = group.bytes,
                records = group.records,
                "spool segments pruned"
            );
        }
        Ok(report)
    }
}

/// How many whole frames a segment holds (for the prune report; a torn tail is not counted).
fn count_records(path: &Path) -> u64 {
    let Ok(file) = File::open(path) else {
        return 0;
    };
    let mut reader = RecordReader::new(BufReader::new(file));
    while let Ok(Some(_)) = reader.next_record() {}
    reader.records_read()
}

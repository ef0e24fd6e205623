//! Segment files: [`SegmentInfo`], the `<seq>.open` / `<seq>_<from>_<to>.otlp` names, and
//! listing one stream directory. Not the reading of records inside (capture and recovery do).

use super::error::SpoolError;
use super::retention::LogClass;
use crate::window::Window;
use chrono::{DateTime, TimeDelta, Utc};
use std::path::{Path, PathBuf};
use stellaops_bundle_format::Signal;

/// One segment file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentInfo {
    /// Its signal.
    pub signal: Signal,
    /// Its log retention class (`logs/<class>/`); `None` for traces, metrics and legacy
    /// mixed-class `logs/` segments.
    pub log_class: Option<LogClass>,
    /// Its sequence number (per signal, increasing).
    pub seq: u64,
    /// Its path.
    pub path: PathBuf,
    /// Earliest record time inside (millisecond precision, rounded down).
    pub from: DateTime<Utc>,
    /// Latest record time inside (millisecond precision, rounded down).
    pub to: DateTime<Utc>,
    /// Size in bytes.
    pub size: u64,
    /// Whether it is sealed (`false`: the open segment, still written).
    pub sealed: bool,
}

impl SegmentInfo {
    /// Whether a record inside may fall in `window` (`to` is widened by the millisecond
    /// rounding).
    pub fn overlaps(&self, window: &Window) -> bool {
        let to = self
            .to
            .checked_add_signed(TimeDelta::milliseconds(1))
            .unwrap_or(self.to);
        window.overlaps(self.from, to)
    }
}

pub(super) fn millis_to_time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

pub(super) fn ns_to_ms(ns: u64) -> i64 {
    i64::try_from(ns / 1_000_000).unwrap_or(i64::MAX)
}

/// A segment file name parsed.
pub(super) struct Entry {
    pub(super) seq: u64,
    pub(super) path: PathBuf,
    pub(super) sealed: bool,
    pub(super) range: Option<MsRange>,
}

/// A segment's record time range in Unix milliseconds.
pub(super) type MsRange = (i64, i64);

fn parse_name(name: &str) -> Option<(u64, bool, Option<MsRange>)> {
    if let Some(seq) = name.strip_suffix(".open") {
        return Some((seq.parse().ok()?, false, None));
    }
    let stem = name.strip_suffix(".otlp")?;
    let mut parts = stem.splitn(3, '_');
    let seq = parts.next()?.parse().ok()?;
    let from = parts.next()?.parse().ok()?;
    let to = parts.next()?.parse().ok()?;
    Some((seq, true, Some((from, to))))
}

pub(super) fn sealed_name(seq: u64, from: i64, to: i64) -> String {
    format!("{seq:020}_{from}_{to}.otlp")
}

pub(super) fn list(dir: &Path) -> Result<Vec<Entry>, SpoolError> {
    let io = |source| SpoolError::Io {
        path: dir.to_owned(),
        action: "list",
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name();
        let Some((seq, sealed, range)) = name.to_str().and_then(parse_name) else {
            continue;
        };
        out.push(Entry {
            seq,
            path: entry.path(),
            sealed,
            range,
        });
    }
    out.sort_by_key(|e| (e.seq, e.sealed));
    Ok(out)
}

//! Segment streams: one directory of segments per signal (and per log class), with the
//! state of its open segment. Not the writing or sealing (`append`, `sealing`).

use super::retention::LogClass;
use super::segment::MsRange;
use chrono::{DateTime, Utc};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use stellaops_bundle_format::Signal;

/// The segment being written.
pub(super) struct OpenSegment {
    pub(super) seq: u64,
    pub(super) path: PathBuf,
    pub(super) file: File,
    pub(super) size: u64,
    pub(super) opened_at: DateTime<Utc>,
    pub(super) range: Option<MsRange>,
}

/// A stream's mutable state, under its lock.
pub(super) struct SignalState {
    pub(super) dir: PathBuf,
    /// Whether `dir` is known to exist (class directories are made on first write).
    pub(super) ready: bool,
    pub(super) next_seq: u64,
    pub(super) open: Option<OpenSegment>,
}

/// One directory of segments: a signal's, or one log class's (`logs/<class>/`). The plain
/// `logs/` stream only holds segments written before log classes existed.
pub(super) struct Stream {
    pub(super) signal: Signal,
    pub(super) class: Option<LogClass>,
    pub(super) state: Mutex<SignalState>,
}

/// Every stream: `logs/` (legacy), `logs/<class>/` for each class, `metrics/`, `traces/`.
pub(super) fn stream_layout() -> Vec<(Signal, Option<LogClass>)> {
    let mut out = Vec::new();
    for signal in stellaops_bundle_format::BUNDLE_ORDER {
        out.push((signal, None));
        if signal == Signal::Logs {
            out.extend(LogClass::ALL.map(|c| (Signal::Logs, Some(c))));
        }
    }
    out
}

/// The directory of a stream: `<dir>/<signal>` or `<dir>/logs/<class>`.
pub(super) fn stream_dir(dir: &Path, signal: Signal, class: Option<LogClass>) -> PathBuf {
    match class {
        Some(c) => dir.join(signal.as_str()).join(c.as_str()),
        None => dir.join(signal.as_str()),
    }
}

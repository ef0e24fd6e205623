//! Start-up recovery of a leftover `.open` segment (a process that stopped while writing):
//! whole records kept, a torn final frame truncated, the rest sealed. Not the normal sealing
//! of a running spool (`sealing`).

use super::error::SpoolError;
use super::fsutil::{check_private, sync_dir};
use super::records;
use super::retention::LogClass;
use super::segment::{SegmentInfo, millis_to_time, ns_to_ms, sealed_name};
use chrono::{DateTime, Utc};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use stellaops_bundle_format::Signal;
use stellaops_bundle_format::framing::RecordReader;

/// A segment recovered at open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recovery {
    /// The sealed segment (`None` when nothing valid was left and the file was removed).
    pub segment: Option<SegmentInfo>,
    /// The `.open` file it came from.
    pub from_path: PathBuf,
    /// Valid records kept.
    pub records: u64,
    /// Bytes of a torn final frame truncated (0 when the file ended cleanly).
    pub truncated_bytes: u64,
}

/// Recovers a leftover `.open` segment: keeps every whole, decodable record, truncates the
/// rest, and seals it (or removes it when nothing is left).
pub(super) fn recover(
    signal: Signal,
    class: Option<LogClass>,
    dir: &Path,
    seq: u64,
    path: &Path,
    now: DateTime<Utc>,
) -> Result<Recovery, SpoolError> {
    check_private(path)?;
    let io = |action: &'static str| {
        move |source| SpoolError::Io {
            path: path.to_owned(),
            action,
            source,
        }
    };
    let file = File::open(path).map_err(io("open"))?;
    let len = file.metadata().map_err(io("stat"))?.len();
    let mut reader = RecordReader::new(BufReader::new(file));
    let mut valid = 0u64;
    let mut records = 0u64;
    let mut range: Option<(i64, i64)> = None;
    while let Ok(Some(bytes)) = reader.next_record() {
        // A frame whose body is not a request of its signal is as torn as a short one.
        let Ok(request) = records::decode(signal, bytes) else {
            break;
        };
        let (lo, hi) = records::time_range(&request).map_or_else(
            || (now.timestamp_millis(), now.timestamp_millis()),
            |(a, b)| (ns_to_ms(a), ns_to_ms(b)),
        );
        range = Some(range.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))));
        records += 1;
        valid = reader.bytes_read();
    }
    drop(reader);
    let truncated_bytes = len.saturating_sub(valid);
    if truncated_bytes > 0 {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(io("open for truncation"))?;
        f.set_len(valid).map_err(io("truncate"))?;
        f.sync_all().map_err(io("sync"))?;
    }
    let segment = match range {
        Some((from, to)) => {
            let sealed = dir.join(sealed_name(seq, from, to));
            std::fs::rename(path, &sealed).map_err(io("seal"))?;
            sync_dir(Some(dir));
            Some(SegmentInfo {
                signal,
                log_class: class,
                seq,
                path: sealed,
                from: millis_to_time(from),
                to: millis_to_time(to),
                size: valid,
                sealed: true,
            })
        }
        None => {
            std::fs::remove_file(path).map_err(io("remove empty segment"))?;
            None
        }
    };
    Ok(Recovery {
        segment,
        from_path: path.to_owned(),
        records,
        truncated_bytes,
    })
}

//! Writing records: each export request framed and appended to its stream's open segment
//! (logs split by retention class first), sealing the segment first when it is too old or
//! too big. Not the file layout (`segment`, `stream`) or pruning.

use super::error::SpoolError;
use super::fsutil::{create_private, private_dir};
use super::handle::{Spool, lock};
use super::records;
use super::retention::{self, LogClass};
use super::sealing::seal;
use super::segment::ns_to_ms;
use super::stream::OpenSegment;
use crate::export::ExportRequest;
use std::io::Write;
use stellaops_bundle_format::Signal;
use stellaops_bundle_format::framing;

/// The message name of `signal`'s export request (`Export{kind}ServiceRequest`).
fn kind(signal: Signal) -> &'static str {
    match signal {
        Signal::Traces => "Trace",
        Signal::Metrics => "Metrics",
        Signal::Logs => "Logs",
    }
}

impl Spool {
    /// Appends one encoded `Export*ServiceRequest` of `signal` (decoded once to learn the time
    /// range of its items).
    ///
    /// # Errors
    /// [`SpoolError::InvalidRecord`] when `record` does not decode as `signal`'s request, and
    /// the errors of [`append_request`](Self::append_request).
    pub fn append(&self, signal: Signal, record: &[u8]) -> Result<(), SpoolError> {
        let request = records::decode(signal, record).map_err(|e| SpoolError::InvalidRecord {
            signal,
            kind: kind(signal),
            detail: e.to_string(),
        })?;
        match &request {
            ExportRequest::Logs(logs) => self.append_logs(logs, Some(record)),
            _ => self.append_encoded(signal, None, record, records::time_range(&request)),
        }
    }

    /// Appends one export request to its signal's open segment, sealing the segment first
    /// when it is older than [`SpoolConfig::segment_max_age`] or the record would take it past
    /// [`SpoolConfig::segment_max_bytes`]. The frame is written with one `write` call.
    ///
    /// [`SpoolConfig::segment_max_age`]: super::SpoolConfig::segment_max_age
    /// [`SpoolConfig::segment_max_bytes`]: super::SpoolConfig::segment_max_bytes
    ///
    /// # Errors
    /// [`SpoolError::Io`] when the segment cannot be created, written or sealed;
    /// [`SpoolError::RecordTooLarge`].
    pub fn append_request(&self, request: &ExportRequest) -> Result<(), SpoolError> {
        match request {
            ExportRequest::Logs(logs) => self.append_logs(logs, None),
            // Already split by class: each part goes to its class stream as it is.
            ExportRequest::EncodedLogs(encoded) => {
                for part in encoded.parts() {
                    self.append_encoded(
                        Signal::Logs,
                        Some(part.class),
                        encoded.part_bytes(part),
                        part.time,
                    )?;
                }
                Ok(())
            }
            // Written as it is, without copying.
            ExportRequest::EncodedTraces(encoded) => self.append_encoded(
                Signal::Traces,
                None,
                encoded.as_bytes(),
                encoded.time_range(),
            ),
            _ => self.append_encoded(
                request.signal(),
                None,
                &request.encode(),
                records::time_range(request),
            ),
        }
    }

    /// Appends a logs request to the stream of each log class it holds (split per class;
    /// `encoded` is written as is when every record is of one class).
    fn append_logs(
        &self,
        request: &opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest,
        encoded: Option<&[u8]>,
    ) -> Result<(), SpoolError> {
        let classes = retention::classes_of(request);
        if let [] | [_] = classes.as_slice() {
            // One class (the usual batch): written as is, without copying the request.
            let class = classes.first().copied().unwrap_or(LogClass::Info);
            let range = records::logs_time_range(request);
            return match encoded {
                Some(bytes) => self.append_encoded(Signal::Logs, Some(class), bytes, range),
                None => self.append_encoded(
                    Signal::Logs,
                    Some(class),
                    &prost::Message::encode_to_vec(request),
                    range,
                ),
            };
        }
        for class in classes {
            let part = retention::only_class(request, class);
            let range = records::logs_time_range(&part);
            self.append_encoded(
                Signal::Logs,
                Some(class),
                &prost::Message::encode_to_vec(&part),
                range,
            )?;
        }
        Ok(())
    }

    fn append_encoded(
        &self,
        signal: Signal,
        class: Option<LogClass>,
        record: &[u8],
        range_ns: Option<(u64, u64)>,
    ) -> Result<(), SpoolError> {
        self.writable()?;
        let now = self.inner.clock.now();
        let (lo, hi) = range_ns.map_or_else(
            || (now.timestamp_millis(), now.timestamp_millis()),
            |(a, b)| (ns_to_ms(a), ns_to_ms(b)),
        );
        let mut framed = Vec::with_capacity(record.len() + framing::LENGTH_PREFIX_LEN);
        framing::write_record(&mut framed, record)
            .map_err(|_| SpoolError::RecordTooLarge { len: record.len() })?;
        let stream = self.stream(signal, class)?;
        let sealed_one = {
            let mut state = lock(&stream.state);
            if !state.ready {
                private_dir(&state.dir)?;
                state.ready = true;
            }
            let mut sealed = false;
            if let Some(open) = &state.open {
                let age = now.signed_duration_since(open.opened_at);
                let too_old = age
                    .to_std()
                    .is_ok_and(|a| a >= self.inner.config.segment_max_age);
                let too_big = open.size > 0
                    && open.size + framed.len() as u64 > self.inner.config.segment_max_bytes;
                if too_old || too_big {
                    seal(&mut state)?;
                    sealed = true;
                }
            }
            if state.open.is_none() {
                let seq = state.next_seq;
                let path = state.dir.join(format!("{seq:020}.open"));
                let file = create_private(&path)?;
                state.next_seq += 1;
                state.open = Some(OpenSegment {
                    seq,
                    path,
                    file,
                    size: 0,
                    opened_at: now,
                    range: None,
                });
            }
            if let Some(open) = &mut state.open {
                open.file
                    .write_all(&framed)
                    .map_err(|source| SpoolError::Io {
                        path: open.path.clone(),
                        action: "write",
                        source,
                    })?;
                open.size += framed.len() as u64;
                open.range = Some(open.range.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))));
            }
            sealed
        };
        if sealed_one {
            self.prune()?;
        }
        Ok(())
    }

    /// Flushes every open segment to disk.
    ///
    /// # Errors
    /// [`SpoolError::Io`] when a sync fails.
    pub fn sync(&self) -> Result<(), SpoolError> {
        for stream in &self.inner.streams {
            let state = lock(&stream.state);
            if let Some(open) = &state.open {
                open.file.sync_data().map_err(|source| SpoolError::Io {
                    path: open.path.clone(),
                    action: "sync",
                    source,
                })?;
            }
        }
        Ok(())
    }
}

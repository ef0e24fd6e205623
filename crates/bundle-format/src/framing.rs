//! OTLP record framing shared by the spool and bundles: each record is a 4-byte big-endian
//! length followed by that many bytes (one `Export{Traces,Metrics,Logs}ServiceRequest`), the
//! OpenTelemetry Collector file exporter's `proto` format.
//!
//! This module frames and unframes opaque records; it does not decode protobuf.

use std::io::{self, Read, Write};

/// The largest record [`RecordReader`] accepts by default: 64 MiB (the collector's gRPC
/// default is 4 MiB, so real records are far smaller).
pub const DEFAULT_MAX_RECORD_SIZE: u32 = 64 * 1024 * 1024;

/// Bytes of the length prefix before every record.
pub const LENGTH_PREFIX_LEN: usize = 4;

/// Writes one record: its length as a 4-byte big-endian integer, then its bytes.
///
/// ```
/// let mut out = Vec::new();
/// stellaops_bundle_format::framing::write_record(&mut out, b"abc")?;
/// assert_eq!(out, [0, 0, 0, 3, b'a', b'b', b'c']);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// [`io::ErrorKind::InvalidInput`] when the record is longer than `u32::MAX` bytes, else the
/// writer's error.
pub fn write_record<W: Write + ?Sized>(writer: &mut W, record: &[u8]) -> io::Result<()> {
    let len = u32::try_from(record.len()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "expected a record of at most {} bytes, found {} bytes",
                u32::MAX,
                record.len()
            ),
        )
    })?;
    writer.write_all(&len.to_be_bytes())?;
    writer.write_all(record)
}

/// The number of bytes [`write_record`] writes for a record of `record_len` bytes.
pub fn framed_len(record_len: usize) -> u64 {
    record_len as u64 + LENGTH_PREFIX_LEN as u64
}

/// Why a framed stream could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FramingError {
    /// The stream ended inside a length prefix or a record body.
    #[error(
        "record {record} at byte {offset}: truncated {part}: expected {expected} bytes, found {found}"
    )]
    Truncated {
        /// Index of the record (0-based).
        record: u64,
        /// Byte offset of the record's length prefix.
        offset: u64,
        /// `"length prefix"` or `"record body"`.
        part: &'static str,
        /// Bytes that part needs.
        expected: u64,
        /// Bytes that were there.
        found: u64,
    },
    /// A length prefix exceeds the reader's maximum record size.
    #[error(
        "record {record} at byte {offset}: expected a record of at most {max} bytes, found a length prefix of {len}"
    )]
    TooLarge {
        /// Index of the record (0-based).
        record: u64,
        /// Byte offset of the record's length prefix.
        offset: u64,
        /// The length the prefix declares.
        len: u32,
        /// The reader's maximum.
        max: u32,
    },
    /// The underlying reader failed.
    #[error("record {record} at byte {offset}: {source}")]
    Io {
        /// Index of the record (0-based).
        record: u64,
        /// Byte offset of the record's length prefix.
        offset: u64,
        /// The reader's error.
        #[source]
        source: io::Error,
    },
}

impl FramingError {
    /// A stable machine code: `bundle.framing.truncated`, `bundle.framing.too_large` or
    /// `bundle.framing.io`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Truncated { .. } => "bundle.framing.truncated",
            Self::TooLarge { .. } => "bundle.framing.too_large",
            Self::Io { .. } => "bundle.framing.io",
        }
    }
}

/// Reads framed records one at a time from any [`Read`]; memory holds one record at most.
///
/// ```
/// use stellaops_bundle_format::framing::{write_record, RecordReader};
/// let mut file = Vec::new();
/// write_record(&mut file, b"one")?;
/// write_record(&mut file, b"two")?;
/// let records: Vec<Vec<u8>> = RecordReader::new(&file[..]).collect::<Result<_, _>>()?;
/// assert_eq!(records, [b"one".to_vec(), b"two".to_vec()]);
///
/// // A stream cut inside a record is an error naming the record, never a short record.
/// let err = RecordReader::new(&file[..9]).nth(1).unwrap().unwrap_err();
/// assert_eq!(err.code(), "bundle.framing.truncated");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct RecordReader<R> {
    inner: R,
    max_record_size: u32,
    offset: u64,
    records: u64,
    buf: Vec<u8>,
    done: bool,
}

impl<R: Read> RecordReader<R> {
    /// A reader with the [`DEFAULT_MAX_RECORD_SIZE`].
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            max_record_size: DEFAULT_MAX_RECORD_SIZE,
            offset: 0,
            records: 0,
            buf: Vec::new(),
            done: false,
        }
    }

    /// Sets the largest record accepted; a larger length prefix is
    /// [`FramingError::TooLarge`] (checked before any allocation).
    #[must_use]
    pub fn max_record_size(mut self, max: u32) -> Self {
        self.max_record_size = max;
        self
    }

    /// Records read so far.
    pub fn records_read(&self) -> u64 {
        self.records
    }

    /// Bytes consumed so far (prefixes and bodies).
    pub fn bytes_read(&self) -> u64 {
        self.offset
    }

    /// The underlying reader.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The next record, borrowed until the next call; `Ok(None)` at a clean end of stream
    /// (exactly after a record).
    ///
    /// # Errors
    /// [`FramingError`] on truncation, an oversized length or a read error. After an error
    /// the reader yields `Ok(None)`.
    pub fn next_record(&mut self) -> Result<Option<&[u8]>, FramingError> {
        if self.done {
            return Ok(None);
        }
        let result = self.read_one();
        match result {
            Ok(true) => Ok(Some(&self.buf)),
            Ok(false) => {
                self.done = true;
                Ok(None)
            }
            Err(e) => {
                self.done = true;
                Err(e)
            }
        }
    }

    fn read_one(&mut self) -> Result<bool, FramingError> {
        let start = self.offset;
        let record = self.records;
        let io_err = |source| FramingError::Io {
            record,
            offset: start,
            source,
        };
        let mut prefix = [0u8; LENGTH_PREFIX_LEN];
        let got = read_full(&mut self.inner, &mut prefix).map_err(io_err)?;
        if got == 0 {
            return Ok(false);
        }
        if got < LENGTH_PREFIX_LEN {
            return Err(FramingError::Truncated {
                record,
                offset: start,
                part: "length prefix",
                expected: LENGTH_PREFIX_LEN as u64,
                found: got as u64,
            });
        }
        let len = u32::from_be_bytes(prefix);
        if len > self.max_record_size {
            return Err(FramingError::TooLarge {
                record,
                offset: start,
                len,
                max: self.max_record_size,
            });
        }
        self.buf.clear();
        self.buf.resize(len as usize, 0);
        let body = read_full(&mut self.inner, &mut self.buf).map_err(io_err)?;
        if body < len as usize {
            return Err(FramingError::Truncated {
                record,
                offset: start,
                part: "record body",
                expected: u64::from(len),
                found: body as u64,
            });
        }
        self.offset = start + framed_len(len as usize);
        self.records += 1;
        Ok(true)
    }
}

impl<R: Read> Iterator for RecordReader<R> {
    type Item = Result<Vec<u8>, FramingError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record()
            .map(|r| r.map(<[u8]>::to_vec))
            .transpose()
    }
}

/// Reads until `buf` is full or the stream ends; returns the bytes read.
fn read_full<R: Read + ?Sized>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..) {
        if rest.is_empty() {
            break;
        }
        match reader.read(rest) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn frame(records: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        for r in records {
            write_record(&mut out, r).unwrap();
        }
        out
    }

    #[test]
    fn empty_stream_has_no_records() {
        assert_eq!(RecordReader::new(&[][..]).count(), 0);
    }

    #[test]
    fn oversized_length_is_refused_before_allocating() {
        let data = [0xff, 0xff, 0xff, 0xff];
        let err = RecordReader::new(&data[..])
            .max_record_size(10)
            .next()
            .unwrap()
            .unwrap_err();
        assert_eq!(err.code(), "bundle.framing.too_large");
        assert!(err.to_string().contains("at most 10 bytes"), "{err}");
    }

    #[test]
    fn truncated_prefix_names_record_and_offset() {
        let mut data = frame(&[b"abc".to_vec()]);
        data.extend_from_slice(&[0, 0]);
        let mut reader = RecordReader::new(&data[..]);
        assert_eq!(reader.next().unwrap().unwrap(), b"abc");
        let err = reader.next().unwrap().unwrap_err();
        assert_eq!(
            err.to_string(),
            "record 1 at byte 7: truncated length prefix: expected 4 bytes, found 2"
        );
        assert!(reader.next().is_none());
    }

    proptest! {
        #[test]
        fn round_trip(records in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..16)) {
            let data = frame(&records);
            let back: Vec<Vec<u8>> = RecordReader::new(&data[..]).collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(back, records);
        }

        #[test]
        fn any_truncation_is_an_error(records in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 1..8), cut in any::<prop::sample::Index>()) {
            let data = frame(&records);
            let cut = cut.index(data.len());
            // Cuts exactly at a record boundary are clean ends; every other cut is an error.
            let mut boundaries = vec![0u64];
            for r in &records { boundaries.push(boundaries.last().unwrap() + framed_len(r.len())); }
            let result: Result<Vec<Vec<u8>>, _> = RecordReader::new(&data[..cut]).collect();
            if boundaries.contains(&(cut as u64)) {
                prop_assert!(result.is_ok());
            } else {
                prop_assert_eq!(result.unwrap_err().code(), "bundle.framing.truncated");
            }
        }

        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..256)) {
            for r in RecordReader::new(&data[..]).max_record_size(128) { let _ = r; }
        }
    }
}

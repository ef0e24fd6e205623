//! One payload file of the archive: its bytes or OTLP records handed to the visitor as they
//! stream, then its size, SHA-256 and record count checked against the manifest entry. Not
//! where the entry's header or its place in the archive is checked.

use crate::manifest::BundleSignal;
use std::io::{self, Read};

use sha2::{Digest, Sha256};

use super::read_error::{classify, framing_error};
use super::visitor::BundleVisitor;
use crate::error::BundleError;
use crate::framing::RecordReader;
use crate::manifest::{FileEntry, Signal};

/// Reads the payload file `entry`, listed in the manifest as `listed`, into `visitor`.
pub(super) fn read_payload(
    entry: &mut impl Read,
    listed: &FileEntry,
    max_record_size: u32,
    visitor: &mut dyn BundleVisitor,
) -> Result<(), BundleError> {
    let file = listed.path.as_str();
    let visit_err = |e| BundleError::io(format!("handing {file} to the visitor"), e);
    visitor.begin_file(listed).map_err(visit_err)?;
    let mut tee = TeeReader {
        inner: entry,
        hasher: Sha256::new(),
        size: 0,
    };
    let mut records = None;
    if let Some(signal) = Signal::from_bundle_path(file) {
        let mut reader = RecordReader::new(&mut tee).max_record_size(max_record_size);
        loop {
            match reader.next_record() {
                Ok(Some(record)) => visitor.record(signal, record).map_err(visit_err)?,
                Ok(None) => break,
                Err(e) => return Err(framing_error(e, file)),
            }
        }
        records = Some(reader.records_read());
    } else {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match tee.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => visitor
                    .data(buf.get(..n).unwrap_or_default())
                    .map_err(visit_err)?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(classify(e, file)),
            }
        }
    }
    let size = tee.size;
    let digest = format!("sha256:{}", hex::encode(tee.hasher.finalize()));
    if size != listed.size {
        return Err(BundleError::Truncated {
            file: file.into(),
            detail: format!("expected {} bytes, found {size}", listed.size),
        });
    }
    if digest != listed.sha256 {
        return Err(BundleError::DigestMismatch {
            file: file.into(),
            expected: listed.sha256.clone(),
            found: digest,
        });
    }
    if let (Some(expected), Some(found)) = (listed.records, records)
        && expected != found
    {
        return Err(BundleError::RecordCountMismatch {
            file: file.into(),
            expected,
            found,
        });
    }
    visitor.end_file(listed).map_err(visit_err)?;
    Ok(())
}

/// Hashes and counts the bytes read through it.
struct TeeReader<'a, R> {
    inner: &'a mut R,
    hasher: Sha256,
    size: u64,
}

impl<R: Read> Read for TeeReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(got) = buf.get(..n) {
            self.hasher.update(got);
        }
        self.size += n as u64;
        Ok(n)
    }
}

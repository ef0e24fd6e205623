//! How an I/O or framing error raised while reading becomes a [`BundleError`]: a limit hit,
//! a truncation, corruption or a plain I/O failure, naming the file it happened in. Not where
//! the format's own checks build their errors.

use std::io;

use super::limits::LimitHit;
use crate::error::BundleError;
use crate::framing::FramingError;

/// The name errors give the archive as a whole (rather than one of its files).
pub(super) const ARCHIVE: &str = "(archive)";

pub(super) fn classify(e: io::Error, file: &str) -> BundleError {
    if let Some(limit) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<LimitHit>())
    {
        return BundleError::LimitExceeded {
            file: file.into(),
            detail: limit.0.clone(),
        };
    }
    if e.kind() == io::ErrorKind::UnexpectedEof {
        return BundleError::Truncated {
            file: file.into(),
            detail: e.to_string(),
        };
    }
    if matches!(
        e.kind(),
        io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::Other
    ) {
        return BundleError::Corrupt {
            file: file.into(),
            detail: e.to_string(),
        };
    }
    BundleError::io(format!("reading {file}"), e)
}

pub(super) fn framing_error(e: FramingError, file: &str) -> BundleError {
    match e {
        FramingError::Io { source, .. } => classify(source, file),
        other => BundleError::Framing {
            file: file.into(),
            source: other,
        },
    }
}

//! [`BundleError`]: every way writing or verifying a bundle can fail, with stable
//! `bundle.*` codes. Messages name the file inside the bundle and say what was expected.

use crate::framing::FramingError;
use std::io;
use stellaops_dsse::DsseError;

/// Why a bundle could not be written, read or verified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// A file system or stream error outside any entry.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// The input does not start like a gzip or zstd bundle, or its compression header is not
    /// the exact one the format fixes.
    #[error("not a bundle: {detail}")]
    NotABundle {
        /// What was expected and found.
        detail: String,
    },
    /// The stream ended early (compressed stream, tar stream or an entry).
    #[error("{file}: truncated: {detail}")]
    Truncated {
        /// The entry being read, or `(archive)`.
        file: String,
        /// What was being read.
        detail: String,
    },
    /// The compressed or tar stream is malformed (bad checksum, bad header, trailing data).
    #[error("{file}: corrupt archive: {detail}")]
    Corrupt {
        /// The entry being read, or `(archive)`.
        file: String,
        /// What is wrong.
        detail: String,
    },
    /// An entry path is absolute, escapes the bundle (`..`), is not normalized, or is not
    /// where the format allows files.
    #[error("{file}: unsafe or invalid path: {detail}")]
    UnsafePath {
        /// The path as found (lossy UTF-8).
        file: String,
        /// Why it is refused.
        detail: String,
    },
    /// A symbolic or hard link entry.
    #[error("{file}: expected a regular file, found a {kind} link")]
    Link {
        /// The link's path.
        file: String,
        /// `symbolic` or `hard`.
        kind: &'static str,
    },
    /// Any other non-regular entry (directory, device, FIFO, PAX or GNU extension header).
    #[error("{file}: expected a regular ustar file entry, found {found}")]
    UnsupportedEntry {
        /// The entry's path.
        file: String,
        /// What it is.
        found: String,
    },
    /// The same path appears twice.
    #[error("{file}: duplicate entry")]
    DuplicateEntry {
        /// The path.
        file: String,
    },
    /// Entries are not in the format's order.
    #[error("{file}: entry out of order: {detail}")]
    OutOfOrder {
        /// The entry.
        file: String,
        /// The expected order.
        detail: String,
    },
    /// A file the manifest lists is not in the archive.
    #[error("{file}: listed in manifest.json but missing from the bundle")]
    MissingFile {
        /// The path.
        file: String,
    },
    /// A file in the archive the manifest does not list.
    #[error("{file}: present in the bundle but not listed in manifest.json")]
    ExtraFile {
        /// The path.
        file: String,
    },
    /// A file's SHA-256 differs from the manifest's.
    #[error("{file}: expected sha256 {expected}, found {found}")]
    DigestMismatch {
        /// The path.
        file: String,
        /// The manifest's digest.
        expected: String,
        /// The content's digest.
        found: String,
    },
    /// A file's size differs from the manifest's (or from its tar header).
    #[error("{file}: expected {expected} bytes, found {found}")]
    SizeMismatch {
        /// The path.
        file: String,
        /// Expected size.
        expected: u64,
        /// Actual size.
        found: u64,
    },
    /// An OTLP file's record count differs from the manifest's.
    #[error("{file}: expected {expected} records, found {found}")]
    RecordCountMismatch {
        /// The path.
        file: String,
        /// The manifest's count.
        expected: u64,
        /// Records found.
        found: u64,
    },
    /// An OTLP file is not a valid sequence of framed records.
    #[error("{file}: {source}")]
    Framing {
        /// The path.
        file: String,
        /// The framing error.
        #[source]
        source: FramingError,
    },
    /// An entry exceeds a size limit, or the archive decompresses far beyond its compressed
    /// size (a decompression bomb).
    #[error("{file}: {detail}")]
    LimitExceeded {
        /// The entry, or `(archive)`.
        file: String,
        /// Which limit and by how much.
        detail: String,
    },
    /// `manifest.json` is not a valid manifest (schema, canonical form, bundle id, digests).
    #[error("manifest.json: {detail}")]
    InvalidManifest {
        /// What is wrong.
        detail: String,
    },
    /// The manifest signature is missing, malformed, does not verify against the trusted
    /// keys, or does not sign exactly `manifest.json`.
    #[error("signatures/manifest.sig: {source}")]
    Signature {
        /// The DSSE error.
        #[source]
        source: DsseError,
    },
    /// The DSSE envelope verifies but its payload is not the bundle's `manifest.json`.
    #[error("signatures/manifest.sig: the signed payload is not the bundle's manifest.json")]
    SignedPayloadMismatch,
    /// Writer misuse or invalid writer input (a bad config path, a target that exists).
    #[error("{detail}")]
    InvalidInput {
        /// What was expected and found.
        detail: String,
    },
}

impl BundleError {
    /// The stable machine code, e.g. `bundle.digest_mismatch`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Io { .. } => "bundle.io",
            Self::NotABundle { .. } => "bundle.not_a_bundle",
            Self::Truncated { .. } => "bundle.truncated",
            Self::Corrupt { .. } => "bundle.corrupt",
            Self::UnsafePath { .. } => "bundle.unsafe_path",
            Self::Link { .. } => "bundle.link",
            Self::UnsupportedEntry { .. } => "bundle.unsupported_entry",
            Self::DuplicateEntry { .. } => "bundle.duplicate_entry",
            Self::OutOfOrder { .. } => "bundle.out_of_order",
            Self::MissingFile { .. } => "bundle.missing_file",
            Self::ExtraFile { .. } => "bundle.extra_file",
            Self::DigestMismatch { .. } => "bundle.digest_mismatch",
            Self::SizeMismatch { .. } => "bundle.size_mismatch",
            Self::RecordCountMismatch { .. } => "bundle.record_count_mismatch",
            Self::Framing { .. } => "bundle.framing",
            Self::LimitExceeded { .. } => "bundle.limit_exceeded",
            Self::InvalidManifest { .. } => "bundle.invalid_manifest",
            Self::Signature { .. } => "bundle.signature",
            Self::SignedPayloadMismatch => "bundle.signature",
            Self::InvalidInput { .. } => "bundle.invalid_input",
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn manifest(detail: impl Into<String>) -> Self {
        Self::InvalidManifest {
            detail: detail.into(),
        }
    }
}

//! [`BundleReader`]: the strict, streaming verifier. It reads a bundle once, front to back,
//! checking the compression header, every tar header, the manifest, the DSSE signature,
//! every file's size, digest and record count, and refuses anything the format does not allow.
//!
//! Records and file bytes reach a [`BundleVisitor`] as they stream past; a file's digest is
//! known only at its end, so a visitor must discard what it saw when the result is an error
//! ([`BundleReader::extract`] does).

// Layout: `bundle_reader` is the public API and runs one read; `container` checks the
// compressed stream around the archive, `entries` walks the tar entries, `payload` checks each
// payload file, `signature` the DSSE envelope; `limits` and `read_error` are shared by them;
// `verified` and `visitor` are what a read returns and whom it tells.

mod bundle_reader;
mod container;
mod entries;
mod limits;
mod payload;
mod read_error;
mod signature;
mod verified;
mod visitor;

pub use bundle_reader::BundleReader;
pub use limits::Limits;
pub use verified::{SignatureStatus, VerifiedBundle};
pub use visitor::{BundleVisitor, SignalRecords};

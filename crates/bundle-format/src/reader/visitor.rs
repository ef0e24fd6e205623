//! [`BundleVisitor`]: how a bundle's contents reach the caller while it is verified, and the
//! two visitors the reader itself uses (one that ignores everything, one that writes the
//! payload files under a staging directory). Not where anything is verified.

use std::fs::File;
use std::io;
use std::path::PathBuf;

#[cfg(doc)]
use crate::error::BundleError;
use crate::manifest::{FileEntry, Signal};

/// Receives a bundle's contents while [`BundleReader::read`](crate::BundleReader::read) verifies
/// it. Every hook has a
/// do-nothing default.
pub trait BundleVisitor {
    /// A payload file starts (its manifest entry).
    ///
    /// # Errors
    /// Any error stops the read with [`BundleError::Io`].
    fn begin_file(&mut self, _entry: &FileEntry) -> io::Result<()> {
        Ok(())
    }
    /// The next bytes of the current file.
    ///
    /// # Errors
    /// As [`BundleVisitor::begin_file`].
    fn data(&mut self, _chunk: &[u8]) -> io::Result<()> {
        Ok(())
    }
    /// The next record of an OTLP file.
    ///
    /// # Errors
    /// As [`BundleVisitor::begin_file`].
    fn record(&mut self, _signal: Signal, _record: &[u8]) -> io::Result<()> {
        Ok(())
    }
    /// The current file ended and matched its manifest entry.
    ///
    /// # Errors
    /// As [`BundleVisitor::begin_file`].
    fn end_file(&mut self, _entry: &FileEntry) -> io::Result<()> {
        Ok(())
    }
}

/// Records with their signal, in bundle order.
pub type SignalRecords = Vec<(Signal, Vec<u8>)>;

/// A visitor that ignores everything (plain verification).
pub(super) struct NoVisitor;
impl BundleVisitor for NoVisitor {}

/// Writes payload files under a staging root.
pub(super) struct Extractor {
    pub(super) root: PathBuf,
    pub(super) current: Option<io::BufWriter<File>>,
}

impl BundleVisitor for Extractor {
    fn begin_file(&mut self, entry: &FileEntry) -> io::Result<()> {
        // The path passed check_entry_path: relative, normalized, no `..`.
        let target = self.root.join(&entry.path);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = File::options().write(true).create_new(true).open(&target)?;
        self.current = Some(io::BufWriter::new(file));
        Ok(())
    }
    fn data(&mut self, chunk: &[u8]) -> io::Result<()> {
        match &mut self.current {
            Some(w) => io::Write::write_all(w, chunk),
            None => Err(io::Error::other("data outside a file")),
        }
    }
    fn record(&mut self, _signal: Signal, record: &[u8]) -> io::Result<()> {
        match &mut self.current {
            Some(w) => crate::framing::write_record(w, record),
            None => Err(io::Error::other("record outside a file")),
        }
    }
    fn end_file(&mut self, _entry: &FileEntry) -> io::Result<()> {
        if let Some(w) = self.current.take() {
            w.into_inner()
                .map_err(io::IntoInnerError::into_error)?
                .sync_all()?;
        }
        Ok(())
    }
}

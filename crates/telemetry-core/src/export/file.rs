//! The local file exporter: OTLP records appended in the collector file exporter's `proto`
//! framing (4-byte big-endian length, then one `Export*ServiceRequest`), files created with
//! mode 0600, rotated by size to `.1`, `.2`, ...; a world-readable existing file is refused.
//!
//! The framing is `stellaops_bundle_format::framing`, shared with bundles.
//!
//! Not the time-segmented spool with retention ([`crate::spool`], which the exporters write
//! to); this single rotating file remains for tools that want one.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use stellaops_bundle_format::framing;

/// Default size at which a file rotates (10 MiB).
pub const DEFAULT_ROTATE_BYTES: u64 = 10 * 1024 * 1024;
/// Default number of files kept per signal (the live one and two rotated).
pub const DEFAULT_KEEP_FILES: usize = 3;

/// Why the file exporter could not write.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileExportError {
    /// The target exists and others can read it; telemetry may hold tenant data.
    #[error(
        "{path}: telemetry file is readable by other users (mode {mode:o}); chmod 600 it or choose another path"
    )]
    WorldReadable {
        /// The offending path.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A record is larger than the 4-byte length prefix can describe.
    #[error("record of {len} bytes is larger than the 4 GiB frame limit")]
    RecordTooLarge {
        /// The record's size.
        len: usize,
    },
    /// The operating system refused.
    #[error("{path}: {action}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Appends framed OTLP records to one file, rotating by size.
#[derive(Debug)]
pub struct OtlpFileWriter {
    path: PathBuf,
    file: File,
    written: u64,
    rotate_bytes: u64,
    keep_files: usize,
}

impl OtlpFileWriter {
    /// Opens (creating with mode 0600, and its directory with 0700) `path` for appending.
    ///
    /// # Errors
    /// [`FileExportError::WorldReadable`] when the file exists and is readable by others;
    /// [`FileExportError::Io`] when it cannot be created.
    pub fn open(
        path: impl Into<PathBuf>,
        rotate_bytes: u64,
        keep_files: usize,
    ) -> Result<Self, FileExportError> {
        let path = path.into();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir)?;
        }
        let file = open_private(&path)?;
        let written = file
            .metadata()
            .map_err(|source| FileExportError::Io {
                path: path.clone(),
                action: "stat",
                source,
            })?
            .len();
        Ok(Self {
            path,
            file,
            written,
            rotate_bytes: rotate_bytes.max(1),
            keep_files: keep_files.max(1),
        })
    }

    /// The live file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one encoded request as a frame, rotating first if the frame would pass the
    /// size limit of a non-empty file.
    ///
    /// # Errors
    /// [`FileExportError`] when the write or the rotation fails; the record is then not written.
    pub fn append(&mut self, record: &[u8]) -> Result<(), FileExportError> {
        // One buffer, one write: a frame is never split between two appends.
        let mut framed = Vec::new();
        framed.reserve_exact(
            usize::try_from(framing::framed_len(record.len())).unwrap_or(usize::MAX),
        );
        framing::write_record(&mut framed, record)
            .map_err(|_| FileExportError::RecordTooLarge { len: record.len() })?;
        if self.written > 0 && self.written + framed.len() as u64 > self.rotate_bytes {
            self.rotate()?;
        }
        self.file
            .write_all(&framed)
            .map_err(|source| FileExportError::Io {
                path: self.path.clone(),
                action: "write",
                source,
            })?;
        self.written += framed.len() as u64;
        Ok(())
    }

    /// Flushes to the operating system and to disk.
    ///
    /// # Errors
    /// [`FileExportError::Io`] when the sync fails.
    pub fn sync(&mut self) -> Result<(), FileExportError> {
        self.file.sync_data().map_err(|source| FileExportError::Io {
            path: self.path.clone(),
            action: "sync",
            source,
        })
    }

    fn rotate(&mut self) -> Result<(), FileExportError> {
        self.sync()?;
        let numbered = |n: usize| {
            let mut name = self.path.as_os_str().to_owned();
            name.push(format!(".{n}"));
            PathBuf::from(name)
        };
        let oldest = self.keep_files - 1;
        if oldest == 0 {
            std::fs::remove_file(&self.path).map_err(|source| FileExportError::Io {
                path: self.path.clone(),
                action: "remove",
                source,
            })?;
        } else {
            let _ = std::fs::remove_file(numbered(oldest));
            for n in (1..oldest).rev() {
                let from = numbered(n);
                if from.exists() {
                    std::fs::rename(&from, numbered(n + 1)).map_err(|source| {
                        FileExportError::Io {
                            path: from.clone(),
                            action: "rotate",
                            source,
                        }
                    })?;
                }
            }
            std::fs::rename(&self.path, numbered(1)).map_err(|source| FileExportError::Io {
                path: self.path.clone(),
                action: "rotate",
                source,
            })?;
        }
        self.file = open_private(&self.path)?;
        self.written = 0;
        Ok(())
    }
}

#[cfg(unix)]
fn open_private(path: &Path) -> Result<File, FileExportError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o004 != 0 {
            return Err(FileExportError::WorldReadable {
                path: path.to_owned(),
                mode,
            });
        }
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(|source| FileExportError::Io {
            path: path.to_owned(),
            action: "open",
            source,
        })
}

#[cfg(not(unix))]
fn open_private(path: &Path) -> Result<File, FileExportError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| FileExportError::Io {
            path: path.to_owned(),
            action: "open",
            source,
        })
}

fn create_private_dir(dir: &Path) -> Result<(), FileExportError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|source| FileExportError::Io {
        path: dir.to_owned(),
        action: "create directory",
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn records(path: &Path) -> Vec<Vec<u8>> {
        let bytes = std::fs::read(path).unwrap();
        let mut out = Vec::new();
        let mut rest = bytes.as_slice();
        while !rest.is_empty() {
            let (len, tail) = rest.split_at(4);
            let len = u32::from_be_bytes(len.try_into().unwrap()) as usize;
            let (body, tail) = tail.split_at(len);
            out.push(body.to_vec());
            rest = tail;
        }
        out
    }

    #[test]
    fn frames_records_with_mode_0600_and_rotates_by_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/traces.otlp");
        let mut w = OtlpFileWriter::open(&path, 30, 3).unwrap();
        for i in 0..7u8 {
            w.append(&[i; 10]).unwrap();
        }
        w.sync().unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
        // 14 bytes per frame, 30-byte limit: two frames per file; 7 frames -> live has 1,
        // .1 has 2, .2 has 2, the oldest two were rotated away (three files kept).
        assert_eq!(records(&path), vec![vec![6u8; 10]]);
        assert_eq!(
            records(&dir.path().join("sub/traces.otlp.1")),
            vec![vec![4u8; 10], vec![5u8; 10]]
        );
        assert_eq!(
            records(&dir.path().join("sub/traces.otlp.2")),
            vec![vec![2u8; 10], vec![3u8; 10]]
        );
        assert!(!dir.path().join("sub/traces.otlp.3").exists());
    }

    #[test]
    fn refuses_a_world_readable_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs.otlp");
        std::fs::write(&path, b"").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = OtlpFileWriter::open(&path, 100, 3).unwrap_err();
        assert!(
            matches!(err, FileExportError::WorldReadable { mode: 0o644, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("chmod 600"));
    }

    #[test]
    fn reopening_appends_after_existing_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.otlp");
        OtlpFileWriter::open(&path, 1 << 20, 3)
            .unwrap()
            .append(b"one")
            .unwrap();
        OtlpFileWriter::open(&path, 1 << 20, 3)
            .unwrap()
            .append(b"two")
            .unwrap();
        assert_eq!(records(&path), vec![b"one".to_vec(), b"two".to_vec()]);
    }
}

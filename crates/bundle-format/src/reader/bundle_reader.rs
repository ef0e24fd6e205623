//! [`BundleReader`]: the public reader and verifier API (verify, read with a visitor, collect
//! records, extract), and the assembly of one read: raw bytes, container, guarded tar
//! archive, entry walk, end-of-archive checks. Not where the individual checks live.

use std::cell::{Cell, RefCell};
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use sha2::{Digest, Sha256};
use stellaops_dsse::Verifier;

use super::container::{Decoder, RawReader};
use super::entries::read_entries;
use super::limits::{GuardedReader, Limits};
use super::read_error::{ARCHIVE, classify};
#[cfg(doc)]
use super::verified::SignatureStatus;
use super::verified::VerifiedBundle;
use super::visitor::{BundleVisitor, Extractor, NoVisitor, SignalRecords};
use crate::error::BundleError;
use crate::manifest::{MANIFEST_PATH, SIGNATURE_PATH, Signal};

/// Verifies and reads bundles.
///
/// ```
/// use stellaops_bundle_format::BundleReader;
/// use stellaops_dsse::{TrustedKeys, Verifier};
/// let reader = BundleReader::new(Verifier::new(TrustedKeys::new()));
/// let err = reader.verify(&b"not a bundle"[..]).unwrap_err();
/// assert_eq!(err.code(), "bundle.not_a_bundle");
/// ```
#[derive(Debug)]
pub struct BundleReader {
    verifier: Option<Verifier>,
    limits: Limits,
}

impl BundleReader {
    /// A reader that requires `signatures/manifest.sig` to verify with `verifier`.
    pub fn new(verifier: Verifier) -> Self {
        Self {
            verifier: Some(verifier),
            limits: Limits::default(),
        }
    }

    /// A reader that checks everything except the signature against keys: the result says
    /// [`SignatureStatus::NotChecked`]. Integrity without authenticity.
    pub fn dangerous_skip_signature() -> Self {
        Self {
            verifier: None,
            limits: Limits::default(),
        }
    }

    /// Replaces the size limits.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Verifies a bundle read from `input`.
    ///
    /// # Errors
    /// The first [`BundleError`] found.
    pub fn verify(&self, input: impl Read) -> Result<VerifiedBundle, BundleError> {
        self.read(input, &mut NoVisitor)
    }

    /// Verifies the bundle file at `path`.
    ///
    /// # Errors
    /// As [`BundleReader::verify`], or [`BundleError::Io`] when it cannot be opened.
    pub fn verify_file(&self, path: &Path) -> Result<VerifiedBundle, BundleError> {
        let file = File::open(path)
            .map_err(|e| BundleError::io(format!("opening {}", path.display()), e))?;
        self.verify(file)
    }

    /// Verifies a bundle and collects the records of every OTLP file, in order. Convenient
    /// for small bundles; use [`BundleReader::read`] with a visitor to stream large ones.
    ///
    /// # Errors
    /// As [`BundleReader::verify`].
    pub fn read_records(
        &self,
        input: impl Read,
    ) -> Result<(VerifiedBundle, SignalRecords), BundleError> {
        struct Collect(Vec<(Signal, Vec<u8>)>);
        impl BundleVisitor for Collect {
            fn record(&mut self, signal: Signal, record: &[u8]) -> io::Result<()> {
                self.0.push((signal, record.to_vec()));
                Ok(())
            }
        }
        let mut collect = Collect(Vec::new());
        let verified = self.read(input, &mut collect)?;
        Ok((verified, collect.0))
    }

    /// Verifies the bundle at `bundle` and extracts its payload files, `manifest.json` and
    /// `signatures/manifest.sig` into the new directory `out`. Files are written to a
    /// temporary directory beside `out`, which is renamed to `out` only when every check
    /// passed: a bad bundle leaves nothing behind.
    ///
    /// # Errors
    /// [`BundleError::InvalidInput`] when `out` exists, else as [`BundleReader::verify`].
    pub fn extract(&self, bundle: &Path, out: &Path) -> Result<VerifiedBundle, BundleError> {
        if out.exists() {
            return Err(BundleError::InvalidInput {
                detail: format!(
                    "expected {} not to exist (extract never overwrites), found it",
                    out.display()
                ),
            });
        }
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let staging = tempfile::Builder::new()
            .prefix(".extract-")
            .tempdir_in(&parent)
            .map_err(|e| {
                BundleError::io(format!("creating a directory in {}", parent.display()), e)
            })?;
        let file = File::open(bundle)
            .map_err(|e| BundleError::io(format!("opening {}", bundle.display()), e))?;
        let mut visitor = Extractor {
            root: staging.path().to_path_buf(),
            current: None,
        };
        let verified = self.read(file, &mut visitor)?;
        let write = |path: &str, bytes: &[u8]| -> Result<(), BundleError> {
            let target = staging.path().join(path);
            if let Some(dir) = target.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| BundleError::io(format!("creating {}", dir.display()), e))?;
            }
            std::fs::write(&target, bytes)
                .map_err(|e| BundleError::io(format!("writing {}", target.display()), e))
        };
        write(MANIFEST_PATH, verified.manifest_json())?;
        write(SIGNATURE_PATH, verified.signature_json())?;
        let staged = staging.keep();
        std::fs::rename(&staged, out).map_err(|e| {
            let _ = std::fs::remove_dir_all(&staged);
            BundleError::io(format!("renaming into {}", out.display()), e)
        })?;
        Ok(verified)
    }

    /// Verifies a bundle read from `input`, handing its contents to `visitor` as they stream.
    ///
    /// # Errors
    /// The first [`BundleError`] found; `visitor` then must discard what it received.
    pub fn read(
        &self,
        input: impl Read,
        visitor: &mut dyn BundleVisitor,
    ) -> Result<VerifiedBundle, BundleError> {
        let raw_count = Rc::new(Cell::new(0u64));
        let raw_hash = Rc::new(RefCell::new(Sha256::new()));
        let raw = RawReader {
            inner: input,
            count: Rc::clone(&raw_count),
            hash: Rc::clone(&raw_hash),
        };
        let mut decoder = Decoder::open(raw)?;
        let guarded = GuardedReader {
            inner: &mut decoder,
            raw_count: Rc::clone(&raw_count),
            count: 0,
            limits: self.limits,
        };
        let mut archive = tar::Archive::new(guarded);
        let (manifest, manifest_json, (signature, signature_json)) =
            read_entries(&mut archive, &self.limits, self.verifier.as_ref(), visitor)?;
        let mut guarded = archive.into_inner();
        // The end of the archive: exactly two 512-byte zero blocks; tar stops after the
        // first, so exactly one more must follow, then the end of the compressed stream.
        let mut tail = Vec::new();
        (&mut guarded)
            .take(1025)
            .read_to_end(&mut tail)
            .map_err(|e| classify(e, ARCHIVE))?;
        if tail.len() != 512 || tail.iter().any(|b| *b != 0) {
            return Err(BundleError::Corrupt {
                file: ARCHIVE.into(),
                detail: format!(
                    "expected the archive to end with two 512-byte zero blocks, found {} more bytes after the first",
                    tail.len()
                ),
            });
        }
        decoder.finish()?;
        if manifest.compression != decoder.name() {
            return Err(BundleError::manifest(format!(
                "expected compression {:?} (how the bundle is compressed), found {:?}",
                decoder.name(),
                manifest.compression
            )));
        }
        let sha256 = format!(
            "sha256:{}",
            hex::encode(raw_hash.borrow().clone().finalize())
        );
        Ok(VerifiedBundle {
            manifest,
            manifest_json,
            signature_json,
            signature,
            sha256,
            size: raw_count.get(),
        })
    }
}

//! [`BundleReader`]: the strict, streaming verifier. It reads a bundle once, front to back,
//! checking the compression header, every tar header, the manifest, the DSSE signature,
//! every file's size, digest and record count, and refuses anything the format does not allow.
//!
//! Records and file bytes reach a [`BundleVisitor`] as they stream past; a file's digest is
//! known only at its end, so a visitor must discard what it saw when the result is an error
//! ([`BundleReader::extract`] does).

use crate::error::BundleError;
use crate::framing::{FramingError, RecordReader};
use crate::manifest::{
    FileEntry, MANIFEST_PATH, MANIFEST_PAYLOAD_TYPE, Manifest, SIGNATURE_PATH, Signal,
    check_entry_path,
};
use crate::writer::{GZIP_HEADER, STREAM_DIGEST_LEN, ZSTD_HEADER, ZSTD_SKIPPABLE_HEADER};
use sha2::{Digest, Sha256};
use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use stellaops_federation_dsse::{Envelope, Verifier};

/// Size limits that bound what a hostile bundle can make a reader do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest payload file (tar entry) accepted. Default 64 GiB.
    pub max_entry_size: u64,
    /// Largest `manifest.json` / `signatures/manifest.sig`. Default 16 MiB.
    pub max_metadata_size: u64,
    /// Largest decompressed archive. Default 256 GiB.
    pub max_total_size: u64,
    /// Largest ratio of decompressed to compressed bytes (after the first
    /// [`Limits::ratio_slack`] bytes). Default 200.
    pub max_ratio: u64,
    /// Decompressed bytes allowed before the ratio applies. Default 4 MiB.
    pub ratio_slack: u64,
    /// Largest OTLP record. Default [`crate::framing::DEFAULT_MAX_RECORD_SIZE`].
    pub max_record_size: u32,
    /// Most entries in the archive. Default 10 000.
    pub max_entries: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_entry_size: 64 << 30,
            max_metadata_size: 16 << 20,
            max_total_size: 256 << 30,
            max_ratio: 200,
            ratio_slack: 4 << 20,
            max_record_size: crate::framing::DEFAULT_MAX_RECORD_SIZE,
            max_entries: 10_000,
        }
    }
}

/// What became of `signatures/manifest.sig`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureStatus {
    /// Verified against the trusted keys; the key ids that verified.
    Verified {
        /// Key ids of the trusted keys whose signatures verified.
        key_ids: Vec<String>,
    },
    /// Not checked against keys (the reader was built with
    /// [`BundleReader::dangerous_skip_signature`]). The envelope is well formed, has the
    /// manifest payload type and carries exactly `manifest.json`.
    NotChecked {
        /// The envelope is the explicit unsigned fallback (no signer was available).
        unsigned: bool,
        /// The envelope's signature key ids (hints only: nothing was verified).
        claimed_key_ids: Vec<String>,
    },
}

/// A bundle whose every check passed.
#[derive(Clone, Debug)]
pub struct VerifiedBundle {
    manifest: Manifest,
    manifest_json: Vec<u8>,
    signature_json: Vec<u8>,
    signature: SignatureStatus,
    sha256: String,
    size: u64,
}

impl VerifiedBundle {
    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }
    /// The exact `manifest.json` bytes (canonical JSON).
    pub fn manifest_json(&self) -> &[u8] {
        &self.manifest_json
    }
    /// The exact `signatures/manifest.sig` bytes (the DSSE envelope JSON).
    pub fn signature_json(&self) -> &[u8] {
        &self.signature_json
    }
    /// The signature check.
    pub fn signature(&self) -> &SignatureStatus {
        &self.signature
    }
    /// `sha256:<hex>` of the whole bundle file.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
    /// Bundle size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }
}

/// Receives a bundle's contents while [`BundleReader::read`] verifies it. Every hook has a
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

/// The manifest, its bytes, and the signature check with the envelope bytes.
type Metadata = (Manifest, Vec<u8>, (SignatureStatus, Vec<u8>));

struct NoVisitor;
impl BundleVisitor for NoVisitor {}

/// Verifies and reads bundles.
///
/// ```
/// use stellaops_bundle_format::BundleReader;
/// use stellaops_federation_dsse::{TrustedKeys, Verifier};
/// let reader = BundleReader::new(Verifier::new(TrustedKeys::new()));
/// let err = reader.verify(&b"not a bundle"[..]).unwrap_err();
/// assert_eq!(err.code(), "bundle.not_a_bundle");
/// ```
#[derive(Debug)]
pub struct BundleReader {
    verifier: Option<Verifier>,
    limits: Limits,
}

const ARCHIVE: &str = "(archive)";

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
            self.read_entries(&mut archive, visitor)?;
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

    fn read_entries<R: Read>(
        &self,
        archive: &mut tar::Archive<R>,
        visitor: &mut dyn BundleVisitor,
    ) -> Result<Metadata, BundleError> {
        let mut entries = archive
            .entries()
            .map_err(|e| classify(e, ARCHIVE))?
            .raw(true);
        let mut manifest: Option<(Manifest, Vec<u8>)> = None;
        let mut signature: Option<(SignatureStatus, Vec<u8>)> = None;
        let mut seen: HashSet<String> = HashSet::new();
        let mut previous: Option<String> = None;
        let mut index: u64 = 0;
        let mut next_listed = 0usize;
        loop {
            let current = previous.clone().unwrap_or_else(|| ARCHIVE.to_owned());
            let Some(entry) = entries.next() else { break };
            let mut entry = entry.map_err(|e| classify(e, &format!("entry after {current}")))?;
            index += 1;
            if index > self.limits.max_entries {
                return Err(BundleError::LimitExceeded {
                    file: ARCHIVE.into(),
                    detail: format!("expected at most {} entries", self.limits.max_entries),
                });
            }
            let path = check_header(&entry)?;
            if !seen.insert(path.clone()) {
                return Err(BundleError::DuplicateEntry { file: path });
            }
            let size = entry.header().size().map_err(|e| classify(e, &path))?;
            match index {
                1 | 2 => {
                    let expected = if index == 1 {
                        MANIFEST_PATH
                    } else {
                        SIGNATURE_PATH
                    };
                    if path != expected {
                        return Err(if index == 1 || path != MANIFEST_PATH {
                            BundleError::OutOfOrder {
                                file: path,
                                detail: format!("expected entry {index} to be {expected}"),
                            }
                        } else {
                            BundleError::DuplicateEntry { file: path }
                        });
                    }
                    if size > self.limits.max_metadata_size {
                        return Err(BundleError::LimitExceeded {
                            file: path,
                            detail: format!(
                                "expected at most {} bytes, found a header size of {size}",
                                self.limits.max_metadata_size
                            ),
                        });
                    }
                    let mut bytes = Vec::new();
                    entry
                        .read_to_end(&mut bytes)
                        .map_err(|e| classify(e, &path))?;
                    if bytes.len() as u64 != size {
                        return Err(BundleError::Truncated {
                            file: path,
                            detail: format!("expected {size} bytes, found {}", bytes.len()),
                        });
                    }
                    if index == 1 {
                        manifest = Some((Manifest::from_bytes(&bytes)?, bytes));
                    } else if let Some((_, manifest_json)) = &manifest {
                        signature = Some((self.check_signature(&bytes, manifest_json)?, bytes));
                    }
                }
                _ => {
                    let Some((m, _)) = &manifest else {
                        return Err(BundleError::MissingFile {
                            file: MANIFEST_PATH.into(),
                        });
                    };
                    if let Some(p) = &previous
                        && index > 3
                        && p.as_bytes() >= path.as_bytes()
                    {
                        return Err(BundleError::OutOfOrder {
                            file: path,
                            detail: format!(
                                "expected payload entries sorted by path, found it after {p}"
                            ),
                        });
                    }
                    let Some(listed) = m.file(&path) else {
                        return Err(BundleError::ExtraFile { file: path });
                    };
                    // Sorted entries and a sorted manifest: anything skipped is missing.
                    if let Some(skipped) = m.files.get(next_listed)
                        && skipped.path != path
                    {
                        return Err(BundleError::MissingFile {
                            file: skipped.path.clone(),
                        });
                    }
                    next_listed += 1;
                    if size != listed.size {
                        return Err(BundleError::SizeMismatch {
                            file: path,
                            expected: listed.size,
                            found: size,
                        });
                    }
                    if size > self.limits.max_entry_size {
                        return Err(BundleError::LimitExceeded {
                            file: path,
                            detail: format!(
                                "expected entries of at most {} bytes, found {size}",
                                self.limits.max_entry_size
                            ),
                        });
                    }
                    self.read_payload(&mut entry, listed, visitor)?;
                }
            }
            previous = Some(path);
        }
        let Some((manifest, manifest_json)) = manifest else {
            return Err(BundleError::MissingFile {
                file: MANIFEST_PATH.into(),
            });
        };
        let Some(signature) = signature else {
            return Err(BundleError::MissingFile {
                file: SIGNATURE_PATH.into(),
            });
        };
        if let Some(missing) = manifest.files.get(next_listed) {
            return Err(BundleError::MissingFile {
                file: missing.path.clone(),
            });
        }
        Ok((manifest, manifest_json, signature))
    }

    fn check_signature(
        &self,
        bytes: &[u8],
        manifest_json: &[u8],
    ) -> Result<SignatureStatus, BundleError> {
        let sig = |source| BundleError::Signature { source };
        match &self.verifier {
            Some(verifier) => {
                let verified = verifier
                    .verify_json(bytes, MANIFEST_PAYLOAD_TYPE)
                    .map_err(sig)?;
                if verified.payload() != manifest_json {
                    return Err(BundleError::SignedPayloadMismatch);
                }
                Ok(SignatureStatus::Verified {
                    key_ids: verified.verified_key_ids().to_vec(),
                })
            }
            None => {
                let envelope = Envelope::from_json(bytes).map_err(sig)?;
                if envelope.payload_type != MANIFEST_PAYLOAD_TYPE {
                    return Err(BundleError::Signature {
                        source: stellaops_federation_dsse::DsseError::PayloadTypeMismatch {
                            expected: MANIFEST_PAYLOAD_TYPE.into(),
                            found: envelope.payload_type,
                        },
                    });
                }
                if envelope.payload != manifest_json {
                    return Err(BundleError::SignedPayloadMismatch);
                }
                Ok(SignatureStatus::NotChecked {
                    unsigned: envelope.is_unsigned_fallback(),
                    claimed_key_ids: envelope
                        .signatures
                        .iter()
                        .map(|s| s.keyid.clone())
                        .collect(),
                })
            }
        }
    }

    fn read_payload(
        &self,
        entry: &mut impl Read,
        listed: &FileEntry,
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
            let mut reader =
                RecordReader::new(&mut tee).max_record_size(self.limits.max_record_size);
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
}

/// Checks an entry's header: a ustar regular file with a safe, UTF-8 path. Returns the path.
fn check_header<R: Read>(entry: &tar::Entry<'_, R>) -> Result<String, BundleError> {
    let header = entry.header();
    let raw = header.path_bytes();
    let file = String::from_utf8_lossy(&raw).into_owned();
    let entry_type = header.entry_type();
    match entry_type {
        tar::EntryType::Regular => {}
        tar::EntryType::Symlink => {
            return Err(BundleError::Link {
                file,
                kind: "symbolic",
            });
        }
        tar::EntryType::Link => return Err(BundleError::Link { file, kind: "hard" }),
        other => {
            return Err(BundleError::UnsupportedEntry {
                file,
                found: format!("entry type {:?} ({:?})", other, other.as_byte() as char),
            });
        }
    }
    if header.as_ustar().is_none() {
        return Err(BundleError::UnsupportedEntry {
            file,
            found: "a non-ustar header (GNU or v7)".into(),
        });
    }
    let Ok(path) = std::str::from_utf8(&raw) else {
        return Err(BundleError::UnsafePath {
            file,
            detail: "expected a UTF-8 path".into(),
        });
    };
    if path != MANIFEST_PATH && path != SIGNATURE_PATH {
        check_entry_path(path).map_err(|detail| BundleError::UnsafePath {
            file: file.clone(),
            detail,
        })?;
    }
    Ok(path.to_owned())
}

/// Marks an I/O error raised by a [`Limits`] check.
#[derive(Debug)]
struct LimitHit(String);
impl std::fmt::Display for LimitHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for LimitHit {}

fn classify(e: io::Error, file: &str) -> BundleError {
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

fn framing_error(e: FramingError, file: &str) -> BundleError {
    match e {
        FramingError::Io { source, .. } => classify(source, file),
        other => BundleError::Framing {
            file: file.into(),
            source: other,
        },
    }
}

/// The raw bundle bytes: counted and hashed.
struct RawReader<R> {
    inner: R,
    count: Rc<Cell<u64>>,
    hash: Rc<RefCell<Sha256>>,
}

impl<R: Read> Read for RawReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(got) = buf.get(..n) {
            self.hash.borrow_mut().update(got);
        }
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// The bytes after the container header and its digest: hashed as they are read, so the
/// digest in the header can be checked at the end.
struct StreamReader<R> {
    inner: R,
    hash: Rc<RefCell<Sha256>>,
}

impl<R: Read> Read for StreamReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(got) = buf.get(..n) {
            self.hash.borrow_mut().update(got);
        }
        Ok(n)
    }
}

type Rewound<R> = BufReader<io::Chain<io::Cursor<Vec<u8>>, StreamReader<R>>>;

enum Codec<R: Read> {
    Gzip(Box<flate2::CrcReader<flate2::bufread::DeflateDecoder<BufReader<StreamReader<R>>>>>),
    Zstd(Box<zstd::stream::read::Decoder<'static, Rewound<R>>>),
}

struct Decoder<R: Read> {
    codec: Codec<R>,
    /// The SHA-256 the container header promises for the rest of the file.
    expected: [u8; STREAM_DIGEST_LEN],
    hash: Rc<RefCell<Sha256>>,
}

/// Reads up to `buf.len()` bytes, fewer only at the end of the input.
fn read_full(raw: &mut impl Read, buf: &mut [u8]) -> Result<usize, BundleError> {
    let mut got = 0;
    while got < buf.len() {
        let rest = buf.get_mut(got..).unwrap_or_default();
        match raw.read(rest) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(BundleError::io("reading the bundle", e)),
        }
    }
    Ok(got)
}

fn truncated_header(what: &str) -> BundleError {
    BundleError::Truncated {
        file: ARCHIVE.into(),
        detail: format!("the file ends inside the {what}"),
    }
}

impl<R: Read> Decoder<R> {
    fn open(mut raw: R) -> Result<Self, BundleError> {
        let mut magic = [0u8; 16];
        let got = read_full(&mut raw, &mut magic)?;
        let head = magic.get(..got).unwrap_or_default();
        let found = hex::encode(head);
        let gzip = head.starts_with(&[0x1f, 0x8b]);
        let zstd = head.starts_with(&[0x5d, 0x2a, 0x4d, 0x18]) || head.starts_with(&[0x28, 0xb5]);
        if gzip && magic != GZIP_HEADER {
            if got < magic.len() && GZIP_HEADER.starts_with(head) {
                return Err(truncated_header("gzip header"));
            }
            return Err(BundleError::NotABundle {
                detail: format!(
                    "expected the gzip header {} (FEXTRA with one 32-byte `SD` stream-digest subfield, MTIME 0, XFL 0, OS 255), found {found}",
                    hex::encode(GZIP_HEADER)
                ),
            });
        }
        if zstd && !magic.starts_with(&ZSTD_SKIPPABLE_HEADER) {
            if got < ZSTD_SKIPPABLE_HEADER.len() && ZSTD_SKIPPABLE_HEADER.starts_with(head) {
                return Err(truncated_header("zstd stream-digest frame"));
            }
            return Err(BundleError::NotABundle {
                detail: format!(
                    "expected a zstd bundle to start with the stream-digest skippable frame {}, found {found}",
                    hex::encode(ZSTD_SKIPPABLE_HEADER)
                ),
            });
        }
        if !gzip && !zstd {
            return Err(BundleError::NotABundle {
                detail: format!(
                    "expected a gzip stream starting {} or a zstd stream starting {}, found {found}",
                    hex::encode(GZIP_HEADER),
                    hex::encode(ZSTD_SKIPPABLE_HEADER)
                ),
            });
        }
        // What follows the fixed header: for zstd the rest of the 16 bytes read already are
        // part of the digest.
        let fixed = if gzip {
            GZIP_HEADER.len()
        } else {
            ZSTD_SKIPPABLE_HEADER.len()
        };
        let mut expected = [0u8; STREAM_DIGEST_LEN];
        let carried = magic.get(fixed..).unwrap_or_default();
        let (first, rest) = expected.split_at_mut(carried.len());
        first.copy_from_slice(carried);
        if read_full(&mut raw, rest)? < rest.len() {
            return Err(truncated_header("stream digest"));
        }
        let hash = Rc::new(RefCell::new(Sha256::new()));
        let mut stream = StreamReader {
            inner: raw,
            hash: Rc::clone(&hash),
        };
        let codec = if gzip {
            Codec::Gzip(Box::new(flate2::CrcReader::new(
                flate2::bufread::DeflateDecoder::new(BufReader::with_capacity(256 * 1024, stream)),
            )))
        } else {
            let mut frame = [0u8; ZSTD_HEADER.len()];
            let got = read_full(&mut stream, &mut frame)?;
            let head = frame.get(..got).unwrap_or_default().to_vec();
            if frame != ZSTD_HEADER {
                if got < frame.len() {
                    return Err(truncated_header("zstd frame header"));
                }
                return Err(BundleError::NotABundle {
                    detail: format!(
                        "expected the zstd frame header {} (content checksum, 2 MiB window), found {}",
                        hex::encode(ZSTD_HEADER),
                        hex::encode(&head)
                    ),
                });
            }
            let chained = io::Cursor::new(head).chain(stream);
            let decoder = zstd::stream::read::Decoder::with_buffer(BufReader::with_capacity(
                256 * 1024,
                chained,
            ))
            .map_err(|e| BundleError::io("starting the zstd decoder", e))?
            .single_frame();
            Codec::Zstd(Box::new(decoder))
        };
        Ok(Self {
            codec,
            expected,
            hash,
        })
    }

    fn name(&self) -> &'static str {
        match self.codec {
            Codec::Gzip(_) => "gzip",
            Codec::Zstd(_) => "zstd",
        }
    }

    /// Reads the compressed stream to its end (checking its CRC and length), checks that
    /// nothing follows it and that every byte after the header has the promised digest.
    fn finish(&mut self) -> Result<(), BundleError> {
        let mut rest = Vec::new();
        self.take(1)
            .read_to_end(&mut rest)
            .map_err(|e| classify(e, ARCHIVE))?;
        if !rest.is_empty() {
            return Err(BundleError::Corrupt {
                file: ARCHIVE.into(),
                detail:
                    "expected the compressed stream to end after the tar archive, found more data"
                        .into(),
            });
        }
        let mut trailing = Vec::new();
        match &mut self.codec {
            Codec::Gzip(d) => {
                let (crc, amount) = (d.crc().sum(), d.crc().amount());
                let input = d.get_mut().get_mut();
                let mut trailer = [0u8; 8];
                if read_full(input, &mut trailer)? < trailer.len() {
                    return Err(BundleError::Truncated {
                        file: ARCHIVE.into(),
                        detail: "the file ends inside the gzip trailer (CRC-32 and size)".into(),
                    });
                }
                let (want_crc, want_len) = trailer.split_at(4);
                if want_crc != crc.to_le_bytes() || want_len != amount.to_le_bytes() {
                    return Err(BundleError::Corrupt {
                        file: ARCHIVE.into(),
                        detail: format!(
                            "expected the gzip trailer {} (CRC-32 and size of the decompressed data), found {}",
                            hex::encode([crc.to_le_bytes(), amount.to_le_bytes()].concat()),
                            hex::encode(trailer)
                        ),
                    });
                }
                input.take(1).read_to_end(&mut trailing)
            }
            Codec::Zstd(d) => d.get_mut().take(1).read_to_end(&mut trailing),
        }
        .map_err(|e| classify(e, ARCHIVE))?;
        if !trailing.is_empty() {
            return Err(BundleError::Corrupt {
                file: ARCHIVE.into(),
                detail:
                    "expected the file to end after the compressed stream, found trailing bytes"
                        .into(),
            });
        }
        let found = self.hash.borrow().clone().finalize();
        if found.as_slice() != self.expected {
            return Err(BundleError::Corrupt {
                file: ARCHIVE.into(),
                detail: format!(
                    "expected the compressed stream to have the SHA-256 in the bundle's header ({}), found {} (the file was changed after it was written)",
                    hex::encode(self.expected),
                    hex::encode(found)
                ),
            });
        }
        Ok(())
    }
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.codec {
            Codec::Gzip(d) => d.read(buf),
            Codec::Zstd(d) => d.read(buf),
        }
    }
}

/// Decompressed bytes, checked against the total-size and ratio limits.
struct GuardedReader<'a, R> {
    inner: &'a mut R,
    raw_count: Rc<Cell<u64>>,
    count: u64,
    limits: Limits,
}

impl<R: Read> Read for GuardedReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        if self.count > self.limits.max_total_size {
            return Err(io::Error::other(LimitHit(format!(
                "expected at most {} decompressed bytes, found more",
                self.limits.max_total_size
            ))));
        }
        let raw = self.raw_count.get().max(1);
        if self.count > self.limits.ratio_slack && self.count / raw > self.limits.max_ratio {
            return Err(io::Error::other(LimitHit(format!(
                "expected a compression ratio of at most {}:1, found {} decompressed bytes from {raw} compressed (a decompression bomb?)",
                self.limits.max_ratio, self.count
            ))));
        }
        Ok(n)
    }
}

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

/// Writes payload files under a staging root.
struct Extractor {
    root: PathBuf,
    current: Option<io::BufWriter<File>>,
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

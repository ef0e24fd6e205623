//! [`BundleWriter`]: streams records into per-signal spool files next to the target, then
//! writes the reproducible archive to a temporary file, fsyncs it and renames it into place.
//!
//! Memory stays flat: records and config files go to disk as they arrive. This module does
//! not verify; see [`crate::reader`].

use crate::error::BundleError;
use crate::framing::write_record;
use crate::manifest::BundleSignal;
use crate::manifest::{
    COLLECTOR_CONFIG_PATH, FileEntry, MANIFEST_PATH, MANIFEST_PAYLOAD_TYPE, Manifest,
    SCHEMA_VERSION, SIGNATURE_PATH, Signal, Window, check_entry_path, rfc3339,
};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use stellaops_dsse::{EnvelopeSigner, UnsignedFallback, sign_envelope_with_fallback};
use stellaops_telemetry_model::clock::Clock;

/// The first 16 bytes of a gzip bundle: the member header with FEXTRA set, MTIME 0, XFL 0,
/// OS 255 (unknown), XLEN 36, and the header of the one extra subfield, `SD` (stream digest),
/// 32 bytes long. The subfield's data, the SHA-256 of every byte after the header (the deflate
/// stream and the CRC-32/ISIZE trailer), follows; then the deflate stream. Tools that do not
/// know the subfield skip it (RFC 1952 §2.3.1.1), so `tar -xzf` still reads a bundle.
pub const GZIP_HEADER: [u8; 16] = [
    0x1f, 0x8b, 0x08, 0x04, 0, 0, 0, 0, 0x00, 0xff, 36, 0, b'S', b'D', 32, 0,
];

/// The first 8 bytes of a zstd bundle: a skippable frame (RFC 8878 §3.1.2, magic
/// `0x184D2A5D`) of 32 bytes holding the SHA-256 of every byte after it (the zstd frame).
/// Decoders skip it, so `zstd -d` and `tar --zstd -xf` still read a bundle.
pub const ZSTD_SKIPPABLE_HEADER: [u8; 8] = [0x5d, 0x2a, 0x4d, 0x18, 32, 0, 0, 0];

/// The exact 6-byte zstd frame header that follows the skippable frame: magic, frame header
/// descriptor `0x04` (content checksum; no content size, no dictionary id, not
/// single-segment) and window descriptor `0x58` (2 MiB window).
pub const ZSTD_HEADER: [u8; 6] = [0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58];

/// Length of the stream digest that follows [`GZIP_HEADER`] or [`ZSTD_SKIPPABLE_HEADER`].
pub const STREAM_DIGEST_LEN: usize = 32;

/// zstd compression level the writer uses.
pub const ZSTD_LEVEL: i32 = 3;

/// gzip (deflate) compression level the writer uses.
pub const GZIP_LEVEL: u32 = 6;

/// The archive's compression.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compression {
    /// gzip (RFC 1952) with the fixed [`GZIP_HEADER`] and its stream digest: the default.
    #[default]
    Gzip,
    /// Zstandard (RFC 8878): the stream digest in a skippable frame, then one frame with the
    /// fixed [`ZSTD_HEADER`] and a content checksum.
    Zstd,
}

impl Compression {
    /// The manifest's `compression` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gzip => "gzip",
            Self::Zstd => "zstd",
        }
    }

    /// The fixed bytes before the stream digest: [`GZIP_HEADER`] or [`ZSTD_SKIPPABLE_HEADER`].
    pub fn container_header(self) -> &'static [u8] {
        match self {
            Self::Gzip => &GZIP_HEADER,
            Self::Zstd => &ZSTD_SKIPPABLE_HEADER,
        }
    }
}

/// What the manifest says about the bundle besides its files.
#[derive(Clone, Debug)]
pub struct BundleOptions {
    /// Tenant the records belong to.
    pub tenant: String,
    /// Telemetry profile in force.
    pub profile: String,
    /// The time window covered.
    pub window: Option<Window>,
    /// The archive compression.
    pub compression: Compression,
    /// `sha256:<hex>` of the redaction policy applied (see
    /// [`sha256_digest`](crate::manifest::sha256_digest)).
    pub redaction_policy_sha256: Option<String>,
}

impl BundleOptions {
    /// Options for `tenant` and `profile`, gzip, no window, no redaction digest.
    pub fn new(tenant: impl Into<String>, profile: impl Into<String>) -> Self {
        Self {
            tenant: tenant.into(),
            profile: profile.into(),
            window: None,
            compression: Compression::Gzip,
            redaction_policy_sha256: None,
        }
    }
}

/// A finished bundle.
#[derive(Clone, Debug)]
pub struct WrittenBundle {
    /// Where it is.
    pub path: PathBuf,
    /// `sha256:<hex>` of the whole bundle file.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
    /// The manifest it carries.
    pub manifest: Manifest,
}

struct Spool {
    file: BufWriter<File>,
    hasher: Sha256,
    size: u64,
    records: u64,
}

impl Spool {
    fn new(dir: &Path) -> io::Result<Self> {
        Ok(Self {
            file: BufWriter::with_capacity(256 * 1024, tempfile::tempfile_in(dir)?),
            hasher: Sha256::new(),
            size: 0,
            records: 0,
        })
    }
}

impl Write for Spool {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        if let Some(done) = buf.get(..n) {
            self.hasher.update(done);
        }
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Writes one bundle: records stream to disk, [`BundleWriter::finish`] signs and publishes.
///
/// ```
/// use stellaops_bundle_format::{BundleOptions, BundleReader, BundleWriter, ManualClock, Signal};
/// use stellaops_dsse::{HmacSha256Key, TrustedKeys, Verifier};
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("bundle.tar.gz");
/// let clock = ManualClock::new("2025-01-01T00:00:00Z".parse()?);
/// let mut writer = BundleWriter::create(&path, BundleOptions::new("acme", "forensic"), &clock)?;
/// writer.write_record(Signal::Traces, b"\x0a\x00")?;
/// let key = HmacSha256Key::new("site-key", vec![7u8; 32])?;
/// let written = writer.finish(&[&key])?;
///
/// let reader = BundleReader::new(Verifier::new(TrustedKeys::new().with(key)?));
/// let verified = reader.verify(std::fs::File::open(&path)?)?;
/// assert_eq!(verified.manifest().bundle_id, written.manifest.bundle_id);
/// assert_eq!(verified.sha256(), written.sha256);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct BundleWriter {
    target: PathBuf,
    dir: PathBuf,
    options: BundleOptions,
    created_at: DateTime<Utc>,
    signals: BTreeMap<Signal, Spool>,
    configs: BTreeMap<String, Spool>,
}

impl std::fmt::Debug for BundleWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BundleWriter")
            .field("target", &self.target)
            .field("signals", &self.signals.keys().collect::<Vec<_>>())
            .field("configs", &self.configs.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl BundleWriter {
    /// Starts a bundle that [`finish`](Self::finish) will publish at `target`; the creation
    /// time is read from `clock` now. Spool files go in `target`'s directory (unnamed,
    /// removed by the OS when dropped).
    ///
    /// # Errors
    /// [`BundleError::InvalidInput`] for a target without a file name, [`BundleError::Io`]
    /// when the directory is not writable.
    pub fn create(
        target: impl AsRef<Path>,
        options: BundleOptions,
        clock: &dyn Clock,
    ) -> Result<Self, BundleError> {
        let target = target.as_ref().to_path_buf();
        if target.file_name().is_none() {
            return Err(BundleError::InvalidInput {
                detail: format!("expected a bundle file path, found {}", target.display()),
            });
        }
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            return Err(BundleError::InvalidInput {
                detail: format!("expected an existing directory, found {}", dir.display()),
            });
        }
        Ok(Self {
            target,
            dir,
            options,
            created_at: clock.now(),
            signals: BTreeMap::new(),
            configs: BTreeMap::new(),
        })
    }

    /// Appends one `Export*ServiceRequest` record to `signal`'s file. Records keep the order
    /// in which they are written (callers write them ordered by (timestamp, traceId)).
    ///
    /// # Errors
    /// [`BundleError::Io`] when the spool cannot be written.
    pub fn write_record(&mut self, signal: Signal, record: &[u8]) -> Result<(), BundleError> {
        let spool = match self.signals.entry(signal) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => e.insert(
                Spool::new(&self.dir).map_err(|e| BundleError::io("creating a spool file", e))?,
            ),
        };
        write_record(spool, record)
            .map_err(|e| BundleError::io(format!("spooling {}", signal.bundle_path()), e))?;
        spool.records += 1;
        Ok(())
    }

    /// Includes `signal`'s file even when no record is written (an empty file, 0 records).
    ///
    /// # Errors
    /// [`BundleError::Io`] when the spool cannot be created.
    pub fn include_signal(&mut self, signal: Signal) -> Result<(), BundleError> {
        if !self.signals.contains_key(&signal) {
            let spool =
                Spool::new(&self.dir).map_err(|e| BundleError::io("creating a spool file", e))?;
            self.signals.insert(signal, spool);
        }
        Ok(())
    }

    /// Adds a file under `config/` (e.g. `config/dashboards/platform.json`), streamed from
    /// `contents`. `config/collector.yaml` also sets the manifest's `collectorConfigSha256`.
    ///
    /// # Errors
    /// [`BundleError::InvalidInput`] for a path outside `config/`, not normalized or already
    /// added; [`BundleError::Io`] when reading or spooling fails.
    pub fn add_config_file(
        &mut self,
        path: &str,
        mut contents: impl Read,
    ) -> Result<(), BundleError> {
        if !path.starts_with("config/") {
            return Err(BundleError::InvalidInput {
                detail: format!("expected a path under config/, found {path:?}"),
            });
        }
        check_entry_path(path).map_err(|detail| BundleError::InvalidInput { detail })?;
        if self.configs.contains_key(path) {
            return Err(BundleError::InvalidInput {
                detail: format!("{path}: added twice"),
            });
        }
        let mut spool =
            Spool::new(&self.dir).map_err(|e| BundleError::io("creating a spool file", e))?;
        io::copy(&mut contents, &mut spool)
            .map_err(|e| BundleError::io(format!("reading {path}"), e))?;
        self.configs.insert(path.to_owned(), spool);
        Ok(())
    }

    /// Builds the manifest, signs it with every signer (none: an explicit unsigned-fallback
    /// envelope that verifiers refuse), writes the archive to a temporary file in the target's
    /// directory, fsyncs it, renames it over `target` and fsyncs the directory.
    ///
    /// # Errors
    /// [`BundleError::Signature`] when signing fails, [`BundleError::Io`] on any I/O error;
    /// the target is then untouched.
    pub fn finish(self, signers: &[&dyn EnvelopeSigner]) -> Result<WrittenBundle, BundleError> {
        let Self {
            target,
            dir,
            options,
            created_at,
            signals,
            configs,
        } = self;
        let mut sources: BTreeMap<String, (Option<u64>, Spool)> = BTreeMap::new();
        for (signal, spool) in signals {
            let records = spool.records;
            sources.insert(signal.bundle_path().to_owned(), (Some(records), spool));
        }
        for (path, spool) in configs {
            sources.insert(path, (None, spool));
        }
        let mut files = Vec::with_capacity(sources.len());
        let mut readers = Vec::with_capacity(sources.len());
        for (path, (records, spool)) in sources {
            let digest = format!("sha256:{}", hex::encode(spool.hasher.finalize()));
            let size = spool.size;
            let mut file = spool
                .file
                .into_inner()
                .map_err(|e| BundleError::io(format!("flushing {path}"), e.into_error()))?;
            file.seek(SeekFrom::Start(0))
                .map_err(|e| BundleError::io(format!("rewinding {path}"), e))?;
            files.push(FileEntry {
                path: path.clone(),
                size,
                sha256: digest,
                records,
            });
            readers.push((path, size, file));
        }
        let collector_config_sha256 = files
            .iter()
            .find(|f| f.path == COLLECTOR_CONFIG_PATH)
            .map(|f| f.sha256.clone());
        let mut manifest = Manifest {
            schema_version: SCHEMA_VERSION,
            bundle_id: String::new(),
            tenant: options.tenant,
            profile: options.profile,
            window: options.window,
            created_at: rfc3339(created_at),
            compression: options.compression.as_str().to_owned(),
            collector_config_sha256,
            redaction_policy_sha256: options.redaction_policy_sha256,
            files,
        };
        manifest.bundle_id = manifest.compute_bundle_id()?;
        let manifest_json = manifest.to_canonical_json()?;
        // Refuse a manifest our own reader would refuse (bad digests, paths).
        Manifest::from_bytes(&manifest_json)?;
        let fallback = UnsignedFallback::from(signers.is_empty());
        let envelope = sign_envelope_with_fallback(
            signers,
            MANIFEST_PAYLOAD_TYPE,
            manifest_json.clone(),
            fallback,
        )
        .map_err(|source| BundleError::Signature { source })?;
        let signature = envelope.to_json().into_bytes();

        let mtime = u64::try_from(created_at.timestamp())
            .unwrap_or(0)
            .min(0o777_7777_7777);
        let temp = tempfile::Builder::new()
            .prefix(".bundle-")
            .suffix(".partial")
            .tempfile_in(&dir)
            .map_err(|e| {
                BundleError::io(format!("creating a temporary file in {}", dir.display()), e)
            })?;
        // The compressed stream goes after the container header and its digest; both are
        // written once the stream is complete, then the whole file is hashed.
        let header = options.compression.container_header();
        let body_offset = (header.len() + STREAM_DIGEST_LEN) as u64;
        let mut file = temp
            .as_file()
            .try_clone()
            .map_err(|e| BundleError::io("opening the temporary file", e))?;
        file.seek(SeekFrom::Start(body_offset))
            .map_err(|e| BundleError::io("seeking in the temporary file", e))?;
        let out = HashingWriter {
            inner: BufWriter::with_capacity(256 * 1024, file),
            hasher: Sha256::new(),
            size: 0,
        };
        let out = write_archive(
            out,
            options.compression,
            mtime,
            &manifest_json,
            &signature,
            readers,
        )
        .map_err(|e| BundleError::io(format!("writing {}", target.display()), e))?;
        let HashingWriter {
            inner,
            hasher: stream_hasher,
            size: stream_size,
        } = out;
        let mut file = inner
            .into_inner()
            .map_err(|e| BundleError::io("flushing the bundle", e.into_error()))?;
        let (sha256, size) = (|| {
            file.seek(SeekFrom::Start(0))?;
            file.write_all(header)?;
            file.write_all(&stream_hasher.finalize())?;
            file.seek(SeekFrom::Start(0))?;
            let mut whole = HashingWriter {
                inner: io::sink(),
                hasher: Sha256::new(),
                size: 0,
            };
            io::copy(&mut (&mut file).take(body_offset + stream_size), &mut whole)?;
            file.sync_all()?;
            Ok::<_, io::Error>((whole.hasher.finalize(), whole.size))
        })()
        .map_err(|e| BundleError::io(format!("finishing {}", target.display()), e))?;
        drop(file);
        temp.persist(&target).map_err(|e| {
            BundleError::io(
                format!("renaming the bundle to {}", target.display()),
                e.error,
            )
        })?;
        // Make the rename durable; not every platform can fsync a directory.
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(WrittenBundle {
            path: target,
            sha256: format!("sha256:{}", hex::encode(sha256)),
            size,
            manifest,
        })
    }
}

struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        if let Some(done) = buf.get(..n) {
            self.hasher.update(done);
        }
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The ustar header every entry gets: only path, size, mtime and checksum vary.
fn entry_header(path: &str, size: u64, mtime: u64) -> io::Result<tar::Header> {
    let mut header = tar::Header::new_ustar();
    header.set_path(path)?;
    header.set_size(size);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(mtime);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    Ok(header)
}

/// How many bytes of tar the compressor is handed at a time. The compressed bytes of some
/// compressors (zlib-rs among them) depend on how the input is split into calls, so the
/// writer always feeds exactly this much (the last call less): the output depends only on
/// the tar, the compressor and its level.
pub const COMPRESSOR_INPUT_CHUNK: usize = 64 * 1024;

/// Hands `inner` the bytes written to it in calls of exactly [`COMPRESSOR_INPUT_CHUNK`] bytes
/// (the last one shorter, on [`Chunked::finish`]). `flush` does not reach `inner`: a
/// compressor flush would change the stream.
struct Chunked<W: Write> {
    inner: W,
    buf: Vec<u8>,
}

impl<W: Write> Chunked<W> {
    fn new(inner: W) -> Self {
        Self {
            inner,
            buf: Vec::with_capacity(COMPRESSOR_INPUT_CHUNK),
        }
    }

    fn finish(mut self) -> io::Result<W> {
        if !self.buf.is_empty() {
            self.inner.write_all(&self.buf)?;
        }
        Ok(self.inner)
    }
}

impl<W: Write> Write for Chunked<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = COMPRESSOR_INPUT_CHUNK - self.buf.len();
        let taken = data.get(..room.min(data.len())).unwrap_or(data);
        self.buf.extend_from_slice(taken);
        if self.buf.len() == COMPRESSOR_INPUT_CHUNK {
            self.inner.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(taken.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn write_archive<W: Write>(
    out: W,
    compression: Compression,
    mtime: u64,
    manifest: &[u8],
    signature: &[u8],
    files: Vec<(String, u64, File)>,
) -> io::Result<W> {
    match compression {
        Compression::Gzip => {
            // The member header is written by the caller; here the deflate stream and the
            // trailer: CRC-32 and size (mod 2^32) of the uncompressed data, little-endian.
            let encoder = flate2::CrcWriter::new(flate2::write::DeflateEncoder::new(
                out,
                flate2::Compression::new(GZIP_LEVEL),
            ));
            let encoder =
                write_tar(Chunked::new(encoder), mtime, manifest, signature, files)?.finish()?;
            let (crc, amount) = (encoder.crc().sum(), encoder.crc().amount());
            let mut out = encoder.into_inner().finish()?;
            out.write_all(&crc.to_le_bytes())?;
            out.write_all(&amount.to_le_bytes())?;
            Ok(out)
        }
        Compression::Zstd => {
            let mut encoder = zstd::stream::write::Encoder::new(out, ZSTD_LEVEL)?;
            encoder.include_checksum(true)?;
            encoder.include_contentsize(false)?;
            encoder.include_dictid(false)?;
            encoder.window_log(21)?;
            encoder.long_distance_matching(false)?;
            let encoder =
                write_tar(Chunked::new(encoder), mtime, manifest, signature, files)?.finish()?;
            encoder.finish()
        }
    }
}

fn write_tar<W: Write>(
    out: W,
    mtime: u64,
    manifest: &[u8],
    signature: &[u8],
    files: Vec<(String, u64, File)>,
) -> io::Result<W> {
    let mut builder = tar::Builder::new(out);
    builder.append(
        &entry_header(MANIFEST_PATH, manifest.len() as u64, mtime)?,
        manifest,
    )?;
    builder.append(
        &entry_header(SIGNATURE_PATH, signature.len() as u64, mtime)?,
        signature,
    )?;
    for (path, size, file) in files {
        let header = entry_header(&path, size, mtime)?;
        builder.append(
            &header,
            io::BufReader::with_capacity(256 * 1024, file).take(size),
        )?;
    }
    builder.into_inner()
}

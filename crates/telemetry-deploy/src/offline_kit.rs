//! The Offline Kit: everything an air-gapped site needs to run its collector
//! tier and to carry telemetry out and replay it: the profile's collector configs, Grafana
//! dashboards, Prometheus alert rules, the redaction policy, a README with bootstrap and
//! replay instructions, a SHA-256 manifest of every file and a DSSE envelope over the
//! manifest. Written as a directory and as a reproducible tarball (same inputs, same bytes).
//!
//! Not an installer: the README says what goes where; the operator's tooling puts it there.
//!
//! ```
//! use stellaops_dsse::{Ed25519Signer, TrustedKeys, Verifier};
//! use stellaops_telemetry_model::profile::Profile;
//! use stellaops_telemetry_deploy::collector::Site;
//! use stellaops_telemetry_deploy::offline_kit::{OfflineKit, verify_dir, KitSignature};
//!
//! let profile = Profile::by_name("airgap").unwrap();
//! let signer = Ed25519Signer::generate()?;
//! let kit = OfflineKit::build(&profile, &Site::for_profile(&profile), Some(&signer))?;
//! let dir = tempfile::tempdir()?;
//! let out = dir.path().join("kit");
//! kit.write_dir(&out)?;
//!
//! let trusted = TrustedKeys::new().with(signer.public_key().verifier(signer.key_id()))?;
//! let report = verify_dir(&out, Some(&Verifier::new(trusted.clone())))?;
//! assert!(matches!(report.signature, KitSignature::Verified { .. }));
//!
//! // Any change is found, and the message names the file.
//! std::fs::write(out.join("README.md"), "edited")?;
//! let err = verify_dir(&out, Some(&Verifier::new(trusted))).unwrap_err();
//! assert!(err.to_string().starts_with("README.md: expected sha256"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::alerts::RULES_FILE;
use crate::bundle::{BundleFile, ConfigBundle, GRAFANA_DASHBOARD_DIR};
use crate::collector::Site;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};
use stellaops_dsse::{
    DsseError, Envelope, EnvelopeSigner, UnsignedFallback, Verifier, sign_envelope_with_fallback,
};
use stellaops_telemetry_model::profile::Profile;

/// The manifest's `schema`.
pub const KIT_SCHEMA: &str = "stellaops.telemetry.offline-kit/v1";
/// The DSSE payload type of the signed kit manifest.
pub const KIT_PAYLOAD_TYPE: &str =
    "application/vnd.stellaops.telemetry.offline-kit-manifest.v1+json";
/// Path of the manifest inside a kit.
pub const KIT_MANIFEST_PATH: &str = "manifest.json";
/// Path of the DSSE envelope inside a kit.
pub const KIT_SIGNATURE_PATH: &str = "signatures/manifest.dsse.json";
/// Path of the redaction policy inside a kit.
pub const REDACTION_POLICY_PATH: &str = "redaction/policy.json";
/// Path of the README inside a kit.
pub const README_PATH: &str = "README.md";
/// Largest file a verifier reads from a kit: 64 MiB.
pub const MAX_KIT_FILE: u64 = 64 << 20;
/// Most files a verifier accepts in a kit.
pub const MAX_KIT_FILES: usize = 10_000;

/// Why a kit could not be built, written or verified. Verification errors name the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KitError {
    /// Rendering the profile's configs failed.
    #[error(transparent)]
    Render(#[from] crate::bundle::ConfigBundleError),
    /// Signing the manifest failed.
    #[error("signing the kit manifest failed: {0}")]
    Sign(DsseError),
    /// A file system error.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The output directory exists and is not empty.
    #[error(
        "{path}: expected a new or empty directory, found existing files (a kit is never written over another)"
    )]
    OutputExists {
        /// The directory.
        path: PathBuf,
    },
    /// A file the manifest lists is not in the kit.
    #[error("{path}: listed in manifest.json but missing from the kit")]
    MissingFile {
        /// The file inside the kit.
        path: String,
    },
    /// `manifest.json` or `signatures/manifest.dsse.json` is not in the kit.
    #[error(
        "{path}: missing from the kit (every kit carries manifest.json and signatures/manifest.dsse.json)"
    )]
    MissingMetadata {
        /// The file inside the kit.
        path: String,
    },
    /// A file in the kit the manifest does not list.
    #[error("{path}: present in the kit but not listed in manifest.json")]
    ExtraFile {
        /// The file inside the kit.
        path: String,
    },
    /// A file's content differs from the manifest.
    #[error(
        "{path}: expected sha256 {expected} ({expected_size} bytes), found {found} ({found_size} bytes)"
    )]
    Modified {
        /// The file inside the kit.
        path: String,
        /// The manifest's digest.
        expected: String,
        /// The manifest's size.
        expected_size: u64,
        /// The file's digest.
        found: String,
        /// The file's size.
        found_size: u64,
    },
    /// `manifest.json` is not a kit manifest.
    #[error("manifest.json: {detail}")]
    InvalidManifest {
        /// What is wrong.
        detail: String,
    },
    /// The envelope is malformed or does not verify against the trusted keys.
    #[error("signatures/manifest.dsse.json: {0}")]
    Signature(DsseError),
    /// The envelope verifies but does not sign this kit's `manifest.json`.
    #[error(
        "signatures/manifest.dsse.json: the signed payload is not the kit's manifest.json (manifest.json was changed)"
    )]
    SignedPayloadMismatch,
    /// An entry that is not a regular file under one safe relative path (a link, a device,
    /// `..`, an absolute path, a second top-level directory, or too large).
    #[error("{path}: {detail}")]
    UnsafeEntry {
        /// The entry as found.
        path: String,
        /// Why it is refused.
        detail: String,
    },
}

impl KitError {
    /// A stable machine code: `kit.*`, or the render or DSSE error's code.
    pub fn code(&self) -> &'static str {
        match self {
            KitError::Render(e) => e.code(),
            KitError::Sign(e) => e.code(),
            KitError::Io { .. } => "kit.io",
            KitError::OutputExists { .. } => "kit.output_exists",
            KitError::MissingFile { .. } | KitError::MissingMetadata { .. } => "kit.missing_file",
            KitError::ExtraFile { .. } => "kit.extra_file",
            KitError::Modified { .. } => "kit.digest_mismatch",
            KitError::InvalidManifest { .. } => "kit.invalid_manifest",
            KitError::Signature(_) | KitError::SignedPayloadMismatch => "kit.signature",
            KitError::UnsafeEntry { .. } => "kit.unsafe_entry",
        }
    }
}

fn io_err(path: &Path) -> impl Fn(io::Error) -> KitError + '_ {
    move |source| KitError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A rendered, signed Offline Kit for one profile.
#[derive(Debug, Clone)]
pub struct OfflineKit {
    profile: String,
    files: Vec<BundleFile>,
}

impl OfflineKit {
    /// Renders the kit of `profile` for `site` and signs its manifest with `signer`; without
    /// a signer the envelope is the explicit unsigned-fallback marker verifiers refuse.
    ///
    /// # Errors
    /// [`KitError::Render`] when the site's egress policy refuses a collector endpoint,
    /// [`KitError::Sign`] when signing fails.
    pub fn build(
        profile: &Profile,
        site: &Site,
        signer: Option<&dyn EnvelopeSigner>,
    ) -> Result<Self, KitError> {
        let config = ConfigBundle::render(profile, site)?;
        let mut files: Vec<BundleFile> = config
            .files()
            .into_iter()
            .filter(|f| f.path != crate::bundle::MANIFEST_PATH)
            .collect();
        let mut policy = serde_json::to_string_pretty(site.redaction.to_file()).unwrap_or_default();
        policy.push('\n');
        files.push(BundleFile {
            path: REDACTION_POLICY_PATH.to_owned(),
            contents: policy.into_bytes(),
        });
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let readme = readme(profile, &site.name, &files);
        files.push(BundleFile {
            path: README_PATH.to_owned(),
            contents: readme.into_bytes(),
        });
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let manifest = manifest_json(profile.name, &site.name, &files);
        let signers: Vec<&dyn EnvelopeSigner> = signer.into_iter().collect();
        let envelope = sign_envelope_with_fallback(
            &signers,
            KIT_PAYLOAD_TYPE,
            manifest.clone(),
            UnsignedFallback::Allow,
        )
        .map_err(KitError::Sign)?;
        let mut signature = envelope.to_json();
        signature.push('\n');
        files.push(BundleFile {
            path: KIT_MANIFEST_PATH.to_owned(),
            contents: manifest,
        });
        files.push(BundleFile {
            path: KIT_SIGNATURE_PATH.to_owned(),
            contents: signature.into_bytes(),
        });
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Self {
            profile: profile.name.to_owned(),
            files,
        })
    }

    /// The profile's name.
    pub fn profile(&self) -> &str {
        &self.profile
    }

    /// Every file of the kit (payload, manifest, envelope), sorted by path.
    pub fn files(&self) -> &[BundleFile] {
        &self.files
    }

    /// The top-level directory inside the tarball: `stellaops-offline-kit-<profile>`.
    pub fn root_name(&self) -> String {
        format!("stellaops-offline-kit-{}", self.profile)
    }

    /// Writes every file under `dir`, which must not exist or be empty. Files go to a
    /// staging directory beside `dir`, renamed into place once all are written: a failed
    /// write leaves no partial kit.
    ///
    /// # Errors
    /// [`KitError::OutputExists`] or [`KitError::Io`] naming the path.
    pub fn write_dir(&self, dir: &Path) -> Result<(), KitError> {
        if dir.exists() {
            let mut entries = std::fs::read_dir(dir).map_err(io_err(dir))?;
            if entries.next().is_some() {
                return Err(KitError::OutputExists {
                    path: dir.to_path_buf(),
                });
            }
        }
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(io_err(&parent))?;
        let staging = tempfile::Builder::new()
            .prefix(".offline-kit-")
            .tempdir_in(&parent)
            .map_err(io_err(&parent))?;
        for f in &self.files {
            let path = staging.path().join(&f.path);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(io_err(dir))?;
            }
            std::fs::write(&path, &f.contents).map_err(io_err(&path))?;
        }
        // The staging directory is private (0700); the kit is for sharing.
        set_mode(staging.path(), 0o755)?;
        // rename(2) replaces an empty directory.
        let staged = staging.keep();
        std::fs::rename(&staged, dir).map_err(|source| {
            let _ = std::fs::remove_dir_all(&staged);
            KitError::Io {
                path: dir.to_path_buf(),
                source,
            }
        })
    }

    /// The tarball: gzip (no name, MTIME 0, OS 255) over a ustar archive of regular files
    /// under [`OfflineKit::root_name`], sorted by path, mode 0644, uid/gid 0, mtime 0.
    ///
    /// # Errors
    /// An [`io::Error`] when a path does not fit a ustar header (kit paths always do).
    pub fn tarball(&self) -> io::Result<Vec<u8>> {
        let gz = flate2::GzBuilder::new()
            .operating_system(255)
            .mtime(0)
            .write(Vec::new(), flate2::Compression::default());
        let mut builder = tar::Builder::new(gz);
        let root = self.root_name();
        for f in &self.files {
            let mut header = tar::Header::new_ustar();
            header.set_path(format!("{root}/{}", f.path))?;
            header.set_size(f.contents.len() as u64);
            header.set_mode(0o644);
            header.set_uid(0);
            header.set_gid(0);
            header.set_mtime(0);
            header.set_entry_type(tar::EntryType::Regular);
            header.set_cksum();
            builder.append(&header, f.contents.as_slice())?;
        }
        builder.into_inner()?.finish()
    }

    /// Writes [`OfflineKit::tarball`] to `path` atomically (a temporary file beside it,
    /// renamed over it).
    ///
    /// # Errors
    /// [`KitError::Io`] naming the path.
    pub fn write_tarball(&self, path: &Path) -> Result<(), KitError> {
        let bytes = self.tarball().map_err(io_err(path))?;
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let mut file = tempfile::Builder::new()
            .prefix(".offline-kit-")
            .suffix(".tar.gz")
            .tempfile_in(parent)
            .map_err(io_err(parent))?;
        file.write_all(&bytes).map_err(io_err(path))?;
        file.as_file().sync_all().map_err(io_err(path))?;
        set_mode(file.path(), 0o644)?;
        file.persist(path).map_err(|e| KitError::Io {
            path: path.to_path_buf(),
            source: e.error,
        })?;
        Ok(())
    }
}

/// Sets Unix permission bits (no-op elsewhere).
fn set_mode(path: &Path, mode: u32) -> Result<(), KitError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(io_err(path))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

/// `sha256:<hex>` of `bytes`.
fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The manifest: schema, profile, site and `{path, sha256, size}` per payload file.
fn manifest_json(profile: &str, site: &str, files: &[BundleFile]) -> Vec<u8> {
    let entries: Vec<Value> = files
        .iter()
        .map(|f| json!({"path": f.path, "sha256": digest(&f.contents), "size": f.contents.len()}))
        .collect();
    let body = json!({
        "schema": KIT_SCHEMA,
        "profile": profile,
        "site": site,
        "generator": format!("stella-telemetry {}", env!("CARGO_PKG_VERSION")),
        "files": entries,
    });
    let mut bytes = serde_json::to_vec_pretty(&body).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// What a file in the kit is for, by path.
fn describe(path: &str) -> &'static str {
    if path.starts_with("collector/agent") {
        "OpenTelemetry Collector config for every host (agent tier)"
    } else if path.starts_with("collector/gateway") {
        "OpenTelemetry Collector config for the gateway tier"
    } else if path.starts_with("collector/") {
        "OpenTelemetry Collector config"
    } else if path == "dashboards/provider.yaml" {
        "Grafana dashboard provider (points at the dashboard directory)"
    } else if path.starts_with("dashboards/") {
        "Grafana dashboard (JSON model)"
    } else if path.starts_with("rules/") {
        "Prometheus alert rules"
    } else if path == REDACTION_POLICY_PATH {
        "redaction policy services load and the collector mirrors"
    } else {
        "kit file"
    }
}

fn readme(profile: &Profile, site: &str, files: &[BundleFile]) -> String {
    let name = profile.name;
    let mut out = format!(
        "# Stella Ops telemetry Offline Kit: profile `{name}`\n\n\
         Rendered by stella-telemetry {version} for the `{name}` profile (site `{site}`).\n\
         Every file below is listed with its SHA-256 in `manifest.json`;\n\
         `signatures/manifest.dsse.json` is a DSSE envelope over `manifest.json`.\n\n\
         | file | what |\n|---|---|\n",
        version = env!("CARGO_PKG_VERSION"),
    );
    for f in files {
        out.push_str(&format!("| `{}` | {} |\n", f.path, describe(&f.path)));
    }
    out.push_str(&format!(
        "| `{README_PATH}` | this file |\n| `{KIT_MANIFEST_PATH}` | SHA-256 and size of every file |\n| `{KIT_SIGNATURE_PATH}` | DSSE signature of the manifest |\n"
    ));
    let collectors: Vec<&str> = files
        .iter()
        .map(|f| f.path.as_str())
        .filter(|p| p.starts_with("collector/"))
        .collect();
    out.push_str(&format!(
        "\n## 1. Verify the kit\n\n\
         On the receiving host, with the public key of whoever built the kit:\n\n\
         ```sh\n\
         stella-telemetry offline-kit verify stellaops-offline-kit-{name}.tar.gz --trusted site.pub\n\
         tar -xzf stellaops-offline-kit-{name}.tar.gz\n\
         stella-telemetry offline-kit verify stellaops-offline-kit-{name} --trusted site.pub\n\
         ```\n\n\
         Verification fails, naming the file, if any file was added, removed or changed.\n\
         Install nothing from a kit that does not verify.\n\n\
         ## 2. Bootstrap the collector tier\n\n"
    ));
    for c in &collectors {
        out.push_str(&format!(
            "- `{c}`: `otelcol-contrib --config {c}` ({})\n",
            describe(c)
        ));
    }
    out.push_str(&format!(
        "- `{REDACTION_POLICY_PATH}`: the redaction policy; test it with\n\
         \x20 `stella-telemetry redact --policy {REDACTION_POLICY_PATH} < sample.jsonl`.\n\
         - `dashboards/*.json`: copy into `{GRAFANA_DASHBOARD_DIR}`, and\n\
         \x20 `dashboards/provider.yaml` into `/etc/grafana/provisioning/dashboards/`.\n\
         - `rules/{RULES_FILE}`: check with `promtool check rules rules/{RULES_FILE}`, then add it to\n\
         \x20 Prometheus `rule_files`.\n\n\
         Check that the egress policy agrees with the collector endpoints before starting:\n\n\
         ```sh\n\
         stella-telemetry egress check --sealed http://127.0.0.1:4317\n\
         ```\n\n\
         ## 3. Capture\n\n\
         Services running the `{name}` profile {capture}. Build a signed bundle from a window of\n\
         those files:\n\n\
         ```sh\n\
         stella-telemetry bundle create --input SPOOL_DIR --out window.tar.gz --key site.key \\\n\
         \x20   --tenant TENANT --profile {name} --from 2025-01-01T00:00:00Z --to 2025-01-02T00:00:00Z\n\
         ```\n\n\
         ## 4. Carry and replay\n\n\
         Move `window.tar.gz` to the analysis workstation, verify it, then replay it into a\n\
         collector there (sealed hosts allow only loopback endpoints):\n\n\
         ```sh\n\
         stella-telemetry bundle verify window.tar.gz --trusted site.pub\n\
         stella-telemetry bundle replay window.tar.gz --endpoint http://127.0.0.1:4317 --trusted site.pub\n\
         stella-telemetry bundle replay window.tar.gz --endpoint http://127.0.0.1:4318 --protocol http \\\n\
         \x20   --signal traces --rate 500 --trusted site.pub\n\
         ```\n\n\
         Replay verifies the bundle before sending anything, sends records in bundle order,\n\
         retries transient failures (collector down, UNAVAILABLE, HTTP 429/502/503/504) with\n\
         exponential back-off, never resends a record the collector acknowledged, and prints\n\
         per-signal counts of records sent, retried and failed (exit 1 if any failed).\n",
        capture = if profile.sealed {
            "are sealed: they write OTLP files (collector file-exporter framing) to the local spool"
        } else {
            "export over OTLP; the collector's file exporter (or a service spool) keeps OTLP files"
        },
    ));
    out
}

/// How the kit's signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KitSignature {
    /// Verified by these trusted key ids.
    Verified {
        /// Key ids whose signatures verified.
        key_ids: Vec<String>,
    },
    /// Not checked against keys (no verifier given); the envelope carries exactly the manifest.
    NotChecked {
        /// The envelope is the unsigned-fallback marker (the kit was built without a key).
        unsigned: bool,
    },
}

/// A kit whose every file matched its manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KitReport {
    /// The manifest's profile.
    pub profile: String,
    /// Payload files checked (not counting the manifest and envelope).
    pub files: usize,
    /// The signature check.
    pub signature: KitSignature,
}

/// Verifies a kit directory: every file the manifest lists, nothing else, the envelope over
/// the manifest, and (with `verifier`) the signature.
///
/// # Errors
/// The first [`KitError`], naming the file.
pub fn verify_dir(dir: &Path, verifier: Option<&Verifier>) -> Result<KitReport, KitError> {
    let mut files = BTreeMap::new();
    collect_dir(dir, dir, &mut files)?;
    verify_files(&files, verifier)
}

fn collect_dir(
    root: &Path,
    dir: &Path,
    out: &mut BTreeMap<String, Vec<u8>>,
) -> Result<(), KitError> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(io_err(dir))?
        .collect::<Result<_, _>>()
        .map_err(io_err(dir))?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let relative = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let kind = entry.file_type().map_err(io_err(&path))?;
        if kind.is_dir() {
            collect_dir(root, &path, out)?;
        } else if kind.is_file() {
            let size = entry.metadata().map_err(io_err(&path))?.len();
            check_size(&relative, size)?;
            if out.len() >= MAX_KIT_FILES {
                return Err(too_many(&relative));
            }
            let bytes = std::fs::read(&path).map_err(io_err(&path))?;
            out.insert(relative, bytes);
        } else {
            return Err(KitError::UnsafeEntry {
                path: relative,
                detail: "expected a regular file or directory, found a link or special file".into(),
            });
        }
    }
    Ok(())
}

fn check_size(path: &str, size: u64) -> Result<(), KitError> {
    if size > MAX_KIT_FILE {
        return Err(KitError::UnsafeEntry {
            path: path.to_owned(),
            detail: format!("expected at most {MAX_KIT_FILE} bytes, found {size}"),
        });
    }
    Ok(())
}

fn too_many(path: &str) -> KitError {
    KitError::UnsafeEntry {
        path: path.to_owned(),
        detail: format!("expected at most {MAX_KIT_FILES} files in a kit"),
    }
}

/// Verifies a kit tarball (gzip-compressed tar with one top-level directory).
///
/// # Errors
/// The first [`KitError`], naming the file (its path inside the top-level directory).
pub fn verify_tarball(path: &Path, verifier: Option<&Verifier>) -> Result<KitReport, KitError> {
    let file = std::fs::File::open(path).map_err(io_err(path))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(io::BufReader::new(file)));
    let mut files = BTreeMap::new();
    let mut root: Option<String> = None;
    for entry in archive.entries().map_err(io_err(path))? {
        let mut entry = entry.map_err(io_err(path))?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        if kind == tar::EntryType::Directory {
            continue;
        }
        if kind != tar::EntryType::Regular {
            return Err(KitError::UnsafeEntry {
                path: raw,
                detail: format!("expected a regular file, found a {kind:?} entry"),
            });
        }
        let (top, inner) = split_entry_path(&raw)?;
        match &root {
            None => root = Some(top.clone()),
            Some(r) if *r != top => {
                return Err(KitError::UnsafeEntry {
                    path: raw,
                    detail: format!(
                        "expected every file under {r}/, found another top-level directory"
                    ),
                });
            }
            Some(_) => {}
        }
        let size = entry.header().size().map_err(io_err(path))?;
        check_size(&inner, size)?;
        if files.len() >= MAX_KIT_FILES {
            return Err(too_many(&inner));
        }
        let mut bytes = Vec::new();
        (&mut entry)
            .take(MAX_KIT_FILE + 1)
            .read_to_end(&mut bytes)
            .map_err(io_err(path))?;
        if files.insert(inner.clone(), bytes).is_some() {
            return Err(KitError::UnsafeEntry {
                path: inner,
                detail: "expected each file once, found it twice".into(),
            });
        }
    }
    verify_files(&files, verifier)
}

/// Splits `root/inner/path` into its top-level directory and the path inside it, refusing
/// absolute paths, `..`, `.` and empty components.
fn split_entry_path(raw: &str) -> Result<(String, String), KitError> {
    let unsafe_path = |detail: &str| KitError::UnsafeEntry {
        path: raw.to_owned(),
        detail: detail.to_owned(),
    };
    let path = Path::new(raw);
    if !path.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(unsafe_path(
            "expected a relative path without `..` or `.`, found another form",
        ));
    }
    match raw.split_once('/') {
        Some((top, inner)) if !top.is_empty() && !inner.is_empty() => {
            if raw
                .split('/')
                .any(|c| c.is_empty() || c == "." || c == "..")
            {
                return Err(unsafe_path(
                    "expected no empty, `.` or `..` path components",
                ));
            }
            Ok((top.to_owned(), inner.to_owned()))
        }
        _ => Err(unsafe_path(
            "expected a file inside the kit's top-level directory",
        )),
    }
}

/// Checks a kit's files (path inside the kit → bytes).
///
/// # Errors
/// The first [`KitError`], naming the file.
pub fn verify_files(
    files: &BTreeMap<String, Vec<u8>>,
    verifier: Option<&Verifier>,
) -> Result<KitReport, KitError> {
    let manifest = files
        .get(KIT_MANIFEST_PATH)
        .ok_or_else(|| KitError::MissingMetadata {
            path: KIT_MANIFEST_PATH.into(),
        })?;
    let envelope_bytes =
        files
            .get(KIT_SIGNATURE_PATH)
            .ok_or_else(|| KitError::MissingMetadata {
                path: KIT_SIGNATURE_PATH.into(),
            })?;
    // The envelope first: a changed manifest is reported as such, not as a changed file.
    let signature = match verifier {
        Some(verifier) => {
            let verified = verifier
                .verify_json(envelope_bytes, KIT_PAYLOAD_TYPE)
                .map_err(KitError::Signature)?;
            if verified.payload() != manifest.as_slice() {
                return Err(KitError::SignedPayloadMismatch);
            }
            KitSignature::Verified {
                key_ids: verified.verified_key_ids().to_vec(),
            }
        }
        None => {
            let envelope = Envelope::from_json(envelope_bytes).map_err(KitError::Signature)?;
            if envelope.payload_type != KIT_PAYLOAD_TYPE {
                return Err(KitError::Signature(DsseError::PayloadTypeMismatch {
                    expected: KIT_PAYLOAD_TYPE.into(),
                    found: envelope.payload_type,
                }));
            }
            if envelope.payload != *manifest {
                return Err(KitError::SignedPayloadMismatch);
            }
            KitSignature::NotChecked {
                unsigned: envelope.is_unsigned_fallback(),
            }
        }
    };
    let parsed: Value =
        serde_json::from_slice(manifest).map_err(|e| KitError::InvalidManifest {
            detail: format!("expected JSON, found {e}"),
        })?;
    if parsed.get("schema").and_then(Value::as_str) != Some(KIT_SCHEMA) {
        return Err(KitError::InvalidManifest {
            detail: format!(
                "expected schema {KIT_SCHEMA:?}, found {}",
                parsed.get("schema").unwrap_or(&Value::Null)
            ),
        });
    }
    let profile = parsed
        .get("profile")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let listed = parsed
        .get("files")
        .and_then(Value::as_array)
        .ok_or_else(|| KitError::InvalidManifest {
            detail: "expected a files array".into(),
        })?;
    let mut seen = std::collections::BTreeSet::new();
    for entry in listed {
        let (Some(path), Some(sha256), Some(size)) = (
            entry.get("path").and_then(Value::as_str),
            entry.get("sha256").and_then(Value::as_str),
            entry.get("size").and_then(Value::as_u64),
        ) else {
            return Err(KitError::InvalidManifest {
                detail: format!("expected {{path, sha256, size}} entries, found {entry}"),
            });
        };
        seen.insert(path.to_owned());
        let bytes = files.get(path).ok_or_else(|| KitError::MissingFile {
            path: path.to_owned(),
        })?;
        let found = digest(bytes);
        if found != sha256 || bytes.len() as u64 != size {
            return Err(KitError::Modified {
                path: path.to_owned(),
                expected: sha256.to_owned(),
                expected_size: size,
                found,
                found_size: bytes.len() as u64,
            });
        }
    }
    if let Some(extra) = files
        .keys()
        .find(|p| !seen.contains(p.as_str()) && *p != KIT_MANIFEST_PATH && *p != KIT_SIGNATURE_PATH)
    {
        return Err(KitError::ExtraFile {
            path: extra.clone(),
        });
    }
    Ok(KitReport {
        profile,
        files: seen.len(),
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn entry_paths_must_stay_inside_one_top_level_directory() {
        assert_eq!(
            split_entry_path("kit/rules/a.yaml").unwrap(),
            ("kit".to_owned(), "rules/a.yaml".to_owned())
        );
        for bad in [
            "/etc/passwd",
            "kit/../x",
            "../x",
            "kit",
            "kit/./x",
            "kit//x",
            "./kit/x",
        ] {
            assert_eq!(
                split_entry_path(bad).unwrap_err().code(),
                "kit.unsafe_entry",
                "{bad}"
            );
        }
    }

    proptest! {
        #[test]
        fn split_entry_path_never_yields_an_escaping_path(raw in "[a-z./]{0,24}") {
            if let Ok((top, inner)) = split_entry_path(&raw) {
                prop_assert!(!top.is_empty() && !top.contains('/'));
                prop_assert!(inner.split('/').all(|c| !c.is_empty() && c != ".." && c != "."));
                prop_assert_eq!(format!("{top}/{inner}"), raw);
            }
        }
    }
}

//! `manifest.json`: the bundle's signed table of contents, written as canonical JSON (sorted
//! keys, no whitespace) so the same contents always give the same bytes and bundle id.
//!
//! This module holds the schema and its checks; it does not read archives.

use crate::error::BundleError;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use stellaops_dsse::canonical_json::to_canonical_json;

/// The manifest schema version this crate writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// Path of the manifest inside a bundle (the first entry).
pub const MANIFEST_PATH: &str = "manifest.json";

/// Path of the DSSE envelope over the manifest (the second entry).
pub const SIGNATURE_PATH: &str = "signatures/manifest.sig";

/// Path of the collector configuration, when the bundle carries one.
pub const COLLECTOR_CONFIG_PATH: &str = "config/collector.yaml";

/// DSSE payload type of `signatures/manifest.sig`.
pub const MANIFEST_PAYLOAD_TYPE: &str = "application/vnd.stellaops.telemetry-manifest+json";

/// Longest path a bundle entry may have, in bytes (what a ustar `prefix` + `name` can hold).
pub const MAX_PATH_LEN: usize = 255;

/// The telemetry signal (the workspace's one [`Signal`] type): each has one file of framed
/// records in a bundle.
pub use stellaops_telemetry_model::Signal;

/// All signals, in the order their files appear in a bundle (and a spool lists them):
/// `otlp/logs.pb`, `otlp/metrics.pb`, `otlp/traces.pb`.
pub const BUNDLE_ORDER: [Signal; 3] = [Signal::Logs, Signal::Metrics, Signal::Traces];

/// Where a signal's records live in a bundle.
pub trait BundleSignal: Sized {
    /// The file's path inside a bundle, e.g. `otlp/traces.pb`.
    fn bundle_path(self) -> &'static str;
    /// The signal whose file is at `path`, if any.
    fn from_bundle_path(path: &str) -> Option<Self>;
    /// The signal's place in [`BUNDLE_ORDER`] (0 for logs).
    fn bundle_rank(self) -> usize;
}

impl BundleSignal for Signal {
    fn bundle_path(self) -> &'static str {
        match self {
            Self::Logs => "otlp/logs.pb",
            Self::Metrics => "otlp/metrics.pb",
            Self::Traces => "otlp/traces.pb",
        }
    }

    fn from_bundle_path(path: &str) -> Option<Self> {
        BUNDLE_ORDER.into_iter().find(|s| s.bundle_path() == path)
    }

    fn bundle_rank(self) -> usize {
        match self {
            Self::Logs => 0,
            Self::Metrics => 1,
            Self::Traces => 2,
        }
    }
}

/// The time window a bundle covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// Inclusive start, RFC 3339 UTC with seconds precision (`2025-01-01T00:00:00Z`).
    pub from: String,
    /// Exclusive end, same format.
    pub to: String,
}

impl Window {
    /// A window; `from` must not be after `to`.
    ///
    /// # Errors
    /// [`BundleError::InvalidInput`] when `from > to`.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Self, BundleError> {
        if from > to {
            return Err(BundleError::InvalidInput {
                detail: format!("expected window start <= end, found {from} > {to}"),
            });
        }
        Ok(Self {
            from: rfc3339(from),
            to: rfc3339(to),
        })
    }
}

/// One file of the bundle as the manifest lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// Path inside the bundle.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// `sha256:<64 lowercase hex>` of the file's bytes.
    pub sha256: String,
    /// Framed records in the file (OTLP files only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<u64>,
}

/// The bundle manifest (`manifest.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Manifest {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// 32 lowercase hex digits: the first 16 bytes of the SHA-256 of this manifest's canonical
    /// JSON with `bundleId` set to `""` (see [`Manifest::compute_bundle_id`]).
    pub bundle_id: String,
    /// Tenant the records belong to.
    pub tenant: String,
    /// Telemetry profile in force (`default`, `forensic`, `airgap`…).
    pub profile: String,
    /// The window the records cover, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// Creation time, RFC 3339 UTC with seconds precision, from the writer's clock.
    pub created_at: String,
    /// `gzip` or `zstd`: the bundle's compression.
    pub compression: String,
    /// `sha256:<hex>` of the collector configuration used (also `config/collector.yaml`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collector_config_sha256: Option<String>,
    /// `sha256:<hex>` of the redaction policy the records went through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redaction_policy_sha256: Option<String>,
    /// Every file except `manifest.json` and `signatures/manifest.sig`, sorted by path.
    pub files: Vec<FileEntry>,
}

impl Manifest {
    /// The canonical JSON bytes (sorted keys, no whitespace): exactly what `manifest.json`
    /// holds and the signature covers.
    ///
    /// # Errors
    /// Never in practice (the schema has no floats); [`BundleError::InvalidManifest`] otherwise.
    pub fn to_canonical_json(&self) -> Result<Vec<u8>, BundleError> {
        let value = serde_json::to_value(self)
            .map_err(|e| BundleError::manifest(format!("cannot serialize: {e}")))?;
        to_canonical_json(&value).map_err(|e| BundleError::manifest(e.to_string()))
    }

    /// The bundle id this manifest must carry: hex of the first 16 bytes of SHA-256 over the
    /// canonical JSON with `bundleId` = `""`.
    ///
    /// # Errors
    /// As [`Manifest::to_canonical_json`].
    pub fn compute_bundle_id(&self) -> Result<String, BundleError> {
        let mut copy = self.clone();
        copy.bundle_id = String::new();
        let digest = Sha256::digest(copy.to_canonical_json()?);
        Ok(hex::encode(digest.get(..16).unwrap_or_default()))
    }

    /// Parses `manifest.json` and checks it completely: canonical bytes, schema version, bundle
    /// id, file paths (valid, sorted, unique), digest formats, record counts on OTLP files only,
    /// and the collector-config digest against `config/collector.yaml`.
    ///
    /// # Errors
    /// [`BundleError::InvalidManifest`] naming the problem.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BundleError> {
        let manifest: Self = serde_json::from_slice(bytes)
            .map_err(|e| BundleError::manifest(format!("expected the manifest schema: {e}")))?;
        if manifest.schema_version != SCHEMA_VERSION {
            return Err(BundleError::manifest(format!(
                "expected schemaVersion {SCHEMA_VERSION}, found {}",
                manifest.schema_version
            )));
        }
        if manifest.to_canonical_json()? != bytes {
            return Err(BundleError::manifest(
                "expected canonical JSON (sorted keys, no whitespace), found other bytes",
            ));
        }
        let id = manifest.compute_bundle_id()?;
        if manifest.bundle_id != id {
            return Err(BundleError::manifest(format!(
                "expected bundleId {id}, found {:?}",
                manifest.bundle_id
            )));
        }
        if manifest.compression != "gzip" && manifest.compression != "zstd" {
            return Err(BundleError::manifest(format!(
                "expected compression \"gzip\" or \"zstd\", found {:?}",
                manifest.compression
            )));
        }
        DateTime::parse_from_rfc3339(&manifest.created_at).map_err(|e| {
            BundleError::manifest(format!(
                "expected createdAt in RFC 3339, found {:?}: {e}",
                manifest.created_at
            ))
        })?;
        let mut previous: Option<&str> = None;
        for file in &manifest.files {
            check_entry_path(&file.path).map_err(BundleError::manifest)?;
            if let Some(p) = previous
                && p.as_bytes() >= file.path.as_bytes()
            {
                return Err(BundleError::manifest(format!(
                    "expected files sorted by path without duplicates, found {p:?} before {:?}",
                    file.path
                )));
            }
            previous = Some(&file.path);
            check_digest(&file.sha256).map_err(|d| {
                BundleError::manifest(format!("files[{:?}].sha256: {d}", file.path))
            })?;
            let is_otlp = Signal::from_bundle_path(&file.path).is_some();
            if is_otlp != file.records.is_some() {
                return Err(BundleError::manifest(format!(
                    "{}: expected a record count exactly on otlp/*.pb files",
                    file.path
                )));
            }
        }
        for digest in [
            &manifest.collector_config_sha256,
            &manifest.redaction_policy_sha256,
        ]
        .into_iter()
        .flatten()
        {
            check_digest(digest).map_err(BundleError::manifest)?;
        }
        let config = manifest.file(COLLECTOR_CONFIG_PATH).map(|f| &f.sha256);
        if config != manifest.collector_config_sha256.as_ref() {
            return Err(BundleError::manifest(format!(
                "expected collectorConfigSha256 to equal the digest of {COLLECTOR_CONFIG_PATH} \
                 (both absent or equal), found {:?} and {:?}",
                manifest.collector_config_sha256, config
            )));
        }
        Ok(manifest)
    }

    /// The entry for `path`, if listed.
    pub fn file(&self, path: &str) -> Option<&FileEntry> {
        self.files.iter().find(|f| f.path == path)
    }

    /// Records per signal, for the signals present.
    pub fn record_counts(&self) -> Vec<(Signal, u64)> {
        BUNDLE_ORDER
            .into_iter()
            .filter_map(|s| {
                self.file(s.bundle_path())
                    .and_then(|f| f.records)
                    .map(|n| (s, n))
            })
            .collect()
    }
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// RFC 3339 UTC with seconds precision: `2025-01-01T00:00:00Z`.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn check_digest(d: &str) -> Result<(), String> {
    match d.strip_prefix("sha256:") {
        Some(h) if h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) => {
            Ok(())
        }
        _ => Err(format!("expected sha256:<64 lowercase hex>, found {d:?}")),
    }
}

/// Checks a payload entry path: one of the three OTLP files, or `config/` followed by one or
/// more components of `[A-Za-z0-9._-]` that are not `.` or `..`, at most [`MAX_PATH_LEN`]
/// bytes. `manifest.json` and `signatures/manifest.sig` are not payload paths.
///
/// # Errors
/// A message saying what is wrong.
pub fn check_entry_path(path: &str) -> Result<(), String> {
    if Signal::from_bundle_path(path).is_some() {
        return Ok(());
    }
    if path.len() > MAX_PATH_LEN {
        return Err(format!(
            "{path:?}: expected at most {MAX_PATH_LEN} bytes, found {}",
            path.len()
        ));
    }
    if path.starts_with('/') {
        return Err(format!("{path:?}: absolute paths are refused"));
    }
    let mut parts = path.split('/');
    if parts.next() != Some("config") {
        return Err(format!(
            "{path:?}: expected otlp/{{traces,metrics,logs}}.pb or a path under config/"
        ));
    }
    let mut any = false;
    for part in parts {
        any = true;
        if part == ".." {
            return Err(format!("{path:?}: `..` (path traversal) is refused"));
        }
        if part.is_empty() || part == "." {
            return Err(format!(
                "{path:?}: expected a normalized path (no empty or `.` components)"
            ));
        }
        if !part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Err(format!(
                "{path:?}: expected components of [A-Za-z0-9._-] only"
            ));
        }
    }
    if !any {
        return Err(format!("{path:?}: expected a file under config/"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> Manifest {
        let mut m = Manifest {
            schema_version: SCHEMA_VERSION,
            bundle_id: String::new(),
            tenant: "acme".into(),
            profile: "forensic".into(),
            window: None,
            created_at: "2025-01-01T00:00:00Z".into(),
            compression: "gzip".into(),
            collector_config_sha256: None,
            redaction_policy_sha256: None,
            files: vec![FileEntry {
                path: "otlp/traces.pb".into(),
                size: 0,
                sha256: sha256_digest(b""),
                records: Some(0),
            }],
        };
        m.bundle_id = m.compute_bundle_id().unwrap();
        m
    }

    #[test]
    fn canonical_bytes_are_sorted_and_round_trip() {
        let m = sample();
        let bytes = m.to_canonical_json().unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with("{\"bundleId\":\""), "{text}");
        assert!(
            text.contains("\"compression\":\"gzip\",\"createdAt\""),
            "{text}"
        );
        assert_eq!(Manifest::from_bytes(&bytes).unwrap(), m);
    }

    #[test]
    fn wrong_bundle_id_and_non_canonical_bytes_are_refused() {
        let mut m = sample();
        m.tenant = "other".into();
        let err = Manifest::from_bytes(&m.to_canonical_json().unwrap()).unwrap_err();
        assert!(err.to_string().contains("expected bundleId"), "{err}");
        let pretty = serde_json::to_vec_pretty(&sample()).unwrap();
        let err = Manifest::from_bytes(&pretty).unwrap_err();
        assert!(err.to_string().contains("canonical JSON"), "{err}");
    }

    #[test]
    fn paths_are_checked() {
        for bad in [
            "/etc/passwd",
            "config/../x",
            "config/./x",
            "config//x",
            "config/",
            "config",
            "otlp/other.pb",
            "manifest.json",
            "config/a b",
        ] {
            assert!(check_entry_path(bad).is_err(), "{bad}");
        }
        for good in [
            "otlp/logs.pb",
            "config/collector.yaml",
            "config/dashboards/a-b_c.json",
        ] {
            assert!(check_entry_path(good).is_ok(), "{good}");
        }
    }

    proptest! {
        #[test]
        fn parser_never_panics(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = Manifest::from_bytes(&data);
        }

        #[test]
        fn path_checker_never_accepts_traversal(path in "[a-z./]{0,24}") {
            if check_entry_path(&path).is_ok() {
                prop_assert!(!path.split('/').any(|p| p == ".." || p == "." || p.is_empty()));
                prop_assert!(!path.starts_with('/'));
            }
        }
    }
}

//! The config bundle served at `GET /telemetry/config/profile/{name}` and written by
//! `stella-telemetry deploy`: collector configs, dashboards, alert rules, a SHA-256 manifest
//! and a DSSE envelope over the manifest. Same profile and site in, same bytes out.
//!
//! Not a transport: serving and downloading the bundle is the HTTP layer's job.

use crate::alerts::{RULES_FILE, rules_yaml, standard_rules};
use crate::collector::{RenderError, Site, render};
use crate::dashboards::{provider_yaml, standard_dashboards};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use stellaops_dsse::{DsseError, Envelope, EnvelopeSigner, sign_envelope};
use stellaops_telemetry_model::profile::Profile;

/// The DSSE payload type of the signed manifest.
pub const MANIFEST_PAYLOAD_TYPE: &str =
    "application/vnd.stellaops.telemetry.config-manifest.v1+json";
/// Path of the manifest inside a bundle.
pub const MANIFEST_PATH: &str = "manifest.json";
/// Path of the DSSE envelope inside a bundle.
pub const SIGNATURE_PATH: &str = "signatures/manifest.dsse.json";
/// Where the dashboard JSON files live once provisioned (the provider file points here).
pub const GRAFANA_DASHBOARD_DIR: &str = "/var/lib/grafana/dashboards/stellaops";

/// Why a bundle could not be built or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigBundleError {
    /// A collector config could not be rendered for the site.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// Signing the manifest failed.
    #[error("signing the config manifest failed: {0}")]
    Sign(#[from] DsseError),
    /// Writing a file failed.
    #[error("writing {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl ConfigBundleError {
    /// A stable machine code: the render error's, the DSSE error's, or `deploy.io`.
    pub fn code(&self) -> &'static str {
        match self {
            ConfigBundleError::Render(e) => e.code(),
            ConfigBundleError::Sign(e) => e.code(),
            ConfigBundleError::Io { .. } => "deploy.io",
        }
    }
}

/// One file of a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleFile {
    /// Relative path with `/` separators.
    pub path: String,
    /// Contents.
    pub contents: Vec<u8>,
}

/// A rendered config bundle for one profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigBundle {
    profile: String,
    files: Vec<BundleFile>,
    envelope: Option<Envelope>,
}

impl ConfigBundle {
    /// Renders every file of `profile` for `site` (unsigned; see [`ConfigBundle::sign`]).
    ///
    /// # Errors
    /// [`ConfigBundleError::Render`] when the collector config is refused (egress policy) or the
    /// site is incomplete.
    pub fn render(profile: &Profile, site: &Site) -> Result<Self, ConfigBundleError> {
        let mut files = Vec::new();
        for (name, text) in render(profile, site)?.files() {
            files.push(file(format!("collector/{name}"), text));
        }
        for dashboard in standard_dashboards() {
            files.push(file(
                format!("dashboards/{}.json", dashboard.uid),
                dashboard.to_json_text(),
            ));
        }
        files.push(file(
            "dashboards/provider.yaml".to_owned(),
            provider_yaml(GRAFANA_DASHBOARD_DIR),
        ));
        files.push(file(
            format!("rules/{RULES_FILE}"),
            rules_yaml(&standard_rules()),
        ));
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let manifest = manifest(profile.name, &files);
        files.push(file(MANIFEST_PATH.to_owned(), manifest));
        Ok(ConfigBundle {
            profile: profile.name.to_owned(),
            files,
            envelope: None,
        })
    }

    /// The profile's name.
    pub fn profile(&self) -> &str {
        &self.profile
    }

    /// Every file, the manifest and (once signed) the envelope, in a fixed order.
    pub fn files(&self) -> Vec<BundleFile> {
        let mut all = self.files.clone();
        if let Some(envelope) = &self.envelope {
            let mut text = envelope.to_json();
            text.push('\n');
            all.push(file(SIGNATURE_PATH.to_owned(), text));
        }
        all
    }

    /// The manifest bytes (what the envelope signs).
    pub fn manifest(&self) -> &[u8] {
        self.files
            .iter()
            .find(|f| f.path == MANIFEST_PATH)
            .map_or(&[][..], |f| f.contents.as_slice())
    }

    /// Signs the manifest with `signer` (replacing an earlier signature).
    ///
    /// # Errors
    /// [`ConfigBundleError::Sign`] when the signer fails.
    pub fn sign(&mut self, signer: &dyn EnvelopeSigner) -> Result<(), ConfigBundleError> {
        let envelope = sign_envelope(&[signer], MANIFEST_PAYLOAD_TYPE, self.manifest())?;
        self.envelope = Some(envelope);
        Ok(())
    }

    /// The DSSE envelope, once signed.
    pub fn envelope(&self) -> Option<&Envelope> {
        self.envelope.as_ref()
    }

    /// The whole bundle as one JSON document (`{"files": {path: text}, "profile": name,
    /// "signature": envelope|null}`, sorted keys): the body of
    /// `GET /telemetry/config/profile/{name}`.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        let files: serde_json::Map<String, Value> = self
            .files
            .iter()
            .map(|f| {
                (
                    f.path.clone(),
                    Value::String(String::from_utf8_lossy(&f.contents).into_owned()),
                )
            })
            .collect();
        let signature = self
            .envelope
            .as_ref()
            .and_then(|e| serde_json::from_str::<Value>(&e.to_json()).ok())
            .unwrap_or(Value::Null);
        let body = json!({"profile": self.profile, "files": files, "signature": signature});
        let mut bytes = serde_json::to_vec_pretty(&body).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// Writes every file under `dir` (creating directories) and returns the paths written,
    /// in order.
    ///
    /// # Errors
    /// [`ConfigBundleError::Io`] naming the file that could not be written.
    pub fn write_to(&self, dir: &Path) -> Result<Vec<PathBuf>, ConfigBundleError> {
        let mut written = Vec::new();
        for f in self.files() {
            let path = dir.join(&f.path);
            let io = |source| ConfigBundleError::Io {
                path: path.clone(),
                source,
            };
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io)?;
            }
            std::fs::write(&path, &f.contents).map_err(io)?;
            written.push(path);
        }
        Ok(written)
    }
}

fn file(path: String, text: String) -> BundleFile {
    BundleFile {
        path,
        contents: text.into_bytes(),
    }
}

/// The manifest: schema, profile, and `{path, sha256, size}` per file, sorted by path.
fn manifest(profile: &str, files: &[BundleFile]) -> String {
    let entries: Vec<Value> = files
        .iter()
        .map(|f| {
            json!({
                "path": f.path,
                "sha256": hex::encode(Sha256::digest(&f.contents)),
                "size": f.contents.len(),
            })
        })
        .collect();
    let body = json!({
        "schema": "stellaops.telemetry.config-bundle/v1",
        "profile": profile,
        "files": entries,
    });
    let mut text = serde_json::to_string_pretty(&body).unwrap_or_default();
    text.push('\n');
    text
}

/// Checks that every file the manifest lists is present in `files` with the listed digest,
/// and that nothing else is (besides the manifest and signature). Returns the first problem.
///
/// # Errors
/// A message naming the file whose digest differs, is missing, or is not listed.
pub fn check_manifest(manifest: &[u8], files: &[BundleFile]) -> Result<(), String> {
    let parsed: Value =
        serde_json::from_slice(manifest).map_err(|e| format!("manifest is not JSON: {e}"))?;
    let listed = parsed
        .get("files")
        .and_then(Value::as_array)
        .ok_or("manifest has no files array")?;
    for entry in listed {
        let path = entry
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let want = entry
            .get("sha256")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let found = files.iter().find(|f| f.path == path).ok_or(format!(
            "{path}: listed in the manifest, missing from the bundle"
        ))?;
        let got = hex::encode(Sha256::digest(&found.contents));
        if got != want {
            return Err(format!("{path}: expected sha256 {want}, found {got}"));
        }
    }
    for f in files {
        let is_listed = listed
            .iter()
            .any(|e| e.get("path").and_then(Value::as_str) == Some(&f.path));
        if !is_listed && f.path != MANIFEST_PATH && f.path != SIGNATURE_PATH {
            return Err(format!("{}: in the bundle but not in the manifest", f.path));
        }
    }
    Ok(())
}

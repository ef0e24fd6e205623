//! What a successful read returns: [`VerifiedBundle`] (the manifest, its exact bytes, the
//! bundle's digest and size) and the [`SignatureStatus`] of its envelope. Not where anything
//! is checked.

use crate::manifest::Manifest;

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
    /// [`BundleReader::dangerous_skip_signature`](crate::BundleReader::dangerous_skip_signature)). The envelope is well formed, has the
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
    pub(super) manifest: Manifest,
    pub(super) manifest_json: Vec<u8>,
    pub(super) signature_json: Vec<u8>,
    pub(super) signature: SignatureStatus,
    pub(super) sha256: String,
    pub(super) size: u64,
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

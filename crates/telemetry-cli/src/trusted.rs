//! `--trusted FILE` keys for the commands that read bundles (`bundle verify | extract |
//! replay`, `capture --url`): the bundle reader they verify with, and the check that the
//! signature was verified. Not for offline kits or bare DSSE envelopes.

use crate::failure::Failure;
use std::path::PathBuf;
use stellaops_bundle_format::{BundleReader, SignatureStatus, VerifiedBundle};
use stellaops_dsse::{TrustedKey, TrustedKeys, Verifier};

/// A reader that verifies signatures against the `trusted` key files, or, without any, one
/// that checks every digest, size and count but not the signature.
pub(crate) fn trusted_reader(trusted: &[PathBuf]) -> Result<BundleReader, Failure> {
    if trusted.is_empty() {
        return Ok(BundleReader::dangerous_skip_signature());
    }
    let mut keys = TrustedKeys::new();
    for path in trusted {
        keys.add(TrustedKey::read(path)?)?;
    }
    Ok(BundleReader::new(Verifier::new(keys)))
}

/// Fails unless the signature was verified against a trusted key.
pub(crate) fn require_signature(verified: &VerifiedBundle) -> Result<(), Failure> {
    match verified.signature() {
        SignatureStatus::Verified { .. } => Ok(()),
        SignatureStatus::NotChecked { unsigned: true, .. } => Err(Failure::failed(
            "bundle.unsigned",
            "signatures/manifest.sig: the bundle is unsigned (unsigned-fallback marker)",
        )),
        _ => Err(Failure::failed(
            "bundle.signature_unverified",
            "signatures/manifest.sig: not verified: pass --trusted FILE",
        )),
    }
}

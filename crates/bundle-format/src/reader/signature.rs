//! The check of `signatures/manifest.sig`: the DSSE envelope verified against the trusted
//! keys, or (when the reader skips signatures) checked only for its form, payload type and
//! payload. Not where the envelope is read from the archive.

use stellaops_dsse::{Envelope, Verifier};

use super::verified::SignatureStatus;
use crate::error::BundleError;
use crate::manifest::MANIFEST_PAYLOAD_TYPE;

/// Checks the envelope `bytes` over `manifest_json`; `verifier` is `None` when the reader
/// was built with [`crate::BundleReader::dangerous_skip_signature`].
pub(super) fn check_signature(
    verifier: Option<&Verifier>,
    bytes: &[u8],
    manifest_json: &[u8],
) -> Result<SignatureStatus, BundleError> {
    let sig = |source| BundleError::Signature { source };
    match verifier {
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
                    source: stellaops_dsse::DsseError::PayloadTypeMismatch {
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

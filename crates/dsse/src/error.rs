//! The one error type of DSSE signing, verification and key handling, with stable machine
//! codes (`federation.dsse.*`) that CLIs print and scripts match on.
//!
//! Messages say what was expected, what was found and where; they never contain key material.

use std::path::PathBuf;

/// Everything that can go wrong while encoding, signing, verifying or loading keys.
///
/// Match on [`DsseError::code`] for a stable identifier; the `Display` text is for people.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DsseError {
    /// A signer failed to produce a signature (a crypto or backend failure, not an absent
    /// signer).
    #[error("signing with key `{key_id}` failed: {reason}")]
    SignFailed {
        /// The signer's key id.
        key_id: String,
        /// What went wrong.
        reason: String,
    },

    /// No signer is available: none was configured, or every configured signer reported itself
    /// unavailable (for example a key store that cannot be reached).
    #[error("no DSSE signer is available: {detail}")]
    SignerUnavailable {
        /// Which signers were tried and why they were unavailable.
        detail: String,
    },

    /// The envelope's `payloadType` is not the one the caller expects.
    #[error("payload type mismatch: expected `{expected}`, found `{found}` in the envelope")]
    PayloadTypeMismatch {
        /// The payload type the caller asked for.
        expected: String,
        /// The payload type the envelope carries.
        found: String,
    },

    /// No signature verified, and every signature names a key id that no trusted key has.
    #[error(
        "no trusted key verified the envelope: its signatures name key ids [{}], none of which \
         is among the trusted key ids [{}]",
        .key_ids.join(", "), .trusted_key_ids.join(", ")
    )]
    UntrustedKey {
        /// The key ids named by the envelope's signatures.
        key_ids: Vec<String>,
        /// The key ids of the trusted keys tried.
        trusted_key_ids: Vec<String>,
    },

    /// No signature verified with any trusted key, although a signature claims a trusted key id
    /// (or claims none): the signature, payload or payload type was altered, or the wrong key
    /// signed.
    #[error(
        "bad signature: none of the envelope's {signatures} signature(s) verifies with any of \
         the {trusted} trusted key(s) over the payload and payload type `{payload_type}`"
    )]
    BadSignature {
        /// How many signatures the envelope carries.
        signatures: usize,
        /// How many trusted keys were tried.
        trusted: usize,
        /// The payload type the signatures were checked against.
        payload_type: String,
    },

    /// Fewer distinct trusted keys verified than the threshold requires.
    #[error(
        "threshold not met: expected valid signatures from at least {required} distinct trusted \
         key(s), found {verified} ({}) among {signatures} signature(s)",
        if .verified_key_ids.is_empty() { "none".to_owned() } else { .verified_key_ids.join(", ") }
    )]
    ThresholdNotMet {
        /// The threshold.
        required: usize,
        /// How many distinct trusted keys verified.
        verified: usize,
        /// The key ids of the trusted keys that verified.
        verified_key_ids: Vec<String>,
        /// How many signatures the envelope carries.
        signatures: usize,
    },

    /// The threshold can never be met: it is zero or larger than the number of distinct trusted
    /// keys.
    #[error(
        "invalid threshold {threshold}: expected between 1 and the number of distinct trusted \
         keys ({distinct_trusted})"
    )]
    InvalidThreshold {
        /// The threshold asked for.
        threshold: usize,
        /// How many distinct trusted keys there are.
        distinct_trusted: usize,
    },

    /// The envelope carries only the `offline-unsigned-fallback` marker and the verifier was not
    /// told to accept unsigned envelopes.
    #[error(
        "unsigned envelope: it carries only the `offline-unsigned-fallback` marker (written \
         while no signer was available); expected a signature by a trusted key"
    )]
    UnsignedEnvelope,

    /// The envelope is not DSSE JSON: not JSON, a required field is missing, or a field has the
    /// wrong type.
    #[error("malformed DSSE envelope: {detail}")]
    MalformedEnvelope {
        /// What was expected and what was found.
        detail: String,
    },

    /// A base64 field does not decode with the standard or the URL-safe alphabet.
    #[error("bad base64 in `{field}`: {detail}")]
    BadBase64 {
        /// The JSON path of the field (`payload`, `signatures[2].sig`).
        field: String,
        /// Why it does not decode.
        detail: String,
    },

    /// A key id occurs twice where it must be unique: in an envelope's signatures, among the
    /// signers of one envelope, or among trusted keys with different key material.
    #[error("duplicate key id `{key_id}` in {location}: key ids must be unique there")]
    DuplicateKeyId {
        /// The repeated key id.
        key_id: String,
        /// Where (`envelope signatures`, `signers`, `trusted keys`).
        location: &'static str,
    },

    /// A key could not be parsed or is not usable.
    #[error("invalid key ({source_name}): {detail}")]
    InvalidKey {
        /// Where the key came from (a file name, `PKCS#8 PEM`, `securesystemslib JSON`).
        source_name: String,
        /// What was expected and what was found.
        detail: String,
    },

    /// The operating system's random number generator failed while generating a key.
    #[error("key generation failed: the system random number generator failed: {detail}")]
    KeyGeneration {
        /// The error from the random number generator.
        detail: String,
    },

    /// Reading or writing a key file failed.
    #[error("cannot {action} key file {}: {source}", .path.display())]
    KeyFile {
        /// `read` or `write`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A value has no canonical JSON form (a float, or a string that is not valid for it).
    #[error("no canonical JSON form: {detail}")]
    NonCanonicalJson {
        /// What was found and where.
        detail: String,
    },
}

impl DsseError {
    /// The stable machine code of this error, `federation.dsse.<name>`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::SignFailed { .. } => "federation.dsse.sign_failed",
            Self::SignerUnavailable { .. } => "federation.dsse.signer_unavailable",
            Self::PayloadTypeMismatch { .. } => "federation.dsse.payload_type_mismatch",
            Self::UntrustedKey { .. } => "federation.dsse.untrusted_key",
            Self::BadSignature { .. } => "federation.dsse.bad_signature",
            Self::ThresholdNotMet { .. } => "federation.dsse.threshold_not_met",
            Self::InvalidThreshold { .. } => "federation.dsse.invalid_threshold",
            Self::UnsignedEnvelope => "federation.dsse.unsigned_envelope",
            Self::MalformedEnvelope { .. } => "federation.dsse.malformed_envelope",
            Self::BadBase64 { .. } => "federation.dsse.bad_base64",
            Self::DuplicateKeyId { .. } => "federation.dsse.duplicate_keyid",
            Self::InvalidKey { .. } => "federation.dsse.invalid_key",
            Self::KeyGeneration { .. } => "federation.dsse.keygen_failed",
            Self::KeyFile { .. } => "federation.dsse.key_file",
            Self::NonCanonicalJson { .. } => "federation.dsse.non_canonical_json",
        }
    }

    /// Whether this error says the envelope failed verification (as opposed to bad input,
    /// configuration or key handling).
    pub fn is_verification_failure(&self) -> bool {
        matches!(
            self,
            Self::PayloadTypeMismatch { .. }
                | Self::UntrustedKey { .. }
                | Self::BadSignature { .. }
                | Self::ThresholdNotMet { .. }
                | Self::UnsignedEnvelope
        )
    }

    /// Names `source` (a file) in an [`DsseError::InvalidKey`]; other errors are unchanged.
    pub(crate) fn in_source(self, source: &str) -> Self {
        match self {
            Self::InvalidKey {
                source_name,
                detail,
            } => Self::InvalidKey {
                source_name: format!("{source}, {source_name}"),
                detail,
            },
            other => other,
        }
    }

    pub(crate) fn invalid_key(source_name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::InvalidKey {
            source_name: source_name.into(),
            detail: detail.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_namespaced() {
        let all = [
            DsseError::SignFailed {
                key_id: "k".into(),
                reason: "r".into(),
            },
            DsseError::SignerUnavailable { detail: "d".into() },
            DsseError::PayloadTypeMismatch {
                expected: "a".into(),
                found: "b".into(),
            },
            DsseError::UntrustedKey {
                key_ids: vec![],
                trusted_key_ids: vec![],
            },
            DsseError::BadSignature {
                signatures: 1,
                trusted: 1,
                payload_type: "t".into(),
            },
            DsseError::ThresholdNotMet {
                required: 2,
                verified: 1,
                verified_key_ids: vec!["a".into()],
                signatures: 2,
            },
            DsseError::InvalidThreshold {
                threshold: 0,
                distinct_trusted: 1,
            },
            DsseError::UnsignedEnvelope,
            DsseError::MalformedEnvelope { detail: "d".into() },
            DsseError::BadBase64 {
                field: "payload".into(),
                detail: "d".into(),
            },
            DsseError::DuplicateKeyId {
                key_id: "k".into(),
                location: "signers",
            },
            DsseError::invalid_key("s", "d"),
            DsseError::KeyGeneration { detail: "d".into() },
            DsseError::KeyFile {
                action: "read",
                path: "x".into(),
                source: std::io::Error::other("boom"),
            },
            DsseError::NonCanonicalJson { detail: "d".into() },
        ];
        let codes: Vec<&str> = all.iter().map(DsseError::code).collect();
        assert_eq!(
            codes,
            [
                "federation.dsse.sign_failed",
                "federation.dsse.signer_unavailable",
                "federation.dsse.payload_type_mismatch",
                "federation.dsse.untrusted_key",
                "federation.dsse.bad_signature",
                "federation.dsse.threshold_not_met",
                "federation.dsse.invalid_threshold",
                "federation.dsse.unsigned_envelope",
                "federation.dsse.malformed_envelope",
                "federation.dsse.bad_base64",
                "federation.dsse.duplicate_keyid",
                "federation.dsse.invalid_key",
                "federation.dsse.keygen_failed",
                "federation.dsse.key_file",
                "federation.dsse.non_canonical_json",
            ]
        );
        let failures: Vec<bool> = all.iter().map(DsseError::is_verification_failure).collect();
        assert_eq!(failures.iter().filter(|f| **f).count(), 5);
    }

    #[test]
    fn messages_say_what_was_expected_and_found() {
        let e = DsseError::PayloadTypeMismatch {
            expected: "application/vnd.in-toto+json".into(),
            found: "text/plain".into(),
        };
        assert_eq!(
            e.to_string(),
            "payload type mismatch: expected `application/vnd.in-toto+json`, found `text/plain` \
             in the envelope"
        );
        let e = DsseError::ThresholdNotMet {
            required: 2,
            verified: 1,
            verified_key_ids: vec!["alice".into()],
            signatures: 3,
        };
        assert_eq!(
            e.to_string(),
            "threshold not met: expected valid signatures from at least 2 distinct trusted \
             key(s), found 1 (alice) among 3 signature(s)"
        );
    }
}

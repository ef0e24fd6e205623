//! DSSE envelopes for Stella Ops that any DSSE implementation can verify.
//!
//! [DSSE](https://github.com/secure-systems-lab/dsse) (Dead Simple Signing Envelope, protocol
//! v1.0) signs a payload together with its type: every signature covers the
//! [Pre-Authentication Encoding](pae()) `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`.
//! This crate writes and checks the JSON envelope exactly as securesystemslib, in-toto and
//! sigstore do, with three key types:
//!
//! - **Ed25519** and **ECDSA P-256/SHA-256** (DER signatures): public-key signatures that
//!   securesystemslib verifies, with securesystemslib's key ids and key formats (PKCS#8 and SPKI
//!   PEM, securesystemslib JSON);
//! - **HMAC-SHA256**: the offline-safe shared-secret default of the reference implementation
//!   (a local map of key id -> secret, constant-time comparison).
//!
//! ```
//! use stellaops_dsse::{
//!     sign_envelope, Ed25519Signer, Envelope, TrustedKeys, Verifier,
//! };
//!
//! // Sign.
//! let signer = Ed25519Signer::generate()?;
//! let envelope = sign_envelope(&[&signer], "application/vnd.in-toto+json", br#"{"a":1}"#)?;
//! let json = envelope.to_json();
//!
//! // Verify: keyid is only a hint, the payload type is checked, the payload comes back
//! // from the verification itself.
//! let trusted = TrustedKeys::new().with(signer.public_key().verifier(signer.key_id()))?;
//! let verifier = Verifier::new(trusted);
//! let verified = verifier.verify_json(json.as_bytes(), "application/vnd.in-toto+json")?;
//! assert_eq!(verified.payload(), br#"{"a":1}"#);
//! assert_eq!(verified.verified_key_ids(), [signer.key_id()]);
//!
//! // A changed payload type fails with a stable code.
//! let mut swapped = Envelope::from_json(json.as_bytes())?;
//! swapped.payload_type = "text/plain".into();
//! let err = verifier.verify(&swapped, "text/plain").unwrap_err();
//! assert_eq!(err.code(), "federation.dsse.bad_signature");
//! # Ok::<(), stellaops_dsse::DsseError>(())
//! ```
//!
//! # Modules
//!
//! - [`pae()`]: the Pre-Authentication Encoding.
//! - [`envelope`]: the JSON envelope ([`Envelope`]): standard padded base64 out; standard or
//!   URL-safe, padded or not, in; unknown fields ignored; duplicate key ids refused.
//! - [`sign`]: [`EnvelopeSigner`], [`sign_envelope`], and the explicit unsigned fallback
//!   ([`sign_envelope_with_fallback`], [`UnsignedFallback`]).
//! - [`verify`]: [`EnvelopeVerifier`], [`TrustedKeys`], the threshold [`Verifier`] and
//!   [`VerifiedPayload`].
//! - [`keys`]: key types, generation, PEM and securesystemslib JSON, key files (0600).
//! - [`canonical_json`]: securesystemslib's canonical JSON (for key ids).
//! - [`error`]: [`DsseError`] with stable `federation.dsse.*` codes.
//!
//! Consented, privacy-preserving federated telemetry built on these envelopes (consent proofs,
//! aggregates, bundles) is the `stellaops-federation` crate, not this one; see
//! `docs/federation.md`.
//!
//! # Feature flags
//!
//! None: every key type is always available.
//!
//! # Supported Rust versions
//!
//! The workspace's `rust-version` (1.88) and newer; developed on stable 1.95.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![warn(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr
)]

pub mod canonical_json;
pub mod envelope;
pub mod error;
pub mod keys;
mod pae;
pub mod sign;
pub mod verify;

pub use envelope::{Envelope, Signature, UNSIGNED_FALLBACK_KEYID};
pub use error::DsseError;
pub use keys::{
    EcdsaP256Signer, Ed25519Signer, HmacSha256Key, KeyType, PrivateKey, PublicKey,
    PublicKeyVerifier, TrustedKey, write_private_key_file, write_public_key_file,
};
pub use pae::pae;
pub use sign::{EnvelopeSigner, UnsignedFallback, sign_envelope, sign_envelope_with_fallback};
pub use verify::{EnvelopeVerifier, KeyIdentity, TrustedKeys, VerifiedPayload, Verifier};

//! The `sha256:<hex>` names of consent proofs and bundle envelopes; a leaf the modules that
//! name things import. Key ids and envelope digests inside DSSE are `stellaops-dsse`'s.

/// `sha256:<hex>` of `bytes`: how consent proofs and bundle envelopes are named.
pub fn sha256_digest(bytes: &[u8]) -> String {
    use sha2::{Digest as _, Sha256};
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

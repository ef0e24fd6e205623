//! The zero-copy paths (`sign_parts`, `verify_parts`) agree with the contiguous ones (`sign`,
//! `verify`) for every built-in key, however the message is split: signatures are
//! deterministic (Ed25519, RFC 6979 ECDSA, HMAC), so they must be byte-identical.

use proptest::prelude::*;
use stellaops_dsse::{
    EcdsaP256Signer, Ed25519Signer, EnvelopeSigner, EnvelopeVerifier, HmacSha256Key, PrivateKey,
};

fn keys() -> [PrivateKey; 3] {
    [
        PrivateKey::Ed25519(Ed25519Signer::from_seed(&[4; 32])),
        PrivateKey::EcdsaP256(EcdsaP256Signer::from_scalar_bytes(&[5; 32]).unwrap()),
        PrivateKey::HmacSha256(HmacSha256Key::new("h", vec![6; 32]).unwrap()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn split_messages_sign_and_verify_like_whole_ones(
        message in proptest::collection::vec(any::<u8>(), 0..300),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..4),
        flip in any::<prop::sample::Index>(),
    ) {
        let mut at: Vec<usize> = cuts.iter().map(|c| c.index(message.len() + 1)).collect();
        at.sort_unstable();
        let mut parts: Vec<&[u8]> = Vec::new();
        let mut start = 0;
        for end in at.into_iter().chain([message.len()]) {
            parts.push(&message[start..end]);
            start = end;
        }
        for key in keys() {
            let whole = key.sign(&message).unwrap();
            prop_assert_eq!(&key.sign_parts(&parts).unwrap(), &whole);
            let trusted = key.trusted_key();
            prop_assert!(trusted.verify(&message, &whole));
            prop_assert!(trusted.verify_parts(&parts, &whole));
            let mut bad = whole.clone();
            let i = flip.index(bad.len());
            bad[i] ^= 0x80;
            prop_assert!(!trusted.verify(&message, &bad));
            prop_assert!(!trusted.verify_parts(&parts, &bad));
        }
    }
}

#[test]
fn weak_ed25519_public_keys_are_refused() {
    // The identity point (a small-order key): any "signature" trick against it must fail.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let key = ed25519_dalek::VerifyingKey::from_bytes(&identity).unwrap();
    assert!(key.is_weak());
    let public = stellaops_dsse::PublicKey::Ed25519(key);
    // R = identity, S = 0 satisfies the cofactorless equation for the identity key.
    let mut sig = [0u8; 64];
    sig[0] = 1;
    assert!(!public.verify(b"anything", &sig));
}

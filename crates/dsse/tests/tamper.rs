//! What a verifier must refuse, with real keys of every type: payload tamper, payload-type swap,
//! signature tamper, wrong key, thresholds; and what it must accept: URL-safe input, non-ASCII
//! types, empty payloads and types. Property tests: no single-byte change to a signed envelope
//! makes it verify as different content, and changes to the authenticated bytes always fail.

use base64::Engine as _;
use proptest::prelude::*;
use std::sync::OnceLock;
use stellaops_dsse::{
    DsseError, EcdsaP256Signer, Ed25519Signer, Envelope, EnvelopeSigner, HmacSha256Key, KeyType,
    PrivateKey, TrustedKeys, UnsignedFallback, Verifier, sign_envelope,
    sign_envelope_with_fallback,
};

const TYPE: &str = "application/vnd.stellaops.federation.bundle+json";
const PAYLOAD: &[u8] = br#"{"bundleId":"b-1","buckets":[{"cveId":"CVE-2025-1","noisyCount":7}]}"#;

/// One fixed key of each type (Ed25519 and RFC 6979 ECDSA are deterministic, so every run and
/// every proptest failure is reproducible).
fn keys() -> &'static [PrivateKey; 3] {
    static KEYS: OnceLock<[PrivateKey; 3]> = OnceLock::new();
    KEYS.get_or_init(|| {
        [
            PrivateKey::Ed25519(Ed25519Signer::from_seed(&[1; 32])),
            PrivateKey::EcdsaP256(EcdsaP256Signer::from_scalar_bytes(&[2; 32]).unwrap()),
            PrivateKey::HmacSha256(HmacSha256Key::new("federation-hmac", vec![3; 32]).unwrap()),
        ]
    })
}

fn trusted(keys: &[&PrivateKey]) -> TrustedKeys {
    let mut trusted = TrustedKeys::new();
    for k in keys {
        trusted.add(k.trusted_key()).unwrap();
    }
    trusted
}

fn verify_one(
    key: &PrivateKey,
    envelope: &Envelope,
    expected_type: &str,
) -> Result<Vec<u8>, DsseError> {
    Verifier::new(trusted(&[key]))
        .verify(envelope, expected_type)
        .map(|v| v.into_payload())
}

#[test]
fn every_key_type_signs_and_verifies() {
    for key in keys() {
        let envelope = sign_envelope(&[key], TYPE, PAYLOAD).unwrap();
        assert_eq!(envelope.signatures[0].keyid, key.key_id());
        assert_eq!(
            verify_one(key, &envelope, TYPE).unwrap(),
            PAYLOAD,
            "{:?}",
            key.key_type()
        );
        let sig_len = envelope.signatures[0].sig.len();
        match key.key_type() {
            KeyType::Ed25519 => assert_eq!(sig_len, 64),
            KeyType::HmacSha256 => assert_eq!(sig_len, 32),
            // DER: SEQUENCE { INTEGER r, INTEGER s }, 70 to 72 bytes almost always.
            KeyType::EcdsaP256 => {
                assert_eq!(envelope.signatures[0].sig[0], 0x30);
                assert!((8..=72).contains(&sig_len), "{sig_len}");
            }
        }
    }
}

#[test]
fn payload_tamper_fails() {
    for key in keys() {
        let mut envelope = sign_envelope(&[key], TYPE, PAYLOAD).unwrap();
        envelope.payload =
            br#"{"bundleId":"b-1","buckets":[{"cveId":"CVE-2025-1","noisyCount":8}]}"#.to_vec();
        let err = verify_one(key, &envelope, TYPE).unwrap_err();
        assert_eq!(
            err.code(),
            "federation.dsse.bad_signature",
            "{:?}",
            key.key_type()
        );
        envelope.payload.push(b' ');
        assert!(verify_one(key, &envelope, TYPE).is_err());
        envelope.payload.clear();
        assert!(verify_one(key, &envelope, TYPE).is_err());
    }
}

#[test]
fn payload_type_swap_fails_even_when_the_caller_expects_the_new_type() {
    for key in keys() {
        let mut envelope = sign_envelope(&[key], TYPE, PAYLOAD).unwrap();
        envelope.payload_type = "application/vnd.stellaops.federation.consent+json".into();
        // The caller still expects the original type: a type mismatch.
        let err = verify_one(key, &envelope, TYPE).unwrap_err();
        assert_eq!(err.code(), "federation.dsse.payload_type_mismatch");
        // The caller expects the swapped-in type: the signature does not cover it.
        let err = verify_one(key, &envelope, &envelope.payload_type.clone()).unwrap_err();
        assert_eq!(
            err.code(),
            "federation.dsse.bad_signature",
            "{:?}",
            key.key_type()
        );
    }
}

#[test]
fn signature_tamper_fails() {
    for key in keys() {
        let original = sign_envelope(&[key], TYPE, PAYLOAD).unwrap();
        let len = original.signatures[0].sig.len();
        for i in [0, len / 2, len - 1] {
            let mut envelope = original.clone();
            envelope.signatures[0].sig[i] ^= 0x01;
            let err = verify_one(key, &envelope, TYPE).unwrap_err();
            assert_eq!(
                err.code(),
                "federation.dsse.bad_signature",
                "{:?} byte {i}",
                key.key_type()
            );
        }
        let mut truncated = original.clone();
        truncated.signatures[0].sig.pop();
        assert!(verify_one(key, &truncated, TYPE).is_err());
        let mut extended = original;
        extended.signatures[0].sig.push(0);
        assert!(verify_one(key, &extended, TYPE).is_err());
    }
}

#[test]
fn wrong_key_fails() {
    for key_type in KeyType::ALL {
        let signer = PrivateKey::generate(key_type).unwrap();
        let other = PrivateKey::generate(key_type).unwrap();
        let envelope = sign_envelope(&[&signer], TYPE, PAYLOAD).unwrap();
        // Key ids differ (they are derived from the keys): the hint names an untrusted key.
        let err = verify_one(&other, &envelope, TYPE).unwrap_err();
        assert_eq!(err.code(), "federation.dsse.untrusted_key", "{key_type}");
        // Same key id, different key: the hint matches, the signature does not.
        let impostor = other.with_key_id(signer.key_id());
        let err = verify_one(&impostor, &envelope, TYPE).unwrap_err();
        assert_eq!(err.code(), "federation.dsse.bad_signature", "{key_type}");
    }
}

#[test]
fn hmac_secret_is_the_key_not_the_key_id() {
    let a = HmacSha256Key::new("shared", vec![1u8; 32]).unwrap();
    let b = HmacSha256Key::new("shared", vec![2u8; 32]).unwrap();
    let envelope = sign_envelope(&[&a], TYPE, PAYLOAD).unwrap();
    let err = Verifier::new(TrustedKeys::new().with(b).unwrap())
        .verify(&envelope, TYPE)
        .unwrap_err();
    assert_eq!(err.code(), "federation.dsse.bad_signature");
    let short = HmacSha256Key::new("short", vec![1u8; 15]).unwrap_err();
    assert_eq!(short.code(), "federation.dsse.invalid_key");
    assert!(
        short.to_string().contains("at least 16 bytes, found 15"),
        "{short}"
    );
}

#[test]
fn thresholds_across_key_types() {
    let [ed, ec, hmac] = keys();
    let all = trusted(&[ed, ec, hmac]);
    let envelope = sign_envelope(&[ed, ec, hmac], TYPE, PAYLOAD).unwrap();
    for t in 1..=3 {
        let v = Verifier::new(all.clone())
            .threshold(t)
            .verify(&envelope, TYPE)
            .unwrap();
        assert_eq!(
            v.verified_key_ids(),
            [ed.key_id(), ec.key_id(), hmac.key_id()]
        );
    }
    let err = Verifier::new(all.clone())
        .threshold(4)
        .verify(&envelope, TYPE)
        .unwrap_err();
    assert_eq!(err.code(), "federation.dsse.invalid_threshold");

    // Two of three signed: t = 2 passes, t = 3 fails naming who verified.
    let two = sign_envelope(&[ec, hmac], TYPE, PAYLOAD).unwrap();
    Verifier::new(all.clone())
        .threshold(2)
        .verify(&two, TYPE)
        .unwrap();
    let err = Verifier::new(all.clone())
        .threshold(3)
        .verify(&two, TYPE)
        .unwrap_err();
    assert_eq!(err.code(), "federation.dsse.threshold_not_met");
    assert!(err.to_string().contains(ec.key_id()), "{err}");

    // A signature by an untrusted key does not count.
    let stranger = PrivateKey::generate(KeyType::Ed25519).unwrap();
    let mixed = sign_envelope(&[ed, &stranger], TYPE, PAYLOAD).unwrap();
    let err = Verifier::new(all.clone())
        .threshold(2)
        .verify(&mixed, TYPE)
        .unwrap_err();
    assert_eq!(err.code(), "federation.dsse.threshold_not_met");

    // One good signature among tampered ones meets t = 1.
    let mut one_good = envelope.clone();
    one_good.signatures[0].sig[3] ^= 0xff;
    one_good.signatures[2].sig[3] ^= 0xff;
    let v = Verifier::new(all).verify(&one_good, TYPE).unwrap();
    assert_eq!(v.verified_key_ids(), [ec.key_id()]);
}

#[test]
fn url_safe_unpadded_copy_of_our_output_verifies() {
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    for key in keys() {
        // A payload whose standard base64 contains '+' and '/'.
        let payload = [0xfb, 0xff, 0xbf, 0xfe, 0x3f, 0x00, 0x01];
        let envelope = sign_envelope(&[key], TYPE, payload).unwrap();
        let json = serde_json::json!({
            "payloadType": TYPE,
            "payload": url.encode(payload),
            "signatures": [{"keyid": key.key_id(), "sig": url.encode(&envelope.signatures[0].sig)}],
        });
        let text = json.to_string();
        assert!(text.contains("-_-_"), "{text}");
        let v = Verifier::new(trusted(&[key]))
            .verify_json(text.as_bytes(), TYPE)
            .unwrap();
        assert_eq!(v.payload(), payload);
    }
}

#[test]
fn non_ascii_and_empty_types_and_payloads() {
    for key in keys() {
        for (payload_type, payload) in [
            ("application/vnd.exämple+json", PAYLOAD),
            ("型/テスト", PAYLOAD),
            ("", PAYLOAD),
            (TYPE, &b""[..]),
            ("", &b""[..]),
        ] {
            let envelope = sign_envelope(&[key], payload_type, payload).unwrap();
            let json = envelope.to_json();
            let v = Verifier::new(trusted(&[key]))
                .verify_json(json.as_bytes(), payload_type)
                .unwrap();
            assert_eq!(v.payload(), payload);
            assert_eq!(v.payload_type(), payload_type);
            if !payload_type.is_empty() {
                let err = Verifier::new(trusted(&[key]))
                    .verify_json(json.as_bytes(), "")
                    .unwrap_err();
                assert_eq!(err.code(), "federation.dsse.payload_type_mismatch");
            }
        }
    }
}

#[test]
fn unsigned_fallback_end_to_end() {
    let envelope =
        sign_envelope_with_fallback(&[], TYPE, PAYLOAD, UnsignedFallback::Allow).unwrap();
    let json = envelope.to_json();
    assert!(
        json.contains(r#""keyid":"offline-unsigned-fallback","sig":"""#),
        "{json}"
    );
    let [ed, ..] = keys();
    let err = Verifier::new(trusted(&[ed]))
        .verify_json(json.as_bytes(), TYPE)
        .unwrap_err();
    assert_eq!(err.code(), "federation.dsse.unsigned_envelope");
    let v = Verifier::new(trusted(&[ed]))
        .dangerous_accept_unsigned_fallback()
        .verify_json(json.as_bytes(), TYPE)
        .unwrap();
    assert!(v.is_unsigned_fallback());
    assert_eq!(v.payload(), PAYLOAD);
    let err = sign_envelope(&[], TYPE, PAYLOAD).unwrap_err();
    assert_eq!(err.code(), "federation.dsse.signer_unavailable");
}

#[test]
fn ecdsa_accepts_raw_r_s_and_der() {
    let signer = EcdsaP256Signer::generate().unwrap();
    let envelope = sign_envelope(&[&signer], TYPE, PAYLOAD).unwrap();
    let der = p256::ecdsa::Signature::from_der(&envelope.signatures[0].sig).unwrap();
    let mut raw = envelope.clone();
    raw.signatures[0].sig = der.to_bytes().to_vec();
    assert_eq!(raw.signatures[0].sig.len(), 64);
    let trusted = TrustedKeys::new()
        .with(signer.public_key().verifier(signer.key_id()))
        .unwrap();
    Verifier::new(trusted.clone()).verify(&raw, TYPE).unwrap();
    raw.signatures[0].sig[10] ^= 1;
    assert!(Verifier::new(trusted).verify(&raw, TYPE).is_err());
}

#[test]
fn ed25519_and_ecdsa_signers_are_distinct_keys_for_thresholds() {
    let seed = [9u8; 32];
    let a = Ed25519Signer::from_seed(&seed).with_key_id("a");
    let a_again = Ed25519Signer::from_seed(&seed).with_key_id("a-again");
    let envelope = sign_envelope(&[&a, &a_again], TYPE, PAYLOAD).unwrap();
    let trusted = TrustedKeys::new()
        .with(a.public_key().verifier("a"))
        .unwrap()
        .with(a_again.public_key().verifier("a-again"))
        .unwrap();
    assert_eq!(trusted.distinct_keys(), 1);
    let err = Verifier::new(trusted)
        .threshold(2)
        .verify(&envelope, TYPE)
        .unwrap_err();
    assert_eq!(err.code(), "federation.dsse.invalid_threshold");
}

/// The envelope JSON of each key type, signed once.
fn signed_json() -> &'static [(usize, String); 3] {
    static JSON: OnceLock<[(usize, String); 3]> = OnceLock::new();
    JSON.get_or_init(|| {
        [0, 1, 2].map(|i| {
            let key = &keys()[i];
            (i, sign_envelope(&[key], TYPE, PAYLOAD).unwrap().to_json())
        })
    })
}

#[test]
fn flipping_any_bit_zero_outside_the_keyid_hint_fails() {
    // Exhaustive over positions: every byte of each envelope's JSON, low bit flipped. Only a
    // change inside the unauthenticated `"keyid":"..."` member (its name or its value) may
    // still verify, and then as the same content.
    for (i, json) in signed_json() {
        let key = &keys()[*i];
        let keyid_start = json.find(r#""keyid":""#).unwrap();
        let keyid_end = keyid_start + r#""keyid":""#.len() + key.key_id().len();
        for pos in 0..json.len() {
            let mut bytes = json.clone().into_bytes();
            bytes[pos] ^= 0x01;
            let result = Verifier::new(trusted(&[key])).verify_json(&bytes, TYPE);
            if (keyid_start..keyid_end).contains(&pos) {
                if let Ok(v) = result {
                    assert_eq!(v.payload(), PAYLOAD);
                }
            } else {
                assert!(
                    result.is_err(),
                    "{:?}: flipping byte {pos} ({:?}) still verifies",
                    key.key_type(),
                    char::from(json.as_bytes()[pos])
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// No single-byte change to a signed envelope's JSON makes it verify as anything other
    /// than the original content. (Some changes legitimately still verify as the *same*
    /// content: the `keyid` hint is unauthenticated, and the spec requires accepting URL-safe
    /// base64, so `+` -> `-` in a string without `/` decodes to the same bytes.)
    #[test]
    fn single_byte_json_change_never_verifies_different_content(
        which in 0usize..3, at in any::<prop::sample::Index>(), byte in any::<u8>()
    ) {
        let (i, json) = &signed_json()[which];
        let key = &keys()[*i];
        let mut bytes = json.clone().into_bytes();
        let pos = at.index(bytes.len());
        prop_assume!(bytes[pos] != byte);
        bytes[pos] = byte;
        let result = Verifier::new(trusted(&[key])).verify_json(&bytes, TYPE);
        if let Ok(v) = result {
            prop_assert_eq!(v.payload(), PAYLOAD);
            prop_assert_eq!(v.payload_type(), TYPE);
            // The only changes that verify are in the keyid hint or a base64 alphabet swap.
            let original = Envelope::from_json(json.as_bytes()).unwrap();
            let changed = Envelope::from_json(&bytes).unwrap();
            prop_assert_eq!(&changed.payload, &original.payload);
            prop_assert_eq!(&changed.signatures[0].sig, &original.signatures[0].sig);
        }
    }

    /// Any single-byte change to the authenticated content (payload, payload type, signature)
    /// fails verification.
    #[test]
    fn single_byte_change_to_signed_content_fails(
        which in 0usize..3, field in 0usize..3, at in any::<prop::sample::Index>(), delta in 1u8..=255
    ) {
        let key = &keys()[which];
        let mut envelope = Envelope::from_json(signed_json()[which].1.as_bytes()).unwrap();
        match field {
            0 => {
                let i = at.index(envelope.payload.len());
                envelope.payload[i] = envelope.payload[i].wrapping_add(delta);
            }
            1 => {
                let mut t = envelope.payload_type.clone().into_bytes();
                let i = at.index(t.len());
                t[i] = t[i].wrapping_add(delta);
                prop_assume!(std::str::from_utf8(&t).is_ok());
                envelope.payload_type = String::from_utf8(t).unwrap();
            }
            _ => {
                let sig = &mut envelope.signatures[0].sig;
                let i = at.index(sig.len());
                sig[i] = sig[i].wrapping_add(delta);
            }
        }
        let expected_type = envelope.payload_type.clone();
        let err = Verifier::new(trusted(&[key])).verify(&envelope, &expected_type).unwrap_err();
        prop_assert!(err.is_verification_failure(), "{}", err);
    }

    /// Verification never panics, whatever the signatures contain.
    #[test]
    fn verifying_arbitrary_signatures_never_panics(
        sigs in proptest::collection::vec(
            ("[A-Za-z0-9]{0,6}", proptest::collection::vec(any::<u8>(), 0..80)), 0..4),
        payload in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut seen = std::collections::HashSet::new();
        let envelope = Envelope {
            payload_type: TYPE.into(),
            payload,
            signatures: sigs
                .into_iter()
                .filter(|(k, _)| k.is_empty() || seen.insert(k.clone()))
                .map(|(keyid, sig)| stellaops_dsse::Signature { keyid, sig })
                .collect(),
        };
        let all = trusted(&keys().iter().collect::<Vec<_>>());
        let result = Verifier::new(all).verify(&envelope, TYPE);
        prop_assert!(result.is_err());
    }
}

#[test]
fn signer_trait_objects_mix_key_types() {
    let [ed, ec, hmac] = keys();
    let signers: Vec<&dyn EnvelopeSigner> = vec![ed, ec, hmac];
    let envelope = sign_envelope(&signers, TYPE, PAYLOAD).unwrap();
    assert_eq!(envelope.signatures.len(), 3);
}

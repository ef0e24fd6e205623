//! Known-answer tests: the DSSE protocol document's own ECDSA P-256 "hello world" vector, the
//! RFC 8032 Ed25519 test keys, and a DSSE vector suite over RFC 8032 keys A (test 1) and B
//! (test 2) whose expected signatures were computed independently with Python's
//! `cryptography` (Ed25519 is deterministic, so any correct implementation gets the same bytes).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use stellaops_dsse::{
    EcdsaP256Signer, Ed25519Signer, Envelope, EnvelopeSigner, PublicKey, TrustedKeys, Verifier, pae,
};

// protocol.md, "Test Vectors": ECDSA over NIST P-256 and SHA-256, deterministic RFC 6979,
// signature as raw r || s. X, Y and d are the document's decimal numbers in hex.
const SPEC_X: &str = "67cd390f77aa359cb08c2235f652270493a9ed832b0abcc01f70954c0390d238";
const SPEC_Y: &str = "0c782bd54e269125a44f4433aff1432ce94e12bca73aa67ac80cea12608ddf74";
const SPEC_D: &str = "d73ec437fd6346e3619c5ebfdfff0f6916804955ad32ac9ac492b0ede1f6ffb7";
const SPEC_ENVELOPE: &str = r#"{"payload": "aGVsbG8gd29ybGQ=",
 "payloadType": "http://example.com/HelloWorld",
 "signatures": [{"sig": "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="}]}"#;
const SPEC_TYPE: &str = "http://example.com/HelloWorld";
/// The spec's r || s signature as DER (re-encoded by Python's `cryptography`).
const SPEC_SIG_DER: &str = "MEQCIANyarEBrVbCdjtsaqyOSHJ14qeRk6CdxfhZ2fjvPEo7AiBR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA==";

// RFC 8032 section 7.1, tests 1 and 2.
const RFC8032_SEED_1: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const RFC8032_PUBLIC_1: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
const RFC8032_SIG_1: &str = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
const RFC8032_SEED_2: &str = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
const RFC8032_PUBLIC_2: &str = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
const RFC8032_SIG_2: &str = "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";

const IN_TOTO: &str = "application/vnd.in-toto+json";
const STATEMENT: &[u8] = br#"{"_type":"https://in-toto.io/Statement/v1"}"#;
/// Key A's and key B's signatures over PAE(IN_TOTO, STATEMENT), computed with `cryptography`.
const SIG_A: &str =
    "2WAfaHm5jluo0w+0rk8uVkluELJYWjSmU9x7EUzx+AyteDGJ4/nqyJXfmAUVFIAoQafWm7AxBZNw5M9ixNHiCA==";
const SIG_B: &str =
    "c1+67/aT0yqEpwx8PsVY3MLHsj9D0CZ014/Fv/QlG59P+9CobUZ7xECJ/V3USG0Ob9CiE5LjReEZUzNF2l7eBw==";

fn seed(hex_seed: &str) -> [u8; 32] {
    hex::decode(hex_seed).unwrap().try_into().unwrap()
}

fn key_a() -> Ed25519Signer {
    Ed25519Signer::from_seed(&seed(RFC8032_SEED_1)).with_key_id("A")
}

fn key_b() -> Ed25519Signer {
    Ed25519Signer::from_seed(&seed(RFC8032_SEED_2)).with_key_id("B")
}

fn spec_public_key() -> PublicKey {
    let mut sec1 = vec![0x04];
    sec1.extend(hex::decode(SPEC_X).unwrap());
    sec1.extend(hex::decode(SPEC_Y).unwrap());
    PublicKey::EcdsaP256(p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).unwrap())
}

#[test]
fn spec_pae_example() {
    assert_eq!(
        pae(SPEC_TYPE, b"hello world"),
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    );
}

#[test]
fn spec_ecdsa_vector_verifies_with_raw_r_s_signature() {
    let envelope = Envelope::from_json(SPEC_ENVELOPE.as_bytes()).unwrap();
    assert_eq!(envelope.payload, b"hello world");
    assert_eq!(envelope.signatures[0].keyid, "");
    assert_eq!(envelope.signatures[0].sig.len(), 64);
    let trusted = TrustedKeys::new()
        .with(spec_public_key().verifier("mykey"))
        .unwrap();
    let verified = Verifier::new(trusted.clone())
        .verify(&envelope, SPEC_TYPE)
        .unwrap();
    assert_eq!(verified.payload(), b"hello world");
    assert_eq!(verified.verified_key_ids(), ["mykey"]);

    // The same signature in DER also verifies.
    let mut der = envelope.clone();
    der.signatures[0].sig = STANDARD.decode(SPEC_SIG_DER).unwrap();
    Verifier::new(trusted.clone())
        .verify(&der, SPEC_TYPE)
        .unwrap();

    // And the spec's signature does not cover a different body.
    let mut other = envelope;
    other.payload = b"hello world!".to_vec();
    let err = Verifier::new(trusted)
        .verify(&other, SPEC_TYPE)
        .unwrap_err();
    assert_eq!(err.code(), "federation.dsse.bad_signature");
}

#[test]
fn spec_ecdsa_private_key_reproduces_the_spec_signature_in_der() {
    // Deterministic RFC 6979: our signer with the spec's d writes exactly the spec's (r, s),
    // DER-encoded as securesystemslib and sigstore write ECDSA signatures.
    let signer = EcdsaP256Signer::from_scalar_bytes(&hex::decode(SPEC_D).unwrap()).unwrap();
    assert_eq!(signer.public_key(), spec_public_key());
    let sig = signer.sign(&pae(SPEC_TYPE, b"hello world")).unwrap();
    assert_eq!(STANDARD.encode(&sig), SPEC_SIG_DER);
    // securesystemslib's key id of this key, as computed by securesystemslib 1.6.
    assert_eq!(
        signer.key_id(),
        "2f9c4662c9410d724be73522fa0dd06be3e17ce4c9b055b2f196737557650ec2"
    );
}

#[test]
fn rfc8032_test_keys_and_signatures() {
    for (seed_hex, public_hex, message, sig_hex) in [
        (RFC8032_SEED_1, RFC8032_PUBLIC_1, &b""[..], RFC8032_SIG_1),
        (
            RFC8032_SEED_2,
            RFC8032_PUBLIC_2,
            &[0x72u8][..],
            RFC8032_SIG_2,
        ),
    ] {
        let signer = Ed25519Signer::from_seed(&seed(seed_hex));
        let PublicKey::Ed25519(public) = signer.public_key() else {
            panic!("not an Ed25519 key");
        };
        assert_eq!(hex::encode(public.as_bytes()), public_hex);
        let sig = signer.sign(message).unwrap();
        assert_eq!(hex::encode(&sig), sig_hex);
        assert!(signer.public_key().verify(message, &sig));
    }
    // securesystemslib's key id of RFC 8032 key 1, as computed by securesystemslib 1.6.
    assert_eq!(
        Ed25519Signer::from_seed(&seed(RFC8032_SEED_1)).key_id(),
        "74c181c7ad8a0855d4b55e44d2ba87aabdddb196832571f15f92fece332e4916"
    );
}

#[test]
fn rfc8032_key_signs_the_pae_not_the_payload() {
    let a = key_a();
    let envelope = stellaops_dsse::sign_envelope(&[&a], IN_TOTO, STATEMENT).unwrap();
    assert_eq!(STANDARD.encode(&envelope.signatures[0].sig), SIG_A);
    assert_eq!(
        envelope.to_json(),
        format!(
            r#"{{"payloadType":"{IN_TOTO}","payload":"{}","signatures":[{{"keyid":"A","sig":"{SIG_A}"}}]}}"#,
            STANDARD.encode(STATEMENT)
        )
    );
    // A signature over the raw payload is not a DSSE signature.
    let raw = a.sign(STATEMENT).unwrap();
    assert!(!a.public_key().verify(&pae(IN_TOTO, STATEMENT), &raw));
}

/// One case of the vector suite.
struct Case {
    id: &'static str,
    payload_type: &'static str,
    payload: &'static str,
    /// (keyid, sig) pairs as they appear in JSON; keyid `None` omits the field.
    signatures: &'static [(Option<&'static str>, &'static str)],
    threshold: usize,
    expected_type: &'static str,
    accept: bool,
}

const CASES: &[Case] = &[
    Case {
        id: "single-signature",
        payload_type: IN_TOTO,
        payload: "eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEifQ==",
        signatures: &[(Some("A"), SIG_A)],
        threshold: 1,
        expected_type: IN_TOTO,
        accept: true,
    },
    Case {
        id: "url-safe-base64",
        payload_type: IN_TOTO,
        payload: "-_-_Pj8=",
        signatures: &[(
            Some("A"),
            "P-_KHICeR7tI6S_YyejJTRtrXhcQyQ2LYPaL8h90KjC9qN8HU_svOQ6TuDOT1HIrsGW886DbWNWcCmX5twLrAw==",
        )],
        threshold: 1,
        expected_type: IN_TOTO,
        accept: true,
    },
    Case {
        id: "url-safe-base64-unpadded",
        payload_type: IN_TOTO,
        payload: "-_-_Pj8",
        signatures: &[(
            Some("A"),
            "P-_KHICeR7tI6S_YyejJTRtrXhcQyQ2LYPaL8h90KjC9qN8HU_svOQ6TuDOT1HIrsGW886DbWNWcCmX5twLrAw",
        )],
        threshold: 1,
        expected_type: IN_TOTO,
        accept: true,
    },
    Case {
        id: "payload-type-swapped",
        payload_type: "application/vnd.example.other+json",
        payload: "eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEifQ==",
        signatures: &[(Some("A"), SIG_A)],
        threshold: 1,
        expected_type: "application/vnd.example.other+json",
        accept: false,
    },
    Case {
        id: "non-ascii-payload-type",
        payload_type: "application/vnd.exämple+json",
        payload: "eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEifQ==",
        signatures: &[(
            Some("A"),
            "xmSk/ug66ysT7ayhkCIjhAq42zgZXSsEWuzUaNL7w2eGAdF/NU6/fRXPtmfN+5DNSAs5/i2lUnHjbbjPsu0tAw==",
        )],
        threshold: 1,
        expected_type: "application/vnd.exämple+json",
        accept: true,
    },
    Case {
        id: "empty-payload",
        payload_type: IN_TOTO,
        payload: "",
        signatures: &[(
            Some("A"),
            "gSggCAaTLTYyRH6FIDBem6meyIynsYy8RTHVzwx9tnTb7Bg/1jMWnuVgI/gffqmbsC2VX5/jHfkkDqsj7CDbDg==",
        )],
        threshold: 1,
        expected_type: IN_TOTO,
        accept: true,
    },
    Case {
        id: "empty-payload-type-signed",
        payload_type: "",
        payload: "eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEifQ==",
        signatures: &[(
            Some("A"),
            "iC3q/+3Rm0+lpAJRueDmDh15PnwCfxKmS0NAfKsbv+zgulXQC/WM9trc+j1XEqlwDIg/vf/uNfebeD6sxInrDg==",
        )],
        threshold: 1,
        expected_type: "",
        accept: true,
    },
    Case {
        id: "empty-payload-type-not-expected",
        payload_type: "",
        payload: "eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEifQ==",
        signatures: &[(
            Some("A"),
            "iC3q/+3Rm0+lpAJRueDmDh15PnwCfxKmS0NAfKsbv+zgulXQC/WM9trc+j1XEqlwDIg/vf/uNfebeD6sxInrDg==",
        )],
        threshold: 1,
        expected_type: IN_TOTO,
        accept: false,
    },
    Case {
        id: "threshold-two-distinct-keys",
        payload_type: IN_TOTO,
        payload: "eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEifQ==",
        signatures: &[(Some("A"), SIG_A), (Some("B"), SIG_B)],
        threshold: 2,
        expected_type: IN_TOTO,
        accept: true,
    },
    Case {
        id: "threshold-two-one-key-twice-under-two-hints",
        payload_type: IN_TOTO,
        payload: "eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEifQ==",
        signatures: &[(Some("A"), SIG_A), (Some("B"), SIG_A)],
        threshold: 2,
        expected_type: IN_TOTO,
        accept: false,
    },
    Case {
        id: "threshold-two-without-keyids",
        payload_type: IN_TOTO,
        payload: "eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEifQ==",
        signatures: &[(None, SIG_A), (None, SIG_B)],
        threshold: 2,
        expected_type: IN_TOTO,
        accept: true,
    },
    Case {
        id: "swapped-hints",
        payload_type: IN_TOTO,
        payload: "eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEifQ==",
        signatures: &[(Some("B"), SIG_A), (Some("A"), SIG_B)],
        threshold: 2,
        expected_type: IN_TOTO,
        accept: true,
    },
];

fn case_json(case: &Case) -> String {
    let signatures: Vec<serde_json::Value> = case
        .signatures
        .iter()
        .map(|(keyid, sig)| match keyid {
            Some(k) => serde_json::json!({"keyid": k, "sig": sig}),
            None => serde_json::json!({"sig": sig}),
        })
        .collect();
    serde_json::json!({
        "payload": case.payload,
        "payloadType": case.payload_type,
        "signatures": signatures,
    })
    .to_string()
}

#[test]
fn dsse_vector_suite() {
    let trusted = TrustedKeys::new()
        .with(key_a().public_key().verifier("A"))
        .unwrap()
        .with(key_b().public_key().verifier("B"))
        .unwrap();
    for case in CASES {
        let json = case_json(case);
        let result = Verifier::new(trusted.clone())
            .threshold(case.threshold)
            .verify_json(json.as_bytes(), case.expected_type);
        match (case.accept, &result) {
            (true, Ok(v)) => {
                assert_eq!(v.payload_type(), case.payload_type, "{}", case.id);
                assert_eq!(
                    v.verified_key_ids().len(),
                    case.threshold.max(1),
                    "{}",
                    case.id
                );
            }
            (false, Err(e)) => assert!(e.is_verification_failure(), "{}: {e}", case.id),
            _ => panic!(
                "{}: expected accept={}, got {result:?}",
                case.id, case.accept
            ),
        }
    }
}

#[test]
fn vector_suite_pae_and_signatures_come_from_our_signer() {
    // Every accepted single-key case's signature is exactly what our signer writes.
    let a = key_a();
    for case in CASES.iter().filter(|c| c.accept && c.signatures.len() == 1) {
        let envelope = Envelope::from_json(case_json(case).as_bytes()).unwrap();
        let sig = a.sign(&envelope.pae()).unwrap();
        assert_eq!(sig, envelope.signatures[0].sig, "{}", case.id);
    }
}

#[test]
fn non_ascii_type_len_counts_bytes() {
    let t = "application/vnd.exämple+json";
    assert!(pae(t, STATEMENT).starts_with("DSSEv1 29 application/vnd.exämple+json 43 ".as_bytes()));
}

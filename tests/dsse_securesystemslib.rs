//! Interoperation of `stellaops_telemetry::dsse` with Python securesystemslib, in both
//! directions, for Ed25519 and ECDSA P-256: envelopes we sign verify there (single and
//! threshold), envelopes it signs verify here, both compute the same key ids and key JSON, and
//! both reject the same tampering.

use std::path::Path;
use stellaops_telemetry::dsse::{
    EcdsaP256Signer, Ed25519Signer, Envelope, EnvelopeSigner, KeyType, PrivateKey, PublicKey,
    TrustedKey, TrustedKeys, Verifier, sign_envelope,
};
use stellaops_telemetry_testkit::Python;

const TYPE: &str = "application/vnd.in-toto+json";
const PAYLOAD: &[u8] = br#"{"_type":"https://in-toto.io/Statement/v1","subject":[]}"#;

/// A Rust key on disk the way securesystemslib reads keys: PKCS#8, SPKI PEM, JSON.
fn write_key(dir: &Path, name: &str, key: &PrivateKey) -> (String, String, String) {
    let public = key.public_key().unwrap();
    let paths = ["key", "pub", "json"].map(|ext| dir.join(format!("{name}.{ext}")));
    std::fs::write(&paths[0], key.to_key_file().unwrap().as_bytes()).unwrap();
    std::fs::write(&paths[1], public.to_spki_pem().unwrap()).unwrap();
    std::fs::write(&paths[2], public.to_securesystemslib_json().unwrap()).unwrap();
    let [k, p, j] = paths.map(|p| p.to_str().unwrap().to_owned());
    (k, p, j)
}

fn python_verify(
    python: &Python,
    trusted: &[&str],
    threshold: usize,
    envelope: &[u8],
) -> Result<Vec<u8>, String> {
    let mut args = vec!["verify".to_owned()];
    for t in trusted {
        args.extend(["--trusted".to_owned(), (*t).to_owned()]);
    }
    args.extend(["--threshold".to_owned(), threshold.to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = python.dsse(&args, Some(envelope)).unwrap();
    if out.success {
        Ok(out.stdout.into_bytes())
    } else {
        Err(out.stderr)
    }
}

#[test]
fn rust_envelopes_verify_in_securesystemslib() {
    let python = Python::locate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for key_type in [KeyType::Ed25519, KeyType::EcdsaP256] {
        let key = PrivateKey::generate(key_type).unwrap();
        let (_, pem, json) = write_key(dir.path(), key_type.as_str(), &key);
        let envelope = sign_envelope(&[&key], TYPE, PAYLOAD).unwrap().to_json();
        for trusted in [&pem, &json] {
            let payload = python_verify(&python, &[trusted], 1, envelope.as_bytes())
                .unwrap_or_else(|e| panic!("{key_type} {trusted}: {e}"));
            assert_eq!(payload, PAYLOAD);
        }
        // securesystemslib also refuses what we refuse.
        let mut tampered = Envelope::from_json(envelope.as_bytes()).unwrap();
        tampered.payload.push(b' ');
        let err = python_verify(&python, &[&pem], 1, tampered.to_json().as_bytes()).unwrap_err();
        assert!(err.contains("verification failed"), "{err}");
        let mut swapped = Envelope::from_json(envelope.as_bytes()).unwrap();
        swapped.payload_type = "application/json".into();
        assert!(python_verify(&python, &[&pem], 1, swapped.to_json().as_bytes()).is_err());
    }
}

#[test]
fn rust_multi_signature_envelope_meets_a_securesystemslib_threshold() {
    let python = Python::locate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ed = PrivateKey::generate(KeyType::Ed25519).unwrap();
    let ec = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    let (_, ed_pem, _) = write_key(dir.path(), "ed", &ed);
    let (_, ec_pem, ec_json) = write_key(dir.path(), "ec", &ec);
    let both = sign_envelope(&[&ed, &ec], TYPE, PAYLOAD).unwrap().to_json();
    assert_eq!(
        python_verify(&python, &[&ed_pem, &ec_json], 2, both.as_bytes()).unwrap(),
        PAYLOAD
    );
    let one = sign_envelope(&[&ed], TYPE, PAYLOAD).unwrap().to_json();
    assert!(python_verify(&python, &[&ed_pem, &ec_pem], 2, one.as_bytes()).is_err());
}

fn python_keygen(python: &Python, dir: &Path, name: &str, kind: &str) -> (String, String) {
    let prefix = dir.join(name);
    let out = python
        .dsse(
            &["keygen", "--type", kind, "--out", prefix.to_str().unwrap()],
            None,
        )
        .unwrap();
    assert!(out.success, "{}", out.combined());
    (
        prefix.to_str().unwrap().to_owned(),
        out.stdout.trim().to_owned(),
    )
}

#[test]
fn securesystemslib_envelopes_verify_in_rust() {
    let python = Python::locate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut trusted_all = TrustedKeys::new();
    let mut keys = Vec::new();
    for kind in ["ed25519", "ecdsa"] {
        let (prefix, py_keyid) = python_keygen(&python, dir.path(), kind, kind);
        let signed = python
            .dsse(
                &[
                    "sign",
                    "--key",
                    &format!("{prefix}.key"),
                    "--payload-type",
                    TYPE,
                ],
                Some(PAYLOAD),
            )
            .unwrap();
        assert!(signed.success, "{}", signed.combined());
        for ext in ["pub", "json"] {
            let trusted = TrustedKey::read(Path::new(&format!("{prefix}.{ext}"))).unwrap();
            assert_eq!(
                stellaops_telemetry::dsse::EnvelopeVerifier::key_id(&trusted),
                py_keyid,
                "{kind}.{ext}"
            );
            trusted_all.add(trusted.clone()).unwrap();
            let verified = Verifier::new(TrustedKeys::new().with(trusted).unwrap())
                .verify_json(signed.stdout.as_bytes(), TYPE)
                .unwrap();
            assert_eq!(verified.payload(), PAYLOAD);
            assert_eq!(verified.verified_key_ids(), [py_keyid.as_str()]);
        }
        keys.push(format!("{prefix}.key"));
    }
    // PEM and JSON of each key collapsed into one trusted key each.
    assert_eq!(trusted_all.len(), 2);

    // A securesystemslib envelope signed by both keys meets our threshold of 2.
    let signed = python
        .dsse(
            &[
                "sign",
                "--key",
                &keys[0],
                "--key",
                &keys[1],
                "--payload-type",
                TYPE,
            ],
            Some(PAYLOAD),
        )
        .unwrap();
    assert!(signed.success, "{}", signed.combined());
    let verified = Verifier::new(trusted_all.clone())
        .threshold(2)
        .verify_json(signed.stdout.as_bytes(), TYPE)
        .unwrap();
    assert_eq!(verified.verified_key_ids().len(), 2);

    // Tampered in any authenticated part, it fails here too.
    let mut envelope = Envelope::from_json(signed.stdout.as_bytes()).unwrap();
    envelope.payload[0] ^= 1;
    let err = Verifier::new(trusted_all)
        .verify(&envelope, TYPE)
        .unwrap_err();
    assert_eq!(err.code(), "federation.dsse.bad_signature");
}

#[test]
fn securesystemslib_private_keys_load_and_sign_in_rust() {
    let python = Python::locate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for kind in ["ed25519", "ecdsa"] {
        let (prefix, py_keyid) = python_keygen(&python, dir.path(), kind, kind);
        let key = PrivateKey::read(Path::new(&format!("{prefix}.key"))).unwrap();
        assert_eq!(key.key_id(), py_keyid, "{kind}");
        let envelope = sign_envelope(&[&key], TYPE, PAYLOAD).unwrap().to_json();
        assert_eq!(
            python_verify(
                &python,
                &[&format!("{prefix}.json")],
                1,
                envelope.as_bytes()
            )
            .unwrap(),
            PAYLOAD
        );
    }
}

#[test]
fn key_ids_and_key_json_match_securesystemslib() {
    let python = Python::locate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let code = r#"
import json, sys
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from securesystemslib.signer import SSlibKey
key = SSlibKey.from_crypto(load_pem_public_key(open(sys.argv[1], "rb").read()))
print(json.dumps({"keyid": key.keyid, "key": key.to_dict()}))
"#;
    let ed = Ed25519Signer::generate().unwrap();
    let ec = EcdsaP256Signer::generate().unwrap();
    for (name, public, keyid) in [
        ("ed", ed.public_key(), ed.key_id().to_owned()),
        (
            "ec",
            ec.public_key(),
            EnvelopeSigner::key_id(&ec).to_owned(),
        ),
    ] {
        let pem_path = dir.path().join(format!("{name}.pub"));
        std::fs::write(&pem_path, public.to_spki_pem().unwrap()).unwrap();
        let out = python.code(code, &[pem_path.to_str().unwrap()]).unwrap();
        assert!(out.success, "{}", out.combined());
        let theirs: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(theirs["keyid"], keyid.as_str(), "{name}");
        assert_eq!(
            theirs["keyid"],
            public.securesystemslib_key_id().unwrap().as_str()
        );
        let ours: serde_json::Value =
            serde_json::from_str(&public.to_securesystemslib_json().unwrap()).unwrap();
        assert_eq!(theirs["key"], ours, "{name}");
        // Their JSON parses here to the same key and key id.
        let (parsed, parsed_id) =
            PublicKey::from_securesystemslib_json(theirs["key"].to_string().as_bytes()).unwrap();
        assert_eq!(parsed, public);
        assert_eq!(parsed_id, keyid);
    }
}

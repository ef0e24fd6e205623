//! Key handling: generation, PKCS#8 / SPKI PEM, securesystemslib JSON and key ids, the HMAC key
//! file, trusted key files, and key files written 0600 without overwriting.

use std::os::unix::fs::PermissionsExt as _;
use stellaops_dsse::keys::HMAC_SHA256_KEYTYPE;
use stellaops_dsse::{
    EcdsaP256Signer, Ed25519Signer, EnvelopeVerifier, HmacSha256Key, KeyType, PrivateKey,
    PublicKey, TrustedKey, TrustedKeys, Verifier, sign_envelope, write_private_key_file,
    write_public_key_file,
};

const RFC8032_SEED_1: [u8; 32] = [
    0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
    0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60,
];

#[test]
fn key_type_names() {
    for t in KeyType::ALL {
        assert_eq!(t.as_str().parse::<KeyType>().unwrap(), t);
        assert_eq!(t.to_string(), t.as_str());
    }
    let err = "rsa".parse::<KeyType>().unwrap_err();
    assert_eq!(err.code(), "federation.dsse.invalid_key");
    assert!(err.to_string().contains("found `rsa`"), "{err}");
}

#[test]
fn generated_keys_are_random_and_round_trip_through_their_key_files() {
    for t in KeyType::ALL {
        let a = PrivateKey::generate(t).unwrap();
        let b = PrivateKey::generate(t).unwrap();
        assert_ne!(a.key_id(), b.key_id(), "{t}");
        assert_eq!(a.key_type(), t);
        let file = a.to_key_file().unwrap();
        let back = PrivateKey::from_key_file(file.as_bytes(), "test.key").unwrap();
        assert_eq!(back.key_type(), t);
        assert_eq!(back.key_id(), a.key_id());
        // The reloaded key makes signatures the original's trusted key accepts.
        let envelope = sign_envelope(&[&back], "t", b"x").unwrap();
        Verifier::new(TrustedKeys::new().with(a.trusted_key()).unwrap())
            .verify(&envelope, "t")
            .unwrap();
        assert_eq!(a.public_key().is_some(), t != KeyType::HmacSha256);
    }
}

#[test]
fn pkcs8_pem_is_standard() {
    let ed = Ed25519Signer::from_seed(&RFC8032_SEED_1);
    let pem = ed.to_pkcs8_pem().unwrap();
    assert!(
        pem.starts_with("-----BEGIN PRIVATE KEY-----\n"),
        "{}",
        &*pem
    );
    assert!(pem.ends_with("-----END PRIVATE KEY-----\n"));
    let ec = EcdsaP256Signer::generate().unwrap();
    let pem = ec.to_pkcs8_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    assert_eq!(
        EcdsaP256Signer::from_pkcs8_pem(&pem).unwrap().public_key(),
        ec.public_key()
    );
    // Each loader refuses the other's key.
    assert_eq!(
        Ed25519Signer::from_pkcs8_pem(&pem).unwrap_err().code(),
        "federation.dsse.invalid_key"
    );
}

#[test]
fn openssl_style_ed25519_pkcs8_loads() {
    // RFC 8410 section 10.3's example private key (the form `openssl genpkey` writes).
    let pem = "-----BEGIN PRIVATE KEY-----\n\
               MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n\
               -----END PRIVATE KEY-----\n";
    let key = PrivateKey::from_key_file(pem.as_bytes(), "rfc8410.pem").unwrap();
    assert_eq!(key.key_type(), KeyType::Ed25519);
    // We write the same v1 form back, byte for byte (Python's `cryptography` rejects the v2
    // form with an embedded public key).
    assert_eq!(&*key.to_key_file().unwrap(), pem);
    // RFC 8410 section 10.1's public key is the matching one.
    let public = "-----BEGIN PUBLIC KEY-----\n\
                  MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n\
                  -----END PUBLIC KEY-----\n";
    assert_eq!(
        key.public_key().unwrap(),
        PublicKey::from_spki_pem(public).unwrap()
    );
}

#[test]
fn unsupported_private_key_files_say_what_to_do() {
    for (contents, needle) in [
        (
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
            "encrypted",
        ),
        (
            "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
            "openssl pkcs8 -topk8",
        ),
        (
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            "Ed25519 or ECDSA P-256",
        ),
        ("hello", "no PEM block"),
        (
            "{\"keytype\":\"ed25519\"}",
            "expected `keytype` to be \"hmac-sha256\"",
        ),
    ] {
        let err = PrivateKey::from_key_file(contents.as_bytes(), "my.key").unwrap_err();
        assert_eq!(err.code(), "federation.dsse.invalid_key");
        let text = err.to_string();
        assert!(text.contains("my.key"), "{text}");
        assert!(text.contains(needle), "{needle}: {text}");
    }
    let err = PrivateKey::from_key_file(&[0xff, 0xfe, 0x00], "bin.key").unwrap_err();
    assert!(err.to_string().contains("binary data"), "{err}");
}

#[test]
fn spki_pem_round_trips_for_both_key_types() {
    for key in [
        Ed25519Signer::generate().unwrap().public_key(),
        EcdsaP256Signer::generate().unwrap().public_key(),
    ] {
        let pem = key.to_spki_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert!(pem.ends_with("-----END PUBLIC KEY-----\n"));
        assert!(pem.lines().all(|l| l.len() <= 64));
        assert_eq!(PublicKey::from_spki_pem(&pem).unwrap(), key);
    }
    let err = PublicKey::from_spki_pem("-----BEGIN CERTIFICATE-----\n").unwrap_err();
    assert!(
        err.to_string().contains("`-----BEGIN CERTIFICATE-----`"),
        "{err}"
    );
}

#[test]
fn securesystemslib_json_round_trips_with_default_key_ids() {
    for signer in [
        PrivateKey::generate(KeyType::Ed25519).unwrap(),
        PrivateKey::generate(KeyType::EcdsaP256).unwrap(),
    ] {
        let public = signer.public_key().unwrap();
        let json = public.to_securesystemslib_json().unwrap();
        let (back, key_id) = PublicKey::from_securesystemslib_json(json.as_bytes()).unwrap();
        assert_eq!(back, public);
        assert_eq!(key_id, public.securesystemslib_key_id().unwrap());
        // Signers default to the same key id.
        assert_eq!(signer.key_id(), key_id);
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        match public.key_type() {
            KeyType::Ed25519 => {
                assert_eq!(value["keytype"], "ed25519");
                assert_eq!(value["scheme"], "ed25519");
                assert_eq!(value["keyval"]["public"].as_str().unwrap().len(), 64);
            }
            _ => {
                assert_eq!(value["keytype"], "ecdsa");
                assert_eq!(value["scheme"], "ecdsa-sha2-nistp256");
                assert_eq!(value["keyval"]["public"], public.to_spki_pem().unwrap());
            }
        }
    }
}

#[test]
fn securesystemslib_json_variants() {
    let ed = Ed25519Signer::from_seed(&RFC8032_SEED_1);
    let public_hex = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    // An explicit keyid wins; unknown fields are ignored.
    let json = format!(
        r#"{{"keyid":"my-key","keytype":"ed25519","scheme":"ed25519","keyid_hash_algorithms":["sha256"],"keyval":{{"public":"{public_hex}"}}}}"#
    );
    let (key, key_id) = PublicKey::from_securesystemslib_json(json.as_bytes()).unwrap();
    assert_eq!(key, ed.public_key());
    assert_eq!(key_id, "my-key");

    // The legacy ECDSA keytype is accepted; its default key id covers the keytype as written.
    let ec = EcdsaP256Signer::generate().unwrap().public_key();
    let pem = ec.to_spki_pem().unwrap();
    let legacy = serde_json::json!({"keytype": "ecdsa-sha2-nistp256", "scheme": "ecdsa-sha2-nistp256", "keyval": {"public": pem}});
    let (key, key_id) =
        PublicKey::from_securesystemslib_json(legacy.to_string().as_bytes()).unwrap();
    assert_eq!(key, ec);
    assert_ne!(key_id, ec.securesystemslib_key_id().unwrap());

    for (json, needle) in [
        (
            r#"{"keytype":"rsa","scheme":"rsassa-pss-sha256","keyval":{"public":"x"}}"#,
            "found rsa/rsassa-pss-sha256",
        ),
        (
            r#"{"keytype":"ed25519","scheme":"ed25519","keyval":{"public":"abcd"}}"#,
            "64 hex digits, found 4",
        ),
        (r#"{"keytype":"ed25519","scheme":"ed25519"}"#, "`keyval`"),
        (
            r#"{"keytype":"ed25519","keyval":{"public":"00"}}"#,
            "`keytype` and `scheme`",
        ),
        (
            r#"{"keytype":"ed25519","scheme":"ed25519","keyval":{}}"#,
            "`keyval.public`",
        ),
        ("{", "expected JSON"),
    ] {
        let err = PublicKey::from_securesystemslib_json(json.as_bytes()).unwrap_err();
        assert_eq!(err.code(), "federation.dsse.invalid_key");
        assert!(err.to_string().contains(needle), "{needle}: {err}");
    }
    // An Ed25519 PEM under the ECDSA keytype is refused.
    let ed_pem = ed.public_key().to_spki_pem().unwrap();
    let wrong = serde_json::json!({"keytype": "ecdsa", "scheme": "ecdsa-sha2-nistp256", "keyval": {"public": ed_pem}});
    let err = PublicKey::from_securesystemslib_json(wrong.to_string().as_bytes()).unwrap_err();
    assert!(err.to_string().contains("found an Ed25519 key"), "{err}");
}

#[test]
fn hmac_key_file_format() {
    let key = HmacSha256Key::new("fed-1", (0u8..32).collect::<Vec<_>>()).unwrap();
    let file = key.to_key_file();
    let value: serde_json::Value = serde_json::from_str(&file).unwrap();
    assert_eq!(
        value,
        serde_json::json!({
            "keytype": "hmac-sha256",
            "scheme": "hmac-sha256",
            "keyid": "fed-1",
            "keyval": {"secret": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"}
        })
    );
    let back = HmacSha256Key::from_key_file(file.as_bytes()).unwrap();
    assert_eq!(back.key_id(), "fed-1");
    // Without a keyid the default is derived from the secret, and does not reveal it.
    let anonymous = format!(
        r#"{{"keytype":"{HMAC_SHA256_KEYTYPE}","scheme":"{HMAC_SHA256_KEYTYPE}","keyval":{{"secret":"{}"}}}}"#,
        "00".repeat(32)
    );
    let back = HmacSha256Key::from_key_file(anonymous.as_bytes()).unwrap();
    assert_eq!(back.key_id(), HmacSha256Key::default_key_id(&[0u8; 32]));
    assert_eq!(back.key_id().len(), 64);
    assert!(!back.key_id().contains(&"00".repeat(8)));
    // Debug output never shows the secret.
    assert_eq!(
        format!("{key:?}"),
        r#"HmacSha256Key { key_id: "fed-1", .. }"#
    );

    let err = HmacSha256Key::from_key_file(
        br#"{"keytype":"hmac-sha256","scheme":"hmac-sha256","keyval":{"secret":"zz"}}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("hex"), "{err}");
    let err = HmacSha256Key::from_key_file(
        br#"{"keytype":"hmac-sha256","scheme":"hmac-sha256","keyval":{"secret":"00"}}"#,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("at least 16 bytes, found 1"),
        "{err}"
    );
}

#[test]
fn trusted_key_files() {
    let ed = PrivateKey::generate(KeyType::Ed25519).unwrap();
    let ec = PrivateKey::generate(KeyType::EcdsaP256).unwrap();
    let hmac = PrivateKey::generate(KeyType::HmacSha256).unwrap();
    for key in [&ed, &ec] {
        let public = key.public_key().unwrap();
        for contents in [
            public.to_spki_pem().unwrap(),
            public.to_securesystemslib_json().unwrap(),
        ] {
            let trusted = TrustedKey::from_key_file(contents.as_bytes(), "k.pub").unwrap();
            assert_eq!(trusted.key_id(), key.key_id());
            // PEM and JSON of one key are the same trusted key.
            assert_eq!(trusted.key_identity(), key.trusted_key().key_identity());
        }
    }
    let trusted =
        TrustedKey::from_key_file(hmac.to_key_file().unwrap().as_bytes(), "h.key").unwrap();
    assert!(matches!(trusted, TrustedKey::HmacSha256(_)));
    assert_eq!(trusted.key_id(), hmac.key_id());

    // The same key as PEM and as JSON can be trusted twice without error.
    let public = ed.public_key().unwrap();
    let mut set = TrustedKeys::new();
    set.add(TrustedKey::from_key_file(public.to_spki_pem().unwrap().as_bytes(), "a").unwrap())
        .unwrap();
    set.add(
        TrustedKey::from_key_file(public.to_securesystemslib_json().unwrap().as_bytes(), "b")
            .unwrap(),
    )
    .unwrap();
    assert_eq!(set.len(), 1);

    let err =
        TrustedKey::from_key_file(ed.to_key_file().unwrap().as_bytes(), "ed.key").unwrap_err();
    assert!(err.to_string().contains("found a private key"), "{err}");
    assert!(err.to_string().contains("ed.key"), "{err}");
}

#[test]
fn key_files_are_written_0600_and_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signing.key");
    let key = PrivateKey::generate(KeyType::Ed25519).unwrap();
    write_private_key_file(&path, key.to_key_file().unwrap().as_bytes()).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(PrivateKey::read(&path).unwrap().key_id(), key.key_id());

    let err = write_private_key_file(&path, b"other").unwrap_err();
    assert_eq!(err.code(), "federation.dsse.key_file");
    assert!(err.to_string().contains("signing.key"), "{err}");
    assert_eq!(PrivateKey::read(&path).unwrap().key_id(), key.key_id());

    let pub_path = dir.path().join("signing.pub");
    let public = key.public_key().unwrap();
    write_public_key_file(&pub_path, public.to_spki_pem().unwrap().as_bytes()).unwrap();
    let mode = std::fs::metadata(&pub_path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode & 0o600, 0o600);
    assert_eq!(mode & 0o022, 0);
    assert_eq!(TrustedKey::read(&pub_path).unwrap().key_id(), key.key_id());

    let err = PrivateKey::read(&dir.path().join("missing.key")).unwrap_err();
    assert_eq!(err.code(), "federation.dsse.key_file");
    assert!(err.to_string().starts_with("cannot read key file"), "{err}");
}

#[test]
fn debug_output_shows_no_private_material() {
    let ed = Ed25519Signer::from_seed(&RFC8032_SEED_1);
    let text = format!("{ed:?}");
    assert!(!text.contains("9d61b19d"), "{text}");
    assert!(text.contains("d75a9801"), "{text}");
    let ec = EcdsaP256Signer::generate().unwrap();
    assert!(format!("{ec:?}").starts_with("EcdsaP256Signer { key_id:"));
}

//! The securesystemslib peer works: keys it generates sign envelopes that it verifies with
//! the public key in PEM and in its JSON format; a tampered payload or a wrong key fails.

use stellaops_telemetry_testkit::Python;

fn keygen(python: &Python, dir: &std::path::Path, name: &str, kind: &str) -> String {
    let prefix = dir.join(name);
    let out = python
        .dsse(
            &["keygen", "--type", kind, "--out", prefix.to_str().unwrap()],
            None,
        )
        .unwrap();
    assert!(out.success, "{}", out.combined());
    prefix.to_str().unwrap().to_owned()
}

#[test]
fn securesystemslib_signs_and_verifies_dsse_both_key_types() {
    let python = Python::locate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for kind in ["ed25519", "ecdsa"] {
        let prefix = keygen(&python, dir.path(), kind, kind);
        let other = keygen(&python, dir.path(), &format!("{kind}-other"), kind);
        let mode = std::fs::metadata(format!("{prefix}.key")).unwrap();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
            0o600
        );

        let key = format!("{prefix}.key");
        let signed = python
            .dsse(
                &[
                    "sign",
                    "--key",
                    &key,
                    "--payload-type",
                    "application/vnd.in-toto+json",
                ],
                Some(b"{\"hello\":\"world\"}"),
            )
            .unwrap();
        assert!(signed.success, "{}", signed.combined());
        let envelope: serde_json::Value = serde_json::from_str(&signed.stdout).unwrap();
        assert_eq!(envelope["payloadType"], "application/vnd.in-toto+json");

        for trusted in [format!("{prefix}.pub"), format!("{prefix}.json")] {
            let verified = python
                .dsse(
                    &["verify", "--trusted", &trusted],
                    Some(signed.stdout.as_bytes()),
                )
                .unwrap();
            assert!(
                verified.success,
                "{kind} {trusted}: {}",
                verified.combined()
            );
            assert_eq!(verified.stdout, "{\"hello\":\"world\"}");
        }

        let wrong = python
            .dsse(
                &["verify", "--trusted", &format!("{other}.pub")],
                Some(signed.stdout.as_bytes()),
            )
            .unwrap();
        assert!(!wrong.success, "{kind}: verified with the wrong key");

        let mut tampered = envelope.clone();
        tampered["payload"] = serde_json::Value::from("eyJoZWxsbyI6Im1vb24ifQ==");
        let tampered = serde_json::to_vec(&tampered).unwrap();
        let out = python
            .dsse(
                &["verify", "--trusted", &format!("{prefix}.pub")],
                Some(&tampered),
            )
            .unwrap();
        assert!(!out.success, "{kind}: tampered payload verified");
        assert!(out.stderr.contains("verification failed"), "{}", out.stderr);
    }
}

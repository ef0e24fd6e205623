//! The `stella-telemetry dsse` contract, run through the real binary: keygen files and modes,
//! sign and verify from files and standard input, exit codes and error codes, and
//! interoperation with Python securesystemslib in both directions (its keys signing through
//! the CLI, the CLI's keys signing through it, each verifying the other's envelopes).

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use stellaops_dsse::PublicKey;
use stellaops_telemetry_testkit::Python;

const TYPE: &str = "application/vnd.in-toto+json";
const PAYLOAD: &[u8] = b"{\"_type\":\"https://in-toto.io/Statement/v1\",\"note\":\"caf\xc3\xa9\"}";

fn cli(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stella-telemetry"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    // A command that fails before reading its input (a bad key file) closes the pipe early.
    match input.write_all(stdin.unwrap_or_default()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.unwrap(),
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn ok(out: &Output) -> &Output {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Asserts exit 1 and that stderr starts with `code`.
fn fails_with(out: &Output, code: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.starts_with(&format!("error[{code}]: ")),
        "expected {code}, got: {stderr}"
    );
    assert!(out.stdout.is_empty(), "stdout on failure: {:?}", out.stdout);
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn keygen(dir: &Path, name: &str, key_type: &str) -> (PathBuf, String) {
    let prefix = dir.join(name);
    let out = cli(
        &["dsse", "keygen", "--type", key_type, "--out", path(&prefix)],
        None,
    );
    let keyid = String::from_utf8(ok(&out).stdout.clone()).unwrap();
    let keyid = keyid.strip_suffix('\n').unwrap().to_owned();
    assert_eq!(keyid.len(), 64, "{keyid}");
    (prefix, keyid)
}

fn with_ext(prefix: &Path, ext: &str) -> String {
    format!("{}.{ext}", prefix.display())
}

#[test]
fn keygen_writes_private_0600_and_public_pem_and_prints_the_keyid() {
    let dir = tempfile::tempdir().unwrap();
    for key_type in ["ed25519", "ecdsa-p256", "hmac-sha256"] {
        let (prefix, keyid) = keygen(dir.path(), key_type, key_type);
        let key = with_ext(&prefix, "key");
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{key_type}");
        let public = Path::new(&with_ext(&prefix, "pub")).to_owned();
        if key_type == "hmac-sha256" {
            assert!(!public.exists());
            let file: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&key).unwrap()).unwrap();
            assert_eq!(file["keytype"], "hmac-sha256");
            assert_eq!(file["keyid"], keyid.as_str());
            assert_eq!(file["keyval"]["secret"].as_str().unwrap().len(), 64);
        } else {
            let pem = std::fs::read_to_string(&public).unwrap();
            assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
            // The printed key id is securesystemslib's key id of the public key.
            let parsed = PublicKey::from_spki_pem(&pem).unwrap();
            assert_eq!(parsed.securesystemslib_key_id().unwrap(), keyid);
            let private = std::fs::read_to_string(&key).unwrap();
            assert!(private.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        }
    }
}

#[test]
fn keygen_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let (prefix, _) = keygen(dir.path(), "k", "ed25519");
    let before = std::fs::read(with_ext(&prefix, "key")).unwrap();
    let out = cli(
        &[
            "dsse",
            "keygen",
            "--type",
            "ed25519",
            "--out",
            path(&prefix),
        ],
        None,
    );
    fails_with(&out, "federation.dsse.key_file");
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to overwrite"));
    assert_eq!(std::fs::read(with_ext(&prefix, "key")).unwrap(), before);

    // An existing .pub alone also stops keygen before it writes the .key.
    let lonely = dir.path().join("lonely");
    std::fs::write(with_ext(&lonely, "pub"), "x").unwrap();
    let out = cli(
        &[
            "dsse",
            "keygen",
            "--type",
            "ecdsa-p256",
            "--out",
            path(&lonely),
        ],
        None,
    );
    fails_with(&out, "federation.dsse.key_file");
    assert!(!Path::new(&with_ext(&lonely, "key")).exists());
}

#[test]
fn usage_errors_exit_2() {
    let out = cli(&["dsse", "keygen", "--type", "rsa", "--out", "x"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ed25519"));
    let out = cli(&["dsse", "verify"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--trusted"));
}

#[test]
fn sign_and_verify_round_trip_for_every_key_type_from_files_and_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let payload_file = dir.path().join("payload.json");
    std::fs::write(&payload_file, PAYLOAD).unwrap();
    for key_type in ["ed25519", "ecdsa-p256", "hmac-sha256"] {
        let (prefix, keyid) = keygen(dir.path(), key_type, key_type);
        let key = with_ext(&prefix, "key");
        let trusted = if key_type == "hmac-sha256" {
            key.clone()
        } else {
            with_ext(&prefix, "pub")
        };

        let from_file = cli(
            &[
                "dsse",
                "sign",
                "--key",
                &key,
                "--payload-type",
                TYPE,
                path(&payload_file),
            ],
            None,
        );
        let from_dash = cli(
            &["dsse", "sign", "--key", &key, "--payload-type", TYPE, "-"],
            Some(PAYLOAD),
        );
        let from_stdin = cli(
            &["dsse", "sign", "--key", &key, "--payload-type", TYPE],
            Some(PAYLOAD),
        );
        for out in [&from_file, &from_dash, &from_stdin] {
            let envelope: serde_json::Value = serde_json::from_slice(&ok(out).stdout).unwrap();
            assert_eq!(envelope["payloadType"], TYPE);
            assert_eq!(envelope["signatures"][0]["keyid"], keyid.as_str());
            assert!(out.stdout.ends_with(b"}\n"));
        }
        let envelope_file = dir.path().join(format!("{key_type}.dsse.json"));
        std::fs::write(&envelope_file, &from_file.stdout).unwrap();

        for args in [
            vec![
                "dsse",
                "verify",
                "--trusted",
                &trusted,
                path(&envelope_file),
            ],
            vec![
                "dsse",
                "verify",
                "--trusted",
                &trusted,
                "--payload-type",
                TYPE,
                "-",
            ],
            vec!["dsse", "verify", "--trusted", &trusted],
        ] {
            let out = cli(&args, Some(&from_file.stdout));
            assert_eq!(ok(&out).stdout, PAYLOAD, "{key_type} {args:?}");
            assert!(out.stderr.is_empty());
        }
    }
}

#[test]
fn sign_with_an_explicit_keyid() {
    let dir = tempfile::tempdir().unwrap();
    let (prefix, _) = keygen(dir.path(), "k", "ed25519");
    let out = cli(
        &[
            "dsse",
            "sign",
            "--key",
            &with_ext(&prefix, "key"),
            "--keyid",
            "release-2026",
            "--payload-type",
            TYPE,
        ],
        Some(PAYLOAD),
    );
    let envelope: serde_json::Value = serde_json::from_slice(&ok(&out).stdout).unwrap();
    assert_eq!(envelope["signatures"][0]["keyid"], "release-2026");
    // The hint does not match the trusted key's id, and verification still succeeds.
    let out = cli(
        &["dsse", "verify", "--trusted", &with_ext(&prefix, "pub")],
        Some(&out.stdout),
    );
    assert_eq!(ok(&out).stdout, PAYLOAD);
}

#[test]
fn verify_failures_exit_1_with_stable_codes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = keygen(dir.path(), "a", "ed25519");
    let (b, _) = keygen(dir.path(), "b", "ecdsa-p256");
    let signed = cli(
        &[
            "dsse",
            "sign",
            "--key",
            &with_ext(&a, "key"),
            "--payload-type",
            TYPE,
        ],
        Some(PAYLOAD),
    );
    let signed = ok(&signed).stdout.clone();
    let a_pub = with_ext(&a, "pub");
    let b_pub = with_ext(&b, "pub");

    let out = cli(&["dsse", "verify", "--trusted", &b_pub], Some(&signed));
    fails_with(&out, "federation.dsse.untrusted_key");

    let out = cli(
        &[
            "dsse",
            "verify",
            "--trusted",
            &a_pub,
            "--payload-type",
            "text/plain",
        ],
        Some(&signed),
    );
    fails_with(&out, "federation.dsse.payload_type_mismatch");

    let out = cli(
        &[
            "dsse",
            "verify",
            "--trusted",
            &a_pub,
            "--trusted",
            &b_pub,
            "--threshold",
            "2",
        ],
        Some(&signed),
    );
    fails_with(&out, "federation.dsse.threshold_not_met");

    let out = cli(
        &["dsse", "verify", "--trusted", &a_pub, "--threshold", "2"],
        Some(&signed),
    );
    fails_with(&out, "federation.dsse.invalid_threshold");

    let mut envelope: serde_json::Value = serde_json::from_slice(&signed).unwrap();
    envelope["payload"] = "eyJfdHlwZSI6InRhbXBlcmVkIn0=".into();
    let out = cli(
        &["dsse", "verify", "--trusted", &a_pub],
        Some(envelope.to_string().as_bytes()),
    );
    fails_with(&out, "federation.dsse.bad_signature");

    envelope["payload"] = "not base64!".into();
    let out = cli(
        &["dsse", "verify", "--trusted", &a_pub],
        Some(envelope.to_string().as_bytes()),
    );
    fails_with(&out, "federation.dsse.bad_base64");

    let out = cli(
        &["dsse", "verify", "--trusted", &a_pub],
        Some(b"{\"payload\":"),
    );
    fails_with(&out, "federation.dsse.malformed_envelope");

    let out = cli(
        &["dsse", "verify", "--trusted", &with_ext(&a, "key")],
        Some(&signed),
    );
    fails_with(&out, "federation.dsse.invalid_key");

    let out = cli(
        &[
            "dsse",
            "verify",
            "--trusted",
            &a_pub,
            path(&dir.path().join("missing.json")),
        ],
        None,
    );
    fails_with(&out, "federation.dsse.io");

    let out = cli(
        &["dsse", "sign", "--key", &a_pub, "--payload-type", TYPE],
        Some(PAYLOAD),
    );
    fails_with(&out, "federation.dsse.invalid_key");
}

#[test]
fn threshold_two_with_two_signers() {
    // The CLI signs with one key per call; a two-signature envelope comes from securesystemslib.
    let python = Python::locate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = keygen(dir.path(), "a", "ed25519");
    let (b, _) = keygen(dir.path(), "b", "ecdsa-p256");
    let (a_key, b_key) = (with_ext(&a, "key"), with_ext(&b, "key"));
    let signed = python
        .dsse(
            &[
                "sign",
                "--key",
                &a_key,
                "--key",
                &b_key,
                "--payload-type",
                TYPE,
            ],
            Some(PAYLOAD),
        )
        .unwrap();
    assert!(signed.success, "{}", signed.combined());
    let out = cli(
        &[
            "dsse",
            "verify",
            "--trusted",
            &with_ext(&a, "pub"),
            "--trusted",
            &with_ext(&b, "pub"),
            "--threshold",
            "2",
        ],
        Some(signed.stdout.as_bytes()),
    );
    assert_eq!(ok(&out).stdout, PAYLOAD);
}

fn python_keygen(python: &Python, dir: &Path, name: &str, kind: &str) -> (PathBuf, String) {
    let prefix = dir.join(name);
    let out = python
        .dsse(&["keygen", "--type", kind, "--out", path(&prefix)], None)
        .unwrap();
    assert!(out.success, "{}", out.combined());
    (prefix, out.stdout.trim().to_owned())
}

#[test]
fn securesystemslib_keys_sign_through_the_cli_and_verify_in_python() {
    let python = Python::locate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for kind in ["ed25519", "ecdsa"] {
        let (prefix, py_keyid) = python_keygen(&python, dir.path(), kind, kind);
        // The CLI signs with securesystemslib's PKCS#8 key and writes securesystemslib's keyid.
        let out = cli(
            &[
                "dsse",
                "sign",
                "--key",
                &with_ext(&prefix, "key"),
                "--payload-type",
                TYPE,
            ],
            Some(PAYLOAD),
        );
        let envelope: serde_json::Value = serde_json::from_slice(&ok(&out).stdout).unwrap();
        assert_eq!(
            envelope["signatures"][0]["keyid"],
            py_keyid.as_str(),
            "{kind}"
        );
        for trusted in [with_ext(&prefix, "pub"), with_ext(&prefix, "json")] {
            let verified = python
                .dsse(&["verify", "--trusted", &trusted], Some(&out.stdout))
                .unwrap();
            assert!(
                verified.success,
                "{kind} {trusted}: {}",
                verified.combined()
            );
            assert_eq!(verified.stdout.as_bytes(), PAYLOAD);
        }
    }
}

#[test]
fn cli_keys_sign_in_python_and_verify_through_the_cli() {
    let python = Python::locate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for key_type in ["ed25519", "ecdsa-p256"] {
        let (prefix, keyid) = keygen(dir.path(), key_type, key_type);
        let signed = python
            .dsse(
                &[
                    "sign",
                    "--key",
                    &with_ext(&prefix, "key"),
                    "--payload-type",
                    TYPE,
                ],
                Some(PAYLOAD),
            )
            .unwrap();
        assert!(signed.success, "{key_type}: {}", signed.combined());
        // securesystemslib computes the same key id from the CLI's key.
        let envelope: serde_json::Value = serde_json::from_str(&signed.stdout).unwrap();
        assert_eq!(envelope["signatures"][0]["keyid"], keyid.as_str());
        let out = cli(
            &[
                "dsse",
                "verify",
                "--trusted",
                &with_ext(&prefix, "pub"),
                "--payload-type",
                TYPE,
            ],
            Some(signed.stdout.as_bytes()),
        );
        assert_eq!(ok(&out).stdout, PAYLOAD);
    }
}

#[test]
fn python_envelopes_verify_through_the_cli_with_python_keys() {
    let python = Python::locate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for kind in ["ed25519", "ecdsa"] {
        let (prefix, _) = python_keygen(&python, dir.path(), kind, kind);
        let signed = python
            .dsse(
                &[
                    "sign",
                    "--key",
                    &with_ext(&prefix, "key"),
                    "--payload-type",
                    TYPE,
                ],
                Some(PAYLOAD),
            )
            .unwrap();
        assert!(signed.success, "{}", signed.combined());
        for trusted in [with_ext(&prefix, "pub"), with_ext(&prefix, "json")] {
            let out = cli(
                &["dsse", "verify", "--trusted", &trusted],
                Some(signed.stdout.as_bytes()),
            );
            assert_eq!(ok(&out).stdout, PAYLOAD, "{kind} {trusted}");
        }
        // And a CLI-made envelope with the Python key verifies in Python (both directions in
        // one place, same key).
        let ours = cli(
            &[
                "dsse",
                "sign",
                "--key",
                &with_ext(&prefix, "key"),
                "--payload-type",
                TYPE,
            ],
            Some(PAYLOAD),
        );
        let verified = python
            .dsse(
                &["verify", "--trusted", &with_ext(&prefix, "pub")],
                Some(&ok(&ours).stdout),
            )
            .unwrap();
        assert!(verified.success, "{}", verified.combined());
    }
}

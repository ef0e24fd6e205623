//! `stella-telemetry deploy`: writes and lists the bundle, signs it with `--key`, refuses
//! unknown profiles.

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_stella-telemetry"))
}

#[test]
fn deploy_writes_lists_and_signs_the_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("deploy");
    let keygen = bin()
        .args(["dsse", "keygen", "--type", "ed25519", "--out"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(
        keygen.status.success(),
        "{}",
        String::from_utf8_lossy(&keygen.stderr)
    );
    let out_dir = dir.path().join("out");
    let out = bin()
        .args(["deploy", "--profile", "forensic", "--out"])
        .arg(&out_dir)
        .arg("--key")
        .arg(dir.path().join("deploy.key"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["profile"], "forensic");
    assert_eq!(report["signed"], true);
    let files = report["files"].as_array().unwrap();
    for f in files {
        let path = f["path"].as_str().unwrap();
        assert!(
            std::path::Path::new(path).is_file(),
            "{path} listed but not written"
        );
    }
    let listed: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    for suffix in [
        "collector/agent.yaml",
        "collector/gateway.yaml",
        "rules/stellaops-alerts.yaml",
        "dashboards/stellaops-policy-engine.json",
        "signatures/manifest.dsse.json",
    ] {
        assert!(
            listed.iter().any(|p| p.ends_with(suffix)),
            "{suffix} not listed"
        );
    }
    // the written signature verifies with the CLI's own verifier
    let verify = bin()
        .args([
            "dsse",
            "verify",
            "--payload-type",
            "application/vnd.stellaops.telemetry.config-manifest.v1+json",
            "--trusted",
        ])
        .arg(dir.path().join("deploy.pub"))
        .arg(out_dir.join("signatures/manifest.dsse.json"))
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
}

#[test]
fn airgap_deploy_without_key_is_unsigned_and_file_only() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["deploy", "--profile", "airgap", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsigned"));
    assert!(!dir.path().join("collector/gateway.yaml").exists());
    assert!(!dir.path().join("signatures").exists());
    let agent = std::fs::read_to_string(dir.path().join("collector/agent.yaml")).unwrap();
    assert!(agent.contains("file/traces:"), "{agent}");
}

#[test]
fn unknown_profile_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["deploy", "--profile", "turbo", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("turbo") && stderr.contains("default, forensic, airgap"),
        "{stderr}"
    );
}

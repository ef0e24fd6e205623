//! `stella-telemetry offline-kit` through the real binary: the kit's contents, reproducible
//! tarballs, verification of directory and tarball, and failure naming the file after any
//! change (added, removed, modified), for the directory and for a re-packed tarball.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use stellaops_telemetry_testkit::{Promtool, Python};

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stella-telemetry"))
        .args(args)
        .output()
        .unwrap()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

struct Keys {
    key: PathBuf,
    public: PathBuf,
}

fn keygen(dir: &Path, name: &str) -> Keys {
    let prefix = dir.join(name);
    let out = cli(&["dsse", "keygen", "--type", "ed25519", "--out", p(&prefix)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    Keys {
        key: dir.join(format!("{name}.key")),
        public: dir.join(format!("{name}.pub")),
    }
}

fn build(profile: &str, out: &Path, keys: &Keys) -> Value {
    ok_json(&cli(&[
        "offline-kit",
        "--profile",
        profile,
        "--out",
        p(out),
        "--key",
        p(&keys.key),
    ]))
}

fn verify(path: &Path, keys: &Keys) -> Output {
    cli(&[
        "offline-kit",
        "verify",
        p(path),
        "--trusted",
        p(&keys.public),
    ])
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).unwrap().to_str().unwrap().to_owned());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn the_kit_holds_configs_dashboards_rules_policy_readme_manifest_and_signature() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keygen(dir.path(), "site");
    let kit = dir.path().join("kit");
    let summary = build("airgap", &kit, &keys);
    assert_eq!(summary["profile"], "airgap");
    assert_eq!(summary["signed"], true);
    assert_eq!(summary["tarball"], p(&dir.path().join("kit.tar.gz")));

    // Shareable permissions: the kit directory 0755, the tarball 0644.
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&kit), 0o755);
    assert_eq!(mode(&dir.path().join("kit.tar.gz")), 0o644);

    let files = files_under(&kit);
    for expected in [
        "README.md",
        "collector/agent.yaml",
        "dashboards/provider.yaml",
        "manifest.json",
        "redaction/policy.json",
        "rules/stellaops-alerts.yaml",
        "signatures/manifest.dsse.json",
    ] {
        assert!(
            files.contains(&expected.to_owned()),
            "{expected} in {files:?}"
        );
    }
    assert!(
        files
            .iter()
            .filter(|f| f.starts_with("dashboards/") && f.ends_with(".json"))
            .count()
            >= 4,
        "{files:?}"
    );
    assert_eq!(summary["files"], files.len());

    // The collector config is exactly what `deploy` renders for the profile.
    let deployed = dir.path().join("deployed");
    ok_json(&cli(&[
        "deploy",
        "--profile",
        "airgap",
        "--out",
        p(&deployed),
    ]));
    assert_eq!(
        std::fs::read(kit.join("collector/agent.yaml")).unwrap(),
        std::fs::read(deployed.join("collector/agent.yaml")).unwrap()
    );
    // The redaction policy loads as a policy.
    let redact = Command::new(env!("CARGO_BIN_EXE_stella-telemetry"))
        .args(["redact", "--policy", p(&kit.join("redaction/policy.json"))])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(redact.status.success(), "{}", text(&redact.stderr));
    // The alert rules pass promtool.
    let rules = Promtool::locate()
        .unwrap()
        .check_rules(&kit.join("rules/stellaops-alerts.yaml"))
        .unwrap();
    assert!(rules.success, "{}", rules.combined());
    // The README walks the operator from verification to replay.
    let readme = std::fs::read_to_string(kit.join("README.md")).unwrap();
    for needle in [
        "stella-telemetry offline-kit verify stellaops-offline-kit-airgap.tar.gz --trusted site.pub",
        "otelcol-contrib --config collector/agent.yaml",
        "promtool check rules rules/stellaops-alerts.yaml",
        "stella-telemetry bundle create",
        "stella-telemetry bundle replay window.tar.gz --endpoint http://127.0.0.1:4317",
    ] {
        assert!(
            readme.contains(needle),
            "README lacks {needle:?}:\n{readme}"
        );
    }
}

#[test]
fn the_tarball_is_reproducible_and_both_forms_verify() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keygen(dir.path(), "site");
    let first = build("forensic", &dir.path().join("one"), &keys);
    let second = build("forensic", &dir.path().join("two"), &keys);
    assert_eq!(first["sha256"], second["sha256"]);
    assert_eq!(
        std::fs::read(dir.path().join("one.tar.gz")).unwrap(),
        std::fs::read(dir.path().join("two.tar.gz")).unwrap()
    );
    // The manifest's envelope verifies with an independent DSSE implementation too.
    let envelope = std::fs::read(dir.path().join("one/signatures/manifest.dsse.json")).unwrap();
    let python = Python::locate()
        .unwrap()
        .dsse(&["verify", "--trusted", p(&keys.public)], Some(&envelope))
        .unwrap();
    assert!(python.success, "{}", python.combined());
    assert_eq!(
        python.stdout.as_bytes(),
        std::fs::read(dir.path().join("one/manifest.json")).unwrap()
    );
    for path in [dir.path().join("one"), dir.path().join("one.tar.gz")] {
        let report = ok_json(&verify(&path, &keys));
        assert_eq!(report["profile"], "forensic");
        assert_eq!(report["signature"]["status"], "verified");
    }
    // The tarball extracts with the system tar into one directory, which verifies too.
    let unpacked = dir.path().join("unpacked");
    std::fs::create_dir(&unpacked).unwrap();
    let tar = Command::new("tar")
        .args([
            "-xzf",
            p(&dir.path().join("one.tar.gz")),
            "-C",
            p(&unpacked),
        ])
        .output()
        .unwrap();
    assert!(tar.status.success(), "{}", text(&tar.stderr));
    let root = unpacked.join("stellaops-offline-kit-forensic");
    assert_eq!(files_under(&root), files_under(&dir.path().join("one")));
    ok_json(&verify(&root, &keys));
}

/// One change to a kit and the file the verifier must name.
struct Change {
    what: &'static str,
    apply: fn(&Path),
    code: &'static str,
    names: &'static str,
}

const CHANGES: &[Change] = &[
    Change {
        what: "modify a file",
        apply: |kit| std::fs::write(kit.join("README.md"), "edited\n").unwrap(),
        code: "kit.digest_mismatch",
        names: "README.md: expected sha256",
    },
    Change {
        what: "append to a collector config",
        apply: |kit| {
            let path = kit.join("collector/agent.yaml");
            let mut text = std::fs::read_to_string(&path).unwrap();
            text.push_str("# exporters: {otlp: {endpoint: evil.example:4317}}\n");
            std::fs::write(path, text).unwrap();
        },
        code: "kit.digest_mismatch",
        names: "collector/agent.yaml: expected sha256",
    },
    Change {
        what: "remove a file",
        apply: |kit| std::fs::remove_file(kit.join("rules/stellaops-alerts.yaml")).unwrap(),
        code: "kit.missing_file",
        names: "rules/stellaops-alerts.yaml: listed in manifest.json but missing",
    },
    Change {
        what: "add a file",
        apply: |kit| std::fs::write(kit.join("dashboards/extra.json"), "{}").unwrap(),
        code: "kit.extra_file",
        names: "dashboards/extra.json: present in the kit but not listed",
    },
    Change {
        what: "edit the manifest",
        apply: |kit| {
            let path = kit.join("manifest.json");
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(path, text.replace("\"airgap\"", "\"default\"")).unwrap();
        },
        code: "kit.signature",
        names: "manifest.json was changed",
    },
    Change {
        what: "remove the signature",
        apply: |kit| std::fs::remove_file(kit.join("signatures/manifest.dsse.json")).unwrap(),
        code: "kit.missing_file",
        names: "signatures/manifest.dsse.json: missing from the kit",
    },
];

fn assert_refused(out: &Output, change: &Change, form: &str) {
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{form}, {}: expected failure, stderr: {stderr}",
        change.what
    );
    assert!(
        stderr.starts_with(&format!("error[{}]: ", change.code)) && stderr.contains(change.names),
        "{form}, {}: expected {} naming {:?}, found: {stderr}",
        change.what,
        change.code,
        change.names
    );
}

#[test]
fn verification_fails_after_any_change_and_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keygen(dir.path(), "site");
    for (i, change) in CHANGES.iter().enumerate() {
        // The directory form.
        let kit = dir.path().join(format!("kit{i}"));
        build("airgap", &kit, &keys);
        ok_json(&verify(&kit, &keys));
        (change.apply)(&kit);
        assert_refused(&verify(&kit, &keys), change, "directory");

        // The tarball form, re-packed with the system tar after the same change.
        let unpacked = dir.path().join(format!("unpacked{i}"));
        std::fs::create_dir(&unpacked).unwrap();
        let tarball = dir.path().join(format!("kit{i}.tar.gz"));
        let x = Command::new("tar")
            .args(["-xzf", p(&tarball), "-C", p(&unpacked)])
            .output()
            .unwrap();
        assert!(x.status.success(), "{}", text(&x.stderr));
        (change.apply)(&unpacked.join("stellaops-offline-kit-airgap"));
        let repacked = dir.path().join(format!("repacked{i}.tar.gz"));
        let c = Command::new("tar")
            .args([
                "-czf",
                p(&repacked),
                "-C",
                p(&unpacked),
                "stellaops-offline-kit-airgap",
            ])
            .output()
            .unwrap();
        assert!(c.status.success(), "{}", text(&c.stderr));
        assert_refused(&verify(&repacked, &keys), change, "tarball");
    }
}

#[test]
fn a_kit_needs_a_trusted_key_and_a_signature_to_verify() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keygen(dir.path(), "site");
    let kit = dir.path().join("kit");
    build("default", &kit, &keys);
    // Without --trusted the files are checked but the run fails.
    let out = cli(&["offline-kit", "verify", p(&kit)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("error[kit.signature_unverified]: "),
        "{}",
        text(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["signature"]["status"], "unverified");
    // A key that did not sign it.
    let stranger = keygen(dir.path(), "stranger");
    let out = verify(&kit, &stranger);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("error[kit.signature]: signatures/manifest.dsse.json: "),
        "{}",
        text(&out.stderr)
    );
    // A kit built without a key carries the unsigned marker and is refused.
    let unsigned = dir.path().join("unsigned");
    let out = cli(&["offline-kit", "--profile", "default", "--out", p(&unsigned)]);
    assert!(out.status.success());
    assert!(text(&out.stderr).contains("the kit is unsigned"));
    let out = cli(&["offline-kit", "verify", p(&unsigned)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("error[kit.unsigned]: "),
        "{}",
        text(&out.stderr)
    );
    let out = verify(&unsigned, &keys);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("error[kit.signature]: "),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn bad_arguments_and_existing_output_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keygen(dir.path(), "site");
    let out = cli(&[
        "offline-kit",
        "--profile",
        "turbo",
        "--out",
        p(&dir.path().join("k")),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("expected one of default, forensic, airgap"));
    let out = cli(&["offline-kit", "--profile", "default"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));

    let kit = dir.path().join("kit");
    build("default", &kit, &keys);
    let out = cli(&[
        "offline-kit",
        "--profile",
        "default",
        "--out",
        p(&kit),
        "--key",
        p(&keys.key),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("error[kit.output_exists]: "),
        "{}",
        text(&out.stderr)
    );
}

//! The signed config bundle: deterministic bytes, a manifest that covers every file, a DSSE
//! envelope that verifies with the workspace verifier and with securesystemslib.

use stellaops_dsse::{Ed25519Signer, TrustedKeys, Verifier};
use stellaops_telemetry_deploy::bundle::{
    BundleFile, ConfigBundle, MANIFEST_PAYLOAD_TYPE, SIGNATURE_PATH, check_manifest,
};
use stellaops_telemetry_deploy::collector::Site;
use stellaops_telemetry_model::profile::Profile;

fn signed(profile: &Profile) -> (ConfigBundle, Ed25519Signer) {
    let signer = Ed25519Signer::from_seed(&[7; 32]);
    let mut bundle = ConfigBundle::render(profile, &Site::for_profile(profile)).unwrap();
    bundle.sign(&signer).unwrap();
    (bundle, signer)
}

#[test]
fn same_inputs_same_bytes() {
    for name in Profile::NAMES {
        let profile = Profile::by_name(name).unwrap();
        let (a, _) = signed(&profile);
        let (b, _) = signed(&profile);
        assert_eq!(a.to_json_bytes(), b.to_json_bytes(), "{name}");
        assert_eq!(a.files(), b.files(), "{name}");
    }
}

#[test]
fn bundle_holds_configs_dashboards_rules_manifest_and_signature() {
    let (bundle, _) = signed(&Profile::default_profile());
    let paths: Vec<String> = bundle.files().into_iter().map(|f| f.path).collect();
    for expected in [
        "collector/agent.yaml",
        "collector/gateway.yaml",
        "dashboards/provider.yaml",
        "dashboards/stellaops-platform-health.json",
        "dashboards/stellaops-telemetry-stack.json",
        "rules/stellaops-alerts.yaml",
        "manifest.json",
        SIGNATURE_PATH,
    ] {
        assert!(
            paths.iter().any(|p| p == expected),
            "{expected} missing: {paths:?}"
        );
    }
    let (airgap, _) = signed(&Profile::airgap());
    assert!(
        !airgap
            .files()
            .iter()
            .any(|f| f.path == "collector/gateway.yaml")
    );
}

#[test]
fn the_envelope_signs_a_manifest_that_covers_every_file() {
    let (bundle, signer) = signed(&Profile::forensic());
    let trusted = TrustedKeys::new()
        .with(signer.public_key().verifier(signer.key_id()))
        .unwrap();
    let verified = Verifier::new(trusted)
        .verify(bundle.envelope().unwrap(), MANIFEST_PAYLOAD_TYPE)
        .unwrap();
    assert_eq!(verified.payload(), bundle.manifest());
    check_manifest(verified.payload(), &bundle.files()).unwrap();

    // a changed file no longer matches the signed manifest
    let mut files = bundle.files();
    let rules = files
        .iter_mut()
        .find(|f| f.path.starts_with("rules/"))
        .unwrap();
    rules.contents.extend_from_slice(b"# tampered\n");
    let err = check_manifest(verified.payload(), &files).unwrap_err();
    assert!(err.contains("rules/stellaops-alerts.yaml"), "{err}");
    // and an extra file is reported
    let mut files = bundle.files();
    files.push(BundleFile {
        path: "collector/extra.yaml".into(),
        contents: vec![],
    });
    assert!(
        check_manifest(verified.payload(), &files)
            .unwrap_err()
            .contains("extra.yaml")
    );
}

#[test]
fn securesystemslib_verifies_the_bundle_signature() {
    let (bundle, signer) = signed(&Profile::default_profile());
    let python = stellaops_telemetry_testkit::Python::locate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let public = dir.path().join("bundle.pub");
    std::fs::write(&public, signer.public_key().to_spki_pem().unwrap()).unwrap();
    let envelope = bundle.envelope().unwrap().to_json();
    let out = python
        .dsse(
            &["verify", "--trusted", public.to_str().unwrap()],
            Some(envelope.as_bytes()),
        )
        .unwrap();
    assert!(out.success, "{}", out.combined());
    assert_eq!(out.stdout.as_bytes(), bundle.manifest());
}

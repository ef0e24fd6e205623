//! `stella-telemetry offline-kit`: writes a profile's signed Offline Kit as a directory and a
//! reproducible tarball; `offline-kit verify` checks a kit directory or tarball.
//!
//! Output is JSON on stdout. Failures exit 1 with a `kit.*` code (the message names the file
//! at fault); usage errors exit 2 with `kit.usage`.

use crate::failure::Failure;
use clap::{Args, Subcommand};
use serde_json::json;
use std::path::{Path, PathBuf};
use stellaops_dsse::{EnvelopeSigner, PrivateKey, TrustedKey, TrustedKeys, Verifier};
use stellaops_telemetry_deploy::collector::Site;
use stellaops_telemetry_deploy::offline_kit::{
    KitReport, KitSignature, OfflineKit, verify_dir, verify_tarball,
};
use stellaops_telemetry_model::profile::Profile;

/// Arguments of `stella-telemetry offline-kit`.
#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Writes DIR (new or empty) and DIR.tar.gz beside it. The same profile and \
                  key always give the same tarball bytes. Exit status: 0 on success, 1 on a \
                  failure (error[CODE]: message on stderr), 2 on a usage error."
)]
pub(crate) struct OfflineKitArgs {
    #[command(subcommand)]
    command: Option<KitCommand>,
    /// Profile: `default`, `forensic` or `airgap`.
    #[arg(long, required = true)]
    profile: Option<String>,
    /// Kit directory to write (must not exist, or be empty); the tarball is DIR.tar.gz.
    #[arg(long, value_name = "DIR", required = true)]
    out: Option<PathBuf>,
    /// DSSE private key file (from `stella-telemetry dsse keygen`) signing the manifest;
    /// without it the kit carries the unsigned marker verifiers refuse.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum KitCommand {
    /// Verify a kit directory or tarball: every file against manifest.json (added, removed
    /// or changed files are named), and the manifest's DSSE signature against --trusted keys.
    /// Exits 0 only when everything, including the signature, verified.
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
struct VerifyArgs {
    /// The kit directory or its .tar.gz.
    path: PathBuf,
    /// A trusted public key (SPKI PEM, securesystemslib JSON) or hmac-sha256 key file;
    /// repeatable.
    #[arg(long, value_name = "FILE")]
    trusted: Vec<PathBuf>,
}

fn usage(message: String) -> Failure {
    Failure::usage("kit.usage", message)
}

/// Runs `offline-kit` or `offline-kit verify`.
pub(crate) fn run(args: OfflineKitArgs) -> Result<(), Failure> {
    match args.command {
        Some(KitCommand::Verify(v)) => verify(&v),
        None => build(args.profile, args.out, args.key.as_deref()),
    }
}

/// `DIR` → `DIR.tar.gz` beside it.
fn tarball_path(dir: &Path) -> Result<PathBuf, Failure> {
    let name = dir
        .file_name()
        .filter(|n| !n.is_empty() && *n != "." && *n != "..")
        .ok_or_else(|| {
            usage(format!(
                "--out {}: expected a directory name (the tarball is NAME.tar.gz beside it)",
                dir.display()
            ))
        })?;
    let mut file = name.to_os_string();
    file.push(".tar.gz");
    Ok(dir.with_file_name(file))
}

fn build(profile: Option<String>, out: Option<PathBuf>, key: Option<&Path>) -> Result<(), Failure> {
    let (Some(name), Some(out)) = (profile, out) else {
        return Err(usage("expected --profile NAME and --out DIR".into()));
    };
    let profile = Profile::by_name(&name).ok_or_else(|| {
        usage(format!(
            "unknown profile {name:?}; expected one of {}",
            Profile::NAMES.join(", ")
        ))
    })?;
    let tarball = tarball_path(&out)?;
    let key = key.map(PrivateKey::read).transpose()?;
    let signer = key.as_ref().map(|k| k as &dyn EnvelopeSigner);
    let kit = OfflineKit::build(&profile, &Site::for_profile(&profile), signer)?;
    kit.write_dir(&out)?;
    kit.write_tarball(&tarball)?;
    let bytes = std::fs::read(&tarball)
        .map_err(|e| Failure::failed("kit.io", format!("{}: {e}", tarball.display())))?;
    let sha256 = stellaops_bundle_format::manifest::sha256_digest(&bytes);
    println!(
        "{}",
        json!({
            "profile": profile.name,
            "dir": out.display().to_string(),
            "tarball": tarball.display().to_string(),
            "sha256": sha256,
            "files": kit.files().len(),
            "signed": key.is_some(),
            "keyId": key.as_ref().map(PrivateKey::key_id),
        })
    );
    if key.is_none() {
        eprintln!(
            "warning: no --key given; the kit is unsigned and `offline-kit verify` will refuse \
             it. Sign with --key FILE (from `stella-telemetry dsse keygen`)"
        );
    }
    Ok(())
}

fn verify(args: &VerifyArgs) -> Result<(), Failure> {
    let verifier = if args.trusted.is_empty() {
        None
    } else {
        let mut keys = TrustedKeys::new();
        for path in &args.trusted {
            keys.add(TrustedKey::read(path)?)?;
        }
        Some(Verifier::new(keys))
    };
    let report: KitReport = if args.path.is_dir() {
        verify_dir(&args.path, verifier.as_ref())?
    } else {
        verify_tarball(&args.path, verifier.as_ref())?
    };
    let signature = match &report.signature {
        KitSignature::Verified { key_ids } => json!({"status": "verified", "keyIds": key_ids}),
        KitSignature::NotChecked { unsigned: true } => json!({"status": "unsigned"}),
        KitSignature::NotChecked { .. } => json!({"status": "unverified"}),
        _ => json!({"status": "unknown"}),
    };
    println!(
        "{}",
        json!({
            "path": args.path.display().to_string(),
            "profile": report.profile,
            "files": report.files,
            "signature": signature,
        })
    );
    match report.signature {
        KitSignature::Verified { .. } => Ok(()),
        KitSignature::NotChecked { unsigned: true } => Err(Failure::failed(
            "kit.unsigned",
            "signatures/manifest.dsse.json: the kit is unsigned (unsigned-fallback marker); \
             every file matches manifest.json, but nothing proves who built it",
        )),
        _ => Err(Failure::failed(
            "kit.signature_unverified",
            "signatures/manifest.dsse.json: not verified: every file matches manifest.json; \
             pass --trusted FILE to check who signed it",
        )),
    }
}

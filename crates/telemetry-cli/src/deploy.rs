//! `stella-telemetry deploy`: writes the collector configs, Grafana dashboards, alert rules,
//! manifest and (with `--key`) the DSSE signature of one profile's config bundle.

use clap::Args;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use stellaops_dsse::PrivateKey;
use stellaops_telemetry_core::profile::Profile;
use stellaops_telemetry_deploy::bundle::ConfigBundle;
use stellaops_telemetry_deploy::collector::Site;

/// Render a profile's fleet configuration into a directory.
#[derive(Debug, Args)]
pub(crate) struct DeployArgs {
    /// Profile: `default`, `forensic` or `airgap`.
    #[arg(long)]
    profile: String,
    /// Directory to write into (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// DSSE private key file (from `stella-telemetry dsse keygen`); without it the bundle is
    /// written unsigned.
    #[arg(long)]
    key: Option<PathBuf>,
}

pub(crate) fn run(args: DeployArgs) -> ExitCode {
    let DeployArgs {
        profile: profile_name,
        out,
        key,
    } = args;
    let Some(profile) = Profile::by_name(&profile_name) else {
        eprintln!(
            "error: unknown profile {profile_name:?}; expected one of {}",
            Profile::NAMES.join(", ")
        );
        return ExitCode::from(2);
    };
    let key = match key.as_deref().map(PrivateKey::read).transpose() {
        Ok(key) => key,
        Err(e) => {
            eprintln!("error [{}]: {e}", e.code());
            return ExitCode::from(2);
        }
    };
    let site = Site::for_profile(&profile);
    let mut bundle = match ConfigBundle::render(&profile, &site) {
        Ok(bundle) => bundle,
        Err(e) => {
            eprintln!("error [{}]: {e}", e.code());
            return ExitCode::from(1);
        }
    };
    if let Some(key) = &key
        && let Err(e) = bundle.sign(key)
    {
        eprintln!("error [{}]: {e}", e.code());
        return ExitCode::from(1);
    }
    if let Err(e) = bundle.write_to(&out) {
        eprintln!("error [{}]: {e}", e.code());
        return ExitCode::from(1);
    }
    let files: Vec<_> = bundle
        .files()
        .iter()
        .map(|f| {
            json!({
                "path": out.join(&f.path).display().to_string(),
                "bytes": f.contents.len(),
            })
        })
        .collect();
    let report = json!({
        "profile": profile.name,
        "site": site.name,
        "signed": key.is_some(),
        "key_id": key.as_ref().map(PrivateKey::key_id),
        "files": files,
    });
    println!("{report}");
    if key.is_none() {
        eprintln!("warning: no --key given; the bundle is unsigned");
    }
    ExitCode::SUCCESS
}

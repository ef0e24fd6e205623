//! `stella-telemetry deploy`: writes the collector configs, Grafana dashboards, alert rules,
//! manifest and (with `--key`) the DSSE signature of one profile's config bundle.

use crate::failure::{Exit, Failure};
use clap::Args;
use serde_json::json;
use std::path::PathBuf;
use stellaops_dsse::PrivateKey;
use stellaops_telemetry_deploy::bundle::ConfigBundle;
use stellaops_telemetry_deploy::collector::Site;
use stellaops_telemetry_model::profile::Profile;

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

/// Runs `deploy`: an unknown profile or an unreadable key is bad input (exit 2); a render,
/// signing or write failure exits 1.
pub(crate) fn run(args: DeployArgs) -> Result<(), Failure> {
    let DeployArgs {
        profile: profile_name,
        out,
        key,
    } = args;
    let profile = Profile::by_name(&profile_name).ok_or_else(|| {
        Failure::usage(
            "deploy.unknown_profile",
            format!(
                "unknown profile {profile_name:?}; expected one of {}",
                Profile::NAMES.join(", ")
            ),
        )
    })?;
    let key = key
        .as_deref()
        .map(PrivateKey::read)
        .transpose()
        .map_err(|e| Failure::from(e).with_exit(Exit::Usage))?;
    let site = Site::for_profile(&profile);
    let mut bundle = ConfigBundle::render(&profile, &site)?;
    if let Some(key) = &key {
        bundle.sign(key)?;
    }
    bundle.write_to(&out)?;
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
    Ok(())
}

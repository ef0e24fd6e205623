//! `stella-telemetry bundle`: create, verify, inspect, extract and replay signed offline OTLP
//! bundles (replay lives in `replay.rs`).
//!
//! Output is JSON on stdout. Failures exit 1 with a stable `bundle.*` code (or
//! `federation.dsse.*` for key files), reported by `main` as `error[CODE]: message`.

use crate::failure::Failure;
use crate::trusted::{require_signature, trusted_reader};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use stellaops_bundle_format::framing::RecordReader;
use stellaops_bundle_format::{
    BundleOptions, BundleReader, BundleWriter, Clock, Compression, ManualClock, SignatureStatus,
    SystemClock, VerifiedBundle, Window,
};
use stellaops_dsse::{EnvelopeSigner, PrivateKey};

/// `bundle` subcommands.
#[derive(Debug, Args)]
pub(crate) struct BundleArgs {
    #[command(subcommand)]
    command: BundleCommand,
}

#[derive(Debug, Subcommand)]
enum BundleCommand {
    /// Build a signed, reproducible bundle from DIR's traces.pb, metrics.pb, logs.pb (framed
    /// OTLP records, any subset) and optional config/ directory. The creation time is
    /// SOURCE_DATE_EPOCH when set, so two runs over the same input give identical files.
    Create(CreateArgs),
    /// Verify a bundle: prints a JSON summary; exits 0 only when every check passed including
    /// the signature against a --trusted key, 1 otherwise with the error code on stderr.
    Verify(VerifyArgs),
    /// Print the manifest and record counts of a bundle as JSON (checks integrity, not the
    /// signature).
    Inspect(InspectArgs),
    /// Verify a bundle and extract it into a new directory (nothing is written unless every
    /// check passes).
    Extract(ExtractArgs),
    /// Verify a bundle, check the endpoint against the egress policy, then send every record
    /// to an OTLP collector in bundle order, retrying transient failures with exponential
    /// back-off. Prints a JSON summary with per-signal counts on stdout; exits 1 when any
    /// record failed or the bundle is refused, 3 when the egress policy refuses the endpoint.
    Replay(crate::replay::ReplayArgs),
}

#[derive(Debug, Args)]
struct CreateArgs {
    /// Directory holding traces.pb, metrics.pb, logs.pb and optionally config/.
    #[arg(long, value_name = "DIR")]
    input: PathBuf,
    /// Bundle file to write (replaced atomically).
    #[arg(long, value_name = "PATH")]
    out: PathBuf,
    /// Private key file (PKCS#8 PEM or hmac-sha256 JSON) signing the manifest; without it the
    /// bundle carries an explicit unsigned marker that verifiers refuse.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Tenant recorded in the manifest.
    #[arg(long, default_value = "default")]
    tenant: String,
    /// Telemetry profile recorded in the manifest.
    #[arg(long, default_value = "default")]
    profile: String,
    /// Window start (RFC 3339); requires --to.
    #[arg(long, value_name = "RFC3339", requires = "to")]
    from: Option<DateTime<Utc>>,
    /// Window end (RFC 3339); requires --from.
    #[arg(long, value_name = "RFC3339", requires = "from")]
    to: Option<DateTime<Utc>>,
    /// Compress with zstd instead of gzip.
    #[arg(long)]
    zstd: bool,
}

#[derive(Debug, Args)]
struct VerifyArgs {
    /// The bundle.
    path: PathBuf,
    /// A trusted public key (SPKI PEM, securesystemslib JSON) or hmac-sha256 key file;
    /// repeatable.
    #[arg(long, value_name = "FILE")]
    trusted: Vec<PathBuf>,
}

#[derive(Debug, Args)]
struct InspectArgs {
    /// The bundle.
    path: PathBuf,
}

#[derive(Debug, Args)]
struct ExtractArgs {
    /// The bundle.
    path: PathBuf,
    /// Directory to create (must not exist).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// A trusted key file; repeatable. Without one every digest, size and count is checked
    /// but not the signature, and a warning says so on stderr.
    #[arg(long, value_name = "FILE")]
    trusted: Vec<PathBuf>,
}

/// Runs a `bundle` subcommand.
pub(crate) fn run(args: BundleArgs) -> Result<(), Failure> {
    match args.command {
        BundleCommand::Create(a) => create(&a),
        BundleCommand::Verify(a) => verify(&a.path, &a.trusted).map(|_| ()),
        BundleCommand::Inspect(a) => inspect(&a),
        BundleCommand::Extract(a) => extract(&a),
        BundleCommand::Replay(a) => crate::replay::run(&a),
    }
}

pub(crate) fn source_date_epoch() -> Result<Option<DateTime<Utc>>, Failure> {
    let Ok(value) = std::env::var("SOURCE_DATE_EPOCH") else {
        return Ok(None);
    };
    let bad = || {
        Failure::failed(
            "bundle.invalid_input",
            format!(
                "SOURCE_DATE_EPOCH: expected a non-negative integer of seconds, found {value:?}"
            ),
        )
    };
    let seconds: i64 = value.trim().parse().map_err(|_| bad())?;
    if seconds < 0 {
        return Err(bad());
    }
    DateTime::from_timestamp(seconds, 0)
        .map(Some)
        .ok_or_else(bad)
}

fn io_failure(context: &str, e: &std::io::Error) -> Failure {
    Failure::failed("bundle.io", format!("{context}: {e}"))
}

fn create(args: &CreateArgs) -> Result<(), Failure> {
    let clock: Box<dyn Clock> = match source_date_epoch()? {
        Some(t) => Box::new(ManualClock::new(t)),
        None => Box::new(SystemClock),
    };
    let mut options = BundleOptions::new(&args.tenant, &args.profile);
    if args.zstd {
        options.compression = Compression::Zstd;
    }
    if let (Some(from), Some(to)) = (args.from, args.to) {
        options.window = Some(Window::new(from, to)?);
    }
    let signer = args.key.as_deref().map(PrivateKey::read).transpose()?;
    let mut writer = BundleWriter::create(&args.out, options, clock.as_ref())?;
    let mut found = false;
    for signal in stellaops_bundle_format::BUNDLE_ORDER {
        let path = args.input.join(format!("{}.pb", signal.as_str()));
        if !path.is_file() {
            continue;
        }
        found = true;
        writer.include_signal(signal)?;
        let file = std::fs::File::open(&path)
            .map_err(|e| io_failure(&format!("opening {}", path.display()), &e))?;
        let mut records = RecordReader::new(std::io::BufReader::new(file));
        while let Some(record) = records
            .next_record()
            .map_err(|e| Failure::failed("bundle.framing", format!("{}: {e}", path.display())))?
        {
            writer.write_record(signal, record)?;
        }
    }
    let config = args.input.join("config");
    if config.is_dir() {
        found = true;
        let mut files = Vec::new();
        collect_files(&config, "config", &mut files)?;
        files.sort();
        for (name, path) in files {
            let file = std::fs::File::open(&path)
                .map_err(|e| io_failure(&format!("opening {}", path.display()), &e))?;
            writer.add_config_file(&name, std::io::BufReader::new(file))?;
        }
    }
    if !found {
        return Err(Failure::failed(
            "bundle.invalid_input",
            format!(
                "{}: expected traces.pb, metrics.pb, logs.pb or config/, found none",
                args.input.display()
            ),
        ));
    }
    let signers: Vec<&dyn EnvelopeSigner> = signer
        .as_ref()
        .map(|s| s as &dyn EnvelopeSigner)
        .into_iter()
        .collect();
    let written = writer.finish(&signers)?;
    let summary = json!({
        "path": written.path.display().to_string(),
        "sha256": written.sha256,
        "size": written.size,
        "bundleId": written.manifest.bundle_id,
        "signed": signer.is_some(),
        "records": counts(&written.manifest),
    });
    println!("{summary}");
    Ok(())
}

/// Regular files under `dir`, as (bundle path, file path); links and other types refused.
fn collect_files(
    dir: &Path,
    prefix: &str,
    out: &mut Vec<(String, PathBuf)>,
) -> Result<(), Failure> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| io_failure(&format!("reading {}", dir.display()), &e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_failure(&format!("reading {}", dir.display()), &e))?;
        let path = entry.path();
        let name = format!("{prefix}/{}", entry.file_name().to_string_lossy());
        let kind = entry
            .file_type()
            .map_err(|e| io_failure(&format!("reading {}", path.display()), &e))?;
        if kind.is_dir() {
            collect_files(&path, &name, out)?;
        } else if kind.is_file() {
            out.push((name, path));
        } else {
            return Err(Failure::failed(
                "bundle.invalid_input",
                format!(
                    "{}: expected a regular file or directory, found a link or special file",
                    path.display()
                ),
            ));
        }
    }
    Ok(())
}

fn counts(manifest: &stellaops_bundle_format::Manifest) -> Value {
    manifest
        .record_counts()
        .into_iter()
        .map(|(s, n)| (s.as_str().to_owned(), Value::from(n)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

fn summary(verified: &VerifiedBundle) -> Value {
    let m = verified.manifest();
    let signature = match verified.signature() {
        SignatureStatus::Verified { key_ids } => json!({"status": "verified", "keyIds": key_ids}),
        SignatureStatus::NotChecked {
            unsigned,
            claimed_key_ids,
        } => json!({
            "status": if *unsigned { "unsigned" } else { "unverified" },
            "claimedKeyIds": claimed_key_ids,
        }),
        _ => json!({"status": "unknown"}),
    };
    json!({
        "bundleId": m.bundle_id,
        "sha256": verified.sha256(),
        "size": verified.size(),
        "tenant": m.tenant,
        "profile": m.profile,
        "createdAt": m.created_at,
        "files": m.files.len(),
        "records": counts(m),
        "signature": signature,
    })
}

fn verify(path: &Path, trusted: &[PathBuf]) -> Result<VerifiedBundle, Failure> {
    let verified = trusted_reader(trusted)?.verify_file(path)?;
    println!("{}", summary(&verified));
    require_signature(&verified)?;
    Ok(verified)
}

fn inspect(args: &InspectArgs) -> Result<(), Failure> {
    let verified = BundleReader::dangerous_skip_signature().verify_file(&args.path)?;
    let manifest: Value = serde_json::from_slice(verified.manifest_json())
        .map_err(|e| Failure::failed("bundle.invalid_manifest", e.to_string()))?;
    let out = json!({
        "manifest": manifest,
        "records": counts(verified.manifest()),
        "sha256": verified.sha256(),
        "signature": summary(&verified)["signature"],
    });
    println!("{out}");
    Ok(())
}

fn extract(args: &ExtractArgs) -> Result<(), Failure> {
    let verified = trusted_reader(&args.trusted)?.extract(&args.path, &args.out)?;
    println!("{}", summary(&verified));
    if let Err(f) = require_signature(&verified) {
        eprintln!(
            "warning: {}: {} (extracted after integrity checks only)",
            f.code(),
            f.message()
        );
    }
    Ok(())
}

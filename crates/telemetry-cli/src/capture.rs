//! `stella-telemetry capture`: a window of a service's spool as a signed offline bundle,
//! filtered to one tenant, without touching the service (the spool is opened read-only).
//!
//! Exit status: 0 when the bundle was written, 1 when the capture failed (with a
//! `telemetry.spool.*`, `telemetry.capture.*` or `bundle.*` code), 2 on a usage error (bad
//! arguments, an invalid `--window`, an unusable `SOURCE_DATE_EPOCH`).

use crate::failure::{Exit, Failure};
use crate::trusted::{require_signature, trusted_reader};
use chrono::{DateTime, Utc};
use clap::{ArgGroup, Args};
use serde_json::{Value, json};
use std::path::PathBuf;
use stellaops_bundle_format::{Compression, ManualClock, SystemClock};
use stellaops_dsse::PrivateKey;
use stellaops_telemetry_core::spool::{CaptureObserver, SegmentInfo, Spool};
use stellaops_telemetry_model::window::Window;

/// `capture --url`: download the export, then verify it; a bundle that fails verification is
/// removed (nothing unverifiable is left behind under `--out`).
fn fetch(args: &CaptureArgs, url: &str, json: bool) -> Result<(), Failure> {
    let token = crate::remote::resolve_token(args.token.clone(), args.token_file.as_deref())?;
    let mut bar = crate::progress::Bar::stderr();
    let mut progress = |done: u64, total: Option<u64>| bar.draw(false, done, total, "bytes", "");
    let fetched = crate::remote::fetch_forensic(
        url,
        &args.tls,
        token.as_deref(),
        &args.window,
        &args.out,
        &mut progress,
    );
    bar.finish();
    let bytes = fetched?;
    let verified = trusted_reader(&args.trusted)
        .and_then(|reader| reader.verify_file(&args.out).map_err(Failure::from))
        .map_err(|f| {
            let _ = std::fs::remove_file(&args.out);
            f.with_exit(Exit::Failed).map_message(|message| {
                format!(
                    "{}: the downloaded bundle failed verification and was removed: {message}",
                    args.out.display()
                )
            })
        })?;
    let signature = match verified.signature() {
        stellaops_bundle_format::SignatureStatus::Verified { .. } => "verified",
        stellaops_bundle_format::SignatureStatus::NotChecked { unsigned: true, .. } => "unsigned",
        _ => "unverified",
    };
    let manifest = verified.manifest();
    let records: serde_json::Map<String, Value> = manifest
        .record_counts()
        .into_iter()
        .map(|(s, n)| (s.as_str().to_owned(), Value::from(n)))
        .collect();
    let summary = json!({
        "path": args.out.display().to_string(),
        "sha256": verified.sha256(),
        "size": bytes,
        "bundleId": manifest.bundle_id,
        "tenant": manifest.tenant,
        "signature": signature,
        "records": records,
    });
    if json {
        println!("{summary}");
    } else {
        println!(
            "wrote {} ({}, {bytes} bytes, signature {signature}): {} records for tenant {}",
            args.out.display(),
            verified.sha256(),
            records.values().filter_map(Value::as_u64).sum::<u64>(),
            if manifest.tenant.is_empty() {
                "-"
            } else {
                manifest.tenant.as_str()
            },
        );
    }
    if args.trusted.is_empty() {
        Ok(())
    } else {
        require_signature(&verified)
    }
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).multiple(false)))]
pub(crate) struct CaptureArgs {
    /// The service's spool directory (its `spool_dir`); read only, never pruned or recovered.
    #[arg(long, value_name = "DIR", group = "source")]
    spool: Option<PathBuf>,

    /// A service's telemetry router (e.g. `https://router.internal:8443` with `--ca`, or
    /// `http://127.0.0.1:8080`): streams
    /// `GET /telemetry/exports/forensic/{window}` for the token's tenant, then verifies the
    /// bundle (the signature too with `--trusted`).
    #[arg(long, value_name = "URL", group = "source")]
    url: Option<String>,

    #[command(flatten)]
    tls: crate::remote::TlsArgs,

    /// Bearer token for `--url` (else `--token-file`, else `$STELLA_TELEMETRY_TOKEN`).
    #[arg(long, requires = "url", conflicts_with = "token_file")]
    token: Option<String>,

    /// File whose first line is the bearer token for `--url`.
    #[arg(long, value_name = "FILE", requires = "url")]
    token_file: Option<PathBuf>,

    /// With `--url`: a trusted public key (or hmac-sha256 key file) the downloaded bundle's
    /// signature must verify against; repeatable. Without one every digest, size and count is
    /// still checked and the signature is reported as unverified.
    #[arg(long, value_name = "FILE", requires = "url")]
    trusted: Vec<PathBuf>,

    /// The window: 24h, 90m, 7d, 30s (ending now, or at SOURCE_DATE_EPOCH when set) or an
    /// RFC 3339 range START/END (end exclusive).
    #[arg(long, value_name = "WINDOW")]
    window: String,

    /// Only this tenant's records (the item's `tenant` attribute, else the resource's);
    /// default: every tenant.
    #[arg(long, value_name = "TENANT")]
    tenant: Option<String>,

    /// Private key file (PKCS#8 PEM or hmac-sha256 JSON) signing the manifest; without it the
    /// bundle carries an explicit unsigned marker that verifiers refuse.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,

    /// Telemetry profile recorded in the manifest.
    #[arg(long, default_value = "default")]
    profile: String,

    /// Compress with zstd instead of gzip.
    #[arg(long)]
    zstd: bool,

    /// Bundle file to write (replaced atomically).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// Runs `capture`; `json` prints the summary as JSON instead of one line of text.
pub(crate) fn run(args: &CaptureArgs, json: bool) -> Result<(), Failure> {
    if let Some(url) = &args.url {
        return fetch(args, url, json);
    }
    // Usage errors found after parsing: an unusable SOURCE_DATE_EPOCH, an invalid window.
    let epoch = crate::bundle::source_date_epoch().map_err(|f| f.with_exit(Exit::Usage))?;
    let now = epoch.unwrap_or_else(Utc::now);
    let window = Window::parse(&args.window, now)
        .map_err(|e| Failure::usage(e.code(), format!("--window: {e}")))?;
    let summary = capture(args, window, epoch)?;
    if json {
        println!("{summary}");
    } else {
        println!(
            "wrote {} ({}, {} bytes, {}): {} records over {}",
            summary["path"].as_str().unwrap_or_default(),
            summary["sha256"].as_str().unwrap_or_default(),
            summary["size"],
            if summary["signed"] == true {
                "signed"
            } else {
                "UNSIGNED"
            },
            summary["records"],
            summary["window"].as_str().unwrap_or_default(),
        );
    }
    Ok(())
}

fn capture(
    args: &CaptureArgs,
    window: Window,
    epoch: Option<DateTime<Utc>>,
) -> Result<Value, Failure> {
    let Some(dir) = &args.spool else {
        return Err(Failure::failed(
            "telemetry.capture.no_spool",
            "expected --spool DIR",
        ));
    };
    let spool = Spool::builder(dir).read_only().open()?;
    let signer = args.key.as_deref().map(PrivateKey::read).transpose()?;
    let mut capture = spool
        .capture(window)
        .profile(&args.profile)
        .compression(if args.zstd {
            Compression::Zstd
        } else {
            Compression::Gzip
        });
    capture = match epoch {
        Some(t) => capture.created_at_clock(ManualClock::new(t)),
        None => capture.created_at_clock(SystemClock),
    };
    if let Some(tenant) = &args.tenant {
        capture = capture.tenant(tenant);
    }
    let signed = signer.is_some();
    if let Some(s) = signer {
        capture = capture.signer(s);
    }
    let mut progress = Progress::new();
    let summary = capture.write_to_observed(&args.out, &mut progress)?;
    progress.finish();
    let records: serde_json::Map<String, Value> = summary
        .manifest
        .record_counts()
        .into_iter()
        .map(|(s, n)| (s.as_str().to_owned(), Value::from(n)))
        .collect();
    let items: serde_json::Map<String, Value> = summary
        .items
        .iter()
        .map(|(s, n)| (s.as_str().to_owned(), Value::from(*n)))
        .collect();
    Ok(json!({
        "path": args.out.display().to_string(),
        "sha256": summary.sha256,
        "size": summary.size,
        "bundleId": summary.manifest.bundle_id,
        "tenant": summary.manifest.tenant,
        "window": window.to_string(),
        "signed": signed,
        "segments": summary.segments_read,
        "records": records,
        "items": items,
    }))
}

/// Progress on stderr: a redrawn bar of segment bytes read, on a terminal only.
struct Progress {
    bar: crate::progress::Bar,
    total: u64,
    done: u64,
}

impl Progress {
    fn new() -> Self {
        Self {
            bar: crate::progress::Bar::stderr(),
            total: 0,
            done: 0,
        }
    }

    fn draw(&mut self, force: bool) {
        self.bar
            .draw(force, self.done, Some(self.total), "segment bytes", "");
    }

    fn finish(&mut self) {
        self.draw(true);
        self.bar.finish();
    }
}

impl CaptureObserver for Progress {
    fn planned(&mut self, segments: &[SegmentInfo]) {
        self.total = segments.iter().map(|s| s.size).sum();
        self.draw(true);
    }

    fn segment_done(&mut self, segment: &SegmentInfo, _records_kept: u64) {
        self.done += segment.size;
        self.draw(false);
    }
}

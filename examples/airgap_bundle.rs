//! An air-gapped service: sealed, no collector. Spans and logs go to the local spool; an
//! operator captures the last hour for one tenant as a signed bundle, verifies it and carries
//! it out. Nothing leaves the host (the egress guard counts only refusals).
//!
//! Run: `cargo run --example airgap_bundle` (prints the bundle path and digest).

use stellaops_telemetry::bundle::BundleReader;
use stellaops_telemetry::dsse::{Ed25519Signer, TrustedKeys, Verifier};
use stellaops_telemetry::spans;
use stellaops_telemetry::telemetry_core::window::Window;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let work = std::env::temp_dir().join(format!("stellaops-airgap-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let telemetry = stellaops_telemetry::builder("scanner")
        .profile("airgap") // sealed, file exporter, spool copy
        .otlp_endpoint("https://collector.example.com:4317") // refused while sealed
        .spool_dir(work.join("spool"))
        .stdout_logs(false)
        // Keep every trace of this three-request example (the default keeps errors, slow
        // traces, forensic tenants and 10% of the rest).
        .trace_sampling_ratio(1.0)
        .init()?;

    for (tenant, image) in [
        ("acme-corp", "app:1.2.3"),
        ("globex", "db:9.1"),
        ("acme-corp", "web:2.0"),
    ] {
        let request = spans::http_request("POST", "/api/scan");
        spans::record_tenant(&request, tenant);
        let _request = request.enter();
        let scan = spans::scan_image(image, "sha256:4f1c");
        spans::record_tenant(&scan, tenant);
        let _scan = scan.enter();
        tracing::info!(tenant, image, "Scan completed");
    }
    telemetry.flush();

    let signer = Ed25519Signer::generate()?;
    let trusted = TrustedKeys::new().with(signer.public_key().verifier(signer.key_id()))?;
    let out = work.join("acme-corp-last-hour.tar.gz");
    let summary = telemetry
        .capture(Window::parse("1h", chrono::Utc::now())?)
        .tenant("acme-corp")
        .config_file(
            "config/README.txt",
            b"captured by examples/airgap_bundle.rs\n".to_vec(),
        )
        .signer(signer)
        .write_to(&out)?;

    let (verified, records) =
        BundleReader::new(Verifier::new(trusted)).read_records(std::fs::File::open(&out)?)?;
    let egress = telemetry.egress().metrics();
    let left: u64 = stellaops_telemetry::egress::Signal::ALL
        .into_iter()
        .map(|s| egress.count(s, true))
        .sum();
    println!("bundle: {}", out.display());
    println!("sha256: {}", verified.sha256());
    println!("bundle id: {}", verified.manifest().bundle_id);
    for (signal, items) in &summary.items {
        let n = records.iter().filter(|(s, _)| s == signal).count();
        println!("{signal}: {n} records, {items} items (tenant acme-corp only)");
    }
    println!("exports allowed off the host: {left}");
    assert_eq!(left, 0);
    Ok(())
}

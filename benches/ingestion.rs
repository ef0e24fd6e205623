//! Log ingestion latency (the bar: a log line is ingested in under 5 seconds): from
//! the moment a service emits a log line to the moment the real collector (rotel) has
//! forwarded it to a receiver, with `init`'s pipeline in between (redaction, batching, OTLP
//! gRPC export).
//!
//! Each profile runs in its own child process (`init` is once per process): a rotel collector
//! from the peers venv forwarding to the testkit's OTLP receiver, which stamps every request's
//! arrival with its wall clock; the service emits log lines at a fixed rate on one thread (each
//! inside a request span, like the workload benchmark). Latency of a record = arrival of the
//! request that carried it − the record's own `time_unix_nano` (stamped when the line was
//! emitted). Both clocks are this machine's wall clock. Two rates per profile: the workload's
//! 4,000 lines/s (batches fill and leave at once) and a quiet 20 lines/s (every line waits for
//! the batch interval: the worst case).
//!
//! Run: `STELLAOPS_PEERS_VENV=.venv cargo bench --bench ingestion` (the venv from
//! `scripts/peers.sh`; `--seconds N` per run, default 10). Without `--bench` (under
//! `cargo nextest run --all-targets`) it lists and runs nothing: it needs the collector and
//! takes tens of seconds.
#![allow(missing_docs)]

mod support;

use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};
use stellaops_telemetry::telemetry_core::settings::Protocol;
use stellaops_telemetry_testkit::Collector;
use support::arg_value;

const PROFILE_ENV: &str = "STELLAOPS_INGEST_PROFILE";
const RATE_ENV: &str = "STELLAOPS_INGEST_RATE";
const SECONDS_ENV: &str = "STELLAOPS_INGEST_SECONDS";

/// Whether a record is one of the probe lines (the forensic profile also exports debug lines).
fn is_probe(record: &opentelemetry_proto::tonic::logs::v1::LogRecord) -> bool {
    matches!(
        record.body.as_ref().and_then(|b| b.value.as_ref()),
        Some(opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s))
            if s == "ingestion probe"
    )
}

/// One child: start rotel, init with `profile` exporting to it, emit `rate` lines/s for
/// `seconds`, wait until every line arrived, print the latency distribution.
fn run_child(profile: &str, rate: u64, seconds: f64) {
    let collector = Collector::start().expect("start rotel (set STELLAOPS_PEERS_VENV)");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .expect("chmod 700");
    let telemetry = stellaops_telemetry::builder("scanner")
        .profile(profile)
        .otlp_endpoint(collector.grpc_endpoint())
        .protocol(Protocol::Grpc)
        .spool_dir(dir.path())
        .stdout_logs(false)
        .init()
        .expect("init");
    let total = ((rate as f64) * seconds).round().max(1.0) as u64;
    let period = Duration::from_nanos(1_000_000_000 / rate.max(1));
    let start = Instant::now();
    for i in 0..total {
        let slot = start + period * u32::try_from(i).unwrap_or(u32::MAX);
        let now = Instant::now();
        if slot > now {
            std::thread::sleep(slot - now);
        }
        let span = tracing::info_span!("http.request", tenant = "acme-corp");
        let _entered = span.enter();
        tracing::info!(seq = i, "ingestion probe");
    }
    // No flush: lines leave by the pipeline's own batching, as in a running service.
    let received = collector
        .wait_for("every probe line", Duration::from_secs(60), |r| {
            let n: usize = r
                .logs
                .iter()
                .flat_map(|req| &req.resource_logs)
                .flat_map(|rl| &rl.scope_logs)
                .flat_map(|sl| &sl.log_records)
                .filter(|lr| is_probe(lr))
                .count();
            (n as u64 >= total).then(|| r.clone())
        })
        .expect("every line reaches the collector");
    let mut latencies: Vec<u64> = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    for (request, arrived) in received.logs.iter().zip(&received.log_arrivals) {
        for record in request
            .resource_logs
            .iter()
            .flat_map(|rl| &rl.scope_logs)
            .flat_map(|sl| &sl.log_records)
            .filter(|lr| is_probe(lr))
        {
            let emitted = if record.time_unix_nano > 0 {
                record.time_unix_nano
            } else {
                record.observed_time_unix_nano
            };
            latencies.push(arrived.saturating_sub(emitted));
        }
    }
    latencies.sort_unstable();
    let pick = |q: f64| {
        let i = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies.get(i).copied().unwrap_or(0)
    };
    println!(
        "INGEST-RESULT {} {} {} {} {}",
        latencies.len(),
        pick(0.5),
        pick(0.99),
        latencies.last().copied().unwrap_or(0),
        telemetry.settings().profile.name
    );
    drop(telemetry);
}

fn main() -> ExitCode {
    if let Ok(profile) = std::env::var(PROFILE_ENV) {
        let rate = std::env::var(RATE_ENV)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(4_000);
        let seconds = std::env::var(SECONDS_ENV)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(10.0);
        run_child(&profile, rate, seconds);
        return ExitCode::SUCCESS;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Under nextest (`--list`) and `cargo test`: no tests here (it needs the collector).
    if !args.iter().any(|a| a == "--bench") {
        return ExitCode::SUCCESS;
    }
    let seconds: f64 = arg_value(&args, "--seconds").unwrap_or(10.0);
    println!(
        "log ingestion latency, emit -> collector -> receiver; load average {}",
        support::load_average()
    );
    println!("| profile | lines/s | lines | p50 | p99 | max |");
    println!("|---|---|---|---|---|---|");
    for profile in ["default", "forensic"] {
        for rate in [4_000_u64, 20] {
            let out = support::clean_child()
                .env(PROFILE_ENV, profile)
                .env(RATE_ENV, rate.to_string())
                .env(SECONDS_ENV, seconds.to_string())
                .stdin(Stdio::null())
                .stderr(Stdio::inherit())
                .output()
                .expect("run a profile");
            let stdout = String::from_utf8_lossy(&out.stdout);
            let Some(line) = stdout
                .lines()
                .find_map(|l| l.strip_prefix("INGEST-RESULT "))
            else {
                eprintln!(
                    "profile {profile} at {rate}/s failed ({}): {stdout}",
                    out.status
                );
                return ExitCode::FAILURE;
            };
            let v: Vec<&str> = line.split_whitespace().collect();
            let ms = |s: &str| s.parse::<u64>().map_or(f64::NAN, |n| n as f64 / 1e6);
            if let [n, p50, p99, max, _] = v.as_slice() {
                println!(
                    "| `{profile}` | {rate} | {n} | {:.1} ms | {:.1} ms | {:.1} ms |",
                    ms(p50),
                    ms(p99),
                    ms(max)
                );
            }
        }
    }
    ExitCode::SUCCESS
}

//! Workload benchmark: what telemetry costs a service, as a share of one core.
//!
//! A simulated service serves requests on ONE thread at a fixed rate (default 2,000 req/s).
//! Each request: a root `http.request` span with a `db.query` and a `policy.evaluate` child
//! and two internal spans under `policy.evaluate` (three attributes each: 5 spans), two info
//! log lines (one carrying `authorization = "Bearer ..."`, which redaction must mask) and three
//! metric updates, around a fixed CPU loop standing for the service's own work. Requests follow
//! a deterministic schedule (request `i` starts at `start + i / rate`; the thread sleeps until
//! the next slot), so every variant does the same work in the same wall time.
//!
//! Variants, each in a fresh child process (the bench re-executes itself with
//! `STELLAOPS_WORKLOAD_VARIANT`; `init` is once per process):
//!
//! - `a` no telemetry: no subscriber; the same work and the same metric updates;
//! - `b` plain stack: tracing-opentelemetry + `BatchSpanProcessor`, opentelemetry-appender-
//!   tracing + `BatchLogProcessor`, and tracing-subscriber's fmt JSON layer writing to
//!   `io::sink()`; both exporters discard their batches (no encoding, no I/O);
//! - `c` `stellaops_telemetry::builder(..).init()` with the `default` profile and no collector:
//!   tail sampling (10% of ordinary traces), redaction of every span, event and log line, OTLP
//!   encoding and the file exporter into a private temporary spool directory; JSON stdout logs
//!   to a discarding sink (after shutdown, outside the measured window, the child checks that
//!   log lines reached the spool and the bearer token did not);
//! - breakdown variants (`--breakdown`): `r` (the `tracing` registry alone, no layer: the
//!   floor of any `tracing`-based telemetry), `b-spans` (the plain stack's span path alone:
//!   tracing-opentelemetry + `BatchSpanProcessor`, no log layers), and of `c`: `c-nostdout`
//!   (JSON stdout logs off), `c-ratio0` (sampling ratio 0: every ordinary trace dropped),
//!   `c-ratio1` (every trace kept);
//! - floor variants (`--floors`): `r` (as above), `sdk` (the five spans made through the
//!   OpenTelemetry SDK's own API, no `tracing`, no log lines, `BatchSpanProcessor` with a
//!   discarding exporter: the "raw SDK span" reference) and `fmt` (tracing-subscriber's
//!   fmt JSON layer alone writing to `io::sink()`: JSON log lines with no redaction and no
//!   export). `r` is a floor for any `tracing`-based telemetry; `sdk` and `fmt` are what the
//!   span and log parts of `c`'s work cost done the usual way, alone.
//!
//! CPU comes from the process's own accounting: the sum over every thread of the process
//! (`/proc/self/task/*/schedstat`, nanoseconds on CPU), so telemetry's background threads
//! (export workers, batch processors, the tail sampler's housekeeping) are counted. It is read
//! after set-up and a warm-up, and again after the load and a flush of every signal (so the
//! export of what was recorded is inside the window); shutdown is outside it. Telemetry's
//! share of one core is `cpu(v)/wall(v) - cpu(a)/wall(a)`.
//!
//! Full run: `cargo bench --bench workload -- --rate 2000 --seconds 20` (`--rounds N` repeats
//! the variants in turn and reports medians; `--breakdown` and `--floors` add those variants).
//!
//! Without `--bench` (as a test under `cargo nextest run --all-targets` or `cargo test`) it runs
//! the CI smoke version: each of `a`, `b`, `c` for 1.5 s at 1,000 req/s, and fails only on a
//! gross regression measured as a ratio in the same run: telemetry in `c` costing more than
//! [`smoke_max_ratio`] times telemetry in `b` (1 in an optimised build: "(c)
//! costing more than (b)"; 2 in the unoptimised test build). Never on an absolute time. Why
//! these thresholds: with the lean span and log paths the ratio is about 0.5 optimised and
//! 0.86–1.24 in the test build (there the workspace's own crates, which carry most of `c`'s
//! work, run at opt-level 0 while the OpenTelemetry dependencies of `b` get opt-level 1, so `c`
//! looks dearer than it is); measured repeatedly on a loaded 2-core machine it moves by about
//! ±0.3. The thresholds leave that room and still fail when `c` becomes dearer per span than
//! `b`: the path before the lean layers (tracing-opentelemetry for every span, a wake-up per
//! queued item) measured 1.5 optimised and 2.0–2.5 in the test build. A run above the
//! threshold is measured once more and only two failures in a row fail the test.
#![allow(missing_docs)]

mod support;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::logs::{BatchLogProcessor, SdkLoggerProvider};
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};
use std::hint::black_box;
use std::path::Path;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};
use stellaops_telemetry::metrics::MetricCatalogue;
use stellaops_telemetry::spans;
use support::{DiscardLogs, DiscardSpans, arg_value};
use tracing_subscriber::layer::SubscriberExt as _;

/// The name nextest knows this target by (one test, named after the binary).
const TEST_NAME: &str = "workload";
const VARIANT_ENV: &str = "STELLAOPS_WORKLOAD_VARIANT";
const RATE_ENV: &str = "STELLAOPS_WORKLOAD_RATE";
const SECONDS_ENV: &str = "STELLAOPS_WORKLOAD_SECONDS";
const SPANS_PER_REQUEST: u64 = 5;
const LOGS_PER_REQUEST: u64 = 2;
/// Smoke: fail when telemetry in `c` costs more than this many times telemetry in `b` (see the
/// module docs for why the unoptimised build gets more room).
fn smoke_max_ratio() -> f64 {
    if cfg!(debug_assertions) { 2.0 } else { 1.0 }
}
const SMOKE_RATE: u64 = 1_000;
const SMOKE_SECONDS: f64 = 1.5;
/// Iterations of the stand-in for the service's own work (a few µs).
const SERVICE_WORK: u64 = 2_000;

// ---------------------------------------------------------------------------------------
// The simulated service
// ---------------------------------------------------------------------------------------

/// The service's own work: a fixed CPU loop, identical in every variant.
fn service_work(seed: u64) -> u64 {
    let mut x = seed | 1;
    for _ in 0..SERVICE_WORK {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    black_box(x)
}

fn request(catalogue: &MetricCatalogue, i: u64) {
    let root = spans::http_request("POST", "/api/scan");
    spans::record_tenant(&root, "acme-corp");
    let _r = root.enter();
    let digest = service_work(i);
    {
        let db = spans::db_query("scans", "find");
        let _d = db.enter();
    }
    {
        let policy = spans::policy_evaluate("baseline", "7");
        let _p = policy.enter();
        {
            let resolve = tracing::info_span!(
                "scan.resolve",
                ecosystem = "npm",
                components = 42_u64,
                cached = true
            );
            let _s = resolve.enter();
            tracing::info!(
                authorization = format_args!("Bearer {SECRET}"),
                upstream = "registry.local",
                "upstream registry call authorised"
            );
        }
        {
            let score = tracing::info_span!(
                "scan.score",
                rules = 17_u64,
                findings = 3_u64,
                verdict = "pass"
            );
            let _s = score.enter();
        }
        tracing::info!(
            componentCount = i,
            digest = digest % 1_000,
            "Scan completed"
        );
    }
    catalogue.request_total("scanner", "ok").inc();
    catalogue
        .request_duration("scanner", "/api/scan")
        .observe(0.012);
    catalogue.scanner_sbom_components("npm").inc_by(3);
}

/// The same request with its five spans made through the OpenTelemetry SDK's own API (no
/// `tracing`, no log lines): the floor variant `sdk`, the "raw SDK span" reference
/// the bar against.
fn request_sdk(tracer: &opentelemetry_sdk::trace::SdkTracer, catalogue: &MetricCatalogue, i: u64) {
    use opentelemetry::KeyValue;
    use opentelemetry::trace::{Span as _, TraceContextExt as _, Tracer as _};
    let root = tracer
        .span_builder("http.request")
        .with_kind(opentelemetry::trace::SpanKind::Server)
        .with_attributes([
            KeyValue::new("http.request.method", "POST"),
            KeyValue::new("url.path", "/api/scan"),
            KeyValue::new("tenant", "acme-corp"),
        ])
        .start(tracer);
    let root_cx = opentelemetry::Context::current_with_span(root);
    let digest = service_work(i);
    let child = |cx: &opentelemetry::Context, name: &'static str, attrs: [KeyValue; 3]| {
        tracer
            .span_builder(name)
            .with_attributes(attrs)
            .start_with_context(tracer, cx)
    };
    child(
        &root_cx,
        "db.query",
        [
            KeyValue::new("db.system.name", "mongodb"),
            KeyValue::new("db.collection.name", "scans"),
            KeyValue::new("db.operation.name", "find"),
        ],
    )
    .end();
    let policy = child(
        &root_cx,
        "policy.evaluate",
        [
            KeyValue::new("policyId", "baseline"),
            KeyValue::new("version", "7"),
            KeyValue::new("tenant", "acme-corp"),
        ],
    );
    let policy_cx = root_cx.with_span(policy);
    child(
        &policy_cx,
        "scan.resolve",
        [
            KeyValue::new("ecosystem", "npm"),
            KeyValue::new("components", 42_i64),
            KeyValue::new("cached", true),
        ],
    )
    .end();
    child(
        &policy_cx,
        "scan.score",
        [
            KeyValue::new("rules", 17_i64),
            KeyValue::new("findings", 3_i64),
            KeyValue::new("verdict", "pass"),
        ],
    )
    .end();
    black_box(digest);
    policy_cx.span().end();
    root_cx.span().end();
    catalogue.request_total("scanner", "ok").inc();
    catalogue
        .request_duration("scanner", "/api/scan")
        .observe(0.012);
    catalogue.scanner_sbom_components("npm").inc_by(3);
}

/// Serves `count` requests (`request(i)` for request number `i`, from `first`) on the fixed
/// schedule. Returns each request's latency in nanoseconds.
fn serve(rate: u64, first: u64, count: u64, mut request: impl FnMut(u64)) -> Vec<u64> {
    let period = Duration::from_nanos(1_000_000_000 / rate.max(1));
    let mut latencies = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    let start = Instant::now();
    for n in 0..count {
        let slot = start + period * u32::try_from(n).unwrap_or(u32::MAX);
        let now = Instant::now();
        if slot > now {
            std::thread::sleep(slot - now);
        }
        let t0 = Instant::now();
        request(first + n);
        latencies.push(u64::try_from(t0.elapsed().as_nanos()).unwrap_or(u64::MAX));
    }
    latencies
}

// ---------------------------------------------------------------------------------------
// CPU accounting
// ---------------------------------------------------------------------------------------

/// Nanoseconds on CPU summed over every live thread of this process.
fn process_cpu_ns() -> u64 {
    let mut total = 0;
    let tasks = std::fs::read_dir("/proc/self/task").expect("/proc/self/task");
    for task in tasks.flatten() {
        // A thread may exit between the listing and the read: it then counts as 0.
        if let Ok(text) = std::fs::read_to_string(task.path().join("schedstat")) {
            total += text
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    total
}

// ---------------------------------------------------------------------------------------
// Variant (b): the plain stack's discarding exporters
// ---------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------
// Child: one variant
// ---------------------------------------------------------------------------------------

/// What one child measured.
#[derive(Debug, Clone, Copy)]
struct Sample {
    cpu_ns: u64,
    wall_ns: u64,
    requests: u64,
    p50_ns: u64,
    spool_bytes: u64,
}

impl Sample {
    fn to_line(self) -> String {
        format!(
            "WORKLOAD-RESULT {} {} {} {} {}",
            self.cpu_ns, self.wall_ns, self.requests, self.p50_ns, self.spool_bytes
        )
    }

    fn parse(stdout: &str) -> Option<Self> {
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix("WORKLOAD-RESULT "))?;
        let v: Vec<u64> = line
            .split_whitespace()
            .map(str::parse)
            .collect::<Result<_, _>>()
            .ok()?;
        match v.as_slice() {
            [cpu_ns, wall_ns, requests, p50_ns, spool_bytes] => Some(Self {
                cpu_ns: *cpu_ns,
                wall_ns: *wall_ns,
                requests: *requests,
                p50_ns: *p50_ns,
                spool_bytes: *spool_bytes,
            }),
            _ => None,
        }
    }

    /// CPU used as a fraction of one core.
    fn core_share(self) -> f64 {
        self.cpu_ns as f64 / self.wall_ns.max(1) as f64
    }
}

/// Warms up, measures `seconds` of load, then runs `flush` inside the measured window.
fn measure(catalogue: &MetricCatalogue, rate: u64, seconds: f64, flush: impl FnOnce()) -> Sample {
    measure_with(rate, seconds, |i| request(catalogue, i), flush)
}

/// [`measure`] with another request body.
fn measure_with(
    rate: u64,
    seconds: f64,
    mut request: impl FnMut(u64),
    flush: impl FnOnce(),
) -> Sample {
    let warm = (rate / 4).max(50);
    black_box(serve(rate, 0, warm, &mut request));
    let requests = ((rate as f64) * seconds).round().max(1.0) as u64;
    let cpu0 = process_cpu_ns();
    let t0 = Instant::now();
    let mut latencies = serve(rate, warm, requests, &mut request);
    flush();
    let wall_ns = u64::try_from(t0.elapsed().as_nanos()).unwrap_or(u64::MAX);
    let cpu_ns = process_cpu_ns().saturating_sub(cpu0);
    latencies.sort_unstable();
    let p50_ns = latencies.get(latencies.len() / 2).copied().unwrap_or(0);
    Sample {
        cpu_ns,
        wall_ns,
        requests,
        p50_ns,
        spool_bytes: 0,
    }
}

/// The bearer token of the log line that needs redaction (it must never reach the spool).
const SECRET: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ3b3JrbG9hZCJ9.c2lnbmF0dXJl";

/// Whether any file under `dir` contains `needle`.
fn spool_contains(dir: &Path, needle: &[u8]) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let path = e.path();
        if path.is_dir() {
            spool_contains(&path, needle)
        } else {
            std::fs::read(&path)
                .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
                .unwrap_or(false)
        }
    })
}

fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn run_child(variant: &str, rate: u64, seconds: f64) -> Sample {
    match variant {
        "a" => measure(&MetricCatalogue::default(), rate, seconds, || {}),
        "b" => {
            let tracer_provider = SdkTracerProvider::builder()
                .with_span_processor(BatchSpanProcessor::builder(DiscardSpans).build())
                .build();
            let logger_provider = SdkLoggerProvider::builder()
                .with_log_processor(BatchLogProcessor::builder(DiscardLogs).build())
                .build();
            let subscriber = tracing_subscriber::registry()
                .with(
                    tracing_subscriber::fmt::layer()
                        .json()
                        .with_writer(std::io::sink),
                )
                .with(
                    tracing_opentelemetry::layer().with_tracer(tracer_provider.tracer("workload")),
                )
                .with(
                    opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge::new(
                        &logger_provider,
                    ),
                );
            tracing::subscriber::set_global_default(subscriber).expect("global subscriber");
            let sample = measure(&MetricCatalogue::default(), rate, seconds, || {
                tracer_provider.force_flush().expect("flush spans");
                logger_provider.force_flush().expect("flush logs");
            });
            tracer_provider.shutdown().expect("shutdown spans");
            logger_provider.shutdown().expect("shutdown logs");
            sample
        }
        "r" => {
            // The floor of any `tracing`-based telemetry: the registry alone stores every
            // span (and drops every event), no layer records anything.
            tracing::subscriber::set_global_default(tracing_subscriber::registry())
                .expect("global subscriber");
            measure(&MetricCatalogue::default(), rate, seconds, || {})
        }
        "sdk" => {
            // Floor of the span path: the OpenTelemetry SDK's own API (no `tracing` at all),
            // `BatchSpanProcessor` with a discarding exporter; no log lines.
            let tracer_provider = SdkTracerProvider::builder()
                .with_span_processor(BatchSpanProcessor::builder(DiscardSpans).build())
                .build();
            let tracer = tracer_provider.tracer("workload");
            let catalogue = MetricCatalogue::default();
            let sample = measure_with(
                rate,
                seconds,
                |i| request_sdk(&tracer, &catalogue, i),
                || tracer_provider.force_flush().expect("flush spans"),
            );
            tracer_provider.shutdown().expect("shutdown spans");
            sample
        }
        "fmt" => {
            // Floor of the log path: tracing-subscriber's fmt JSON layer alone (no redaction,
            // no export, no spans recorded beyond the registry).
            let subscriber = tracing_subscriber::registry().with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::sink),
            );
            tracing::subscriber::set_global_default(subscriber).expect("global subscriber");
            measure(&MetricCatalogue::default(), rate, seconds, || {})
        }
        "b-spans" => {
            let tracer_provider = SdkTracerProvider::builder()
                .with_span_processor(BatchSpanProcessor::builder(DiscardSpans).build())
                .build();
            let subscriber = tracing_subscriber::registry().with(
                tracing_opentelemetry::layer().with_tracer(tracer_provider.tracer("workload")),
            );
            tracing::subscriber::set_global_default(subscriber).expect("global subscriber");
            let sample = measure(&MetricCatalogue::default(), rate, seconds, || {
                tracer_provider.force_flush().expect("flush spans");
            });
            tracer_provider.shutdown().expect("shutdown spans");
            sample
        }
        "c" | "c-nostdout" | "c-ratio0" | "c-ratio1" => {
            let dir = tempfile::tempdir().expect("tempdir");
            // The spool refuses a directory other users can read.
            std::fs::set_permissions(
                dir.path(),
                std::os::unix::fs::PermissionsExt::from_mode(0o700),
            )
            .expect("chmod 700");
            let sink: stellaops_telemetry::telemetry_core::logging::LogSink =
                std::sync::Arc::new(std::sync::Mutex::new(Box::new(std::io::sink())));
            let mut builder = stellaops_telemetry::builder("scanner")
                .profile("default")
                .spool_dir(dir.path())
                .log_sink(sink)
                .stdout_logs(variant != "c-nostdout");
            match variant {
                "c-ratio0" => builder = builder.trace_sampling_ratio(0.0),
                "c-ratio1" => builder = builder.trace_sampling_ratio(1.0),
                _ => {}
            }
            let telemetry = builder.init().expect("init");
            let mut sample = measure(telemetry.metrics(), rate, seconds, || {
                assert!(telemetry.flush(), "telemetry flush timed out");
            });
            assert!(
                telemetry.shutdown(Duration::from_secs(10)),
                "shutdown timed out"
            );
            sample.spool_bytes = dir_bytes(dir.path());
            // What `c` claims to do with the data: log lines reach the spool, redacted.
            assert!(
                spool_contains(dir.path(), b"Scan completed"),
                "variant {variant}: no log line in the spool"
            );
            assert!(
                !spool_contains(dir.path(), SECRET.as_bytes()),
                "variant {variant}: the bearer token reached the spool unredacted"
            );
            sample
        }
        other => panic!("unknown variant {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Parent: run the variants, print the table
// ---------------------------------------------------------------------------------------

fn spawn_variant(variant: &str, rate: u64, seconds: f64) -> Sample {
    let out = support::clean_child()
        .env(VARIANT_ENV, variant)
        .env(RATE_ENV, rate.to_string())
        .env(SECONDS_ENV, seconds.to_string())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("run a variant");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "variant {variant} failed ({}): {stdout}",
        out.status
    );
    Sample::parse(&stdout)
        .unwrap_or_else(|| panic!("variant {variant} printed no result: {stdout}"))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// One variant's figures over the rounds (medians).
struct Row {
    variant: String,
    /// Telemetry's share of one core, in percent.
    telemetry_pct: f64,
    total_pct: f64,
    spans_per_s: f64,
    logs_per_s: f64,
    p50_overhead_us: f64,
    spool_bytes: u64,
}

fn run_variants(variants: &[&str], rate: u64, seconds: f64, rounds: usize) -> Vec<Row> {
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); variants.len()];
    for _ in 0..rounds.max(1) {
        for (i, v) in variants.iter().enumerate() {
            samples[i].push(spawn_variant(v, rate, seconds));
        }
    }
    let base = &samples[0];
    variants
        .iter()
        .zip(&samples)
        .map(|(v, s)| {
            let per_round = |f: &dyn Fn(&Sample, &Sample) -> f64| {
                median(s.iter().zip(base).map(|(x, a)| f(x, a)).collect())
            };
            Row {
                variant: (*v).to_owned(),
                telemetry_pct: per_round(&|x, a| 100.0 * (x.core_share() - a.core_share())),
                total_pct: per_round(&|x, _| 100.0 * x.core_share()),
                spans_per_s: per_round(&|x, _| {
                    (x.requests * SPANS_PER_REQUEST) as f64 / (x.wall_ns as f64 / 1e9)
                }),
                logs_per_s: per_round(&|x, _| {
                    (x.requests * LOGS_PER_REQUEST) as f64 / (x.wall_ns as f64 / 1e9)
                }),
                p50_overhead_us: per_round(&|x, a| (x.p50_ns as f64 - a.p50_ns as f64) / 1e3),
                spool_bytes: s.iter().map(|x| x.spool_bytes).max().unwrap_or(0),
            }
        })
        .collect()
}

fn telemetry_of(rows: &[Row], variant: &str) -> f64 {
    rows.iter()
        .find(|r| r.variant == variant)
        .map_or(f64::NAN, |r| r.telemetry_pct)
}

fn print_table(rows: &[Row], rate: u64, seconds: f64, rounds: usize) {
    let b = telemetry_of(rows, "b");
    println!(
        "workload: {rate} req/s for {seconds} s, {rounds} round(s), medians; load average {}",
        support::load_average()
    );
    println!(
        "| variant | telemetry CPU (% of one core) | process CPU (% of one core) | spans/s | log lines/s | vs (b) | p50 latency overhead | spool bytes |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {:.2}% | {:.2}% | {:.0} | {:.0} | {} | {:+.1} µs | {} |",
            r.variant,
            r.telemetry_pct,
            r.total_pct,
            r.spans_per_s,
            r.logs_per_s,
            if r.variant == "a" {
                "-".to_owned()
            } else {
                format!("{:.2}", r.telemetry_pct / b)
            },
            r.p50_overhead_us,
            r.spool_bytes
        );
    }
}

fn main() -> ExitCode {
    if let Ok(variant) = std::env::var(VARIANT_ENV) {
        let rate = std::env::var(RATE_ENV)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(SMOKE_RATE);
        let seconds = std::env::var(SECONDS_ENV)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(SMOKE_SECONDS);
        println!("{}", run_child(&variant, rate, seconds).to_line());
        return ExitCode::SUCCESS;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    // nextest lists a harness = false target as one test named after it (libtest's terse
    // format); it has no ignored tests.
    if args.iter().any(|a| a == "--list") {
        if !args.iter().any(|a| a == "--ignored") {
            println!("{TEST_NAME}: test");
        }
        return ExitCode::SUCCESS;
    }
    if args.iter().any(|a| a == "--bench") {
        let rate = arg_value(&args, "--rate").unwrap_or(2_000);
        let seconds = arg_value(&args, "--seconds").unwrap_or(20.0);
        let rounds = arg_value(&args, "--rounds").unwrap_or(1);
        let mut variants = vec!["a", "b", "c"];
        if args.iter().any(|a| a == "--breakdown") {
            variants.extend(["r", "b-spans", "c-nostdout", "c-ratio0", "c-ratio1"]);
        }
        if args.iter().any(|a| a == "--floors") {
            for floor in ["r", "sdk", "fmt"] {
                if !variants.contains(&floor) {
                    variants.push(floor);
                }
            }
        }
        let rows = run_variants(&variants, rate, seconds, rounds);
        print_table(&rows, rate, seconds, rounds);
        println!(
            "ratio (c)/(b) = {:.2}; bar: (c) <= 0.5% of a core and (c)/(b) <= 0.33",
            telemetry_of(&rows, "c") / telemetry_of(&rows, "b")
        );
        return ExitCode::SUCCESS;
    }
    // A libtest filter that does not select this test: nothing to run.
    if let Some(filter) = args.iter().find(|a| !a.starts_with('-')) {
        let exact = args.iter().any(|a| a == "--exact");
        if (exact && filter != TEST_NAME) || (!exact && !TEST_NAME.contains(filter.as_str())) {
            return ExitCode::SUCCESS;
        }
    }
    smoke()
}

/// The CI smoke version: fails only when (c)/(b) exceeds [`smoke_max_ratio`] twice in a row.
fn smoke() -> ExitCode {
    let max = smoke_max_ratio();
    for attempt in 1..=2 {
        let rows = run_variants(&["a", "b", "c"], SMOKE_RATE, SMOKE_SECONDS, 1);
        print_table(&rows, SMOKE_RATE, SMOKE_SECONDS, 1);
        let (b, c) = (telemetry_of(&rows, "b"), telemetry_of(&rows, "c"));
        let spool = rows
            .iter()
            .find(|r| r.variant == "c")
            .map_or(0, |r| r.spool_bytes);
        assert!(spool > 0, "variant c wrote nothing to its spool");
        let ratio = c / b;
        println!("smoke attempt {attempt}: (c)/(b) = {ratio:.2} (fails above {max})");
        if b > 0.0 && ratio <= max {
            return ExitCode::SUCCESS;
        }
    }
    eprintln!(
        "workload smoke: telemetry of init's stack (c) cost more than {max}x the plain stack (b) in two runs in a row"
    );
    ExitCode::FAILURE
}

//! Pieces shared by the benches: the plain stack's discarding exporters, child processes with
//! a clean environment, the load average, and `--name value` arguments.
#![allow(dead_code, unreachable_pub)]

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use std::hint::black_box;
use std::process::Command;

/// Discards spans: a baseline pays for span creation and batching, not for I/O.
#[derive(Debug)]
pub struct DiscardSpans;

impl SpanExporter for DiscardSpans {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        black_box(batch);
        Ok(())
    }
}

/// Discards log records (after looking at each, as an exporter would).
#[derive(Debug)]
pub struct DiscardLogs;

impl LogExporter for DiscardLogs {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        black_box(batch.iter().count());
        Ok(())
    }
}

/// This bench binary again, as a child that neither talks to a collector nor picks another
/// profile from the caller's environment (`OTEL_*`, `STELLAOPS_TELEMETRY_*` removed).
pub fn clean_child() -> Command {
    let exe = std::env::current_exe().expect("current exe");
    let mut cmd = Command::new(exe);
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if k.starts_with("OTEL_") || k.starts_with("STELLAOPS_TELEMETRY_") {
            cmd.env_remove(&key);
        }
    }
    cmd
}

/// The 1, 5 and 15 minute load averages, as `/proc/loadavg` shows them.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The value after `name` in `args`, parsed; panics on a value that does not parse.
pub fn arg_value<T: std::str::FromStr>(args: &[String], name: &str) -> Option<T> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name} takes a number, got {v:?}"))
        })
}

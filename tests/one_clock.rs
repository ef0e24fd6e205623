//! The umbrella's one clock, as a service's tests use it: a `ManualClock` handed to the
//! builder timestamps the JSON log lines and moves only when the test moves it.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stellaops_telemetry::telemetry_core::logging::LogSink;
use stellaops_telemetry::{Clock, ManualClock};

/// A log sink whose bytes the test reads back.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn the_builders_clock_stamps_log_lines_and_moves_only_when_told() {
    let clock = ManualClock::new("2026-03-02T10:00:00.250Z".parse().unwrap());
    let lines = Lines::default();
    let sink: LogSink = Arc::new(Mutex::new(Box::new(lines.clone())));
    let dir = tempfile::tempdir().unwrap();
    // The spool refuses a directory other users can read.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let (telemetry, dispatch) = stellaops_telemetry::builder("one-clock")
        .spool_dir(dir.path())
        .log_sink(sink)
        .clock(clock.clone())
        .build()
        .unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info!(tenant = "acme", "first");
        clock.advance(Duration::from_secs(90));
        tracing::info!(tenant = "acme", "second");
    });
    assert!(telemetry.flush());
    let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    let stamps: Vec<String> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["tenant"] == "acme")
        .map(|v| v["timestamp"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        stamps,
        ["2026-03-02T10:00:00.250Z", "2026-03-02T10:01:30.250Z"]
    );
    assert_eq!(clock.now().to_rfc3339(), "2026-03-02T10:01:30.250+00:00");
}

#[test]
fn the_test_doubles_come_with_the_testing_feature() {
    // The umbrella's own tests enable `testing` through its dev-dependency on itself.
    let audit = stellaops_telemetry::http::MemoryAudit::new();
    assert!(audit.records().is_empty());
}

//! The guard's lifecycle: `init` twice is a clear error; telemetry starts and shuts down from a
//! plain thread and from inside current-thread and multi-thread Tokio runtimes without
//! deadlocking; the log level changes at run time.

mod support;

use std::time::Duration;
use stellaops_telemetry_core::profile::LogLevel;
use support::Captured;

#[test]
fn a_second_init_is_a_clear_error() {
    let dir = support::private_tempdir();
    let first = stellaops_telemetry_core::builder("scanner")
        .trace_sampling_ratio(1.0)
        .spool_dir(dir.path())
        .stdout_logs(false)
        .init()
        .unwrap();
    let second = stellaops_telemetry_core::builder("scanner")
        .trace_sampling_ratio(1.0)
        .spool_dir(dir.path())
        .init();
    let err = second.expect_err("second init must fail");
    assert!(
        matches!(err, stellaops_telemetry_core::InitError::AlreadyInitialized),
        "{err}"
    );
    assert!(err.to_string().contains("already initialised"));
    drop(first);
}

fn round_trip(dir: &std::path::Path) {
    let (telemetry, dispatch) = stellaops_telemetry_core::builder("scanner")
        .trace_sampling_ratio(1.0)
        .profile("airgap")
        .spool_dir(dir)
        .stdout_logs(false)
        .build()
        .unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        let _s = tracing::info_span!("scan.image").entered();
        tracing::info!("inside");
    });
    drop(telemetry); // flushes and joins the export threads
    assert!(
        !support::spooled(dir, "traces").is_empty(),
        "drop flushed the spans"
    );
}

#[test]
fn shutdown_inside_a_current_thread_runtime_does_not_deadlock() {
    let dir = support::private_tempdir();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async { round_trip(dir.path()) });
}

#[test]
fn shutdown_inside_a_multi_thread_runtime_and_from_a_plain_thread() {
    let dir = support::private_tempdir();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async { round_trip(&dir.path().join("mt")) });
    let plain = dir.path().join("plain");
    std::thread::spawn(move || round_trip(&plain))
        .join()
        .unwrap();
}

#[test]
fn shutdown_is_bounded_and_idempotent() {
    let dir = support::private_tempdir();
    let (telemetry, _dispatch) = stellaops_telemetry_core::builder("scanner")
        .trace_sampling_ratio(1.0)
        .spool_dir(dir.path())
        .stdout_logs(false)
        .build()
        .unwrap();
    assert!(telemetry.shutdown(Duration::from_secs(5)));
    assert!(
        telemetry.shutdown(Duration::from_secs(5)),
        "a second shutdown is a no-op"
    );
}

#[test]
fn log_level_changes_at_run_time() {
    let dir = support::private_tempdir();
    let logs = Captured::default();
    let (telemetry, dispatch) = stellaops_telemetry_core::builder("scanner")
        .trace_sampling_ratio(1.0)
        .spool_dir(dir.path())
        .log_sink(logs.sink())
        .build()
        .unwrap();
    assert_eq!(telemetry.log_level().get(), LogLevel::Info);
    tracing::dispatcher::with_default(&dispatch, || tracing::debug!("hidden at info"));
    telemetry.log_level().set(LogLevel::Debug);
    tracing::dispatcher::with_default(&dispatch, || tracing::debug!("shown at debug"));
    // Info and finer lines are written by the log processor: flush makes them visible now.
    assert!(telemetry.flush());
    let text = logs.text();
    assert!(!text.contains("hidden at info"), "{text}");
    assert!(text.contains("shown at debug"), "{text}");
}

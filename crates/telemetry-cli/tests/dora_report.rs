//! `stella-telemetry dora report`: renders the golden week of outcome-analytics' fixture events
//! exactly as its golden files (JSON, Markdown, HTML), to stdout or `--out`; bad input exits
//! with the documented codes.

use std::path::PathBuf;
use std::process::Command;

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../outcome-analytics/tests/golden")
        .join(name)
}

fn report(format: &str, extra: &[&str]) -> std::process::Output {
    let events = golden("events.jsonl");
    Command::new(env!("CARGO_BIN_EXE_stella-telemetry"))
        .args([
            "dora",
            "report",
            "--events",
            events.to_str().unwrap(),
            "--tenant",
            "acme",
        ])
        .args([
            "--environment",
            "prod",
            "--from",
            "2025-03-03T00:00:00Z",
            "--to",
            "2025-03-10T00:00:00Z",
        ])
        .args(["--format", format])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn every_format_matches_the_golden_report() {
    for (format, file) in [
        ("json", "report.json"),
        ("md", "report.md"),
        ("html", "report.html"),
    ] {
        let out = report(format, &[]);
        assert!(
            out.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let expected = std::fs::read_to_string(golden(file)).unwrap();
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            expected,
            "{format} differs from {file}"
        );
    }
}

#[test]
fn out_writes_the_file_and_repeated_runs_are_identical() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("one.html");
    let second = dir.path().join("two.html");
    assert!(
        report("html", &["--out", first.to_str().unwrap()])
            .status
            .success()
    );
    assert!(
        report("html", &["--out", second.to_str().unwrap()])
            .status
            .success()
    );
    assert_eq!(
        std::fs::read(&first).unwrap(),
        std::fs::read(&second).unwrap()
    );
    assert!(std::fs::read_to_string(&first).unwrap().contains("<svg"));
}

#[test]
fn bad_window_and_bad_events_exit_with_their_codes() {
    let out = Command::new(env!("CARGO_BIN_EXE_stella-telemetry"))
        .args([
            "dora",
            "report",
            "--events",
            golden("events.jsonl").to_str().unwrap(),
            "--tenant",
            "acme",
        ])
        .args([
            "--from",
            "2025-03-10T00:00:00Z",
            "--to",
            "2025-03-03T00:00:00Z",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"kind\":\"deployment\"}\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_stella-telemetry"))
        .args([
            "dora",
            "report",
            "--events",
            bad.to_str().unwrap(),
            "--tenant",
            "acme",
        ])
        .args([
            "--from",
            "2025-03-03T00:00:00Z",
            "--to",
            "2025-03-10T00:00:00Z",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("line 1"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

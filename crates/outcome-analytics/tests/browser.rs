//! The HTML report in a real headless browser (Debian `chromium`, installed by
//! scripts/install-peers.sh): the browser's DOM holds every chart and every bar the renderer
//! wrote, and a screenshot renders.

mod common;

use common::fixture_report;
use std::path::Path;
use std::process::Command;

fn chromium(args: &[&str], profile: &Path) -> std::process::Output {
    Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
        ])
        .args([
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("chromium not found: run scripts/install-peers.sh (Debian package chromium)")
}

#[test]
fn chromium_renders_every_chart_of_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let html = fixture_report().to_html();
    let page = dir.path().join("report.html");
    std::fs::write(&page, &html).unwrap();
    let url = format!("file://{}", page.display());

    let dom = chromium(&["--dump-dom", &url], &dir.path().join("profile-dom"));
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8(dom.stdout).unwrap();
    for chart in [
        "daily",
        "pipeline-cfr",
        "pipeline-lead-time",
        "severity-response",
    ] {
        assert!(
            dom.contains(&format!("data-chart=\"{chart}\"")),
            "chart {chart} missing from the browser's DOM"
        );
    }
    let bars_written = html.matches("class=\"bar\"").count();
    assert!(bars_written > 0);
    assert_eq!(
        dom.matches("class=\"bar\"").count(),
        bars_written,
        "the browser dropped bars"
    );
    assert!(dom.contains("Outcome report"));

    let shot = dir.path().join("report.png");
    let out = chromium(
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1200,1600",
            &url,
        ],
        &dir.path().join("profile-shot"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        png.len() > 20_000,
        "the screenshot is nearly empty ({} bytes)",
        png.len()
    );
}

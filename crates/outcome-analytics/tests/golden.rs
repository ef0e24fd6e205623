//! Golden files: the golden week's report (`tests/golden/events.jsonl`, acme / prod,
//! 2025-03-03 to 2025-03-10) rendered as JSON, Markdown and HTML must match
//! `tests/golden/report.{json,md,html}` byte for byte.
//!
//! After an intended change to a renderer, regenerate them and review the diff:
//!
//! ```sh
//! UPDATE_GOLDEN=1 cargo nextest run -p stellaops-outcome-analytics --test golden
//! git diff crates/outcome-analytics/tests/golden/
//! ```

mod common;

use common::*;
use stellaops_outcome_analytics::ReportFormat;

fn check(format: ReportFormat) {
    let rendered = fixture_report().render(format).unwrap();
    let path = golden_dir().join(format!("report.{}", format.extension()));
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::write(&path, &rendered).unwrap();
        return;
    }
    let golden = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; generate it with UPDATE_GOLDEN=1",
            path.display()
        )
    });
    if rendered != golden {
        let line = rendered
            .lines()
            .zip(golden.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| rendered.lines().count().min(golden.lines().count()));
        panic!(
            "{} differs from the rendering at line {}:\n  golden:   {:?}\n  rendered: {:?}\n\
             (if the change is intended: UPDATE_GOLDEN=1 cargo nextest run -p \
             stellaops-outcome-analytics --test golden)",
            path.display(),
            line + 1,
            golden.lines().nth(line),
            rendered.lines().nth(line),
        );
    }
}

#[test]
fn json_matches_the_golden_file() {
    check(ReportFormat::Json);
}

#[test]
fn markdown_matches_the_golden_file() {
    check(ReportFormat::Markdown);
}

#[test]
fn html_matches_the_golden_file() {
    check(ReportFormat::Html);
}

#[test]
fn the_golden_json_parses_into_the_report() {
    let golden = std::fs::read_to_string(golden_dir().join("report.json")).unwrap();
    let parsed: stellaops_outcome_analytics::OutcomeExecutiveReport =
        serde_json::from_str(&golden).unwrap();
    assert_eq!(parsed, fixture_report());
}

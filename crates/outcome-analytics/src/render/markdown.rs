//! The Markdown rendering: tables a reader can paste into a ticket or a wiki. Text from events
//! is escaped so that it can neither break a table nor become a link, emphasis or raw HTML.

use super::text::{NO_DATA, scope_label, timestamp, value_or_no_data};
use crate::report::OutcomeExecutiveReport;
use std::fmt::Write;

pub(super) fn render(report: &OutcomeExecutiveReport) -> String {
    let mut md = String::with_capacity(2048 + 80 * report.daily.len());
    let (tenant, environment) = scope_label(report);
    let t = &report.totals;
    // Writing into a String cannot fail.
    let _ = write!(
        md,
        "# Outcome report\n\n\
         - Tenant: {}\n\
         - Environment: {}\n\
         - Window: {} to {} (UTC, end exclusive; {} day{})\n\n",
        escape(&tenant),
        escape(&environment),
        timestamp(report.window.from()),
        timestamp(report.window.to()),
        report.daily.len(),
        if report.daily.len() == 1 { "" } else { "s" },
    );

    md.push_str("## Totals\n\n| metric | value |\n|---|---:|\n");
    let rows: [(&str, String); 9] = [
        ("deployments", t.deployments.to_string()),
        ("failed deployments", t.failed_deployments.to_string()),
        (
            "change failure rate (%)",
            value_or_no_data(t.change_failure_rate_percent),
        ),
        (
            "median lead time (h)",
            value_or_no_data(t.median_lead_time_hours),
        ),
        ("incidents", t.incidents.to_string()),
        ("resolved incidents", t.resolved_incidents.to_string()),
        (
            "acknowledged incidents",
            t.acknowledged_incidents.to_string(),
        ),
        ("MTTA (h)", value_or_no_data(t.mtta_hours)),
        ("MTTR (h)", value_or_no_data(t.mttr_hours)),
    ];
    for (name, value) in rows {
        let _ = writeln!(md, "| {name} | {value} |");
    }

    md.push_str("\n## Pipelines\n\n");
    if report.pipelines.is_empty() {
        md.push_str("No deployments in this window.\n");
    } else {
        md.push_str(
            "| pipeline | deployments | failed deployments | change failure rate (%) | median lead time (h) |\n\
             |---|---:|---:|---:|---:|\n",
        );
        for p in &report.pipelines {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                escape(&p.pipeline),
                p.deployments,
                p.failed_deployments,
                p.change_failure_rate_percent,
                p.median_lead_time_hours,
            );
        }
    }

    md.push_str(
        "\n## Incidents by severity\n\n\
         | severity | incidents | resolved | acknowledged | MTTA (h) | MTTR (h) |\n\
         |---|---:|---:|---:|---:|---:|\n",
    );
    for s in &report.severities {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} |",
            s.severity,
            s.incidents,
            s.resolved,
            s.acknowledged,
            value_or_no_data(s.mtta_hours),
            value_or_no_data(s.mttr_hours),
        );
    }

    md.push_str(
        "\n## Daily\n\n\
         | date (UTC) | deployments | failed deployments | incidents | resolved incidents |\n\
         |---|---:|---:|---:|---:|\n",
    );
    for d in &report.daily {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} |",
            d.date, d.deployments, d.failed_deployments, d.incidents, d.resolved_incidents,
        );
    }

    let _ = write!(
        md,
        "\nValues are rounded to two decimals, half away from zero; {NO_DATA} means no data. \
         Incidents count on the day they started; resolved incidents are those of that day's \
         cohort resolved at any time.\n"
    );
    md
}

/// Escapes text for a Markdown table cell: every ASCII punctuation character that Markdown
/// (CommonMark and GFM tables) gives a meaning to gets a backslash, and line breaks and other
/// control characters become spaces.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '!' | '|'
            | '<' | '>' | '&' | '~' | '"' | '\'' | '=' | '$' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(escape("a|b"), r"a\|b");
        assert_eq!(escape("<script>"), r"\<script\>");
        assert_eq!(escape("[x](http://e)"), r"\[x\]\(http://e\)");
        assert_eq!(escape("line\nbreak"), "line break");
        assert_eq!(escape("pipeline-a"), "pipeline-a");
    }
}

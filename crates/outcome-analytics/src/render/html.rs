//! The HTML rendering: one self-contained page (inline CSS, inline SVG, no script, no external
//! asset; a Content-Security-Policy forbids loading anything) that works offline and prints
//! well. Every piece of text from events is escaped.

use super::chart::{Chart, Series};
use super::markup::escape;
use super::text::{NO_DATA, scope_label, timestamp, value_or_no_data};
use crate::report::OutcomeExecutiveReport;
use crate::rounding::Rounded2;
use std::fmt::Write;

const DEPLOYMENTS_COLOR: &str = "#2563eb";
const FAILURES_COLOR: &str = "#dc2626";
const LEAD_TIME_COLOR: &str = "#0d9488";
const MTTA_COLOR: &str = "#d97706";
const MTTR_COLOR: &str = "#7c3aed";

/// Pipeline labels longer than this are cut on the chart axis (tooltips and tables keep the
/// full name).
const AXIS_LABEL_CHARS: usize = 28;

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2933;background:#fff;max-width:1040px;margin:0 auto;padding:24px}\
h1{font-size:26px;margin:0 0 4px}\
h2{font-size:19px;margin:32px 0 8px;border-bottom:1px solid #e4e7eb;padding-bottom:4px}\
h3{font-size:15px;margin:16px 0 4px}\
.scope{color:#52606d;margin:0}\
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px}\
.card{border:1px solid #d9e2ec;border-radius:6px;padding:10px 12px}\
.card .label{color:#52606d;font-size:13px}\
.card .value{font-size:22px;font-weight:600;font-variant-numeric:tabular-nums}\
.chart{display:block;margin:4px 0 8px}\
table{border-collapse:collapse;width:100%;font-size:14px;margin-top:8px}\
th,td{border-bottom:1px solid #e4e7eb;padding:4px 8px;text-align:left}\
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\
details summary{cursor:pointer;color:#52606d;margin-top:8px}\
footer{margin-top:32px;color:#52606d;font-size:13px}\
@media print{details{display:block}details>summary{display:none}}";

pub(super) fn render(report: &OutcomeExecutiveReport) -> String {
    let (tenant, environment) = scope_label(report);
    let from = timestamp(report.window.from());
    let to = timestamp(report.window.to());
    let mut html = String::with_capacity(16_384 + 1_024 * report.daily.len());
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"stellaops-outcome-analytics\">\n\
         <title>Outcome report: {t} / {e}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <header>\n<h1>Outcome report</h1>\n\
         <p class=\"scope\">Tenant <strong>{t}</strong> · environment <strong>{e}</strong> · \
         <time datetime=\"{from}\">{from}</time> to <time datetime=\"{to}\">{to}</time> \
         (UTC, end exclusive; {days} day{s})</p>\n</header>\n",
        t = escape(&tenant),
        e = escape(&environment),
        days = report.daily.len(),
        s = if report.daily.len() == 1 { "" } else { "s" },
    );

    totals(&mut html, report);
    daily(&mut html, report);
    pipelines(&mut html, report);
    severities(&mut html, report);

    let _ = write!(
        html,
        "<footer>\n<p>Values are rounded to two decimals, half away from zero; {NO_DATA} means \
         no data. Deployments belong to the window by their deployment time, incidents by their \
         start; an incident counts on the day it started, and as resolved if it was resolved at \
         any time. Change failure rate counts failures, rollbacks and hotfixes.</p>\n</footer>\n\
         </body>\n</html>\n"
    );
    html
}

fn totals(html: &mut String, report: &OutcomeExecutiveReport) {
    let t = &report.totals;
    let cards: [(&str, &str, String); 9] = [
        ("deployments", "Deployments", t.deployments.to_string()),
        (
            "failedDeployments",
            "Failed deployments",
            t.failed_deployments.to_string(),
        ),
        (
            "changeFailureRatePercent",
            "Change failure rate",
            with_unit(t.change_failure_rate_percent, " %"),
        ),
        (
            "medianLeadTimeHours",
            "Median lead time",
            with_unit(t.median_lead_time_hours, " h"),
        ),
        ("incidents", "Incidents", t.incidents.to_string()),
        (
            "resolvedIncidents",
            "Resolved incidents",
            t.resolved_incidents.to_string(),
        ),
        (
            "acknowledgedIncidents",
            "Acknowledged incidents",
            t.acknowledged_incidents.to_string(),
        ),
        ("mttaHours", "MTTA", with_unit(t.mtta_hours, " h")),
        ("mttrHours", "MTTR", with_unit(t.mttr_hours, " h")),
    ];
    html.push_str("<section id=\"totals\">\n<h2>Totals</h2>\n<div class=\"cards\">\n");
    for (key, label, value) in cards {
        let _ = writeln!(
            html,
            "<div class=\"card\" data-total=\"{key}\"><div class=\"label\">{label}</div><div class=\"value\">{value}</div></div>"
        );
    }
    html.push_str("</div>\n</section>\n");
}

fn daily(html: &mut String, report: &OutcomeExecutiveReport) {
    let chart = Chart {
        id: "daily",
        title: "Deployments and failed deployments per UTC day",
        unit: "",
        counts: true,
        categories: report
            .daily
            .iter()
            .map(|d| (d.date.format("%m-%d").to_string(), d.date.to_string()))
            .collect(),
        series: vec![
            Series {
                key: "deployments",
                label: "deployments",
                color: DEPLOYMENTS_COLOR,
                values: report
                    .daily
                    .iter()
                    .map(|d| Some(Rounded2::from_count(d.deployments)))
                    .collect(),
            },
            Series {
                key: "failedDeployments",
                label: "failed deployments",
                color: FAILURES_COLOR,
                values: report
                    .daily
                    .iter()
                    .map(|d| Some(Rounded2::from_count(d.failed_deployments)))
                    .collect(),
            },
        ],
        empty_message: "No days in this window.",
    };
    let _ = write!(
        html,
        "<section id=\"daily\">\n<h2>Daily deployments and failures</h2>\n{}\n\
         <details><summary>Daily table</summary>\n<table>\n<thead><tr><th>date (UTC)</th>\
         <th class=\"num\">deployments</th><th class=\"num\">failed deployments</th>\
         <th class=\"num\">incidents</th><th class=\"num\">resolved incidents</th></tr></thead>\n<tbody>\n",
        chart.vertical(),
    );
    for d in &report.daily {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            d.date, d.deployments, d.failed_deployments, d.incidents, d.resolved_incidents,
        );
    }
    html.push_str("</tbody>\n</table>\n</details>\n</section>\n");
}

fn pipelines(html: &mut String, report: &OutcomeExecutiveReport) {
    let categories: Vec<(String, String)> = report
        .pipelines
        .iter()
        .map(|p| (axis_label(&p.pipeline), p.pipeline.clone()))
        .collect();
    let cfr = Chart {
        id: "pipeline-cfr",
        title: "Change failure rate per pipeline (%)",
        unit: " %",
        counts: false,
        categories: categories.clone(),
        series: vec![Series {
            key: "changeFailureRatePercent",
            label: "change failure rate",
            color: FAILURES_COLOR,
            values: report
                .pipelines
                .iter()
                .map(|p| Some(p.change_failure_rate_percent))
                .collect(),
        }],
        empty_message: "No deployments in this window.",
    };
    let lead = Chart {
        id: "pipeline-lead-time",
        title: "Median lead time per pipeline (hours)",
        unit: " h",
        counts: false,
        categories,
        series: vec![Series {
            key: "medianLeadTimeHours",
            label: "median lead time",
            color: LEAD_TIME_COLOR,
            values: report
                .pipelines
                .iter()
                .map(|p| Some(p.median_lead_time_hours))
                .collect(),
        }],
        empty_message: "No deployments in this window.",
    };
    let _ = write!(
        html,
        "<section id=\"pipelines\">\n<h2>Pipelines</h2>\n<h3>Change failure rate</h3>\n{}\n\
         <h3>Median lead time</h3>\n{}\n",
        cfr.horizontal(),
        lead.horizontal(),
    );
    if !report.pipelines.is_empty() {
        html.push_str(
            "<table>\n<thead><tr><th>pipeline</th><th class=\"num\">deployments</th>\
             <th class=\"num\">failed deployments</th><th class=\"num\">change failure rate (%)</th>\
             <th class=\"num\">median lead time (h)</th></tr></thead>\n<tbody>\n",
        );
        for p in &report.pipelines {
            let _ = writeln!(
                html,
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                escape(&p.pipeline),
                p.deployments,
                p.failed_deployments,
                p.change_failure_rate_percent,
                p.median_lead_time_hours,
            );
        }
        html.push_str("</tbody>\n</table>\n");
    }
    html.push_str("</section>\n");
}

fn severities(html: &mut String, report: &OutcomeExecutiveReport) {
    let chart = Chart {
        id: "severity-response",
        title: "MTTA and MTTR per incident severity (hours)",
        unit: " h",
        counts: false,
        categories: report
            .severities
            .iter()
            .map(|s| (s.severity.to_string(), s.severity.to_string()))
            .collect(),
        series: vec![
            Series {
                key: "mttaHours",
                label: "MTTA",
                color: MTTA_COLOR,
                values: report.severities.iter().map(|s| s.mtta_hours).collect(),
            },
            Series {
                key: "mttrHours",
                label: "MTTR",
                color: MTTR_COLOR,
                values: report.severities.iter().map(|s| s.mttr_hours).collect(),
            },
        ],
        empty_message: "No severities.",
    };
    let _ = write!(
        html,
        "<section id=\"severities\">\n<h2>Incidents by severity</h2>\n{}\n<table>\n<thead><tr>\
         <th>severity</th><th class=\"num\">incidents</th><th class=\"num\">resolved</th>\
         <th class=\"num\">acknowledged</th><th class=\"num\">MTTA (h)</th>\
         <th class=\"num\">MTTR (h)</th></tr></thead>\n<tbody>\n",
        chart.vertical(),
    );
    for s in &report.severities {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            s.severity,
            s.incidents,
            s.resolved,
            s.acknowledged,
            value_or_no_data(s.mtta_hours),
            value_or_no_data(s.mttr_hours),
        );
    }
    html.push_str("</tbody>\n</table>\n</section>\n");
}

fn with_unit(value: Option<Rounded2>, unit: &str) -> String {
    value.map_or_else(|| NO_DATA.to_owned(), |v| format!("{v}{unit}"))
}

/// A pipeline name cut to [`AXIS_LABEL_CHARS`] characters with an ellipsis.
fn axis_label(name: &str) -> String {
    if name.chars().count() <= AXIS_LABEL_CHARS {
        name.to_owned()
    } else {
        let mut cut: String = name.chars().take(AXIS_LABEL_CHARS - 1).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::axis_label;

    #[test]
    fn long_axis_labels_are_cut() {
        assert_eq!(axis_label("short"), "short");
        let long = "a".repeat(40);
        let label = axis_label(&long);
        assert_eq!(label.chars().count(), 28);
        assert!(label.ends_with('…'));
    }
}

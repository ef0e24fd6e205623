//! Renderers of an [`OutcomeExecutiveReport`]: stable JSON, Markdown, and a self-contained
//! HTML page with inline SVG charts. All three are pure functions of the report (no clock, no
//! locale, no randomness), so the same report renders to the same bytes everywhere. Text that
//! comes from events (tenant, environment, pipeline names) is escaped for each format.

mod chart;
mod html;
mod markdown;
mod markup;
mod text;

use crate::error::OutcomeError;
use crate::report::OutcomeExecutiveReport;
use std::fmt;
use std::str::FromStr;

/// A rendering of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ReportFormat {
    /// Stable JSON: fields in declaration order, fixed number formatting
    /// ([`OutcomeExecutiveReport::to_json`]).
    #[default]
    Json,
    /// Markdown ([`OutcomeExecutiveReport::to_markdown`]).
    Markdown,
    /// A self-contained HTML page ([`OutcomeExecutiveReport::to_html`]).
    Html,
}

impl ReportFormat {
    /// Every format.
    pub const ALL: [ReportFormat; 3] = [
        ReportFormat::Json,
        ReportFormat::Markdown,
        ReportFormat::Html,
    ];

    /// The name on the command line: `json`, `md` or `html`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportFormat::Json => "json",
            ReportFormat::Markdown => "md",
            ReportFormat::Html => "html",
        }
    }

    /// The usual file extension (same as [`as_str`](Self::as_str)).
    pub fn extension(self) -> &'static str {
        self.as_str()
    }
}

impl fmt::Display for ReportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReportFormat {
    type Err = OutcomeError;

    /// `json`, `md` or `markdown`, `html` (ASCII case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Ok(ReportFormat::Json),
            "md" | "markdown" => Ok(ReportFormat::Markdown),
            "html" => Ok(ReportFormat::Html),
            _ => Err(OutcomeError::UnknownFormat {
                found: s.to_owned(),
            }),
        }
    }
}

impl OutcomeExecutiveReport {
    /// Stable JSON: camelCase keys in declaration order (the field order of the model, not
    /// sorted: this is not the canonical JSON the signed formats use), two-space indentation,
    /// numbers with at most two decimals, `null` for a metric without data, and a final
    /// newline. Parsing it back gives an equal report.
    ///
    /// # Errors
    /// [`OutcomeError::Encode`] if serde_json fails (it does not for this model).
    pub fn to_json(&self) -> Result<String, OutcomeError> {
        let mut json = serde_json::to_string_pretty(self).map_err(OutcomeError::Encode)?;
        json.push('\n');
        Ok(json)
    }

    /// Markdown: a header, then tables for the totals, pipelines, severities and days.
    pub fn to_markdown(&self) -> String {
        markdown::render(self)
    }

    /// A self-contained HTML page: no scripts, no external assets (a Content-Security-Policy
    /// forbids loading any), totals, inline SVG charts (daily deployments and failures, change
    /// failure rate and median lead time per pipeline, MTTA and MTTR per severity) and the
    /// tables behind them.
    pub fn to_html(&self) -> String {
        html::render(self)
    }

    /// The report in `format`.
    ///
    /// # Errors
    /// See [`to_json`](Self::to_json).
    pub fn render(&self, format: ReportFormat) -> Result<String, OutcomeError> {
        match format {
            ReportFormat::Json => self.to_json(),
            ReportFormat::Markdown => Ok(self.to_markdown()),
            ReportFormat::Html => Ok(self.to_html()),
        }
    }
}

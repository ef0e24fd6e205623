//! How report values read as text in the Markdown and HTML renderings: the no-data marker,
//! timestamps, rounded values and the scope label. Not where text is escaped: each format
//! escapes what it writes.

use crate::report::OutcomeExecutiveReport;
use crate::rounding::Rounded2;
use chrono::{DateTime, SecondsFormat, Utc};

/// What the report shows for a metric without data.
pub(crate) const NO_DATA: &str = "n/a";

/// A time as the report shows it: RFC 3339 in UTC with `Z`, fractional seconds only if any.
pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A rounded value, or [`NO_DATA`].
pub(crate) fn value_or_no_data(value: Option<Rounded2>) -> String {
    value.map_or_else(|| NO_DATA.to_owned(), |v| v.to_string())
}

/// `acme / prod`, or `acme / all environments`.
pub(crate) fn scope_label(report: &OutcomeExecutiveReport) -> (String, String) {
    (
        report.tenant.clone(),
        report
            .environment
            .clone()
            .unwrap_or_else(|| "all environments".to_owned()),
    )
}

//! Metrics: the catalogue (prometheus-client), the cardinality guard, OpenMetrics text for
//! `/metrics`, and conversion of the same registry to OTLP for push and for the spool.

mod catalogue;
mod guard;
mod otlp;

pub use catalogue::*;
pub use guard::{
    CardinalityGuard, DEFAULT_MAX_VALUES_PER_LABEL, LabelValue, MAX_LABEL_VALUE_CHARS,
    OVERFLOW_VALUE, OverflowLabels,
};
pub use otlp::{OpenMetricsParseError, openmetrics_to_otlp};

use prometheus_client::registry::Registry;

/// Encodes `registry` as OpenMetrics text (what `/metrics` serves, content type
/// `application/openmetrics-text; version=1.0.0; charset=utf-8`).
///
/// # Errors
/// Only when a metric's own encoding fails (a formatting error).
pub fn encode_openmetrics(registry: &Registry) -> Result<String, std::fmt::Error> {
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, registry)?;
    Ok(out)
}

/// Encodes `registry` in the Prometheus text format 0.0.4 (what `/metrics` serves to scrapers
/// that do not ask for OpenMetrics, and what `promtool check metrics` lints): counter families
/// are named with their `_total` suffix, `# UNIT` and `# EOF` lines are left out.
///
/// # Errors
/// Only when a metric's own encoding fails (a formatting error).
pub fn encode_prometheus_text(registry: &Registry) -> Result<String, std::fmt::Error> {
    Ok(openmetrics_to_prometheus_text(&encode_openmetrics(
        registry,
    )?))
}

/// Rewrites OpenMetrics text as Prometheus text format 0.0.4 (see [`encode_prometheus_text`]).
pub fn openmetrics_to_prometheus_text(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let meta = line.strip_prefix("# HELP ").map(|r| ("# HELP ", r));
        let meta = meta.or_else(|| line.strip_prefix("# TYPE ").map(|r| ("# TYPE ", r)));
        match meta {
            Some((prefix, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                out.push_str(prefix);
                out.push_str(name);
                if counters.contains(name) && !name.ends_with("_total") {
                    out.push_str("_total");
                }
                out.push(' ');
                out.push_str(tail);
            }
            None => {
                let name = line.split(['{', ' ']).next().unwrap_or_default();
                if name.ends_with("_created")
                    && counters.contains(name.trim_end_matches("_created"))
                {
                    continue;
                }
                out.push_str(line);
            }
        }
        out.push('\n');
    }
    out
}

/// The content type of [`encode_prometheus_text`]'s output.
pub const PROMETHEUS_TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The content type of [`encode_openmetrics`]'s output.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

//! Metric names referenced by a PromQL expression, and the check that every one of them is a
//! metric Stella Ops services expose (the telemetry-core catalogue or the DORA families).
//!
//! Not a PromQL parser: a lexer that is exact about what can name a metric (identifiers
//! outside label matchers, grouping lists, strings and range selectors, not followed by `(`).

use stellaops_telemetry_model::catalogue::{CATALOGUE, MetricKind};

/// PromQL keywords and aggregation modifiers that look like identifiers.
const KEYWORDS: &[&str] = &[
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "limitk",
    "limit_ratio",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "and",
    "or",
    "unless",
    "offset",
    "atan2",
    "inf",
    "nan",
];

/// Keywords followed by a parenthesised list of label names.
const LABEL_LISTS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

/// The metric (series) names an expression selects, in order of appearance, without
/// duplicates. `stellaops_scan_duration_seconds_bucket` is returned as written.
pub fn referenced_series(expr: &str) -> Vec<String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut names: Vec<String> = Vec::new();
    let mut i = 0;
    let mut skip_label_list = false;
    while let Some(&c) = chars.get(i) {
        match c {
            '"' | '\'' | '`' => i = skip_string(&chars, i),
            '{' => i = skip_until(&chars, i, '}'),
            '[' => i = skip_until(&chars, i, ']'),
            '#' => i = skip_until(&chars, i, '\n'),
            c if c.is_ascii_alphabetic() || c == '_' || c == ':' => {
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                {
                    i += 1;
                }
                let word: String = chars.get(start..i).unwrap_or_default().iter().collect();
                let next = chars
                    .get(i..)
                    .unwrap_or_default()
                    .iter()
                    .find(|c| !c.is_whitespace())
                    .copied();
                let is_label_list_keyword = LABEL_LISTS.contains(&word.as_str());
                if is_label_list_keyword {
                    skip_label_list = true;
                    continue;
                }
                if KEYWORDS.contains(&word.as_str()) || next == Some('(') {
                    continue;
                }
                if !names.contains(&word) {
                    names.push(word);
                }
            }
            '(' if skip_label_list => {
                skip_label_list = false;
                i = skip_until(&chars, i, ')');
            }
            c if c.is_ascii_digit() || c == '.' => {
                // numbers and durations (`5m`, `1e3`, `0x1f`) are not names
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '_')
                {
                    i += 1;
                }
            }
            _ => {
                if !c.is_whitespace() {
                    skip_label_list = false;
                }
                i += 1;
            }
        }
    }
    names
}

fn skip_string(chars: &[char], start: usize) -> usize {
    let quote = chars.get(start).copied();
    let mut i = start + 1;
    while let Some(&c) = chars.get(i) {
        if c == '\\' && quote != Some('`') {
            i += 2;
            continue;
        }
        i += 1;
        if Some(c) == quote {
            break;
        }
    }
    i
}

/// Skips to just past `close`, stepping over strings (label values may hold `}`).
fn skip_until(chars: &[char], start: usize, close: char) -> usize {
    let mut i = start + 1;
    while let Some(&c) = chars.get(i) {
        match c {
            '"' | '\'' | '`' if close != '\n' => i = skip_string(chars, i),
            c if c == close => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// The DORA metric families (`stellaops-dora-metrics`) as exposed in the Prometheus text
/// format, with both unit variants of the two duration histograms.
pub use stellaops_dora_metrics::EXPOSED_FAMILIES as DORA_FAMILIES;

/// The catalogue metric (or DORA family) a series name belongs to: histograms own their
/// `_bucket`, `_sum` and `_count` series. `None` when the name is unknown.
pub fn owning_metric(series: &str) -> Option<String> {
    for spec in CATALOGUE {
        if spec.name == series {
            return Some(spec.name.to_owned());
        }
        if spec.kind == MetricKind::Histogram
            && ["_bucket", "_sum", "_count"]
                .iter()
                .any(|suffix| series.strip_suffix(suffix) == Some(spec.name))
        {
            return Some(spec.name.to_owned());
        }
    }
    DORA_FAMILIES
        .iter()
        .find(|family| {
            series == **family
                || ["_bucket", "_sum", "_count"]
                    .iter()
                    .any(|suffix| series.strip_suffix(suffix) == Some(**family))
        })
        .map(|family| (*family).to_owned())
}

/// The series in `expr` that no catalogue metric or DORA family owns.
pub fn unknown_series(expr: &str) -> Vec<String> {
    referenced_series(expr)
        .into_iter()
        .filter(|s| owning_metric(s).is_none())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_outside_matchers_groupings_and_functions() {
        let expr = r#"histogram_quantile(0.95, sum by (le, tenant) (rate(stellaops_scan_duration_seconds_bucket{tenant=~"a}b"}[5m]))) > 300 and on (tenant) stellaops_queue_depth offset 5m"#;
        assert_eq!(
            referenced_series(expr),
            [
                "stellaops_scan_duration_seconds_bucket",
                "stellaops_queue_depth"
            ]
        );
        assert_eq!(
            owning_metric("stellaops_scan_duration_seconds_bucket").as_deref(),
            Some("stellaops_scan_duration_seconds")
        );
        assert!(unknown_series(expr).is_empty());
        assert_eq!(unknown_series("rate(made_up_total[5m])"), ["made_up_total"]);
        assert_eq!(
            owning_metric("stellaops_queue_depth_count"),
            None,
            "gauges own no _count"
        );
    }

    #[test]
    fn dora_families_are_known() {
        assert!(owning_metric("dora_lead_time_seconds_bucket").is_some());
        assert!(owning_metric("dora_slo_breach_total").is_some());
        assert!(owning_metric("dora_slo_breach").is_none());
    }

    proptest! {
        #[test]
        fn every_catalogue_name_is_found_in_any_wrapping(
            idx in 0..CATALOGUE.len(),
            func in prop::sample::select(vec!["rate", "increase", "max_over_time", "sum_over_time"]),
            agg in prop::sample::select(vec!["sum", "max", "avg", "count"]),
            label in "[a-z_]{1,8}",
            value in "[ -~]{0,12}",
            threshold in 0u32..10_000,
        ) {
            let name = CATALOGUE[idx].name;
            let value = value.replace(['\\', '"'], "");
            let expr = format!(r#"{agg} by ({label}) ({func}({name}{{{label}="{value}"}}[5m])) > {threshold}"#);
            prop_assert_eq!(referenced_series(&expr), vec![name.to_owned()]);
            prop_assert!(unknown_series(&expr).is_empty());
        }

        #[test]
        fn the_lexer_never_panics(expr in "\\PC{0,80}") {
            let _ = referenced_series(&expr);
        }
    }
}

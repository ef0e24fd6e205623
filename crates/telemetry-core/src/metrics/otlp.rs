//! Conversion of OpenMetrics text (as prometheus-client encodes the registry) into an OTLP
//! `ExportMetricsServiceRequest`, so one registry feeds `/metrics`, OTLP push and the spool.
//!
//! Not a general Prometheus parser: it reads the OpenMetrics text this crate produces
//! (counters, gauges, histograms, info and unknown families) and rejects anything else with
//! the line number.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use std::collections::BTreeMap;

/// OpenMetrics text that could not be read, with the 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("OpenMetrics line {line}: {detail}")]
pub struct OpenMetricsParseError {
    /// 1-based line number.
    pub line: usize,
    /// What was expected and what was found.
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
    Info,
    Unknown,
}

type Labels = Vec<(String, String)>;

#[derive(Debug, Default)]
struct HistogramPoint {
    buckets: Vec<(f64, f64)>,
    sum: f64,
    count: f64,
}

#[derive(Debug)]
struct Family {
    name: String,
    kind: Kind,
    help: String,
    unit: String,
    numbers: Vec<(String, Labels, f64)>,
    histograms: BTreeMap<Labels, HistogramPoint>,
}

impl Family {
    fn new(name: &str, kind: Kind) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            help: String::new(),
            unit: String::new(),
            numbers: Vec::new(),
            histograms: BTreeMap::new(),
        }
    }
}

/// Converts OpenMetrics text into one OTLP metrics request under `resource` and an
/// instrumentation scope named `scope`. Counters become cumulative monotonic sums named like
/// their samples (`..._total`), gauges and info/unknown families gauges, histograms cumulative
/// explicit-bucket histograms; `_created` samples set the start time where present, else
/// `start_unix_nano` is used.
///
/// # Errors
/// [`OpenMetricsParseError`] naming the line that is not valid OpenMetrics text.
pub fn openmetrics_to_otlp(
    text: &str,
    resource: Resource,
    scope: &str,
    start_unix_nano: u64,
    now_unix_nano: u64,
) -> Result<ExportMetricsServiceRequest, OpenMetricsParseError> {
    let families = parse(text)?;
    let metrics = families
        .into_iter()
        .filter_map(|f| to_metric(f, start_unix_nano, now_unix_nano))
        .collect();
    Ok(ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(resource),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: scope.to_owned(),
                    ..Default::default()
                }),
                metrics,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    })
}

fn parse(text: &str) -> Result<Vec<Family>, OpenMetricsParseError> {
    let mut families: Vec<Family> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        let err = |detail: String| OpenMetricsParseError {
            line: line_no,
            detail,
        };
        if line.is_empty() {
            continue;
        }
        if let Some(meta) = line.strip_prefix("# ") {
            if meta == "EOF" {
                break;
            }
            let mut parts = meta.splitn(3, ' ');
            let (keyword, name, rest) = (parts.next(), parts.next(), parts.next().unwrap_or(""));
            let name =
                name.ok_or_else(|| err(format!("expected a metric name after {keyword:?}")))?;
            match keyword {
                Some("TYPE") => {
                    let kind = match rest {
                        "counter" => Kind::Counter,
                        "gauge" => Kind::Gauge,
                        "histogram" => Kind::Histogram,
                        "info" => Kind::Info,
                        "unknown" => Kind::Unknown,
                        other => return Err(err(format!("unsupported metric type {other:?}"))),
                    };
                    match families.iter_mut().find(|f| f.name == name) {
                        Some(f) => f.kind = kind,
                        None => families.push(Family::new(name, kind)),
                    }
                }
                Some("HELP") | Some("UNIT") => {
                    let family = match families.iter_mut().position(|f| f.name == name) {
                        Some(i) => families.get_mut(i),
                        None => {
                            families.push(Family::new(name, Kind::Unknown));
                            families.last_mut()
                        }
                    };
                    if let Some(f) = family {
                        let text = unescape_help(rest);
                        if keyword == Some("HELP") {
                            f.help = text;
                        } else {
                            f.unit = text;
                        }
                    }
                }
                _ => return Err(err(format!("unknown comment {keyword:?}"))),
            }
            continue;
        }
        let (sample, labels, value) = parse_sample(line).map_err(err)?;
        let family = families
            .iter_mut()
            .rev()
            .find(|f| sample_belongs(&f.name, f.kind, &sample))
            .ok_or_else(|| err(format!("sample {sample:?} has no preceding # TYPE")))?;
        let suffix = sample.get(family.name.len()..).unwrap_or("");
        match (family.kind, suffix) {
            (Kind::Histogram, "_bucket") => {
                let (le, rest): (Vec<_>, Vec<_>) = labels.into_iter().partition(|(k, _)| k == "le");
                let le = le
                    .first()
                    .map(|(_, v)| parse_value(v))
                    .transpose()
                    .map_err(err)?
                    .ok_or_else(|| err("a _bucket sample needs an le label".into()))?;
                family
                    .histograms
                    .entry(rest)
                    .or_default()
                    .buckets
                    .push((le, value));
            }
            (Kind::Histogram, "_sum") => family.histograms.entry(labels).or_default().sum = value,
            (Kind::Histogram, "_count") => {
                family.histograms.entry(labels).or_default().count = value;
            }
            (_, "_created") => {}
            _ => family.numbers.push((sample, labels, value)),
        }
    }
    Ok(families)
}

fn sample_belongs(family: &str, kind: Kind, sample: &str) -> bool {
    let Some(suffix) = sample.strip_prefix(family) else {
        return false;
    };
    match kind {
        Kind::Counter => matches!(suffix, "_total" | "_created"),
        Kind::Histogram => matches!(suffix, "_bucket" | "_sum" | "_count" | "_created"),
        Kind::Info => suffix == "_info",
        Kind::Gauge | Kind::Unknown => suffix.is_empty(),
    }
}

fn parse_sample(line: &str) -> Result<(String, Labels, f64), String> {
    let name_end = line
        .find(['{', ' '])
        .ok_or_else(|| format!("expected a sample, found {line:?}"))?;
    let name = line.get(..name_end).unwrap_or_default();
    if name.is_empty()
        || !name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b':')
    {
        return Err(format!("invalid metric name {name:?}"));
    }
    let mut rest = line.get(name_end..).unwrap_or_default();
    let mut labels = Vec::new();
    if let Some(after) = rest.strip_prefix('{') {
        let (parsed, remaining) = parse_labels(after)?;
        labels = parsed;
        rest = remaining;
    }
    let rest = rest
        .strip_prefix(' ')
        .ok_or_else(|| format!("expected a space before the value of {name}"))?;
    // value [timestamp] [# exemplar]
    let value_text = rest.split(' ').next().unwrap_or_default();
    let value = parse_value(value_text)?;
    Ok((name.to_owned(), labels, value))
}

fn parse_labels(mut s: &str) -> Result<(Labels, &str), String> {
    let mut labels = Vec::new();
    loop {
        if let Some(rest) = s.strip_prefix('}') {
            return Ok((labels, rest));
        }
        let eq = s.find('=').ok_or("expected name=\"value\" in labels")?;
        let key = s.get(..eq).unwrap_or_default().to_owned();
        let mut chars = s.get(eq + 1..).unwrap_or_default().char_indices();
        if chars.next().map(|(_, c)| c) != Some('"') {
            return Err(format!("label {key} value must be quoted"));
        }
        let mut value = String::new();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next().map(|(_, c)| c) {
                    Some('n') => value.push('\n'),
                    Some(other) => value.push(other),
                    None => return Err("dangling escape in label value".into()),
                },
                '"' => {
                    end = Some(i);
                    break;
                }
                other => value.push(other),
            }
        }
        let end = end.ok_or_else(|| format!("unterminated value of label {key}"))?;
        labels.push((key, value));
        s = s.get(eq + 1 + end + 1..).unwrap_or_default();
        s = s.strip_prefix(',').unwrap_or(s);
    }
}

fn parse_value(text: &str) -> Result<f64, String> {
    match text {
        "+Inf" | "Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        t => t
            .parse::<f64>()
            .map_err(|_| format!("invalid sample value {t:?}")),
    }
}

fn unescape_help(text: &str) -> String {
    text.replace("\\n", "\n").replace("\\\\", "\\")
}

fn attributes(labels: &Labels) -> Vec<KeyValue> {
    labels
        .iter()
        .map(|(k, v)| KeyValue {
            key: k.clone(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(v.clone())),
            }),
            ..Default::default()
        })
        .collect()
}

fn number_point(labels: &Labels, value: f64, start: u64, now: u64) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attributes(labels),
        start_time_unix_nano: start,
        time_unix_nano: now,
        value: Some(number_data_point::Value::AsDouble(value)),
        ..Default::default()
    }
}

fn to_metric(family: Family, start: u64, now: u64) -> Option<Metric> {
    let (name, data) = match family.kind {
        Kind::Counter => {
            let points: Vec<_> = family
                .numbers
                .iter()
                .map(|(_, l, v)| number_point(l, *v, start, now))
                .collect();
            let name = family
                .numbers
                .first()
                .map_or_else(|| format!("{}_total", family.name), |(n, _, _)| n.clone());
            (
                name,
                metric::Data::Sum(Sum {
                    data_points: points,
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                    is_monotonic: true,
                }),
            )
        }
        Kind::Gauge | Kind::Info | Kind::Unknown => {
            let points = family
                .numbers
                .iter()
                .map(|(_, l, v)| number_point(l, *v, start, now))
                .collect();
            let name = match family.kind {
                Kind::Info => format!("{}_info", family.name),
                _ => family.name.clone(),
            };
            (
                name,
                metric::Data::Gauge(Gauge {
                    data_points: points,
                }),
            )
        }
        Kind::Histogram => {
            let points = family
                .histograms
                .iter()
                .map(|(labels, h)| {
                    let mut buckets = h.buckets.clone();
                    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
                    let bounds: Vec<f64> = buckets
                        .iter()
                        .map(|b| b.0)
                        .filter(|le| le.is_finite())
                        .collect();
                    let mut previous = 0.0;
                    let mut counts: Vec<u64> = Vec::with_capacity(buckets.len());
                    for (_, cumulative) in &buckets {
                        counts.push(float_count(cumulative - previous));
                        previous = *cumulative;
                    }
                    if buckets.last().is_none_or(|b| b.0.is_finite()) {
                        counts.push(float_count(h.count - previous));
                    }
                    HistogramDataPoint {
                        attributes: attributes(labels),
                        start_time_unix_nano: start,
                        time_unix_nano: now,
                        count: float_count(h.count),
                        sum: Some(h.sum),
                        bucket_counts: counts,
                        explicit_bounds: bounds,
                        ..Default::default()
                    }
                })
                .collect();
            (
                family.name.clone(),
                metric::Data::Histogram(Histogram {
                    data_points: points,
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                }),
            )
        }
    };
    Some(Metric {
        name,
        description: family.help,
        unit: family.unit,
        data: Some(data),
        metadata: Vec::new(),
    })
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn float_count(value: f64) -> u64 {
    if value.is_finite() && value > 0.0 {
        value.round() as u64
    } else {
        0
    }
}

//! The spool's own metrics ([`SpoolMetrics`]): recoveries, prunes, held-over-cap bytes,
//! bytes on disk and write failures. Not the service's export metrics.

use super::retention::LogClass;
use super::segment::SegmentInfo;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use stellaops_bundle_format::Signal;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PruneLabels {
    reason: &'static str,
    signal: &'static str,
    class: &'static str,
}

/// The `class` label value of a segment: its log class, `mixed` for a legacy `logs/` segment,
/// `all` for traces and metrics.
pub(super) fn class_label(signal: Signal, class: Option<LogClass>) -> &'static str {
    match (signal, class) {
        (_, Some(c)) => c.as_str(),
        (Signal::Logs, None) => "mixed",
        _ => "all",
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SignalLabel {
    signal: &'static str,
}

/// The spool's own metrics; [`register`](Self::register) them with the service's registry.
#[derive(Clone, Debug, Default)]
pub struct SpoolMetrics {
    recovered: Counter,
    truncated_bytes: Counter,
    pruned: Family<PruneLabels, Counter>,
    pruned_by_reason: Family<ReasonLabel, Counter>,
    pruned_records: Family<PruneLabels, Counter>,
    held_over_cap: Gauge,
    bytes: Family<SignalLabel, Gauge>,
    write_failures: Family<SignalLabel, Counter>,
}

impl SpoolMetrics {
    /// Registers `telemetry_spool_recovered_segments_total`,
    /// `telemetry_spool_truncated_bytes_total`,
    /// `telemetry_spool_pruned_segments_total{reason,signal,class}` and
    /// `telemetry_spool_pruned_records_total{reason,signal,class}` (reason `retention` or
    /// `size_cap`; class `error`, `warn`, `info`, `debug`, `mixed` or `all`),
    /// `telemetry_spool_held_over_cap_bytes`,
    /// `telemetry_spool_bytes{signal}` and `telemetry_spool_write_failures_total{signal}`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "telemetry_spool_recovered_segments",
            "Open spool segments recovered at start-up whose torn final frame was truncated",
            self.recovered.clone(),
        );
        registry.register(
            "telemetry_spool_truncated_bytes",
            "Bytes of torn final frames truncated from recovered spool segments",
            self.truncated_bytes.clone(),
        );
        registry.register(
            "telemetry_spool_pruned_segments",
            "Spool segments deleted, by reason (retention or size_cap), signal and retention class",
            self.pruned.clone(),
        );
        registry.register(
            "telemetry_spool_pruned_records",
            "OTLP export records in deleted spool segments, by reason, signal and retention class",
            self.pruned_records.clone(),
        );
        registry.register(
            "telemetry_spool_held_over_cap_bytes",
            "Bytes the spool holds over its size cap because incident holds keep them",
            self.held_over_cap.clone(),
        );
        registry.register(
            "telemetry_spool_bytes",
            "Bytes of spool segments on disk, by signal",
            self.bytes.clone(),
        );
        registry.register(
            "telemetry_spool_write_failures",
            "Records the spool failed to write, by signal",
            self.write_failures.clone(),
        );
    }

    /// Segments recovered with a torn final frame so far.
    pub fn recovered_segments(&self) -> u64 {
        self.recovered.get()
    }

    /// Segments pruned for `reason` (`retention` or `size_cap`), every signal and class.
    pub fn pruned_segments(&self, reason: &'static str) -> u64 {
        self.pruned_by_reason
            .get_or_create(&ReasonLabel { reason })
            .get()
    }

    /// Segments pruned for `reason` of `signal` and log `class` (`None`: traces, metrics or
    /// legacy mixed-class logs).
    pub fn pruned_segments_of(
        &self,
        reason: &'static str,
        signal: Signal,
        class: Option<LogClass>,
    ) -> u64 {
        self.pruned
            .get_or_create(&PruneLabels {
                reason,
                signal: signal.as_str(),
                class: class_label(signal, class),
            })
            .get()
    }

    /// Bytes kept over the cap by holds at the last prune.
    pub fn held_over_cap_bytes(&self) -> i64 {
        self.held_over_cap.get()
    }

    /// Counts a record the spool failed to write.
    pub fn write_failed(&self, signal: Signal) {
        self.write_failures
            .get_or_create(&SignalLabel {
                signal: signal.as_str(),
            })
            .inc();
    }

    /// Counts a segment recovered at open with `truncated_bytes` of torn final frame.
    pub(super) fn recovered_segment(&self, truncated_bytes: u64) {
        self.recovered.inc();
        self.truncated_bytes.inc_by(truncated_bytes);
    }

    /// Counts `segment`, holding `records` records, deleted for `reason`.
    pub(super) fn pruned(&self, reason: &'static str, segment: &SegmentInfo, records: u64) {
        let labels = PruneLabels {
            reason,
            signal: segment.signal.as_str(),
            class: class_label(segment.signal, segment.log_class),
        };
        self.pruned.get_or_create(&labels).inc();
        self.pruned_records.get_or_create(&labels).inc_by(records);
        self.pruned_by_reason
            .get_or_create(&ReasonLabel { reason })
            .inc();
    }

    /// Sets the bytes holds keep over the cap (at the end of a prune).
    pub(super) fn set_held_over_cap(&self, bytes: u64) {
        self.held_over_cap
            .set(i64::try_from(bytes).unwrap_or(i64::MAX));
    }

    /// Sets the bytes of `signal`'s segments on disk (at the end of a prune).
    pub(super) fn set_bytes(&self, signal: Signal, bytes: u64) {
        self.bytes
            .get_or_create(&SignalLabel {
                signal: signal.as_str(),
            })
            .set(i64::try_from(bytes).unwrap_or(i64::MAX));
    }
}

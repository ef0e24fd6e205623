//! Profiles (`default`, `forensic`, `airgap`) as data: sampling, retention, log level, export
//! interval, exporters, extended attributes and sealed mode.
//!
//! Not a configuration loader: `settings` layers code and environment over a profile.

use std::time::Duration;

/// Where a profile sends telemetry by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExporterKind {
    /// OTLP to a collector (gRPC or HTTP/protobuf).
    Otlp,
    /// Local files in the spool (the collector file exporter's `proto` framing).
    File,
}

/// Log verbosity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Failures.
    Error,
    /// Anomalies.
    Warn,
    /// Operations.
    Info,
    /// Development and forensic detail.
    Debug,
    /// Everything.
    Trace,
}

impl LogLevel {
    /// `error`, `warn`, `info`, `debug` or `trace`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }

    /// Parses a level name (case-insensitive; `warning` is `warn`).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "error" => Some(LogLevel::Error),
            "warn" | "warning" => Some(LogLevel::Warn),
            "info" => Some(LogLevel::Info),
            "debug" => Some(LogLevel::Debug),
            "trace" => Some(LogLevel::Trace),
            _ => None,
        }
    }

    /// The matching `tracing` level.
    pub fn to_tracing(self) -> tracing::Level {
        match self {
            LogLevel::Error => tracing::Level::ERROR,
            LogLevel::Warn => tracing::Level::WARN,
            LogLevel::Info => tracing::Level::INFO,
            LogLevel::Debug => tracing::Level::DEBUG,
            LogLevel::Trace => tracing::Level::TRACE,
        }
    }
}

/// A named bundle of telemetry behaviour.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// `default`, `forensic` or `airgap`.
    pub name: &'static str,
    /// Share of ordinary traces kept (errors and slow traces are always kept).
    pub trace_sampling_ratio: f64,
    /// Traces slower than this are always kept.
    pub slow_trace_threshold: Duration,
    /// How long spooled data is kept.
    pub retention: Duration,
    /// Log level.
    pub log_level: LogLevel,
    /// How often metrics are pushed and batches flushed.
    pub export_interval: Duration,
    /// Where telemetry goes.
    pub exporter: ExporterKind,
    /// Whether extended (forensic) attributes are recorded.
    pub extended_attributes: bool,
    /// Whether the profile runs sealed (no telemetry leaves the host).
    pub sealed: bool,
    /// Whether the spool keeps a copy of what an OTLP collector accepted (so a window can
    /// still be captured locally): on in `forensic` and `airgap`.
    pub spool_copy: bool,
}

const DAY: u64 = 24 * 60 * 60;

impl Profile {
    /// Normal operation: 10% of ordinary traces, 30-day retention, info logs, 60 s export, OTLP.
    pub fn default_profile() -> Self {
        Self {
            name: "default",
            trace_sampling_ratio: 0.10,
            slow_trace_threshold: Duration::from_secs(2),
            retention: Duration::from_secs(30 * DAY),
            log_level: LogLevel::Info,
            export_interval: Duration::from_secs(60),
            exporter: ExporterKind::Otlp,
            extended_attributes: false,
            sealed: false,
            spool_copy: false,
        }
    }

    /// Investigation: every trace, 180-day retention, debug logs, 10 s export, extended attributes.
    pub fn forensic() -> Self {
        Self {
            name: "forensic",
            trace_sampling_ratio: 1.0,
            retention: Duration::from_secs(180 * DAY),
            log_level: LogLevel::Debug,
            export_interval: Duration::from_secs(10),
            extended_attributes: true,
            spool_copy: true,
            ..Self::default_profile()
        }
    }

    /// Offline deployment: file exporters only, sealed, sampling capped at 10%.
    pub fn airgap() -> Self {
        Self {
            name: "airgap",
            exporter: ExporterKind::File,
            sealed: true,
            spool_copy: true,
            ..Self::default_profile()
        }
    }

    /// The profile called `name` (case-insensitive).
    pub fn by_name(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "default" => Some(Self::default_profile()),
            "forensic" => Some(Self::forensic()),
            "airgap" | "air-gap" => Some(Self::airgap()),
            _ => None,
        }
    }

    /// The names of every built-in profile.
    pub const NAMES: [&'static str; 3] = ["default", "forensic", "airgap"];
}

impl Default for Profile {
    fn default() -> Self {
        Self::default_profile()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_follow_the_specification_tables() {
        let d = Profile::default_profile();
        let f = Profile::forensic();
        let a = Profile::airgap();
        assert_eq!(
            (d.trace_sampling_ratio, f.trace_sampling_ratio),
            (0.10, 1.0)
        );
        assert_eq!(
            (d.retention.as_secs() / DAY, f.retention.as_secs() / DAY),
            (30, 180)
        );
        assert_eq!(
            (d.log_level, f.log_level),
            (LogLevel::Info, LogLevel::Debug)
        );
        assert_eq!(
            (d.export_interval.as_secs(), f.export_interval.as_secs()),
            (60, 10)
        );
        assert!(!d.extended_attributes && f.extended_attributes);
        assert_eq!((a.exporter, a.sealed), (ExporterKind::File, true));
        assert_eq!(
            (d.spool_copy, f.spool_copy, a.spool_copy),
            (false, true, true)
        );
        assert_eq!(d.slow_trace_threshold, Duration::from_secs(2));
        for name in Profile::NAMES {
            assert_eq!(Profile::by_name(name).map(|p| p.name), Some(name));
        }
        assert_eq!(Profile::by_name("nope"), None);
    }
}

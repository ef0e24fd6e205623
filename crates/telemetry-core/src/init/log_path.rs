//! The log path of start-up: the run-time level (with the forensic override of tenants in
//! incident mode) and the log layer, split into the capture layer the subscriber holds and
//! the log processor thread that redacts and writes.
//!
//! Not the log layer itself (`crate::logging`).

use super::error::{InitError, thread_error};
use crate::export::ExportWorker;
use crate::incident::IncidentController;
use crate::level::DynamicLevel;
use crate::logging::record::LogEntry;
use crate::logging::{CaptureLayer, LogLayer, LogProcessor, LogSink};
use crate::settings::Settings;
use std::sync::Arc;
use stellaops_redaction::Redactor;
use stellaops_telemetry_model::clock::Clock;

/// Where JSON log lines go, as the builder was told.
pub(super) struct StdoutLogs {
    /// Whether JSON lines are written at all (default: yes).
    pub(super) enabled: Option<bool>,
    /// The sink (default: standard output).
    pub(super) sink: Option<LogSink>,
}

/// The running log path.
pub(super) struct LogPath {
    /// The run-time level switch.
    pub(super) level: DynamicLevel,
    /// The layer half: level filter of the whole subscriber and capture of each event.
    pub(super) layer: CaptureLayer,
    /// The processor half, on its own thread.
    pub(super) processor: LogProcessor,
}

impl LogPath {
    /// Starts the log path: events pass at the profile's level (debug for tenants in
    /// forensic mode per `incidents`), are redacted with `redactor` and exported through
    /// `logs`, and written as JSON lines per `stdout`; lines and records are timestamped by
    /// `clock` (`None`: the system clock, read directly without a dynamic call).
    ///
    /// # Errors
    /// [`InitError::Thread`] when the log processor's thread cannot start.
    pub(super) fn start(
        settings: &Settings,
        redactor: &Arc<Redactor>,
        incidents: &IncidentController,
        logs: &Arc<ExportWorker<LogEntry>>,
        stdout: StdoutLogs,
        clock: Option<Arc<dyn Clock>>,
    ) -> Result<Self, InitError> {
        let level = DynamicLevel::new(settings.profile.log_level).with_incidents(incidents.clone());
        // One layer per event: level check, one redaction, the JSON line, one compact record
        // for the logs worker.
        let mut log_layer = LogLayer::new(
            &settings.service_name,
            redactor.clone(),
            level.clone(),
            logs.clone(),
        )
        .with_incidents(incidents.clone())
        .with_clock(clock);
        if stdout.enabled.unwrap_or(true) {
            let sink = stdout.sink.unwrap_or_else(crate::logging::stdout_sink);
            log_layer = log_layer.with_stdout(sink);
        }
        // The layer captures events; the processor redacts them and writes lines and records
        // in batches, on its own thread (warnings and errors at once).
        let (layer, processor) = log_layer.into_parts();
        processor.start().map_err(thread_error("logs"))?;
        Ok(Self {
            level,
            layer,
            processor,
        })
    }
}

//! The export stage of start-up: one export worker per signal (traces, logs, metrics), each
//! with its destination behind the egress guard (OTLP with its TLS, or the file exporter;
//! the spool as fallback and copy).
//!
//! Not how a worker batches and sends (`crate::export`).

use super::defaults::{SCOPE_NAME, batch_interval};
use super::error::{InitError, thread_error};
use super::shared::Shared;
use super::spool_slot::SpoolSetup;
use crate::export::{BatchConfig, Destination, ExportRequest, ExportWorker, OtlpTls};
use crate::logging::record::LogEntry;
use crate::metrics::{encode_openmetrics, openmetrics_to_otlp};
use crate::pipeline::{build_logs, build_trace_records, proto_resource};
use crate::profile::ExporterKind;
use crate::settings::{Settings, Signal};
use crate::span_layer::SpanRecord;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use stellaops_telemetry_model::clock::unix_nanos;
use stellaops_telemetry_model::sync::lock;

/// The export worker of each signal.
#[derive(Debug, Clone)]
pub(super) struct ExportWorkers {
    pub(super) traces: Arc<ExportWorker<SpanRecord>>,
    pub(super) logs: Arc<ExportWorker<LogEntry>>,
    pub(super) metrics: Arc<ExportWorker<()>>,
}

impl ExportWorkers {
    /// Starts the traces, logs and metrics workers, in that order, with `batch` sizes; each
    /// OTLP export may take `timeout`.
    ///
    /// # Errors
    /// [`InitError::Thread`] when a worker's thread cannot start.
    pub(super) fn spawn(
        settings: &Settings,
        shared: &Shared,
        spool: &SpoolSetup,
        otlp_tls: &BTreeMap<Signal, OtlpTls>,
        batch: BatchConfig,
        timeout: Duration,
    ) -> Result<Self, InitError> {
        let catalogue = &shared.catalogue;
        let resource = &shared.resource;
        let destination = |signal: Signal| {
            let target = match settings.profile.exporter {
                ExporterKind::Otlp => settings.otlp.get(&signal).cloned(),
                ExporterKind::File => None,
            };
            Destination::new(
                signal,
                target,
                shared.guard.clone(),
                Some(shared.sealed.clone()),
                &settings.spool_dir,
                catalogue.clone(),
                timeout,
            )
            .with_spool(spool.slot.clone(), spool.copy)
            .with_tls(otlp_tls.get(&signal).cloned())
        };
        let batch_interval = batch_interval(settings.profile.export_interval);

        let traces = Arc::new(
            ExportWorker::spawn(
                "traces",
                batch,
                batch_interval,
                catalogue.export_dropped("traces"),
                Box::new(build_trace_records(
                    &ResourceAttributesWithSchema::from(resource),
                    shared.scrubber.clone(),
                )),
                destination(Signal::Traces),
            )
            .map_err(thread_error("traces"))?,
        );
        let logs = Arc::new(
            ExportWorker::spawn(
                "logs",
                batch,
                batch_interval,
                catalogue.export_dropped("logs"),
                Box::new(build_logs(
                    &ResourceAttributesWithSchema::from(resource),
                    shared.scrubber.clone(),
                )),
                destination(Signal::Logs),
            )
            .map_err(thread_error("logs"))?,
        );
        let start = unix_nanos(SystemTime::now());
        let metric_registry = shared.registry.clone();
        let metric_resource = proto_resource(&ResourceAttributesWithSchema::from(resource));
        let build_metrics = move |_: Vec<()>, tick: bool| -> Option<ExportRequest> {
            if !tick {
                return None;
            }
            let text = encode_openmetrics(&lock(&metric_registry)).ok()?;
            openmetrics_to_otlp(
                &text,
                metric_resource.clone(),
                SCOPE_NAME,
                start,
                unix_nanos(SystemTime::now()),
            )
            .ok()
            .map(ExportRequest::Metrics)
        };
        let metrics = Arc::new(
            ExportWorker::spawn(
                "metrics",
                batch,
                settings.profile.export_interval,
                catalogue.export_dropped("metrics"),
                Box::new(build_metrics),
                destination(Signal::Metrics),
            )
            .map_err(thread_error("metrics"))?,
        );
        Ok(Self {
            traces,
            logs,
            metrics,
        })
    }

    /// Exports metrics every `interval`, spans and logs at their batch interval derived from it.
    pub(super) fn set_interval(&self, interval: Duration) {
        self.metrics.set_interval(interval);
        self.traces.set_interval(batch_interval(interval));
        self.logs.set_interval(batch_interval(interval));
    }

    /// Gives every worker the service's dispatcher (for its own warnings).
    pub(super) fn attach_dispatch(&self, dispatch: &tracing::Dispatch) {
        for attach in [&self.traces as &dyn Attach, &self.logs, &self.metrics] {
            attach.attach_dispatch(dispatch.clone());
        }
    }
}

/// Any export worker, whatever it carries.
trait Attach {
    fn attach_dispatch(&self, dispatch: tracing::Dispatch);
}

impl<T: Send + 'static> Attach for Arc<ExportWorker<T>> {
    fn attach_dispatch(&self, dispatch: tracing::Dispatch) {
        self.attach(dispatch);
    }
}

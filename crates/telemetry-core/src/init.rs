//! `init()` and its builder: resolve settings, assemble the subscriber (the log layer: JSON
//! stdout and OTLP records; the span bridge; one run-time level), start one export worker per
//! signal behind the egress guard, and return the [`Telemetry`] guard that flushes and shuts
//! down on drop.
//!
//! Not a place for business logic: services record through `tracing` and the catalogue.

use crate::export::{BatchConfig, Destination, ExportRequest, ExportWorker};
use crate::level::DynamicLevel;
use crate::logging::{LogClock, LogLayer, LogProcessor, LogSink};
use crate::metrics::{
    MetricCatalogue, encode_openmetrics, encode_prometheus_text, openmetrics_to_otlp,
};
use crate::pipeline::{FLUSH_TIMEOUT, build_logs, build_trace_records, proto_resource};
use crate::profile::{ExporterKind, LogLevel};
use crate::scrub::OtlpScrubber;
use crate::settings::{CodeSettings, ConfigError, Protocol, Settings, Signal};
// --- spool (issue 9) ---
use crate::spool::{Capture, Spool, SpoolClock, SpoolConfig, SpoolError, SpoolMetrics, SpoolSlot};
use crate::window::Window;
// --- end spool ---
// --- tls (issue 16) ---
use crate::export::{OtlpTls, endpoint_uses_tls};
use crate::tls::{ClientTlsConfig, TlsError};
// --- end tls ---
use opentelemetry::KeyValue;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_sdk::Resource;
use prometheus_client::registry::Registry;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use stellaops_egress_policy::{
    AllOf, EgressGuard, EgressPolicy, SealState, SealedMode, SealedModePolicy,
};
use stellaops_redaction::{RedactionPolicy, Redactor};
use tracing_subscriber::layer::SubscriberExt as _;
// --- sampling (issue 9) ---
use crate::incident::{IncidentController, IncidentEvent};
use crate::sampling::{
    Clock, DEFAULT_HOUSEKEEPING, SamplerStats, SamplingConfig, SamplingConfigError, SystemClock,
    TailSampler,
};
use crate::span_layer::{IdGenerator, SpanLayer, SpanRecord};
use std::sync::atomic::AtomicUsize;

/// The export interval while any tenant is in forensic mode (advisory §7).
pub const FORENSIC_EXPORT_INTERVAL: Duration = Duration::from_secs(10);
// --- end sampling ---

static INITIALIZED: AtomicBool = AtomicBool::new(false);

/// How long the guard waits for each signal to flush when it is dropped.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one OTLP export may take before it counts as failed.
pub const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(10);
/// Name of the instrumentation scope for spans and metrics made by this crate.
pub const SCOPE_NAME: &str = "stellaops-telemetry";

/// Why telemetry could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// `init` was already called in this process.
    #[error(
        "telemetry is already initialised in this process: call init() once, at start-up, and keep its guard"
    )]
    AlreadyInitialized,
    /// A setting from code or the environment was unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Another global tracing subscriber is installed.
    #[error(
        "a global tracing subscriber is already installed: {0}; remove it or use TelemetryBuilder::build"
    )]
    GlobalSubscriber(String),
    // --- sampling (issue 9) ---
    /// The tail sampling configuration is unusable.
    #[error("invalid tail sampling configuration: {0}")]
    Sampling(#[from] SamplingConfigError),
    // --- end sampling ---
    /// An export thread could not be started.
    #[error("starting the {signal} export thread: {source}")]
    Thread {
        /// The signal.
        signal: &'static str,
        /// The operating-system error.
        source: std::io::Error,
    },
    // --- spool (issue 9) ---
    /// The spool could not be opened (world-readable, unwritable, unreadable holds).
    #[error("opening the telemetry spool: {0}")]
    Spool(#[from] SpoolError),
    // --- end spool ---
    // --- tls (issue 16) ---
    /// The TLS settings of a signal's OTLP exporter are unusable (unreadable or invalid PEM,
    /// a client certificate without its key...).
    #[error("TLS for the {signal} OTLP exporter: {source}")]
    Tls {
        /// The signal.
        signal: &'static str,
        /// What was wrong, naming the file and the setting it came from.
        source: TlsError,
    },
    /// A plain-text OTLP endpoint that is not loopback, without the insecure switch.
    #[error(
        "the {signal} OTLP endpoint {endpoint} is plain text (http://) and not loopback: use https:// (see OTEL_EXPORTER_OTLP_CERTIFICATE for a private CA), or allow plain text explicitly with TelemetryBuilder::insecure_plaintext(true) / STELLAOPS_TELEMETRY_OTLP_INSECURE=true"
    )]
    PlaintextEndpoint {
        /// The signal.
        signal: &'static str,
        /// The endpoint.
        endpoint: String,
    },
    // --- end tls ---
}

impl InitError {
    /// A stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            InitError::AlreadyInitialized => "telemetry.init.already_initialized",
            InitError::Config(_) => "telemetry.init.config_invalid",
            InitError::GlobalSubscriber(_) => "telemetry.init.global_subscriber",
            InitError::Thread { .. } => "telemetry.init.thread",
            InitError::Spool(e) => e.code(),
            InitError::Sampling(e) => e.code(),
            // --- tls (issue 16) ---
            InitError::Tls { source, .. } => source.code(),
            InitError::PlaintextEndpoint { .. } => "telemetry.tls.plaintext_refused",
            // --- end tls ---
        }
    }
}

/// Builds telemetry for a service. Settings made here override the environment, which
/// overrides the profile.
#[derive(Default)]
pub struct TelemetryBuilder {
    code: CodeSettings,
    redaction: Option<RedactionPolicy>,
    egress: Option<Arc<dyn EgressPolicy>>,
    sealed_mode: Option<SealedMode>,
    log_sink: Option<LogSink>,
    stdout_logs: Option<bool>,
    clock: Option<LogClock>,
    batch: BatchConfig,
    export_timeout: Option<Duration>,
    // --- spool (issue 9) ---
    spool_config: Option<SpoolConfig>,
    spool_clock: Option<Arc<dyn SpoolClock>>,
    spool_copy: Option<bool>,
    // --- end spool ---
    // --- sampling (issue 9) ---
    sampling: Option<SamplingConfig>,
    trace_sampling_ratio: Option<f64>,
    sampling_clock: Option<Arc<dyn Clock>>,
    // --- end sampling ---
    id_seed: Option<u64>,
}

impl std::fmt::Debug for TelemetryBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelemetryBuilder")
            .field("code", &self.code)
            .finish_non_exhaustive()
    }
}

/// Starts building telemetry for `service_name`.
pub fn builder(service_name: impl Into<String>) -> TelemetryBuilder {
    TelemetryBuilder::default().service_name(service_name)
}

/// Starts telemetry for `service_name` with everything else from the environment and the
/// profile, installing it as the process's global subscriber.
///
/// # Errors
/// [`InitError`] when settings are unusable or telemetry is already initialised.
pub fn init(service_name: impl Into<String>) -> Result<Telemetry, InitError> {
    builder(service_name).init()
}

impl TelemetryBuilder {
    /// `service.name`.
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.code.service_name = Some(name.into());
        self
    }

    /// `service.version`.
    pub fn service_version(mut self, version: impl Into<String>) -> Self {
        self.code.service_version = Some(version.into());
        self
    }

    /// The deployment environment (`prod`, `staging`...).
    pub fn environment(mut self, environment: impl Into<String>) -> Self {
        self.code.environment = Some(environment.into());
        self
    }

    /// The profile: `default`, `forensic` or `airgap`.
    pub fn profile(mut self, name: impl Into<String>) -> Self {
        self.code.profile = Some(name.into());
        self
    }

    /// The OTLP endpoint for every signal (for HTTP, the base: `/v1/<signal>` is appended).
    pub fn otlp_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.code.endpoint = Some(endpoint.into());
        self
    }

    /// The OTLP endpoint of one signal, used as given.
    pub fn signal_endpoint(mut self, signal: Signal, endpoint: impl Into<String>) -> Self {
        self.code.signal_endpoints.insert(signal, endpoint.into());
        self
    }

    /// The OTLP protocol.
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.code.protocol = Some(protocol);
        self
    }

    /// An extra resource attribute.
    pub fn resource_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.code
            .resource_attributes
            .push((key.into(), value.into()));
        self
    }

    /// The log level (overrides the profile's).
    pub fn log_level(mut self, level: LogLevel) -> Self {
        self.code.log_level = Some(level);
        self
    }

    /// How often metrics are exported.
    pub fn export_interval(mut self, interval: Duration) -> Self {
        self.code.export_interval = Some(interval);
        self
    }

    /// Where the file exporter writes (one `<signal>.otlp` file per signal).
    pub fn spool_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.code.spool_dir = Some(dir.into());
        self
    }

    /// Starts sealed (no telemetry leaves the host) or not.
    pub fn sealed(mut self, sealed: bool) -> Self {
        self.code.sealed = Some(sealed);
        self
    }

    /// Shares a sealed-mode switch with the rest of the service (sealing it later re-decides
    /// every exporter before its next export).
    pub fn sealed_mode(mut self, mode: SealedMode) -> Self {
        self.sealed_mode = Some(mode);
        self
    }

    /// The redaction policy (default: block-list with every detector).
    pub fn redaction_policy(mut self, policy: RedactionPolicy) -> Self {
        self.redaction = Some(policy);
        self
    }

    /// An egress policy that every exporter must also pass (sealed mode always applies).
    pub fn egress_policy(mut self, policy: impl EgressPolicy + 'static) -> Self {
        self.egress = Some(Arc::new(policy));
        self
    }

    /// Where JSON log lines go (default: standard output).
    pub fn log_sink(mut self, sink: LogSink) -> Self {
        self.log_sink = Some(sink);
        self
    }

    /// Whether JSON log lines are written at all (default: yes).
    pub fn stdout_logs(mut self, enabled: bool) -> Self {
        self.stdout_logs = Some(enabled);
        self
    }

    /// The time source of log timestamps (tests pass a fixed one).
    pub fn log_clock(mut self, clock: LogClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Queue and batch sizes of the export workers.
    pub fn batch(mut self, batch: BatchConfig) -> Self {
        self.batch = batch;
        self
    }

    /// How long one OTLP export may take.
    pub fn export_timeout(mut self, timeout: Duration) -> Self {
        self.export_timeout = Some(timeout);
        self
    }

    // --- spool (issue 9) ---
    /// The spool's segmenting, retention and size cap (default: [`SpoolConfig::for_profile`]).
    /// Setting it opens the spool at start-up.
    pub fn spool_config(mut self, config: SpoolConfig) -> Self {
        self.spool_config = Some(config);
        self
    }

    /// The clock of every spool time decision (tests pass a manual clock).
    pub fn spool_clock(mut self, clock: impl SpoolClock + 'static) -> Self {
        self.spool_clock = Some(Arc::new(clock));
        self
    }

    /// Whether the spool also keeps what an OTLP collector accepted (default: the profile's,
    /// on in `forensic` and `airgap`).
    pub fn spool_copy(mut self, enabled: bool) -> Self {
        self.spool_copy = Some(enabled);
        self
    }
    // --- end spool ---

    // --- sampling (issue 9) ---
    /// The ratio of ordinary traces the tail sampler keeps (overrides the profile, the
    /// environment and [`Self::sampling`]); tests that expect every span use `1.0`.
    pub fn trace_sampling_ratio(mut self, ratio: f64) -> Self {
        self.trace_sampling_ratio = Some(ratio);
        self
    }

    /// The whole tail sampling configuration (default: [`SamplingConfig::default`] with the
    /// profile's ratio and slow threshold).
    pub fn sampling(mut self, config: SamplingConfig) -> Self {
        self.sampling = Some(config);
        self
    }

    /// The clock of the tail sampler and the incident controller (tests pass a manual one).
    pub fn sampling_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.sampling_clock = Some(clock);
        self
    }
    // --- end sampling ---

    /// Seeds the trace and span id generator, so a test's ids are the same on every run
    /// (default: seeded from the operating system's randomness). Ids stay unique within the
    /// process either way.
    pub fn id_seed(mut self, seed: u64) -> Self {
        self.id_seed = Some(seed);
        self
    }

    // --- tls (issue 16) ---
    /// TLS for every signal's `https://` OTLP endpoint: CA bundle, client certificate (mTLS),
    /// server name. Fields left unset fall back to `OTEL_EXPORTER_OTLP_[<SIGNAL>_]CERTIFICATE`,
    /// `..._CLIENT_CERTIFICATE` and `..._CLIENT_KEY`.
    pub fn tls(mut self, tls: ClientTlsConfig) -> Self {
        self.code.tls = Some(tls);
        self
    }

    /// TLS for one signal's exporter; unset fields fall back to [`TelemetryBuilder::tls`],
    /// then to the environment.
    pub fn signal_tls(mut self, signal: Signal, tls: ClientTlsConfig) -> Self {
        self.code.signal_tls.insert(signal, tls);
        self
    }

    /// Allows plain-text `http://` OTLP endpoints that are not loopback (one warning is
    /// logged at start). Without it such an endpoint fails `init`. Loopback endpoints may
    /// always be plain text.
    pub fn insecure_plaintext(mut self, allowed: bool) -> Self {
        self.code.insecure_plaintext = Some(allowed);
        self
    }
    // --- end tls ---

    /// Starts telemetry and installs it as the global subscriber.
    ///
    /// # Errors
    /// [`InitError::AlreadyInitialized`] on a second call in one process, and the errors of
    /// [`TelemetryBuilder::build`].
    pub fn init(self) -> Result<Telemetry, InitError> {
        if INITIALIZED.swap(true, Ordering::SeqCst) {
            return Err(InitError::AlreadyInitialized);
        }
        let (telemetry, dispatch) = match self.build() {
            Ok(built) => built,
            Err(e) => {
                INITIALIZED.store(false, Ordering::SeqCst);
                return Err(e);
            }
        };
        tracing::dispatcher::set_global_default(dispatch)
            .map_err(|e| InitError::GlobalSubscriber(e.to_string()))?;
        Ok(telemetry)
    }

    /// Starts telemetry without installing it: returns the guard and a dispatcher to use with
    /// `tracing::dispatcher::with_default` (tests, or services that compose subscribers).
    ///
    /// # Errors
    /// [`InitError::Config`] when settings are unusable; [`InitError::Sampling`] when the
    /// tail sampling configuration is; [`InitError::Thread`] when an export thread cannot
    /// start; [`InitError::Spool`] when the spool must open and cannot.
    pub fn build(self) -> Result<(Telemetry, tracing::Dispatch), InitError> {
        let settings = Settings::resolve(&self.code)?;
        // --- sampling (issue 9) ---
        // Checked before any thread starts.
        let mut sampling = self.sampling.clone().unwrap_or_else(|| SamplingConfig {
            ratio: settings.profile.trace_sampling_ratio,
            slow_threshold: settings.profile.slow_trace_threshold,
            ..SamplingConfig::default()
        });
        if let Some(ratio) = self.trace_sampling_ratio {
            sampling.ratio = ratio;
        }
        sampling.validate()?;
        // --- end sampling ---
        let sealed = self.sealed_mode.clone().unwrap_or_else(|| {
            SealedMode::new(if settings.sealed {
                SealState::Sealed
            } else {
                SealState::Unsealed
            })
        });
        let mut policy = AllOf::new().with(SealedModePolicy::new(sealed.clone()));
        if let Some(extra) = &self.egress {
            policy = policy.with_shared(extra.clone());
        }
        let guard = Arc::new(EgressGuard::new(policy));
        let redactor = Arc::new(Redactor::new(self.redaction.clone().unwrap_or_default()));

        let catalogue = Arc::new(MetricCatalogue::default());
        let mut registry = Registry::default();
        catalogue.register(&mut registry);
        guard.metrics().register(&mut registry);
        let registry = Arc::new(Mutex::new(registry));

        let resource = resource(&settings);
        let attrs = ResourceAttributesWithSchema::from(&resource);
        let scrubber = OtlpScrubber::new(redactor.clone(), catalogue.scrub_events().clone());
        let timeout = self.export_timeout.unwrap_or(DEFAULT_EXPORT_TIMEOUT);
        // --- spool (issue 9) ---
        let spool_metrics = SpoolMetrics::default();
        spool_metrics.register(&mut registry.lock().unwrap_or_else(PoisonError::into_inner));
        let spool_copy = self.spool_copy.unwrap_or(settings.profile.spool_copy);
        let spool = SpoolSlot::new(
            settings.spool_dir.clone(),
            self.spool_config
                .clone()
                .unwrap_or_else(|| SpoolConfig::for_profile(&settings.profile)),
            self.spool_clock
                .clone()
                .unwrap_or_else(|| Arc::new(crate::spool::SystemClock)),
            spool_metrics,
        );
        // Opened now when it is sure to be used; otherwise on the first fallback write.
        let some_signal_without_collector = [Signal::Traces, Signal::Metrics, Signal::Logs]
            .iter()
            .any(|signal| !settings.otlp.contains_key(signal));
        if settings.profile.exporter == ExporterKind::File
            || some_signal_without_collector
            || spool_copy
            || self.spool_config.is_some()
        {
            spool.get_or_open()?;
        }
        // --- end spool ---
        // --- tls (issue 16) ---
        let (otlp_tls, plaintext_allowed) = transport_security(&settings)?;
        // --- end tls ---
        let destination = |signal: Signal| {
            let target = match settings.profile.exporter {
                ExporterKind::Otlp => settings.otlp.get(&signal).cloned(),
                ExporterKind::File => None,
            };
            Destination::new(
                signal,
                target,
                guard.clone(),
                Some(sealed.clone()),
                &settings.spool_dir,
                catalogue.clone(),
                timeout,
            )
            // --- spool (issue 9) ---
            .with_spool(spool.clone(), spool_copy)
            // --- end spool ---
            // --- tls (issue 16) ---
            .with_tls(otlp_tls.get(&signal).cloned())
            // --- end tls ---
        };
        let batch_interval = batch_interval(settings.profile.export_interval);
        let thread_err = |signal: &'static str| move |source| InitError::Thread { signal, source };

        let traces = Arc::new(
            ExportWorker::spawn(
                "traces",
                self.batch,
                batch_interval,
                catalogue.export_dropped("traces"),
                Box::new(build_trace_records(
                    &ResourceAttributesWithSchema::from(&resource),
                    scrubber.clone(),
                )),
                destination(Signal::Traces),
            )
            .map_err(thread_err("traces"))?,
        );
        let logs = Arc::new(
            ExportWorker::spawn(
                "logs",
                self.batch,
                batch_interval,
                catalogue.export_dropped("logs"),
                Box::new(build_logs(
                    &ResourceAttributesWithSchema::from(&resource),
                    scrubber,
                )),
                destination(Signal::Logs),
            )
            .map_err(thread_err("logs"))?,
        );
        let start = unix_nanos(SystemTime::now());
        let metric_registry = registry.clone();
        let metric_resource = proto_resource(&attrs);
        let build_metrics = move |_: Vec<()>, tick: bool| -> Option<ExportRequest> {
            if !tick {
                return None;
            }
            let text = encode_openmetrics(
                &metric_registry
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner),
            )
            .ok()?;
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
                self.batch,
                settings.profile.export_interval,
                catalogue.export_dropped("metrics"),
                Box::new(build_metrics),
                destination(Signal::Metrics),
            )
            .map_err(thread_err("metrics"))?,
        );

        // --- sampling (issue 9) ---
        let sampling_clock: Arc<dyn Clock> = self
            .sampling_clock
            .clone()
            .unwrap_or_else(|| Arc::new(SystemClock));
        let incidents = IncidentController::with_metrics(sampling_clock.clone(), &catalogue);
        let export_interval = Arc::new(std::sync::atomic::AtomicU64::new(millis(
            settings.profile.export_interval,
        )));
        let sampler = Arc::new(
            TailSampler::new(sampling, sampling_clock.clone())?
                .with_forensic(Arc::new(incidents.clone()))
                .with_metrics(&catalogue),
        );
        {
            // Export every 10 s while any incident is active; restore when the last ends.
            let active = AtomicUsize::new(0);
            let workers = (traces.clone(), logs.clone(), metrics.clone());
            let current = export_interval.clone();
            let base = settings.profile.export_interval;
            incidents.observe(Box::new(move |event: &IncidentEvent| {
                let before = match event {
                    IncidentEvent::Activated { .. } => active.fetch_add(1, Ordering::SeqCst),
                    IncidentEvent::Stopped { .. } | IncidentEvent::Expired { .. } => active
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                            Some(n.saturating_sub(1))
                        })
                        .unwrap_or(0),
                    IncidentEvent::Extended { .. } => return,
                };
                let now = active.load(Ordering::SeqCst);
                let interval = match (before, now) {
                    (0, 1..) => base.min(FORENSIC_EXPORT_INTERVAL),
                    (1.., 0) => base,
                    _ => return,
                };
                current.store(millis(interval), Ordering::SeqCst);
                workers.2.set_interval(interval);
                workers.0.set_interval(self::batch_interval(interval));
                workers.1.set_interval(self::batch_interval(interval));
            }));
        }
        // --- incident holds (issue 9) ---
        {
            // Spool segments that overlap an incident keep the forensic retention (180 days
            // from their end): every activation or extension becomes a persisted hold.
            let holds = spool.clone();
            incidents.observe(Box::new(move |event: &IncidentEvent| {
                if !matches!(
                    event,
                    IncidentEvent::Activated { .. } | IncidentEvent::Extended { .. }
                ) {
                    return;
                }
                // Opens the spool when nothing has written to it yet, so the hold is on
                // disk before the incident's data arrives.
                let held = holds.get_or_open().and_then(|spool| {
                    spool.add_hold(event.tenant(), event.started_at(), event.ends_at())
                });
                if let Err(e) = held {
                    tracing::warn!(
                        target: "stellaops_telemetry::incident",
                        tenant = event.tenant(),
                        code = e.code(),
                        "telemetry.incident.hold_failed: {e}"
                    );
                }
            }));
        }
        // --- end incident holds ---
        let tick_incidents = incidents.clone();
        // The housekeeping thread expires incidents; their audit events go to the service's
        // subscriber (a weak handle: the subscriber owns this processor).
        let tick_dispatch: Arc<std::sync::OnceLock<tracing::dispatcher::WeakDispatch>> =
            Arc::default();
        let tick_target = tick_dispatch.clone();
        let span_layer = SpanLayer::new(
            sampler.clone(),
            traces.clone(),
            sampling_clock.clone(),
            self.id_seed
                .map_or_else(IdGenerator::random, IdGenerator::seeded),
        )
        .with_incidents(incidents.clone());
        span_layer
            .start_housekeeping(
                DEFAULT_HOUSEKEEPING,
                Some(Arc::new(move || {
                    if !tick_incidents.any_active() {
                        return;
                    }
                    match tick_target.get().and_then(|d| d.upgrade()) {
                        Some(d) => tracing::dispatcher::with_default(&d, || {
                            tick_incidents.expire_due();
                        }),
                        None => {
                            tick_incidents.expire_due();
                        }
                    }
                })),
            )
            .map_err(thread_err("sampler"))?;
        // --- end sampling ---
        let level = DynamicLevel::new(settings.profile.log_level).with_incidents(incidents.clone()); // sampling (issue 9)
        // --- log layer (issue 14) ---
        // One layer per event: level check, one redaction, the JSON line, one compact record
        // for the logs worker.
        let mut log_layer = LogLayer::new(
            &settings.service_name,
            redactor.clone(),
            level.clone(),
            logs.clone(),
        )
        .with_incidents(incidents.clone());
        if self.stdout_logs.unwrap_or(true) {
            let sink = self
                .log_sink
                .clone()
                .unwrap_or_else(crate::logging::stdout_sink);
            log_layer = log_layer.with_stdout(sink, self.clock.clone());
        }
        // The layer captures events; the processor redacts them and writes lines and records
        // in batches, on its own thread (warnings and errors at once).
        let (log_layer, log_processor) = log_layer.into_parts();
        log_processor.start().map_err(thread_err("logs"))?;
        // --- end log layer ---
        // The log layer is also the level filter of the whole subscriber (its `enabled`), so
        // spans and events are filtered once, without per-layer filter state.
        let subscriber = tracing_subscriber::registry()
            .with(log_layer)
            .with(span_layer.clone());

        let dispatch = tracing::Dispatch::new(subscriber);
        let _ = tick_dispatch.set(dispatch.downgrade()); // sampling (issue 9)
        // --- tls (issue 16) ---
        if !plaintext_allowed.is_empty() {
            tracing::dispatcher::with_default(&dispatch, || {
                tracing::warn!(
                    endpoints = %plaintext_allowed.join(", "),
                    remediation = "use https:// endpoints; plain text is allowed only because the insecure switch is on (TelemetryBuilder::insecure_plaintext / STELLAOPS_TELEMETRY_OTLP_INSECURE)",
                    "OTLP export to non-loopback endpoints in plain text (insecure)"
                );
            });
        }
        // --- end tls ---
        for attach in [&traces as &dyn Attach, &logs, &metrics] {
            attach.attach_dispatch(dispatch.clone());
        }
        let telemetry = Telemetry {
            settings,
            registry,
            catalogue,
            level,
            sealed,
            egress: guard,
            redactor,
            span_layer,
            log_processor,
            workers: Workers {
                traces,
                logs,
                metrics,
            },
            shut_down: AtomicBool::new(false),
            // --- spool (issue 9) ---
            spool,
            // --- end spool ---
            // --- sampling (issue 9) ---
            incidents,
            sampler,
            export_interval,
            // --- end sampling ---
        };
        Ok((telemetry, dispatch))
    }
}

// --- tls (issue 16) ---
/// Checks every OTLP endpoint in use: builds the TLS of `https://` ones (reading the PEM
/// files now, so a bad file fails start-up) and refuses plain text to a non-loopback host
/// unless the insecure switch is on. Returns the TLS per signal and the plain-text endpoints
/// that the switch allowed (to warn about).
fn transport_security(
    settings: &Settings,
) -> Result<(std::collections::BTreeMap<Signal, OtlpTls>, Vec<String>), InitError> {
    use stellaops_egress_policy::{Endpoint, EndpointClass, Scheme};
    let mut tls = std::collections::BTreeMap::new();
    let mut allowed_plaintext = Vec::new();
    if settings.profile.exporter != ExporterKind::Otlp {
        return Ok((tls, allowed_plaintext));
    }
    for (signal, target) in &settings.otlp {
        if endpoint_uses_tls(&target.endpoint) {
            let config = settings.tls.get(signal).cloned().unwrap_or_default();
            let built =
                OtlpTls::build(&config, target.protocol).map_err(|source| InitError::Tls {
                    signal: signal.as_str(),
                    source,
                })?;
            tls.insert(*signal, built);
            continue;
        }
        let endpoint = Endpoint::parse(&target.endpoint);
        if endpoint.scheme() == Some(Scheme::Http) && endpoint.class() != EndpointClass::Loopback {
            if !settings.insecure_plaintext {
                return Err(InitError::PlaintextEndpoint {
                    signal: signal.as_str(),
                    endpoint: target.endpoint.clone(),
                });
            }
            if !allowed_plaintext.contains(&target.endpoint) {
                allowed_plaintext.push(target.endpoint.clone());
            }
        }
    }
    Ok((tls, allowed_plaintext))
}
// --- end tls ---

/// Any export worker, whatever it carries.
trait Attach {
    fn attach_dispatch(&self, dispatch: tracing::Dispatch);
}

impl<T: Send + 'static> Attach for Arc<ExportWorker<T>> {
    fn attach_dispatch(&self, dispatch: tracing::Dispatch) {
        self.attach(dispatch);
    }
}

/// Spans and logs are exported at least every 120th of the metrics export interval, between
/// 250 ms and 1 s (500 ms by default, 250 ms in forensic mode), and sooner whenever a full
/// batch is waiting: a log line reaches the collector well within the advisory's 5 s even
/// when the service is quiet (see the ingestion benchmark in docs/benchmarks.md).
fn batch_interval(export_interval: Duration) -> Duration {
    (export_interval / 120).clamp(Duration::from_millis(250), Duration::from_secs(1))
}

// --- sampling (issue 9) ---
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
// --- end sampling ---

fn unix_nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn resource(settings: &Settings) -> Resource {
    let mut attributes: Vec<KeyValue> = settings
        .resource_attributes
        .iter()
        .filter(|(k, _)| k != "service.name")
        .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
        .collect();
    if let Some(v) = &settings.service_version {
        attributes.retain(|kv| kv.key.as_str() != "service.version");
        attributes.push(KeyValue::new("service.version", v.clone()));
    }
    if let Some(e) = &settings.environment {
        attributes.retain(|kv| kv.key.as_str() != "deployment.environment.name");
        attributes.push(KeyValue::new("deployment.environment.name", e.clone()));
    }
    Resource::builder_empty()
        .with_service_name(settings.service_name.clone())
        .with_attributes(attributes)
        .build()
}

// --- spool (issue 9) ---
/// `sha256:<hex>` of the canonical JSON of the policy file.
fn redaction_policy_digest(policy: &RedactionPolicy) -> Option<String> {
    let value = serde_json::to_value(policy.to_file()).ok()?;
    let bytes = stellaops_dsse::canonical_json::to_canonical_json(&value).ok()?;
    Some(stellaops_bundle_format::manifest::sha256_digest(&bytes))
}
// --- end spool ---

#[derive(Debug)]
struct Workers {
    traces: Arc<ExportWorker<SpanRecord>>,
    logs: Arc<ExportWorker<crate::logging::record::LogEntry>>,
    metrics: Arc<ExportWorker<()>>,
}

/// Running telemetry. Keep it for the life of the service: dropping it flushes every signal
/// and stops the export threads (bounded by [`DEFAULT_SHUTDOWN_TIMEOUT`] per signal).
pub struct Telemetry {
    settings: Settings,
    registry: Arc<Mutex<Registry>>,
    catalogue: Arc<MetricCatalogue>,
    level: DynamicLevel,
    sealed: SealedMode,
    egress: Arc<EgressGuard>,
    redactor: Arc<Redactor>,
    span_layer: SpanLayer,
    log_processor: LogProcessor,
    workers: Workers,
    shut_down: AtomicBool,
    // --- spool (issue 9) ---
    spool: SpoolSlot,
    // --- end spool ---
    // --- sampling (issue 9) ---
    incidents: IncidentController,
    sampler: Arc<TailSampler<SpanRecord>>,
    /// The metrics export interval in force, in milliseconds.
    export_interval: Arc<std::sync::atomic::AtomicU64>,
    // --- end sampling ---
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Telemetry {
    /// The resolved settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The metric catalogue: record standard and module metrics through it.
    pub fn metrics(&self) -> &MetricCatalogue {
        &self.catalogue
    }

    /// A shared handle to the catalogue.
    pub fn metrics_handle(&self) -> Arc<MetricCatalogue> {
        self.catalogue.clone()
    }

    /// Registers more metrics (a module's own, DORA metrics...) into the same registry, so
    /// they appear on `/metrics` and in OTLP pushes.
    pub fn register_metrics(&self, register: impl FnOnce(&mut Registry)) {
        register(&mut self.registry.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// `/metrics` in the Prometheus text format 0.0.4.
    pub fn render_prometheus(&self) -> String {
        encode_prometheus_text(&self.registry.lock().unwrap_or_else(PoisonError::into_inner))
            .unwrap_or_default()
    }

    /// `/metrics` in OpenMetrics text.
    pub fn render_openmetrics(&self) -> String {
        encode_openmetrics(&self.registry.lock().unwrap_or_else(PoisonError::into_inner))
            .unwrap_or_default()
    }

    /// The run-time log level switch.
    pub fn log_level(&self) -> &DynamicLevel {
        &self.level
    }

    /// The sealed-mode switch (seal to stop all egress before the next export).
    pub fn sealed_mode(&self) -> &SealedMode {
        &self.sealed
    }

    /// The egress guard every exporter passes.
    pub fn egress(&self) -> &EgressGuard {
        &self.egress
    }

    /// The redactor every signal passes.
    pub fn redactor(&self) -> &Arc<Redactor> {
        &self.redactor
    }

    /// Changes how often metrics are exported (spans and logs follow at a 120th, 250 ms–1 s).
    pub fn set_export_interval(&self, interval: Duration) {
        self.export_interval
            .store(millis(interval), Ordering::SeqCst); // sampling (issue 9)
        self.workers.metrics.set_interval(interval);
        self.workers.traces.set_interval(batch_interval(interval));
        self.workers.logs.set_interval(batch_interval(interval));
    }

    // --- spool (issue 9) ---
    /// The spool, when it is open (file exporter, spool copy, an explicit spool config, or
    /// after a collector failure made an export fall back to it).
    pub fn spool(&self) -> Option<&Spool> {
        self.spool.get()
    }

    /// A capture of `window` from the spool with this service's profile, the digest of its
    /// redaction policy and `telemetry_bundle_generation_seconds`; add a tenant, signers and
    /// config files, then write it. Without a spool, writing fails with
    /// `telemetry.capture.no_spool`. Call [`flush`](Self::flush) first to include what is
    /// still queued.
    pub fn capture(&self, window: Window) -> Capture {
        let mut capture = Capture::from_parts(self.spool.get().cloned(), window)
            .profile(self.settings.profile.name)
            .generation_metric(self.catalogue.bundle_generation());
        if let Some(digest) = redaction_policy_digest(self.redactor.policy()) {
            capture = capture.redaction_policy_digest(digest);
        }
        capture
    }
    // --- end spool ---

    // --- sampling (issue 9) ---
    /// The per-tenant forensic (incident) mode switch. Starting an incident keeps 100% of
    /// the tenant's traces, lets its debug events through, tags its log lines
    /// `incident=true` and exports every 10 s until the last incident ends.
    pub fn incidents(&self) -> &IncidentController {
        &self.incidents
    }

    /// The metrics export interval in force (the profile's, [`FORENSIC_EXPORT_INTERVAL`]
    /// while an incident is active, or the last [`Self::set_export_interval`]).
    pub fn export_interval(&self) -> Duration {
        Duration::from_millis(self.export_interval.load(Ordering::SeqCst))
    }

    /// The tail sampler's counters and occupancy.
    pub fn sampler_stats(&self) -> SamplerStats {
        self.span_layer.deliver_pending();
        self.sampler.stats()
    }
    // --- end sampling ---

    /// Exports everything recorded so far. Returns whether every signal finished in time.
    pub fn flush(&self) -> bool {
        let spans = self.span_layer.flush(FLUSH_TIMEOUT);
        self.log_processor.flush();
        let logs = self.workers.logs.flush(FLUSH_TIMEOUT);
        let metrics = self.workers.metrics.flush(FLUSH_TIMEOUT);
        spans && logs && metrics
    }

    /// Flushes and stops every signal, waiting at most `timeout` per signal. Called by drop;
    /// calling it earlier makes drop a no-op. Returns whether everything finished in time.
    pub fn shutdown(&self, timeout: Duration) -> bool {
        if self.shut_down.swap(true, Ordering::SeqCst) {
            return true;
        }
        let spans = self.span_layer.shutdown(timeout);
        self.log_processor.shutdown();
        let logs = self.workers.logs.shutdown(timeout);
        let metrics = self.workers.metrics.shutdown(timeout);
        // --- spool (issue 9) ---
        // A clean stop leaves sealed segments (a crash leaves `.open` ones, recovered at start).
        let spool = self.spool.get().is_none_or(|s| s.seal_all().is_ok());
        // --- end spool ---
        spans && logs && metrics && spool
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        self.shutdown(DEFAULT_SHUTDOWN_TIMEOUT);
    }
}

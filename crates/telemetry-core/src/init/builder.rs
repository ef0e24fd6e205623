//! The builder API ([`TelemetryBuilder`], [`builder`], [`init`]) and the order of the
//! start-up stages: settings and the sampling configuration, what every signal shares, the
//! spool, transport security, the export workers, the span path, the log path, and the
//! subscriber that joins them.
//!
//! Not the stages themselves (their own files) nor the running handle (`telemetry`).

use super::defaults::DEFAULT_EXPORT_TIMEOUT;
use super::error::InitError;
use super::export_workers::ExportWorkers;
use super::log_path::{LogPath, StdoutLogs};
use super::shared::Shared;
use super::span_path::{SpanPath, sampling_config};
use super::spool_slot::SpoolSetup;
use super::telemetry::Telemetry;
use super::transport::{transport_security, warn_plaintext};
use crate::export::BatchConfig;
use crate::logging::LogSink;
use crate::profile::LogLevel;
use crate::sampling::{Clock, SamplingConfig, SystemClock};
use crate::settings::{CodeSettings, Protocol, Settings, Signal};
use crate::spool::SpoolConfig;
use crate::tls::ClientTlsConfig;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use stellaops_egress_policy::{EgressPolicy, SealedMode};
use stellaops_redaction::RedactionPolicy;
use tracing_subscriber::layer::SubscriberExt as _;

static INITIALIZED: AtomicBool = AtomicBool::new(false);

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
    clock: Option<Arc<dyn Clock>>,
    batch: BatchConfig,
    export_timeout: Option<Duration>,
    spool_config: Option<SpoolConfig>,
    spool_copy: Option<bool>,
    sampling: Option<SamplingConfig>,
    trace_sampling_ratio: Option<f64>,
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

    /// The one clock of the whole pipeline: log timestamps, every spool time decision
    /// (sealing, retention, stamping), the tail sampler and the incident controller (default:
    /// the system clock). Tests and reproducible runs pass a
    /// [`ManualClock`](crate::sampling::ManualClock), keeping a clone to move it.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// [`Self::clock`] for a clock that is already shared.
    pub fn shared_clock(mut self, clock: Arc<dyn Clock>) -> Self {
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

    /// The spool's segmenting, retention and size cap (default: [`SpoolConfig::for_profile`]).
    /// Setting it opens the spool at start-up.
    pub fn spool_config(mut self, config: SpoolConfig) -> Self {
        self.spool_config = Some(config);
        self
    }

    /// Whether the spool also keeps what an OTLP collector accepted (default: the profile's,
    /// on in `forensic` and `airgap`).
    pub fn spool_copy(mut self, enabled: bool) -> Self {
        self.spool_copy = Some(enabled);
        self
    }

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

    /// Seeds the trace and span id generator, so a test's ids are the same on every run
    /// (default: seeded from the operating system's randomness). Ids stay unique within the
    /// process either way.
    pub fn id_seed(mut self, seed: u64) -> Self {
        self.id_seed = Some(seed);
        self
    }

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
        let Self {
            code,
            redaction,
            egress,
            sealed_mode,
            log_sink,
            stdout_logs,
            clock,
            batch,
            export_timeout,
            spool_config,
            spool_copy,
            sampling,
            trace_sampling_ratio,
            id_seed,
        } = self;
        // The spool and the span path always read a clock; the log path keeps `None` so that
        // without an injected clock it reads the system time directly.
        let shared_clock: Arc<dyn Clock> = clock.clone().unwrap_or_else(|| Arc::new(SystemClock));
        let settings = Settings::resolve(&code)?;
        // Checked before any thread starts.
        let sampling = sampling_config(&settings, sampling, trace_sampling_ratio)?;
        let shared = Shared::new(&settings, sealed_mode, egress.as_ref(), redaction);
        let timeout = export_timeout.unwrap_or(DEFAULT_EXPORT_TIMEOUT);
        let spool = SpoolSetup::open(
            &settings,
            &shared.registry,
            spool_config,
            shared_clock.clone(),
            spool_copy,
        )?;
        let (otlp_tls, plaintext_allowed) = transport_security(&settings)?;
        let workers = ExportWorkers::spawn(&settings, &shared, &spool, &otlp_tls, batch, timeout)?;
        let spans = SpanPath::start(
            &settings,
            sampling,
            shared_clock,
            id_seed,
            &shared.catalogue,
            &workers,
            &spool.slot,
        )?;
        let logs = LogPath::start(
            &settings,
            &shared.redactor,
            &spans.incidents,
            &workers.logs,
            StdoutLogs {
                enabled: stdout_logs,
                sink: log_sink,
            },
            clock,
        )?;
        // The log layer is also the level filter of the whole subscriber (its `enabled`), so
        // spans and events are filtered once, without per-layer filter state.
        let subscriber = tracing_subscriber::registry()
            .with(logs.layer)
            .with(spans.span_layer.clone());

        let dispatch = tracing::Dispatch::new(subscriber);
        let _ = spans.tick_dispatch.set(dispatch.downgrade());
        warn_plaintext(&dispatch, &plaintext_allowed);
        workers.attach_dispatch(&dispatch);
        let telemetry = Telemetry {
            settings,
            registry: shared.registry,
            catalogue: shared.catalogue,
            level: logs.level,
            sealed: shared.sealed,
            egress: shared.guard,
            redactor: shared.redactor,
            span_layer: spans.span_layer,
            log_processor: logs.processor,
            workers,
            shut_down: AtomicBool::new(false),
            spool: spool.slot,
            incidents: spans.incidents,
            sampler: spans.sampler,
            export_interval: spans.export_interval,
        };
        Ok((telemetry, dispatch))
    }
}

//! Why telemetry could not start ([`InitError`], with a stable code per case).
//!
//! Not the errors of running telemetry: exporters report through metrics and warnings.

use crate::sampling::SamplingConfigError;
use crate::settings::ConfigError;
use crate::spool::SpoolError;
use crate::tls::TlsError;

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
    /// The tail sampling configuration is unusable.
    #[error("invalid tail sampling configuration: {0}")]
    Sampling(#[from] SamplingConfigError),
    /// An export thread could not be started.
    #[error("starting the {signal} export thread: {source}")]
    Thread {
        /// The signal.
        signal: &'static str,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// The spool could not be opened (world-readable, unwritable, unreadable holds).
    #[error("opening the telemetry spool: {0}")]
    Spool(#[from] SpoolError),
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
            InitError::Tls { source, .. } => source.code(),
            InitError::PlaintextEndpoint { .. } => "telemetry.tls.plaintext_refused",
        }
    }
}

/// Maps the operating system's refusal of a thread for `signal` to [`InitError::Thread`].
pub(super) fn thread_error(signal: &'static str) -> impl FnOnce(std::io::Error) -> InitError {
    move |source| InitError::Thread { signal, source }
}

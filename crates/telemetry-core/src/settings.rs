//! Resolved settings: what code set wins over the environment (`OTEL_*`,
//! `STELLAOPS_TELEMETRY_*`), which wins over the profile.
//!
//! Not the place where exporters are built or decided: `init` does that with these values.

use crate::profile::{LogLevel, Profile};
use crate::tls::{ClientTlsConfig, PemSource};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// OTLP wire protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// OTLP over gRPC (default port 4317).
    Grpc,
    /// OTLP over HTTP with protobuf bodies (default port 4318).
    HttpProtobuf,
}

impl Protocol {
    fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "grpc" => Some(Protocol::Grpc),
            "http/protobuf" => Some(Protocol::HttpProtobuf),
            _ => None,
        }
    }
}

pub use stellaops_egress_policy::Signal;

fn env_infix(signal: Signal) -> &'static str {
    match signal {
        Signal::Traces => "TRACES",
        Signal::Metrics => "METRICS",
        Signal::Logs => "LOGS",
    }
}

/// Where and how one signal is exported over OTLP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtlpTarget {
    /// The full endpoint URL (for HTTP, including `/v1/<signal>`).
    pub endpoint: String,
    /// The protocol.
    pub protocol: Protocol,
}

/// A configuration value that could not be used, naming where it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// An environment variable held something unusable.
    #[error("environment variable {var}={value:?}: expected {expected}")]
    InvalidEnv {
        /// The variable.
        var: String,
        /// What it held.
        value: String,
        /// What would have been accepted.
        expected: &'static str,
    },
    /// A value set in code was unusable.
    #[error("{field}: expected {expected}, found {value:?}")]
    InvalidValue {
        /// The builder setting.
        field: &'static str,
        /// What it held.
        value: String,
        /// What would have been accepted.
        expected: &'static str,
    },
}

/// Values set in code (each `None` falls through to the environment, then the profile).
#[derive(Debug, Clone, Default)]
pub struct CodeSettings {
    /// Service name.
    pub service_name: Option<String>,
    /// Service version.
    pub service_version: Option<String>,
    /// Deployment environment (`prod`, `staging`...).
    pub environment: Option<String>,
    /// Profile name.
    pub profile: Option<String>,
    /// Base OTLP endpoint for every signal.
    pub endpoint: Option<String>,
    /// Per-signal OTLP endpoints (used as given).
    pub signal_endpoints: BTreeMap<Signal, String>,
    /// OTLP protocol.
    pub protocol: Option<Protocol>,
    /// Extra resource attributes.
    pub resource_attributes: Vec<(String, String)>,
    /// Log level.
    pub log_level: Option<LogLevel>,
    /// Export interval.
    pub export_interval: Option<Duration>,
    /// Spool directory.
    pub spool_dir: Option<PathBuf>,
    /// Sealed mode at start.
    pub sealed: Option<bool>,
    /// TLS for every signal's OTLP exporter (unset fields fall back to the environment).
    pub tls: Option<ClientTlsConfig>,
    /// Per-signal TLS (unset fields fall back to `tls`, then to the environment).
    pub signal_tls: BTreeMap<Signal, ClientTlsConfig>,
    /// Whether plain-text `http://` OTLP endpoints that are not loopback are allowed.
    pub insecure_plaintext: Option<bool>,
}

/// Everything `init` needs, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `service.name`.
    pub service_name: String,
    /// `service.version`.
    pub service_version: Option<String>,
    /// `deployment.environment.name`.
    pub environment: Option<String>,
    /// The profile, with its values overridden where code or environment said so.
    pub profile: Profile,
    /// OTLP target per signal, if any endpoint was configured.
    pub otlp: BTreeMap<Signal, OtlpTarget>,
    /// Resource attributes from the environment and code (code wins per key).
    pub resource_attributes: Vec<(String, String)>,
    /// The spool directory (file exporter).
    pub spool_dir: PathBuf,
    /// Sealed mode at start.
    pub sealed: bool,
    /// TLS per signal for `https://` endpoints (code over environment, per-signal over
    /// generic, field by field); a signal without an entry uses the defaults.
    pub tls: BTreeMap<Signal, ClientTlsConfig>,
    /// Whether plain-text `http://` OTLP endpoints that are not loopback are allowed
    /// (`STELLAOPS_TELEMETRY_OTLP_INSECURE`).
    pub insecure_plaintext: bool,
}

/// Default service name when neither code nor `OTEL_SERVICE_NAME` names one.
pub const DEFAULT_SERVICE_NAME: &str = "unknown_service";
/// Default spool directory.
pub const DEFAULT_SPOOL_DIR: &str = "./logs/telemetry-spool";

impl Settings {
    /// Resolves code values over the process environment over the profile.
    ///
    /// # Errors
    /// [`ConfigError`] naming the variable or setting that is unusable.
    pub fn resolve(code: &CodeSettings) -> Result<Self, ConfigError> {
        Self::resolve_with(code, |k| std::env::var(k).ok())
    }

    /// Resolves with an explicit environment lookup (tests pass a map).
    ///
    /// # Errors
    /// [`ConfigError`] naming the variable or setting that is unusable.
    pub fn resolve_with(
        code: &CodeSettings,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let env = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        let invalid = |var: &str, value: String, expected: &'static str| ConfigError::InvalidEnv {
            var: var.to_owned(),
            value,
            expected,
        };

        let profile_name = code
            .profile
            .clone()
            .or_else(|| env("STELLAOPS_TELEMETRY_PROFILE"));
        let mut profile = match profile_name {
            None => Profile::default_profile(),
            Some(name) => Profile::by_name(&name).ok_or_else(|| match code.profile {
                Some(_) => ConfigError::InvalidValue {
                    field: "profile",
                    value: name.clone(),
                    expected: "default, forensic or airgap",
                },
                None => invalid(
                    "STELLAOPS_TELEMETRY_PROFILE",
                    name.clone(),
                    "default, forensic or airgap",
                ),
            })?,
        };

        if let Some(level) = code.log_level {
            profile.log_level = level;
        } else if let Some(v) = env("STELLAOPS_TELEMETRY_LOG_LEVEL") {
            profile.log_level = LogLevel::parse(&v).ok_or_else(|| {
                invalid(
                    "STELLAOPS_TELEMETRY_LOG_LEVEL",
                    v,
                    "error, warn, info, debug or trace",
                )
            })?;
        }
        if let Some(interval) = code.export_interval {
            profile.export_interval = interval;
        } else if let Some(v) = env("OTEL_METRIC_EXPORT_INTERVAL") {
            let ms: u64 = v.trim().parse().ok().filter(|ms| *ms > 0).ok_or_else(|| {
                invalid(
                    "OTEL_METRIC_EXPORT_INTERVAL",
                    v,
                    "a positive number of milliseconds",
                )
            })?;
            profile.export_interval = Duration::from_millis(ms);
        }
        if let Some(v) = env("OTEL_TRACES_SAMPLER_ARG") {
            profile.trace_sampling_ratio = v
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|r| (0.0..=1.0).contains(r))
                .ok_or_else(|| invalid("OTEL_TRACES_SAMPLER_ARG", v, "a ratio between 0 and 1"))?;
        }

        let sealed = match code.sealed {
            Some(s) => s,
            None => match env("STELLAOPS_TELEMETRY_SEALED") {
                Some(v) => parse_bool(&v)
                    .ok_or_else(|| invalid("STELLAOPS_TELEMETRY_SEALED", v, "true or false"))?,
                None => profile.sealed,
            },
        };

        let protocol = |signal: Option<Signal>| -> Result<Protocol, ConfigError> {
            if let Some(p) = code.protocol {
                return Ok(p);
            }
            let vars = signal
                .map(|s| format!("OTEL_EXPORTER_OTLP_{}_PROTOCOL", env_infix(s)))
                .into_iter()
                .chain(std::iter::once("OTEL_EXPORTER_OTLP_PROTOCOL".to_owned()));
            for var in vars {
                if let Some(v) = env(&var) {
                    return Protocol::parse(&v)
                        .ok_or_else(|| invalid(&var, v, "grpc or http/protobuf"));
                }
            }
            Ok(Protocol::Grpc)
        };

        let mut otlp = BTreeMap::new();
        for signal in Signal::ALL {
            let proto = protocol(Some(signal))?;
            let specific_var = format!("OTEL_EXPORTER_OTLP_{}_ENDPOINT", env_infix(signal));
            let endpoint = if let Some(e) = code.signal_endpoints.get(&signal) {
                Some(e.clone())
            } else if let Some(base) = &code.endpoint {
                Some(signal_url(base, signal, proto))
            } else if let Some(e) = env(&specific_var) {
                Some(e)
            } else {
                env("OTEL_EXPORTER_OTLP_ENDPOINT").map(|base| signal_url(&base, signal, proto))
            };
            if let Some(endpoint) = endpoint {
                otlp.insert(
                    signal,
                    OtlpTarget {
                        endpoint: endpoint.trim().to_owned(),
                        protocol: proto,
                    },
                );
            }
        }

        let mut resource_attributes = match env("OTEL_RESOURCE_ATTRIBUTES") {
            Some(v) => parse_resource_attributes(&v).ok_or_else(|| {
                invalid(
                    "OTEL_RESOURCE_ATTRIBUTES",
                    v,
                    "comma-separated key=value pairs",
                )
            })?,
            None => Vec::new(),
        };
        for (k, v) in &code.resource_attributes {
            resource_attributes.retain(|(key, _)| key != k);
            resource_attributes.push((k.clone(), v.clone()));
        }
        let from_attrs = |key: &str| {
            resource_attributes
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };

        let service_name = code
            .service_name
            .clone()
            .or_else(|| env("OTEL_SERVICE_NAME"))
            .or_else(|| from_attrs("service.name"))
            .unwrap_or_else(|| DEFAULT_SERVICE_NAME.to_owned());
        if service_name.trim().is_empty() {
            return Err(ConfigError::InvalidValue {
                field: "service_name",
                value: service_name,
                expected: "a non-empty name",
            });
        }
        let service_version = code
            .service_version
            .clone()
            .or_else(|| from_attrs("service.version"));
        let environment = code
            .environment
            .clone()
            .or_else(|| env("STELLAOPS_ENVIRONMENT"))
            .or_else(|| from_attrs("deployment.environment.name"))
            .or_else(|| from_attrs("deployment.environment"));
        let spool_dir = code
            .spool_dir
            .clone()
            .or_else(|| env("STELLAOPS_TELEMETRY_SPOOL_DIR").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_SPOOL_DIR));

        let env_tls = |infix: Option<&str>| {
            let var = |suffix: &str| match infix {
                Some(i) => format!("OTEL_EXPORTER_OTLP_{i}_{suffix}"),
                None => format!("OTEL_EXPORTER_OTLP_{suffix}"),
            };
            let file = |suffix: &str| {
                let name = var(suffix);
                env(&name).map(|path| PemSource::file(path.trim(), name))
            };
            ClientTlsConfig {
                ca: file("CERTIFICATE"),
                client_certificate: file("CLIENT_CERTIFICATE"),
                client_key: file("CLIENT_KEY"),
                server_name: None,
            }
        };
        let generic_env_tls = env_tls(None);
        let code_tls = code.tls.clone().unwrap_or_default();
        let mut tls = BTreeMap::new();
        for signal in Signal::ALL {
            let resolved = code
                .signal_tls
                .get(&signal)
                .cloned()
                .unwrap_or_default()
                .or(&code_tls)
                .or(&env_tls(Some(env_infix(signal))))
                .or(&generic_env_tls);
            if !resolved.is_empty() {
                tls.insert(signal, resolved);
            }
        }
        let insecure_plaintext = match code.insecure_plaintext {
            Some(b) => b,
            None => match env("STELLAOPS_TELEMETRY_OTLP_INSECURE") {
                Some(v) => parse_bool(&v).ok_or_else(|| {
                    invalid("STELLAOPS_TELEMETRY_OTLP_INSECURE", v, "true or false")
                })?,
                None => false,
            },
        };

        Ok(Self {
            service_name,
            service_version,
            environment,
            profile,
            otlp,
            resource_attributes,
            spool_dir,
            sealed,
            tls,
            insecure_plaintext,
        })
    }
}

/// The per-signal URL for a base endpoint: for HTTP, `<base>/v1/<signal>`; for gRPC, the base.
fn signal_url(base: &str, signal: Signal, protocol: Protocol) -> String {
    match protocol {
        Protocol::Grpc => base.to_owned(),
        Protocol::HttpProtobuf => format!("{}/v1/{}", base.trim_end_matches('/'), signal.as_str()),
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// `key1=value1,key2=value2` with percent-encoded values (the OTel environment convention).
fn parse_resource_attributes(text: &str) -> Option<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=')?;
        let k = k.trim();
        if k.is_empty() {
            return None;
        }
        let v = percent_decode(v.trim())?;
        out.retain(|(key, _)| key != k);
        out.push((k.to_owned(), v));
    }
    Some(out)
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn code_beats_environment_beats_profile() {
        let e = env(&[
            ("OTEL_SERVICE_NAME", "from-env"),
            ("STELLAOPS_TELEMETRY_PROFILE", "forensic"),
            ("STELLAOPS_TELEMETRY_LOG_LEVEL", "warn"),
        ]);
        let s = Settings::resolve_with(&CodeSettings::default(), &e).unwrap();
        assert_eq!(s.service_name, "from-env");
        assert_eq!(s.profile.name, "forensic");
        assert_eq!(
            s.profile.log_level,
            LogLevel::Warn,
            "env overrides the profile"
        );
        assert_eq!(
            s.profile.export_interval,
            Duration::from_secs(10),
            "the rest comes from the profile"
        );

        let code = CodeSettings {
            service_name: Some("from-code".into()),
            profile: Some("default".into()),
            log_level: Some(LogLevel::Error),
            ..Default::default()
        };
        let s = Settings::resolve_with(&code, &e).unwrap();
        assert_eq!(s.service_name, "from-code");
        assert_eq!(s.profile.name, "default");
        assert_eq!(s.profile.log_level, LogLevel::Error);
    }

    #[test]
    fn otlp_endpoints_follow_the_otel_environment_rules() {
        let e = env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            (
                "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
                "http://logs:4318/custom",
            ),
            ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "grpc"),
        ]);
        let s = Settings::resolve_with(&CodeSettings::default(), &e).unwrap();
        assert_eq!(
            s.otlp[&Signal::Traces].endpoint,
            "http://collector:4318/v1/traces"
        );
        assert_eq!(s.otlp[&Signal::Traces].protocol, Protocol::HttpProtobuf);
        assert_eq!(
            s.otlp[&Signal::Logs].endpoint,
            "http://logs:4318/custom",
            "per-signal is used as-is"
        );
        assert_eq!(s.otlp[&Signal::Metrics].protocol, Protocol::Grpc);
        assert_eq!(s.otlp[&Signal::Metrics].endpoint, "http://collector:4318/");

        let code = CodeSettings {
            endpoint: Some("http://127.0.0.1:4317".into()),
            protocol: Some(Protocol::Grpc),
            ..Default::default()
        };
        let s = Settings::resolve_with(&code, &e).unwrap();
        assert_eq!(
            s.otlp[&Signal::Logs].endpoint,
            "http://127.0.0.1:4317",
            "code's base endpoint wins"
        );
        assert!(
            Settings::resolve_with(&CodeSettings::default(), env(&[]))
                .unwrap()
                .otlp
                .is_empty()
        );
    }

    #[test]
    fn resource_attributes_merge_with_code_winning() {
        let e = env(&[(
            "OTEL_RESOURCE_ATTRIBUTES",
            "service.name=attr-svc, team=scan%20ops,deployment.environment.name=prod",
        )]);
        let code = CodeSettings {
            resource_attributes: vec![("team".into(), "policy".into())],
            ..Default::default()
        };
        let s = Settings::resolve_with(&code, &e).unwrap();
        assert_eq!(s.service_name, "attr-svc");
        assert_eq!(s.environment.as_deref(), Some("prod"));
        assert!(
            s.resource_attributes
                .contains(&("team".into(), "policy".into()))
        );
        let plain = Settings::resolve_with(&CodeSettings::default(), &e).unwrap();
        assert!(
            plain
                .resource_attributes
                .contains(&("team".into(), "scan ops".into()))
        );
    }

    #[test]
    fn bad_environment_values_name_the_variable() {
        for (var, value) in [
            ("STELLAOPS_TELEMETRY_PROFILE", "nope"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("STELLAOPS_TELEMETRY_SEALED", "maybe"),
            ("OTEL_RESOURCE_ATTRIBUTES", "novalue"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "-5"),
            ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
        ] {
            let err =
                Settings::resolve_with(&CodeSettings::default(), env(&[(var, value)])).unwrap_err();
            assert!(err.to_string().contains(var), "{err}");
        }
    }

    #[test]
    fn tls_files_come_from_env_per_signal_over_generic_and_code_wins() {
        let e = env(&[
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/generic/ca.pem"),
            ("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "/traces/ca.pem"),
            (
                "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
                "/generic/client.pem",
            ),
            ("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/generic/client-key.pem"),
            ("OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY", "/logs/client-key.pem"),
        ]);
        let s = Settings::resolve_with(&CodeSettings::default(), &e).unwrap();
        let ca = |s: &Settings, signal| {
            s.tls[&signal]
                .ca
                .as_ref()
                .map(|c| {
                    (
                        c.path().unwrap().display().to_string(),
                        c.origin().to_owned(),
                    )
                })
                .unwrap()
        };
        assert_eq!(
            ca(&s, Signal::Traces),
            (
                "/traces/ca.pem".to_owned(),
                "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE".to_owned()
            )
        );
        assert_eq!(
            ca(&s, Signal::Metrics),
            (
                "/generic/ca.pem".to_owned(),
                "OTEL_EXPORTER_OTLP_CERTIFICATE".to_owned()
            )
        );
        let logs = &s.tls[&Signal::Logs];
        assert_eq!(
            logs.client_key.as_ref().unwrap().origin(),
            "OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY"
        );
        assert_eq!(
            logs.client_certificate.as_ref().unwrap().origin(),
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"
        );
        assert!(!s.insecure_plaintext);

        let code = CodeSettings {
            tls: Some(ClientTlsConfig::new().ca_file("/code/ca.pem")),
            signal_tls: [(
                Signal::Metrics,
                ClientTlsConfig::new().server_name("metrics.internal"),
            )]
            .into_iter()
            .collect(),
            ..Default::default()
        };
        let s = Settings::resolve_with(&code, &e).unwrap();
        assert_eq!(ca(&s, Signal::Traces).0, "/code/ca.pem", "code beats env");
        assert_eq!(ca(&s, Signal::Metrics).0, "/code/ca.pem");
        assert_eq!(
            s.tls[&Signal::Metrics].server_name.as_deref(),
            Some("metrics.internal")
        );
        assert_eq!(
            s.tls[&Signal::Metrics]
                .client_key
                .as_ref()
                .unwrap()
                .origin(),
            "OTEL_EXPORTER_OTLP_CLIENT_KEY",
            "fields code leaves unset still come from the environment"
        );
        assert!(
            Settings::resolve_with(&CodeSettings::default(), env(&[]))
                .unwrap()
                .tls
                .is_empty()
        );
    }

    #[test]
    fn insecure_switch_is_code_over_env_and_validated() {
        let e = env(&[("STELLAOPS_TELEMETRY_OTLP_INSECURE", "true")]);
        assert!(
            Settings::resolve_with(&CodeSettings::default(), &e)
                .unwrap()
                .insecure_plaintext
        );
        let code = CodeSettings {
            insecure_plaintext: Some(false),
            ..Default::default()
        };
        assert!(
            !Settings::resolve_with(&code, &e)
                .unwrap()
                .insecure_plaintext
        );
        let err = Settings::resolve_with(
            &CodeSettings::default(),
            env(&[("STELLAOPS_TELEMETRY_OTLP_INSECURE", "perhaps")]),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("STELLAOPS_TELEMETRY_OTLP_INSECURE")
        );
    }

    #[test]
    fn airgap_profile_starts_sealed_unless_code_says_otherwise() {
        let e = env(&[("STELLAOPS_TELEMETRY_PROFILE", "airgap")]);
        assert!(
            Settings::resolve_with(&CodeSettings::default(), &e)
                .unwrap()
                .sealed
        );
        let code = CodeSettings {
            sealed: Some(false),
            ..Default::default()
        };
        assert!(!Settings::resolve_with(&code, &e).unwrap().sealed);
    }
}

//! OpenTelemetry Collector configurations per profile: an agent tier on every host and a
//! gateway tier behind it (`default`, `forensic`), or a single sealed file-only tier
//! (`airgap`). Every endpoint a config names is decided by the site's egress policy first.
//!
//! Not a collector launcher: configs are YAML text for `otelcol-contrib --config`.

use crate::yaml::Yaml;
use std::sync::Arc;
use stellaops_egress_policy::{
    AllOf, EgressPolicy, EgressRequest, Endpoint, SealState, SealedMode, SealedModePolicy, Signal,
    Unrestricted,
};
use stellaops_redaction::{Mode, PolicyFile, RedactionPolicy};
use stellaops_telemetry_model::profile::{ExporterKind, Profile};

/// TLS files the receivers present and the exporters trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// CA bundle that signed the peers' certificates.
    pub ca_file: String,
    /// This tier's certificate.
    pub cert_file: String,
    /// This tier's private key.
    pub key_file: String,
}

/// Where a fleet runs: listen address, gateway and backend endpoints, TLS, the file exporter
/// directory, and the site's egress policy.
#[derive(Clone)]
pub struct Site {
    /// Site name (a comment in rendered files).
    pub name: String,
    /// Address the OTLP receivers bind (`0.0.0.0`, or `127.0.0.1` on sealed hosts).
    pub listen_host: String,
    /// Gateway collectors the agents balance over, as URLs (`https://gw-0.example:4317`).
    pub gateways: Vec<String>,
    /// Prometheus remote-write URL.
    pub prometheus_remote_write: String,
    /// Tempo (or Jaeger) OTLP gRPC URL.
    pub tempo_otlp: String,
    /// Loki OTLP HTTP URL (Loki 3's native OTLP endpoint, `.../otlp`).
    pub loki_otlp: String,
    /// TLS files, or `None` for plaintext inside a trusted network.
    pub tls: Option<TlsFiles>,
    /// Directory the file exporters write to (airgap).
    pub file_dir: String,
    /// The site's egress policy: every exporter endpoint must pass it.
    pub egress: Arc<dyn EgressPolicy>,
    /// The redaction policy the agents mirror.
    pub redaction: RedactionPolicy,
}

impl std::fmt::Debug for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Site")
            .field("name", &self.name)
            .field("listen_host", &self.listen_host)
            .field("gateways", &self.gateways)
            .field("prometheus_remote_write", &self.prometheus_remote_write)
            .field("tempo_otlp", &self.tempo_otlp)
            .field("loki_otlp", &self.loki_otlp)
            .field("tls", &self.tls)
            .field("file_dir", &self.file_dir)
            .finish_non_exhaustive()
    }
}

impl Site {
    /// A connected site with three gateways and the backends in `telemetry.svc`, TLS on,
    /// no egress restriction and the default redaction policy.
    pub fn example() -> Self {
        Site {
            name: "example".to_owned(),
            listen_host: "0.0.0.0".to_owned(),
            gateways: (0..3)
                .map(|i| format!("https://otel-gateway-{i}.telemetry.svc:4317"))
                .collect(),
            prometheus_remote_write: "https://prometheus.telemetry.svc:9090/api/v1/write"
                .to_owned(),
            tempo_otlp: "https://tempo.telemetry.svc:4317".to_owned(),
            loki_otlp: "https://loki.telemetry.svc:3100/otlp".to_owned(),
            tls: Some(TlsFiles {
                ca_file: "/etc/stellaops/tls/ca.pem".to_owned(),
                cert_file: "/etc/stellaops/tls/collector.pem".to_owned(),
                key_file: "/etc/stellaops/tls/collector-key.pem".to_owned(),
            }),
            file_dir: "/var/lib/stellaops/telemetry".to_owned(),
            egress: Arc::new(Unrestricted),
            redaction: RedactionPolicy::default(),
        }
    }

    /// A sealed air-gapped host: receivers on loopback, files under `/var/lib/stellaops`,
    /// egress sealed.
    pub fn airgap_example() -> Self {
        Site {
            name: "airgap".to_owned(),
            listen_host: "127.0.0.1".to_owned(),
            tls: None,
            egress: Arc::new(SealedModePolicy::new(SealedMode::new(SealState::Sealed))),
            ..Site::example()
        }
    }

    /// The built-in site for a profile: [`Site::airgap_example`] for sealed profiles, else
    /// [`Site::example`].
    pub fn for_profile(profile: &Profile) -> Self {
        if profile.sealed {
            Site::airgap_example()
        } else {
            Site::example()
        }
    }
}

/// Why a config could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// An endpoint the config would name is refused by the site's egress policy.
    #[error("{component} ({signal}) may not use {endpoint}: {reason}; remediation: {remediation}")]
    EgressDenied {
        /// The collector component (`loadbalancing`, `otlp/tempo`, `otlp receiver`...).
        component: String,
        /// The signal it carries.
        signal: &'static str,
        /// The endpoint as configured (credentials removed).
        endpoint: String,
        /// The policy's reason.
        reason: String,
        /// The policy's remediation.
        remediation: String,
    },
    /// A connected profile was asked for with no gateway to balance over.
    #[error("the {profile} profile needs at least one gateway endpoint; the site lists none")]
    NoGateway {
        /// The profile.
        profile: String,
    },
    /// An endpoint has no host or port the collector could use.
    #[error("{component}: expected a URL with a host and port, found {endpoint:?}")]
    BadEndpoint {
        /// The component.
        component: String,
        /// What was configured.
        endpoint: String,
    },
}

impl RenderError {
    /// A stable machine code: `deploy.egress_denied`, `deploy.no_gateway`, `deploy.bad_endpoint`.
    pub fn code(&self) -> &'static str {
        match self {
            RenderError::EgressDenied { .. } => "deploy.egress_denied",
            RenderError::NoGateway { .. } => "deploy.no_gateway",
            RenderError::BadEndpoint { .. } => "deploy.bad_endpoint",
        }
    }
}

/// The rendered tiers of one profile.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectorConfigs {
    /// The agent tier (on every host; on air-gapped hosts the only tier).
    pub agent: Yaml,
    /// The gateway tier (`None` for file-only profiles).
    pub gateway: Option<Yaml>,
}

impl CollectorConfigs {
    /// `(file name, YAML text)` for each tier: `agent.yaml`, `gateway.yaml`.
    pub fn files(&self) -> Vec<(&'static str, String)> {
        let mut files = vec![("agent.yaml", self.agent.to_text())];
        if let Some(gateway) = &self.gateway {
            files.push(("gateway.yaml", gateway.to_text()));
        }
        files
    }
}

/// Whether `profile` renders the file-only (air-gapped) topology.
pub fn is_file_only(profile: &Profile) -> bool {
    profile.sealed || profile.exporter == ExporterKind::File
}

/// Renders both tiers of `profile` for `site`.
///
/// # Errors
/// [`RenderError::EgressDenied`] when any endpoint the config would name is refused by the
/// site's egress policy (for sealed profiles also by sealed mode itself, so listeners must be
/// loopback and outputs local files), [`RenderError::NoGateway`] and
/// [`RenderError::BadEndpoint`] for incomplete sites.
pub fn render(profile: &Profile, site: &Site) -> Result<CollectorConfigs, RenderError> {
    if is_file_only(profile) {
        return render_file_only(profile, site);
    }
    if site.gateways.is_empty() {
        return Err(RenderError::NoGateway {
            profile: profile.name.to_owned(),
        });
    }
    let policy: &dyn EgressPolicy = site.egress.as_ref();
    let mut hostnames = Vec::new();
    for gateway in &site.gateways {
        let endpoint = check(policy, "loadbalancing", Signal::Traces, gateway)?;
        hostnames.push(host_port("loadbalancing", &endpoint)?);
    }
    let remote_write = check(
        policy,
        "prometheusremotewrite",
        Signal::Metrics,
        &site.prometheus_remote_write,
    )?;
    let tempo = check(policy, "otlp/tempo", Signal::Traces, &site.tempo_otlp)?;
    let tempo = host_port("otlp/tempo", &tempo)?;
    let loki = check(policy, "otlphttp/loki", Signal::Logs, &site.loki_otlp)?;

    let agent = agent_config(profile, site, &hostnames);
    let gateway = gateway_config(profile, site, remote_write.as_str(), &tempo, loki.as_str());
    Ok(CollectorConfigs {
        agent,
        gateway: Some(gateway),
    })
}

fn check(
    policy: &dyn EgressPolicy,
    component: &str,
    signal: Signal,
    url: &str,
) -> Result<Endpoint, RenderError> {
    let endpoint = Endpoint::parse(url);
    let decision = policy.decide(&EgressRequest::new(component, signal, endpoint.clone()));
    if decision.allowed() {
        Ok(endpoint)
    } else {
        Err(RenderError::EgressDenied {
            component: component.to_owned(),
            signal: signal.as_str(),
            endpoint: endpoint.redacted(),
            reason: decision.reason().to_owned(),
            remediation: decision.remediation().unwrap_or_default().to_owned(),
        })
    }
}

fn host_port(component: &str, endpoint: &Endpoint) -> Result<String, RenderError> {
    match (endpoint.host(), endpoint.effective_port()) {
        (Some(host), Some(port)) => Ok(format!("{host}:{port}")),
        _ => Err(RenderError::BadEndpoint {
            component: component.to_owned(),
            endpoint: endpoint.redacted(),
        }),
    }
}

fn batch(profile: &Profile) -> Yaml {
    // forensic flushes fast (10 s export interval), default every 5 s
    let timeout = if profile.export_interval.as_secs() <= 10 {
        "1s"
    } else {
        "5s"
    };
    Yaml::map()
        .with("send_batch_size", 8192_i64)
        .with("send_batch_max_size", 16384_i64)
        .with("timeout", timeout)
}

fn memory_limiter() -> Yaml {
    Yaml::map()
        .with("check_interval", "1s")
        .with("limit_percentage", 80_i64)
        .with("spike_limit_percentage", 20_i64)
}

fn receivers(site: &Site) -> Yaml {
    let protocol = |port: u16| {
        let mut p = Yaml::map().with("endpoint", format!("{}:{port}", site.listen_host));
        if let Some(tls) = &site.tls {
            p = p.with(
                "tls",
                Yaml::map()
                    .with("cert_file", tls.cert_file.as_str())
                    .with("key_file", tls.key_file.as_str())
                    .with("client_ca_file", tls.ca_file.as_str())
                    .with("min_version", "1.2"),
            );
        }
        p
    };
    Yaml::map().with(
        "otlp",
        Yaml::map().with(
            "protocols",
            Yaml::map()
                .with("grpc", protocol(4317))
                .with("http", protocol(4318)),
        ),
    )
}

fn client_tls(site: &Site) -> Yaml {
    match &site.tls {
        Some(tls) => Yaml::map()
            .with("ca_file", tls.ca_file.as_str())
            .with("cert_file", tls.cert_file.as_str())
            .with("key_file", tls.key_file.as_str())
            .with("min_version", "1.2"),
        None => Yaml::map().with("insecure", true),
    }
}

/// Turns a redaction key pattern (`*api[-_]key*`, matched on whole dotted segments, ignoring
/// case) into an RE2 regex over the full attribute key.
pub fn key_pattern_regex(pattern: &str) -> String {
    let mut body = String::new();
    let mut in_class = false;
    for c in pattern.chars() {
        match c {
            '[' => {
                in_class = true;
                body.push('[');
            }
            ']' => {
                in_class = false;
                body.push(']');
            }
            '*' if !in_class => body.push_str("[^.]*"),
            c if in_class => body.push(c),
            c if "\\.+*?()|[]{}^$".contains(c) => {
                body.push('\\');
                body.push(c);
            }
            c => body.push(c),
        }
    }
    format!("(?i)^(?:.*\\.)?{body}(?:\\..*)?$")
}

/// RE2 patterns for the redaction policy's value detectors (the collector's
/// `blocked_values`): the same secrets and personal data the in-process redactor masks.
pub const BLOCKED_VALUE_PATTERNS: &[&str] = &[
    "(?i)bearer\\s+[A-Za-z0-9._~+/=-]+",
    "(?i)basic\\s+[A-Za-z0-9+/=]{8,}",
    "eyJ[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*",
    "-----BEGIN [A-Z ]*PRIVATE KEY-----",
    "\\b(?:AKIA|ASIA)[A-Z0-9]{16}\\b",
    "\\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}",
    "glpat-[A-Za-z0-9_-]{20,}",
    "xox[abeprs]-[A-Za-z0-9-]{10,}",
    "\\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}",
    "AIza[A-Za-z0-9_-]{35}",
    "[a-zA-Z][a-zA-Z0-9+.-]*://[^/\\s:@]+:[^/\\s@]+@",
    "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}",
    "\\b[2-6][0-9]{3}(?:[ -]?[0-9]{4}){2,3}[0-9]{0,3}\\b",
];

/// The `redaction` processor mirroring `policy`: allow-list mode keeps only allowed and
/// always-kept keys; block-list mode keeps every key but masks blocked ones; values matching
/// a detector are masked everywhere.
pub fn redaction_processor(policy: &RedactionPolicy) -> Yaml {
    let file: &PolicyFile = policy.to_file();
    let mut kept: Vec<String> = Vec::new();
    if file.default_always_kept {
        kept.extend(
            stellaops_redaction::DEFAULT_ALWAYS_KEPT
                .iter()
                .map(|k| (*k).to_owned()),
        );
    }
    kept.extend(file.always_kept.iter().cloned());
    let mut blocked: Vec<String> = Vec::new();
    if file.default_blocked_keys {
        blocked.extend(
            stellaops_redaction::DEFAULT_BLOCKED_KEYS
                .iter()
                .map(|k| key_pattern_regex(k)),
        );
    }
    blocked.extend(file.blocked_keys.iter().map(|k| key_pattern_regex(k)));
    let mut processor = match policy.mode() {
        Mode::AllowList => {
            let mut allowed = file.allowed_keys.clone();
            allowed.extend(kept.iter().cloned());
            Yaml::map()
                .with("allow_all_keys", false)
                .with("allowed_keys", Yaml::strs(allowed))
        }
        Mode::BlockList => Yaml::map()
            .with("allow_all_keys", true)
            .with("ignored_keys", Yaml::strs(kept)),
    };
    processor = processor
        .with("blocked_key_patterns", Yaml::strs(blocked))
        .with(
            "blocked_values",
            Yaml::strs(BLOCKED_VALUE_PATTERNS.iter().copied()),
        )
        .with("summary", "info");
    processor
}

/// The `attributes/redaction` processor: deletes blocked keys outright (also on metrics,
/// which the `redaction` processor does not cover) and tags records `scrubbed`.
fn attributes_processor(policy: &RedactionPolicy) -> Yaml {
    let file = policy.to_file();
    let mut patterns: Vec<&str> = Vec::new();
    if file.default_blocked_keys {
        patterns.extend(stellaops_redaction::DEFAULT_BLOCKED_KEYS.iter().copied());
    }
    patterns.extend(file.blocked_keys.iter().map(String::as_str));
    let actions: Vec<Yaml> = patterns
        .into_iter()
        .map(|p| {
            Yaml::map()
                .with("pattern", key_pattern_regex(p))
                .with("action", "delete")
        })
        .collect();
    Yaml::map().with("actions", actions)
}

fn resource_detection() -> Yaml {
    Yaml::map()
        .with("detectors", Yaml::strs(["env", "system"]))
        .with("timeout", "2s")
        .with("override", false)
}

fn profile_resource(profile: &Profile) -> Yaml {
    let mut actions = vec![
        Yaml::map()
            .with("key", "stellaops.telemetry.profile")
            .with("value", profile.name)
            .with("action", "upsert"),
    ];
    if profile.sealed {
        actions.push(
            Yaml::map()
                .with("key", "sealed")
                .with("value", true)
                .with("action", "upsert"),
        );
    }
    if profile.extended_attributes {
        actions.push(
            Yaml::map()
                .with("key", "incident")
                .with("value", true)
                .with("action", "upsert"),
        );
    }
    Yaml::map().with("attributes", Yaml::Seq(actions))
}

fn pipeline(processors: &[&str], exporters: &[&str]) -> Yaml {
    Yaml::map()
        .with("receivers", Yaml::strs(["otlp"]))
        .with("processors", Yaml::strs(processors.iter().copied()))
        .with("exporters", Yaml::strs(exporters.iter().copied()))
}

fn service(pipelines: Yaml, level: &str) -> Yaml {
    Yaml::map()
        .with("extensions", Yaml::strs(["health_check"]))
        .with(
            "telemetry",
            Yaml::map().with("logs", Yaml::map().with("level", level)),
        )
        .with("pipelines", pipelines)
}

fn health_check() -> Yaml {
    Yaml::map().with(
        "health_check",
        Yaml::map().with("endpoint", "127.0.0.1:13133"),
    )
}

fn tail_sampling(profile: &Profile) -> Yaml {
    let policies = if profile.trace_sampling_ratio >= 1.0 {
        vec![
            Yaml::map()
                .with("name", "forensic-keep-all")
                .with("type", "always_sample"),
        ]
    } else {
        let percent = (profile.trace_sampling_ratio * 100.0).clamp(0.0, 100.0);
        vec![
            Yaml::map()
                .with("name", "errors")
                .with("type", "status_code")
                .with(
                    "status_code",
                    Yaml::map().with("status_codes", Yaml::strs(["ERROR"])),
                ),
            Yaml::map()
                .with("name", "slow")
                .with("type", "latency")
                .with(
                    "latency",
                    Yaml::map().with(
                        "threshold_ms",
                        i64::try_from(profile.slow_trace_threshold.as_millis()).unwrap_or(i64::MAX),
                    ),
                ),
            Yaml::map()
                .with("name", "probabilistic")
                .with("type", "probabilistic")
                .with(
                    "probabilistic",
                    Yaml::map().with("sampling_percentage", percent),
                ),
        ]
    };
    Yaml::map()
        .with("decision_wait", "10s")
        .with("num_traces", 100_000_i64)
        .with("expected_new_traces_per_sec", 1000_i64)
        .with("policies", Yaml::Seq(policies))
}

const AGENT_PROCESSORS: &[&str] = &[
    "memory_limiter",
    "resourcedetection",
    "resource/profile",
    "attributes/redaction",
    "redaction",
    "batch",
];

fn agent_processors(profile: &Profile, site: &Site) -> Yaml {
    Yaml::map()
        .with("memory_limiter", memory_limiter())
        .with("resourcedetection", resource_detection())
        .with("resource/profile", profile_resource(profile))
        .with(
            "attributes/redaction",
            attributes_processor(&site.redaction),
        )
        .with("redaction", redaction_processor(&site.redaction))
        .with("batch", batch(profile))
}

fn agent_config(profile: &Profile, site: &Site, gateways: &[String]) -> Yaml {
    let lb = |routing_key: &str| {
        Yaml::map()
            .with("routing_key", routing_key)
            .with(
                "protocol",
                Yaml::map().with(
                    "otlp",
                    Yaml::map()
                        .with("tls", client_tls(site))
                        .with("timeout", "10s")
                        .with(
                            "sending_queue",
                            Yaml::map()
                                .with("enabled", true)
                                .with("queue_size", 5000_i64),
                        ),
                ),
            )
            .with(
                "resolver",
                Yaml::map().with(
                    "static",
                    Yaml::map().with("hostnames", Yaml::strs(gateways.iter().cloned())),
                ),
            )
    };
    let metrics_processors: Vec<&str> = AGENT_PROCESSORS
        .iter()
        .copied()
        .filter(|p| *p != "redaction")
        .collect();
    Yaml::map()
        .with("extensions", health_check())
        .with("receivers", receivers(site))
        .with("processors", agent_processors(profile, site))
        .with(
            "exporters",
            Yaml::map()
                .with("loadbalancing", lb("traceID"))
                .with("loadbalancing/metrics", lb("service")),
        )
        .with(
            "service",
            service(
                Yaml::map()
                    .with("traces", pipeline(AGENT_PROCESSORS, &["loadbalancing"]))
                    .with(
                        "metrics",
                        pipeline(&metrics_processors, &["loadbalancing/metrics"]),
                    )
                    .with("logs", pipeline(AGENT_PROCESSORS, &["loadbalancing"])),
                profile.log_level.as_str(),
            ),
        )
}

fn gateway_config(
    profile: &Profile,
    site: &Site,
    remote_write: &str,
    tempo: &str,
    loki: &str,
) -> Yaml {
    Yaml::map()
        .with("extensions", health_check())
        .with("receivers", receivers(site))
        .with(
            "processors",
            Yaml::map()
                .with("memory_limiter", memory_limiter())
                .with("tail_sampling", tail_sampling(profile))
                .with("batch", batch(profile)),
        )
        .with(
            "exporters",
            Yaml::map()
                .with(
                    "prometheusremotewrite",
                    Yaml::map()
                        .with("endpoint", remote_write)
                        .with("tls", client_tls(site))
                        .with(
                            "resource_to_telemetry_conversion",
                            Yaml::map().with("enabled", true),
                        ),
                )
                .with(
                    "otlp/tempo",
                    Yaml::map()
                        .with("endpoint", tempo)
                        .with("tls", client_tls(site)),
                )
                .with(
                    "otlphttp/loki",
                    Yaml::map()
                        .with("endpoint", loki)
                        .with("tls", client_tls(site)),
                ),
        )
        .with(
            "service",
            service(
                Yaml::map()
                    .with(
                        "traces",
                        pipeline(
                            &["memory_limiter", "tail_sampling", "batch"],
                            &["otlp/tempo"],
                        ),
                    )
                    .with(
                        "metrics",
                        pipeline(&["memory_limiter", "batch"], &["prometheusremotewrite"]),
                    )
                    .with(
                        "logs",
                        pipeline(&["memory_limiter", "batch"], &["otlphttp/loki"]),
                    ),
                profile.log_level.as_str(),
            ),
        )
}

fn render_file_only(profile: &Profile, site: &Site) -> Result<CollectorConfigs, RenderError> {
    // A sealed profile is sealed whatever the site says: decide with sealed mode as well.
    let sealed = SealedModePolicy::new(SealedMode::new(if profile.sealed {
        SealState::Sealed
    } else {
        SealState::Unsealed
    }));
    let policy = AllOf::new()
        .with_shared(Arc::clone(&site.egress))
        .with(sealed);
    for (port, signal) in [(4317, Signal::Traces), (4318, Signal::Traces)] {
        let listen = format!("http://{}:{port}", site.listen_host);
        check(&policy, "otlp receiver", signal, &listen)?;
    }
    let mut exporters = Yaml::map();
    let mut pipelines = Yaml::map();
    let retention_days = i64::try_from(profile.retention.as_secs() / 86_400).unwrap_or(i64::MAX);
    for signal in Signal::ALL {
        let name = format!("file/{}", signal.as_str());
        let path = format!(
            "{}/{}.otlp",
            site.file_dir.trim_end_matches('/'),
            signal.as_str()
        );
        check(&policy, &name, signal, &path)?;
        exporters = exporters.with(
            name.as_str(),
            Yaml::map().with("path", path).with("format", "proto").with(
                "rotation",
                Yaml::map()
                    .with("max_megabytes", 10_i64)
                    .with("max_days", retention_days)
                    .with("max_backups", 3_i64),
            ),
        );
        let processors: Vec<&str> = AGENT_PROCESSORS
            .iter()
            .copied()
            .filter(|p| *p != "redaction" || signal != Signal::Metrics)
            .flat_map(|p| {
                // spans of one trace all reach this host: sample here, before the batch
                if p == "batch" && signal == Signal::Traces {
                    vec!["tail_sampling", "batch"]
                } else {
                    vec![p]
                }
            })
            .collect();
        pipelines = pipelines.with(signal.as_str(), pipeline(&processors, &[name.as_str()]));
    }
    let processors = agent_processors(profile, site).with("tail_sampling", tail_sampling(profile));
    let agent = Yaml::map()
        .with("extensions", health_check())
        .with("receivers", receivers(site))
        .with("processors", processors)
        .with("exporters", exporters)
        .with("service", service(pipelines, profile.log_level.as_str()));
    Ok(CollectorConfigs {
        agent,
        gateway: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn key_patterns_become_anchored_segment_regexes() {
        assert_eq!(
            key_pattern_regex("*api[-_]key*"),
            "(?i)^(?:.*\\.)?[^.]*api[-_]key[^.]*(?:\\..*)?$"
        );
        assert_eq!(
            key_pattern_regex("set-cookie"),
            "(?i)^(?:.*\\.)?set-cookie(?:\\..*)?$"
        );
    }

    proptest! {
        #[test]
        fn key_pattern_regex_matches_the_key_in_any_segment_run(p in "[ -~]{1,20}", other in "[a-z]{1,8}") {
            let p = p.replace(['[', ']', '.'], "");
            prop_assume!(!p.is_empty());
            let re = regex::Regex::new(&key_pattern_regex(&p)).unwrap();
            let key = p.replace('*', "x");
            prop_assert!(re.is_match(&key), "{} !~ {}", key, re);
            prop_assert!(re.is_match(&format!("{other}.{}", key.to_uppercase())), "case, prefix");
            prop_assert!(re.is_match(&format!("{key}.{other}")), "suffix");
        }
    }
}

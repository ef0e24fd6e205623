//! The transport security stage of start-up: TLS for every `https://` OTLP endpoint (PEM
//! files read now, so a bad file fails start-up) and the plain-text rule for the others.
//!
//! Not the TLS configuration itself (`crate::tls`) nor the exporters (`crate::export`).

use super::error::InitError;
use crate::export::{OtlpTls, endpoint_uses_tls};
use crate::profile::ExporterKind;
use crate::settings::{Settings, Signal};

/// Checks every OTLP endpoint in use: builds the TLS of `https://` ones (reading the PEM
/// files now, so a bad file fails start-up) and refuses plain text to a non-loopback host
/// unless the insecure switch is on. Returns the TLS per signal and the plain-text endpoints
/// that the switch allowed (to warn about).
pub(super) fn transport_security(
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

/// Warns once, through `dispatch`, about the plain-text endpoints the insecure switch allowed
/// (nothing when there are none).
pub(super) fn warn_plaintext(dispatch: &tracing::Dispatch, plaintext_allowed: &[String]) {
    if !plaintext_allowed.is_empty() {
        tracing::dispatcher::with_default(dispatch, || {
            // Under the `init` target, as every start-up warning.
            tracing::warn!(
                target: "stellaops_telemetry_core::init",
                endpoints = %plaintext_allowed.join(", "),
                remediation = "use https:// endpoints; plain text is allowed only because the insecure switch is on (TelemetryBuilder::insecure_plaintext / STELLAOPS_TELEMETRY_OTLP_INSECURE)",
                "OTLP export to non-loopback endpoints in plain text (insecure)"
            );
        });
    }
}

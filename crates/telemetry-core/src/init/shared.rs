//! The first stage of start-up: what every signal shares, made from the resolved settings
//! before any thread starts (the sealed-mode switch and the egress guard, the redactor, the
//! metric catalogue and its registry, the resource, the OTLP scrubber).
//!
//! Not the exporters that use them (`export_workers`).

use crate::metrics::MetricCatalogue;
use crate::scrub::OtlpScrubber;
use crate::settings::Settings;
use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;
use prometheus_client::registry::Registry;
use std::sync::{Arc, Mutex};
use stellaops_egress_policy::{
    AllOf, EgressGuard, EgressPolicy, SealState, SealedMode, SealedModePolicy,
};
use stellaops_redaction::{RedactionPolicy, Redactor};

/// What every signal shares.
pub(super) struct Shared {
    /// The sealed-mode switch (the builder's, or one made from the settings).
    pub(super) sealed: SealedMode,
    /// Sealed mode plus the service's own egress policy, in front of every exporter.
    pub(super) guard: Arc<EgressGuard>,
    pub(super) redactor: Arc<Redactor>,
    pub(super) catalogue: Arc<MetricCatalogue>,
    /// The catalogue's and the egress guard's metrics (the spool's are added next).
    pub(super) registry: Arc<Mutex<Registry>>,
    pub(super) resource: Resource,
    pub(super) scrubber: OtlpScrubber,
}

impl Shared {
    /// Makes the shared pieces: `sealed_mode` (default: from the settings), `egress` on top
    /// of sealed mode, the `redaction` policy (default: block-list with every detector).
    pub(super) fn new(
        settings: &Settings,
        sealed_mode: Option<SealedMode>,
        egress: Option<&Arc<dyn EgressPolicy>>,
        redaction: Option<RedactionPolicy>,
    ) -> Self {
        let sealed = sealed_mode.unwrap_or_else(|| {
            SealedMode::new(if settings.sealed {
                SealState::Sealed
            } else {
                SealState::Unsealed
            })
        });
        let mut policy = AllOf::new().with(SealedModePolicy::new(sealed.clone()));
        if let Some(extra) = egress {
            policy = policy.with_shared(extra.clone());
        }
        let guard = Arc::new(EgressGuard::new(policy));
        let redactor = Arc::new(Redactor::new(redaction.unwrap_or_default()));

        let catalogue = Arc::new(MetricCatalogue::default());
        let mut registry = Registry::default();
        catalogue.register(&mut registry);
        guard.metrics().register(&mut registry);
        let registry = Arc::new(Mutex::new(registry));

        let resource = resource(settings);
        let scrubber = OtlpScrubber::new(redactor.clone(), catalogue.scrub_events().clone());
        Self {
            sealed,
            guard,
            redactor,
            catalogue,
            registry,
            resource,
            scrubber,
        }
    }
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

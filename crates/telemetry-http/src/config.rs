//! The signed config bundles served by `GET /telemetry/config/profile/{name}`: each built-in
//! profile rendered once by telemetry-deploy (collector configs, dashboards, alert rules,
//! manifest), its manifest signed in a DSSE envelope, with a strong ETag over the body.

use sha2::{Digest as _, Sha256};
use stellaops_dsse::EnvelopeSigner;
use stellaops_telemetry_deploy::bundle::ConfigBundle;
use stellaops_telemetry_deploy::collector::Site;
use stellaops_telemetry_model::profile::{ExporterKind, Profile};

/// Why the config bundles could not be prepared.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// telemetry-deploy refused to render or sign a profile.
    #[error("profile {profile}: [{code}] {message}")]
    Bundle {
        /// The profile.
        profile: String,
        /// telemetry-deploy's code (`deploy.egress_denied`...).
        code: String,
        /// What went wrong.
        message: String,
    },
}

impl ConfigError {
    /// Stable code: `telemetry.config.render_failed`.
    pub fn code(&self) -> &'static str {
        "telemetry.config.render_failed"
    }
}

/// One profile's served bundle.
#[derive(Debug, Clone)]
pub struct ProfileBundle {
    /// The profile.
    pub profile: Profile,
    /// The response body (`ConfigBundle::to_json_bytes`).
    pub body: Vec<u8>,
    /// The strong ETag, quoted: `"sha256:<hex of body>"`.
    pub etag: String,
    /// The signing key id.
    pub key_id: String,
}

/// The bundles of every built-in profile, rendered and signed once.
#[derive(Debug, Clone)]
pub struct ProfileBundles {
    bundles: Vec<ProfileBundle>,
}

impl ProfileBundles {
    /// Renders every profile in [`Profile::NAMES`] for the site `site_for` returns (use
    /// [`Site::for_profile`] for the built-in sites) and signs each with `signer`.
    ///
    /// # Errors
    /// [`ConfigError::Bundle`] when a profile cannot be rendered (egress policy, incomplete
    /// site) or signed.
    pub fn render(
        signer: &dyn EnvelopeSigner,
        site_for: &dyn Fn(&Profile) -> Site,
    ) -> Result<Self, ConfigError> {
        let mut bundles = Vec::new();
        for name in Profile::NAMES {
            let Some(profile) = Profile::by_name(name) else {
                continue;
            };
            let fail = |code: &str, message: String| ConfigError::Bundle {
                profile: name.to_owned(),
                code: code.to_owned(),
                message,
            };
            let mut bundle = ConfigBundle::render(&profile, &site_for(&profile))
                .map_err(|e| fail(e.code(), e.to_string()))?;
            bundle
                .sign(signer)
                .map_err(|e| fail(e.code(), e.to_string()))?;
            let body = bundle.to_json_bytes();
            let etag = format!("\"sha256:{}\"", hex::encode(Sha256::digest(&body)));
            bundles.push(ProfileBundle {
                profile,
                body,
                etag,
                key_id: signer.key_id().to_owned(),
            });
        }
        Ok(Self { bundles })
    }

    /// The bundle of the profile called `name` (case-insensitive, as [`Profile::by_name`]).
    pub fn get(&self, name: &str) -> Option<&ProfileBundle> {
        let profile = Profile::by_name(name)?;
        self.bundles.iter().find(|b| b.profile.name == profile.name)
    }

    /// Every bundle, in [`Profile::NAMES`] order.
    pub fn all(&self) -> &[ProfileBundle] {
        &self.bundles
    }
}

/// The JSON summary of a profile in `GET /telemetry/config/profiles`.
pub(crate) fn summary(bundle: &ProfileBundle) -> serde_json::Value {
    let p = &bundle.profile;
    serde_json::json!({
        "name": p.name,
        "traceSamplingRatio": p.trace_sampling_ratio,
        "slowTraceThresholdSeconds": p.slow_trace_threshold.as_secs_f64(),
        "retentionDays": p.retention.as_secs() / 86_400,
        "logLevel": p.log_level.as_str(),
        "exportIntervalSeconds": p.export_interval.as_secs(),
        "exporter": match p.exporter { ExporterKind::Otlp => "otlp", ExporterKind::File => "file" },
        "extendedAttributes": p.extended_attributes,
        "sealed": p.sealed,
        "etag": bundle.etag,
        "keyId": bundle.key_id,
        "href": format!("/telemetry/config/profile/{}", p.name),
    })
}

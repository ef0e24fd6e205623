//! [`FederationSite`]: one site's federation state and the operations on it: grant and revoke
//! consent, aggregate within the privacy budget, build a signed bundle, and ask whether a bundle
//! may be sent (sealed mode, then the egress policy).
//!
//! It holds no network client: sending is the caller's, after [`FederationSite::authorize_sync`].

use crate::aggregate::{AggregateBucket, Fact, Window, aggregate_buckets, check_facts};
use crate::budget::{BudgetReport, PrivacyBudget};
use crate::bundle::{BUNDLE_PAYLOAD_TYPE, BundlePayload, FederatedBundle};
use crate::clock::{Clock, whole_seconds};
use crate::consent::{
    ConsentGrant, ConsentProof, ConsentRegistry, ConsentRevocation, ConsentState,
};
use crate::digest::sha256_digest;
use crate::error::FederationError;
use crate::options::FederatedTelemetryOptions;
use crate::verify::BundleVerifier;
use rand::RngCore;
use std::collections::BTreeMap;
use std::sync::Arc;
use stellaops_dsse::envelope::Envelope;
use stellaops_dsse::sign::{EnvelopeSigner, sign_envelope_with_fallback};
use stellaops_egress_policy::{EgressDecision, EgressRequest, Endpoint, SealedMode, Signal};

/// The component name federation sync asks the egress policy about (allow-lists can name it).
pub const SYNC_COMPONENT: &str = "federation";

/// The intent federation sync gives the egress policy (shown in its warnings).
pub const SYNC_INTENT: &str = "federation-sync";

/// The result of one aggregation for one tenant: what a bundle will publish, and what was
/// withheld. Only [`FederationSite::aggregate`] makes one, so a bundle can only carry
/// k-anonymous, noised buckets that were charged to the budget.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregation {
    tenant_id: String,
    window: Window,
    buckets: Vec<AggregateBucket>,
    suppressed_buckets: u64,
    budget_exhausted: bool,
    epsilon: f64,
    epsilon_per_bucket: Option<f64>,
    budget: BudgetReport,
}

impl Aggregation {
    /// The tenant.
    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }
    /// The window facts were taken from.
    pub fn window(&self) -> Window {
        self.window
    }
    /// The published buckets, in payload order (empty when the budget was exhausted).
    pub fn buckets(&self) -> &[AggregateBucket] {
        &self.buckets
    }
    /// CVE buckets withheld by k-anonymity.
    pub fn suppressed_buckets(&self) -> u64 {
        self.suppressed_buckets
    }
    /// Whether the budget was exhausted, so nothing was aggregated.
    pub fn budget_exhausted(&self) -> bool {
        self.budget_exhausted
    }
    /// Epsilon this aggregation spent (0 when suppressed).
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }
    /// Epsilon each published bucket's noise used (`None` without published buckets).
    pub fn epsilon_per_bucket(&self) -> Option<f64> {
        self.epsilon_per_bucket
    }
    /// The budget right after this aggregation.
    pub fn budget(&self) -> &BudgetReport {
        &self.budget
    }
}

/// One site's federation: options, clock, signers, consent per tenant, budget per tenant,
/// sealed state.
pub struct FederationSite {
    options: FederatedTelemetryOptions,
    clock: Arc<dyn Clock>,
    signers: Vec<Arc<dyn EnvelopeSigner>>,
    consents: ConsentRegistry,
    budgets: BTreeMap<String, PrivacyBudget>,
    sealed: bool,
    sealed_mode: Option<SealedMode>,
}

impl std::fmt::Debug for FederationSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FederationSite")
            .field("site_id", &self.options.site_id())
            .field(
                "signers",
                &self
                    .signers
                    .iter()
                    .map(|s| s.key_id().to_owned())
                    .collect::<Vec<_>>(),
            )
            .field("tenants", &self.budgets.keys().collect::<Vec<_>>())
            .field("sealed", &self.is_sealed())
            .finish_non_exhaustive()
    }
}

impl FederationSite {
    /// A site with `options`, reading time from `clock`, with no signer yet.
    pub fn new(options: FederatedTelemetryOptions, clock: Arc<dyn Clock>) -> Self {
        Self {
            sealed: options.sealed(),
            options,
            clock,
            signers: Vec::new(),
            consents: ConsentRegistry::new(),
            budgets: BTreeMap::new(),
            sealed_mode: None,
        }
    }

    /// Adds a signer, builder style. With a `signer_key_id` in the options only the signer of
    /// that key id signs; without one every signer does.
    #[must_use]
    pub fn with_signer(mut self, signer: Arc<dyn EnvelopeSigner>) -> Self {
        self.signers.push(signer);
        self
    }

    /// Follows the egress-policy crate's run-time sealed state too: the site is sealed when
    /// its own flag or `mode` says so.
    #[must_use]
    pub fn with_sealed_mode(mut self, mode: SealedMode) -> Self {
        self.sealed_mode = Some(mode);
        self
    }

    /// The options.
    pub fn options(&self) -> &FederatedTelemetryOptions {
        &self.options
    }

    /// Seals or unseals the site (its own flag).
    pub fn set_sealed(&mut self, sealed: bool) {
        self.sealed = sealed;
    }

    /// Whether the site is sealed: no bundle may leave it.
    pub fn is_sealed(&self) -> bool {
        self.sealed || self.sealed_mode.as_ref().is_some_and(SealedMode::is_sealed)
    }

    fn signing_set(&self) -> Vec<&dyn EnvelopeSigner> {
        self.signers
            .iter()
            .map(|s| s.as_ref() as &dyn EnvelopeSigner)
            .filter(|s| {
                self.options
                    .signer_key_id()
                    .is_none_or(|id| s.key_id() == id)
            })
            .collect()
    }

    fn sign(&self, payload_type: &str, payload: Vec<u8>) -> Result<Envelope, FederationError> {
        Ok(sign_envelope_with_fallback(
            &self.signing_set(),
            payload_type,
            payload,
            self.options.unsigned_fallback(),
        )?)
    }

    /// Grants consent now (Not granted, Expired or Revoked -> Granted) and returns the signed
    /// proof.
    ///
    /// # Errors
    /// [`FederationError::InvalidConsent`] for a grant that breaks a rule, DSSE signing errors.
    pub fn grant_consent(&mut self, grant: ConsentGrant) -> Result<ConsentProof, FederationError> {
        let proof = ConsentProof::sign(
            grant,
            self.clock.now(),
            &self.signing_set(),
            self.options.unsigned_fallback(),
        )?;
        self.consents.record_grant(proof.clone());
        Ok(proof)
    }

    /// Revokes the tenant's consent now; no new bundle can be built for it afterwards. Give the
    /// returned record to peers ([`BundleVerifier::with_revocation`]).
    ///
    /// # Errors
    /// [`FederationError::ConsentNotGranted`] when the tenant never consented.
    pub fn revoke_consent(
        &mut self,
        tenant_id: &str,
        revoked_by: &str,
    ) -> Result<ConsentRevocation, FederationError> {
        self.consents
            .revoke(tenant_id, revoked_by, self.clock.now())
    }

    /// The tenant's consent now.
    pub fn consent_state(&self, tenant_id: &str) -> ConsentState {
        self.consents.state(tenant_id, self.clock.now())
    }

    /// The tenant's privacy budget now (`exhausted`: the next aggregation would be suppressed).
    pub fn budget(&self, tenant_id: &str) -> BudgetReport {
        let now = self.clock.now();
        let epsilon = self.options.epsilon_per_query();
        match self.budgets.get(tenant_id) {
            Some(budget) => budget.report_for_query(epsilon, now),
            None => self.options.new_budget().report_for_query(epsilon, now),
        }
    }

    /// Aggregates the tenant's facts in `window` now: checks consent, charges the epsilon per
    /// query to the tenant's budget (or, when it is exhausted, suppresses the aggregation and
    /// counts it), buckets per CVE, applies k-anonymity, and noises each published bucket with
    /// the query's epsilon split evenly across the published buckets, drawing from `rng`.
    ///
    /// # Errors
    /// Consent errors (nothing is charged then), [`FederationError::InvalidFact`].
    pub fn aggregate<R: RngCore + ?Sized>(
        &mut self,
        tenant_id: &str,
        window: Window,
        facts: &[Fact],
        rng: &mut R,
    ) -> Result<Aggregation, FederationError> {
        let now = self.clock.now();
        self.consents.require_granted(tenant_id, now)?;
        check_facts(facts)?;
        let epsilon = self.options.epsilon_per_query();
        let template = self.options.new_budget();
        let budget = self.budgets.entry(tenant_id.to_owned()).or_insert(template);
        let charged = budget.try_spend(epsilon, now)?;
        let report = budget.report_for_query(epsilon, now);
        if !charged {
            return Ok(Aggregation {
                tenant_id: tenant_id.to_owned(),
                window,
                buckets: Vec::new(),
                suppressed_buckets: 0,
                budget_exhausted: true,
                epsilon: 0.0,
                epsilon_per_bucket: None,
                budget: report,
            });
        }
        let out = aggregate_buckets(
            facts,
            window,
            self.options.k_anonymity(),
            self.options.sensitivity(),
            epsilon,
            rng,
        )?;
        Ok(Aggregation {
            tenant_id: tenant_id.to_owned(),
            window,
            buckets: out.buckets,
            suppressed_buckets: out.suppressed,
            budget_exhausted: false,
            epsilon,
            epsilon_per_bucket: out.epsilon_per_bucket,
            budget: report,
        })
    }

    /// The payload `aggregation` becomes now (consent checked now), unsigned.
    ///
    /// # Errors
    /// Consent errors: the tenant's consent must be granted at build time.
    pub fn bundle_payload(
        &self,
        aggregation: &Aggregation,
    ) -> Result<BundlePayload, FederationError> {
        let now = self.clock.now();
        let proof = self.consents.require_granted(&aggregation.tenant_id, now)?;
        let mut payload = BundlePayload {
            bundle_id: String::new(),
            site_id: self.options.site_id().to_owned(),
            tenant_id: aggregation.tenant_id.clone(),
            consent_digest: proof.digest().to_owned(),
            created_at: whole_seconds(now),
            window: aggregation.window,
            k_anonymity: self.options.k_anonymity(),
            epsilon: aggregation.epsilon,
            sensitivity: self.options.sensitivity(),
            suppressed_buckets: aggregation.suppressed_buckets,
            budget_exhausted: aggregation.budget_exhausted,
            buckets: aggregation.buckets.clone(),
        };
        payload.bundle_id = payload.derive_bundle_id()?;
        Ok(payload)
    }

    /// Builds and signs the bundle for `aggregation`, with the tenant's consent proof. Building
    /// is allowed while sealed; sending is not ([`authorize_sync`](Self::authorize_sync)).
    ///
    /// # Errors
    /// Consent errors (not granted, expired, revoked at build time), DSSE signing errors.
    pub fn build_bundle(
        &self,
        aggregation: &Aggregation,
    ) -> Result<FederatedBundle, FederationError> {
        let payload = self.bundle_payload(aggregation)?;
        let proof = self
            .consents
            .require_granted(&aggregation.tenant_id, self.clock.now())?;
        let envelope = self.sign(BUNDLE_PAYLOAD_TYPE, payload.to_canonical_json()?)?;
        let json = envelope.to_json();
        Ok(FederatedBundle {
            bundle_id: payload.bundle_id,
            envelope_digest: sha256_digest(json.as_bytes()),
            envelope: json,
            consent: proof.envelope_json().to_owned(),
            consent_digest: proof.digest().to_owned(),
            signer_key_ids: envelope.signatures.into_iter().map(|s| s.keyid).collect(),
        })
    }

    /// The egress request federation sync makes for `endpoint`: component
    /// [`SYNC_COMPONENT`], signal metrics (bundles are aggregates), intent [`SYNC_INTENT`].
    pub fn sync_request(endpoint: Endpoint) -> EgressRequest {
        EgressRequest::new(SYNC_COMPONENT, Signal::Metrics, endpoint).with_intent(SYNC_INTENT)
    }

    /// Whether a bundle may be sent to `endpoint` now: never while sealed; otherwise as
    /// `decide` (an egress policy or guard: `|r| guard.decide(r)`) says.
    ///
    /// # Errors
    /// [`FederationError::Sealed`] while sealed (the policy is not asked),
    /// [`FederationError::EgressDenied`] with the policy's reason and remediation.
    pub fn authorize_sync(
        &self,
        endpoint: Endpoint,
        decide: impl FnOnce(&EgressRequest) -> EgressDecision,
    ) -> Result<EgressDecision, FederationError> {
        if self.is_sealed() {
            return Err(FederationError::Sealed);
        }
        let decision = decide(&Self::sync_request(endpoint));
        if decision.allowed() {
            Ok(decision)
        } else {
            Err(FederationError::EgressDenied {
                reason: decision.reason().to_owned(),
                remediation: decision.remediation().map(str::to_owned),
            })
        }
    }

    /// A verifier for peers' bundles built from this site's options.
    pub fn verifier(&self) -> BundleVerifier {
        BundleVerifier::from_options(&self.options)
    }
}

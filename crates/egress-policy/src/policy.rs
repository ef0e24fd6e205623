//! The egress policy contract: a request, a decision, the [`EgressPolicy`] trait, and the two
//! policies that need no configuration ([`Unrestricted`], and [`AllOf`] for composition).
//!
//! Concrete restrictions live beside it: [`SealedModePolicy`](crate::SealedModePolicy) and
//! [`ExporterAllowList`](crate::ExporterAllowList).

use std::sync::Arc;

use crate::endpoint::Endpoint;
use stellaops_telemetry_model::Signal;

/// A question put to an [`EgressPolicy`]: may this exporter send this signal to this
/// endpoint?
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EgressRequest {
    component: String,
    intent: String,
    signal: Signal,
    endpoint: Endpoint,
}

impl EgressRequest {
    /// The default [`intent`](Self::intent): `export`.
    pub const DEFAULT_INTENT: &'static str = "export";

    /// A request from `component` (the exporter's configured name, such as `otlp` or
    /// `scanner.otlp-traces`; allow-lists can name it) to send `signal` to `endpoint`.
    pub fn new(component: impl Into<String>, signal: Signal, endpoint: Endpoint) -> Self {
        EgressRequest {
            component: component.into(),
            intent: Self::DEFAULT_INTENT.to_owned(),
            signal,
            endpoint,
        }
    }

    /// Says why the data is sent (`export`, `forensic-bundle`, `federation-sync`...), shown in
    /// warnings.
    #[must_use]
    pub fn with_intent(mut self, intent: impl Into<String>) -> Self {
        self.intent = intent.into();
        self
    }

    /// The exporter or component asking.
    pub fn component(&self) -> &str {
        &self.component
    }

    /// Why the data is sent.
    pub fn intent(&self) -> &str {
        &self.intent
    }

    /// The signal to send.
    pub fn signal(&self) -> Signal {
        self.signal
    }

    /// Where to send it.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }
}

/// The answer to an [`EgressRequest`]: allowed or denied, why, and for a denial what an
/// operator can do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EgressDecision {
    allowed: bool,
    reason: String,
    remediation: Option<String>,
}

impl EgressDecision {
    /// An allowing decision.
    pub fn allow(reason: impl Into<String>) -> Self {
        EgressDecision {
            allowed: true,
            reason: reason.into(),
            remediation: None,
        }
    }

    /// A denying decision; `remediation` says what an operator can change to get the data out
    /// (or where it goes instead).
    pub fn deny(reason: impl Into<String>, remediation: impl Into<String>) -> Self {
        EgressDecision {
            allowed: false,
            reason: reason.into(),
            remediation: Some(remediation.into()),
        }
    }

    /// The decision every policy takes for an invalid endpoint.
    pub fn deny_invalid(request: &EgressRequest) -> Self {
        EgressDecision::deny(
            request.endpoint().explain(),
            "fix the exporter's endpoint: write http://host:port or https://host:port \
             (a local collector is http://127.0.0.1:4317), host:port, unix:///path/to.sock, \
             file:///path, or a path starting with / or ./",
        )
    }

    /// Whether the exporter may send.
    pub fn allowed(&self) -> bool {
        self.allowed
    }

    /// `allowed` or `denied`: the label value in metrics.
    pub fn as_str(&self) -> &'static str {
        if self.allowed { "allowed" } else { "denied" }
    }

    /// Why.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// What an operator can do, for denials; `None` when allowed.
    pub fn remediation(&self) -> Option<&str> {
        self.remediation.as_deref()
    }
}

/// Decides whether an exporter may send a signal to an endpoint (the spec's `IEgressPolicy`).
///
/// Implementations must be cheap and must not block or resolve names: exporters are decided
/// at start-up and again whenever sealing changes. Every implementation in this crate denies
/// invalid endpoints.
pub trait EgressPolicy: Send + Sync {
    /// Decides one request.
    fn decide(&self, request: &EgressRequest) -> EgressDecision;
}

impl<P: EgressPolicy + ?Sized> EgressPolicy for Arc<P> {
    fn decide(&self, request: &EgressRequest) -> EgressDecision {
        (**self).decide(request)
    }
}

impl<P: EgressPolicy + ?Sized> EgressPolicy for Box<P> {
    fn decide(&self, request: &EgressRequest) -> EgressDecision {
        (**self).decide(request)
    }
}

impl<P: EgressPolicy + ?Sized> EgressPolicy for &P {
    fn decide(&self, request: &EgressRequest) -> EgressDecision {
        (**self).decide(request)
    }
}

/// What "no policy configured" means: every valid endpoint is allowed (invalid ones are still
/// denied, since nothing can be sent to them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unrestricted;

impl EgressPolicy for Unrestricted {
    fn decide(&self, request: &EgressRequest) -> EgressDecision {
        if request.endpoint().error().is_some() {
            return EgressDecision::deny_invalid(request);
        }
        EgressDecision::allow(format!(
            "no egress policy is configured, so {} may be used",
            request.endpoint().explain()
        ))
    }
}

/// Composition: allowed only when every policy allows. The first denial is the decision;
/// with no policies it behaves as [`Unrestricted`].
///
/// ```
/// use stellaops_egress_policy::*;
///
/// let mode = SealedMode::new(SealState::Unsealed);
/// let policy = AllOf::new()
///     .with(SealedModePolicy::new(mode.clone()))
///     .with(ExporterAllowList::builder().endpoint("*.corp.example:4317")?.build());
/// let request = |e: &str| EgressRequest::new("otlp", Signal::Traces, Endpoint::parse(e));
///
/// assert!(policy.decide(&request("https://otel.corp.example:4317")).allowed());
/// assert!(!policy.decide(&request("https://otel.elsewhere.example:4317")).allowed());
/// mode.seal();
/// assert!(!policy.decide(&request("https://otel.corp.example:4317")).allowed());
/// assert!(policy.decide(&request("http://127.0.0.1:4317")).allowed());
/// # Ok::<(), PatternError>(())
/// ```
#[derive(Clone, Default)]
pub struct AllOf {
    policies: Vec<Arc<dyn EgressPolicy>>,
}

impl AllOf {
    /// No policies yet (allows every valid endpoint until one is added).
    pub fn new() -> Self {
        AllOf::default()
    }

    /// Adds a policy that must also allow.
    #[must_use]
    pub fn with(mut self, policy: impl EgressPolicy + 'static) -> Self {
        self.policies.push(Arc::new(policy));
        self
    }

    /// Adds a shared policy that must also allow.
    #[must_use]
    pub fn with_shared(mut self, policy: Arc<dyn EgressPolicy>) -> Self {
        self.policies.push(policy);
        self
    }

    /// How many policies are composed.
    pub fn len(&self) -> usize {
        self.policies.len()
    }

    /// Whether no policy is composed (then every valid endpoint is allowed).
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }
}

impl std::fmt::Debug for AllOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AllOf")
            .field("policies", &self.policies.len())
            .finish()
    }
}

impl EgressPolicy for AllOf {
    fn decide(&self, request: &EgressRequest) -> EgressDecision {
        if self.policies.is_empty() {
            return Unrestricted.decide(request);
        }
        let mut reasons = Vec::with_capacity(self.policies.len());
        for policy in &self.policies {
            let decision = policy.decide(request);
            if !decision.allowed() {
                return decision;
            }
            reasons.push(decision.reason);
        }
        EgressDecision::allow(reasons.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(bool, &'static str);

    impl EgressPolicy for Fixed {
        fn decide(&self, _: &EgressRequest) -> EgressDecision {
            if self.0 {
                EgressDecision::allow(self.1)
            } else {
                EgressDecision::deny(self.1, "fix it")
            }
        }
    }

    fn request(endpoint: &str) -> EgressRequest {
        EgressRequest::new("otlp", Signal::Logs, Endpoint::parse(endpoint))
    }

    #[test]
    fn no_policy_allows_valid_and_denies_invalid_endpoints() {
        let decision = Unrestricted.decide(&request("https://collector.example:4318"));
        assert!(decision.allowed());
        assert_eq!(decision.remediation(), None);
        assert!(decision.reason().contains("no egress policy"));
        let decision = AllOf::new().decide(&request("ftp://x"));
        assert!(!decision.allowed());
        assert!(decision.reason().contains("ftp"));
        assert!(
            decision
                .remediation()
                .is_some_and(|r| r.contains("fix the exporter's endpoint"))
        );
    }

    #[test]
    fn all_of_returns_the_first_denial_and_joins_allowing_reasons() {
        let policy = AllOf::new()
            .with(Fixed(true, "a"))
            .with(Fixed(false, "b"))
            .with(Fixed(false, "c"));
        let decision = policy.decide(&request("http://127.0.0.1"));
        assert!(!decision.allowed());
        assert_eq!(decision.reason(), "b");
        let policy = AllOf::new().with(Fixed(true, "a")).with(Fixed(true, "b"));
        assert_eq!(policy.decide(&request("http://127.0.0.1")).reason(), "a; b");
        assert_eq!(policy.len(), 2);
    }

    #[test]
    fn requests_carry_intent() {
        let r = request("/x").with_intent("forensic-bundle");
        assert_eq!(r.intent(), "forensic-bundle");
        assert_eq!(request("/x").intent(), EgressRequest::DEFAULT_INTENT);
        assert_eq!(r.component(), "otlp");
        assert_eq!(r.signal(), Signal::Logs);
    }
}

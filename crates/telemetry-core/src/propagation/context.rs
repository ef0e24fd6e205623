//! What a request or job carries across process boundaries (trace parent, trace state,
//! baggage, tenant, actor, imposed rule), the header names, and extraction from and injection
//! into `http::HeaderMap`.

use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};

use super::baggage::Baggage;
use super::error::PropagationError;
use super::headers::*;
use super::traceparent::TraceParent;
use super::tracestate::TraceState;

/// Everything propagated with a request or job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PropagationContext {
    /// The caller's trace position, if a valid `traceparent` arrived.
    pub traceparent: Option<TraceParent>,
    /// Vendor trace state (empty when absent or invalid).
    pub tracestate: TraceState,
    /// Cross-service attributes.
    pub baggage: Baggage,
    /// `x-stella-tenant`.
    pub tenant: Option<String>,
    /// `x-stella-actor`.
    pub actor: Option<String>,
    /// `x-stella-imposed-rule`.
    pub imposed_rule: Option<String>,
}

/// The result of extraction: the context, and every header that was refused and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extracted {
    /// What was accepted.
    pub context: PropagationContext,
    /// What was refused (for a log line or a counter; never fatal by itself).
    pub problems: Vec<PropagationError>,
}

/// Which header names to use: HTTP (`x-stella-*`) or gRPC metadata (`stella-*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Carrier {
    /// HTTP headers.
    #[default]
    Http,
    /// gRPC metadata.
    Grpc,
}

impl Carrier {
    fn names(self) -> [&'static str; 3] {
        match self {
            Carrier::Http => [HTTP_TENANT, HTTP_ACTOR, HTTP_IMPOSED_RULE],
            Carrier::Grpc => [GRPC_TENANT, GRPC_ACTOR, GRPC_IMPOSED_RULE],
        }
    }
}

impl PropagationContext {
    /// Extracts the context from HTTP headers (see [`PropagationContext::extract_from`]).
    pub fn extract(headers: &HeaderMap) -> Extracted {
        Self::extract_from(headers, Carrier::Http)
    }

    /// Extracts the context from headers or gRPC metadata (as an `http::HeaderMap`).
    /// Multiple `tracestate` and `baggage` headers are combined in order; an invalid
    /// `traceparent` also drops `tracestate` (the specification ties them together).
    pub fn extract_from(headers: &HeaderMap, carrier: Carrier) -> Extracted {
        let mut out = Extracted::default();
        let parents: Vec<&HeaderValue> = headers.get_all(TRACEPARENT).iter().collect();
        match parents.as_slice() {
            [] => {}
            [one] => match one.to_str() {
                Ok(text) => match TraceParent::parse(text) {
                    Ok(tp) => out.context.traceparent = Some(tp),
                    Err(e) => out.problems.push(e),
                },
                Err(_) => out.problems.push(PropagationError::TraceParent {
                    field: "header",
                    detail: "not visible ASCII".into(),
                }),
            },
            many => out
                .problems
                .push(PropagationError::DuplicateTraceParent { count: many.len() }),
        }
        if let (Some(_), Some(joined)) = (out.context.traceparent, joined(headers, TRACESTATE)) {
            match TraceState::parse(&joined) {
                Ok(ts) => out.context.tracestate = ts,
                Err(e) => out.problems.push(e),
            }
        }
        if let Some(joined) = joined(headers, BAGGAGE) {
            out.context.baggage = Baggage::parse(&joined);
        }
        let [tenant, actor, rule] = carrier.names();
        out.context.tenant = stella_value(headers, tenant, &mut out.problems);
        out.context.actor = stella_value(headers, actor, &mut out.problems);
        out.context.imposed_rule = stella_value(headers, rule, &mut out.problems);
        out
    }

    /// Writes the context into HTTP headers for an outgoing request, replacing what was there.
    pub fn inject(&self, headers: &mut HeaderMap) {
        self.inject_into(headers, Carrier::Http);
    }

    /// Writes the context into headers or gRPC metadata, replacing what was there.
    pub fn inject_into(&self, headers: &mut HeaderMap, carrier: Carrier) {
        let mut set = |name: &'static str, value: Option<String>| {
            let name = HeaderName::from_static(name);
            headers.remove(&name);
            if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
                headers.insert(name, v);
            }
        };
        set(TRACEPARENT, self.traceparent.map(|tp| tp.to_header()));
        set(
            TRACESTATE,
            (self.traceparent.is_some() && !self.tracestate.is_empty())
                .then(|| self.tracestate.to_header()),
        );
        set(
            BAGGAGE,
            (!self.baggage.is_empty()).then(|| self.baggage.to_header()),
        );
        let [tenant, actor, rule] = carrier.names();
        set(tenant, self.tenant.clone());
        set(actor, self.actor.clone());
        set(rule, self.imposed_rule.clone());
    }

    /// The context for a call made from within span `span_id` of this trace: the same
    /// trace, tenant, actor, state and baggage, with `span_id` as the new parent.
    pub fn for_child(&self, span_id: [u8; 8]) -> Self {
        Self {
            traceparent: self.traceparent.map(|tp| tp.with_parent_id(span_id)),
            ..self.clone()
        }
    }

    /// The tenant, enforcing the rule that every request names one and that `unknown` is
    /// reserved for sealed diagnostics jobs.
    ///
    /// # Errors
    /// [`PropagationError::MissingTenant`] or [`PropagationError::UnknownTenantNotAllowed`].
    pub fn require_tenant(&self, sealed_diagnostics: bool) -> Result<&str, PropagationError> {
        match self.tenant.as_deref() {
            None => Err(PropagationError::MissingTenant),
            Some(UNKNOWN_TENANT) if !sealed_diagnostics => {
                Err(PropagationError::UnknownTenantNotAllowed)
            }
            Some(t) => Ok(t),
        }
    }
}

fn joined(headers: &HeaderMap, name: &str) -> Option<String> {
    let parts: Vec<&str> = headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!parts.is_empty()).then(|| parts.join(","))
}

fn stella_value(
    headers: &HeaderMap,
    name: &'static str,
    problems: &mut Vec<PropagationError>,
) -> Option<String> {
    let values: Vec<&HeaderValue> = headers.get_all(name).iter().collect();
    let bad = |detail: String| PropagationError::StellaHeader {
        header: name,
        detail,
    };
    match values.as_slice() {
        [] => None,
        [one] => {
            let text = match one.to_str() {
                Ok(t) => t.trim_matches([' ', '\t']),
                Err(_) => {
                    problems.push(bad("not visible ASCII".into()));
                    return None;
                }
            };
            if text.is_empty() || text.len() > MAX_STELLA_VALUE_LEN {
                problems.push(bad(format!(
                    "expected 1 to {MAX_STELLA_VALUE_LEN} characters, found {}",
                    text.len()
                )));
                return None;
            }
            if !text.bytes().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':' | b'@' | b'/')
            }) {
                problems.push(bad(format!(
                    "{text:?} has characters outside [A-Za-z0-9-_.:@/]"
                )));
                return None;
            }
            Some(text.to_owned())
        }
        many => {
            problems.push(bad(format!(
                "{} values; exactly one is allowed",
                many.len()
            )));
            None
        }
    }
}

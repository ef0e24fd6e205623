//! The exporter allow-list ("exporters are allow-listed to satisfy Sovereign readiness"):
//! remote endpoints are allowed only when a named exporter or an endpoint pattern lists them.
//!
//! The allow-list restricts where telemetry may leave the host; it does not restrict local
//! endpoints (loopback, Unix sockets, files). Compose it with
//! [`SealedModePolicy`](crate::SealedModePolicy) through [`AllOf`](crate::AllOf) for both.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use crate::endpoint::{Endpoint, Scheme};
use crate::error::PatternError;
use crate::host::{Host, parse_host};
use crate::policy::{EgressDecision, EgressPolicy, EgressRequest};

/// One allow-list entry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AllowRule {
    /// An exporter allowed by name (`exporter=NAME`): matches requests whose
    /// [`component`](EgressRequest::component) is exactly `NAME`, whatever the endpoint.
    Exporter(String),
    /// Remote endpoints matching a pattern.
    Endpoint(EndpointPattern),
}

impl AllowRule {
    /// Parses `exporter=NAME` or an endpoint pattern `[http://|https://]HOST[:PORT]` where
    /// HOST is a DNS name, `*.domain` (any name below `domain`, not `domain` itself), a
    /// dotted-decimal IPv4 address or a bracketed IPv6 address, and PORT is a number or `*`
    /// (no port: any port). Case does not matter.
    ///
    /// ```
    /// use stellaops_egress_policy::{AllowRule, Endpoint};
    ///
    /// let rule = AllowRule::parse("https://*.corp.example:4318")?;
    /// assert!(rule.matches_endpoint(&Endpoint::parse("https://otel.corp.example:4318/v1/logs")));
    /// assert!(!rule.matches_endpoint(&Endpoint::parse("http://otel.corp.example:4318")));
    /// assert!(!rule.matches_endpoint(&Endpoint::parse("https://corp.example:4318")));
    /// # Ok::<(), stellaops_egress_policy::PatternError>(())
    /// ```
    ///
    /// # Errors
    /// A [`PatternError`] naming the part of the pattern that is not understood.
    pub fn parse(pattern: &str) -> Result<AllowRule, PatternError> {
        let trimmed = pattern.trim();
        if trimmed.is_empty() {
            return Err(PatternError::Empty);
        }
        if let Some(name) = strip_prefix_ignore_case(trimmed, "exporter=") {
            if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(PatternError::BadExporterName {
                    pattern: pattern.to_owned(),
                });
            }
            return Ok(AllowRule::Exporter(name.to_owned()));
        }
        EndpointPattern::parse(trimmed).map(AllowRule::Endpoint)
    }

    /// Whether this rule allows `request`.
    pub fn matches(&self, request: &EgressRequest) -> bool {
        match self {
            AllowRule::Exporter(name) => request.component() == name,
            AllowRule::Endpoint(pattern) => pattern.matches(request.endpoint()),
        }
    }

    /// Whether this rule allows `endpoint` whatever the exporter (always false for
    /// [`AllowRule::Exporter`]).
    pub fn matches_endpoint(&self, endpoint: &Endpoint) -> bool {
        match self {
            AllowRule::Exporter(_) => false,
            AllowRule::Endpoint(pattern) => pattern.matches(endpoint),
        }
    }
}

impl FromStr for AllowRule {
    type Err = PatternError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AllowRule::parse(s)
    }
}

impl fmt::Display for AllowRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllowRule::Exporter(name) => write!(f, "exporter={name}"),
            AllowRule::Endpoint(pattern) => pattern.fmt(f),
        }
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

/// A pattern matching remote network endpoints: optional scheme, host or `*.domain`, optional
/// port. Hosts that clients read differently ([`Host::Ambiguous`]) never match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointPattern {
    scheme: Option<Scheme>,
    host: HostPattern,
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Exact(Host),
    /// `*.corp.example`, stored as `.corp.example`.
    Below(String),
}

impl EndpointPattern {
    /// Parses `[http://|https://]HOST[:PORT]`; see [`AllowRule::parse`].
    ///
    /// # Errors
    /// A [`PatternError`] naming the part that is not understood.
    pub fn parse(pattern: &str) -> Result<EndpointPattern, PatternError> {
        let text = pattern.trim();
        if text.is_empty() {
            return Err(PatternError::Empty);
        }
        let (scheme, rest) = match text.find("://") {
            Some(i) => {
                let name = text.get(..i).unwrap_or("").to_ascii_lowercase();
                let scheme = match name.as_str() {
                    "http" => Scheme::Http,
                    "https" => Scheme::Https,
                    _ => {
                        return Err(PatternError::BadScheme {
                            pattern: pattern.to_owned(),
                            scheme: name,
                        });
                    }
                };
                (Some(scheme), text.get(i + 3..).unwrap_or(""))
            }
            None => (None, text),
        };
        if scheme.is_none() {
            let lower = rest.to_ascii_lowercase();
            if let Some(local) = ["unix:", "file:"]
                .into_iter()
                .find(|p| lower.starts_with(p))
            {
                return Err(PatternError::BadScheme {
                    pattern: pattern.to_owned(),
                    scheme: local.trim_end_matches(':').to_owned(),
                });
            }
            if lower.starts_with(['/', '.', '\\']) {
                return Err(PatternError::Unexpected {
                    pattern: pattern.to_owned(),
                    found: "a local path (local endpoints need no entry)".to_owned(),
                });
            }
        }
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let unexpected = |found: &str| PatternError::Unexpected {
            pattern: pattern.to_owned(),
            found: found.to_owned(),
        };
        if rest.contains('@') {
            return Err(unexpected("user info"));
        }
        if rest.contains(['/', '\\', '?', '#']) {
            return Err(unexpected("a path, query or fragment"));
        }
        let (host_text, port_text) = split_host_port(rest);
        let port = match port_text {
            None | Some("*") => None,
            Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
                Some(p.parse::<u16>().map_err(|_| PatternError::BadPort {
                    pattern: pattern.to_owned(),
                    port: p.to_owned(),
                })?)
            }
            Some(p) => {
                return Err(PatternError::BadPort {
                    pattern: pattern.to_owned(),
                    port: p.to_owned(),
                });
            }
        };
        let bad_host = || PatternError::BadHost {
            pattern: pattern.to_owned(),
            host: host_text.to_owned(),
        };
        let host = match host_text.strip_prefix("*.") {
            Some(domain) => match parse_host(domain) {
                Ok(Host::Domain(name)) if is_plain_name(&name) => {
                    HostPattern::Below(format!(".{name}"))
                }
                _ => return Err(bad_host()),
            },
            None => match parse_host(host_text) {
                Ok(Host::Domain(name)) if is_plain_name(&name) => {
                    HostPattern::Exact(Host::Domain(name))
                }
                Ok(host @ (Host::Ipv4(_) | Host::Ipv6(_))) => HostPattern::Exact(host),
                _ => return Err(bad_host()),
            },
        };
        Ok(EndpointPattern { scheme, host, port })
    }

    /// Whether `endpoint` is a network endpoint this pattern names.
    pub fn matches(&self, endpoint: &Endpoint) -> bool {
        let Some(host) = endpoint.host() else {
            return false;
        };
        if let Some(scheme) = self.scheme
            && endpoint.scheme() != Some(scheme)
        {
            return false;
        }
        if let Some(port) = self.port
            && endpoint.effective_port() != Some(port)
        {
            return false;
        }
        match (&self.host, host) {
            (HostPattern::Exact(Host::Domain(want)), Host::Domain(got)) => want == got,
            (HostPattern::Below(suffix), Host::Domain(got)) => {
                got.len() > suffix.len() && got.ends_with(suffix.as_str())
            }
            (HostPattern::Exact(want), got) => match (ip_of(want), ip_of(got)) {
                (Some(want), Some(got)) => want == got,
                _ => false,
            },
            (HostPattern::Below(_), _) => false,
        }
    }
}

/// Letters, digits, `-` and `_` in non-empty labels, no trailing dot: what a DNS name in a
/// configuration file looks like. Catches typos such as `exporter:otlp` or `a=b`.
fn is_plain_name(name: &str) -> bool {
    name.split('.').all(|label| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

fn ip_of(host: &Host) -> Option<IpAddr> {
    match host {
        Host::Ipv4(ip) => Some(IpAddr::V4(*ip)),
        Host::Ipv6(ip) => Some(IpAddr::V6(*ip).to_canonical()),
        _ => None,
    }
}

fn split_host_port(text: &str) -> (&str, Option<&str>) {
    if text.starts_with('[') {
        return match text.find(']') {
            Some(end) => {
                let (host, after) = text.split_at(end + 1);
                match after.strip_prefix(':') {
                    Some(port) => (host, Some(port)),
                    None if after.is_empty() => (host, None),
                    None => (text, None),
                }
            }
            None => (text, None),
        };
    }
    match text.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (text, None),
    }
}

impl FromStr for EndpointPattern {
    type Err = PatternError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EndpointPattern::parse(s)
    }
}

impl fmt::Display for EndpointPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(scheme) = self.scheme {
            write!(f, "{scheme}://")?;
        }
        match &self.host {
            HostPattern::Exact(host) => write!(f, "{host}")?,
            HostPattern::Below(suffix) => write!(f, "*{suffix}")?,
        }
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

/// Allows remote endpoints only when an entry names the exporter or matches the endpoint.
/// Local endpoints are always allowed (they do not leave the host), invalid ones never. An
/// empty list allows no remote endpoint; to allow every endpoint, configure no policy.
///
/// ```
/// use stellaops_egress_policy::*;
///
/// let list = ExporterAllowList::builder()
///     .exporter("tempo")
///     .endpoint("collector.corp.example:4317")?
///     .build();
/// let decide = |component: &str, e: &str| {
///     list.decide(&EgressRequest::new(component, Signal::Traces, Endpoint::parse(e)))
/// };
/// assert!(decide("otlp", "http://collector.corp.example:4317").allowed());
/// assert!(decide("tempo", "https://tempo.elsewhere.example").allowed());
/// assert!(decide("otlp", "./logs/traces.otlp").allowed());
/// assert!(!decide("otlp", "https://collector.corp.example:4318").allowed());
/// # Ok::<(), PatternError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExporterAllowList {
    rules: Vec<AllowRule>,
}

impl ExporterAllowList {
    /// A builder starting from an empty list.
    pub fn builder() -> ExporterAllowListBuilder {
        ExporterAllowListBuilder::default()
    }

    /// A list of already parsed rules.
    pub fn new(rules: impl IntoIterator<Item = AllowRule>) -> Self {
        ExporterAllowList {
            rules: rules.into_iter().collect(),
        }
    }

    /// Parses every pattern with [`AllowRule::parse`].
    ///
    /// # Errors
    /// The first pattern that does not parse.
    pub fn parse<I>(patterns: I) -> Result<Self, PatternError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        patterns
            .into_iter()
            .map(|p| AllowRule::parse(p.as_ref()))
            .collect::<Result<Vec<_>, _>>()
            .map(|rules| ExporterAllowList { rules })
    }

    /// The entries, in order.
    pub fn rules(&self) -> &[AllowRule] {
        &self.rules
    }

    /// The first entry allowing `request`, if any.
    pub fn matching_rule(&self, request: &EgressRequest) -> Option<&AllowRule> {
        self.rules.iter().find(|rule| rule.matches(request))
    }

    fn listed(&self) -> String {
        const SHOWN: usize = 5;
        let mut shown: Vec<String> = self
            .rules
            .iter()
            .take(SHOWN)
            .map(|r| format!("`{r}`"))
            .collect();
        if self.rules.len() > SHOWN {
            shown.push(format!("and {} more", self.rules.len() - SHOWN));
        }
        if shown.is_empty() {
            "the list is empty".to_owned()
        } else {
            format!("allowed: {}", shown.join(", "))
        }
    }
}

impl EgressPolicy for ExporterAllowList {
    fn decide(&self, request: &EgressRequest) -> EgressDecision {
        let endpoint = request.endpoint();
        if endpoint.error().is_some() {
            return EgressDecision::deny_invalid(request);
        }
        if endpoint.is_local() {
            return EgressDecision::allow(format!(
                "{} stays on this host (the exporter allow-list restricts only remote endpoints)",
                endpoint.explain()
            ));
        }
        if let Some(rule) = self.matching_rule(request) {
            return EgressDecision::allow(format!(
                "{} is allowed by exporter allow-list entry `{rule}`",
                endpoint.explain()
            ));
        }
        let suggestion = match (endpoint.host(), endpoint.effective_port()) {
            (Some(Host::Ambiguous { .. }), _) => {
                "write the host as a plain name or a dotted-decimal address (hosts clients read \
                 differently never match an entry), then add it"
                    .to_owned()
            }
            (Some(host), Some(port)) => format!("add the entry `{host}:{port}`"),
            (Some(host), None) => format!("add the entry `{host}`"),
            (None, _) => "add an entry for it".to_owned(),
        };
        EgressDecision::deny(
            format!(
                "{} matches no entry of the exporter allow-list ({})",
                endpoint.explain(),
                self.listed()
            ),
            format!(
                "point the exporter at an allow-listed collector or at one on this host \
                 (http://127.0.0.1:4317), or, if this destination is approved, {suggestion} \
                 to the exporter allow-list"
            ),
        )
    }
}

/// Builds an [`ExporterAllowList`].
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct ExporterAllowListBuilder {
    rules: Vec<AllowRule>,
}

impl ExporterAllowListBuilder {
    /// Allows the exporter named `name` (see [`AllowRule::Exporter`]).
    pub fn exporter(mut self, name: impl Into<String>) -> Self {
        self.rules.push(AllowRule::Exporter(name.into()));
        self
    }

    /// Allows endpoints matching `pattern` (see [`AllowRule::parse`]).
    ///
    /// # Errors
    /// A [`PatternError`] when the pattern does not parse.
    pub fn endpoint(mut self, pattern: &str) -> Result<Self, PatternError> {
        self.rules
            .push(AllowRule::Endpoint(EndpointPattern::parse(pattern)?));
        Ok(self)
    }

    /// Adds a parsed rule.
    pub fn rule(mut self, rule: AllowRule) -> Self {
        self.rules.push(rule);
        self
    }

    /// The list.
    pub fn build(self) -> ExporterAllowList {
        ExporterAllowList { rules: self.rules }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Signal;

    fn matches(pattern: &str, endpoint: &str) -> bool {
        AllowRule::parse(pattern)
            .unwrap()
            .matches_endpoint(&Endpoint::parse(endpoint))
    }

    #[test]
    fn host_port_and_scheme_must_all_match() {
        assert!(matches(
            "collector.example",
            "https://collector.example:4318"
        ));
        assert!(matches("collector.example:4317", "collector.example:4317"));
        assert!(matches("COLLECTOR.example:*", "http://collector.EXAMPLE:9"));
        assert!(matches(
            "collector.example:443",
            "https://collector.example/x"
        ));
        assert!(!matches("collector.example:4317", "collector.example"));
        assert!(!matches(
            "collector.example",
            "https://collector.example.evil.com"
        ));
        assert!(!matches(
            "collector.example",
            "https://collector.example.:4318"
        ));
        assert!(!matches(
            "https://collector.example",
            "collector.example:443"
        ));
        assert!(!matches(
            "https://collector.example",
            "http://collector.example"
        ));
    }

    #[test]
    fn wildcards_match_names_below_the_domain_only() {
        assert!(matches("*.corp.example", "http://a.corp.example"));
        assert!(matches("*.corp.example", "http://a.b.corp.example"));
        assert!(!matches("*.corp.example", "http://corp.example"));
        assert!(!matches("*.corp.example", "http://evilcorp.example"));
        assert!(!matches("*.corp.example", "http://a.corp.example.evil.com"));
        assert!(!matches("*.corp.example", "http://a.corp.ex%61mple"));
        assert!(!matches("*.corp.example", "http://10.0.0.1"));
    }

    #[test]
    fn addresses_match_by_value() {
        assert!(matches("10.0.0.5:4317", "http://10.0.0.5:4317"));
        assert!(matches("[fd00::0:1]", "http://[fd00::1]"));
        assert!(matches("10.0.0.5", "http://[::ffff:10.0.0.5]"));
        assert!(!matches("10.0.0.5", "http://0xa.0.0.5"));
        assert!(!matches("10.0.0.5", "http://10.0.0.6"));
    }

    #[test]
    fn bad_patterns_are_rejected_with_the_reason() {
        for (pattern, expected) in [
            ("", PatternError::Empty),
            (
                "exporter=",
                PatternError::BadExporterName {
                    pattern: "exporter=".into(),
                },
            ),
            (
                "ftp://x",
                PatternError::BadScheme {
                    pattern: "ftp://x".into(),
                    scheme: "ftp".into(),
                },
            ),
            (
                "/var/log/*",
                PatternError::Unexpected {
                    pattern: "/var/log/*".into(),
                    found: "a local path (local endpoints need no entry)".into(),
                },
            ),
            (
                "unix:///run/otel.sock",
                PatternError::BadScheme {
                    pattern: "unix:///run/otel.sock".into(),
                    scheme: "unix".into(),
                },
            ),
            (
                "user@x",
                PatternError::Unexpected {
                    pattern: "user@x".into(),
                    found: "user info".into(),
                },
            ),
            (
                "x/v1/traces",
                PatternError::Unexpected {
                    pattern: "x/v1/traces".into(),
                    found: "a path, query or fragment".into(),
                },
            ),
            (
                "x:99999",
                PatternError::BadPort {
                    pattern: "x:99999".into(),
                    port: "99999".into(),
                },
            ),
            (
                "*",
                PatternError::BadHost {
                    pattern: "*".into(),
                    host: "*".into(),
                },
            ),
            (
                "a=b:4317",
                PatternError::BadHost {
                    pattern: "a=b:4317".into(),
                    host: "a=b".into(),
                },
            ),
            (
                "0x7f.1",
                PatternError::BadHost {
                    pattern: "0x7f.1".into(),
                    host: "0x7f.1".into(),
                },
            ),
            (
                "*.10.0.0.1",
                PatternError::BadHost {
                    pattern: "*.10.0.0.1".into(),
                    host: "*.10.0.0.1".into(),
                },
            ),
        ] {
            assert_eq!(AllowRule::parse(pattern), Err(expected), "{pattern:?}");
        }
    }

    #[test]
    fn patterns_display_in_normal_form() {
        for (pattern, shown) in [
            (
                "HTTPS://*.Corp.Example:4318/",
                "https://*.corp.example:4318",
            ),
            ("[0:0::1]:*", "[::1]"),
            ("exporter=tempo", "exporter=tempo"),
        ] {
            assert_eq!(AllowRule::parse(pattern).unwrap().to_string(), shown);
        }
    }

    #[test]
    fn denials_name_the_list_and_suggest_an_entry() {
        let list = ExporterAllowList::parse(["a.example", "b.example"]).unwrap();
        let request = EgressRequest::new(
            "otlp",
            Signal::Metrics,
            Endpoint::parse("https://c.example:4318"),
        );
        let decision = list.decide(&request);
        assert!(!decision.allowed());
        assert!(decision.reason().contains("`a.example`, `b.example`"));
        let remediation = decision.remediation().unwrap();
        assert!(remediation.contains("`c.example:4318`"), "{remediation}");
        let empty = ExporterAllowList::default().decide(&request);
        assert!(empty.reason().contains("the list is empty"));
    }
}

//! Exporter endpoints: parsing and classification into local and remote destinations.
//!
//! An [`Endpoint`] is parsed the way HTTP clients parse URLs (WHATWG URL rules for `http` and
//! `https`), never resolved through DNS, and classified by what a client would connect to.
//! Whatever clients could read in more than one way is remote: classification fails closed.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use crate::error::EndpointError;
use crate::host::{Ambiguity, Host, parse_host};

/// What kind of destination an endpoint is. Only [`Loopback`](Self::Loopback),
/// [`Unix`](Self::Unix) and [`File`](Self::File) stay on this host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EndpointClass {
    /// `localhost`, `127.0.0.0/8`, `::1`, or an IPv4-mapped loopback address.
    Loopback,
    /// A Unix domain socket (`unix:///run/otel.sock`).
    Unix,
    /// A local file (`file:///var/spool/x`, `/var/log/x`, `./logs/x`).
    File,
    /// A private-range address: `10/8`, `172.16/12`, `192.168/16`, `100.64/10`, `fc00::/7`,
    /// `fec0::/10`.
    Private,
    /// A link-local address, which includes cloud metadata services: `169.254/16`, `fe80::/10`.
    LinkLocal,
    /// Any other destination: public addresses, every DNS name except `localhost`, and every
    /// host that clients read differently.
    Public,
    /// Not an endpoint any exporter can use; never exported to.
    Invalid,
}

impl EndpointClass {
    /// Every class, in declaration order.
    pub const ALL: [EndpointClass; 7] = [
        EndpointClass::Loopback,
        EndpointClass::Unix,
        EndpointClass::File,
        EndpointClass::Private,
        EndpointClass::LinkLocal,
        EndpointClass::Public,
        EndpointClass::Invalid,
    ];

    /// The stable name used by the CLI and in warnings: `loopback`, `unix`, `file`, `private`,
    /// `link-local`, `public` or `invalid`.
    pub const fn as_str(self) -> &'static str {
        match self {
            EndpointClass::Loopback => "loopback",
            EndpointClass::Unix => "unix",
            EndpointClass::File => "file",
            EndpointClass::Private => "private",
            EndpointClass::LinkLocal => "link-local",
            EndpointClass::Public => "public",
            EndpointClass::Invalid => "invalid",
        }
    }

    /// Whether data sent to this class of endpoint stays on this host.
    pub const fn is_local(self) -> bool {
        matches!(
            self,
            EndpointClass::Loopback | EndpointClass::Unix | EndpointClass::File
        )
    }
}

impl fmt::Display for EndpointClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The scheme of an endpoint written as a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scheme {
    /// `http://` (OTLP/HTTP or OTLP/gRPC without TLS).
    Http,
    /// `https://`.
    Https,
    /// `unix:` (a Unix domain socket, gRPC naming).
    Unix,
    /// `file:`.
    File,
}

impl Scheme {
    /// The scheme's name, lower case, without the colon.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
            Scheme::Unix => "unix",
            Scheme::File => "file",
        }
    }

    /// The port a client uses when none is written: 80 for http, 443 for https.
    pub const fn default_port(self) -> Option<u16> {
        match self {
            Scheme::Http => Some(80),
            Scheme::Https => Some(443),
            Scheme::Unix | Scheme::File => None,
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An exporter endpoint, parsed and classified without DNS.
///
/// Accepted forms: `http://127.0.0.1:4317`, `https://collector.example:4318/v1/traces`,
/// `collector.example:4317` (`host:port` without scheme, as gRPC endpoints are often
/// written), `[::1]:4317`, `unix:///run/otel.sock`, `file:///var/spool/x`, and paths starting
/// with `/`, `./` or `../`. Anything else is [`EndpointClass::Invalid`], with the reason in
/// [`error`](Self::error).
///
/// ```
/// use stellaops_egress_policy::{Endpoint, EndpointClass};
///
/// assert_eq!(Endpoint::parse("http://127.0.0.1:4317").class(), EndpointClass::Loopback);
/// // The host is what follows the last `@` of the authority, as in every HTTP client.
/// assert_eq!(Endpoint::parse("http://127.0.0.1@evil.example").class(), EndpointClass::Public);
/// // Clients disagree about numeric forms other than a.b.c.d: remote, fail closed.
/// assert_eq!(Endpoint::parse("http://0x7f.1/").class(), EndpointClass::Public);
/// assert_eq!(Endpoint::parse("ftp://127.0.0.1").class(), EndpointClass::Invalid);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    raw: String,
    target: Target,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Network(Network),
    Unix { path: String },
    File { path: String, url: bool },
    Invalid(EndpointError),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Network {
    scheme: Option<Scheme>,
    host: Host,
    host_written: String,
    port: Option<u16>,
    port_written: Option<String>,
    has_userinfo: bool,
    path: String,
    has_query: bool,
}

impl Endpoint {
    /// Parses and classifies an endpoint. Never fails: an unusable string becomes an endpoint of
    /// class [`EndpointClass::Invalid`] whose [`error`](Self::error) says why.
    pub fn parse(input: &str) -> Endpoint {
        let target = parse_target(input).unwrap_or_else(Target::Invalid);
        Endpoint {
            raw: input.to_owned(),
            target,
        }
    }

    /// Parses an endpoint, returning the reason as an error when it is invalid (for
    /// configuration that should be rejected at start-up rather than denied later).
    ///
    /// # Errors
    /// The [`EndpointError`] saying what was expected and what was found.
    pub fn try_parse(input: &str) -> Result<Endpoint, EndpointError> {
        let endpoint = Endpoint::parse(input);
        match endpoint.target {
            Target::Invalid(error) => Err(error),
            _ => Ok(endpoint),
        }
    }

    /// The endpoint exactly as it was given (may contain credentials; see
    /// [`redacted`](Self::redacted) for logs).
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The class of destination.
    pub fn class(&self) -> EndpointClass {
        match &self.target {
            Target::Network(network) => classify_host(&network.host),
            Target::Unix { .. } => EndpointClass::Unix,
            Target::File { .. } => EndpointClass::File,
            Target::Invalid(_) => EndpointClass::Invalid,
        }
    }

    /// Whether data sent here stays on this host (loopback, Unix socket or file).
    pub fn is_local(&self) -> bool {
        self.class().is_local()
    }

    /// The scheme, when the endpoint was written as a URL (`None` for `host:port` and paths).
    pub fn scheme(&self) -> Option<Scheme> {
        match &self.target {
            Target::Network(network) => network.scheme,
            Target::Unix { .. } => Some(Scheme::Unix),
            Target::File { url, .. } => url.then_some(Scheme::File),
            Target::Invalid(_) => None,
        }
    }

    /// The host, for network endpoints.
    pub fn host(&self) -> Option<&Host> {
        match &self.target {
            Target::Network(network) => Some(&network.host),
            _ => None,
        }
    }

    /// The port as written, for network endpoints.
    pub fn port(&self) -> Option<u16> {
        match &self.target {
            Target::Network(network) => network.port,
            _ => None,
        }
    }

    /// The port a client connects to: the written port, else the scheme's default.
    pub fn effective_port(&self) -> Option<u16> {
        match &self.target {
            Target::Network(network) => network
                .port
                .or_else(|| network.scheme.and_then(Scheme::default_port)),
            _ => None,
        }
    }

    /// The socket or file path, for Unix socket and file endpoints.
    pub fn path(&self) -> Option<&str> {
        match &self.target {
            Target::Unix { path } | Target::File { path, .. } => Some(path),
            _ => None,
        }
    }

    /// Why the endpoint is invalid, if it is.
    pub fn error(&self) -> Option<&EndpointError> {
        match &self.target {
            Target::Invalid(error) => Some(error),
            _ => None,
        }
    }

    /// One sentence saying what this endpoint is and why it has its class, for decision
    /// reasons. Contains no user info or query.
    pub fn explain(&self) -> String {
        match &self.target {
            Target::Network(network) => explain_host(&network.host),
            Target::Unix { path } => format!("Unix socket `{path}`"),
            Target::File { path, .. } => format!("file `{path}`"),
            Target::Invalid(error) => format!("invalid endpoint: {error}"),
        }
    }

    /// The endpoint with user info and query replaced by `[redacted]`, for logs and warnings.
    pub fn redacted(&self) -> String {
        match &self.target {
            Target::Network(network) => {
                let mut out = String::new();
                if let Some(scheme) = network.scheme {
                    out.push_str(scheme.as_str());
                    out.push_str("://");
                }
                if network.has_userinfo {
                    out.push_str("[redacted]@");
                }
                out.push_str(&network.host_written);
                if let Some(port) = &network.port_written {
                    out.push(':');
                    out.push_str(port);
                }
                out.push_str(&network.path);
                if network.has_query {
                    out.push_str("?[redacted]");
                }
                out
            }
            Target::Unix { .. } | Target::File { .. } => self.raw.trim().to_owned(),
            Target::Invalid(_) => redact_text(self.raw.trim()),
        }
    }
}

impl FromStr for Endpoint {
    type Err = EndpointError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Endpoint::try_parse(s)
    }
}

/// Displays the [`redacted`](Endpoint::redacted) form, so endpoints can be logged safely.
impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// WHATWG strips leading and trailing C0 controls and spaces.
fn is_c0_or_space(c: char) -> bool {
    c <= ' '
}

fn parse_target(input: &str) -> Result<Target, EndpointError> {
    let trimmed = input.trim_matches(is_c0_or_space);
    if trimmed.is_empty() {
        return Err(EndpointError::Empty);
    }
    if is_path_like(trimmed) {
        return local_path(trimmed).map(|path| Target::File { path, url: false });
    }
    // WHATWG removes every tab and newline before parsing a URL.
    let stripped: String = trimmed
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let Some((scheme, rest)) = split_scheme(&stripped) else {
        return parse_network(None, &stripped).map(Target::Network);
    };
    let scheme = scheme.to_ascii_lowercase();
    if matches!(scheme.as_str(), "unix" | "file") && is_port_then_path(rest) {
        return Err(EndpointError::HostOrPath {
            found: trimmed.to_owned(),
        });
    }
    match scheme.as_str() {
        "http" => parse_network(Some(Scheme::Http), rest).map(Target::Network),
        "https" => parse_network(Some(Scheme::Https), rest).map(Target::Network),
        "unix" => {
            reject_controls(trimmed)?;
            parse_unix(rest, trimmed).map(|path| Target::Unix { path })
        }
        "file" => {
            reject_controls(trimmed)?;
            parse_file(rest).map(|path| Target::File { path, url: true })
        }
        other => {
            if is_port_then_path(rest) {
                parse_network(None, &stripped).map(Target::Network)
            } else {
                Err(EndpointError::UnknownScheme {
                    scheme: other.to_owned(),
                })
            }
        }
    }
}

fn is_path_like(s: &str) -> bool {
    s.starts_with('/')
        || s.starts_with('\\')
        || s == "."
        || s == ".."
        || s.starts_with("./")
        || s.starts_with("../")
        || s.starts_with(".\\")
        || s.starts_with("..\\")
}

/// A plain path or a file URL's path: local unless it can name a network share.
fn local_path(path: &str) -> Result<String, EndpointError> {
    if path.starts_with("//") || path.starts_with("/\\") || path.starts_with('\\') {
        return Err(EndpointError::NetworkPath {
            path: path.to_owned(),
        });
    }
    reject_controls(path)?;
    Ok(path.to_owned())
}

fn reject_controls(s: &str) -> Result<(), EndpointError> {
    match s.chars().find(|c| c.is_control()) {
        Some(found) => Err(EndpointError::ControlCharacter {
            path: s.to_owned(),
            found,
        }),
        None => Ok(()),
    }
}

/// Splits `scheme:rest` when the input starts with a syntactically valid URL scheme.
fn split_scheme(input: &str) -> Option<(&str, &str)> {
    let mut chars = input.char_indices();
    let (_, first) = chars.next()?;
    if !first.is_ascii_alphabetic() {
        return None;
    }
    for (i, c) in chars {
        if c == ':' {
            return Some((input.get(..i)?, input.get(i + 1..)?));
        }
        if !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) {
            return None;
        }
    }
    None
}

/// `4317` or `4317/v1/traces`: what follows `host:` when an endpoint is `host:port`.
fn is_port_then_path(rest: &str) -> bool {
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && matches!(rest.as_bytes().get(digits), None | Some(b'/'))
}

/// Parses what follows `http:` / `https:` (or a whole scheme-less `host:port`) per WHATWG.
fn parse_network(scheme: Option<Scheme>, rest: &str) -> Result<Network, EndpointError> {
    // Special schemes skip any mix of slashes and backslashes before the authority.
    let rest = if scheme.is_some() {
        rest.trim_start_matches(['/', '\\'])
    } else {
        rest
    };
    let authority_end = rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len());
    let (authority, remainder) = rest.split_at(authority_end);
    // The host follows the last `@` of the authority; before it is user info.
    let (has_userinfo, host_port) = match authority.rfind('@') {
        Some(at) => (true, authority.get(at + 1..).unwrap_or("")),
        None => (false, authority),
    };
    let (host_written, port_written) = split_host_port(host_port);
    let host = parse_host(host_written)?;
    let port = match port_written {
        None | Some("") => None,
        Some(p) => Some(parse_port(p)?),
    };
    check_specified(&host, host_written)?;
    let before_fragment = remainder.split('#').next().unwrap_or("");
    let (path, has_query) = match before_fragment.split_once('?') {
        Some((path, _)) => (path, true),
        None => (before_fragment, false),
    };
    Ok(Network {
        scheme,
        host,
        host_written: host_written.to_owned(),
        port,
        port_written: port_written.filter(|p| !p.is_empty()).map(str::to_owned),
        has_userinfo,
        path: path.to_owned(),
        has_query,
    })
}

/// Splits at the first `:` outside brackets (WHATWG host state).
fn split_host_port(host_port: &str) -> (&str, Option<&str>) {
    let mut in_brackets = false;
    for (i, c) in host_port.char_indices() {
        match c {
            '[' => in_brackets = true,
            ']' => in_brackets = false,
            ':' if !in_brackets => {
                return (host_port.get(..i).unwrap_or(""), host_port.get(i + 1..));
            }
            _ => {}
        }
    }
    (host_port, None)
}

fn parse_port(port: &str) -> Result<u16, EndpointError> {
    let bad = || EndpointError::BadPort {
        port: port.to_owned(),
    };
    if !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let significant = port.trim_start_matches('0');
    if significant.len() > 5 {
        return Err(bad());
    }
    if significant.is_empty() {
        return Ok(0);
    }
    significant.parse::<u16>().map_err(|_| bad())
}

/// The unspecified address is no destination: Linux connects `0.0.0.0` to this host, other
/// systems refuse it. Neither local nor remote, so invalid.
fn check_specified(host: &Host, written: &str) -> Result<(), EndpointError> {
    let unspecified = match host {
        Host::Ipv4(ip) => ip.octets()[0] == 0,
        Host::Ipv6(ip) => {
            ip.is_unspecified() || ip.to_ipv4_mapped().is_some_and(|v4| v4.octets()[0] == 0)
        }
        _ => false,
    };
    if unspecified {
        return Err(EndpointError::UnspecifiedAddress {
            host: written.to_owned(),
        });
    }
    Ok(())
}

/// `unix:///abs/path`, `unix:/abs/path` or `unix:relative/path` (gRPC naming).
fn parse_unix(rest: &str, whole: &str) -> Result<String, EndpointError> {
    let bad = || EndpointError::BadUnixSocket {
        found: whole.to_owned(),
    };
    let path = match rest.strip_prefix("//") {
        // `unix://` must be followed by an absolute path, not by a host.
        Some(after) if after.starts_with('/') => after,
        Some(_) => return Err(bad()),
        None => rest,
    };
    if path.is_empty() || path.starts_with('\\') || path.starts_with("//") {
        return Err(bad());
    }
    Ok(path.to_owned())
}

/// `file:///path`, `file://localhost/path`, `file:/path`; backslashes count as slashes.
fn parse_file(rest: &str) -> Result<String, EndpointError> {
    let normalized = rest.replace('\\', "/");
    let without_fragment = normalized.split('#').next().unwrap_or("");
    let without_query = without_fragment.split('?').next().unwrap_or("");
    let path = match without_query.strip_prefix("//") {
        Some(after) => {
            let host_end = after.find('/').unwrap_or(after.len());
            let (host, path) = after.split_at(host_end);
            if !host.is_empty() && !host.eq_ignore_ascii_case("localhost") {
                return Err(EndpointError::RemoteFile {
                    host: host.to_owned(),
                });
            }
            path
        }
        None => without_query,
    };
    if path.is_empty() {
        return Err(EndpointError::MissingPath);
    }
    local_path(path)
}

fn classify_host(host: &Host) -> EndpointClass {
    match host {
        Host::Domain(name) if name == "localhost" => EndpointClass::Loopback,
        Host::Domain(_) | Host::Ambiguous { .. } => EndpointClass::Public,
        Host::Ipv4(ip) => classify_ipv4(*ip),
        Host::Ipv6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => classify_ipv4(v4),
            None => classify_ipv6(*ip),
        },
    }
}

fn classify_ipv4(ip: Ipv4Addr) -> EndpointClass {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        EndpointClass::Loopback
    } else if ip.is_link_local() {
        EndpointClass::LinkLocal
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        EndpointClass::Private
    } else {
        EndpointClass::Public
    }
}

fn classify_ipv6(ip: Ipv6Addr) -> EndpointClass {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        EndpointClass::Loopback
    } else if first & 0xffc0 == 0xfe80 {
        EndpointClass::LinkLocal
    } else if first & 0xfe00 == 0xfc00 || first & 0xffc0 == 0xfec0 {
        EndpointClass::Private
    } else {
        EndpointClass::Public
    }
}

fn explain_host(host: &Host) -> String {
    match host {
        Host::Domain(name) if name == "localhost" => "host `localhost`".to_owned(),
        Host::Domain(name) if name == "localhost." || name.ends_with(".localhost") => format!(
            "host `{name}` (resolvers may send it to DNS instead of answering locally; only \
             `localhost` itself is local)"
        ),
        Host::Domain(name) => format!("host name `{name}`"),
        Host::Ipv4(ip) => format!("{} address {ip}", address_kind(classify_ipv4(*ip))),
        Host::Ipv6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => format!(
                "IPv4-mapped {} address [{ip}] ({v4})",
                address_kind(classify_ipv4(v4))
            ),
            None => format!("{} address [{ip}]", address_kind(classify_ipv6(*ip))),
        },
        Host::Ambiguous { written, why } => match why {
            Ambiguity::NumericIpv4 { whatwg } => format!(
                "host `{written}` (a numeric IPv4 form other than a.b.c.d, which clients read \
                 differently: a WHATWG URL parser reads {whatwg})"
            ),
            Ambiguity::PercentEncoded { decoded } => format!(
                "host `{written}` (percent-encoded, `{decoded}` once decoded, which some \
                 clients decode and others do not)"
            ),
            Ambiguity::NonAscii => {
                format!("host `{written}` (non-ASCII, which IDNA may map to another name)")
            }
        },
    }
}

fn address_kind(class: EndpointClass) -> &'static str {
    match class {
        EndpointClass::Loopback => "loopback",
        EndpointClass::Private => "private-range",
        EndpointClass::LinkLocal => "link-local",
        _ => "public",
    }
}

/// Best-effort redaction of an unparseable endpoint: everything up to the last `@` after the
/// scheme (a password may hold any character) and the query are dropped.
fn redact_text(raw: &str) -> String {
    let (prefix, rest) = match split_scheme(raw) {
        Some((scheme, after)) if after.starts_with("//") => raw.split_at(scheme.len() + 3),
        _ => ("", raw),
    };
    let mut out = prefix.to_owned();
    match rest.rfind('@') {
        Some(at) => {
            out.push_str("[redacted]@");
            out.push_str(rest.get(at + 1..).unwrap_or(""));
        }
        None => out.push_str(rest),
    }
    let query_from = out.get(prefix.len()..).and_then(|r| r.find('?'));
    if let Some(q) = query_from {
        out.truncate(prefix.len() + q);
        out.push_str("?[redacted]");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(s: &str) -> EndpointClass {
        Endpoint::parse(s).class()
    }

    #[test]
    fn the_lead_examples_classify_as_documented() {
        assert_eq!(class("http://127.0.0.1:4317"), EndpointClass::Loopback);
        assert_eq!(
            class("https://collector.example:4318/v1/traces"),
            EndpointClass::Public
        );
        assert_eq!(class("unix:///run/otel.sock"), EndpointClass::Unix);
        assert_eq!(class("file:///var/spool/x"), EndpointClass::File);
        assert_eq!(class("/var/log/x"), EndpointClass::File);
        assert_eq!(class("./logs/x"), EndpointClass::File);
        assert_eq!(class("localhost:4317"), EndpointClass::Loopback);
        assert_eq!(class("collector:4317"), EndpointClass::Public);
        assert_eq!(class("[::1]:4317"), EndpointClass::Loopback);
        assert_eq!(class("10.1.2.3:4317"), EndpointClass::Private);
    }

    #[test]
    fn userinfo_fragment_and_backslash_tricks_name_the_real_host() {
        for trick in [
            "http://127.0.0.1@evil.com",
            "http://evil.com#@127.0.0.1",
            "http://evil.com\\@127.0.0.1",
            "http://evil.com?@127.0.0.1",
            "http://127.0.0.1:4317@evil.com",
            "http://[::1]@evil.com/",
            "http://localhost@evil.com:4317",
            "http://127.0.0.1\n.evil.com/",
            "user@evil.com:4317",
        ] {
            let endpoint = Endpoint::parse(trick);
            assert_eq!(endpoint.class(), EndpointClass::Public, "{trick:?}");
        }
        let endpoint = Endpoint::parse("http://evil.com\\@127.0.0.1");
        assert_eq!(endpoint.host(), Some(&Host::Domain("evil.com".into())));
        // Backslashes and missing slashes before the authority are accepted like WHATWG does.
        assert_eq!(class("http:/\\/\\127.0.0.1"), EndpointClass::Loopback);
        assert_eq!(class("http:127.0.0.1"), EndpointClass::Loopback);
        assert_eq!(class("HTTP://LOCALHOST:4317"), EndpointClass::Loopback);
        assert_eq!(class("  http://127.0.0.1  "), EndpointClass::Loopback);
    }

    #[test]
    fn non_canonical_and_encoded_hosts_are_remote() {
        for unclear in [
            "http://2130706433/",
            "http://0x7f.1/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://127.0.0.1./",
            "http://localhost./",
            "http://a.localhost/",
            "http://%6cocalhost/",
            "http://%31%32%37.0.0.1/",
            "http://ｌｏｃａｌｈｏｓｔ/",
            "http://local%C2%ADhost/",
            "http://xn--localhost-/",
            "http://[::127.0.0.1]/",
            "http://[64:ff9b::127.0.0.1]/",
            "2130706433:4317",
        ] {
            assert_eq!(class(unclear), EndpointClass::Public, "{unclear}");
        }
        assert!(
            Endpoint::parse("http://0x7f.1/")
                .explain()
                .contains("127.0.0.1")
        );
    }

    #[test]
    fn address_ranges_classify_by_range() {
        for (endpoint, expected) in [
            ("http://[::ffff:127.0.0.1]:4317", EndpointClass::Loopback),
            ("http://[0:0:0:0:0:0:0:1]/", EndpointClass::Loopback),
            ("http://127.255.255.254/", EndpointClass::Loopback),
            ("http://169.254.169.254/", EndpointClass::LinkLocal),
            ("http://[fe80::1]/", EndpointClass::LinkLocal),
            ("http://[::ffff:169.254.169.254]/", EndpointClass::LinkLocal),
            ("http://172.16.0.1/", EndpointClass::Private),
            ("http://172.31.255.255/", EndpointClass::Private),
            ("http://172.32.0.1/", EndpointClass::Public),
            ("http://192.168.1.1/", EndpointClass::Private),
            ("http://100.64.0.1/", EndpointClass::Private),
            ("http://[fd00::1]/", EndpointClass::Private),
            ("http://[fc00::1]/", EndpointClass::Private),
            ("http://8.8.8.8/", EndpointClass::Public),
            ("http://[2001:db8::1]/", EndpointClass::Public),
            ("http://224.0.0.1/", EndpointClass::Public),
            ("http://0.0.0.0:4317/", EndpointClass::Invalid),
            ("http://[::]:4317/", EndpointClass::Invalid),
            ("http://[::ffff:0.0.0.0]/", EndpointClass::Invalid),
        ] {
            assert_eq!(class(endpoint), expected, "{endpoint}");
        }
    }

    #[test]
    fn invalid_endpoints_say_why() {
        for (input, expected) in [
            ("", EndpointError::Empty),
            ("   ", EndpointError::Empty),
            (
                "ftp://127.0.0.1",
                EndpointError::UnknownScheme {
                    scheme: "ftp".into(),
                },
            ),
            ("http://user@/", EndpointError::MissingHost),
            ("http://", EndpointError::MissingHost),
            ("http://:80/", EndpointError::MissingHost),
            (
                "http://host:0x1/",
                EndpointError::BadPort { port: "0x1".into() },
            ),
            (
                "http://host:65536/",
                EndpointError::BadPort {
                    port: "65536".into(),
                },
            ),
            (
                "//evil.com/x",
                EndpointError::NetworkPath {
                    path: "//evil.com/x".into(),
                },
            ),
            (
                "file://evil.com/x",
                EndpointError::RemoteFile {
                    host: "evil.com".into(),
                },
            ),
            (
                "file:\\\\evil.com\\share",
                EndpointError::RemoteFile {
                    host: "evil.com".into(),
                },
            ),
            (
                "unix://evil.com/sock",
                EndpointError::BadUnixSocket {
                    found: "unix://evil.com/sock".into(),
                },
            ),
            ("file:", EndpointError::MissingPath),
            (
                "unix:4317",
                EndpointError::HostOrPath {
                    found: "unix:4317".into(),
                },
            ),
            (
                "FILE:4317/x",
                EndpointError::HostOrPath {
                    found: "FILE:4317/x".into(),
                },
            ),
        ] {
            let endpoint = Endpoint::parse(input);
            assert_eq!(endpoint.class(), EndpointClass::Invalid, "{input:?}");
            assert_eq!(endpoint.error(), Some(&expected), "{input:?}");
            assert_eq!(Endpoint::try_parse(input), Err(expected));
        }
        assert_eq!(class("\\\\server\\share"), EndpointClass::Invalid);
        assert_eq!(class("/\\evil.com"), EndpointClass::Invalid);
        assert_eq!(class("file:////server/share"), EndpointClass::Invalid);
        assert_eq!(class("http://foo.123/"), EndpointClass::Invalid);
        assert_eq!(class("http://[fe80::1%25eth0]/"), EndpointClass::Invalid);
        assert_eq!(class("localhost:4317@evil.com"), EndpointClass::Invalid);
        assert_eq!(class("/var/log/a\0b"), EndpointClass::Invalid);
    }

    #[test]
    fn local_paths_and_sockets_keep_their_path() {
        let cases = [
            (
                "unix:///run/otel.sock",
                "/run/otel.sock",
                EndpointClass::Unix,
            ),
            ("unix:/run/otel.sock", "/run/otel.sock", EndpointClass::Unix),
            ("UNIX:otel.sock", "otel.sock", EndpointClass::Unix),
            ("file:///var/spool/x", "/var/spool/x", EndpointClass::File),
            ("file://LOCALHOST/var/x", "/var/x", EndpointClass::File),
            ("file:/var/x?q#f", "/var/x", EndpointClass::File),
            ("../spool/x", "../spool/x", EndpointClass::File),
        ];
        for (input, path, expected) in cases {
            let endpoint = Endpoint::parse(input);
            assert_eq!(endpoint.class(), expected, "{input}");
            assert_eq!(endpoint.path(), Some(path), "{input}");
        }
        assert_eq!(Endpoint::parse("/var/x").scheme(), None);
        assert_eq!(Endpoint::parse("file:/var/x").scheme(), Some(Scheme::File));
    }

    #[test]
    fn ports_and_schemes_are_reported() {
        let e = Endpoint::parse("https://collector.example/v1/traces");
        assert_eq!(e.scheme(), Some(Scheme::Https));
        assert_eq!(e.port(), None);
        assert_eq!(e.effective_port(), Some(443));
        let e = Endpoint::parse("collector.example:4317");
        assert_eq!(e.scheme(), None);
        assert_eq!(e.port(), Some(4317));
        assert_eq!(e.effective_port(), Some(4317));
        assert_eq!(Endpoint::parse("http://h:/").port(), None);
    }

    #[test]
    fn redaction_hides_credentials_and_queries() {
        let e = Endpoint::parse("https://user:secret@collector.example:4318/v1/traces?key=abc");
        assert_eq!(
            e.redacted(),
            "https://[redacted]@collector.example:4318/v1/traces?[redacted]"
        );
        assert_eq!(e.to_string(), e.redacted());
        assert!(!e.explain().contains("secret"));
        let invalid = Endpoint::parse("ftp://user:secret@host/x?token=t");
        assert_eq!(invalid.redacted(), "ftp://[redacted]@host/x?[redacted]");
        let invalid = Endpoint::parse("http://user:pa/ss@host");
        assert_eq!(invalid.redacted(), "http://[redacted]@host");
        let invalid = Endpoint::parse("user:secret@host?next=http://127.0.0.1");
        assert_eq!(invalid.redacted(), "[redacted]@host?[redacted]");
    }
}

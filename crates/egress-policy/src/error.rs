//! Errors: why an endpoint is invalid, and why an allow-list pattern was rejected.

/// Why an endpoint string is invalid. An invalid endpoint is never exported to: every policy
/// denies it, and [`Endpoint::parse`](crate::Endpoint::parse) keeps the error for the denial's
/// reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointError {
    /// Nothing but whitespace or control characters.
    #[error("expected an endpoint, found an empty string")]
    Empty,
    /// A scheme this crate does not know; unknown schemes are never guessed at.
    #[error(
        "expected a scheme of http, https, unix or file (or host:port, or a path), found `{scheme}:`"
    )]
    UnknownScheme {
        /// The scheme as written, lower-cased.
        scheme: String,
    },
    /// A URL with an empty host (`http://user@/`, `http://:80/`).
    #[error("expected a host after the scheme and any user info, found none")]
    MissingHost,
    /// A host with characters no client accepts.
    #[error("expected a host name or address, found `{host}` containing {found}")]
    BadHost {
        /// The host as written.
        host: String,
        /// What is wrong with it.
        found: String,
    },
    /// A host ending in a number that is not an IPv4 address (`foo.123`, `1.2.3.4.5`).
    #[error("expected an IPv4 address because `{host}` ends in a number, found no valid address")]
    BadIpv4 {
        /// The host as written.
        host: String,
    },
    /// A bracketed host that is not an IPv6 address (zone ids such as `%25eth0` included).
    #[error("expected an IPv6 address inside brackets, found `{host}`")]
    BadIpv6 {
        /// The host as written.
        host: String,
    },
    /// The unspecified address (`0.0.0.0/8`, `::`): not a destination; some systems connect
    /// it to this host, others refuse it, so it is neither local nor remote.
    #[error(
        "expected a destination address, found the unspecified address `{host}`, which systems read differently"
    )]
    UnspecifiedAddress {
        /// The host as written.
        host: String,
    },
    /// A port that is not a number from 0 to 65535.
    #[error("expected a port from 0 to 65535, found `{port}`")]
    BadPort {
        /// The port as written.
        port: String,
    },
    /// A path beginning with `//` or a backslash: a network path (UNC or a URL's
    /// network-path reference), not a local file.
    #[error(
        "expected a local path starting with / or ./, found `{path}`, which can name a network share"
    )]
    NetworkPath {
        /// The path as written.
        path: String,
    },
    /// A path with a NUL or other control character.
    #[error("expected a path without control characters, found {found:?} in `{path}`")]
    ControlCharacter {
        /// The path as written.
        path: String,
        /// The offending character.
        found: char,
    },
    /// A `unix:` endpoint naming a host, or without a path.
    #[error("expected unix:///absolute/path or unix:relative/path, found `{found}`")]
    BadUnixSocket {
        /// The endpoint as written.
        found: String,
    },
    /// A `file:` URL naming a host other than `localhost`: a remote share, not a local file.
    #[error(
        "expected file:///path or file://localhost/path, found a file URL naming host `{host}`"
    )]
    RemoteFile {
        /// The host named by the file URL.
        host: String,
    },
    /// `unix:4317` or `file:4317`: a socket or file path to some clients, host `unix` or
    /// `file` on a port to others.
    #[error(
        "expected unix:/path or file:/path, found `{found}`, which clients also read as host:port"
    )]
    HostOrPath {
        /// The endpoint as written.
        found: String,
    },
    /// A `file:` URL without a path.
    #[error("expected a path after `file:`, found none")]
    MissingPath,
}

/// Why an allow-list pattern was rejected by [`AllowRule::parse`](crate::AllowRule::parse).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternError {
    /// An empty pattern.
    #[error("expected an allow-list pattern, found an empty string")]
    Empty,
    /// `exporter=` without a name, or a name with whitespace or control characters.
    #[error("expected `exporter=NAME` with a non-empty name without spaces, found `{pattern}`")]
    BadExporterName {
        /// The pattern as written.
        pattern: String,
    },
    /// A scheme other than http or https; local endpoints need no allow-list entry.
    #[error(
        "expected http:// or https:// (or no scheme) in pattern `{pattern}`, found `{scheme}`; local endpoints (loopback, unix, file) need no entry"
    )]
    BadScheme {
        /// The pattern as written.
        pattern: String,
        /// The scheme found.
        scheme: String,
    },
    /// A pattern with user info, a path, a query or a fragment.
    #[error("expected only [scheme://]host[:port] in pattern `{pattern}`, found {found}")]
    Unexpected {
        /// The pattern as written.
        pattern: String,
        /// What was found beyond host and port.
        found: String,
    },
    /// A host that is not a DNS name, `*.suffix`, a dotted-decimal IPv4 address or a
    /// bracketed IPv6 address.
    #[error(
        "expected a host name, *.domain, a dotted-decimal IPv4 or a [bracketed] IPv6 address in pattern `{pattern}`, found `{host}`"
    )]
    BadHost {
        /// The pattern as written.
        pattern: String,
        /// The host part.
        host: String,
    },
    /// A port that is neither `*` nor a number from 0 to 65535.
    #[error("expected a port from 0 to 65535 or `*` in pattern `{pattern}`, found `{port}`")]
    BadPort {
        /// The pattern as written.
        pattern: String,
        /// The port part.
        port: String,
    },
}

//! TLS settings for connections telemetry makes or accepts: [`ClientTlsConfig`] (the OTLP
//! exporters: CA bundle, client certificate for mTLS, server name override) and
//! [`ServerTlsConfig`] (a telemetry endpoint served over TLS, optionally requiring client
//! certificates). Both build [rustls] configurations on the `ring` provider; no OpenSSL.
//!
//! Not a connector: `export` owns the sockets. PEM is read when a configuration is built
//! (at `init`), so a bad file fails start-up with the file and the setting it came from.
//!
//! ```
//! use stellaops_telemetry_core::tls::ClientTlsConfig;
//!
//! // Trust a private CA and present a client certificate (mTLS).
//! let tls = ClientTlsConfig::new()
//!     .ca_file("/etc/stellaops/otlp-ca.pem")
//!     .client_identity_files("/etc/stellaops/client.pem", "/etc/stellaops/client-key.pem")
//!     .server_name("collector.internal");
//! assert!(!tls.is_empty());
//! // Building reads the files: here they do not exist, and the error names the file.
//! let err = tls.build_client(&[]).unwrap_err();
//! assert!(err.to_string().contains("/etc/stellaops/otlp-ca.pem"));
//! ```

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where a PEM document comes from, and which setting named it (for error messages).
#[derive(Clone, PartialEq, Eq)]
pub enum PemSource {
    /// A file, read when the configuration is built.
    File {
        /// The path.
        path: PathBuf,
        /// The setting that named it: an environment variable or a builder method.
        origin: String,
    },
    /// PEM text given in code.
    Inline {
        /// The PEM bytes.
        pem: Vec<u8>,
        /// The setting that gave it.
        origin: String,
    },
}

impl std::fmt::Debug for PemSource {
    // Inline PEM may hold a private key: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PemSource::File { path, origin } => f
                .debug_struct("File")
                .field("path", path)
                .field("origin", origin)
                .finish(),
            PemSource::Inline { pem, origin } => f
                .debug_struct("Inline")
                .field("bytes", &pem.len())
                .field("origin", origin)
                .finish(),
        }
    }
}

impl PemSource {
    /// A file named by `origin` (an environment variable or a builder method).
    pub fn file(path: impl Into<PathBuf>, origin: impl Into<String>) -> Self {
        PemSource::File {
            path: path.into(),
            origin: origin.into(),
        }
    }

    /// PEM text given by `origin`.
    pub fn inline(pem: impl Into<Vec<u8>>, origin: impl Into<String>) -> Self {
        PemSource::Inline {
            pem: pem.into(),
            origin: origin.into(),
        }
    }

    /// The setting this PEM came from.
    pub fn origin(&self) -> &str {
        match self {
            PemSource::File { origin, .. } | PemSource::Inline { origin, .. } => origin,
        }
    }

    /// The file path, if it is a file.
    pub fn path(&self) -> Option<&Path> {
        match self {
            PemSource::File { path, .. } => Some(path),
            PemSource::Inline { .. } => None,
        }
    }

    /// Where it is, for messages: the path or `inline PEM`.
    fn location(&self) -> String {
        match self {
            PemSource::File { path, .. } => path.display().to_string(),
            PemSource::Inline { .. } => "inline PEM".to_owned(),
        }
    }

    fn read(&self, what: &'static str) -> Result<Vec<u8>, TlsError> {
        match self {
            PemSource::File { path, origin } => {
                std::fs::read(path).map_err(|source| TlsError::Unreadable {
                    what,
                    path: path.clone(),
                    origin: origin.clone(),
                    source,
                })
            }
            PemSource::Inline { pem, .. } => Ok(pem.clone()),
        }
    }

    fn certificates(&self, what: &'static str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
        let bytes = self.read(what)?;
        let invalid = |detail: String| TlsError::InvalidPem {
            what,
            location: self.location(),
            origin: self.origin().to_owned(),
            detail,
        };
        let certs = CertificateDer::pem_slice_iter(&bytes)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid(e.to_string()))?;
        if certs.is_empty() {
            return Err(invalid(
                "no `-----BEGIN CERTIFICATE-----` section found".to_owned(),
            ));
        }
        Ok(certs)
    }

    fn private_key(&self, what: &'static str) -> Result<PrivateKeyDer<'static>, TlsError> {
        let bytes = self.read(what)?;
        PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| TlsError::InvalidPem {
            what,
            location: self.location(),
            origin: self.origin().to_owned(),
            detail: match e {
                rustls::pki_types::pem::Error::NoItemsFound => {
                    "no PKCS#8, PKCS#1 or SEC1 private key section found".to_owned()
                }
                other => other.to_string(),
            },
        })
    }
}

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A PEM file could not be read.
    #[error("reading the TLS {what} file {path} (from {origin}): {source}")]
    Unreadable {
        /// `CA bundle`, `client certificate`, `client key`...
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The setting that named it.
        origin: String,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// A PEM document held no usable certificate or key.
    #[error("the TLS {what} in {location} (from {origin}) is not valid PEM: {detail}")]
    InvalidPem {
        /// `CA bundle`, `client certificate`, `client key`...
        what: &'static str,
        /// The file path or `inline PEM`.
        location: String,
        /// The setting that gave it.
        origin: String,
        /// What was wrong.
        detail: String,
    },
    /// A client certificate without its key, or a key without its certificate.
    #[error(
        "mTLS needs both a client certificate and its key: the {present} is set (from {origin}) but the {missing} is not"
    )]
    IncompleteIdentity {
        /// The part that is set.
        present: &'static str,
        /// The part that is missing.
        missing: &'static str,
        /// The setting of the part that is set.
        origin: String,
    },
    /// The server name override is not a DNS name or IP address.
    #[error("TLS server name {name:?} is not a DNS name or IP address")]
    InvalidServerName {
        /// The name.
        name: String,
    },
    /// rustls refused the material (a key that does not match the certificate, a CA that is
    /// not a certificate authority...).
    #[error("building the TLS {side} configuration: {detail}")]
    Rustls {
        /// `client` or `server`.
        side: &'static str,
        /// rustls' reason.
        detail: String,
    },
}

impl TlsError {
    /// A stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            TlsError::Unreadable { .. } => "telemetry.tls.pem_unreadable",
            TlsError::InvalidPem { .. } => "telemetry.tls.pem_invalid",
            TlsError::IncompleteIdentity { .. } => "telemetry.tls.identity_incomplete",
            TlsError::InvalidServerName { .. } => "telemetry.tls.server_name_invalid",
            TlsError::Rustls { .. } => "telemetry.tls.config_rejected",
        }
    }
}

/// The `ring` provider. rustls 0.23.48 deprecates it because ring has no post-quantum key
/// exchange (only the aws-lc-rs provider has X25519MLKEM768); this workspace stays on ring on
/// purpose (no C/assembly toolchain beyond ring's, no aws-lc): see `docs/adr/0006-rustls-ring.md`.
#[allow(deprecated)]
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// TLS for an outgoing connection (an OTLP exporter): which servers to trust, which client
/// certificate to present, and which name to verify.
///
/// Without a CA bundle the Mozilla root programme's CAs (`webpki-roots`) are trusted. Every
/// field is optional; [`ClientTlsConfig::or`] fills unset fields from another configuration
/// (how per-signal settings fall back to the generic ones).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientTlsConfig {
    /// PEM bundle of the CAs that may sign the server's certificate.
    pub ca: Option<PemSource>,
    /// PEM chain presented to the server (mTLS).
    pub client_certificate: Option<PemSource>,
    /// PEM private key of the client certificate.
    pub client_key: Option<PemSource>,
    /// Name to verify the server's certificate against instead of the endpoint's host.
    pub server_name: Option<String>,
}

impl ClientTlsConfig {
    /// An empty configuration (trust `webpki-roots`, no client certificate).
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts the CAs in the PEM file `path` (instead of `webpki-roots`).
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca = Some(PemSource::file(path, "ClientTlsConfig::ca_file"));
        self
    }

    /// Trusts the CAs in `pem`.
    pub fn ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca = Some(PemSource::inline(pem, "ClientTlsConfig::ca_pem"));
        self
    }

    /// Presents the certificate chain in `certificate` with the key in `key` (PEM files).
    pub fn client_identity_files(
        mut self,
        certificate: impl Into<PathBuf>,
        key: impl Into<PathBuf>,
    ) -> Self {
        let origin = "ClientTlsConfig::client_identity_files";
        self.client_certificate = Some(PemSource::file(certificate, origin));
        self.client_key = Some(PemSource::file(key, origin));
        self
    }

    /// Presents the certificate chain and key given as PEM text.
    pub fn client_identity_pem(
        mut self,
        certificate: impl Into<Vec<u8>>,
        key: impl Into<Vec<u8>>,
    ) -> Self {
        let origin = "ClientTlsConfig::client_identity_pem";
        self.client_certificate = Some(PemSource::inline(certificate, origin));
        self.client_key = Some(PemSource::inline(key, origin));
        self
    }

    /// Verifies the server's certificate against `name` instead of the endpoint's host (and
    /// sends it as SNI).
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// This configuration with its unset fields taken from `fallback`.
    #[must_use]
    pub fn or(self, fallback: &ClientTlsConfig) -> Self {
        Self {
            ca: self.ca.or_else(|| fallback.ca.clone()),
            client_certificate: self
                .client_certificate
                .or_else(|| fallback.client_certificate.clone()),
            client_key: self.client_key.or_else(|| fallback.client_key.clone()),
            server_name: self.server_name.or_else(|| fallback.server_name.clone()),
        }
    }

    /// The server name override, checked.
    ///
    /// # Errors
    /// [`TlsError::InvalidServerName`].
    pub fn parsed_server_name(&self) -> Result<Option<ServerName<'static>>, TlsError> {
        self.server_name
            .as_ref()
            .map(|name| {
                ServerName::try_from(name.clone())
                    .map_err(|_| TlsError::InvalidServerName { name: name.clone() })
            })
            .transpose()
    }

    /// Reads the PEM material and builds a rustls client configuration offering the ALPN
    /// protocols `alpn` (`b"h2"` for gRPC, `b"http/1.1"` for OTLP/HTTP; empty for none).
    ///
    /// # Errors
    /// [`TlsError`] naming the file and the setting it came from.
    pub fn build_client(&self, alpn: &[&[u8]]) -> Result<rustls::ClientConfig, TlsError> {
        self.parsed_server_name()?;
        let mut roots = rustls::RootCertStore::empty();
        match &self.ca {
            Some(ca) => {
                for cert in ca.certificates("CA bundle")? {
                    roots.add(cert).map_err(|e| TlsError::InvalidPem {
                        what: "CA bundle",
                        location: ca.location(),
                        origin: ca.origin().to_owned(),
                        detail: format!("not a usable CA certificate: {e}"),
                    })?;
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        let rustls_err = |e: rustls::Error| TlsError::Rustls {
            side: "client",
            detail: e.to_string(),
        };
        let builder = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(rustls_err)?
            .with_root_certificates(roots);
        let mut config = match (&self.client_certificate, &self.client_key) {
            (None, None) => builder.with_no_client_auth(),
            (Some(cert), Some(key)) => {
                let chain = cert.certificates("client certificate")?;
                let key = key.private_key("client key")?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(rustls_err)?
            }
            (Some(cert), None) => {
                return Err(TlsError::IncompleteIdentity {
                    present: "client certificate",
                    missing: "client key",
                    origin: cert.origin().to_owned(),
                });
            }
            (None, Some(key)) => {
                return Err(TlsError::IncompleteIdentity {
                    present: "client key",
                    missing: "client certificate",
                    origin: key.origin().to_owned(),
                });
            }
        };
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(config)
    }
}

/// TLS for a listening endpoint (the telemetry HTTP router, a test receiver): the server's
/// certificate chain and key, and optionally the CAs whose client certificates are required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerTlsConfig {
    /// PEM chain the server presents (leaf first).
    pub certificate: PemSource,
    /// PEM private key of the leaf.
    pub key: PemSource,
    /// PEM bundle of the CAs that may sign client certificates; when set, clients must
    /// present one (mTLS) unless [`ServerTlsConfig::client_auth_optional`] was called.
    pub client_ca: Option<PemSource>,
    /// Whether a client without a certificate is still accepted (when `client_ca` is set).
    pub client_auth_optional: bool,
}

impl ServerTlsConfig {
    /// A server presenting the chain in `certificate` with `key` (PEM files).
    pub fn from_files(certificate: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        let origin = "ServerTlsConfig::from_files";
        Self {
            certificate: PemSource::file(certificate, origin),
            key: PemSource::file(key, origin),
            client_ca: None,
            client_auth_optional: false,
        }
    }

    /// A server presenting the chain and key given as PEM text.
    pub fn from_pem(certificate: impl Into<Vec<u8>>, key: impl Into<Vec<u8>>) -> Self {
        let origin = "ServerTlsConfig::from_pem";
        Self {
            certificate: PemSource::inline(certificate, origin),
            key: PemSource::inline(key, origin),
            client_ca: None,
            client_auth_optional: false,
        }
    }

    /// Requires client certificates signed by a CA in `ca` (PEM file).
    pub fn client_ca_file(mut self, ca: impl Into<PathBuf>) -> Self {
        self.client_ca = Some(PemSource::file(ca, "ServerTlsConfig::client_ca_file"));
        self
    }

    /// Requires client certificates signed by a CA in `ca` (PEM text).
    pub fn client_ca_pem(mut self, ca: impl Into<Vec<u8>>) -> Self {
        self.client_ca = Some(PemSource::inline(ca, "ServerTlsConfig::client_ca_pem"));
        self
    }

    /// Accepts clients without a certificate too (a presented one must still verify).
    pub fn client_auth_optional(mut self) -> Self {
        self.client_auth_optional = true;
        self
    }

    /// Reads the PEM material and builds a rustls server configuration offering `alpn`.
    ///
    /// # Errors
    /// [`TlsError`] naming the file and the setting it came from.
    pub fn build_server(&self, alpn: &[&[u8]]) -> Result<rustls::ServerConfig, TlsError> {
        let rustls_err = |e: rustls::Error| TlsError::Rustls {
            side: "server",
            detail: e.to_string(),
        };
        let chain = self.certificate.certificates("server certificate")?;
        let key = self.key.private_key("server key")?;
        let builder = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(rustls_err)?;
        let builder = match &self.client_ca {
            None => builder.with_no_client_auth(),
            Some(ca) => {
                let mut roots = rustls::RootCertStore::empty();
                for cert in ca.certificates("client CA bundle")? {
                    roots.add(cert).map_err(|e| TlsError::InvalidPem {
                        what: "client CA bundle",
                        location: ca.location(),
                        origin: ca.origin().to_owned(),
                        detail: format!("not a usable CA certificate: {e}"),
                    })?;
                }
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider(),
                );
                let verifier = if self.client_auth_optional {
                    verifier.allow_unauthenticated()
                } else {
                    verifier
                };
                let verifier = verifier.build().map_err(|e| TlsError::Rustls {
                    side: "server",
                    detail: e.to_string(),
                })?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder.with_single_cert(chain, key).map_err(rustls_err)?;
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_field_fallback_keeps_what_is_set() {
        let generic = ClientTlsConfig::new()
            .ca_file("/generic-ca.pem")
            .server_name("generic");
        let specific = ClientTlsConfig::new().ca_file("/traces-ca.pem");
        let merged = specific.or(&generic);
        assert_eq!(
            merged.ca.as_ref().and_then(PemSource::path),
            Some(Path::new("/traces-ca.pem"))
        );
        assert_eq!(merged.server_name.as_deref(), Some("generic"));
        assert!(ClientTlsConfig::new().is_empty());
    }

    #[test]
    fn errors_name_the_file_and_the_setting() {
        let tls = ClientTlsConfig {
            ca: Some(PemSource::file(
                "/nonexistent/ca.pem",
                "OTEL_EXPORTER_OTLP_CERTIFICATE",
            )),
            ..Default::default()
        };
        let err = tls.build_client(&[]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("/nonexistent/ca.pem"), "{text}");
        assert!(text.contains("OTEL_EXPORTER_OTLP_CERTIFICATE"), "{text}");
        assert_eq!(err.code(), "telemetry.tls.pem_unreadable");

        let err = ClientTlsConfig::new()
            .ca_pem("not pem at all")
            .build_client(&[])
            .unwrap_err();
        assert_eq!(err.code(), "telemetry.tls.pem_invalid");
        assert!(err.to_string().contains("ClientTlsConfig::ca_pem"), "{err}");

        let half = ClientTlsConfig {
            client_certificate: Some(PemSource::inline(
                "x",
                "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
            )),
            ..Default::default()
        };
        let err = half.build_client(&[]).unwrap_err();
        assert_eq!(err.code(), "telemetry.tls.identity_incomplete");
        assert!(err.to_string().contains("client key"), "{err}");

        let err = ClientTlsConfig::new()
            .server_name("not a name!")
            .build_client(&[])
            .unwrap_err();
        assert_eq!(err.code(), "telemetry.tls.server_name_invalid");
    }

    #[test]
    fn without_a_ca_the_webpki_roots_are_trusted() {
        let config = ClientTlsConfig::new().build_client(&[b"h2"]).unwrap();
        assert_eq!(config.alpn_protocols, vec![b"h2".to_vec()]);
    }

    #[test]
    fn debug_never_prints_inline_key_material() {
        let tls = ClientTlsConfig::new().client_identity_pem("CERT", "SECRET-KEY");
        assert!(!format!("{tls:?}").contains("SECRET-KEY"));
    }
}

//! A test PKI made at run time with rcgen (nothing secret or expiring is checked in): a CA, a
//! server certificate for `localhost`, `127.0.0.1` and `collector.internal`, and a client
//! certificate, as DER, PEM text and files. The TLS tests of telemetry-core, telemetry-http and
//! the CLI share it.

use crate::PeerError;
use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A certificate and its key, as DER and PEM, also written to files.
#[derive(Clone, Debug)]
pub struct CertPair {
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The PKCS#8 private key, PEM.
    pub key_pem: String,
    /// Where the certificate PEM was written.
    pub cert_path: PathBuf,
    /// Where the key PEM was written.
    pub key_path: PathBuf,
}

/// A CA with a server certificate and a client certificate it signed.
#[derive(Clone, Debug)]
pub struct TestPki {
    /// The CA certificate, PEM.
    pub ca_pem: String,
    /// Where the CA PEM was written (`<dir>/<name>-ca.pem`).
    pub ca_path: PathBuf,
    /// The server certificate (`<name>-server`), for `localhost`, `127.0.0.1` and
    /// `collector.internal`, server-auth usage.
    pub server: CertPair,
    /// The client certificate (`<name>-client`), client-auth usage.
    pub client: CertPair,
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    let _ = writeln!(out, "-----END {label}-----");
    out
}

fn rcgen_error(action: &str) -> impl FnOnce(rcgen::Error) -> PeerError + '_ {
    move |e| PeerError::BadOutput {
        peer: "rcgen",
        detail: format!("{action}: {e}"),
    }
}

fn write(path: &Path, text: &str) -> Result<(), PeerError> {
    std::fs::write(path, text).map_err(|source| PeerError::Io {
        peer: "test PKI",
        action: format!("writing {}", path.display()),
        source,
    })
}

fn leaf(
    dir: &Path,
    name: &str,
    sans: &[&str],
    usage: ExtendedKeyUsagePurpose,
    issuer: &Issuer<'_, KeyPair>,
) -> Result<CertPair, PeerError> {
    let key = KeyPair::generate().map_err(rcgen_error("generating a key"))?;
    let mut params =
        CertificateParams::new(sans.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
            .map_err(rcgen_error("certificate parameters"))?;
    params.distinguished_name.push(DnType::CommonName, name);
    params.extended_key_usages = vec![usage];
    let cert = params
        .signed_by(&key, issuer)
        .map_err(rcgen_error("signing a certificate"))?;
    let pair = CertPair {
        cert_der: cert.der().to_vec(),
        cert_pem: pem("CERTIFICATE", cert.der()),
        key_pem: pem("PRIVATE KEY", &key.serialize_der()),
        cert_path: dir.join(format!("{name}.pem")),
        key_path: dir.join(format!("{name}-key.pem")),
    };
    write(&pair.cert_path, &pair.cert_pem)?;
    write(&pair.key_path, &pair.key_pem)?;
    Ok(pair)
}

impl TestPki {
    /// A fresh PKI named `name`, its files in `dir`.
    ///
    /// # Errors
    /// [`PeerError`] when a key or certificate cannot be made or a file written.
    pub fn generate(dir: &Path, name: &str) -> Result<Self, PeerError> {
        let key = KeyPair::generate().map_err(rcgen_error("generating the CA key"))?;
        let mut params =
            CertificateParams::new(Vec::<String>::new()).map_err(rcgen_error("CA parameters"))?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, format!("{name} test CA"));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = params
            .self_signed(&key)
            .map_err(rcgen_error("self-signing the CA"))?;
        let ca_pem = pem("CERTIFICATE", ca.der());
        let ca_path = dir.join(format!("{name}-ca.pem"));
        write(&ca_path, &ca_pem)?;
        let issuer = Issuer::new(params, key);
        let server = leaf(
            dir,
            &format!("{name}-server"),
            &["localhost", "127.0.0.1", "collector.internal"],
            ExtendedKeyUsagePurpose::ServerAuth,
            &issuer,
        )?;
        let client = leaf(
            dir,
            &format!("{name}-client"),
            &["scanner.client"],
            ExtendedKeyUsagePurpose::ClientAuth,
            &issuer,
        )?;
        Ok(Self {
            ca_pem,
            ca_path,
            server,
            client,
        })
    }
}

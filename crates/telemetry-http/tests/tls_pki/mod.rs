//! A test PKI made at run time with rcgen (nothing secret or expiring is checked in): a CA, a
//! server certificate for `localhost` and `127.0.0.1`, and a client certificate, as PEM text
//! and files. Shared with the CLI's TLS tests (`crates/telemetry-cli/tests/tls.rs`).
#![allow(dead_code, unreachable_pub, missing_docs)]

use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use std::path::{Path, PathBuf};

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// A certificate and its key, as PEM text and files.
#[derive(Clone, Debug)]
pub struct Pair {
    pub cert_der: Vec<u8>,
    pub cert_pem: String,
    pub key_pem: String,
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
}

/// A CA with a server certificate (`localhost`, `127.0.0.1`) and a client certificate.
pub struct TestPki {
    pub ca_pem: String,
    pub ca_path: PathBuf,
    pub server: Pair,
    pub client: Pair,
}

fn leaf(
    dir: &Path,
    name: &str,
    sans: &[&str],
    usage: ExtendedKeyUsagePurpose,
    issuer: &Issuer<'_, KeyPair>,
) -> Pair {
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(sans.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.extended_key_usages = vec![usage];
    let cert = params.signed_by(&key, issuer).unwrap();
    let pair = Pair {
        cert_der: cert.der().to_vec(),
        cert_pem: pem("CERTIFICATE", cert.der()),
        key_pem: pem("PRIVATE KEY", &key.serialize_der()),
        cert_path: dir.join(format!("{name}.pem")),
        key_path: dir.join(format!("{name}-key.pem")),
    };
    std::fs::write(&pair.cert_path, &pair.cert_pem).unwrap();
    std::fs::write(&pair.key_path, &pair.key_pem).unwrap();
    pair
}

impl TestPki {
    /// A fresh PKI named `name`, its files in `dir`.
    pub fn generate(dir: &Path, name: &str) -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, format!("{name} test CA"));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = params.self_signed(&key).unwrap();
        let ca_pem = pem("CERTIFICATE", ca.der());
        let ca_path = dir.join(format!("{name}-ca.pem"));
        std::fs::write(&ca_path, &ca_pem).unwrap();
        let issuer = Issuer::new(params, key);
        let server = leaf(
            dir,
            &format!("{name}-server"),
            &["localhost", "127.0.0.1"],
            ExtendedKeyUsagePurpose::ServerAuth,
            &issuer,
        );
        let client = leaf(
            dir,
            &format!("{name}-client"),
            &["scanner.client"],
            ExtendedKeyUsagePurpose::ClientAuth,
            &issuer,
        );
        Self {
            ca_pem,
            ca_path,
            server,
            client,
        }
    }
}

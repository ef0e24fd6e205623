//! `stella-telemetry dsse`: generate keys, sign payloads into DSSE envelopes, verify envelopes.
//!
//! Output is for pipes: `sign` prints only the envelope JSON, `verify` only the payload bytes.
//! Failures exit 1 with a stable `federation.dsse.*` code.

use crate::failure::Failure;
use clap::{Args, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use stellaops_dsse::{
    DsseError, Envelope, KeyType, PrivateKey, TrustedKey, TrustedKeys, Verifier, sign_envelope,
    write_private_key_file, write_public_key_file,
};

/// The code printed when reading the payload or envelope, or writing output, fails.
const IO_CODE: &str = "federation.dsse.io";

/// `dsse` subcommands.
#[derive(Debug, Args)]
pub(crate) struct DsseArgs {
    #[command(subcommand)]
    command: DsseCommand,
}

#[derive(Debug, Subcommand)]
enum DsseCommand {
    /// Generate a key: writes PREFIX.key (mode 0600; PKCS#8 PEM, or JSON for hmac-sha256) and,
    /// for ed25519 and ecdsa-p256, PREFIX.pub (SPKI PEM). Prints the key id. Never overwrites.
    Keygen(KeygenArgs),
    /// Sign a payload (FILE, or standard input when FILE is `-` or absent); prints the envelope
    /// JSON.
    Sign(SignArgs),
    /// Verify an envelope (FILE, or standard input when FILE is `-` or absent); prints the
    /// payload bytes and exits 0, or exits 1 with the error code on stderr.
    Verify(VerifyArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum KeyTypeArg {
    #[value(name = "ed25519")]
    Ed25519,
    #[value(name = "ecdsa-p256")]
    EcdsaP256,
    #[value(name = "hmac-sha256")]
    HmacSha256,
}

impl From<KeyTypeArg> for KeyType {
    fn from(arg: KeyTypeArg) -> Self {
        match arg {
            KeyTypeArg::Ed25519 => Self::Ed25519,
            KeyTypeArg::EcdsaP256 => Self::EcdsaP256,
            KeyTypeArg::HmacSha256 => Self::HmacSha256,
        }
    }
}

#[derive(Debug, Args)]
struct KeygenArgs {
    /// Key type.
    #[arg(long = "type", value_enum)]
    key_type: KeyTypeArg,
    /// Output prefix: writes PREFIX.key and PREFIX.pub.
    #[arg(long, value_name = "PREFIX")]
    out: PathBuf,
}

#[derive(Debug, Args)]
struct SignArgs {
    /// Private key file: PKCS#8 PEM (Ed25519, ECDSA P-256) or an hmac-sha256 JSON key file.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// Key id to write into the signature (default: securesystemslib's key id of the public
    /// key, or the HMAC key file's `keyid`).
    #[arg(long, value_name = "ID")]
    keyid: Option<String>,
    /// The payload type, e.g. `application/vnd.in-toto+json`.
    #[arg(long = "payload-type", value_name = "TYPE")]
    payload_type: String,
    /// Payload file; `-` or absent reads standard input.
    #[arg(value_name = "FILE|-")]
    input: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct VerifyArgs {
    /// A trusted key: SPKI PEM, securesystemslib JSON, or an hmac-sha256 JSON key file.
    /// Repeat for several keys.
    #[arg(long, value_name = "FILE", required = true)]
    trusted: Vec<PathBuf>,
    /// How many distinct trusted keys must have signed.
    #[arg(long, value_name = "N", default_value_t = 1)]
    threshold: usize,
    /// The payload type to require (default: accept the envelope's own type).
    #[arg(long = "payload-type", value_name = "TYPE")]
    payload_type: Option<String>,
    /// Envelope file; `-` or absent reads standard input.
    #[arg(value_name = "FILE|-")]
    input: Option<PathBuf>,
}

fn io_failure(what: &str, e: &std::io::Error) -> Failure {
    Failure::failed(IO_CODE, format!("cannot {what}: {e}"))
}

/// Runs a `dsse` subcommand.
pub(crate) fn run(args: DsseArgs) -> Result<(), Failure> {
    match args.command {
        DsseCommand::Keygen(a) => keygen(&a),
        DsseCommand::Sign(a) => sign(&a),
        DsseCommand::Verify(a) => verify(&a),
    }
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(prefix.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

fn keygen(args: &KeygenArgs) -> Result<(), Failure> {
    let key = PrivateKey::generate(args.key_type.into())?;
    let key_path = with_suffix(&args.out, ".key");
    let pub_path = with_suffix(&args.out, ".pub");
    let public_pem = key.public_key().map(|p| p.to_spki_pem()).transpose()?;
    // Check both before writing either, so a refused keygen leaves nothing half-written.
    for path in std::iter::once(&key_path).chain(public_pem.as_ref().map(|_| &pub_path)) {
        if path.exists() {
            return Err(DsseError::KeyFile {
                action: "write",
                path: path.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "the file exists; refusing to overwrite a key",
                ),
            }
            .into());
        }
    }
    write_private_key_file(&key_path, key.to_key_file()?.as_bytes())?;
    if let Some(pem) = public_pem {
        write_public_key_file(&pub_path, pem.as_bytes())?;
    }
    println!("{}", key.key_id());
    Ok(())
}

fn read_input(input: Option<&Path>, what: &str) -> Result<Vec<u8>, Failure> {
    match input {
        None => read_stdin(what),
        Some(p) if p.as_os_str() == "-" => read_stdin(what),
        Some(p) => {
            std::fs::read(p).map_err(|e| io_failure(&format!("read {what} {}", p.display()), &e))
        }
    }
}

fn read_stdin(what: &str) -> Result<Vec<u8>, Failure> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|e| io_failure(&format!("read {what} from standard input"), &e))?;
    Ok(bytes)
}

fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| io_failure("write to standard output", &e))
}

fn sign(args: &SignArgs) -> Result<(), Failure> {
    let mut key = PrivateKey::read(&args.key)?;
    if let Some(id) = &args.keyid {
        key = key.with_key_id(id.clone());
    }
    let payload = read_input(args.input.as_deref(), "payload")?;
    let envelope = sign_envelope(&[&key], &args.payload_type, payload)?;
    let mut json = envelope.to_json();
    json.push('\n');
    write_stdout(json.as_bytes())
}

fn verify(args: &VerifyArgs) -> Result<(), Failure> {
    let mut trusted = TrustedKeys::new();
    for path in &args.trusted {
        trusted.add(TrustedKey::read(path)?)?;
    }
    let json = read_input(args.input.as_deref(), "envelope")?;
    let envelope = Envelope::from_json(&json)?;
    let expected = args
        .payload_type
        .clone()
        .unwrap_or_else(|| envelope.payload_type.clone());
    let verified = Verifier::new(trusted)
        .threshold(args.threshold)
        .verify_owned(envelope, &expected)?;
    write_stdout(verified.payload())
}

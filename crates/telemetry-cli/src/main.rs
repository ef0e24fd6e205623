//! `stella-telemetry`: the Stella Ops telemetry operator command line. One subcommand group
//! per concern; each group lives in its own module. Exit codes are documented in `docs/cli.md`.
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bundle;
mod capture;
mod deploy;
mod dora;
mod dsse;
mod egress;
mod incident;
mod offline_kit;
mod progress;
mod redact;
mod remote;
mod replay;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Stella Ops telemetry operator tool.
#[derive(Debug, Parser)]
#[command(name = "stella-telemetry", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Fleet configuration: collector configs, dashboards, alert rules and their signed
    /// manifest for one profile.
    Deploy(deploy::DeployArgs),
    /// Signed offline OTLP bundles: create, verify, inspect, extract.
    Bundle(bundle::BundleArgs),
    /// Capture a window of a service's spool as a signed offline bundle, optionally for one
    /// tenant (the spool is read only). SOURCE_DATE_EPOCH fixes the creation time (and "now"
    /// for relative windows) so captures are reproducible.
    Capture(capture::CaptureArgs),
    /// DORA metrics over recorded deployment and incident events.
    #[command(subcommand)]
    Dora(dora::DoraArgs),
    /// DSSE envelopes: generate keys, sign payloads, verify envelopes (interoperable with
    /// securesystemslib, in-toto and sigstore).
    Dsse(dsse::DsseArgs),
    /// Egress policy: which exporter endpoints may be used, sealed or not.
    Egress(egress::EgressArgs),
    /// The Offline Kit: a profile's collector configs, dashboards, alert rules, redaction
    /// policy and README, signed, as a directory and a reproducible tarball; and its verifier.
    OfflineKit(offline_kit::OfflineKitArgs),
    /// Incident (forensic) mode of a tenant, through a service's telemetry router.
    #[command(subcommand)]
    Incident(incident::IncidentArgs),
    /// Redact JSON lines from stdin to stdout with a redaction policy.
    Redact(redact::RedactArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Deploy(args) => deploy::run(args),
        Command::Bundle(args) => bundle::run(args),
        Command::Capture(args) => capture::run(&args),
        Command::Dora(args) => dora::run(args),
        Command::Dsse(args) => dsse::run(args),
        Command::Egress(args) => egress::run(args),
        Command::Incident(args) => incident::run(args),
        Command::OfflineKit(args) => offline_kit::run(args),
        Command::Redact(args) => redact::run(args),
    }
}

//! `stella-telemetry`: the Stella Ops telemetry operator command line. One subcommand group
//! per concern; each group lives in its own module and returns a [`failure::Failure`], which
//! is reported here, once, in the one stderr format. Exit codes are documented in `docs/cli.md`.
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bundle;
mod capture;
mod deploy;
mod dora;
mod dsse;
mod egress;
mod failure;
mod incident;
mod offline_kit;
mod progress;
mod redact;
mod remote;
mod replay;
mod trusted;

use clap::{Parser, Subcommand};
use failure::{ErrorFormat, Exit, Failure, report};
use std::process::ExitCode;

/// Stella Ops telemetry operator tool.
#[derive(Debug, Parser)]
#[command(name = "stella-telemetry", version, about)]
struct Cli {
    /// Machine output: `incident` and `capture` print JSON on stdout instead of text, and a
    /// failure of any command is one JSON object on stderr, `{"error":{"code","message"}}`,
    /// instead of the line `error[CODE]: message`.
    #[arg(long, global = true)]
    json: bool,
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
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    let format = ErrorFormat::from_json_flag(cli.json);
    let result = match cli.command {
        Command::Deploy(args) => deploy::run(args).map(|()| Exit::Ok),
        Command::Bundle(args) => bundle::run(args).map(|()| Exit::Ok),
        Command::Capture(args) => capture::run(&args, cli.json).map(|()| Exit::Ok),
        Command::Dora(args) => dora::run(args).map(|()| Exit::Ok),
        Command::Dsse(args) => dsse::run(args).map(|()| Exit::Ok),
        Command::Egress(args) => egress::run(args),
        Command::Incident(args) => incident::run(args, cli.json).map(|()| Exit::Ok),
        Command::OfflineKit(args) => offline_kit::run(args).map(|()| Exit::Ok),
        Command::Redact(args) => redact::run(args, format).map(|()| Exit::Ok),
    };
    match result {
        Ok(exit) => exit.into(),
        Err(failure) => {
            report(&failure, format);
            failure.exit().into()
        }
    }
}

/// Reports what clap rejected as a usage failure (`cli.usage`, exit 2) in the one format;
/// `--help` and `--version` print on stdout and exit 0 as clap does.
fn usage_error(error: &clap::Error) -> ExitCode {
    if !error.use_stderr() {
        error.exit();
    }
    // The arguments did not parse, so `--json` is looked for among the raw ones.
    let json = std::env::args_os()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json");
    let rendered = error.render().to_string();
    let message = rendered
        .strip_prefix("error: ")
        .unwrap_or(&rendered)
        .trim_end();
    let message =
        if error.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            format!("expected a subcommand\n\n{message}")
        } else {
            message.to_owned()
        };
    let failure = Failure::usage("cli.usage", message);
    report(&failure, ErrorFormat::from_json_flag(json));
    failure.exit().into()
}

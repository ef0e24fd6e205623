//! `stella-telemetry`: the Stella Ops telemetry operator tool.
//!
//! One subcommand group per area; each lives in its own module exposing `<Group>Args` and
//! `run(args) -> ExitCode`. Exit codes: 0 success, 1 failure (the error's stable code is the
//! first thing on stderr), 2 usage error.
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout, clippy::print_stderr)]

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod dsse;

/// Stella Ops telemetry operator tool.
#[derive(Debug, Parser)]
#[command(name = "stella-telemetry", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// DSSE envelopes: generate keys, sign payloads, verify envelopes (interoperable with
    /// securesystemslib, in-toto and sigstore).
    Dsse(dsse::DsseArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Dsse(args) => dsse::run(args),
    }
}

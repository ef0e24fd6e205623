//! `stella-telemetry`: the Stella Ops telemetry operator CLI.
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod egress;

/// Stella Ops telemetry operator tool.
#[derive(Debug, Parser)]
#[command(name = "stella-telemetry", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Egress policy: which exporter endpoints may be used, sealed or not.
    Egress(egress::EgressArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Egress(args) => egress::run(args),
    }
}

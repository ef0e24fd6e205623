//! `stella-telemetry`: the Stella Ops telemetry operator binary.
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod redact;

/// Operate Stella Ops telemetry.
#[derive(Debug, Parser)]
#[command(name = "stella-telemetry", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Redact JSON lines from stdin to stdout with a redaction policy.
    Redact(redact::RedactArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Redact(args) => redact::run(args),
    }
}

//! `stella-telemetry egress check`: classifies exporter endpoints and decides them against
//! the sealed-mode policy and an exporter allow-list, one JSON object per endpoint.

use std::io::Write;

use crate::failure::{Exit, Failure};

use clap::{Args, Subcommand};
use serde::Serialize;
use stellaops_egress_policy::{
    AllOf, AllowRule, EgressPolicy, EgressRequest, Endpoint, EndpointPattern, ExporterAllowList,
    SealState, SealedMode, SealedModePolicy, Signal,
};

#[derive(Debug, Args)]
pub(crate) struct EgressArgs {
    #[command(subcommand)]
    command: EgressCommand,
}

#[derive(Debug, Subcommand)]
enum EgressCommand {
    /// Classify endpoints and decide whether exporters may use them.
    ///
    /// Prints one JSON object per endpoint on stdout: {"endpoint", "class", "allowed",
    /// "reason", "remediation"}, where class is loopback, unix, file, private, link-local,
    /// public or invalid. No DNS lookup is made; hosts clients could read in more than one way
    /// count as remote.
    #[command(
        after_help = "Exit status: 0 when every endpoint is allowed, 3 when any is \
                            denied (an invalid endpoint is a denial), 2 on a usage error."
    )]
    Check(CheckArgs),
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// Decide as a sealed (air-gapped) site: only loopback, unix-socket and file endpoints are
    /// allowed.
    #[arg(long)]
    sealed: bool,

    // Help texts are attributes, not doc comments: they contain brackets rustdoc would read
    // as links.
    #[arg(
        long = "allow-exporter",
        value_name = "PATTERN",
        value_parser = parse_pattern,
        help = "Allow remote endpoints matching PATTERN: [http://|https://]HOST[:PORT], where \
                HOST is a DNS name, *.domain (names below domain), a dotted-decimal IPv4 or a \
                [bracketed] IPv6 address, and PORT a number or * (no port: any). Repeatable. \
                With at least one, remote endpoints matching none are denied; local endpoints \
                need no entry"
    )]
    allow_exporter: Vec<EndpointPattern>,

    #[arg(
        value_name = "ENDPOINT",
        required = true,
        help = "Endpoints to check: http(s)://host[:port][/path], host:port, \
                unix:///path/to.sock, file:///path, or a path starting with / or ./"
    )]
    endpoints: Vec<String>,
}

/// Patterns for the CLI: endpoint patterns only. `exporter=NAME` entries name exporters, and
/// the endpoints checked here belong to no exporter.
fn parse_pattern(text: &str) -> Result<EndpointPattern, String> {
    match AllowRule::parse(text).map_err(|e| e.to_string())? {
        AllowRule::Endpoint(pattern) => Ok(pattern),
        AllowRule::Exporter(_) => Err(format!(
            "`{text}` names an exporter, but `egress check` checks bare endpoints; give an \
             endpoint pattern such as collector.example:4317 or *.corp.example"
        )),
        other => Err(format!("`{other}` is not an endpoint pattern")),
    }
}

/// One line of output. Field order is the documented contract.
#[derive(Debug, Serialize)]
struct Verdict<'a> {
    endpoint: &'a str,
    class: &'static str,
    allowed: bool,
    reason: &'a str,
    remediation: Option<&'a str>,
}

/// Runs an `egress` subcommand: [`Exit::Ok`] when every endpoint is allowed, [`Exit::Denied`]
/// when any is denied (the verdicts on stdout say which and why; nothing on stderr).
pub(crate) fn run(args: EgressArgs) -> Result<Exit, Failure> {
    match args.command {
        EgressCommand::Check(check) => run_check(check),
    }
}

fn run_check(args: CheckArgs) -> Result<Exit, Failure> {
    let state = if args.sealed {
        SealState::Sealed
    } else {
        SealState::Unsealed
    };
    let mut policy = AllOf::new().with(SealedModePolicy::new(SealedMode::new(state)));
    if !args.allow_exporter.is_empty() {
        let rules = args.allow_exporter.into_iter().map(AllowRule::Endpoint);
        policy = policy.with(ExporterAllowList::new(rules));
    }

    let output_failed = |e: std::io::Error| {
        Failure::failed("egress.io", format!("cannot write to standard output: {e}"))
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut any_denied = false;
    for text in &args.endpoints {
        // The built-in policies decide the same for every signal; traces stands in.
        let request = EgressRequest::new("stella-telemetry", Signal::Traces, Endpoint::parse(text))
            .with_intent("egress check");
        let decision = policy.decide(&request);
        any_denied |= !decision.allowed();
        let verdict = Verdict {
            endpoint: text,
            class: request.endpoint().class().as_str(),
            allowed: decision.allowed(),
            reason: decision.reason(),
            remediation: decision.remediation(),
        };
        serde_json::to_writer(&mut out, &verdict)
            .map_err(std::io::Error::from)
            .and_then(|()| out.write_all(b"\n"))
            .map_err(output_failed)?;
    }
    out.flush().map_err(output_failed)?;
    Ok(if any_denied { Exit::Denied } else { Exit::Ok })
}

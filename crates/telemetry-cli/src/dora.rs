//! `stella-telemetry dora …`: DORA metrics from a JSON-lines file of deployment and incident
//! events (the format of `stellaops_dora_metrics::read_event_lines`).

use crate::failure::Failure;
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use stellaops_dora_metrics::{DoraMetricsService, LineError, Scope, Window, read_event_lines};
use stellaops_outcome_analytics::{
    DoraOutcomeAnalyticsService, OutcomeAnalyticsService, ReportFormat,
};

/// The `dora` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum DoraArgs {
    /// Print the DORA summary (metrics and performance levels) of one tenant over a window as
    /// JSON. A metric without data is null.
    Summary(SummaryArgs),
    /// Render the executive outcome report (pipelines, severities, daily cohort) of one tenant
    /// over a window as stable JSON (fields in declaration order), Markdown or a self-contained HTML page.
    Report(ReportArgs),
}

/// `dora report` arguments.
#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    #[command(flatten)]
    window: SummaryArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
    /// Write the report to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// `--format` values.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    /// Stable JSON (camelCase, fields in declaration order).
    Json,
    /// Markdown tables.
    Md,
    /// A self-contained HTML page with inline SVG charts.
    Html,
}

/// `dora summary` arguments.
#[derive(Debug, Args)]
pub(crate) struct SummaryArgs {
    /// JSON-lines file of events (`"kind":"deployment"` or `"incident"`, one per line).
    #[arg(long, value_name = "FILE")]
    events: PathBuf,
    /// Tenant to summarise.
    #[arg(long)]
    tenant: String,
    /// Only this environment (default: every environment of the tenant).
    #[arg(long)]
    environment: Option<String>,
    /// Window start, inclusive (RFC 3339, e.g. 2025-01-01T00:00:00Z).
    #[arg(long, value_parser = parse_time, value_name = "RFC3339")]
    from: DateTime<Utc>,
    /// Window end, exclusive (RFC 3339).
    #[arg(long, value_parser = parse_time, value_name = "RFC3339")]
    to: DateTime<Utc>,
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("expected an RFC 3339 time such as 2025-01-31T00:00:00Z ({e})"))
}

/// Runs a `dora` subcommand.
pub(crate) fn run(args: DoraArgs) -> Result<(), Failure> {
    match args {
        DoraArgs::Summary(args) => summary(&args),
        DoraArgs::Report(args) => report(&args),
    }
}

/// The window, the scope and a service holding every event of the file; a bad window is
/// bad input (exit 2), an unreadable or invalid file exits 1.
fn load(args: &SummaryArgs) -> Result<(Window, Scope, DoraMetricsService), Failure> {
    let window = Window::new(args.from, args.to)
        .map_err(|e| Failure::usage("dora.window.empty", format!("--from/--to: {e}")))?;
    let events = args.events.display();
    let file = File::open(&args.events)
        .map_err(|e| Failure::failed("dora.io", format!("cannot open {events}: {e}")))?;
    let dora = DoraMetricsService::new();
    for item in read_event_lines(BufReader::new(file)) {
        let (line, event) = item.map_err(|e| {
            let code = match &e.error {
                LineError::Invalid(invalid) => invalid.code(),
                LineError::Json(_) => "dora.event.invalid_json",
                LineError::Io(_) => "dora.io",
                _ => "dora.event.invalid",
            };
            Failure::failed(code, format!("{events}: {e}"))
        })?;
        dora.record(&event)
            .map_err(|e| Failure::failed(e.code(), format!("{events}: line {line}: {e}")))?;
    }
    let scope = Scope {
        tenant: args.tenant.clone(),
        environment: args.environment.clone(),
    };
    Ok((window, scope, dora))
}

fn report(args: &ReportArgs) -> Result<(), Failure> {
    let (window, scope, dora) = load(&args.window)?;
    let outcomes = DoraOutcomeAnalyticsService::new(std::sync::Arc::new(dora));
    let format = match args.format {
        Format::Json => ReportFormat::Json,
        Format::Md => ReportFormat::Markdown,
        Format::Html => ReportFormat::Html,
    };
    let rendered = outcomes
        .executive_report(&scope, &window)
        .and_then(|r| r.render(format))?;
    match &args.out {
        None => print!("{rendered}"),
        Some(path) => {
            std::fs::write(path, rendered).map_err(|e| {
                Failure::failed("dora.io", format!("cannot write {}: {e}", path.display()))
            })?;
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(())
}

fn summary(args: &SummaryArgs) -> Result<(), Failure> {
    let (window, scope, dora) = load(args)?;
    let summary = dora.summary(&scope, &window)?;
    let json = serde_json::to_string_pretty(&summary).map_err(|e| {
        Failure::failed(
            "dora.encode_failed",
            format!("cannot encode the summary: {e}"),
        )
    })?;
    println!("{json}");
    Ok(())
}

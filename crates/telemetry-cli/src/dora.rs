//! `stella-telemetry dora …`: DORA metrics from a JSON-lines file of deployment and incident
//! events (the format of `stellaops_dora_metrics::read_event_lines`).

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::process::ExitCode;
use stellaops_dora_metrics::{DoraMetricsService, Scope, Window, read_event_lines};
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
    /// over a window as canonical JSON, Markdown or a self-contained HTML page.
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
    /// Canonical JSON (camelCase).
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
pub(crate) fn run(args: DoraArgs) -> ExitCode {
    match args {
        DoraArgs::Summary(args) => summary(&args),
        DoraArgs::Report(args) => report(&args),
    }
}

/// The window, the scope and a service holding every event of the file; or the exit code
/// after the error has been printed (2 for a bad window, 1 for an unreadable or invalid file).
fn load(args: &SummaryArgs) -> Result<(Window, Scope, DoraMetricsService), ExitCode> {
    let window = Window::new(args.from, args.to).map_err(|e| {
        eprintln!("error: --from/--to: {e}");
        ExitCode::from(2)
    })?;
    let file = File::open(&args.events).map_err(|e| {
        eprintln!("error: cannot open {}: {e}", args.events.display());
        ExitCode::FAILURE
    })?;
    let dora = DoraMetricsService::new();
    for item in read_event_lines(BufReader::new(file)) {
        let recorded = item.map_err(|e| e.to_string()).and_then(|(line, event)| {
            dora.record(&event)
                .map(|_| ())
                .map_err(|e| format!("line {line}: {e}"))
        });
        if let Err(message) = recorded {
            eprintln!("error: {}: {message}", args.events.display());
            return Err(ExitCode::FAILURE);
        }
    }
    let scope = Scope {
        tenant: args.tenant.clone(),
        environment: args.environment.clone(),
    };
    Ok((window, scope, dora))
}

fn report(args: &ReportArgs) -> ExitCode {
    let (window, scope, dora) = match load(&args.window) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let outcomes = DoraOutcomeAnalyticsService::new(std::sync::Arc::new(dora));
    let format = match args.format {
        Format::Json => ReportFormat::Json,
        Format::Md => ReportFormat::Markdown,
        Format::Html => ReportFormat::Html,
    };
    let rendered = match outcomes
        .executive_report(&scope, &window)
        .and_then(|r| r.render(format))
    {
        Ok(text) => text,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match &args.out {
        None => {
            print!("{rendered}");
            ExitCode::SUCCESS
        }
        Some(path) => match std::fs::write(path, rendered) {
            Ok(()) => {
                eprintln!("wrote {}", path.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", path.display());
                ExitCode::FAILURE
            }
        },
    }
}

fn summary(args: &SummaryArgs) -> ExitCode {
    let (window, scope, dora) = match load(args) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let summary = match dora.summary(&scope, &window) {
        Ok(summary) => summary,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match serde_json::to_string_pretty(&summary) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot encode the summary: {e}");
            ExitCode::FAILURE
        }
    }
}

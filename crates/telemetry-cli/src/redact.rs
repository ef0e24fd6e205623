//! `stella-telemetry redact [--policy FILE]`: JSON lines in on stdin, one redacted object per
//! line out on stdout, in order. A line that is not a JSON object is reported on stderr with
//! its line number and not echoed; the run then exits 1. Override uses are summarised on
//! stderr at the end, one line per ticket.

use std::io::{self, BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;

use crate::failure::{ErrorFormat, Failure, report};

use clap::Args;
use serde_json::Value;
use stellaops_redaction::{RecordingAudit, RedactionPolicy, Redactor};

/// Arguments of `stella-telemetry redact`.
#[derive(Debug, Args)]
pub(crate) struct RedactArgs {
    /// A redaction policy file (JSON; see docs/redaction.md). Without it the built-in default
    /// applies: block-list mode plus every detector.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
}

/// Runs `redact`. Each rejected line is reported in `format` as it is met (the run goes on);
/// the run then fails with the number of rejected lines (exit 1). A policy that cannot be read
/// or built, or an I/O failure on stdin or stdout, stops the run with exit 2.
pub(crate) fn run(args: RedactArgs, format: ErrorFormat) -> Result<(), Failure> {
    let RedactArgs { policy } = args;
    let policy = match policy {
        None => RedactionPolicy::default(),
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                Failure::usage(
                    "redact.policy_unreadable",
                    format!("cannot read policy file {}: {e}", path.display()),
                )
            })?;
            RedactionPolicy::from_json(&text).map_err(|e| {
                Failure::usage(e.code(), format!("policy file {}: {e}", path.display()))
            })?
        }
    };
    let audit = Arc::new(RecordingAudit::new());
    let redactor = Redactor::new(policy).with_audit(audit.clone());

    let stdin = io::stdin().lock();
    let mut out = BufWriter::new(io::stdout().lock());
    let write_failed =
        |e: io::Error| Failure::usage("redact.io", format!("cannot write stdout: {e}"));
    let mut rejected = 0usize;
    for (index, line) in stdin.lines().enumerate() {
        let number = index + 1;
        let line = line.map_err(|e| {
            Failure::usage(
                "redact.io",
                format!("line {number}: cannot read stdin: {e}"),
            )
        })?;
        let mut record = match serde_json::from_str::<Value>(&line) {
            Ok(value @ Value::Object(_)) => value,
            Ok(other) => {
                let message = format!(
                    "line {number}: expected a JSON object, found {}",
                    kind(&other)
                );
                report(&Failure::failed("redact.invalid_line", message), format);
                rejected += 1;
                continue;
            }
            Err(e) => {
                let message = e.to_string();
                let reason = message
                    .rsplit_once(" at line ")
                    .map_or(message.as_str(), |(r, _)| r);
                let message = format!(
                    "line {number}: expected a JSON object, found invalid JSON at column {}: {reason}",
                    e.column()
                );
                report(&Failure::failed("redact.invalid_line", message), format);
                rejected += 1;
                continue;
            }
        };
        redactor.redact_json(&mut record);
        serde_json::to_writer(&mut out, &record)
            .map_err(io::Error::other)
            .and_then(|()| out.write_all(b"\n"))
            .map_err(write_failed)?;
    }
    out.flush().map_err(write_failed)?;
    drop(out);

    report_overrides(&audit);
    if rejected > 0 {
        return Err(Failure::failed(
            "redact.rejected",
            format!("{rejected} line(s) rejected"),
        ));
    }
    Ok(())
}

/// One stderr line per override that kept values: ticket, pattern, uses, expiry.
fn report_overrides(audit: &RecordingAudit) {
    let mut summary: Vec<(String, String, String, usize)> = Vec::new();
    for record in audit.records() {
        match summary
            .iter_mut()
            .find(|(ticket, pattern, _, _)| *ticket == record.ticket && *pattern == record.pattern)
        {
            Some(entry) => entry.3 += 1,
            None => summary.push((
                record.ticket,
                record.pattern,
                record.expires_at.to_rfc3339(),
                1,
            )),
        }
    }
    for (ticket, pattern, expires_at, uses) in summary {
        eprintln!(
            "audit: override {ticket} (key {pattern}, expires {expires_at}) kept {uses} value(s)"
        );
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

//! `stella-telemetry incident start | status | stop`: incident (forensic) mode of a tenant
//! (100% sampling, debug logs, extended attributes), through a service's telemetry router.
//! Human output by default, the global `--json` for scripts; exit codes in `docs/cli.md`.

use crate::failure::Failure;
use crate::remote::{self, DEFAULT_URL, RemoteError, TlsArgs, encode_component, json_call};
use clap::{Args, Subcommand};
use http::Method;
use serde_json::{Value, json};
use std::path::PathBuf;

/// Where the router is and who is asking.
#[derive(Debug, Args)]
pub(crate) struct Connection {
    /// The service's telemetry router: `https://host[:port]` (verified with `--ca`) or
    /// `http://host[:port]` (loopback; elsewhere the token crosses the network in clear).
    #[arg(long, default_value = DEFAULT_URL)]
    url: String,
    #[command(flatten)]
    tls: TlsArgs,
    /// Bearer token (else `--token-file`, else `$STELLA_TELEMETRY_TOKEN`).
    #[arg(long, conflicts_with = "token_file")]
    token: Option<String>,
    /// File whose first line is the bearer token.
    #[arg(long)]
    token_file: Option<PathBuf>,
}

/// Incident (forensic) mode: 100% sampling, debug logs, extended attributes for one tenant.
#[derive(Debug, Subcommand)]
pub(crate) enum IncidentArgs {
    /// Turn forensic mode on for a tenant (it ends by itself after the TTL).
    Start {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// Why (recorded in the audit trail).
        #[arg(long)]
        reason: String,
        /// How long, e.g. `30m`, `2h`, `1d` (the router's default is 30m).
        #[arg(long)]
        ttl: Option<String>,
        #[command(flatten)]
        connection: Connection,
    },
    /// Show the forensic mode of a tenant (the token's own tenant by default).
    Status {
        /// The tenant.
        #[arg(long)]
        tenant: Option<String>,
        #[command(flatten)]
        connection: Connection,
    },
    /// Turn forensic mode off for a tenant.
    Stop {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        #[command(flatten)]
        connection: Connection,
    },
}

/// Runs an `incident` subcommand; `json` prints the router's JSON answer instead of a human
/// summary.
pub(crate) fn run(args: IncidentArgs, json: bool) -> Result<(), Failure> {
    execute(args, json).map_err(Failure::from)
}

fn execute(args: IncidentArgs, json: bool) -> Result<(), RemoteError> {
    match args {
        IncidentArgs::Start {
            tenant,
            reason,
            ttl,
            connection,
        } => {
            let mut body = json!({"tenant": tenant, "enabled": true, "reason": reason});
            if let Some(ttl) = ttl {
                body["ttl"] = Value::String(ttl);
            }
            let view = toggle(&connection, &body)?;
            print(json, &view, || human_view(&view));
        }
        IncidentArgs::Stop { tenant, connection } => {
            let view = toggle(&connection, &json!({"tenant": tenant, "enabled": false}))?;
            print(json, &view, || human_view(&view));
        }
        IncidentArgs::Status { tenant, connection } => {
            let token =
                remote::resolve_token(connection.token.clone(), connection.token_file.as_deref())?;
            let path = match &tenant {
                Some(t) => format!("/telemetry/incidents/status?tenant={}", encode_component(t)),
                None => "/telemetry/incidents/status".to_owned(),
            };
            let answer = json_call(
                &connection.url,
                &connection.tls,
                Method::GET,
                &path,
                token.as_deref(),
                None,
            )?;
            print(json, &answer, || {
                let views = answer["incidents"].as_array().cloned().unwrap_or_default();
                if views.is_empty() {
                    return "no incident state reported".to_owned();
                }
                views.iter().map(human_view).collect::<Vec<_>>().join("\n")
            });
        }
    }
    Ok(())
}

fn toggle(connection: &Connection, body: &Value) -> Result<Value, RemoteError> {
    let token = remote::resolve_token(connection.token.clone(), connection.token_file.as_deref())?;
    json_call(
        &connection.url,
        &connection.tls,
        Method::POST,
        "/telemetry/incidents/mode",
        token.as_deref(),
        Some(body),
    )
}

fn print(json: bool, answer: &Value, human: impl FnOnce() -> String) {
    if json {
        println!("{answer}");
    } else {
        println!("{}", human());
    }
}

/// `tenant acme: forensic mode ON until 2025-03-01T12:45:00Z (reason "…", by ops@acme, source api)`.
fn human_view(view: &Value) -> String {
    let text = |key: &str| view[key].as_str().unwrap_or("-").to_owned();
    let tenant = text("tenant");
    if view["active"].as_bool() == Some(true) {
        format!(
            "tenant {tenant}: forensic mode ON until {} (reason {:?}, by {}, source {}, since {})",
            text("expiresAt"),
            text("reason"),
            text("actor"),
            text("source"),
            text("startedAt"),
        )
    } else if view["expiresAt"].is_string() {
        format!(
            "tenant {tenant}: forensic mode OFF (last incident {:?} by {}, ended {})",
            text("reason"),
            text("actor"),
            text("expiresAt"),
        )
    } else {
        format!("tenant {tenant}: forensic mode OFF")
    }
}

//! The router: exactly the routes of the telemetry HTTP API (`docs/http-api.md`) plus
//! `/metrics`, `/healthz` and `/readyz`, with bearer authentication, per-endpoint scopes,
//! tenant isolation, JSON errors and audit.
//!
//! | route | scope |
//! |---|---|
//! | `GET /telemetry/config/profiles` | `telemetry:read` |
//! | `GET /telemetry/config/profile/{name}` | `telemetry:read` |
//! | `POST /telemetry/incidents/mode` | `telemetry:admin` |
//! | `GET /telemetry/incidents/status` | `telemetry:read` |
//! | `GET /telemetry/exports/forensic/{window}` | `telemetry:export` |
//! | `GET /metrics`, `GET /healthz`, `GET /readyz` | none |

// Layout: `routes` is the route table, `state` what the handlers serve from; one module per
// handler group (`profiles`, `incidents`, `forensic_export`, `probes`); `access` (token,
// scope, tenant), `input` (tenant and length rules) and `response` are shared by them.

mod access;
mod forensic_export;
mod incidents;
mod input;
mod probes;
mod profiles;
mod response;
mod routes;
mod state;

pub use forensic_export::{EXPORT_CHUNK, EXPORT_QUEUE};
pub use incidents::MAX_REASON_LEN;
pub use input::MAX_TENANT_LEN;
pub use probes::OPENMETRICS_CONTENT_TYPE;
pub use routes::TelemetryRouter;
pub use state::{MetricsSource, Readiness, TelemetryState, TelemetryStateBuilder};

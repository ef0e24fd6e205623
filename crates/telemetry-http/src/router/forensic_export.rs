//! The export handler: `GET /telemetry/exports/forensic/{window}` streams a signed forensic
//! bundle from the exporter on a blocking thread through a bounded channel, hashing what it
//! sent for the audit record; `HEAD` checks access and the window only. Not where bundles are
//! written: see [`crate::export`].

use super::access::{require_scope, require_tenant};
use super::input::{query_tenant, truncate};
use super::state::AppState;
use crate::audit::{AuditAction, AuditOutcome};
use crate::auth::SCOPE_EXPORT;
use crate::error::{ApiError, ApiErrorKind};
use crate::window::parse_export_window;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Uri, header};
use sha2::{Digest as _, Sha256};
use std::io::{self, Write};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Size of one streamed export chunk.
pub const EXPORT_CHUNK: usize = 64 * 1024;
/// Chunks buffered between the exporter thread and the client (memory bound per export is
/// about `EXPORT_CHUNK * (EXPORT_QUEUE + 2)`).
pub const EXPORT_QUEUE: usize = 4;

/// What the exporter thread sends the response body.
enum Chunk {
    Data(Bytes),
    Failed(ApiError),
}

/// An `io::Write` that forwards `EXPORT_CHUNK`-sized chunks into the bounded channel,
/// blocking while it is full, failing once the client is gone; it hashes what it sent.
struct ChannelWriter {
    tx: mpsc::Sender<Chunk>,
    buf: Vec<u8>,
    hasher: Sha256,
    sent: u64,
}

impl ChannelWriter {
    fn send_buffer(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(EXPORT_CHUNK));
        let len = chunk.len() as u64;
        self.hasher.update(&chunk);
        self.tx
            .blocking_send(Chunk::Data(Bytes::from(chunk)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))?;
        self.sent += len;
        Ok(())
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = EXPORT_CHUNK.saturating_sub(self.buf.len());
        let n = data.len().min(room);
        self.buf
            .extend_from_slice(data.get(..n).unwrap_or_default());
        if self.buf.len() >= EXPORT_CHUNK {
            self.send_buffer()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_buffer()
    }
}

fn safe_name(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub(super) async fn export(
    State(state): AppState,
    method: http::Method,
    headers: HeaderMap,
    uri: Uri,
    window: Result<Path<String>, PathRejection>,
) -> Response {
    let at = state.clock.now();
    let principal = match state.authenticate(&headers) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let window_text = match &window {
        Ok(Path(w)) => w.clone(),
        Err(_) => String::new(),
    };
    let denied_action = || AuditAction::ForensicExport {
        window: truncate(&window_text, 200),
        start: None,
        end: None,
        bytes: 0,
        digest: None,
    };
    if let Err(e) = require_scope(&principal, SCOPE_EXPORT) {
        let tenant = principal.tenant.clone();
        state.audit(
            at,
            &principal,
            &tenant,
            denied_action(),
            AuditOutcome::Denied,
            Some(e.code()),
        );
        return e.into_response();
    }
    let tenant = match query_tenant(&uri) {
        Ok(t) => t.unwrap_or_else(|| principal.tenant.clone()),
        Err(e) => return e.into_response(),
    };
    if let Err(e) = require_tenant(&principal, &tenant) {
        state.audit(
            at,
            &principal,
            &tenant,
            denied_action(),
            AuditOutcome::Denied,
            Some(e.code()),
        );
        return e.into_response();
    }
    if window.is_err() {
        return ApiError::bad_request(
            "telemetry.capture.invalid_window",
            "window: not valid UTF-8 once percent-decoded",
            "window",
        )
        .into_response();
    }
    let parsed = match parse_export_window(&window_text, at) {
        Ok(w) => w,
        Err(e) => {
            return ApiError::bad_request(e.code(), e.to_string(), "window").into_response();
        }
    };

    let disposition = format!(
        "attachment; filename=\"forensic-{}-{}-{}.tar.gz\"",
        safe_name(&tenant),
        parsed.start.format("%Y%m%dT%H%M%SZ"),
        parsed.end.format("%Y%m%dT%H%M%SZ")
    );
    if method == http::Method::HEAD {
        // A probe (`curl -I`): access and window are checked, nothing is exported or audited.
        return export_response(Body::empty(), &disposition);
    }
    let (tx, mut rx) = mpsc::channel::<Chunk>(EXPORT_QUEUE);
    let task_state = Arc::clone(&state);
    let task_tenant = tenant.clone();
    let task_principal = principal.clone();
    let task_window = window_text.clone();
    tokio::task::spawn_blocking(move || {
        let mut writer = ChannelWriter {
            tx,
            buf: Vec::with_capacity(EXPORT_CHUNK),
            hasher: Sha256::new(),
            sent: 0,
        };
        let result = task_state
            .exporter
            .export(&task_tenant, &parsed, &mut writer)
            .and_then(|()| writer.flush().map_err(Into::into));
        let (outcome, code) = match &result {
            Ok(()) => (AuditOutcome::Ok, None),
            Err(e) => (AuditOutcome::Failed, Some(e.code())),
        };
        let digest = (writer.sent > 0)
            .then(|| format!("sha256:{}", hex::encode(writer.hasher.clone().finalize())));
        task_state.audit(
            at,
            &task_principal,
            &task_tenant,
            AuditAction::ForensicExport {
                window: truncate(&task_window, 200),
                start: Some(parsed.start),
                end: Some(parsed.end),
                bytes: writer.sent,
                digest,
            },
            outcome,
            code,
        );
        if let Err(e) = result {
            let error = ApiError::new(
                match e {
                    crate::export::ExportError::Unavailable(_) => ApiErrorKind::Unavailable,
                    _ => ApiErrorKind::Internal,
                },
                e.code(),
                e.to_string(),
            );
            // Ignored when the client is gone: nobody is left to tell.
            let _ = writer.tx.blocking_send(Chunk::Failed(error));
        }
    });

    let first = match rx.recv().await {
        Some(Chunk::Data(bytes)) => Some(bytes),
        Some(Chunk::Failed(e)) => return e.into_response(),
        None => None,
    };
    let stream = futures_stream(first, rx);
    export_response(Body::from_stream(stream), &disposition)
}

fn export_response(body: Body, disposition: &str) -> Response {
    let mut response = Response::new(body);
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/gzip"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(disposition) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// The body stream: the first chunk, then whatever the exporter sends; a failure after the
/// first byte aborts the body (the client sees a truncated transfer, never a short bundle
/// that looks complete).
fn futures_stream(
    first: Option<Bytes>,
    rx: mpsc::Receiver<Chunk>,
) -> impl tokio_stream::Stream<Item = Result<Bytes, io::Error>> + Send + 'static {
    use tokio_stream::StreamExt as _;
    let head = tokio_stream::iter(first.into_iter().map(Ok));
    let tail = tokio_stream::wrappers::ReceiverStream::new(rx).map(|chunk| match chunk {
        Chunk::Data(bytes) => Ok(bytes),
        Chunk::Failed(e) => Err(io::Error::other(e.to_string())),
    });
    head.chain(tail)
}

//! The exit statuses of every command, the one failure type they return (exit status, stable
//! error code, message), and the one function that reports a failure on stderr: the text line
//! `error[CODE]: message`, or with `--json` one JSON object. Not for warnings, progress bars or
//! per-record lines, which stay plain text.

use std::borrow::Cow;
use std::process::ExitCode;

use serde_json::{Map, Value};

/// The process exit status, as in the table of `docs/cli.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Exit {
    /// Success: everything allowed, verified, processed or written.
    Ok = 0,
    /// The input was processed but something failed: a rejected line, a failed verification,
    /// a failed record, local I/O.
    Failed = 1,
    /// A usage error or bad input: bad arguments, an unreadable or invalid argument file, an
    /// invalid window, the router's 400/404 naming the field.
    Usage = 2,
    /// The egress policy denied an endpoint.
    Denied = 3,
    /// The router refused the token or the request (401, 403).
    Unauthorized = 4,
    /// The router failed (5xx, or an answer that is not the expected JSON).
    ServerError = 5,
    /// The router is unreachable (refused, unresolvable, timed out, cut short).
    Unreachable = 6,
    /// TLS failed (an untrusted or misnamed certificate, a refused or missing client
    /// certificate).
    Tls = 7,
}

impl Exit {
    /// The number the process exits with.
    pub(crate) const fn number(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit.number())
    }
}

/// Why a command failed: the exit status, a stable error code (`bundle.signature`,
/// `cli.remote.tls`, ...), the message, and optionally what to do about it.
#[derive(Debug)]
pub(crate) struct Failure {
    exit: Exit,
    code: Cow<'static, str>,
    message: String,
    remediation: Option<String>,
}

impl Failure {
    /// A failure with this exit status, code and message.
    pub(crate) fn new(
        exit: Exit,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            exit,
            code: code.into(),
            message: message.into(),
            remediation: None,
        }
    }

    /// A failure that exits [`Exit::Failed`].
    pub(crate) fn failed(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(Exit::Failed, code, message)
    }

    /// A failure that exits [`Exit::Usage`].
    pub(crate) fn usage(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(Exit::Usage, code, message)
    }

    /// The same failure with another exit status.
    #[must_use]
    pub(crate) fn with_exit(mut self, exit: Exit) -> Self {
        self.exit = exit;
        self
    }

    /// The same failure with `remediation` (what to change) reported after the message.
    #[must_use]
    pub(crate) fn with_remediation(mut self, remediation: impl Into<String>) -> Self {
        self.remediation = Some(remediation.into());
        self
    }

    /// The same failure and code with the message rewritten, e.g. to add context.
    #[must_use]
    pub(crate) fn map_message(mut self, rewrite: impl FnOnce(String) -> String) -> Self {
        self.message = rewrite(self.message);
        self
    }

    /// The exit status.
    pub(crate) fn exit(&self) -> Exit {
        self.exit
    }

    /// The stable error code.
    pub(crate) fn code(&self) -> &str {
        &self.code
    }

    /// The message.
    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    /// The text form: `error[CODE]: message`, then `remediation: ...` on its own line.
    pub(crate) fn to_text(&self) -> String {
        let mut text = format!("error[{}]: {}", self.code, self.message);
        if let Some(remediation) = &self.remediation {
            text.push_str("\nremediation: ");
            text.push_str(remediation);
        }
        text
    }

    /// The JSON form: `{"error":{"code","message"[,"remediation"]}}`.
    pub(crate) fn to_json(&self) -> Value {
        let mut error = Map::new();
        error.insert("code".into(), Value::from(self.code.as_ref()));
        error.insert("message".into(), Value::from(self.message.as_str()));
        if let Some(remediation) = &self.remediation {
            error.insert("remediation".into(), Value::from(remediation.as_str()));
        }
        let mut object = Map::new();
        object.insert("error".into(), Value::Object(error));
        Value::Object(object)
    }
}

/// Library errors carry a stable `code()`; a command that returns one as is exits
/// [`Exit::Failed`] (a command that means bad input changes it with [`Failure::with_exit`]).
macro_rules! failed_from {
    ($($error:ty),* $(,)?) => {
        $(
            impl From<$error> for Failure {
                fn from(e: $error) -> Self {
                    Self::failed(e.code(), e.to_string())
                }
            }
        )*
    };
}

failed_from!(
    stellaops_bundle_format::BundleError,
    stellaops_dsse::DsseError,
    stellaops_telemetry_core::replay::ReplayError,
    stellaops_telemetry_core::spool::SpoolError,
    stellaops_telemetry_core::spool::CaptureError,
    stellaops_telemetry_deploy::bundle::ConfigBundleError,
    stellaops_telemetry_deploy::offline_kit::KitError,
    stellaops_dora_metrics::DoraError,
    stellaops_outcome_analytics::OutcomeError,
);

/// How failures are written on stderr: the global `--json` flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorFormat {
    /// `error[CODE]: message`.
    Text,
    /// One JSON object on one line.
    Json,
}

impl ErrorFormat {
    /// [`ErrorFormat::Json`] when `json` is set.
    pub(crate) fn from_json_flag(json: bool) -> Self {
        if json { Self::Json } else { Self::Text }
    }
}

/// Writes `failure` on stderr in `format` (one line; the text form's remediation on a second).
pub(crate) fn report(failure: &Failure, format: ErrorFormat) {
    match format {
        ErrorFormat::Text => eprintln!("{}", failure.to_text()),
        ErrorFormat::Json => eprintln!("{}", failure.to_json()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_numbers_are_the_documented_table() {
        let table = [
            (Exit::Ok, 0),
            (Exit::Failed, 1),
            (Exit::Usage, 2),
            (Exit::Denied, 3),
            (Exit::Unauthorized, 4),
            (Exit::ServerError, 5),
            (Exit::Unreachable, 6),
            (Exit::Tls, 7),
        ];
        for (exit, number) in table {
            assert_eq!(exit.number(), number, "{exit:?}");
        }
    }

    #[test]
    fn text_and_json_carry_the_code_and_the_message() {
        let failure = Failure::failed("bundle.signature", "not \"trusted\"");
        assert_eq!(
            failure.to_text(),
            "error[bundle.signature]: not \"trusted\""
        );
        assert_eq!(
            failure.to_json().to_string(),
            r#"{"error":{"code":"bundle.signature","message":"not \"trusted\""}}"#
        );
        let denied =
            Failure::new(Exit::Denied, "egress.denied", "refused").with_remediation("use loopback");
        assert_eq!(
            denied.to_text(),
            "error[egress.denied]: refused\nremediation: use loopback"
        );
        assert_eq!(denied.to_json()["error"]["remediation"], "use loopback");
        assert_eq!(denied.exit(), Exit::Denied);
    }
}

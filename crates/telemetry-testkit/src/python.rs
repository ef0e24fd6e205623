//! The peers' Python: `opentelemetry-proto` to decode OTLP files written by Rust code, and
//! `securesystemslib` to sign and verify DSSE envelopes, through the scripts in `python/`.

use crate::error::PeerError;
use crate::promtool::{ToolOutput, run_tool};
use std::path::{Path, PathBuf};

/// The Python interpreter of the peers' virtual environment, with the kit's scripts.
#[derive(Debug, Clone)]
pub struct Python {
    interpreter: PathBuf,
    scripts: PathBuf,
}

impl Python {
    /// Finds `bin/python` in the peers' virtual environment (see [`crate::peers_venv`]).
    ///
    /// # Errors
    /// [`PeerError::NotInstalled`] when the environment does not exist.
    pub fn locate() -> Result<Self, PeerError> {
        let interpreter = crate::peers_venv().join("bin/python");
        if !interpreter.is_file() {
            return Err(PeerError::NotInstalled {
                peer: "peers' python venv",
                path: interpreter,
            });
        }
        let scripts = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python");
        Ok(Self {
            interpreter,
            scripts,
        })
    }

    /// Runs one of the kit's scripts (`python/NAME`) with arguments and optional stdin.
    ///
    /// # Errors
    /// Fails only when the interpreter cannot be run.
    pub fn script(
        &self,
        name: &str,
        args: &[&str],
        stdin: Option<&[u8]>,
    ) -> Result<ToolOutput, PeerError> {
        let script = self.scripts.join(name);
        let script = script.to_string_lossy();
        let mut all = vec![script.as_ref()];
        all.extend_from_slice(args);
        run_tool("python", &self.interpreter, &all, stdin, None)
    }

    /// Runs `python -c CODE` with arguments.
    ///
    /// # Errors
    /// Fails only when the interpreter cannot be run.
    pub fn code(&self, code: &str, args: &[&str]) -> Result<ToolOutput, PeerError> {
        let mut all = vec!["-c", code];
        all.extend_from_slice(args);
        run_tool("python", &self.interpreter, &all, None, None)
    }

    /// Decodes a file of OTLP records in the collector file exporter's `proto` framing
    /// (4-byte big-endian length, then one `Export{Traces,Metrics,Logs}ServiceRequest`) with
    /// Python's `opentelemetry-proto`, returning one JSON object per record
    /// (protobuf's JSON mapping).
    ///
    /// `signal` is `traces`, `metrics` or `logs`.
    ///
    /// # Errors
    /// [`PeerError::BadOutput`] with Python's message when a record does not decode.
    pub fn decode_otlp_file(
        &self,
        signal: &str,
        file: &Path,
    ) -> Result<Vec<serde_json::Value>, PeerError> {
        let path = file.to_string_lossy();
        let out = self.script("otlp_decode.py", &[signal, &path], None)?;
        if !out.success {
            return Err(PeerError::BadOutput {
                peer: "python otlp_decode",
                detail: out.combined(),
            });
        }
        match serde_json::from_str::<serde_json::Value>(&out.stdout) {
            Ok(serde_json::Value::Array(records)) => Ok(records),
            Ok(other) => Err(PeerError::BadOutput {
                peer: "python otlp_decode",
                detail: format!("expected a JSON array, got {other}"),
            }),
            Err(e) => Err(PeerError::BadOutput {
                peer: "python otlp_decode",
                detail: format!("{e}: {}", out.stdout),
            }),
        }
    }

    /// Runs the kit's securesystemslib DSSE tool (`python/dsse.py`): subcommands `keygen`,
    /// `sign` and `verify` (see the script's `--help`).
    ///
    /// # Errors
    /// Fails only when the interpreter cannot be run; a failed verification is
    /// `success == false` with the reason on stderr.
    pub fn dsse(&self, args: &[&str], stdin: Option<&[u8]>) -> Result<ToolOutput, PeerError> {
        self.script("dsse.py", args, stdin)
    }
}

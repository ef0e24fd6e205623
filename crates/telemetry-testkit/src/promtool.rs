//! `promtool` (Debian package `prometheus`) as a test peer: lint exposition text, check and
//! unit-test alert rules.

use crate::error::PeerError;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What a peer program printed and how it exited.
#[derive(Debug, Clone)]
pub struct ToolOutput {
    /// Whether it exited with status 0.
    pub success: bool,
    /// Everything on standard output.
    pub stdout: String,
    /// Everything on standard error.
    pub stderr: String,
}

impl ToolOutput {
    /// Standard output and standard error together, for assertions and messages.
    pub fn combined(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// The `promtool` binary.
#[derive(Debug, Clone)]
pub struct Promtool {
    binary: PathBuf,
}

impl Promtool {
    /// Finds `promtool`: `$PROMTOOL` when set, else on `PATH`, else `/usr/bin/promtool`.
    ///
    /// # Errors
    /// [`PeerError::NotInstalled`] when none of them exists.
    pub fn locate() -> Result<Self, PeerError> {
        if let Some(path) = std::env::var_os("PROMTOOL") {
            return Self::at(PathBuf::from(path));
        }
        let on_path = std::env::var_os("PATH")
            .map(|p| {
                std::env::split_paths(&p)
                    .map(|d| d.join("promtool"))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        on_path
            .into_iter()
            .find(|p| p.is_file())
            .map_or_else(|| Self::at(PathBuf::from("/usr/bin/promtool")), Self::at)
    }

    fn at(binary: PathBuf) -> Result<Self, PeerError> {
        if binary.is_file() {
            Ok(Self { binary })
        } else {
            Err(PeerError::NotInstalled {
                peer: "promtool",
                path: binary,
            })
        }
    }

    /// `promtool check metrics` over exposition text (OpenMetrics or Prometheus text format).
    /// Lint problems make `success` false and are listed on stdout/stderr.
    ///
    /// # Errors
    /// Fails only when promtool cannot be run.
    pub fn check_metrics(&self, exposition: &str) -> Result<ToolOutput, PeerError> {
        self.run(&["check", "metrics"], Some(exposition.as_bytes()))
    }

    /// `promtool check rules FILE`.
    ///
    /// # Errors
    /// Fails only when promtool cannot be run.
    pub fn check_rules(&self, rules: &Path) -> Result<ToolOutput, PeerError> {
        let path = rules.to_string_lossy();
        self.run(&["check", "rules", &path], None)
    }

    /// `promtool test rules FILE` (a rule unit-test file).
    ///
    /// # Errors
    /// Fails only when promtool cannot be run.
    pub fn test_rules(&self, tests: &Path) -> Result<ToolOutput, PeerError> {
        let path = tests.to_string_lossy();
        self.run(&["test", "rules", &path], None)
    }

    /// Runs promtool with any arguments and optional standard input.
    ///
    /// # Errors
    /// Fails only when promtool cannot be run.
    pub fn run(&self, args: &[&str], stdin: Option<&[u8]>) -> Result<ToolOutput, PeerError> {
        run_tool("promtool", &self.binary, args, stdin, None)
    }
}

/// Runs a peer program to completion, feeding `stdin` and collecting both outputs.
pub(crate) fn run_tool(
    peer: &'static str,
    binary: &Path,
    args: &[&str],
    stdin: Option<&[u8]>,
    cwd: Option<&Path>,
) -> Result<ToolOutput, PeerError> {
    let io = |action: String| {
        move |source| PeerError::Io {
            peer,
            action,
            source,
        }
    };
    let mut command = Command::new(binary);
    command
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(dir) = cwd {
        command.current_dir(dir);
    }
    let mut child = command
        .spawn()
        .map_err(io(format!("spawn {}", binary.display())))?;
    let feeder = match (stdin, child.stdin.take()) {
        (Some(bytes), Some(mut pipe)) => {
            let bytes = bytes.to_vec();
            Some(std::thread::spawn(move || pipe.write_all(&bytes)))
        }
        _ => None,
    };
    let output = child
        .wait_with_output()
        .map_err(io(format!("wait for {}", binary.display())))?;
    if let Some(feeder) = feeder {
        // A tool may exit without reading all of its input; that is its answer, not ours.
        let _ = feeder.join();
    }
    Ok(ToolOutput {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

//! The `rotel` OTLP collector as a test peer, forwarding to an [`OtlpSink`].

use crate::error::PeerError;
use crate::received::{FlatLogRecord, FlatSpan, Received};
use crate::sink::OtlpSink;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// A real OTLP collector (`rotel-agent`) listening for OTLP gRPC and HTTP on free loopback
/// ports, re-exporting everything it accepts over OTLP gRPC to an in-test [`OtlpSink`].
///
/// Dropping it kills the collector and stops the sink. [`Collector::stop`] and
/// [`Collector::restart`] simulate an outage on the same ports.
#[derive(Debug)]
pub struct Collector {
    sink: OtlpSink,
    child: Option<Child>,
    grpc: SocketAddr,
    http: SocketAddr,
    workdir: tempfile::TempDir,
    binary: PathBuf,
}

impl Collector {
    /// Locates `rotel-agent` in the peers' virtual environment, starts the sink and the
    /// collector, and waits until both OTLP ports accept connections.
    ///
    /// # Errors
    /// [`PeerError::NotInstalled`] when rotel is missing; [`PeerError::NotReady`] (with the
    /// collector's log) when it does not come up.
    pub fn start() -> Result<Self, PeerError> {
        Self::start_on(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST))
    }

    /// Like [`Collector::start`], but the collector's OTLP ports listen on `ip` (for example
    /// the host's non-loopback address, to test what sealed mode refuses). The sink it
    /// forwards to stays on loopback.
    ///
    /// # Errors
    /// As [`Collector::start`].
    pub fn start_on(ip: std::net::IpAddr) -> Result<Self, PeerError> {
        let binary = locate_rotel(&crate::peers_venv())?;
        let sink = OtlpSink::start()?;
        let port = |action: &str| {
            std::net::TcpListener::bind((ip, 0))
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .map_err(|source| PeerError::Io {
                    peer: "rotel",
                    action: action.to_owned(),
                    source,
                })
        };
        let grpc = SocketAddr::from((ip, port("pick a gRPC port")?));
        let http = SocketAddr::from((ip, port("pick an HTTP port")?));
        let workdir = tempfile::Builder::new()
            .prefix("rotel-")
            .tempdir()
            .map_err(|source| PeerError::Io {
                peer: "rotel",
                action: "create work directory".into(),
                source,
            })?;
        let mut collector = Self {
            sink,
            child: None,
            grpc,
            http,
            workdir,
            binary,
        };
        collector.restart()?;
        Ok(collector)
    }

    /// The OTLP gRPC endpoint, `http://127.0.0.1:PORT`.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://{}", self.grpc)
    }

    /// The OTLP HTTP base endpoint, `http://127.0.0.1:PORT` (signals post to `/v1/traces`,
    /// `/v1/metrics`, `/v1/logs`).
    pub fn http_endpoint(&self) -> String {
        format!("http://{}", self.http)
    }

    /// The receiver the collector forwards to.
    pub fn sink(&self) -> &OtlpSink {
        &self.sink
    }

    /// A snapshot of everything the collector forwarded so far.
    pub fn received(&self) -> Received {
        self.sink.received()
    }

    /// Waits until `check` finds what it looks for in what the collector forwarded.
    ///
    /// # Errors
    /// [`PeerError::Timeout`] naming `what`, with a summary of what did arrive.
    pub fn wait_for<T>(
        &self,
        what: &str,
        timeout: Duration,
        check: impl FnMut(&Received) -> Option<T>,
    ) -> Result<T, PeerError> {
        self.sink
            .wait_for(what, timeout, check)
            .map_err(|e| match e {
                PeerError::Timeout { what, waited, seen } => PeerError::Timeout {
                    what,
                    waited,
                    seen: format!("{seen}\ncollector log:\n{}", tail(&self.log())),
                },
                other => other,
            })
    }

    /// What the collector has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.workdir.path().join("rotel.log")).unwrap_or_default()
    }

    /// Waits for a span called `name`.
    ///
    /// # Errors
    /// [`PeerError::Timeout`] when no such span arrives in time.
    pub fn wait_for_span(&self, name: &str, timeout: Duration) -> Result<FlatSpan, PeerError> {
        self.wait_for(&format!("span {name:?}"), timeout, |r| {
            r.spans().into_iter().find(|s| s.span.name == name)
        })
    }

    /// Waits for a log record whose body contains `needle`.
    ///
    /// # Errors
    /// [`PeerError::Timeout`] when no such record arrives in time.
    pub fn wait_for_log(
        &self,
        needle: &str,
        timeout: Duration,
    ) -> Result<FlatLogRecord, PeerError> {
        self.wait_for(&format!("log record containing {needle:?}"), timeout, |r| {
            r.log_records()
                .into_iter()
                .find(|l| l.body().is_some_and(|b| b.contains(needle)))
        })
    }

    /// Waits for a metric called `name`.
    ///
    /// # Errors
    /// [`PeerError::Timeout`] when no such metric arrives in time.
    pub fn wait_for_metric(&self, name: &str, timeout: Duration) -> Result<(), PeerError> {
        self.wait_for(&format!("metric {name:?}"), timeout, |r| {
            r.metric_names().iter().any(|m| m == name).then_some(())
        })
    }

    /// Kills the collector (the sink keeps what it has). Exporters pointed at it now fail to
    /// connect, as in a real outage.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether the collector process is running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Starts the collector again on the same ports (after [`Collector::stop`]) and waits
    /// until it accepts connections.
    ///
    /// # Errors
    /// [`PeerError::NotReady`] with the collector's log when it does not come up.
    pub fn restart(&mut self) -> Result<(), PeerError> {
        self.stop();
        let dir = self.workdir.path();
        let log = dir.join("rotel.log");
        let child = Command::new(&self.binary)
            .arg("start")
            .args(["--log-format", "json"])
            .args(["--otlp-grpc-endpoint", &self.grpc.to_string()])
            .args(["--otlp-http-endpoint", &self.http.to_string()])
            .args(["--exporter", "otlp"])
            .args(["--otlp-exporter-endpoint", &self.sink.endpoint()])
            .args(["--otlp-exporter-protocol", "grpc"])
            .args(["--otlp-exporter-compression", "none"])
            .args(["--otlp-exporter-retry-initial-backoff", "100ms"])
            .args(["--otlp-exporter-retry-max-backoff", "1s"])
            .args(["--batch-timeout", "50ms"])
            .arg("--pid-file")
            .arg(dir.join("rotel.pid"))
            .arg("--log-file")
            .arg(dir.join("rotel-daemon.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::from(open_append(&log)?))
            .stderr(Stdio::from(open_append(&log)?))
            .spawn()
            .map_err(|source| PeerError::Io {
                peer: "rotel",
                action: format!("spawn {}", self.binary.display()),
                source,
            })?;
        self.child = Some(child);
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            if !self.is_running() {
                break;
            }
            if accepts(self.grpc) && accepts(self.http) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let log_text = std::fs::read_to_string(&log).unwrap_or_default();
        self.stop();
        Err(PeerError::NotReady {
            peer: "rotel",
            waited: READY_TIMEOUT,
            log: tail(&log_text),
        })
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.stop();
    }
}

fn accepts(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok()
}

fn open_append(path: &Path) -> Result<std::fs::File, PeerError> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| PeerError::Io {
            peer: "rotel",
            action: format!("open {}", path.display()),
            source,
        })
}

fn tail(text: &str) -> String {
    let count = text.lines().count();
    text.lines()
        .skip(count.saturating_sub(40))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Finds `rotel-agent` inside the `rotel` package of the virtual environment.
fn locate_rotel(venv: &Path) -> Result<PathBuf, PeerError> {
    let lib = venv.join("lib");
    let candidates = std::fs::read_dir(&lib)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("site-packages/rotel/rotel-agent"));
    for candidate in candidates {
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    Err(PeerError::NotInstalled {
        peer: "rotel-agent",
        path: lib.join("python3.*/site-packages/rotel/rotel-agent"),
    })
}

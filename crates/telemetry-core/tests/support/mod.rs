//! Shared helpers for the telemetry-core integration tests.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use stellaops_telemetry_core::logging::LogSink;
use stellaops_telemetry_core::sampling::ManualClock;

/// A log sink the test can read back.
#[derive(Clone, Default)]
pub struct Captured(pub Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub fn sink(&self) -> LogSink {
        Arc::new(Mutex::new(Box::new(self.clone())))
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }

    pub fn lines(&self) -> Vec<serde_json::Value> {
        self.text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// 2025-11-29T12:00:00.123Z, always.
pub fn fixed_clock() -> ManualClock {
    ManualClock::new(
        chrono::DateTime::parse_from_rfc3339("2025-11-29T12:00:00.123Z")
            .unwrap()
            .with_timezone(&chrono::Utc),
    )
}

/// Framed records of a spool file.
pub fn framed_records(path: &std::path::Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(path).unwrap_or_default();
    let mut out = Vec::new();
    let mut rest = bytes.as_slice();
    while rest.len() >= 4 {
        let (len, tail) = rest.split_at(4);
        let len = u32::from_be_bytes(len.try_into().unwrap()) as usize;
        let (body, tail) = tail.split_at(len);
        out.push(body.to_vec());
        rest = tail;
    }
    out
}

/// Every record the spool in `dir` holds for `signal` (`traces`, `metrics` or `logs`), sealed
/// and open segments in sequence order; for logs, the class sub-streams (`logs/<class>/`,
/// retention classes) after any legacy `logs/` segments, in directory name order.
pub fn spooled(dir: &std::path::Path, signal: &str) -> Vec<Vec<u8>> {
    fn files_in(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut entries: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        entries.sort();
        let (dirs, mut files): (Vec<_>, Vec<_>) = entries.into_iter().partition(|p| p.is_dir());
        for sub in dirs {
            files.extend(files_in(&sub));
        }
        files
    }
    files_in(&dir.join(signal))
        .iter()
        .flat_map(|f| framed_records(f))
        .collect()
}

/// A temporary directory only its owner can read (mode 0700): the spool refuses a
/// world-readable directory.
pub fn private_tempdir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    dir
}

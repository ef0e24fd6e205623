//! Incident holds: time ranges whose spool segments outlive retention and the size cap.
//! Persisted as `holds.json` in the spool directory (written atomically, mode 0600).

use super::error::SpoolError;
use super::fsutil::{check_private, write_private_atomic};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// File name of the persisted holds.
pub const HOLDS_FILE: &str = "holds.json";

/// One incident hold: segments overlapping `[start, end]` are kept for the hold retention
/// (180 days by default) after their own end, whatever the retention or size cap.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Hold {
    /// The tenant whose incident asked for the hold (segments hold every tenant's records,
    /// so the hold keeps whole segments).
    pub tenant: String,
    /// Start of the held range.
    pub start: DateTime<Utc>,
    /// End of the held range.
    pub end: DateTime<Utc>,
}

impl Hold {
    /// Whether a segment spanning `[from, to]` overlaps the hold.
    pub fn covers(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
        from <= self.end && to >= self.start
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HoldsFile {
    version: u32,
    holds: Vec<Hold>,
}

pub(super) fn load(dir: &Path) -> Result<Vec<Hold>, SpoolError> {
    let path = dir.join(HOLDS_FILE);
    if !path.exists() {
        return Ok(Vec::new());
    }
    check_private(&path)?;
    let bytes = std::fs::read(&path).map_err(|source| SpoolError::Io {
        path: path.clone(),
        action: "read",
        source,
    })?;
    let file: HoldsFile = serde_json::from_slice(&bytes).map_err(|e| SpoolError::HoldsFile {
        path: path.clone(),
        detail: e.to_string(),
    })?;
    if file.version != 1 {
        return Err(SpoolError::HoldsFile {
            path,
            detail: format!("expected version 1, found {}", file.version),
        });
    }
    Ok(file.holds)
}

pub(super) fn save(dir: &Path, holds: &[Hold]) -> Result<(), SpoolError> {
    let file = HoldsFile {
        version: 1,
        holds: holds.to_vec(),
    };
    let mut bytes = serde_json::to_vec_pretty(&file).map_err(|e| SpoolError::HoldsFile {
        path: dir.join(HOLDS_FILE),
        detail: e.to_string(),
    })?;
    bytes.push(b'\n');
    write_private_atomic(&dir.join(HOLDS_FILE), &bytes)
}

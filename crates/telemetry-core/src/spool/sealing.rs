//! Sealing: the open segment synced and renamed to its final `<seq>_<from>_<to>.otlp` name,
//! when it is too old, on request, or at shutdown. Not the recovery of a segment left open
//! by a stopped process (`recovery`).

use super::error::SpoolError;
use super::fsutil::{remove, sync_dir};
use super::handle::{Spool, lock};
use super::segment::sealed_name;
use super::stream::SignalState;
use std::path::Path;

impl Spool {
    /// Seals every open segment older than the maximum age (call periodically; appends also
    /// do it), then prunes when one was sealed. Returns how many were sealed.
    ///
    /// # Errors
    /// [`SpoolError::Io`] when sealing or pruning fails.
    pub fn seal_expired(&self) -> Result<usize, SpoolError> {
        self.writable()?;
        let now = self.inner.clock.now();
        let mut sealed = 0;
        for stream in &self.inner.streams {
            let mut state = lock(&stream.state);
            let due = state.open.as_ref().is_some_and(|o| {
                now.signed_duration_since(o.opened_at)
                    .to_std()
                    .is_ok_and(|a| a >= self.inner.config.segment_max_age)
            });
            if due {
                seal(&mut state)?;
                sealed += 1;
            }
        }
        if sealed > 0 {
            self.prune()?;
        }
        Ok(sealed)
    }

    /// Seals every open segment now (shutdown, or before handing the directory over), then
    /// prunes.
    ///
    /// # Errors
    /// [`SpoolError::Io`] when a rename or the prune fails.
    pub fn seal_all(&self) -> Result<(), SpoolError> {
        self.writable()?;
        for stream in &self.inner.streams {
            seal(&mut lock(&stream.state))?;
        }
        self.prune()?;
        Ok(())
    }
}

/// Seals the open segment of `state`: fsync, rename to its final name (an empty one is
/// removed).
pub(super) fn seal(state: &mut SignalState) -> Result<(), SpoolError> {
    let Some(open) = state.open.take() else {
        return Ok(());
    };
    let io = |action: &'static str, path: &Path| {
        let path = path.to_owned();
        move |source| SpoolError::Io {
            path,
            action,
            source,
        }
    };
    open.file.sync_all().map_err(io("sync", &open.path))?;
    drop(open.file);
    match open.range {
        Some((from, to)) if open.size > 0 => {
            let target = state.dir.join(sealed_name(open.seq, from, to));
            std::fs::rename(&open.path, &target).map_err(io("seal", &open.path))?;
            sync_dir(Some(&state.dir));
        }
        _ => remove(&open.path)?,
    }
    Ok(())
}

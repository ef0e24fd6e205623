//! Reading a bundle for replay: [`Replayer`] verifies the whole bundle first, then streams it
//! a second time from the same open file into the sender, refusing a file that changed in
//! between. Not the per-record sending and retrying (`sender`).

use super::observer::{ReplayObserver, Silent};
use super::pacing::{Backoff, Rate};
use super::report::{ReplayError, ReplayReport};
use super::sender::Sender;
use super::sink::RecordSink;
use std::fmt;
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::Path;
use stellaops_bundle_format::{BundleReader, Signal, SignatureStatus};
use stellaops_telemetry_model::clock::Sleep;

/// Replays bundles into a [`RecordSink`].
///
/// The bundle is read twice from one open file: first verified completely (nothing is sent
/// unless every digest, size, count and, by default, the signature check out), then streamed
/// record by record to the sink. Memory holds one record at a time, whatever the bundle's size.
pub struct Replayer<'a> {
    sink: &'a mut dyn RecordSink,
    clock: &'a dyn Sleep,
    observer: Option<&'a mut dyn ReplayObserver>,
    backoff: Backoff,
    rate: Option<Rate>,
    signals: Vec<Signal>,
    allow_unverified: bool,
}

impl fmt::Debug for Replayer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replayer")
            .field("backoff", &self.backoff)
            .field("rate", &self.rate)
            .field("signals", &self.signals)
            .field("allow_unverified", &self.allow_unverified)
            .finish_non_exhaustive()
    }
}

impl<'a> Replayer<'a> {
    /// A replayer of every signal, with the default [`Backoff`], no rate limit, and a
    /// required verified signature.
    pub fn new(sink: &'a mut dyn RecordSink, clock: &'a dyn Sleep) -> Self {
        Self {
            sink,
            clock,
            observer: None,
            backoff: Backoff::default(),
            rate: None,
            signals: stellaops_bundle_format::BUNDLE_ORDER.to_vec(),
            allow_unverified: false,
        }
    }

    /// Replaces the back-off.
    #[must_use]
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Sends at most `rate` records per second (`None`: as fast as the collector answers).
    #[must_use]
    pub fn rate(mut self, rate: Option<Rate>) -> Self {
        self.rate = rate;
        self
    }

    /// Replays only these signals (an empty list means all).
    #[must_use]
    pub fn signals(mut self, signals: &[Signal]) -> Self {
        self.signals = if signals.is_empty() {
            stellaops_bundle_format::BUNDLE_ORDER.to_vec()
        } else {
            signals.to_vec()
        };
        self
    }

    /// Reports progress to `observer`.
    #[must_use]
    pub fn observer(mut self, observer: &'a mut dyn ReplayObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Replays a bundle whose signature was not verified against a trusted key (a reader
    /// built with [`BundleReader::dangerous_skip_signature`], or an unsigned bundle).
    /// Integrity checks still apply. Anyone could have written such a bundle.
    #[must_use]
    pub fn dangerous_allow_unverified(mut self) -> Self {
        self.allow_unverified = true;
        self
    }

    /// Verifies the bundle at `path` with `reader`, then replays it.
    ///
    /// # Errors
    /// [`ReplayError::Bundle`] or [`ReplayError::Unverified`] before anything is sent;
    /// [`ReplayError::Changed`] when the file changes during the replay; [`ReplayError::Io`].
    /// Records the collector refuses are counted in the report, not errors.
    pub fn replay_file(
        self,
        reader: &BundleReader,
        path: &Path,
    ) -> Result<ReplayReport, ReplayError> {
        let io = |context: String| {
            move |source| ReplayError::Io {
                context: context.clone(),
                source,
            }
        };
        let mut file = File::open(path).map_err(io(format!("opening {}", path.display())))?;
        let before = file
            .metadata()
            .map_err(io(format!("reading {}", path.display())))?;
        let verified = reader.verify(&mut file)?;
        match verified.signature() {
            SignatureStatus::Verified { .. } => {}
            SignatureStatus::NotChecked { unsigned, .. } if !self.allow_unverified => {
                return Err(ReplayError::Unverified {
                    found: if *unsigned {
                        "an unsigned bundle (unsigned-fallback marker)"
                    } else {
                        "a signature not checked against any trusted key"
                    },
                });
            }
            _ if self.allow_unverified => {}
            _ => {
                return Err(ReplayError::Unverified {
                    found: "a signature status this replayer does not know",
                });
            }
        }
        file.seek(SeekFrom::Start(0))
            .map_err(io(format!("rewinding {}", path.display())))?;
        let after = file
            .metadata()
            .map_err(io(format!("reading {}", path.display())))?;
        if before.len() != after.len() || before.modified().ok() != after.modified().ok() {
            return Err(ReplayError::Changed {
                detail: format!(
                    "{} was modified after it was verified; nothing was sent",
                    path.display()
                ),
            });
        }
        let mut silent = Silent;
        let observer = self.observer.unwrap_or(&mut silent);
        observer.bundle_verified(&verified);
        let mut visitor = Sender {
            sink: self.sink,
            clock: self.clock,
            observer,
            backoff: self.backoff,
            interval: self.rate.map(|r| r.interval()),
            next_due: None,
            signals: self.signals,
            counts: Vec::new(),
            current: None,
            gave_up: None,
        };
        let second = reader
            .read(&mut file, &mut visitor)
            .map_err(|e| ReplayError::Changed {
                detail: format!(
                    "{} failed verification while replaying: {e}",
                    path.display()
                ),
            })?;
        if second.sha256() != verified.sha256() {
            return Err(ReplayError::Changed {
                detail: format!(
                    "expected {} to stay {}, found {}",
                    path.display(),
                    verified.sha256(),
                    second.sha256()
                ),
            });
        }
        Ok(ReplayReport {
            verified,
            counts: visitor.counts,
            gave_up: visitor.gave_up,
        })
    }
}

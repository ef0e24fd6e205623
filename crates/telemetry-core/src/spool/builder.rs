//! Opening a spool: [`SpoolBuilder`] checks permissions, loads holds, recovers leftover
//! `.open` segments and prunes; or opens an existing spool read-only for capture tools.

use super::clock::{Clock, SystemClock};
use super::config::SpoolConfig;
use super::error::SpoolError;
use super::fsutil::{check_private, private_dir};
use super::handle::{Inner, Spool};
use super::holds;
use super::metrics::SpoolMetrics;
use super::recovery::recover;
use super::segment::list;
use super::stream::{SignalState, Stream, stream_dir, stream_layout};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Opens a [`Spool`]: [`Spool::builder`].
#[must_use]
pub struct SpoolBuilder {
    dir: PathBuf,
    config: SpoolConfig,
    clock: Arc<dyn Clock>,
    metrics: SpoolMetrics,
    read_only: bool,
}

impl std::fmt::Debug for SpoolBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpoolBuilder")
            .field("dir", &self.dir)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl SpoolBuilder {
    /// The configuration (default: [`SpoolConfig::default`]).
    pub fn config(mut self, config: SpoolConfig) -> Self {
        self.config = config;
        self
    }

    /// The clock every time decision reads (default: the system clock).
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// A shared clock.
    pub fn shared_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Metrics to count into (default: fresh, unregistered ones).
    pub fn metrics(mut self, metrics: SpoolMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Opens an existing spool for reading only (an operator's capture beside a running
    /// service): no recovery, no pruning, no directory created; every write fails with
    /// [`SpoolError::ReadOnly`]. `.open` segments are listed as covering all time and read up
    /// to their last whole frame.
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// Creates or reopens the spool: checks permissions, loads holds, recovers every leftover
    /// `.open` segment (truncating a torn final frame, counting and logging it, sealing what
    /// is valid), then prunes.
    ///
    /// # Errors
    /// [`SpoolError::WorldReadable`] for a directory or file others can read,
    /// [`SpoolError::HoldsFile`] for an unreadable `holds.json`, [`SpoolError::Io`].
    pub fn open(self) -> Result<Spool, SpoolError> {
        let Self {
            dir,
            config,
            clock,
            metrics,
            read_only,
        } = self;
        if read_only {
            return open_read_only(dir, config, clock, metrics);
        }
        private_dir(&dir)?;
        let holds = holds::load(&dir)?;
        let mut recovered = Vec::new();
        let mut streams = Vec::new();
        for (signal, class) in stream_layout() {
            let sdir = stream_dir(&dir, signal, class);
            // Signal directories are made now; class directories on their first record.
            let ready = if class.is_none() || sdir.exists() {
                private_dir(&sdir)?;
                true
            } else {
                false
            };
            let mut next_seq = 0;
            for entry in if ready { list(&sdir)? } else { Vec::new() } {
                next_seq = next_seq.max(entry.seq + 1);
                if entry.sealed {
                    check_private(&entry.path)?;
                } else {
                    let r = recover(signal, class, &sdir, entry.seq, &entry.path, clock.now())?;
                    if r.truncated_bytes > 0 {
                        metrics.recovered_segment(r.truncated_bytes);
                        tracing::warn!(
                            path = %r.from_path.display(),
                            records = r.records,
                            truncated_bytes = r.truncated_bytes,
                            "spool segment recovered after an interrupted write: torn final frame truncated, valid records kept and sealed"
                        );
                    }
                    recovered.push(r);
                }
            }
            streams.push(Stream {
                signal,
                class,
                state: Mutex::new(SignalState {
                    dir: sdir,
                    ready,
                    next_seq,
                    open: None,
                }),
            });
        }
        let spool = Spool {
            inner: Arc::new(Inner {
                dir,
                config,
                clock,
                streams,
                holds: Mutex::new(holds),
                metrics,
                recovered,
                read_only: false,
            }),
        };
        spool.prune()?;
        Ok(spool)
    }
}

fn open_read_only(
    dir: PathBuf,
    config: SpoolConfig,
    clock: Arc<dyn Clock>,
    metrics: SpoolMetrics,
) -> Result<Spool, SpoolError> {
    if !dir.is_dir() {
        return Err(SpoolError::Io {
            path: dir,
            action: "open spool directory",
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory"),
        });
    }
    let holds = holds::load(&dir)?;
    let streams = stream_layout()
        .into_iter()
        .map(|(signal, class)| Stream {
            signal,
            class,
            state: Mutex::new(SignalState {
                dir: stream_dir(&dir, signal, class),
                ready: false,
                next_seq: 0,
                open: None,
            }),
        })
        .collect();
    Ok(Spool {
        inner: Arc::new(Inner {
            dir,
            config,
            clock,
            streams,
            holds: Mutex::new(holds),
            metrics,
            recovered: Vec::new(),
            read_only: true,
        }),
    })
}

impl Spool {
    /// Starts opening the spool in `dir`.
    pub fn builder(dir: impl Into<PathBuf>) -> SpoolBuilder {
        SpoolBuilder {
            dir: dir.into(),
            config: SpoolConfig::default(),
            clock: Arc::new(SystemClock),
            metrics: SpoolMetrics::default(),
            read_only: false,
        }
    }

    /// Opens the spool in `dir` with `config` and the system clock.
    ///
    /// # Errors
    /// As [`SpoolBuilder::open`].
    pub fn open(dir: impl Into<PathBuf>, config: SpoolConfig) -> Result<Self, SpoolError> {
        Self::builder(dir).config(config).open()
    }
}

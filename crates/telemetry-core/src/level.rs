//! The log level that can change at run time (profile, operator, incident mode), as a
//! `tracing-subscriber` filter shared by the stdout, OTLP log and span layers.
//!
//! Not a per-target directive parser: one level for the process.

use crate::profile::LogLevel;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use tracing::Metadata;
use tracing::subscriber::Interest;
use tracing_subscriber::layer::{Context, Filter};

/// A level shared by every layer; cheap to clone, changed with [`DynamicLevel::set`].
#[derive(Debug, Clone)]
pub struct DynamicLevel(Arc<AtomicU8>);

fn rank(level: &tracing::Level) -> u8 {
    match *level {
        tracing::Level::ERROR => 0,
        tracing::Level::WARN => 1,
        tracing::Level::INFO => 2,
        tracing::Level::DEBUG => 3,
        tracing::Level::TRACE => 4,
    }
}

impl DynamicLevel {
    /// Starts at `level`.
    pub fn new(level: LogLevel) -> Self {
        Self(Arc::new(AtomicU8::new(rank(&level.to_tracing()))))
    }

    /// Changes the level; takes effect for the next event or span.
    pub fn set(&self, level: LogLevel) {
        self.0.store(rank(&level.to_tracing()), Ordering::Relaxed);
    }

    /// The current level.
    pub fn get(&self) -> LogLevel {
        match self.0.load(Ordering::Relaxed) {
            0 => LogLevel::Error,
            1 => LogLevel::Warn,
            2 => LogLevel::Info,
            3 => LogLevel::Debug,
            _ => LogLevel::Trace,
        }
    }

    /// Whether something at `level` passes.
    pub fn enabled(&self, level: &tracing::Level) -> bool {
        rank(level) <= self.0.load(Ordering::Relaxed)
    }
}

impl<S> Filter<S> for DynamicLevel {
    fn enabled(&self, meta: &Metadata<'_>, _cx: &Context<'_, S>) -> bool {
        DynamicLevel::enabled(self, meta.level())
    }

    fn callsite_enabled(&self, _meta: &'static Metadata<'static>) -> Interest {
        // The level changes at run time, so every callsite is asked each time.
        Interest::sometimes()
    }
}

//! The telemetry signal an exporter carries: decisions and counters are kept per signal.

use std::fmt;
use std::str::FromStr;

/// A telemetry signal. Export decisions are taken per signal, so traces can go to one
/// endpoint and logs to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Signal {
    /// Spans.
    Traces,
    /// Metric points.
    Metrics,
    /// Log records.
    Logs,
}

impl Signal {
    /// Every signal.
    pub const ALL: [Signal; 3] = [Signal::Traces, Signal::Metrics, Signal::Logs];

    /// `traces`, `metrics` or `logs`: the label value in metrics and warnings.
    pub const fn as_str(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
            Signal::Logs => "logs",
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The input to [`Signal::from_str`] was not a signal name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a signal of traces, metrics or logs, found `{found}`")]
pub struct UnknownSignal {
    /// What was found.
    pub found: String,
}

impl FromStr for Signal {
    type Err = UnknownSignal;

    /// Parses `traces`, `metrics` or `logs`, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Signal::ALL
            .into_iter()
            .find(|signal| signal.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownSignal {
                found: s.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_in_any_case() {
        for signal in Signal::ALL {
            assert_eq!(signal.as_str().parse::<Signal>(), Ok(signal));
            assert_eq!(signal.as_str().to_uppercase().parse::<Signal>(), Ok(signal));
        }
        assert!("spans".parse::<Signal>().is_err());
    }
}

//! DORA performance levels: each of the four keys is classified Elite, High, Medium or Low
//! against a [`ClassificationThresholds`] table, and the overall level is the worst of the
//! four. Not for computing the metrics themselves (see [`crate::summary`]).

use serde::{Deserialize, Serialize};

/// A DORA performance level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PerformanceLevel {
    /// The best level.
    Elite,
    /// Second best.
    High,
    /// Third.
    Medium,
    /// Everything below Medium.
    Low,
    /// No data to classify.
    Unknown,
}

impl PerformanceLevel {
    /// `Elite`, `High`, `Medium`, `Low` or `Unknown` (also the JSON and label spelling).
    pub fn as_str(self) -> &'static str {
        match self {
            PerformanceLevel::Elite => "Elite",
            PerformanceLevel::High => "High",
            PerformanceLevel::Medium => "Medium",
            PerformanceLevel::Low => "Low",
            PerformanceLevel::Unknown => "Unknown",
        }
    }

    /// 0 for Elite up to 3 for Low; `None` for Unknown.
    pub fn rank(self) -> Option<u8> {
        match self {
            PerformanceLevel::Elite => Some(0),
            PerformanceLevel::High => Some(1),
            PerformanceLevel::Medium => Some(2),
            PerformanceLevel::Low => Some(3),
            PerformanceLevel::Unknown => None,
        }
    }

    /// The worst known level among `levels`; `Unknown` when none is known.
    pub fn worst_of(levels: impl IntoIterator<Item = PerformanceLevel>) -> PerformanceLevel {
        levels
            .into_iter()
            .filter(|l| l.rank().is_some())
            .max_by_key(|l| l.rank())
            .unwrap_or(PerformanceLevel::Unknown)
    }
}

impl std::fmt::Display for PerformanceLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One side of a level's boundary.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Bound {
    /// The value must be at least this (`>=`): for deployment frequency.
    AtLeast(f64),
    /// The value must be strictly below this (`<`).
    Below(f64),
    /// The value must be at most this (`<=`).
    AtMost(f64),
}

impl Bound {
    /// Whether `value` is within the bound.
    pub fn admits(self, value: f64) -> bool {
        match self {
            Bound::AtLeast(limit) => value >= limit,
            Bound::Below(limit) => value < limit,
            Bound::AtMost(limit) => value <= limit,
        }
    }
}

/// The boundaries of Elite, High and Medium for one metric; a value admitted by none is Low.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LevelBounds {
    /// A value within this is Elite.
    pub elite: Bound,
    /// Else, within this is High.
    pub high: Bound,
    /// Else, within this is Medium; anything else is Low.
    pub medium: Bound,
}

impl LevelBounds {
    /// The level of `value`; `Unknown` for `None` (no data).
    pub fn classify(&self, value: Option<f64>) -> PerformanceLevel {
        match value {
            None => PerformanceLevel::Unknown,
            Some(v) if self.elite.admits(v) => PerformanceLevel::Elite,
            Some(v) if self.high.admits(v) => PerformanceLevel::High,
            Some(v) if self.medium.admits(v) => PerformanceLevel::Medium,
            Some(_) => PerformanceLevel::Low,
        }
    }
}

/// The table used to classify the four keys. Deployment frequency is in deployments per day,
/// lead time and MTTR in hours, change failure rate in percent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassificationThresholds {
    /// Deployments per day.
    pub deployment_frequency: LevelBounds,
    /// Median lead time, hours.
    pub lead_time: LevelBounds,
    /// Change failure rate, percent.
    pub change_failure_rate: LevelBounds,
    /// Mean time to recovery, hours.
    pub mttr: LevelBounds,
}

const WEEKLY: f64 = 1.0 / 7.0;
const MONTHLY: f64 = 1.0 / 30.0;
const DAY_HOURS: f64 = 24.0;
const WEEK_HOURS: f64 = 7.0 * 24.0;
const MONTH_HOURS: f64 = 30.0 * 24.0;
const SIX_MONTHS_HOURS: f64 = 180.0 * 24.0;

impl ClassificationThresholds {
    /// The Stella Ops table, the default:
    ///
    /// | level | deployment frequency | lead time | change failure rate | MTTR |
    /// |---|---|---|---|---|
    /// | Elite | ≥ 1 / day | < 24 h | < 15 % | < 1 h |
    /// | High | ≥ 1 / 7 days | < 168 h (1 week) | < 30 % | < 24 h |
    /// | Medium | ≥ 1 / 30 days | < 4320 h (180 days) | < 45 % | < 168 h |
    /// | Low | otherwise | otherwise | otherwise | otherwise |
    pub fn seed_default() -> Self {
        Self {
            deployment_frequency: LevelBounds {
                elite: Bound::AtLeast(1.0),
                high: Bound::AtLeast(WEEKLY),
                medium: Bound::AtLeast(MONTHLY),
            },
            lead_time: LevelBounds {
                elite: Bound::Below(DAY_HOURS),
                high: Bound::Below(WEEK_HOURS),
                medium: Bound::Below(SIX_MONTHS_HOURS),
            },
            change_failure_rate: LevelBounds {
                elite: Bound::Below(15.0),
                high: Bound::Below(30.0),
                medium: Bound::Below(45.0),
            },
            mttr: LevelBounds {
                elite: Bound::Below(1.0),
                high: Bound::Below(DAY_HOURS),
                medium: Bound::Below(WEEK_HOURS),
            },
        }
    }

    /// DORA's 2023 benchmark (Accelerate State of DevOps Report 2023, the "software delivery
    /// performance" cluster table), read as thresholds:
    ///
    /// | level | deployment frequency | lead time | change failure rate | recovery time |
    /// |---|---|---|---|---|
    /// | Elite | ≥ 1 / day ("on demand") | < 24 h | ≤ 5 % | < 1 h |
    /// | High | ≥ 1 / 7 days | < 168 h | ≤ 10 % | < 24 h |
    /// | Medium | ≥ 1 / 30 days | < 720 h (30 days) | ≤ 15 % | < 168 h |
    /// | Low | otherwise | otherwise | otherwise | otherwise |
    ///
    /// The report gives each cluster's typical change failure rate (5 %, 10 %, 15 %, 64 %),
    /// not a range, so each value is used as the inclusive ceiling of its level.
    pub fn dora_2023() -> Self {
        Self {
            deployment_frequency: LevelBounds {
                elite: Bound::AtLeast(1.0),
                high: Bound::AtLeast(WEEKLY),
                medium: Bound::AtLeast(MONTHLY),
            },
            lead_time: LevelBounds {
                elite: Bound::Below(DAY_HOURS),
                high: Bound::Below(WEEK_HOURS),
                medium: Bound::Below(MONTH_HOURS),
            },
            change_failure_rate: LevelBounds {
                elite: Bound::AtMost(5.0),
                high: Bound::AtMost(10.0),
                medium: Bound::AtMost(15.0),
            },
            mttr: LevelBounds {
                elite: Bound::Below(1.0),
                high: Bound::Below(DAY_HOURS),
                medium: Bound::Below(WEEK_HOURS),
            },
        }
    }
}

impl Default for ClassificationThresholds {
    fn default() -> Self {
        Self::seed_default()
    }
}

/// The level of each of the four keys and the overall level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DoraLevels {
    /// From the deployment frequency (Unknown without deployments).
    pub deployment_frequency: PerformanceLevel,
    /// From the median lead time.
    pub lead_time: PerformanceLevel,
    /// From the change failure rate.
    pub change_failure_rate: PerformanceLevel,
    /// From the MTTR.
    pub mttr: PerformanceLevel,
    /// The worst of the four known levels; Unknown when all four are Unknown.
    pub overall: PerformanceLevel,
}

impl DoraLevels {
    /// Combines the four per-metric levels, computing the overall level.
    pub fn from_metrics(
        deployment_frequency: PerformanceLevel,
        lead_time: PerformanceLevel,
        change_failure_rate: PerformanceLevel,
        mttr: PerformanceLevel,
    ) -> Self {
        Self {
            deployment_frequency,
            lead_time,
            change_failure_rate,
            mttr,
            overall: PerformanceLevel::worst_of([
                deployment_frequency,
                lead_time,
                change_failure_rate,
                mttr,
            ]),
        }
    }
}

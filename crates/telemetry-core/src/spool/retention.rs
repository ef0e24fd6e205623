//! Retention classes of log records: a record's class comes from its OTLP severity
//! (`severity_number`, else `severity_text`), and each class has its own retention
//! (error and fatal 180 days, warn 90, info 30, debug and trace 7).
//!
//! Not the pruning itself: [`Spool::prune`](super::Spool::prune) applies these. Log records
//! are spooled into one sub-stream per class (`logs/<class>/`), so a whole segment expires at
//! once and pruning only ever deletes whole files (see `docs/spool.md`).

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use std::time::Duration;

const DAY: u64 = 86_400;

/// The retention class of a log record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogClass {
    /// `ERROR` and `FATAL` (severity numbers 17–24).
    Error,
    /// `WARN` (13–16).
    Warn,
    /// `INFO` (9–12), and records without a severity.
    Info,
    /// `DEBUG` and `TRACE` (1–8).
    Debug,
}

impl LogClass {
    /// Every class, most severe first.
    pub const ALL: [LogClass; 4] = [
        LogClass::Error,
        LogClass::Warn,
        LogClass::Info,
        LogClass::Debug,
    ];

    /// The class's name: its sub-directory under `logs/` and its metric label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            LogClass::Error => "error",
            LogClass::Warn => "warn",
            LogClass::Info => "info",
            LogClass::Debug => "debug",
        }
    }

    /// The class of an OTLP severity: the number when set (1–24), else the text (`ERROR`,
    /// `warning`, `Fatal`...), else [`LogClass::Info`].
    pub fn from_severity(number: i32, text: &str) -> Self {
        match number {
            17.. => LogClass::Error,
            13..=16 => LogClass::Warn,
            9..=12 => LogClass::Info,
            1..=8 => LogClass::Debug,
            _ => match text.trim().to_ascii_lowercase().as_str() {
                "error" | "err" | "fatal" | "critical" | "crit" | "emergency" | "alert" => {
                    LogClass::Error
                }
                "warn" | "warning" => LogClass::Warn,
                "debug" | "trace" => LogClass::Debug,
                _ => LogClass::Info,
            },
        }
    }

    /// The class of a log record.
    pub fn of(record: &LogRecord) -> Self {
        Self::from_severity(record.severity_number, &record.severity_text)
    }
}

impl std::fmt::Display for LogClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How long log records of each class are kept after their time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogRetention {
    /// Error and fatal: 180 days by default.
    pub error: Duration,
    /// Warn: 90 days by default.
    pub warn: Duration,
    /// Info (and records without a severity): 30 days by default.
    pub info: Duration,
    /// Debug and trace: 7 days by default.
    pub debug: Duration,
}

impl Default for LogRetention {
    fn default() -> Self {
        Self {
            error: Duration::from_secs(180 * DAY),
            warn: Duration::from_secs(90 * DAY),
            info: Duration::from_secs(30 * DAY),
            debug: Duration::from_secs(7 * DAY),
        }
    }
}

impl LogRetention {
    /// The retention of `class`.
    pub fn of(&self, class: LogClass) -> Duration {
        match class {
            LogClass::Error => self.error,
            LogClass::Warn => self.warn,
            LogClass::Info => self.info,
            LogClass::Debug => self.debug,
        }
    }

    /// The longest retention of any class (what a segment of mixed classes is kept for).
    pub fn longest(&self) -> Duration {
        self.error.max(self.warn).max(self.info).max(self.debug)
    }
}

/// The retention classes present in `request` (in [`LogClass::ALL`] order).
pub(crate) fn classes_of(request: &ExportLogsServiceRequest) -> Vec<LogClass> {
    let mut present = [false; 4];
    for record in request
        .resource_logs
        .iter()
        .flat_map(|rl| &rl.scope_logs)
        .flat_map(|sl| &sl.log_records)
    {
        if let Some(slot) = present.get_mut(LogClass::of(record) as usize) {
            *slot = true;
        }
    }
    LogClass::ALL
        .into_iter()
        .filter(|c| present.get(*c as usize).copied().unwrap_or(false))
        .collect()
}

/// Splits a logs request into one request per class present (most severe first), each with
/// the resources and scopes of its records. A request without records is one `Info` request.
#[cfg(test)]
pub(crate) fn split_by_class(
    request: &ExportLogsServiceRequest,
) -> Vec<(LogClass, ExportLogsServiceRequest)> {
    let classes = classes_of(request);
    match classes.as_slice() {
        [] => vec![(LogClass::Info, request.clone())],
        [only] => vec![(*only, request.clone())],
        _ => classes
            .into_iter()
            .map(|class| (class, only_class(request, class)))
            .collect(),
    }
}

/// The part of `request` holding only records of `class`.
pub(crate) fn only_class(
    request: &ExportLogsServiceRequest,
    class: LogClass,
) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: request
            .resource_logs
            .iter()
            .filter_map(|rl| {
                let scope_logs: Vec<ScopeLogs> = rl
                    .scope_logs
                    .iter()
                    .filter_map(|sl| {
                        let log_records: Vec<LogRecord> = sl
                            .log_records
                            .iter()
                            .filter(|r| LogClass::of(r) == class)
                            .cloned()
                            .collect();
                        (!log_records.is_empty()).then(|| ScopeLogs {
                            scope: sl.scope.clone(),
                            log_records,
                            schema_url: sl.schema_url.clone(),
                        })
                    })
                    .collect();
                (!scope_logs.is_empty()).then(|| ResourceLogs {
                    resource: rl.resource.clone(),
                    scope_logs,
                    schema_url: rl.schema_url.clone(),
                })
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_numbers_and_texts_map_to_classes() {
        assert_eq!(LogClass::from_severity(21, ""), LogClass::Error); // FATAL
        assert_eq!(LogClass::from_severity(17, ""), LogClass::Error);
        assert_eq!(LogClass::from_severity(16, ""), LogClass::Warn);
        assert_eq!(LogClass::from_severity(13, ""), LogClass::Warn);
        assert_eq!(LogClass::from_severity(9, ""), LogClass::Info);
        assert_eq!(LogClass::from_severity(5, ""), LogClass::Debug);
        assert_eq!(LogClass::from_severity(1, ""), LogClass::Debug); // TRACE
        assert_eq!(LogClass::from_severity(0, "Warning"), LogClass::Warn);
        assert_eq!(LogClass::from_severity(0, "FATAL"), LogClass::Error);
        assert_eq!(LogClass::from_severity(0, ""), LogClass::Info);
        assert_eq!(LogClass::from_severity(99, ""), LogClass::Error);
        assert_eq!(LogClass::from_severity(-3, "trace"), LogClass::Debug);
    }

    #[test]
    fn a_mixed_request_splits_per_class_keeping_resources_and_scopes() {
        let record = |n: i32| LogRecord {
            severity_number: n,
            ..Default::default()
        };
        let request = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: None,
                scope_logs: vec![
                    ScopeLogs {
                        scope: None,
                        log_records: vec![record(17), record(9), record(5)],
                        schema_url: "s1".into(),
                    },
                    ScopeLogs {
                        scope: None,
                        log_records: vec![record(10)],
                        schema_url: "s2".into(),
                    },
                ],
                schema_url: "r".into(),
            }],
        };
        let parts = split_by_class(&request);
        let classes: Vec<LogClass> = parts.iter().map(|(c, _)| *c).collect();
        assert_eq!(
            classes,
            vec![LogClass::Error, LogClass::Info, LogClass::Debug]
        );
        let info = &parts[1].1;
        assert_eq!(info.resource_logs[0].scope_logs.len(), 2);
        assert_eq!(info.resource_logs[0].schema_url, "r");
        let total: usize = parts
            .iter()
            .flat_map(|(_, r)| &r.resource_logs)
            .flat_map(|rl| &rl.scope_logs)
            .map(|sl| sl.log_records.len())
            .sum();
        assert_eq!(total, 4, "every record lands in exactly one class");
        assert_eq!(
            split_by_class(&ExportLogsServiceRequest::default())[0].0,
            LogClass::Info
        );
    }

    proptest::proptest! {
        #[test]
        fn severity_classes_follow_the_otlp_ranges(number in -50i32..80) {
            let class = LogClass::from_severity(number, "");
            let expected = match number {
                17.. => LogClass::Error,
                13..=16 => LogClass::Warn,
                1..=8 => LogClass::Debug,
                _ => LogClass::Info,
            };
            proptest::prop_assert_eq!(class, expected);
        }

        #[test]
        fn splitting_keeps_every_record_once_in_a_part_of_its_class(
            scopes in proptest::collection::vec(proptest::collection::vec(0i32..25, 0..6), 0..4)
        ) {
            let request = ExportLogsServiceRequest {
                resource_logs: vec![ResourceLogs {
                    resource: None,
                    scope_logs: scopes
                        .iter()
                        .enumerate()
                        .map(|(i, severities)| ScopeLogs {
                            scope: None,
                            log_records: severities
                                .iter()
                                .enumerate()
                                .map(|(j, n)| LogRecord {
                                    severity_number: *n,
                                    time_unix_nano: (i * 100 + j) as u64,
                                    ..Default::default()
                                })
                                .collect(),
                            schema_url: format!("scope-{i}"),
                        })
                        .collect(),
                    schema_url: String::new(),
                }],
            };
            let mut seen: Vec<u64> = Vec::new();
            for (class, part) in split_by_class(&request) {
                for sl in part.resource_logs.iter().flat_map(|rl| &rl.scope_logs) {
                    for r in &sl.log_records {
                        proptest::prop_assert_eq!(LogClass::of(r), class);
                        seen.push(r.time_unix_nano);
                    }
                }
            }
            let mut all: Vec<u64> = request
                .resource_logs
                .iter()
                .flat_map(|rl| &rl.scope_logs)
                .flat_map(|sl| &sl.log_records)
                .map(|r| r.time_unix_nano)
                .collect();
            seen.sort_unstable();
            all.sort_unstable();
            proptest::prop_assert_eq!(seen, all);
        }
    }

    #[test]
    fn default_retention_is_180_90_30_and_7_days_by_class() {
        let r = LogRetention::default();
        assert_eq!(r.of(LogClass::Error), Duration::from_secs(180 * DAY));
        assert_eq!(r.of(LogClass::Warn), Duration::from_secs(90 * DAY));
        assert_eq!(r.of(LogClass::Info), Duration::from_secs(30 * DAY));
        assert_eq!(r.of(LogClass::Debug), Duration::from_secs(7 * DAY));
        assert_eq!(r.longest(), Duration::from_secs(180 * DAY));
    }
}

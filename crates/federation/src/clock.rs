//! Where "now" comes from for consent and bundles: consent grants, expiry checks, privacy
//! budget periods and bundle creation times all ask a [`Clock`] (the workspace's one clock);
//! tests inject a [`ManualClock`]. Also the one written form of federation times.
//!
//! Not a scheduler: nothing here waits or wakes up.

use chrono::{DateTime, Utc};

pub use stellaops_telemetry_model::clock::{Clock, ManualClock, SystemClock};

pub(crate) fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `time` without its sub-second part (payload times have whole seconds).
pub(crate) fn whole_seconds(time: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(time.timestamp(), 0).unwrap_or(time)
}

/// Parses a payload time, accepting only the form [`format_time`] writes.
pub(crate) fn parse_time(field: &str, text: &str) -> Result<DateTime<Utc>, String> {
    let parsed = DateTime::parse_from_rfc3339(text)
        .map_err(|e| format!("expected `{field}` as RFC 3339 UTC time, found `{text}`: {e}"))?
        .with_timezone(&Utc);
    if format_time(parsed) != text {
        return Err(format!(
            "expected `{field}` as `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds), found `{text}`"
        ));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_have_one_written_form() {
        let t = DateTime::from_timestamp(1_772_618_400, 123_000_000).unwrap();
        assert_eq!(format_time(whole_seconds(t)), "2026-03-04T10:00:00Z");
        assert_eq!(
            parse_time("grantedAt", "2026-03-04T10:00:00Z").unwrap(),
            whole_seconds(t)
        );
        for bad in [
            "2026-03-04T10:00:00.123Z",
            "2026-03-04T11:00:00+01:00",
            "2026-03-04 10:00:00Z",
            "yesterday",
        ] {
            let err = parse_time("grantedAt", bad).unwrap_err();
            assert!(err.contains("grantedAt") && err.contains(bad), "{err}");
        }
    }
}

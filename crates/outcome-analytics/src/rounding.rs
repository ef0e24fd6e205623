//! [`Rounded2`]: a number rounded to two decimals, half away from zero, held exactly as an
//! integer count of hundredths. Every number in a report is one, so reports never carry binary
//! float artifacts (`0.30000000000000004`) and round the same way on every machine.
//!
//! Report values are rounded from their exact rational value (integer nanoseconds, integer
//! counts) with [`Rounded2::from_ratio`]; no float is ever rounded on the way. So a time of
//! exactly 1.005 h (1 h 0 min 18 s) reports 1.01, although the `f64` nearest to 1.005 is
//! 1.00499999999999989341858963598497211933135986328125 and the common idiom
//! `(x * 100.0).round() / 100.0` gives 1.0 (for 2.675 the idiom happens to give 2.68, because
//! `2.675 * 100.0` rounds up to exactly 267.5: whether it works depends on the value).
//! [`Rounded2::from_f64`] rounds a float by its shortest decimal representation (the digits
//! Rust prints), so it turns both `1.005_f64` and `2.675_f64` into 1.01 and 2.68.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A number rounded to two decimals, half away from zero, held exactly as hundredths.
///
/// Displays with exactly two decimals (`2.68`, `100.00`, `-0.05`); serializes as a JSON number
/// (`2.68`, `100.0`): the `f64` nearest to the decimal, which JSON writers print as exactly that
/// decimal.
///
/// ```
/// use stellaops_outcome_analytics::Rounded2;
///
/// assert_eq!(Rounded2::from_ratio(2675, 1000).map(|r| r.to_string()), Some("2.68".into()));
/// assert_eq!(Rounded2::from_ratio(-1, 200).map(|r| r.to_string()), Some("-0.01".into()));
/// assert_eq!(Rounded2::from_ratio(100, 3).map(|r| r.hundredths()), Some(3333));
/// assert_eq!(Rounded2::from_f64(2.675).map(|r| r.to_string()), Some("2.68".into()));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Rounded2(i64);

impl Rounded2 {
    /// Zero.
    pub const ZERO: Rounded2 = Rounded2(0);

    /// The value `hundredths / 100`.
    pub const fn from_hundredths(hundredths: i64) -> Self {
        Self(hundredths)
    }

    /// A whole number (a count).
    pub fn from_count(count: u64) -> Self {
        Self(i64::try_from(count).unwrap_or(i64::MAX).saturating_mul(100))
    }

    /// The value in hundredths (`2.68` is 268).
    pub const fn hundredths(self) -> i64 {
        self.0
    }

    /// `numerator / denominator`, rounded to two decimals half away from zero, computed in
    /// integers (exact for every input).
    ///
    /// `None` when `denominator` is zero, when it is so large (above about 3.4·10^36 in
    /// magnitude) that the exact computation would overflow, or when the result does not fit
    /// in `i64` hundredths.
    pub fn from_ratio(numerator: i128, denominator: i128) -> Option<Self> {
        if denominator == 0 {
            return None;
        }
        let negative = (numerator < 0) != (denominator < 0);
        let n = numerator.unsigned_abs();
        let d = denominator.unsigned_abs();
        let whole = n / d;
        let scaled = (n % d).checked_mul(100)?;
        let mut hundredths = whole.checked_mul(100)?.checked_add(scaled / d)?;
        // The remainder is below d (at most 2^127), so doubling it cannot overflow u128.
        let remainder = scaled % d;
        if remainder * 2 >= d {
            hundredths = hundredths.checked_add(1)?;
        }
        let magnitude = i64::try_from(hundredths).ok()?;
        Some(Self(if negative { -magnitude } else { magnitude }))
    }

    /// Rounds a float by its shortest decimal representation (the digits `{}` prints, which
    /// read back as the same `f64`), half away from zero: `2.675` gives 2.68 and `1.005`
    /// gives 1.01, as a reader of those digits expects.
    ///
    /// `None` for NaN, infinities and magnitudes whose hundredths do not fit in `i64`.
    pub fn from_f64(value: f64) -> Option<Self> {
        if !value.is_finite() {
            return None;
        }
        // Display of an f64 never uses an exponent: "0.0000001", "100000000000000000000".
        let text = format!("{}", value.abs());
        let (whole, fraction) = text.split_once('.').unwrap_or((text.as_str(), ""));
        let whole: i64 = whole.parse().ok()?;
        let mut digits = fraction.bytes().map(|b| i64::from(b.wrapping_sub(b'0')));
        let tenths = digits.next().unwrap_or(0);
        let hundredths_digit = digits.next().unwrap_or(0);
        let round_up = digits.next().unwrap_or(0) >= 5;
        let magnitude = whole
            .checked_mul(100)?
            .checked_add(tenths * 10 + hundredths_digit)?
            .checked_add(i64::from(round_up))?;
        Some(Self(if value < 0.0 { -magnitude } else { magnitude }))
    }

    /// The `f64` nearest to the decimal value (exact decimal printing round-trips it).
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }
}

impl fmt::Display for Rounded2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let magnitude = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", magnitude / 100, magnitude % 100)
    }
}

impl Serialize for Rounded2 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.as_f64())
    }
}

impl<'de> Deserialize<'de> for Rounded2 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(deserializer)?;
        Rounded2::from_f64(value).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "expected a finite number with at most 2 decimals in the i64 range, found {value}"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Rounded2;

    fn ratio(n: i128, d: i128) -> String {
        Rounded2::from_ratio(n, d).map_or("none".into(), |r| r.to_string())
    }

    fn float(x: f64) -> String {
        Rounded2::from_f64(x).map_or("none".into(), |r| r.to_string())
    }

    #[test]
    fn exact_ties_round_away_from_zero() {
        assert_eq!(ratio(2675, 1000), "2.68");
        assert_eq!(ratio(-2675, 1000), "-2.68");
        assert_eq!(ratio(2675, -1000), "-2.68");
        assert_eq!(ratio(1005, 1000), "1.01");
        assert_eq!(ratio(1, 8), "0.13"); // 0.125
        assert_eq!(ratio(-1, 8), "-0.13");
        assert_eq!(ratio(5, 1000), "0.01");
        assert_eq!(ratio(-5, 1000), "-0.01");
    }

    #[test]
    fn below_the_tie_rounds_towards_zero() {
        assert_eq!(ratio(2_674_999, 1_000_000), "2.67");
        assert_eq!(ratio(100, 3), "33.33");
        assert_eq!(ratio(200, 3), "66.67");
        assert_eq!(ratio(-4, 1000), "0.00");
        assert_eq!(ratio(0, 7), "0.00");
    }

    #[test]
    fn hours_from_nanoseconds_are_exact() {
        const NANOS_PER_HOUR: i128 = 3_600_000_000_000;
        // 1 h 0 min 18 s = 1.005 h exactly.
        let nanos = 3618 * 1_000_000_000;
        assert_eq!(ratio(nanos, NANOS_PER_HOUR), "1.01");
        // The float path the report avoids gives 1.00 for the same duration.
        let float_hours = nanos as f64 / NANOS_PER_HOUR as f64;
        assert_eq!((float_hours * 100.0).round() / 100.0, 1.0);
        // 2 h 40 min 30 s = 2.675 h exactly.
        let nanos = (2 * 3600 + 40 * 60 + 30) * 1_000_000_000;
        assert_eq!(ratio(nanos, NANOS_PER_HOUR), "2.68");
    }

    #[test]
    fn degenerate_ratios_are_none_not_panics() {
        assert_eq!(ratio(1, 0), "none");
        assert_eq!(ratio(i128::MAX, 1), "none");
        assert_eq!(ratio(i128::MIN, 1), "none");
        assert_eq!(ratio(1, i128::MAX), "0.00");
        assert_eq!(ratio(i128::MAX, i128::MAX), "1.00");
        assert_eq!(ratio(i128::MIN, i128::MIN), "1.00");
    }

    #[test]
    fn floats_round_by_their_shortest_decimal() {
        assert_eq!(float(2.675), "2.68");
        assert_eq!(float(1.005), "1.01");
        assert_eq!(float(-2.675), "-2.68");
        assert_eq!(float(0.125), "0.13");
        assert_eq!(float(33.333_333_333_333_336), "33.33");
        assert_eq!(float(0.1 + 0.2), "0.30");
        assert_eq!(float(-0.0), "0.00");
        assert_eq!(float(-0.004), "0.00");
        assert_eq!(float(1e-7), "0.00");
        assert_eq!(float(99.995), "100.00");
        assert_eq!(float(f64::NAN), "none");
        assert_eq!(float(f64::INFINITY), "none");
        assert_eq!(float(1e300), "none");
    }

    #[test]
    fn display_and_json_show_the_decimal() {
        assert_eq!(Rounded2::from_hundredths(10_000).to_string(), "100.00");
        assert_eq!(Rounded2::from_hundredths(-5).to_string(), "-0.05");
        assert_eq!(Rounded2::from_count(3).to_string(), "3.00");
        let json = serde_json::to_string(&[
            Rounded2::from_hundredths(268),
            Rounded2::from_hundredths(3333),
            Rounded2::from_hundredths(10),
            Rounded2::from_hundredths(10_000),
        ])
        .unwrap();
        assert_eq!(json, "[2.68,33.33,0.1,100.0]");
        let back: Vec<Rounded2> = serde_json::from_str(&json).unwrap();
        assert_eq!(
            back.iter().map(|r| r.hundredths()).collect::<Vec<_>>(),
            [268, 3333, 10, 10_000]
        );
    }
}

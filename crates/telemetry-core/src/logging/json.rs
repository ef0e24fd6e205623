//! The small pieces of the JSON line, written straight into one reusable buffer: string
//! escaping (byte for byte what `serde_json` writes), RFC 3339 UTC timestamps with
//! milliseconds (what `chrono`'s `to_rfc3339_opts(Millis, true)` writes), lower-case hex.
//!
//! Not a JSON serializer: the layer decides the keys and their order.

/// Appends `s` as a JSON string, escaped as `serde_json` escapes: `"` and `\`, the control
/// characters below 0x20 (`\b`, `\t`, `\n`, `\f`, `\r` short, the rest `\u00XX` in lower
/// case); everything else, including DEL and non-ASCII, as is.
pub(crate) fn push_str(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    if !needs_escape(s.as_bytes()) {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut clean_from = 0;
    for (i, byte) in s.bytes().enumerate() {
        let escape: &str = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            b'\t' => "\\t",
            b'\n' => "\\n",
            0x0c => "\\f",
            b'\r' => "\\r",
            0x00..=0x1f => "",
            _ => continue,
        };
        // `i` is the index of an ASCII byte, so both cuts are on character boundaries.
        out.push_str(s.get(clean_from..i).unwrap_or_default());
        if escape.is_empty() {
            out.push_str("\\u00");
            out.push(hex_digit(byte >> 4));
            out.push(hex_digit(byte & 0xf));
        } else {
            out.push_str(escape);
        }
        clean_from = i + 1;
    }
    out.push_str(s.get(clean_from..).unwrap_or_default());
    out.push('"');
}

/// Whether any byte of `bytes` must be escaped (`"`, `\` or below 0x20), eight bytes at a
/// time (most values need no escaping: this is a scan and one copy).
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // A byte of `x` is zero exactly when the matching high bit of this is set (for bytes
    // below 0x80; bytes at or above 0x80 are masked out with `!word`).
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0_u8; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_le_bytes(word);
        // Bytes below 0x20: subtracting 0x20 borrows into the high bit (for bytes < 0x80).
        let control = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
        let quote = has_zero(word ^ (ONES * u64::from(b'"')));
        let backslash = has_zero(word ^ (ONES * u64::from(b'\\')));
        if control | quote | backslash != 0 {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

fn hex_digit(nibble: u8) -> char {
    char::from(
        b"0123456789abcdef"
            .get(usize::from(nibble & 0xf))
            .copied()
            .unwrap_or(b'0'),
    )
}

/// Appends `bytes` as lower-case hex.
pub(crate) fn push_hex(out: &mut String, bytes: &[u8]) {
    for byte in bytes {
        out.push(hex_digit(byte >> 4));
        out.push(hex_digit(byte & 0xf));
    }
}

/// The last second the fast path formats: 9999-12-31T23:59:59Z.
const MAX_FAST_SECS: i64 = 253_402_300_799;

/// Appends `secs` (Unix seconds) and `millis` as `YYYY-MM-DDTHH:MM:SS.mmmZ`, the form
/// `chrono`'s `to_rfc3339_opts(SecondsFormat::Millis, true)` gives for years 1970–9999
/// (outside that range, chrono itself formats).
pub(crate) fn push_timestamp(out: &mut String, secs: i64, millis: u32) {
    if !(0..=MAX_FAST_SECS).contains(&secs) || millis > 999 {
        let nanos = millis.min(999) * 1_000_000;
        let formatted = chrono::DateTime::from_timestamp(secs, nanos)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        out.push_str(&formatted);
        return;
    }
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    push_digits(out, u64::try_from(year).unwrap_or_default(), 4);
    out.push('-');
    push_digits(out, u64::from(month), 2);
    out.push('-');
    push_digits(out, u64::from(day), 2);
    out.push('T');
    let of_day = u64::try_from(of_day).unwrap_or_default();
    push_digits(out, of_day / 3600, 2);
    out.push(':');
    push_digits(out, of_day / 60 % 60, 2);
    out.push(':');
    push_digits(out, of_day % 60, 2);
    out.push('.');
    push_digits(out, u64::from(millis), 3);
    out.push('Z');
}

/// Appends the last `width` decimal digits of `value`, zero-padded.
fn push_digits(out: &mut String, value: u64, width: u32) {
    let mut divisor = 10_u64.pow(width.saturating_sub(1));
    while divisor > 0 {
        let digit = u8::try_from(value / divisor % 10).unwrap_or(0);
        out.push(char::from(b'0' + digit));
        divisor /= 10;
    }
}

/// (year, month, day) of a day count since 1970-01-01 (proleptic Gregorian; Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use proptest::prelude::*;

    fn escaped(s: &str) -> String {
        let mut out = String::new();
        push_str(&mut out, s);
        out
    }

    #[test]
    fn escapes_like_serde_json() {
        for s in [
            "",
            "plain",
            "q\"uote",
            "back\\slash",
            "\u{8}\u{c}\n\r\t",
            "\u{0}\u{1}\u{1f}\u{7f}",
            "é \u{2028} 😀",
        ] {
            assert_eq!(escaped(s), serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn timestamps_like_chrono() {
        let mut out = String::new();
        push_timestamp(&mut out, 1_764_417_600, 123);
        assert_eq!(out, "2025-11-29T12:00:00.123Z");
        for (secs, millis) in [
            (0, 0),
            (951_782_400, 5),
            (MAX_FAST_SECS, 999),
            (-1, 7),
            (MAX_FAST_SECS + 1, 0),
        ] {
            let mut out = String::new();
            push_timestamp(&mut out, secs, millis);
            let expected = chrono::DateTime::from_timestamp(secs, millis * 1_000_000)
                .unwrap()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            assert_eq!(out, expected);
        }
    }

    #[test]
    fn hex_is_lower_case() {
        let mut out = String::new();
        push_hex(&mut out, &[0x00, 0xab, 0x7f, 0xff]);
        assert_eq!(out, "00ab7fff");
    }

    proptest! {
        #[test]
        fn any_string_escapes_like_serde_json(s in any::<String>()) {
            prop_assert_eq!(escaped(&s), serde_json::to_string(&s).unwrap());
        }

        #[test]
        fn escape_heavy_strings_escape_like_serde_json(s in "[a-z\"\\\\\u{0}-\u{1f}\u{7f}é ]{0,40}") {
            prop_assert_eq!(escaped(&s), serde_json::to_string(&s).unwrap());
        }

        #[test]
        fn any_time_formats_like_chrono(secs in -100_000_000_000_i64..300_000_000_000, millis in 0_u32..1000) {
            let mut out = String::new();
            push_timestamp(&mut out, secs, millis);
            let expected = chrono::DateTime::from_timestamp(secs, millis * 1_000_000)
                .unwrap()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            prop_assert_eq!(out, expected);
        }
    }
}

//! Payment card numbers: the skip-ahead digit-run pass, digit grouping, the card-network
//! range and the Luhn check. Also checks JSON integers. Not where the other detectors run.

use super::bytes::{at, run_end, run_start, slice, starts_token};
use super::kind::{Detector, Finding};

fn is_digit_or_sep(b: u8) -> bool {
    b.is_ascii_digit() || b == b' ' || b == b'-'
}

/// Card numbers: finds stretches of digits and separators with a skip-ahead (a 13-digit run
/// must cover every 13th byte), then checks runs of digit groups.
pub(super) fn scan_cards(t: &[u8], out: &mut Vec<Finding>) {
    const MIN: usize = 13;
    let mut i = 0;
    while i + MIN <= t.len() {
        let probe = i + MIN - 1;
        if !at(t, probe).is_some_and(is_digit_or_sep) {
            i = probe + 1;
            continue;
        }
        let start = run_start(t, probe, is_digit_or_sep).max(i);
        let end = run_end(t, probe, is_digit_or_sep);
        if end - start >= MIN {
            card_runs(t, start, end, out);
        }
        i = end + 1;
    }
}

/// Within a stretch of digits, spaces and dashes: runs of digit groups joined by single
/// separators. Every run of whole groups that starts at a group start, holds 13–19 digits and
/// uses one separator kind is a candidate, so a card inside a longer grouped number is still
/// found (`4111 1111 1111 1111`, `3714 496353 98431`, `4000-0000-0000-0000-006`).
fn card_runs(t: &[u8], stretch_start: usize, stretch_end: usize, out: &mut Vec<Finding>) {
    let mut i = stretch_start;
    while i < stretch_end {
        if !at(t, i).is_some_and(|b| b.is_ascii_digit()) {
            i += 1;
            continue;
        }
        // A run: digits, single separators between digits.
        let run_start_at = i;
        let mut j = i;
        while j < stretch_end {
            match at(t, j) {
                Some(b) if b.is_ascii_digit() => j += 1,
                Some(b' ' | b'-') if at(t, j + 1).is_some_and(|b| b.is_ascii_digit()) => j += 1,
                _ => break,
            }
        }
        let run_end_at = j;
        cards_in_run(t, run_start_at, run_end_at, out);
        i = run_end_at.max(i + 1);
    }
}

/// Candidates start at a group start that begins a token and end at a group end not followed
/// by a letter or digit, so digits glued to a word are never a card but the groups after them
/// can be.
fn cards_in_run(t: &[u8], start: usize, end: usize, out: &mut Vec<Finding>) {
    let mut group_start = start;
    while group_start < end {
        if !starts_token(t, group_start, |b| b.is_ascii_alphanumeric()) {
            let next = run_end(t, group_start, |b| b.is_ascii_digit());
            group_start = run_end(t, next, |b| b == b' ' || b == b'-');
            continue;
        }
        let mut digits = 0;
        let mut k = group_start;
        let mut found = None;
        // The separator of this candidate: a printed number uses one kind throughout, so a
        // second kind (`4111 1111-1111 1111`) ends the candidate.
        let mut separator = None;
        while k < end {
            let b = at(t, k).unwrap_or(b' ');
            if b.is_ascii_digit() {
                digits += 1;
            } else if *separator.get_or_insert(b) != b {
                break;
            }
            k += 1;
            let group_ends = !at(t, k).is_some_and(|b| b.is_ascii_digit());
            let whole = !at(t, k).is_some_and(|b| b.is_ascii_alphanumeric());
            if b.is_ascii_digit() && group_ends && whole && (13..=19).contains(&digits) {
                let candidate = slice(t, group_start..k);
                if matches!(candidate.first(), Some(b'2'..=b'6')) && luhn(candidate) {
                    found = Some(k);
                }
            }
            if digits > 19 {
                break;
            }
        }
        if let Some(card_end) = found {
            out.push(Finding {
                range: group_start..card_end,
                detector: Detector::PaymentCard,
            });
            group_start = card_end;
        }
        // Next group start.
        let next = run_end(t, group_start, |b| b.is_ascii_digit());
        group_start = run_end(t, next, |b| b == b' ' || b == b'-');
    }
}

/// The Luhn check over the digits of `s` (other bytes are skipped).
pub(crate) fn luhn(s: &[u8]) -> bool {
    let mut sum = 0u32;
    let mut double = false;
    for &b in s.iter().rev() {
        if !b.is_ascii_digit() {
            continue;
        }
        let mut d = u32::from(b - b'0');
        if double {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
        double = !double;
    }
    sum.is_multiple_of(10)
}

/// Whether an integer's decimal digits form a card number (JSON numbers are checked this way).
pub(crate) fn is_card_number(n: u64) -> bool {
    let mut buf = [0u8; 20];
    let mut len = 0;
    let mut v = n;
    loop {
        if let Some(slot) = buf.get_mut(len) {
            *slot = b'0' + (v % 10) as u8;
        }
        len += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let digits = buf.get_mut(..len).unwrap_or_default();
    digits.reverse();
    (13..=19).contains(&len) && matches!(digits.first(), Some(b'2'..=b'6')) && luhn(digits)
}

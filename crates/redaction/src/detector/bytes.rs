//! Byte classes and bounds-checked run scanning over the text's bytes, shared by every
//! detector family. Nothing here knows what a secret looks like.

use std::ops::Range;

pub(super) fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

pub(super) fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

pub(super) fn is_b64std(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// RFC 6750 `b64token` characters (without the trailing `=` padding).
pub(super) fn is_b64token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
}

pub(super) fn at(t: &[u8], i: usize) -> Option<u8> {
    t.get(i).copied()
}

/// The first index at or after `from` whose byte does not satisfy `pred`.
pub(super) fn run_end(t: &[u8], from: usize, pred: impl Fn(u8) -> bool) -> usize {
    let mut i = from;
    while at(t, i).is_some_and(&pred) {
        i += 1;
    }
    i
}

/// The first index of the run of `pred` bytes that ends at `to` (exclusive).
pub(super) fn run_start(t: &[u8], to: usize, pred: impl Fn(u8) -> bool) -> usize {
    let mut i = to;
    while i > 0 && at(t, i - 1).is_some_and(&pred) {
        i -= 1;
    }
    i
}

/// Whether the byte before `i` (if any) is outside `pred`'s class.
pub(super) fn starts_token(t: &[u8], i: usize, pred: impl Fn(u8) -> bool) -> bool {
    i == 0 || !at(t, i - 1).is_some_and(pred)
}

pub(super) fn slice(t: &[u8], range: Range<usize>) -> &[u8] {
    t.get(range).unwrap_or_default()
}

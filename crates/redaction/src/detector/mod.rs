//! Value detectors: find the secret and personal-data spans inside a string.
//!
//! Three prefilter passes find the few places worth a look, and only there does a
//! hand-written precise check run: a SIMD multi-literal search (Teddy) for the token prefixes
//! (`eyJ`, `-----BEGIN`, `AKIA`, `ghp_`, `Bearer`, ...), a `memchr3` search for `@`, `=` and
//! `:` (e-mail addresses, URL credentials, `key=value` secrets, checked backwards from the
//! separator), and a skip-ahead digit-run scan for card numbers. Clean text costs those passes
//! and nothing else: no allocation, no regex. Replacing the spans is [`crate::Redactor`]'s job,
//! not this module's.
//!
//! Layout: [`kind`] names the detectors, [`scanner`] runs the passes, [`literal`],
//! [`separator`] and [`card`] hold the detector families' precise checks, [`bytes`] the byte
//! scanning they share, [`marker`] the replacement markers.

mod bytes;
mod card;
mod kind;
mod literal;
mod marker;
mod scanner;
mod separator;

pub(crate) use card::is_card_number;
pub(crate) use kind::Finding;
pub use kind::{Detector, DetectorSet};
pub(crate) use marker::{HASH_PREFIX, MASK, is_marker, marker_len_at};
pub(crate) use scanner::Scanner;

#[cfg(test)]
mod tests;

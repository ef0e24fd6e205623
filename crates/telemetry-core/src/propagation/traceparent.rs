//! The W3C `traceparent` header: parsing by the Trace Context rules, and formatting.
//!
//! Not for choosing sampling or building spans: it only says what arrived and what to send.

use super::error::PropagationError;
use std::fmt;

/// A parsed `traceparent` header (W3C Trace Context, level 1 rules; future versions accepted
/// as the specification asks: the version-00 fields are read and the rest ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceParent {
    /// The version that arrived (we always send `00`).
    pub version: u8,
    /// The 16-byte trace id (never all zero).
    pub trace_id: [u8; 16],
    /// The 8-byte id of the caller's span (never all zero).
    pub parent_id: [u8; 8],
    /// The trace flags; bit 0 is `sampled`.
    pub flags: u8,
}

const V00_LEN: usize = 55;

impl TraceParent {
    /// A `traceparent` for a new child: same trace, `span_id` as the parent id, flags kept.
    pub fn with_parent_id(self, span_id: [u8; 8]) -> Self {
        Self {
            version: 0,
            parent_id: span_id,
            ..self
        }
    }

    /// Whether the caller recorded this trace (flag bit 0).
    pub fn sampled(&self) -> bool {
        self.flags & 1 == 1
    }

    /// Parses one `traceparent` value. Leading and trailing spaces and tabs are ignored.
    ///
    /// # Errors
    /// [`PropagationError::TraceParent`] naming the field that is wrong: version `ff`, upper-case
    /// or non-hex characters, wrong lengths or separators, an all-zero trace or parent id, or
    /// extra data after a version-00 header.
    pub fn parse(value: &str) -> Result<Self, PropagationError> {
        let value = value.trim_matches([' ', '\t']);
        let bytes = value.as_bytes();
        let bad =
            |field: &'static str, detail: String| PropagationError::TraceParent { field, detail };
        if bytes.len() < V00_LEN {
            return Err(bad(
                "header",
                format!(
                    "expected at least {V00_LEN} characters, found {}",
                    bytes.len()
                ),
            ));
        }
        let (head, rest) = bytes.split_at(V00_LEN);
        let field = |range: std::ops::Range<usize>| head.get(range).unwrap_or_default();
        let version = parse_hex::<1>(field(0..2)).ok_or_else(|| {
            bad(
                "version",
                format!(
                    "expected 2 lower-case hex digits, found {:?}",
                    lossy(field(0..2))
                ),
            )
        })?[0];
        if version == 0xff {
            return Err(bad("version", "version ff is invalid".into()));
        }
        for (at, name) in [(2, "version"), (35, "trace-id"), (52, "parent-id")] {
            if head.get(at) != Some(&b'-') {
                return Err(bad(
                    name,
                    format!("expected '-' after the {name} at offset {at}"),
                ));
            }
        }
        let trace_id = parse_hex::<16>(field(3..35)).ok_or_else(|| {
            bad(
                "trace-id",
                format!(
                    "expected 32 lower-case hex digits, found {:?}",
                    lossy(field(3..35))
                ),
            )
        })?;
        let parent_id = parse_hex::<8>(field(36..52)).ok_or_else(|| {
            bad(
                "parent-id",
                format!(
                    "expected 16 lower-case hex digits, found {:?}",
                    lossy(field(36..52))
                ),
            )
        })?;
        let flags = parse_hex::<1>(field(53..55)).ok_or_else(|| {
            bad(
                "trace-flags",
                format!(
                    "expected 2 lower-case hex digits, found {:?}",
                    lossy(field(53..55))
                ),
            )
        })?[0];
        if trace_id == [0; 16] {
            return Err(bad("trace-id", "all-zero trace id is invalid".into()));
        }
        if parent_id == [0; 8] {
            return Err(bad("parent-id", "all-zero parent id is invalid".into()));
        }
        match (version, rest.first()) {
            (_, None) => {}
            (0, Some(_)) => {
                return Err(bad(
                    "header",
                    format!(
                        "version 00 has exactly {V00_LEN} characters, found {}",
                        bytes.len()
                    ),
                ));
            }
            (_, Some(b'-')) => {}
            (_, Some(_)) => {
                return Err(bad(
                    "header",
                    "future-version fields must follow a '-'".into(),
                ));
            }
        }
        Ok(Self {
            version,
            trace_id,
            parent_id,
            flags,
        })
    }

    /// The header value we send: always version `00`.
    pub fn to_header(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "00-")?;
        for b in self.trace_id {
            write!(f, "{b:02x}")?;
        }
        write!(f, "-")?;
        for b in self.parent_id {
            write!(f, "{b:02x}")?;
        }
        write!(f, "-{:02x}", self.flags)
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// Parses exactly `2 * N` lower-case hex digits.
fn parse_hex<const N: usize>(text: &[u8]) -> Option<[u8; N]> {
    if text.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (slot, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        let [hi, lo] = pair else { return None };
        *slot = hex_digit(*hi)? << 4 | hex_digit(*lo)?;
    }
    Some(out)
}

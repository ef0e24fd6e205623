//! The replacement markers this crate writes (`[redacted]`, `sha256:<hex>`) and how to
//! recognise them, so text that was already redacted is not matched again. Not where
//! replacements are made: that is [`crate::Redactor`]'s job.

/// The text a masked span becomes.
pub(crate) const MASK: &str = "[redacted]";
/// The prefix of a hashed replacement; 64 lowercase hex digits follow.
pub(crate) const HASH_PREFIX: &str = "sha256:";
const HASH_HEX_LEN: usize = 64;

/// Whether `s` starts with a replacement this crate writes; returns its byte length.
pub(crate) fn marker_len_at(s: &[u8]) -> Option<usize> {
    if s.starts_with(MASK.as_bytes()) {
        return Some(MASK.len());
    }
    let hex = s.strip_prefix(HASH_PREFIX.as_bytes())?;
    let digits = hex.get(..HASH_HEX_LEN)?;
    digits
        .iter()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
        .then_some(HASH_PREFIX.len() + HASH_HEX_LEN)
}

/// Whether `s` is exactly one replacement marker.
pub(crate) fn is_marker(s: &str) -> bool {
    marker_len_at(s.as_bytes()) == Some(s.len())
}

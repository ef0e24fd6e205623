//! The detectors behind the SIMD literal search: the trigger literals (`Bearer`, `eyJ`,
//! `-----BEGIN`, `AKIA`, `ghp_`, ...) and the precise check each one leads to. Not where the
//! search runs: [`super::scanner::Scanner`] drives it.

use std::ops::Range;

use memchr::memmem;

use super::bytes::{at, is_b64url, run_end, slice, starts_token};
use super::kind::Detector;
use super::separator::{is_pair_byte, pair_split};

/// Which precise check a trigger literal leads to.
#[derive(Clone, Copy, Debug)]
pub(super) enum Anchor {
    Bearer,
    Basic,
    Jwt,
    Pem,
    Aws,
    Slack,
    /// The word `credential(s)`: a credential pair after it is masked.
    Credential,
    Prefix(PrefixToken),
}

/// Vendor tokens recognised by a literal prefix and a minimum run of token characters.
#[derive(Clone, Copy, Debug)]
pub(super) struct PrefixToken {
    pub(super) detector: Detector,
    charset: Charset,
    min_len: usize,
}

#[derive(Clone, Copy, Debug)]
enum Charset {
    /// `[A-Za-z0-9_]`
    Word,
    /// `[A-Za-z0-9_-]`
    WordDash,
    /// `[A-Za-z0-9]`
    Alnum,
}

impl Charset {
    fn contains(self, b: u8) -> bool {
        match self {
            Charset::Word => b.is_ascii_alphanumeric() || b == b'_',
            Charset::WordDash => b.is_ascii_alphanumeric() || b == b'_' || b == b'-',
            Charset::Alnum => b.is_ascii_alphanumeric(),
        }
    }
}

const fn prefix(detector: Detector, charset: Charset, min_len: usize) -> Anchor {
    Anchor::Prefix(PrefixToken {
        detector,
        charset,
        min_len,
    })
}

const GITHUB: Anchor = prefix(Detector::GithubToken, Charset::Word, 20);
const STRIPE: Anchor = prefix(Detector::StripeKey, Charset::Alnum, 10);

/// Case-sensitive trigger literals for the SIMD search, and the check each leads to. The
/// authentication schemes are listed in their three usual spellings.
pub(super) const TRIGGERS: &[(&str, Anchor)] = &[
    ("Bearer", Anchor::Bearer),
    ("bearer", Anchor::Bearer),
    ("BEARER", Anchor::Bearer),
    ("Basic", Anchor::Basic),
    ("basic", Anchor::Basic),
    ("BASIC", Anchor::Basic),
    ("eyJ", Anchor::Jwt),
    ("-----BEGIN", Anchor::Pem),
    ("AKIA", Anchor::Aws),
    ("ASIA", Anchor::Aws),
    ("ghp_", GITHUB),
    ("gho_", GITHUB),
    ("ghu_", GITHUB),
    ("ghs_", GITHUB),
    ("ghr_", GITHUB),
    ("github_pat_", GITHUB),
    (
        "glpat-",
        prefix(Detector::GitlabToken, Charset::WordDash, 20),
    ),
    ("xox", Anchor::Slack),
    ("sk_live_", STRIPE),
    ("rk_live_", STRIPE),
    ("sk_test_", STRIPE),
    ("rk_test_", STRIPE),
    (
        "AIza",
        prefix(Detector::GoogleApiKey, Charset::WordDash, 35),
    ),
    ("credential", Anchor::Credential),
    ("Credential", Anchor::Credential),
    ("CREDENTIAL", Anchor::Credential),
];

/// The shortest text any [`TRIGGERS`] detector can match (a 10-character JWT header and two
/// one-character segments); shorter values skip the literal search.
pub(super) const MIN_LITERAL_FINDING: usize = 13;

/// Detectors found through [`TRIGGERS`].
pub(super) const LITERAL_DETECTORS: [Detector; 12] = [
    Detector::BearerCredential,
    Detector::BasicCredential,
    Detector::Jwt,
    Detector::PemPrivateKey,
    Detector::AwsAccessKeyId,
    Detector::AwsSecretKey,
    Detector::GithubToken,
    Detector::GitlabToken,
    Detector::SlackToken,
    Detector::StripeKey,
    Detector::GoogleApiKey,
    Detector::KeyValueSecret,
];

/// A dictionary word (`authentication`, `Token`) rather than a credential: a letter followed
/// only by lowercase letters, at most 24 long. A random 16-character token has this shape with
/// a probability below one in a million.
fn word_like(token: &[u8]) -> bool {
    match token.split_first() {
        Some((first, rest)) => {
            token.len() <= 24
                && first.is_ascii_alphabetic()
                && rest.iter().all(u8::is_ascii_lowercase)
        }
        None => true,
    }
}

/// `Bearer <token>` / `Basic <credentials>`: the scheme word, spaces, a token of at least 8
/// characters that is not a dictionary word.
pub(super) fn scheme_credential(
    t: &[u8],
    s: usize,
    e: usize,
    token_byte: fn(u8) -> bool,
) -> Option<Range<usize>> {
    if !starts_token(t, s, |b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let token_start = run_end(t, e, |b| b == b' ' || b == b'\t');
    if token_start == e {
        return None;
    }
    let body_end = run_end(t, token_start, token_byte);
    let end = run_end(t, body_end, |b| b == b'=');
    let token = slice(t, token_start..body_end);
    (token.len() >= 8 && !word_like(token)).then_some(token_start..end)
}

/// `eyJ…` header, then at least two more dot-separated base64url segments (the third may be
/// empty: unsigned tokens).
pub(super) fn jwt(t: &[u8], s: usize, e: usize) -> Option<Range<usize>> {
    // Not a later segment of a dotted token (a payload also starts with `eyJ`).
    if slice(t, s..e) != b"eyJ" || !starts_token(t, s, |b| is_b64url(b) || b == b'.') {
        return None;
    }
    let header_end = run_end(t, e, is_b64url);
    if header_end - s < 10 {
        return None;
    }
    let mut end = header_end;
    let mut segments = 1;
    while at(t, end) == Some(b'.') {
        let next = run_end(t, end + 1, is_b64url);
        if next == end + 1 {
            if segments == 2 {
                end += 1;
                segments += 1;
            }
            break;
        }
        end = next;
        segments += 1;
    }
    (segments >= 3).then_some(s..end)
}

/// `-----BEGIN <label>-----` where the label names a private key, through the matching
/// `-----END` line; to the end of the text when the block is cut off.
pub(super) fn pem(t: &[u8], s: usize, e: usize) -> Option<Range<usize>> {
    if at(t, e) != Some(b' ') {
        return None;
    }
    let label_start = e + 1;
    let label_end = run_end(t, label_start, |b| {
        b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' '
    });
    let label = slice(t, label_start..label_end);
    if !slice(t, label_end..label_end + 5).eq(b"-----")
        || memmem::find(label, b"PRIVATE KEY").is_none()
    {
        return None;
    }
    let body = label_end + 5;
    let end = memmem::find(slice(t, body..t.len()), b"-----END ")
        .and_then(|end_line| {
            let after_end = body + end_line + 9;
            memmem::find(slice(t, after_end..t.len()), b"-----")
                .map(|dashes| after_end + dashes + 5)
        })
        .unwrap_or(t.len());
    Some(s..end)
}

/// `AKIA`/`ASIA` followed by exactly 16 uppercase letters or digits, as a whole token.
pub(super) fn aws_access_key_id(t: &[u8], s: usize, e: usize) -> Option<Range<usize>> {
    let head = slice(t, s..e);
    if !(head == b"AKIA" || head == b"ASIA") || !starts_token(t, s, |b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let end = run_end(t, e, |b| b.is_ascii_uppercase() || b.is_ascii_digit());
    let whole = !at(t, end).is_some_and(|b| b.is_ascii_alphanumeric());
    (end - e == 16 && whole).then_some(s..end)
}

/// A vendor token: the literal prefix (case-sensitive) at a token start and at least
/// `min_len` token characters after it.
pub(super) fn prefix_token(
    t: &[u8],
    s: usize,
    e: usize,
    literal: &str,
    token: PrefixToken,
) -> Option<Range<usize>> {
    if slice(t, s..e) != literal.as_bytes() || !starts_token(t, s, |b| token.charset.contains(b)) {
        return None;
    }
    let end = run_end(t, e, |b| token.charset.contains(b));
    (end - e >= token.min_len).then_some(s..end)
}

/// Slack: `xox` + one of `a b e p r s` + `-` + at least 10 characters.
pub(super) fn slack(t: &[u8], s: usize, e: usize) -> Option<Range<usize>> {
    let kind_ok = at(t, e).is_some_and(|b| b"abeprs".contains(&b)) && at(t, e + 1) == Some(b'-');
    if !kind_ok || !starts_token(t, s, |b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let end = run_end(t, e + 2, |b| b.is_ascii_alphanumeric() || b == b'-');
    (end - (e + 2) >= 10).then_some(s..end)
}

/// A credential pair right after a credential (`AKIA…:secret`, `AKIA…/secret`): the span of
/// the separator and the second half, so the whole pair is masked. `end` is where the first
/// half ends.
pub(super) fn pair_after(t: &[u8], end: usize) -> Option<Range<usize>> {
    if !matches!(at(t, end), Some(b':' | b'/')) {
        return None;
    }
    let second_end = run_end(t, end + 1, is_pair_byte);
    (second_end > end + 1 && !slice(t, end..second_end).starts_with(b"://"))
        .then_some(end..second_end)
}

/// `credential(s)` followed by spaces and a credential pair (`credentials ID:SECRET`,
/// `Credential id/secret`): the pair. `credentials=…` and `credentials: …` are
/// [`super::separator::key_value`]'s.
pub(super) fn credential_pair(t: &[u8], s: usize, e: usize) -> Option<Range<usize>> {
    if !starts_token(t, s, |b| b.is_ascii_alphabetic()) {
        return None;
    }
    let word_end = if matches!(at(t, e), Some(b's' | b'S')) {
        e + 1
    } else {
        e
    };
    let start = run_end(t, word_end, |b| b == b' ' || b == b'\t');
    if start == word_end {
        return None;
    }
    let end = run_end(t, start, is_pair_byte);
    let token = slice(t, start..end);
    pair_split(token)?;
    Some(start..end)
}

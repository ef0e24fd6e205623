//! Value detectors: find the secret and personal-data spans inside a string.
//!
//! Three prefilter passes find the few places worth a look, and only there does a
//! hand-written precise check run: a SIMD multi-literal search (Teddy) for the token prefixes
//! (`eyJ`, `-----BEGIN`, `AKIA`, `ghp_`, `Bearer`, ...), a `memchr3` search for `@`, `=` and
//! `:` (e-mail addresses, URL credentials, `key=value` secrets, checked backwards from the
//! separator), and a skip-ahead digit-run scan for card numbers. Clean text costs those passes
//! and nothing else: no allocation, no regex. Replacing the spans is [`crate::Redactor`]'s job,
//! not this module's.

use std::ops::Range;

use aho_corasick::packed::{self, Searcher};
use memchr::memmem;
use serde::{Deserialize, Serialize};

use crate::reason::Reason;

/// One value detector. The serde names (`snake_case`) are the ones a policy file uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Detector {
    /// `Bearer <token>` (`Bearer`, `bearer` or `BEARER`): the token is masked.
    BearerCredential,
    /// `Basic <base64>` (`Basic`, `basic` or `BASIC`): the credentials are masked.
    BasicCredential,
    /// A JSON Web Token: `eyJ…` header, payload and signature segments (JWS and JWE).
    Jwt,
    /// A PEM block whose label names a private key, through its `-----END …-----` line.
    PemPrivateKey,
    /// An AWS access key id (`AKIA…`/`ASIA…`, 20 characters).
    AwsAccessKeyId,
    /// An AWS secret access key: a 40-character base64 run within 256 bytes of an access
    /// key id. (`aws_secret_access_key=…` is also caught by [`Detector::KeyValueSecret`].)
    AwsSecretKey,
    /// GitHub tokens: `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`.
    GithubToken,
    /// GitLab personal access tokens: `glpat-`.
    GitlabToken,
    /// Slack tokens: `xoxa-`, `xoxb-`, `xoxe-`, `xoxp-`, `xoxr-`, `xoxs-`.
    SlackToken,
    /// Stripe secret and restricted keys: `sk_live_`, `rk_live_`, `sk_test_`, `rk_test_`.
    StripeKey,
    /// Google API keys: `AIza` followed by 35 characters.
    GoogleApiKey,
    /// `key=value` and `key: value` in text where the key names a secret (`password`,
    /// `passwd`, `pwd`, `secret`, `token`, `api_key`, `access_key`, `private_key`,
    /// `client_secret`, `authorization`, `cookie`, `session_id`, …): the value is masked.
    KeyValueSecret,
    /// Credentials in a URL: `scheme://user:pass@host` keeps scheme and host.
    UrlCredentials,
    /// An e-mail address (personal data).
    Email,
    /// A payment card number: 13–19 digits, optionally grouped by spaces or dashes, starting
    /// with 2–6 (the card networks' ranges) and passing the Luhn check (personal data).
    PaymentCard,
}

impl Detector {
    /// Every detector.
    pub const ALL: [Detector; 15] = [
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
        Detector::UrlCredentials,
        Detector::Email,
        Detector::PaymentCard,
    ];

    /// The reason a match of this detector reports: [`Reason::Pii`] for e-mail addresses and
    /// card numbers, [`Reason::Secret`] for everything else.
    #[must_use]
    pub const fn reason(self) -> Reason {
        match self {
            Detector::Email | Detector::PaymentCard => Reason::Pii,
            _ => Reason::Secret,
        }
    }

    const fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of [`Detector`]s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DetectorSet(u16);

impl DetectorSet {
    /// No detector.
    pub const NONE: DetectorSet = DetectorSet(0);

    /// Every detector (the default).
    #[must_use]
    pub const fn all() -> Self {
        // One bit per variant, and the variants are numbered from zero.
        DetectorSet((1 << Detector::ALL.len()) - 1)
    }

    /// Whether `detector` is in the set.
    #[must_use]
    pub const fn contains(self, detector: Detector) -> bool {
        self.0 & detector.bit() != 0
    }

    /// Adds a detector.
    pub fn insert(&mut self, detector: Detector) {
        self.0 |= detector.bit();
    }

    /// Removes a detector.
    pub fn remove(&mut self, detector: Detector) {
        self.0 &= !detector.bit();
    }

    /// The detectors in the set, in the order of [`Detector::ALL`].
    pub fn iter(self) -> impl Iterator<Item = Detector> {
        Detector::ALL.into_iter().filter(move |d| self.contains(*d))
    }
}

impl Default for DetectorSet {
    fn default() -> Self {
        DetectorSet::all()
    }
}

impl FromIterator<Detector> for DetectorSet {
    fn from_iter<I: IntoIterator<Item = Detector>>(iter: I) -> Self {
        let mut set = DetectorSet::NONE;
        for detector in iter {
            set.insert(detector);
        }
        set
    }
}

/// A span of text a detector matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Finding {
    pub(crate) range: Range<usize>,
    pub(crate) detector: Detector,
}

/// Which precise check a trigger literal leads to.
#[derive(Clone, Copy, Debug)]
enum Anchor {
    Bearer,
    Basic,
    Jwt,
    Pem,
    Aws,
    Slack,
    Prefix(PrefixToken),
}

/// Vendor tokens recognised by a literal prefix and a minimum run of token characters.
#[derive(Clone, Copy, Debug)]
struct PrefixToken {
    detector: Detector,
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
const TRIGGERS: &[(&str, Anchor)] = &[
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
];

/// The shortest text any [`TRIGGERS`] detector can match (a 10-character JWT header and two
/// one-character segments); shorter values skip the literal search.
const MIN_LITERAL_FINDING: usize = 13;

/// Detectors found through [`TRIGGERS`].
const LITERAL_DETECTORS: [Detector; 11] = [
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
];

/// A key in `key=value` text names a secret when it ends with one of these (ASCII case
/// ignored): `db_password`, `clientSecret`, `x-api-key`, `aws_secret_access_key`, …
const SECRET_KEY_SUFFIXES: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "accesskey",
    "access_key",
    "access-key",
    "privatekey",
    "private_key",
    "private-key",
    "secretkey",
    "secret_key",
    "secret-key",
    "credential",
    "credentials",
    "authorization",
    "cookie",
    "sessionid",
    "session_id",
    "session-id",
];

/// Keys whose values are whole header values (`Authorization: Basic …`, `Cookie: a=b; c=d`):
/// the value runs to the end of the line.
const HEADER_KEY_SUFFIXES: &[&str] = &["authorization", "cookie"];

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

/// The compiled detectors of one policy.
#[derive(Debug, Clone)]
pub(crate) struct Scanner {
    /// `None` when no literal-triggered detector is enabled.
    triggers: Option<Searcher>,
    enabled: DetectorSet,
}

impl Scanner {
    /// Compiles the trigger search; `None` if it cannot be built (it always can for the fixed
    /// trigger list).
    pub(crate) fn new(enabled: DetectorSet) -> Option<Self> {
        let needs_literals = LITERAL_DETECTORS.iter().any(|d| enabled.contains(*d));
        let triggers = if needs_literals {
            let mut builder = packed::Config::new()
                .match_kind(packed::MatchKind::LeftmostFirst)
                .builder();
            builder.extend(TRIGGERS.iter().map(|(literal, _)| literal));
            Some(builder.build()?)
        } else {
            None
        };
        Some(Scanner { triggers, enabled })
    }

    /// Appends every finding in `text` to `out` (unsorted, possibly overlapping). `out` is
    /// not touched, and nothing is allocated, when the text is clean.
    pub(crate) fn scan(&self, text: &str, out: &mut Vec<Finding>) {
        let t = text.as_bytes();
        if let Some(triggers) = self
            .triggers
            .as_ref()
            .filter(|_| t.len() >= MIN_LITERAL_FINDING)
        {
            for m in triggers.find_iter(t) {
                let Some((literal, anchor)) = TRIGGERS.get(m.pattern().as_usize()) else {
                    continue;
                };
                let (s, e) = (m.start(), m.end());
                match *anchor {
                    Anchor::Bearer => self.push(
                        out,
                        Detector::BearerCredential,
                        scheme_credential(t, s, e, is_b64token),
                    ),
                    Anchor::Basic => self.push(
                        out,
                        Detector::BasicCredential,
                        scheme_credential(t, s, e, is_b64std),
                    ),
                    Anchor::Jwt => self.push(out, Detector::Jwt, jwt(t, s, e)),
                    Anchor::Pem => self.push(out, Detector::PemPrivateKey, pem(t, s, e)),
                    Anchor::Aws => self.aws(t, s, e, out),
                    Anchor::Slack => self.push(out, Detector::SlackToken, slack(t, s, e)),
                    Anchor::Prefix(token) => {
                        self.push(out, token.detector, prefix_token(t, s, e, literal, token));
                    }
                }
            }
        }
        let key_values = self.enabled.contains(Detector::KeyValueSecret);
        let at_signs = self.enabled.contains(Detector::Email)
            || self.enabled.contains(Detector::UrlCredentials);
        if key_values || at_signs {
            for i in memchr::memchr3_iter(b'@', b'=', b':', t) {
                if at(t, i) == Some(b'@') {
                    if at_signs {
                        self.push(out, Detector::UrlCredentials, url_userinfo(t, i));
                        self.push(out, Detector::Email, email(t, i));
                    }
                } else if key_values {
                    self.push(out, Detector::KeyValueSecret, key_value(t, i));
                }
            }
        }
        if self.enabled.contains(Detector::PaymentCard) {
            scan_cards(t, out);
        }
    }

    fn push(&self, out: &mut Vec<Finding>, detector: Detector, range: Option<Range<usize>>) {
        if let Some(range) = range
            && self.enabled.contains(detector)
        {
            out.push(Finding { range, detector });
        }
    }

    fn aws(&self, t: &[u8], s: usize, e: usize, out: &mut Vec<Finding>) {
        let Some(id) = aws_access_key_id(t, s, e) else {
            return;
        };
        self.push(out, Detector::AwsAccessKeyId, Some(id.clone()));
        if !self.enabled.contains(Detector::AwsSecretKey) {
            return;
        }
        // A secret key near an access key id: a 40-character standard-base64 run.
        let from = id.start.saturating_sub(AWS_CONTEXT);
        let to = (id.end + AWS_CONTEXT).min(t.len());
        let mut i = from;
        while i < to {
            if !is_b64std(t.get(i).copied().unwrap_or(0)) {
                i += 1;
                continue;
            }
            let start = run_start(t, i, is_b64std);
            let end = run_end(t, i, is_b64std);
            let padded = t.get(end) == Some(&b'=');
            if end - start == 40 && !padded {
                out.push(Finding {
                    range: start..end,
                    detector: Detector::AwsSecretKey,
                });
            }
            i = end.max(i + 1);
        }
    }
}

const AWS_CONTEXT: usize = 256;

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn is_b64std(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// RFC 6750 `b64token` characters (without the trailing `=` padding).
fn is_b64token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
}

fn at(t: &[u8], i: usize) -> Option<u8> {
    t.get(i).copied()
}

/// The first index at or after `from` whose byte does not satisfy `pred`.
fn run_end(t: &[u8], from: usize, pred: impl Fn(u8) -> bool) -> usize {
    let mut i = from;
    while at(t, i).is_some_and(&pred) {
        i += 1;
    }
    i
}

/// The first index of the run of `pred` bytes that ends at `to` (exclusive).
fn run_start(t: &[u8], to: usize, pred: impl Fn(u8) -> bool) -> usize {
    let mut i = to;
    while i > 0 && at(t, i - 1).is_some_and(&pred) {
        i -= 1;
    }
    i
}

/// Whether the byte before `i` (if any) is outside `pred`'s class.
fn starts_token(t: &[u8], i: usize, pred: impl Fn(u8) -> bool) -> bool {
    i == 0 || !at(t, i - 1).is_some_and(pred)
}

fn slice(t: &[u8], range: Range<usize>) -> &[u8] {
    t.get(range).unwrap_or_default()
}

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
fn scheme_credential(
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
fn jwt(t: &[u8], s: usize, e: usize) -> Option<Range<usize>> {
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
fn pem(t: &[u8], s: usize, e: usize) -> Option<Range<usize>> {
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
fn aws_access_key_id(t: &[u8], s: usize, e: usize) -> Option<Range<usize>> {
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
fn prefix_token(
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
fn slack(t: &[u8], s: usize, e: usize) -> Option<Range<usize>> {
    let kind_ok = at(t, e).is_some_and(|b| b"abeprs".contains(&b)) && at(t, e + 1) == Some(b'-');
    if !kind_ok || !starts_token(t, s, |b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let end = run_end(t, e + 2, |b| b.is_ascii_alphanumeric() || b == b'-');
    (end - (e + 2) >= 10).then_some(s..end)
}

/// Whether a key names a secret: it ends with one of [`SECRET_KEY_SUFFIXES`] (ASCII case
/// ignored).
fn ends_with_any(key: &[u8], suffixes: &[&str]) -> bool {
    suffixes.iter().any(|suffix| {
        key.len() >= suffix.len()
            && slice(key, key.len() - suffix.len()..key.len())
                .eq_ignore_ascii_case(suffix.as_bytes())
    })
}

/// `key=value` / `key: value` / `"key": "value"` where the key names a secret; `sep` is the
/// position of the `=` or `:`. Returns the value's span.
fn key_value(t: &[u8], sep: usize) -> Option<Range<usize>> {
    // The key, read backwards: spaces, an optional (escaped) closing quote, key characters.
    let mut key_end = run_start(t, sep, |b| b == b' ' || b == b'\t');
    if key_end > 0 && matches!(at(t, key_end - 1), Some(b'"' | b'\'')) {
        key_end -= 1;
        if key_end > 0 && at(t, key_end - 1) == Some(b'\\') {
            key_end -= 1;
        }
    }
    // Every secret key suffix ends in one of these letters: a cheap first test.
    if !at(t, key_end.wrapping_sub(1)).is_some_and(|b| {
        matches!(
            b.to_ascii_lowercase(),
            b'd' | b'e' | b't' | b'n' | b'y' | b'l' | b's'
        )
    }) {
        return None;
    }
    let key_start = run_start(t, key_end, is_key_byte);
    let key = slice(t, key_start..key_end);
    if !ends_with_any(key, SECRET_KEY_SUFFIXES) {
        return None;
    }
    let header = ends_with_any(key, HEADER_KEY_SUFFIXES);
    let i = run_end(t, sep + 1, |b| b == b' ' || b == b'\t');

    let escaped_quote = at(t, i) == Some(b'\\') && matches!(at(t, i + 1), Some(b'"' | b'\''));
    let value = if escaped_quote || matches!(at(t, i), Some(b'"' | b'\'')) {
        let quote_at = if escaped_quote { i + 1 } else { i };
        let quote = at(t, quote_at).unwrap_or(b'"');
        let start = quote_at + 1;
        let line_end = run_end(t, start, |b| b != b'\n' && b != b'\r');
        let mut end =
            memchr::memchr(quote, slice(t, start..line_end)).map_or(line_end, |q| start + q);
        if escaped_quote && end > start && at(t, end - 1) == Some(b'\\') {
            end -= 1;
        }
        start..end
    } else if header {
        let end = run_end(t, i, |b| !matches!(b, b'\n' | b'\r' | b'"'));
        let mut end_trimmed = end;
        while end_trimmed > i && matches!(at(t, end_trimmed - 1), Some(b' ' | b'\t' | b'\\')) {
            end_trimmed -= 1;
        }
        i..end_trimmed
    } else {
        let end = run_end(t, i, |b| {
            !(b.is_ascii_whitespace() || matches!(b, b'&' | b',' | b';' | b'"' | b'\'' | b'}'))
        });
        i..end
    };
    let text = slice(t, value.clone());
    if text.is_empty() || marker_len_at(text) == Some(text.len()) {
        return None;
    }
    Some(value)
}

/// `scheme://user:pass@host`: the `user:pass` part, when it holds a non-empty password.
/// `at_sign` is the position of an `@`; the URL is the token it sits in.
fn url_userinfo(t: &[u8], at_sign: usize) -> Option<Range<usize>> {
    let token_start = run_start(t, at_sign, |b| {
        !(b.is_ascii_whitespace()
            || matches!(b, b'"' | b'\'' | b'<' | b'>' | b'`' | b'?' | b'#' | b'\\'))
    });
    let scheme_end = memmem::rfind(slice(t, token_start..at_sign), b"://")?;
    let userinfo_start = token_start + scheme_end + 3;
    let userinfo = slice(t, userinfo_start..at_sign);
    let colon = memchr::memchr(b':', userinfo)?;
    (colon + 1 < userinfo.len()).then_some(userinfo_start..at_sign)
}

fn is_email_local(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

/// `local@domain.tld`: `at` is the position of `@`.
fn email(t: &[u8], at_sign: usize) -> Option<Range<usize>> {
    let mut local_start = run_start(t, at_sign, is_email_local);
    while local_start < at_sign && at(t, local_start) == Some(b'.') {
        local_start += 1;
    }
    if local_start == at_sign {
        return None;
    }
    // `scheme://user:pass@host` is the URL detector's, not an address.
    if at(t, local_start.wrapping_sub(1)) == Some(b':') {
        let token_start = run_start(t, local_start, |b| {
            !(b.is_ascii_whitespace() || matches!(b, b'"' | b'\''))
        });
        if memmem::find(slice(t, token_start..local_start), b"://").is_some() {
            return None;
        }
    }
    let domain_start = at_sign + 1;
    let mut domain_end = run_end(t, domain_start, |b| {
        b.is_ascii_alphanumeric() || b == b'.' || b == b'-'
    });
    while domain_end > domain_start && matches!(at(t, domain_end - 1), Some(b'.' | b'-')) {
        domain_end -= 1;
    }
    let domain = slice(t, domain_start..domain_end);
    let last_dot = memchr::memrchr(b'.', domain)?;
    let tld = slice(domain, last_dot + 1..domain.len());
    let labels_ok = !domain.starts_with(b".") && memmem::find(domain, b"..").is_none();
    (labels_ok && tld.len() >= 2 && tld.iter().all(u8::is_ascii_alphabetic))
        .then_some(local_start..domain_end)
}

fn is_digit_or_sep(b: u8) -> bool {
    b.is_ascii_digit() || b == b' ' || b == b'-'
}

/// Card numbers: finds stretches of digits and separators with a skip-ahead (a 13-digit run
/// must cover every 13th byte), then checks runs of digit groups.
fn scan_cards(t: &[u8], out: &mut Vec<Finding>) {
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
/// separators. Every run of whole groups that starts at a group start and holds 13–19 digits is
/// a candidate, so a card inside a longer grouped number is still found.
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
        while k < end {
            let b = at(t, k).unwrap_or(b' ');
            if b.is_ascii_digit() {
                digits += 1;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn find(text: &str) -> Vec<(String, Detector)> {
        let scanner = Scanner::new(DetectorSet::all()).unwrap();
        assert!(scanner.triggers.is_some());
        let mut out = Vec::new();
        scanner.scan(text, &mut out);
        out.sort_by_key(|f| (f.range.start, f.range.end));
        out.into_iter()
            .map(|f| (text[f.range].to_owned(), f.detector))
            .collect()
    }

    fn only(text: &str) -> (String, Detector) {
        let found = find(text);
        assert_eq!(found.len(), 1, "{text:?} -> {found:?}");
        found.into_iter().next().unwrap()
    }

    #[test]
    fn clean_text_finds_nothing() {
        for text in [
            "GET /api/v1/scans/42 200 in 12ms",
            "user logged in from 10.0.0.1 at 2025-01-15T10:22:33Z",
            "passed 15 tests; bypass cache; the bearer of news",
            "Basic authentication failed for realm scanner",
            "token expired",
            "https://example.com/path?q=1",
            "pkg@1.2.3 and @scope/name",
            "ts=1700000000000 id=123456789012345678901234",
            "sha256:0000000000000000000000000000000000000000000000000000000000000000",
        ] {
            assert_eq!(find(text), [], "{text}");
        }
    }

    #[test]
    fn credentials_after_scheme_words() {
        assert_eq!(
            only("sent bearer abc123DEF456ghi789"),
            ("abc123DEF456ghi789".into(), Detector::BearerCredential)
        );
        let header = find("Authorization: Bearer abc123DEF456ghi789");
        assert_eq!(
            header,
            [
                ("Bearer abc123DEF456ghi789".into(), Detector::KeyValueSecret),
                ("abc123DEF456ghi789".into(), Detector::BearerCredential),
            ]
        );
        let found = find("auth header basic dXNlcjpwYXNzd29yZA== sent");
        assert_eq!(
            found,
            [("dXNlcjpwYXNzd29yZA==".into(), Detector::BasicCredential)]
        );
    }

    #[test]
    fn vendor_tokens() {
        let cases = [
            (
                "ghp_0123456789abcdefghijABCDEFGHIJ012345",
                Detector::GithubToken,
            ),
            (
                "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
                Detector::GithubToken,
            ),
            ("glpat-abcdefghij0123456789", Detector::GitlabToken),
            ("xoxb-1234567890-abcdefghij", Detector::SlackToken),
            ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", Detector::StripeKey),
            (
                "AIzaSyA-abcdefghijklmnopqrstuvwxyz01234",
                Detector::GoogleApiKey,
            ),
            ("AKIAIOSFODNN7EXAMPLE", Detector::AwsAccessKeyId),
        ];
        for (token, detector) in cases {
            let text = format!("using {token} now");
            assert_eq!(only(&text), (token.to_owned(), detector), "{text}");
        }
    }

    #[test]
    fn aws_secret_key_near_an_access_key_id() {
        let text = "creds AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY end";
        assert_eq!(
            find(text),
            [
                ("AKIAIOSFODNN7EXAMPLE".into(), Detector::AwsAccessKeyId),
                (
                    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
                    Detector::AwsSecretKey
                ),
            ]
        );
    }

    #[test]
    fn jwt_and_pem() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
        assert_eq!(only(&format!("t={jwt}.")), (jwt.into(), Detector::Jwt));
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----";
        assert_eq!(
            only(&format!("key:\n{pem}\ndone")),
            (pem.into(), Detector::PemPrivateKey)
        );
        let cut = "-----BEGIN PRIVATE KEY-----\nMIIEow";
        assert_eq!(only(cut), (cut.into(), Detector::PemPrivateKey));
        assert_eq!(
            find("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"),
            []
        );
    }

    #[test]
    fn key_value_secrets_keep_the_key() {
        assert_eq!(
            only("login password=hunter2 ok"),
            ("hunter2".into(), Detector::KeyValueSecret)
        );
        assert_eq!(
            only("db_password: 's3cr3t pass'"),
            ("s3cr3t pass".into(), Detector::KeyValueSecret)
        );
        assert_eq!(
            only(r#"{"client_secret":"abc","x":1}"#),
            ("abc".into(), Detector::KeyValueSecret)
        );
        assert_eq!(
            only(r#"{\"apiKey\":\"abc\"}"#),
            ("abc".into(), Detector::KeyValueSecret)
        );
        assert_eq!(
            only("cb?access_token=abc&state=1"),
            ("abc".into(), Detector::KeyValueSecret)
        );
        assert_eq!(
            only("Cookie: session=a; theme=dark\nHost: x"),
            ("session=a; theme=dark".into(), Detector::KeyValueSecret)
        );
        assert_eq!(find("password=[redacted] token: [redacted]"), []);
        assert_eq!(find("tokens_used=15 password_changed=true"), []);
    }

    #[test]
    fn url_credentials_keep_scheme_and_host() {
        assert_eq!(
            only("connecting to postgres://app:hunter2@db.internal:5432/scans"),
            ("app:hunter2".into(), Detector::UrlCredentials)
        );
        assert_eq!(find("https://[redacted]@db.internal"), []);
        assert_eq!(find("ssh://git@host/repo"), []);
    }

    #[test]
    fn emails() {
        assert_eq!(
            only("mail bob.smith+x@mail.example.org."),
            ("bob.smith+x@mail.example.org".into(), Detector::Email)
        );
        assert_eq!(find("bob@localhost and a@b.c0m"), []);
    }

    #[test]
    fn cards_are_luhn_checked_and_whole() {
        assert_eq!(
            only("card 4111 1111 1111 1111 ok"),
            ("4111 1111 1111 1111".into(), Detector::PaymentCard)
        );
        assert_eq!(
            only("card 5500-0000-0000-0004"),
            ("5500-0000-0000-0004".into(), Detector::PaymentCard)
        );
        assert_eq!(
            only("n=4111111111111111"),
            ("4111111111111111".into(), Detector::PaymentCard)
        );
        assert_eq!(find("4111111111111112"), [], "Luhn fails");
        assert_eq!(find("x4111111111111111"), [], "inside a token");
        assert_eq!(find("1111111111111117"), [], "not a card network range");
        assert_eq!(
            find("4111 1111 1111 1111 2024"),
            [("4111 1111 1111 1111".into(), Detector::PaymentCard)]
        );
        assert!(is_card_number(4_111_111_111_111_111));
        assert!(!is_card_number(1_700_000_000_000));
    }

    #[test]
    fn markers_are_recognised() {
        assert!(is_marker(MASK));
        assert!(is_marker(&format!("sha256:{}", "ab".repeat(32))));
        assert!(!is_marker(&format!("sha256:{}", "AB".repeat(32))));
        assert!(!is_marker("[redacted]x"));
    }
}

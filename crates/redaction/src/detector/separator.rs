//! The detectors anchored at a separator byte found by the `memchr3` pass: `key=value` and
//! `key: value` secrets (checked backwards from the `=` or `:`), URL credentials and e-mail
//! addresses (from the `@`). Not where the pass runs: [`super::scanner::Scanner`] drives it.

use std::ops::Range;

use memchr::memmem;

use super::bytes::{at, is_key_byte, run_end, run_start, slice};
use super::marker::marker_len_at;

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
    // Signed-URL and OAuth query parameters: `X-Amz-Signature`, `X-Goog-Signature`,
    // `X-Amz-Credential`, `X-Goog-Credential`, `X-Amz-Security-Token`, `refresh_token`,
    // `access_token`, `id_token` and `client_secret` end with a name above or this one.
    "signature",
];

/// Keys that name a secret only as the whole key (ASCII case ignored): as suffixes they would
/// match ordinary keys (`status_code`, `exit_code`).
const SECRET_KEYS_EXACT: &[&str] = &["sig"];

/// The OAuth authorization code: a secret as a query parameter (`?code=…`, `&code=…`) or when
/// the value is long (authorization codes are tens of characters), not as a short status or
/// error code in a log line (`code=404`, `code: E42`).
const CODE_KEY: &str = "code";
const CODE_MIN_LEN: usize = 16;

/// Keys whose value is the first half of a credential pair (`client_id=ID:SECRET`,
/// `user=alice:hunter2`): a value holding `first:second` or `first/second` is masked whole; a
/// value without a second half (`client_id=web-ui`) is kept.
const PAIR_KEY_SUFFIXES: &[&str] = &[
    "client_id",
    "clientid",
    "client-id",
    "user",
    "username",
    "access_key_id",
    "accesskeyid",
];

/// Keys whose values are whole header values (`Authorization: Basic …`, `Cookie: a=b; c=d`):
/// the value runs to the end of the line.
const HEADER_KEY_SUFFIXES: &[&str] = &["authorization", "cookie"];

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
pub(super) fn key_value(t: &[u8], sep: usize) -> Option<Range<usize>> {
    // The key, read backwards: spaces, an optional (escaped) closing quote, key characters.
    let mut key_end = run_start(t, sep, |b| b == b' ' || b == b'\t');
    if key_end > 0 && matches!(at(t, key_end - 1), Some(b'"' | b'\'')) {
        key_end -= 1;
        if key_end > 0 && at(t, key_end - 1) == Some(b'\\') {
            key_end -= 1;
        }
    }
    // Every secret or pair key ends in one of these letters: a cheap first test.
    if !at(t, key_end.wrapping_sub(1)).is_some_and(|b| {
        matches!(
            b.to_ascii_lowercase(),
            b'd' | b'e' | b't' | b'n' | b'y' | b'l' | b's' | b'g' | b'r'
        )
    }) {
        return None;
    }
    let key_start = run_start(t, key_end, is_key_byte);
    let key = slice(t, key_start..key_end);
    // A query parameter (`?sig=…`, `&code=…`): its value ends differently (below).
    let query = matches!(at(t, key_start.wrapping_sub(1)), Some(b'?' | b'&'));
    let code = key.eq_ignore_ascii_case(CODE_KEY.as_bytes());
    let kind = if ends_with_any(key, SECRET_KEY_SUFFIXES)
        || SECRET_KEYS_EXACT
            .iter()
            .any(|k| key.eq_ignore_ascii_case(k.as_bytes()))
        || code
    {
        KeyKind::Secret
    } else if ends_with_any(key, PAIR_KEY_SUFFIXES) {
        KeyKind::PairFirst
    } else {
        return None;
    };
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
        // A query parameter's value runs to `&`, whitespace, `#` (the fragment) or a quote
        // (the end of a quoted URL): `,` and `;` may be part of it.
        let end = if query {
            run_end(t, i, |b| {
                !(b.is_ascii_whitespace() || matches!(b, b'&' | b'#' | b'"' | b'\''))
            })
        } else {
            run_end(t, i, |b| {
                !(b.is_ascii_whitespace() || matches!(b, b'&' | b',' | b';' | b'"' | b'\'' | b'}'))
            })
        };
        i..end
    };
    let text = slice(t, value.clone());
    if text.is_empty() || marker_len_at(text) == Some(text.len()) {
        return None;
    }
    match kind {
        KeyKind::Secret if code && !query && text.len() < CODE_MIN_LEN => None,
        KeyKind::Secret => Some(value),
        KeyKind::PairFirst => pair_split(text).map(|_| value),
    }
}

/// What a key in `key=value` text says about its value.
#[derive(Clone, Copy)]
enum KeyKind {
    /// The value is a secret.
    Secret,
    /// The value is secret only when it is a credential pair.
    PairFirst,
}

/// Bytes of the second half of a credential pair: anything up to whitespace, a quote, an
/// angle bracket, a backslash or an `@` (a password may hold `&`, `,` or `;`, so those do not
/// end it: fail closed).
pub(super) fn is_pair_byte(b: u8) -> bool {
    !(b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'`' | b'<' | b'>' | b'@' | b'\\'))
}

/// Whether `token` is `first:second` or `first/second` with both halves non-empty; returns
/// the separator's position. A URL (`s3://bucket/key`) or a path (`/etc/x`) is not a pair.
pub(super) fn pair_split(token: &[u8]) -> Option<usize> {
    let sep = memchr::memchr2(b':', b'/', token)?;
    let rest = slice(token, sep..token.len());
    (sep > 0 && rest.len() > 1 && !rest.starts_with(b"://")).then_some(sep)
}

/// `scheme://user:pass@host`: the `user:pass` part, when it holds a non-empty password.
/// `at_sign` is the position of an `@`; the URL is the token it sits in.
pub(super) fn url_userinfo(t: &[u8], at_sign: usize) -> Option<Range<usize>> {
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
pub(super) fn email(t: &[u8], at_sign: usize) -> Option<Range<usize>> {
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

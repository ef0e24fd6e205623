//! The URL sanitizer: keeps scheme, host and path, masks the user-info and the value of every
//! query (and fragment) parameter whose name is not on a [`QueryAllowList`]. Works on full
//! URLs (`https://u:p@host/p?a=1`) and on bare targets (`/r?token=x&page=2`, as `http.target`
//! holds). Nothing is allocated when nothing changes. Which attribute keys it applies to is
//! [`crate::Redactor`]'s business.

use std::borrow::Cow;

use crate::detector::{MASK, is_marker};
use crate::error::PolicyError;

/// Attribute keys whose values are URLs (or, for `url.query`, a query string), matched as the
/// whole key or its trailing segments, ignoring ASCII case: [`Redactor::redact_value`](crate::Redactor::redact_value) and
/// [`Redactor::redact_json`](crate::Redactor::redact_json) sanitize their values like [`Redactor::redact_url`](crate::Redactor::redact_url) (user-info
/// and non-allow-listed query values masked) before the detectors run.
pub const URL_KEYS: &[&str] = &["url", "url.full", "url.query", "http.target", "http.url"];

/// Query parameter names whose values are kept by default: paging and ordering only. `q`
/// (search terms) is not on the list: people paste tokens and e-mail addresses into it.
pub const DEFAULT_URL_QUERY_ALLOW: &[&str] =
    &["page", "per_page", "limit", "offset", "sort", "order"];

/// Query parameter names whose values a URL keeps (ASCII case ignored); every other
/// parameter's value is masked.
///
/// ```
/// use stellaops_redaction::QueryAllowList;
///
/// let allowed = QueryAllowList::new(["page", "lang"])?;
/// assert!(allowed.allows("Page"));
/// assert!(!allowed.allows("token"));
/// assert!(QueryAllowList::new(["a=b"]).is_err());
/// # Ok::<(), stellaops_redaction::PolicyError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryAllowList {
    names: Vec<String>,
}

impl Default for QueryAllowList {
    /// [`DEFAULT_URL_QUERY_ALLOW`].
    fn default() -> Self {
        QueryAllowList {
            names: DEFAULT_URL_QUERY_ALLOW
                .iter()
                .map(|n| (*n).to_owned())
                .collect(),
        }
    }
}

impl QueryAllowList {
    /// No parameter is allowed: every query value is masked.
    #[must_use]
    pub fn none() -> Self {
        QueryAllowList { names: Vec::new() }
    }

    /// An allow-list of these names.
    ///
    /// # Errors
    /// [`PolicyError::InvalidQueryName`] for an empty name or one holding a byte that cannot
    /// be part of a parameter name (whitespace, `=`, `&`, `?`, `#`, `;`).
    pub fn new<I, S>(names: I) -> Result<Self, PolicyError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut list = QueryAllowList::none();
        for name in names {
            list.names.push(check_name(name.as_ref())?);
        }
        Ok(list)
    }

    /// Whether the value of the parameter `name` is kept.
    #[must_use]
    pub fn allows(&self, name: &str) -> bool {
        self.allows_bytes(name.as_bytes())
    }

    /// The allowed names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    fn allows_bytes(&self, name: &[u8]) -> bool {
        self.names
            .iter()
            .any(|n| n.as_bytes().eq_ignore_ascii_case(name))
    }
}

fn check_name(name: &str) -> Result<String, PolicyError> {
    let problem = if name.is_empty() {
        Some("expected a parameter name, found an empty string".to_owned())
    } else {
        name.chars()
            .find(|c| c.is_whitespace() || matches!(c, '=' | '&' | '?' | '#' | ';'))
            .map(|c| format!("expected a parameter name, found {c:?} in it"))
    };
    match problem {
        Some(problem) => Err(PolicyError::InvalidQueryName {
            name: name.to_owned(),
            problem,
        }),
        None => Ok(name.to_owned()),
    }
}

/// Sanitizes a URL or a request target: scheme, host, port and path stay; the user-info
/// (`user:pass@`, or a lone `token@`) becomes `[redacted]@`; the value of every query
/// parameter whose name is not in `allowed` becomes `[redacted]`, its name stays; a parameter
/// without `=` (`?AKIA…`) is masked whole unless its name is allowed. A fragment holding
/// parameters (`#access_token=…`) is treated like a query. Returns the input borrowed when
/// nothing changes.
///
/// ```
/// use stellaops_redaction::{QueryAllowList, sanitize_url};
///
/// let allowed = QueryAllowList::default();
/// assert_eq!(
///     sanitize_url("https://u:p@host/p?token=abc&page=2", &allowed),
///     "https://[redacted]@host/p?token=[redacted]&page=2"
/// );
/// assert_eq!(sanitize_url("/r?sig=x&order=asc", &allowed), "/r?sig=[redacted]&order=asc");
/// assert!(matches!(
///     sanitize_url("https://host/a/b?page=2", &allowed),
///     std::borrow::Cow::Borrowed(_)
/// ));
/// ```
#[must_use]
pub fn sanitize_url<'a>(url: &'a str, allowed: &QueryAllowList) -> Cow<'a, str> {
    let mut out = Rewrite::new(url);
    sanitize_into(url, allowed, &mut out);
    out.finish()
}

/// Sanitizes a bare query string (`a=1&token=x`, as `url.query` holds, with or without the
/// leading `?`): the parameter rules of [`sanitize_url`].
///
/// ```
/// use stellaops_redaction::{QueryAllowList, sanitize_query};
///
/// let allowed = QueryAllowList::default();
/// assert_eq!(sanitize_query("limit=10&code=xyz", &allowed), "limit=10&code=[redacted]");
/// ```
#[must_use]
pub fn sanitize_query<'a>(query: &'a str, allowed: &QueryAllowList) -> Cow<'a, str> {
    let mut out = Rewrite::new(query);
    let start = usize::from(query.starts_with('?'));
    params(query.as_bytes(), start, query.len(), allowed, &mut out);
    out.finish()
}

/// The rules of [`sanitize_url`], writing into `out`.
fn sanitize_into(url: &str, allowed: &QueryAllowList, out: &mut Rewrite<'_>) {
    let t = url.as_bytes();
    // `scheme://` or a network-path reference `//host`: an authority follows.
    let authority_start = scheme_end(t).or_else(|| t.starts_with(b"//").then_some(2));
    if let Some(auth) = authority_start {
        let auth_end = memchr::memchr3(b'/', b'?', b'#', t.get(auth..).unwrap_or_default())
            .map_or(t.len(), |i| auth + i);
        let authority = t.get(auth..auth_end).unwrap_or_default();
        if let Some(at_sign) = memchr::memrchr(b'@', authority) {
            let userinfo = url.get(auth..auth + at_sign).unwrap_or_default();
            if !is_marker(userinfo) {
                out.replace(auth, auth + at_sign);
            }
        }
    }
    let fragment = memchr::memchr(b'#', t).unwrap_or(t.len());
    if let Some(q) = memchr::memchr(b'?', t.get(..fragment).unwrap_or_default()) {
        params(t, q + 1, fragment, allowed, out);
    }
    // A fragment of parameters (OAuth implicit flow: `#access_token=…&state=…`).
    let fragment_body = t.get(fragment + 1..).unwrap_or_default();
    if memchr::memchr(b'=', fragment_body).is_some() {
        params(t, fragment + 1, t.len(), allowed, out);
    }
}

/// `scheme://`: the index after the `//`, when `t` starts with a scheme.
fn scheme_end(t: &[u8]) -> Option<usize> {
    let colon = memchr::memchr3(b':', b'/', b'?', t)?;
    let scheme = t.get(..colon)?;
    let valid = scheme.first().is_some_and(u8::is_ascii_alphabetic)
        && scheme
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    (valid && t.get(colon..colon + 3) == Some(b"://".as_slice())).then_some(colon + 3)
}

/// The parameters in `t[start..end]`, separated by `&`.
fn params(t: &[u8], start: usize, end: usize, allowed: &QueryAllowList, out: &mut Rewrite<'_>) {
    let mut i = start;
    while i < end {
        let param_end =
            memchr::memchr(b'&', t.get(i..end).unwrap_or_default()).map_or(end, |p| i + p);
        let param = t.get(i..param_end).unwrap_or_default();
        match memchr::memchr(b'=', param) {
            Some(eq) => {
                let name = param.get(..eq).unwrap_or_default();
                let value = param.get(eq + 1..).unwrap_or_default();
                if !value.is_empty() && !allowed.allows_bytes(name) && !is_marker_bytes(value) {
                    out.replace(i + eq + 1, param_end);
                }
            }
            None => {
                if !param.is_empty() && !allowed.allows_bytes(param) && !is_marker_bytes(param) {
                    out.replace(i, param_end);
                }
            }
        }
        i = param_end + 1;
    }
}

fn is_marker_bytes(b: &[u8]) -> bool {
    std::str::from_utf8(b).is_ok_and(is_marker)
}

/// A string rewritten by masking byte ranges in increasing order; allocates on the first
/// replacement only.
struct Rewrite<'a> {
    src: &'a str,
    out: Option<String>,
    copied: usize,
}

impl<'a> Rewrite<'a> {
    fn new(src: &'a str) -> Self {
        Rewrite {
            src,
            out: None,
            copied: 0,
        }
    }

    /// Masks `src[start..end]`; ranges come in increasing, non-overlapping order and fall on
    /// ASCII delimiters (so on character boundaries).
    fn replace(&mut self, start: usize, end: usize) {
        if start < self.copied {
            return;
        }
        let out = self
            .out
            .get_or_insert_with(|| String::with_capacity(self.src.len() + MASK.len()));
        out.push_str(self.src.get(self.copied..start).unwrap_or_default());
        out.push_str(MASK);
        self.copied = end;
    }

    fn finish(self) -> Cow<'a, str> {
        match self.out {
            None => Cow::Borrowed(self.src),
            Some(mut out) => {
                out.push_str(self.src.get(self.copied..).unwrap_or_default());
                Cow::Owned(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> String {
        sanitize_url(s, &QueryAllowList::default()).into_owned()
    }

    #[test]
    fn full_urls_keep_scheme_host_and_path() {
        assert_eq!(
            url("https://u:p@host:8443/a/b?a=1&page=2#top"),
            "https://[redacted]@host:8443/a/b?a=[redacted]&page=2#top"
        );
        assert_eq!(
            url("https://ghp_token@github.com/x"),
            "https://[redacted]@github.com/x"
        );
        assert_eq!(
            url("https://bucket.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2F&X-Amz-Signature=ab12"),
            "https://bucket.s3.amazonaws.com/k?X-Amz-Credential=[redacted]&X-Amz-Signature=[redacted]"
        );
        assert_eq!(url("//cdn.example/x?t=1"), "//cdn.example/x?t=[redacted]");
    }

    #[test]
    fn bare_targets_and_allow_listed_names() {
        assert_eq!(url("/r?token=x&page=2"), "/r?token=[redacted]&page=2");
        assert_eq!(
            url("/r?ORDER=asc&Sort=name&limit=5&offset=10&per_page=3"),
            "/r?ORDER=asc&Sort=name&limit=5&offset=10&per_page=3"
        );
        assert_eq!(url("/search?q=alice@example.com"), "/search?q=[redacted]");
        assert_eq!(
            url("/r?AKIAIOSFODNN7EXAMPLE&page=1"),
            "/r?[redacted]&page=1"
        );
        assert_eq!(url("/r?a=&page"), "/r?a=&page");
        assert_eq!(
            url("/cb#access_token=abc&state=1"),
            "/cb#access_token=[redacted]&state=[redacted]"
        );
        assert_eq!(url("/docs#section-2"), "/docs#section-2");
    }

    #[test]
    fn unchanged_urls_are_borrowed_and_sanitizing_is_idempotent() {
        for clean in [
            "https://host/a/b",
            "/r?page=2&order=desc",
            "",
            "mailto:x",
            "/a?",
        ] {
            assert!(
                matches!(
                    sanitize_url(clean, &QueryAllowList::default()),
                    Cow::Borrowed(_)
                ),
                "{clean}"
            );
        }
        let once = url("https://u:p@h/p?x=1&y#z=2");
        assert!(
            matches!(
                sanitize_url(&once, &QueryAllowList::default()),
                Cow::Borrowed(_)
            ),
            "{once}"
        );
    }

    #[test]
    fn queries_and_allow_lists() {
        let none = QueryAllowList::none();
        assert_eq!(
            sanitize_query("?page=1&b=2", &none),
            "?page=[redacted]&b=[redacted]"
        );
        assert_eq!(
            sanitize_query("page=1&b=2", &QueryAllowList::default()),
            "page=1&b=[redacted]"
        );
        let err = QueryAllowList::new(["page", ""]).unwrap_err();
        assert_eq!(err.code(), "redaction.policy.invalid_url_query_allow");
        let err = QueryAllowList::new(["per page"]).unwrap_err();
        assert!(err.to_string().contains("per page"), "{err}");
    }
}

//! Key patterns: glob-like, ASCII-case-insensitive patterns over dotted key paths
//! (`http.request.header.authorization`, `headers.Authorization`), compiled to one regex per
//! key list. This module matches keys; it does not decide what happens to their values.
//!
//! Syntax: `*` matches any run of characters except `.`, `**` any run including `.`, `?` one
//! character except `.`, `[abc]` / `[a-z]` / `[!abc]` a character class; everything else is
//! literal. How a pattern is anchored depends on the list (see [`Anchoring`]).

use regex::bytes::{Regex, RegexBuilder};

use crate::error::PolicyError;

/// Where in a dotted key a pattern must match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Anchoring {
    /// Any run of whole segments: `authorization` matches `http.request.header.authorization`
    /// and `authorization.scheme`. Used for blocked keys (fail closed).
    Window,
    /// The whole key or a leading run of segments: `http` matches `http.method` (a subtree).
    /// Used for allowed keys and overrides.
    Prefix,
}

/// A compiled list of key patterns.
#[derive(Clone, Debug)]
pub(crate) enum KeyPatterns {
    /// Matches nothing.
    Empty,
    /// Glob patterns: one regex, behind an optional trigram prefilter.
    Globs {
        regex: Regex,
        /// Built from the longest literal piece of every pattern: a key containing none of
        /// them cannot match, and most keys are rejected by a few table lookups.
        required: Option<Box<Trigrams>>,
    },
    /// Literal keys matched as trailing segments.
    Suffixes(Vec<Vec<u8>>),
}

impl KeyPatterns {
    /// Compiles glob patterns.
    pub(crate) fn globs(
        field: &'static str,
        patterns: &[String],
        anchoring: Anchoring,
    ) -> Result<Self, PolicyError> {
        if patterns.is_empty() {
            return Ok(KeyPatterns::Empty);
        }
        let mut parts = Vec::with_capacity(patterns.len());
        for pattern in patterns {
            parts.push(
                glob_to_regex(pattern).map_err(|problem| PolicyError::InvalidPattern {
                    field,
                    pattern: pattern.clone(),
                    problem,
                })?,
            );
        }
        let alternation = parts.join("|");
        let source = match anchoring {
            Anchoring::Window => format!(r"(?:^|\.)(?:{alternation})(?:\.|$)"),
            Anchoring::Prefix => format!(r"^(?:{alternation})(?:\.|$)"),
        };
        let invalid = |problem: String| PolicyError::InvalidPattern {
            field,
            pattern: patterns.join(", "),
            problem,
        };
        let regex = RegexBuilder::new(&source)
            .case_insensitive(true)
            .build()
            .map_err(|e| invalid(e.to_string()))?;
        let pieces: Option<Vec<&str>> = patterns.iter().map(|p| longest_literal(p)).collect();
        let required = pieces
            .and_then(|pieces| Trigrams::new(&pieces))
            .map(Box::new);
        Ok(KeyPatterns::Globs { regex, required })
    }

    /// Literal keys (no glob syntax), matched as the whole key or its trailing segments,
    /// ignoring ASCII case.
    pub(crate) fn suffixes(field: &'static str, keys: &[String]) -> Result<Self, PolicyError> {
        if let Some(empty) = keys.iter().find(|k| k.is_empty()) {
            return Err(PolicyError::InvalidPattern {
                field,
                pattern: empty.clone(),
                problem: "expected a key, found an empty string".into(),
            });
        }
        Ok(KeyPatterns::Suffixes(
            keys.iter()
                .map(|k| k.to_ascii_lowercase().into_bytes())
                .collect(),
        ))
    }

    /// Whether `key` (a dotted path, UTF-8) matches any pattern.
    pub(crate) fn matches(&self, key: &[u8]) -> bool {
        match self {
            KeyPatterns::Empty => false,
            KeyPatterns::Globs { regex, required } => {
                required.as_ref().is_none_or(|t| t.any_in(key)) && regex.is_match(key)
            }
            KeyPatterns::Suffixes(literals) => {
                let Some(last) = key.last().map(u8::to_ascii_lowercase) else {
                    return false;
                };
                literals.iter().any(|literal| {
                    if literal.last() != Some(&last) {
                        return false;
                    }
                    let Some(start) = key.len().checked_sub(literal.len()) else {
                        return false;
                    };
                    key.get(start..)
                        .is_some_and(|tail| tail.eq_ignore_ascii_case(literal))
                        && (start == 0 || key.get(start - 1) == Some(&b'.'))
                })
            }
        }
    }
}

/// A set of byte trigrams, each folded to the low five bits of its bytes (which is ASCII case
/// folding for letters): 32 Ki bits. Every literal piece contributes its first trigram, so a
/// key holding a piece holds a member; other keys mostly do not.
#[derive(Clone, Debug)]
pub(crate) struct Trigrams {
    bits: [u64; 512],
}

impl Trigrams {
    fn index(a: u8, b: u8, c: u8) -> usize {
        (usize::from(a & 31) << 10) | (usize::from(b & 31) << 5) | usize::from(c & 31)
    }

    /// `None` if a piece is shorter than three bytes (no trigram to require).
    fn new(pieces: &[&str]) -> Option<Self> {
        let mut bits = [0u64; 512];
        for piece in pieces {
            let &[a, b, c, ..] = piece.as_bytes() else {
                return None;
            };
            let i = Self::index(a, b, c);
            if let Some(word) = bits.get_mut(i / 64) {
                *word |= 1 << (i % 64);
            }
        }
        Some(Trigrams { bits })
    }

    fn any_in(&self, key: &[u8]) -> bool {
        key.windows(3).any(|w| {
            let &[a, b, c] = w else { return false };
            let i = Self::index(a, b, c);
            self.bits
                .get(i / 64)
                .is_some_and(|word| word & (1 << (i % 64)) != 0)
        })
    }
}

/// The longest run of literal characters in a glob, or `None` if it has none.
fn longest_literal(glob: &str) -> Option<&str> {
    fn longer<'a>(best: Option<&'a str>, piece: Option<&'a str>) -> Option<&'a str> {
        match (best, piece.filter(|p| !p.is_empty())) {
            (Some(b), Some(p)) if p.len() > b.len() => Some(p),
            (None, p) => p,
            (b, _) => b,
        }
    }
    let mut best: Option<&str> = None;
    let mut piece_start = 0;
    let mut in_class = false;
    for (i, c) in glob.char_indices() {
        let meta = match c {
            '[' if !in_class => {
                in_class = true;
                true
            }
            ']' if in_class => {
                in_class = false;
                piece_start = i + 1;
                continue;
            }
            '*' | '?' => true,
            _ => in_class,
        };
        if meta {
            best = longer(best, glob.get(piece_start..i));
            piece_start = i + c.len_utf8();
        }
    }
    if !in_class {
        best = longer(best, glob.get(piece_start..));
    }
    best
}

/// Translates one glob into a regex fragment, or says what is wrong with it.
fn glob_to_regex(glob: &str) -> Result<String, String> {
    if glob.is_empty() {
        return Err("expected a pattern, found an empty string".into());
    }
    let mut out = String::with_capacity(glob.len() * 2);
    let mut chars = glob.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '*' => {
                if chars.next_if(|(_, c)| *c == '*').is_some() {
                    out.push_str(".*");
                } else {
                    out.push_str("[^.]*");
                }
            }
            '?' => out.push_str("[^.]"),
            '[' => {
                out.push('[');
                if chars.next_if(|(_, c)| *c == '!' || *c == '^').is_some() {
                    out.push('^');
                }
                let mut members: Vec<char> = Vec::new();
                let mut closed = false;
                for (_, c) in chars.by_ref() {
                    if c == ']' && !members.is_empty() {
                        closed = true;
                        break;
                    }
                    members.push(c);
                }
                if !closed {
                    return Err(format!(
                        "the character class opened at byte {at} is not closed with `]`"
                    ));
                }
                let last = members.len() - 1;
                for (i, m) in members.iter().enumerate() {
                    if *m == '-' && i != 0 && i != last {
                        out.push('-');
                    } else if m.is_alphanumeric() || *m == '_' {
                        out.push(*m);
                    } else {
                        out.push('\\');
                        out.push(*m);
                    }
                }
                out.push(']');
            }
            ']' => return Err(format!("unmatched `]` at byte {at}")),
            other => {
                let mut buf = [0u8; 4];
                out.push_str(&regex::escape(other.encode_utf8(&mut buf)));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    impl KeyPatterns {
        fn matches_str(&self, key: &str) -> bool {
            self.matches(key.as_bytes())
        }
    }

    fn set(patterns: &[&str], anchoring: Anchoring) -> KeyPatterns {
        let owned: Vec<String> = patterns.iter().map(|p| (*p).to_owned()).collect();
        KeyPatterns::globs("test", &owned, anchoring).unwrap()
    }

    #[test]
    fn window_matches_whole_segments_anywhere_ignoring_case() {
        let blocked = set(
            &[
                "authorization",
                "*secret*",
                "api[-_]key",
                "request.header.*",
            ],
            Anchoring::Window,
        );
        for key in [
            "authorization",
            "http.request.header.authorization",
            "headers.Authorization",
            "AUTHORIZATION.scheme",
            "secretRef",
            "db.client_secret",
            "api-key",
            "API_KEY",
            "request.header.x",
        ] {
            assert!(blocked.matches(key.as_bytes()), "{key}");
        }
        for key in [
            "authorizations",
            "x-authorization-mode",
            "apikey",
            "api.key",
            "http.method",
            "request.headers",
        ] {
            assert!(!blocked.matches(key.as_bytes()), "{key}");
        }
    }

    #[test]
    fn prefix_matches_subtrees_and_suffix_matches_leaves() {
        let allowed = set(&["http", "service.*"], Anchoring::Prefix);
        assert!(allowed.matches_str("http"));
        assert!(allowed.matches_str("http.method"));
        assert!(allowed.matches_str("service.name.x"));
        assert!(!allowed.matches_str("https"));
        assert!(!allowed.matches_str("attributes.http"));
        assert!(!allowed.matches_str("service"));
        let kept = KeyPatterns::suffixes("t", &["tenant".into(), "a.b".into()]).unwrap();
        assert!(kept.matches_str("x.a.b"));
        assert!(!kept.matches_str("xa.b"));
        assert!(kept.matches_str("resource.Tenant"));
        assert!(!kept.matches_str("tenant.x"));
    }

    #[test]
    fn double_star_spans_segments_and_literals_are_escaped() {
        let p = set(&["a.**.z", "x+y"], Anchoring::Prefix);
        assert!(p.matches_str("a.b.c.z"));
        assert!(p.matches_str("x+y"));
        assert!(!p.matches_str("xxy"));
    }

    #[test]
    fn longest_literal_pieces_feed_the_prefilter() {
        assert_eq!(longest_literal("*api[-_]key*"), Some("api"));
        assert_eq!(
            longest_literal("proxy-authorization"),
            Some("proxy-authorization")
        );
        assert_eq!(longest_literal("a.**.zz"), Some(".zz"));
        assert_eq!(longest_literal("*"), None);
        assert_eq!(longest_literal("[ab]"), None);
        // A pattern without a literal piece turns the prefilter off instead of breaking it.
        let any = set(&["secret", "*"], Anchoring::Window);
        assert!(any.matches_str("http.method"));
    }

    #[test]
    fn bad_patterns_name_the_problem() {
        let err = KeyPatterns::globs("blocked_keys", &["api[-_key".into()], Anchoring::Window)
            .unwrap_err();
        assert_eq!(err.code(), "redaction.policy.invalid_pattern");
        assert!(err.to_string().contains("not closed"), "{err}");
        assert!(KeyPatterns::globs("f", &[String::new()], Anchoring::Window).is_err());
        assert!(KeyPatterns::globs("f", &["a]".into()], Anchoring::Window).is_err());
    }
}

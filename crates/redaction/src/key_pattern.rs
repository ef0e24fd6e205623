//! Key patterns: glob-like, ASCII-case-insensitive patterns over dotted key paths
//! (`http.request.header.authorization`, `headers.Authorization`), compiled to one regex per
//! key list. This module matches keys; it does not decide what happens to their values.
//!
//! Syntax: `*` matches any run of characters except `.`, `**` any run including `.`, `?` one
//! character except `.`, `[abc]` / `[a-z]` / `[!abc]` a character class; everything else is
//! literal. How a pattern is anchored depends on the list (see [`Anchoring`]).

use regex::{Regex, RegexBuilder};

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
    /// The whole key or a trailing run of segments: `tenant` matches `resource.tenant`. Used
    /// for always-kept and text keys.
    Suffix,
}

/// A compiled list of key patterns.
#[derive(Clone, Debug)]
pub(crate) struct KeyPatterns {
    regex: Option<Regex>,
}

impl KeyPatterns {
    /// Compiles glob patterns.
    pub(crate) fn globs(
        field: &'static str,
        patterns: &[String],
        anchoring: Anchoring,
    ) -> Result<Self, PolicyError> {
        let mut parts = Vec::with_capacity(patterns.len());
        for pattern in patterns {
            parts.push(glob_to_regex(pattern).map_err(|problem| PolicyError::InvalidPattern {
                field,
                pattern: pattern.clone(),
                problem,
            })?);
        }
        Self::compile(field, &parts, anchoring)
    }

    /// Compiles literal keys (no glob syntax).
    pub(crate) fn literals(
        field: &'static str,
        keys: &[String],
        anchoring: Anchoring,
    ) -> Result<Self, PolicyError> {
        if let Some(empty) = keys.iter().find(|k| k.is_empty()) {
            return Err(PolicyError::InvalidPattern {
                field,
                pattern: empty.clone(),
                problem: "expected a key, found an empty string".into(),
            });
        }
        let parts: Vec<String> = keys.iter().map(|k| regex::escape(k)).collect();
        Self::compile(field, &parts, anchoring)
    }

    fn compile(
        field: &'static str,
        parts: &[String],
        anchoring: Anchoring,
    ) -> Result<Self, PolicyError> {
        if parts.is_empty() {
            return Ok(KeyPatterns { regex: None });
        }
        let alternation = parts.join("|");
        let source = match anchoring {
            Anchoring::Window => format!(r"(?:^|\.)(?:{alternation})(?:\.|$)"),
            Anchoring::Prefix => format!(r"^(?:{alternation})(?:\.|$)"),
            Anchoring::Suffix => format!(r"(?:^|\.)(?:{alternation})$"),
        };
        let regex = RegexBuilder::new(&source)
            .case_insensitive(true)
            .build()
            .map_err(|e| PolicyError::InvalidPattern {
                field,
                pattern: parts.join(", "),
                problem: e.to_string(),
            })?;
        Ok(KeyPatterns { regex: Some(regex) })
    }

    /// Whether `key` matches any pattern.
    pub(crate) fn matches(&self, key: &str) -> bool {
        self.regex.as_ref().is_some_and(|r| r.is_match(key))
    }
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

    fn set(patterns: &[&str], anchoring: Anchoring) -> KeyPatterns {
        let owned: Vec<String> = patterns.iter().map(|p| (*p).to_owned()).collect();
        KeyPatterns::globs("test", &owned, anchoring).unwrap()
    }

    #[test]
    fn window_matches_whole_segments_anywhere_ignoring_case() {
        let blocked = set(&["authorization", "*secret*", "api[-_]key", "request.header.*"], Anchoring::Window);
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
            assert!(blocked.matches(key), "{key}");
        }
        for key in ["authorizations", "x-authorization-mode", "apikey", "api.key", "http.method", "request.headers"] {
            assert!(!blocked.matches(key), "{key}");
        }
    }

    #[test]
    fn prefix_matches_subtrees_and_suffix_matches_leaves() {
        let allowed = set(&["http", "service.*"], Anchoring::Prefix);
        assert!(allowed.matches("http"));
        assert!(allowed.matches("http.method"));
        assert!(allowed.matches("service.name.x"));
        assert!(!allowed.matches("https"));
        assert!(!allowed.matches("attributes.http"));
        assert!(!allowed.matches("service"));
        let kept = KeyPatterns::literals("t", &["tenant".into()], Anchoring::Suffix).unwrap();
        assert!(kept.matches("resource.Tenant"));
        assert!(!kept.matches("tenant.x"));
    }

    #[test]
    fn double_star_spans_segments_and_literals_are_escaped() {
        let p = set(&["a.**.z", "x+y"], Anchoring::Prefix);
        assert!(p.matches("a.b.c.z"));
        assert!(p.matches("x+y"));
        assert!(!p.matches("xxy"));
    }

    #[test]
    fn bad_patterns_name_the_problem() {
        let err = KeyPatterns::globs("blocked_keys", &["api[-_key".into()], Anchoring::Window).unwrap_err();
        assert_eq!(err.code(), "redaction.policy.invalid_pattern");
        assert!(err.to_string().contains("not closed"), "{err}");
        assert!(KeyPatterns::globs("f", &[String::new()], Anchoring::Window).is_err());
        assert!(KeyPatterns::globs("f", &["a]".into()], Anchoring::Window).is_err());
    }
}

//! A small deterministic YAML emitter: block style, keys in the order they were inserted,
//! strings quoted whenever a plain scalar could be read as something else.
//!
//! Not a parser and not a general serializer: it writes the documents this crate renders
//! (collector configs, rule files, provisioning files) and nothing else.

use std::fmt::Write as _;

/// A YAML value with a fixed key order.
#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number (written with Rust's shortest round-trip form).
    Float(f64),
    /// A string (plain when that is unambiguous, else double-quoted).
    Str(String),
    /// A block sequence.
    Seq(Vec<Yaml>),
    /// A block mapping, in insertion order.
    Map(Vec<(String, Yaml)>),
}

impl Yaml {
    /// An empty mapping.
    pub fn map() -> Self {
        Yaml::Map(Vec::new())
    }

    /// A string value.
    pub fn str(text: impl Into<String>) -> Self {
        Yaml::Str(text.into())
    }

    /// A sequence of strings.
    pub fn strs<I, S>(items: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Yaml::Seq(items.into_iter().map(|s| Yaml::Str(s.into())).collect())
    }

    /// Adds `key: value` to a mapping (builder style); on a non-mapping it does nothing.
    #[must_use]
    pub fn with(mut self, key: impl Into<String>, value: impl Into<Yaml>) -> Self {
        if let Yaml::Map(entries) = &mut self {
            entries.push((key.into(), value.into()));
        }
        self
    }

    /// The value under `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Yaml> {
        match self {
            Yaml::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value at a path of mapping keys.
    pub fn at(&self, path: &[&str]) -> Option<&Yaml> {
        path.iter().try_fold(self, |node, key| node.get(key))
    }

    /// The string, when this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Yaml::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The same document as JSON (for comparisons with other parsers).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Yaml::Bool(b) => Value::Bool(*b),
            Yaml::Int(i) => Value::from(*i),
            Yaml::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Yaml::Str(s) => Value::String(s.clone()),
            Yaml::Seq(items) => Value::Array(items.iter().map(Yaml::to_json).collect()),
            Yaml::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// The document as YAML text, ending in a newline.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        match self {
            Yaml::Map(entries) if !entries.is_empty() => write_map(&mut out, entries, 0),
            Yaml::Seq(items) if !items.is_empty() => write_seq(&mut out, items, 0),
            other => {
                out.push_str(&inline(other));
                out.push('\n');
            }
        }
        out
    }
}

impl From<&str> for Yaml {
    fn from(value: &str) -> Self {
        Yaml::Str(value.to_owned())
    }
}

impl From<String> for Yaml {
    fn from(value: String) -> Self {
        Yaml::Str(value)
    }
}

impl From<bool> for Yaml {
    fn from(value: bool) -> Self {
        Yaml::Bool(value)
    }
}

impl From<i64> for Yaml {
    fn from(value: i64) -> Self {
        Yaml::Int(value)
    }
}

impl From<f64> for Yaml {
    fn from(value: f64) -> Self {
        Yaml::Float(value)
    }
}

impl From<Vec<Yaml>> for Yaml {
    fn from(value: Vec<Yaml>) -> Self {
        Yaml::Seq(value)
    }
}

/// Whether a scalar or empty container (written on the key's line).
fn is_inline(value: &Yaml) -> bool {
    match value {
        Yaml::Seq(items) => items.is_empty(),
        Yaml::Map(entries) => entries.is_empty(),
        _ => true,
    }
}

fn inline(value: &Yaml) -> String {
    match value {
        Yaml::Bool(b) => b.to_string(),
        Yaml::Int(i) => i.to_string(),
        Yaml::Float(f) if f.is_finite() => {
            let text = format!("{f:?}");
            text
        }
        Yaml::Float(f) if f.is_nan() => ".nan".to_owned(),
        Yaml::Float(f) if *f > 0.0 => ".inf".to_owned(),
        Yaml::Float(_) => "-.inf".to_owned(),
        Yaml::Str(s) => quote(s),
        Yaml::Seq(_) => "[]".to_owned(),
        Yaml::Map(_) => "{}".to_owned(),
    }
}

/// Words YAML 1.1 or 1.2 resolvers read as booleans or null.
const RESERVED: &[&str] = &[
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~",
];

/// `text` as a YAML scalar: plain when it is made only of safe characters, starts with a
/// letter, `_` or `/`, and is no reserved word; otherwise double-quoted with JSON escapes
/// (which are valid YAML double-quoted escapes).
pub fn quote(text: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-');
    let plain = text
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '/')
        && text.chars().all(safe)
        && !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(text));
    if plain {
        text.to_owned()
    } else {
        let mut out = String::with_capacity(text.len() + 2);
        out.push('"');
        for c in text.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{85}' || c == '\u{feff}' => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c if ('\u{2028}'..='\u{2029}').contains(&c) => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn write_map(out: &mut String, entries: &[(String, Yaml)], indent: usize) {
    for (i, (key, value)) in entries.iter().enumerate() {
        if i > 0 {
            pad(out, indent);
        }
        write_entry(out, key, value, indent);
    }
}

/// Writes `key: value` starting at the current column (the caller wrote the indentation).
fn write_entry(out: &mut String, key: &str, value: &Yaml, indent: usize) {
    out.push_str(&quote(key));
    out.push(':');
    if is_inline(value) {
        out.push(' ');
        out.push_str(&inline(value));
        out.push('\n');
        return;
    }
    out.push('\n');
    match value {
        Yaml::Map(entries) => {
            pad(out, indent + 2);
            write_map(out, entries, indent + 2);
        }
        Yaml::Seq(items) => write_seq(out, items, indent + 2),
        _ => {}
    }
}

fn write_seq(out: &mut String, items: &[Yaml], indent: usize) {
    for item in items {
        pad(out, indent);
        out.push_str("- ");
        match item {
            Yaml::Map(entries) if !entries.is_empty() => write_map(out, entries, indent + 2),
            Yaml::Seq(inner) if !inner.is_empty() => {
                out.push('\n');
                write_seq(out, inner, indent + 2);
            }
            scalar => {
                out.push_str(&inline(scalar));
                out.push('\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_documents_have_fixed_layout() {
        let doc = Yaml::map()
            .with(
                "groups",
                vec![Yaml::map().with("name", "a b").with(
                    "rules",
                    vec![Yaml::map().with("for", "5m").with("n", 3_i64)],
                )],
            )
            .with("empty", Yaml::Seq(vec![]))
            .with("flags", Yaml::strs(["true", "x"]));
        assert_eq!(
            doc.to_text(),
            "groups:\n  - name: \"a b\"\n    rules:\n      - for: \"5m\"\n        \"n\": 3\nempty: []\nflags:\n  - \"true\"\n  - x\n"
        );
    }

    #[test]
    fn ambiguous_scalars_are_quoted() {
        for text in [
            "",
            "yes",
            "No",
            "null",
            "~",
            "4317",
            "0.0.0.0:4317",
            "a: b",
            "#x",
            "-x",
            "${env:X}",
            "é",
        ] {
            assert!(quote(text).starts_with('"'), "{text} must be quoted");
        }
        for text in ["otlp", "memory_limiter", "/var/lib/x", "traceID"] {
            assert_eq!(quote(text), text);
        }
    }
}

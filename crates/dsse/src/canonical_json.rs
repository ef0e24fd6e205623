//! Canonical JSON as securesystemslib (and TUF, in-toto) computes it: object keys sorted by code
//! point, no whitespace, only `"` and `\` escaped in strings, integers only.
//!
//! Used for securesystemslib's default key ids (SHA-256 of the canonical JSON of a public key).
//! It is not a general JSON writer: floats have no canonical form and are refused.

use crate::error::DsseError;
use serde_json::Value;

/// The canonical JSON bytes of `value`.
///
/// ```
/// use stellaops_dsse::canonical_json::to_canonical_json;
/// let value = serde_json::json!({"b": [1, "x\ny"], "a": {"d": null, "c": true}});
/// assert_eq!(
///     to_canonical_json(&value)?,
///     b"{\"a\":{\"c\":true,\"d\":null},\"b\":[1,\"x\ny\"]}"
/// );
/// # Ok::<(), stellaops_dsse::DsseError>(())
/// ```
///
/// # Errors
/// [`DsseError::NonCanonicalJson`] when `value` contains a number that is not an integer
/// (naming its JSON path).
pub fn to_canonical_json(value: &Value) -> Result<Vec<u8>, DsseError> {
    let mut out = Vec::new();
    write(&mut out, value, &mut String::from("$"))?;
    Ok(out)
}

fn write(out: &mut Vec<u8>, value: &Value, path: &mut String) -> Result<(), DsseError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                out.extend_from_slice(n.to_string().as_bytes());
            } else {
                return Err(DsseError::NonCanonicalJson {
                    detail: format!("expected an integer at {path}, found the number {n}"),
                });
            }
        }
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                write(out, item, path)?;
                path.truncate(len);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(out, key);
                out.push(b':');
                let len = path.len();
                path.push('.');
                path.push_str(key);
                write(out, item, path)?;
                path.truncate(len);
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for b in s.bytes() {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn sorts_keys_and_escapes_only_quote_and_backslash() {
        let v = json!({"z": "a\"b\\c\td", "é": 1, "a": [-3, 18446744073709551615u64]});
        assert_eq!(
            String::from_utf8(to_canonical_json(&v).unwrap()).unwrap(),
            "{\"a\":[-3,18446744073709551615],\"z\":\"a\\\"b\\\\c\td\",\"é\":1}"
        );
    }

    #[test]
    fn refuses_floats_with_their_path() {
        let err = to_canonical_json(&json!({"a": [1, {"b": 1.5}]})).unwrap_err();
        assert_eq!(err.code(), "federation.dsse.non_canonical_json");
        assert!(err.to_string().contains("$.a[1].b"), "{err}");
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            ".{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(".{0,4}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn output_without_control_characters_is_json_that_parses_back(v in arb_value()) {
            let bytes = to_canonical_json(&v).unwrap();
            // Canonical JSON leaves control characters raw (as securesystemslib does), which
            // strict JSON parsers refuse; everything else must parse back to the same value.
            if !bytes.iter().any(|b| *b < 0x20) {
                let back: Value = serde_json::from_slice(&bytes).unwrap();
                prop_assert_eq!(back, v);
            }
        }

        #[test]
        fn is_deterministic_and_compact(v in arb_value()) {
            let a = to_canonical_json(&v).unwrap();
            let b = to_canonical_json(&v.clone()).unwrap();
            prop_assert_eq!(&a, &b);
            let compact = serde_json::to_vec(&v).unwrap();
            // serde_json's Map is sorted too, and escapes more; lengths only differ by escapes.
            prop_assert!(a.len() <= compact.len());
        }
    }
}

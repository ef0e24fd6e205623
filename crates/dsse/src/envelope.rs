//! The DSSE JSON envelope: `payloadType`, base64 `payload`, `signatures[]` of `keyid` + base64
//! `sig`.
//!
//! Output uses standard base64 with padding, as securesystemslib and sigstore write it. Input
//! accepts the standard and the URL-safe alphabet, padded or not (the spec says verifiers MUST),
//! ignores unknown fields, and rejects two signatures with the same non-empty key id (the
//! ambiguity securesystemslib also refuses). An [`Envelope`] is unverified data; only
//! [`Verifier`](crate::Verifier) turns one into a [`VerifiedPayload`](crate::VerifiedPayload).

use crate::error::DsseError;
use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::ser::SerializeStruct as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::collections::HashSet;

/// The key id of the marker signature that [`sign_envelope_with_fallback`] writes when no signer
/// is available and the unsigned fallback is allowed. Its `sig` is empty.
///
/// [`sign_envelope_with_fallback`]: crate::sign_envelope_with_fallback
pub const UNSIGNED_FALLBACK_KEYID: &str = "offline-unsigned-fallback";

const DECODE_CONFIG: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_encode_padding(true)
    .with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, DECODE_CONFIG);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, DECODE_CONFIG);

/// A DSSE envelope: a payload, its type, and signatures over their PAE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// How to interpret the payload (a media type or URI), authenticated by every signature.
    pub payload_type: String,
    /// The serialized body, as raw bytes (base64 only in JSON).
    pub payload: Vec<u8>,
    /// The signatures, in order.
    pub signatures: Vec<Signature>,
}

/// One signature of an [`Envelope`].
#[derive(Clone, PartialEq, Eq)]
pub struct Signature {
    /// An unauthenticated hint naming the key that signed; empty when absent. Never used for a
    /// security decision.
    pub keyid: String,
    /// The signature bytes (raw; base64 only in JSON).
    pub sig: Vec<u8>,
}

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signature")
            .field("keyid", &self.keyid)
            .field("sig", &STANDARD.encode(&self.sig))
            .finish()
    }
}

impl Envelope {
    /// Parses DSSE JSON.
    ///
    /// # Errors
    /// [`DsseError::MalformedEnvelope`] when the bytes are not JSON or a required field is
    /// missing or mistyped (the message gives the line and column),
    /// [`DsseError::BadBase64`] when `payload` or a `sig` does not decode (naming the field), and
    /// [`DsseError::DuplicateKeyId`] when two signatures carry the same non-empty `keyid`.
    pub fn from_json(json: &[u8]) -> Result<Self, DsseError> {
        let raw: RawEnvelope<'_> =
            serde_json::from_slice(json).map_err(|e| DsseError::MalformedEnvelope {
                detail: format!(
                    "expected a JSON object with `payloadType`, `payload` and `signatures`: {e}"
                ),
            })?;
        Self::try_from(raw)
    }

    /// The envelope as compact JSON: `{"payloadType":..,"payload":..,"signatures":[{"keyid":..,
    /// "sig":..}]}` with standard, padded base64. `keyid` is always written (empty when absent)
    /// because securesystemslib requires it.
    pub fn to_json(&self) -> String {
        let b64_len = |n: usize| n.div_ceil(3) * 4;
        let mut out = String::with_capacity(
            64 + self.payload_type.len()
                + b64_len(self.payload.len())
                + self
                    .signatures
                    .iter()
                    .map(|s| 24 + s.keyid.len() + b64_len(s.sig.len()))
                    .sum::<usize>(),
        );
        out.push_str("{\"payloadType\":");
        write_json_string(&mut out, &self.payload_type);
        out.push_str(",\"payload\":\"");
        STANDARD.encode_string(&self.payload, &mut out);
        out.push_str("\",\"signatures\":[");
        for (i, signature) in self.signatures.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"keyid\":");
            write_json_string(&mut out, &signature.keyid);
            out.push_str(",\"sig\":\"");
            STANDARD.encode_string(&signature.sig, &mut out);
            out.push_str("\"}");
        }
        out.push_str("]}");
        out
    }

    /// The Pre-Authentication Encoding of this envelope's payload type and payload: the bytes
    /// its signatures cover.
    pub fn pae(&self) -> Vec<u8> {
        crate::pae(&self.payload_type, &self.payload)
    }

    /// Whether this envelope is an unsigned fallback: it has signatures, and every one is the
    /// [`UNSIGNED_FALLBACK_KEYID`] marker with an empty `sig`.
    pub fn is_unsigned_fallback(&self) -> bool {
        !self.signatures.is_empty()
            && self
                .signatures
                .iter()
                .all(|s| s.keyid == UNSIGNED_FALLBACK_KEYID && s.sig.is_empty())
    }

    /// An unsigned-fallback envelope: the payload with the single
    /// [`UNSIGNED_FALLBACK_KEYID`] marker signature (empty `sig`).
    pub(crate) fn unsigned_fallback(payload_type: &str, payload: Vec<u8>) -> Self {
        Self {
            payload_type: payload_type.to_owned(),
            payload,
            signatures: vec![Signature {
                keyid: UNSIGNED_FALLBACK_KEYID.to_owned(),
                sig: Vec::new(),
            }],
        }
    }
}

/// Decodes a base64 field, accepting the standard or the URL-safe alphabet (not a mix), with or
/// without padding. `field` names it in errors.
pub(crate) fn decode_base64(field: &str, text: &str) -> Result<Vec<u8>, DsseError> {
    // One pass in the common case: each alphabet rejects the other's two extra characters, so
    // trying standard then URL-safe accepts exactly the single-alphabet strings.
    let standard_error = match STANDARD.decode(text) {
        Ok(bytes) => return Ok(bytes),
        Err(e) => e,
    };
    let url_safe_error = match URL_SAFE.decode(text) {
        Ok(bytes) => return Ok(bytes),
        Err(e) => e,
    };
    let url_safe = text.bytes().any(|b| b == b'-' || b == b'_');
    let standard = text.bytes().any(|b| b == b'+' || b == b'/');
    let detail = match (url_safe, standard) {
        (true, true) => "expected one base64 alphabet, found both standard (`+`, `/`) and \
                         URL-safe (`-`, `_`) characters"
            .to_owned(),
        (true, false) => format!("expected URL-safe base64: {url_safe_error}"),
        _ => format!("expected standard or URL-safe base64: {standard_error}"),
    };
    Err(DsseError::BadBase64 {
        field: field.to_owned(),
        detail,
    })
}

/// Standard base64 with padding, the form DSSE envelopes are written in.
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Appends `s` as a JSON string literal (RFC 8259): quotes, backslashes and control characters
/// escaped, everything else (including non-ASCII) as is.
fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The JSON shape; base64 strings are borrowed from the input when it allows (no copy of a
/// large payload's text before decoding).
#[derive(Deserialize)]
struct RawEnvelope<'a> {
    #[serde(rename = "payloadType")]
    payload_type: String,
    #[serde(borrow)]
    payload: Cow<'a, str>,
    #[serde(borrow)]
    signatures: Vec<RawSignature<'a>>,
}

#[derive(Deserialize)]
struct RawSignature<'a> {
    #[serde(default)]
    keyid: Option<String>,
    #[serde(borrow)]
    sig: Cow<'a, str>,
}

impl TryFrom<RawEnvelope<'_>> for Envelope {
    type Error = DsseError;

    fn try_from(raw: RawEnvelope<'_>) -> Result<Self, DsseError> {
        let payload = decode_base64("payload", &raw.payload)?;
        // Only envelopes with several signatures need the duplicate check (and its set).
        let several = raw.signatures.len() > 1;
        let mut seen = HashSet::new();
        let mut signatures = Vec::with_capacity(raw.signatures.len());
        for (i, s) in raw.signatures.into_iter().enumerate() {
            let keyid = s.keyid.unwrap_or_default();
            if several && !keyid.is_empty() && !seen.insert(keyid.clone()) {
                return Err(DsseError::DuplicateKeyId {
                    key_id: keyid,
                    location: "envelope signatures",
                });
            }
            let sig = decode_base64(&format!("signatures[{i}].sig"), &s.sig)?;
            signatures.push(Signature { keyid, sig });
        }
        Ok(Self {
            payload_type: raw.payload_type,
            payload,
            signatures,
        })
    }
}

impl Serialize for Envelope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Envelope", 3)?;
        s.serialize_field("payloadType", &self.payload_type)?;
        s.serialize_field("payload", &encode_base64(&self.payload))?;
        s.serialize_field("signatures", &self.signatures)?;
        s.end()
    }
}

impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Signature", 2)?;
        s.serialize_field("keyid", &self.keyid)?;
        s.serialize_field("sig", &encode_base64(&self.sig))?;
        s.end()
    }
}

impl<'de> Deserialize<'de> for Envelope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawEnvelope::deserialize(deserializer)?;
        Self::try_from(raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> Envelope {
        Envelope {
            payload_type: "application/vnd.in-toto+json".into(),
            payload: b"hello world".to_vec(),
            signatures: vec![
                Signature {
                    keyid: "a".into(),
                    sig: vec![0xfb, 0xff, 0xbf],
                },
                Signature {
                    keyid: String::new(),
                    sig: vec![1, 2],
                },
            ],
        }
    }

    #[test]
    fn writes_standard_padded_base64_and_always_a_keyid() {
        assert_eq!(
            sample().to_json(),
            r#"{"payloadType":"application/vnd.in-toto+json","payload":"aGVsbG8gd29ybGQ=","signatures":[{"keyid":"a","sig":"+/+/"},{"keyid":"","sig":"AQI="}]}"#
        );
    }

    #[test]
    fn to_json_matches_serde_and_round_trips() {
        let e = sample();
        assert_eq!(serde_json::to_string(&e).unwrap(), e.to_json());
        assert_eq!(Envelope::from_json(e.to_json().as_bytes()).unwrap(), e);
        let via_serde: Envelope = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(via_serde, e);
    }

    #[test]
    fn accepts_url_safe_and_unpadded_base64() {
        for (payload, sig) in [
            ("-_-_Pj8=", "AQI="),
            ("-_-_Pj8", "AQI"),
            ("+/+/Pj8", "AQI="),
        ] {
            let json = format!(
                r#"{{"payload":"{payload}","payloadType":"t","signatures":[{{"keyid":"k","sig":"{sig}"}}]}}"#
            );
            let e = Envelope::from_json(json.as_bytes()).unwrap();
            assert_eq!(e.payload, [0xfb, 0xff, 0xbf, 0x3e, 0x3f]);
            assert_eq!(e.signatures[0].sig, [1, 2]);
        }
    }

    #[test]
    fn rejects_mixed_alphabets_bad_characters_and_bad_padding() {
        for (payload, needle) in [
            ("+_", "both standard"),
            ("a b=", "Invalid"),
            ("aGk==", "Invalid"),
            ("aGl=", "Invalid"),
        ] {
            let json = format!(r#"{{"payload":"{payload}","payloadType":"t","signatures":[]}}"#);
            let err = Envelope::from_json(json.as_bytes()).unwrap_err();
            assert_eq!(err.code(), "federation.dsse.bad_base64", "{payload}: {err}");
            assert!(err.to_string().contains("`payload`"), "{err}");
            assert!(err.to_string().contains(needle), "{payload}: {err}");
        }
        let json = r#"{"payload":"","payloadType":"t","signatures":[{"keyid":"k","sig":"AQI="},{"sig":"%%"}]}"#;
        let err = Envelope::from_json(json.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("`signatures[1].sig`"), "{err}");
    }

    #[test]
    fn json_escapes_inside_base64_strings_are_decoded_first() {
        let json = r#"{"payload":"+\/+\/","payloadType":"t\u00e9","signatures":[{"keyid":"k","sig":"\u0041QI="}]}"#;
        let e = Envelope::from_json(json.as_bytes()).unwrap();
        assert_eq!(e.payload, [0xfb, 0xff, 0xbf]);
        assert_eq!(e.payload_type, "té");
        assert_eq!(e.signatures[0].sig, [1, 2]);
        // Through a reader (nothing to borrow from) too.
        let e2: Envelope = serde_json::from_reader(json.as_bytes()).unwrap();
        assert_eq!(e2, e);
    }

    #[test]
    fn ignores_unknown_fields_and_treats_missing_or_null_keyid_as_empty() {
        let json = r#"{"payload":"","payloadType":"t","extra":{"nested":[1,2]},"signatures":[{"sig":"AQI=","cert":"x"},{"keyid":null,"sig":""}]}"#;
        let e = Envelope::from_json(json.as_bytes()).unwrap();
        assert_eq!(e.signatures.len(), 2);
        assert!(e.signatures.iter().all(|s| s.keyid.is_empty()));
        assert!(e.payload.is_empty());
    }

    #[test]
    fn missing_or_mistyped_fields_are_malformed_with_a_position() {
        for json in [
            "",
            "[]",
            "{}",
            r#"{"payload":"","signatures":[]}"#,
            r#"{"payload":"","payloadType":"t"}"#,
            r#"{"payload":1,"payloadType":"t","signatures":[]}"#,
            r#"{"payload":"","payloadType":"t","signatures":[{"keyid":"k"}]}"#,
            r#"{"payload":"","payloadType":"t","signatures":[]"#,
        ] {
            let err = Envelope::from_json(json.as_bytes()).unwrap_err();
            assert_eq!(
                err.code(),
                "federation.dsse.malformed_envelope",
                "{json}: {err}"
            );
            assert!(err.to_string().contains("line"), "{err}");
        }
    }

    #[test]
    fn duplicate_keyids_are_rejected_but_absent_keyids_may_repeat() {
        let json = r#"{"payload":"","payloadType":"t","signatures":[{"keyid":"A","sig":""},{"keyid":"A","sig":"AQI="}]}"#;
        let err = Envelope::from_json(json.as_bytes()).unwrap_err();
        assert_eq!(err.code(), "federation.dsse.duplicate_keyid");
        assert!(err.to_string().contains("`A`"), "{err}");
        let json = r#"{"payload":"","payloadType":"t","signatures":[{"sig":"AQI="},{"keyid":"","sig":"AQI="}]}"#;
        assert_eq!(
            Envelope::from_json(json.as_bytes())
                .unwrap()
                .signatures
                .len(),
            2
        );
    }

    #[test]
    fn json_strings_escape_controls_and_keep_unicode() {
        let e = Envelope {
            payload_type: "a\"b\\c\n\u{1}é\u{7f}".into(),
            payload: vec![],
            signatures: vec![],
        };
        let json = e.to_json();
        assert!(json.contains(r#""a\"b\\c\n\u0001é"#), "{json}");
        assert_eq!(Envelope::from_json(json.as_bytes()).unwrap(), e);
    }

    #[test]
    fn unsigned_fallback_marker() {
        let e = Envelope::unsigned_fallback("t", b"x".to_vec());
        assert!(e.is_unsigned_fallback());
        assert_eq!(
            e.to_json(),
            r#"{"payloadType":"t","payload":"eA==","signatures":[{"keyid":"offline-unsigned-fallback","sig":""}]}"#
        );
        assert!(!sample().is_unsigned_fallback());
        let mut none = sample();
        none.signatures.clear();
        assert!(!none.is_unsigned_fallback());
        let mut marker_with_sig = Envelope::unsigned_fallback("t", vec![]);
        marker_with_sig.signatures[0].sig = vec![1];
        assert!(!marker_with_sig.is_unsigned_fallback());
    }

    #[test]
    fn debug_shows_signatures_as_base64() {
        let text = format!("{:?}", sample());
        assert!(text.contains("sig: \"+/+/\""), "{text}");
    }

    fn arb_envelope() -> impl Strategy<Value = Envelope> {
        (
            ".{0,20}",
            proptest::collection::vec(any::<u8>(), 0..64),
            proptest::collection::vec(
                (
                    "[a-z0-9]{1,8}",
                    proptest::collection::vec(any::<u8>(), 0..72),
                ),
                0..4,
            ),
        )
            .prop_map(|(payload_type, payload, sigs)| {
                let mut seen = HashSet::new();
                let signatures = sigs
                    .into_iter()
                    .filter(|(k, _)| seen.insert(k.clone()))
                    .map(|(keyid, sig)| Signature { keyid, sig })
                    .collect();
                Envelope {
                    payload_type,
                    payload,
                    signatures,
                }
            })
    }

    proptest! {
        #[test]
        fn json_round_trips(e in arb_envelope()) {
            let json = e.to_json();
            prop_assert_eq!(&serde_json::to_string(&e).unwrap(), &json);
            prop_assert_eq!(Envelope::from_json(json.as_bytes()).unwrap(), e);
        }

        #[test]
        fn url_safe_unpadded_input_decodes_to_the_same_bytes(e in arb_envelope()) {
            let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            let value = serde_json::json!({
                "payloadType": e.payload_type,
                "payload": url.encode(&e.payload),
                "signatures": e.signatures.iter().map(|s| serde_json::json!({
                    "keyid": s.keyid, "sig": url.encode(&s.sig)
                })).collect::<Vec<_>>(),
            });
            let parsed = Envelope::from_json(value.to_string().as_bytes()).unwrap();
            prop_assert_eq!(parsed, e);
        }

        #[test]
        fn parsing_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = Envelope::from_json(&bytes);
        }

        #[test]
        fn parsing_mutated_envelopes_never_panics(
            e in arb_envelope(), at in any::<prop::sample::Index>(), byte in any::<u8>()
        ) {
            let mut json = e.to_json().into_bytes();
            let i = at.index(json.len());
            json[i] = byte;
            let _ = Envelope::from_json(&json);
        }

        #[test]
        fn every_base64_form_decodes_and_mixed_never_does(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            use base64::engine::general_purpose::{STANDARD as S, STANDARD_NO_PAD as SN, URL_SAFE as U, URL_SAFE_NO_PAD as UN};
            for text in [S.encode(&bytes), SN.encode(&bytes), U.encode(&bytes), UN.encode(&bytes)] {
                prop_assert_eq!(decode_base64("payload", &text).unwrap(), bytes.clone());
            }
            let standard = S.encode(&bytes);
            if standard.contains('+') && standard.contains('/') {
                let mixed = standard.replacen('+', "-", 1);
                prop_assert!(decode_base64("payload", &mixed).is_err());
            }
        }

        #[test]
        fn decode_base64_never_panics(text in "[A-Za-z0-9+/=_\\- ]{0,40}") {
            let _ = decode_base64("payload", &text);
        }
    }
}

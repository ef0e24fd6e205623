//! DSSE's Pre-Authentication Encoding: the exact bytes every signature covers.
//!
//! `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, where LEN is the
//! ASCII decimal byte length with no leading zeros (DSSE protocol v1.0). Signatures are always
//! over the PAE, never over the raw payload, so the payload type is authenticated too.

const PREFIX: &[u8] = b"DSSEv1 ";

/// The Pre-Authentication Encoding of `payload_type` (as UTF-8) and `payload`.
///
/// ```
/// use stellaops_dsse::pae;
/// assert_eq!(
///     pae("http://example.com/HelloWorld", b"hello world"),
///     b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
/// );
/// // LEN counts bytes, not characters: "é" is two bytes in UTF-8.
/// assert_eq!(pae("é", b""), "DSSEv1 2 é 0 ".as_bytes());
/// ```
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = pae_header(payload_type, payload.len(), payload.len());
    out.extend_from_slice(payload);
    out
}

/// Everything of the PAE before the body: `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP`.
/// `PAE = header || body`, so signers that take a message in parts need no copy of the body.
/// `spare` is extra capacity to reserve.
pub(crate) fn pae_header(payload_type: &str, body_len: usize, spare: usize) -> Vec<u8> {
    // usize has at most 20 decimal digits.
    let mut out = Vec::with_capacity(PREFIX.len() + payload_type.len() + 2 * 20 + 3 + spare);
    out.extend_from_slice(PREFIX);
    push_decimal(&mut out, payload_type.len());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    push_decimal(&mut out, body_len);
    out.push(b' ');
    out
}

/// Appends `n` in ASCII decimal, without leading zeros.
fn push_decimal(out: &mut Vec<u8>, n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut rest = n;
    for slot in digits.iter_mut().rev() {
        // `rest % 10` is below 10, so the cast cannot truncate.
        *slot = b'0' + (rest % 10) as u8;
        i -= 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(i..).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn header_plus_body_is_the_pae() {
        let header = pae_header("t", 4, 0);
        assert_eq!(header, b"DSSEv1 1 t 4 ");
        assert_eq!([header.as_slice(), b"body"].concat(), pae("t", b"body"));
    }

    #[test]
    fn spec_example() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn empty_type_and_body_keep_every_separator() {
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ".to_vec());
        assert_eq!(
            pae("application/vnd.in-toto+json", b""),
            b"DSSEv1 28 application/vnd.in-toto+json 0 ".to_vec()
        );
    }

    #[test]
    fn non_ascii_type_length_is_in_bytes() {
        // 28 characters, 29 bytes.
        let t = "application/vnd.exämple+json";
        assert_eq!(t.chars().count(), 28);
        assert!(pae(t, b"x").starts_with("DSSEv1 29 application/vnd.exämple+json 1 x".as_bytes()));
    }

    #[test]
    fn decimal_lengths_at_the_edges() {
        for (n, text) in [(0usize, "0"), (9, "9"), (10, "10"), (1_048_576, "1048576")] {
            let mut out = Vec::new();
            push_decimal(&mut out, n);
            assert_eq!(out, text.as_bytes());
        }
        let mut out = Vec::new();
        push_decimal(&mut out, usize::MAX);
        assert_eq!(out, usize::MAX.to_string().as_bytes());
    }

    #[test]
    fn lengths_have_no_leading_zeros() {
        let body = vec![b'a'; 100];
        let encoded = pae("t", &body);
        assert!(encoded.starts_with(b"DSSEv1 1 t 100 a"));
        assert_eq!(encoded.len(), "DSSEv1 1 t 100 ".len() + 100);
    }

    proptest! {
        #[test]
        fn decodes_back_to_its_parts(t in ".{0,40}", body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let encoded = pae(&t, &body);
            let text = encoded.strip_prefix(b"DSSEv1 ").unwrap();
            let sp = text.iter().position(|b| *b == b' ').unwrap();
            let type_len: usize = std::str::from_utf8(&text[..sp]).unwrap().parse().unwrap();
            prop_assert_eq!(type_len, t.len());
            let rest = &text[sp + 1..];
            prop_assert_eq!(&rest[..type_len], t.as_bytes());
            prop_assert_eq!(rest[type_len], b' ');
            let rest = &rest[type_len + 1..];
            let sp = rest.iter().position(|b| *b == b' ').unwrap();
            let body_len: usize = std::str::from_utf8(&rest[..sp]).unwrap().parse().unwrap();
            prop_assert_eq!(body_len, body.len());
            prop_assert_eq!(&rest[sp + 1..], &body[..]);
        }

        #[test]
        fn distinct_inputs_give_distinct_encodings(
            a in ".{0,8}", b in ".{0,8}",
            x in proptest::collection::vec(any::<u8>(), 0..8),
            y in proptest::collection::vec(any::<u8>(), 0..8),
        ) {
            prop_assume!(a != b || x != y);
            prop_assert_ne!(pae(&a, &x), pae(&b, &y));
        }
    }
}

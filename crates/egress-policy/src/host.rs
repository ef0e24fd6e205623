//! Host parsing the way HTTP clients do (the WHATWG URL host parser), without DNS.
//!
//! This module turns the host part of an endpoint into a [`Host`]. It is not a general URL
//! library: it computes only what classification needs, and calls every form that clients
//! read differently [`Host::Ambiguous`] so that classification can treat it as remote.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::error::EndpointError;

/// The host an endpoint names, as a client would read it. Never resolved through DNS.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Host {
    /// A DNS name, ASCII, lower-cased (`localhost`, `collector.example`).
    Domain(String),
    /// An IPv4 address written in the canonical dotted-decimal form (`127.0.0.1`).
    Ipv4(Ipv4Addr),
    /// An IPv6 address written in brackets (`[::1]`, `[::ffff:127.0.0.1]`).
    Ipv6(Ipv6Addr),
    /// A host that HTTP clients do not all read the same way; always treated as remote.
    Ambiguous {
        /// The host as it was written.
        written: String,
        /// Why clients disagree about it.
        why: Ambiguity,
    },
}

/// Why a [`Host`] is [`Host::Ambiguous`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Ambiguity {
    /// A numeric IPv4 form other than four decimal parts (`2130706433`, `0x7f.1`, `0177.0.0.1`,
    /// `127.1`, `127.0.0.1.`). WHATWG URL parsers read it as `whatwg`; `inet_aton` reads some of
    /// these forms differently and `getaddrinfo` sends others to DNS.
    NumericIpv4 {
        /// The address a WHATWG URL parser (browsers, the `url` crate, reqwest) reads.
        whatwg: Ipv4Addr,
    },
    /// A percent-encoded host: WHATWG parsers decode it, `http::Uri` (tonic, hyper) does not.
    PercentEncoded {
        /// The host after percent-decoding.
        decoded: String,
    },
    /// A host with non-ASCII characters: IDNA mapping (full-width letters, ignored code points)
    /// can turn it into another name, and this crate does not implement IDNA.
    NonAscii,
}

impl Host {
    /// Whether this host is a loopback destination that every client reads the same way:
    /// `localhost`, `127.0.0.0/8`, `::1`, or an IPv4-mapped loopback address.
    pub fn is_loopback(&self) -> bool {
        match self {
            Host::Domain(name) => name == "localhost",
            Host::Ipv4(ip) => ip.is_loopback(),
            Host::Ipv6(ip) => {
                ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
            }
            Host::Ambiguous { .. } => false,
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Domain(name) => f.write_str(name),
            Host::Ipv4(ip) => write!(f, "{ip}"),
            Host::Ipv6(ip) => write!(f, "[{ip}]"),
            Host::Ambiguous { written, .. } => f.write_str(written),
        }
    }
}

/// Characters WHATWG forbids in any host (the "forbidden host code points").
fn is_forbidden_host_char(c: char) -> bool {
    matches!(
        c,
        '\0' | '\t'
            | '\n'
            | '\r'
            | ' '
            | '#'
            | '/'
            | ':'
            | '<'
            | '>'
            | '?'
            | '@'
            | '['
            | '\\'
            | ']'
            | '^'
            | '|'
    )
}

/// Characters WHATWG forbids in a domain: the host ones plus C0 controls, `%` and DEL.
fn is_forbidden_domain_char(c: char) -> bool {
    is_forbidden_host_char(c) || c.is_ascii_control() || c == '%'
}

/// Parses the host part of a special (http-like) URL authority, without brackets stripped.
pub(crate) fn parse_host(written: &str) -> Result<Host, EndpointError> {
    if written.is_empty() {
        return Err(EndpointError::MissingHost);
    }
    if let Some(inner) = written.strip_prefix('[') {
        let Some(inner) = inner.strip_suffix(']') else {
            return Err(EndpointError::BadIpv6 {
                host: written.to_owned(),
            });
        };
        return inner
            .parse::<Ipv6Addr>()
            .map(Host::Ipv6)
            .map_err(|_| EndpointError::BadIpv6 {
                host: written.to_owned(),
            });
    }
    let decoded_bytes = percent_decode(written);
    let Ok(decoded) = String::from_utf8(decoded_bytes) else {
        return Err(EndpointError::BadHost {
            host: written.to_owned(),
            found: "percent-encoded bytes that are not UTF-8".to_owned(),
        });
    };
    if let Some(bad) = decoded.chars().find(|c| is_forbidden_domain_char(*c)) {
        return Err(EndpointError::BadHost {
            host: written.to_owned(),
            found: format!("the character {bad:?}"),
        });
    }
    if !decoded.is_ascii() {
        return Ok(Host::Ambiguous {
            written: written.to_owned(),
            why: Ambiguity::NonAscii,
        });
    }
    let lower = decoded.to_ascii_lowercase();
    let percent_encoded = written.contains('%');
    if ends_in_number(&lower) {
        let Some(whatwg) = parse_whatwg_ipv4(&lower) else {
            return Err(EndpointError::BadIpv4 {
                host: written.to_owned(),
            });
        };
        if percent_encoded {
            return Ok(Host::Ambiguous {
                written: written.to_owned(),
                why: Ambiguity::PercentEncoded { decoded: lower },
            });
        }
        // Only the canonical dotted-decimal form means the same address to every client.
        return Ok(match lower.parse::<Ipv4Addr>() {
            Ok(ip) => Host::Ipv4(ip),
            Err(_) => Host::Ambiguous {
                written: written.to_owned(),
                why: Ambiguity::NumericIpv4 { whatwg },
            },
        });
    }
    if percent_encoded {
        return Ok(Host::Ambiguous {
            written: written.to_owned(),
            why: Ambiguity::PercentEncoded { decoded: lower },
        });
    }
    Ok(Host::Domain(lower))
}

/// Decodes `%XX` sequences; a `%` not followed by two hex digits stays as it is (WHATWG).
fn percent_decode(input: &str) -> Vec<u8> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = bytes.get(i + 1).and_then(|c| hex_value(*c));
            let lo = bytes.get(i + 2).and_then(|c| hex_value(*c));
            if let (Some(hi), Some(lo)) = (hi, lo) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// WHATWG "ends in a number": the last label (ignoring one trailing empty label) is all
/// decimal digits or a `0x` hexadecimal number. Such hosts must parse as IPv4 or the URL fails.
fn ends_in_number(host: &str) -> bool {
    let mut labels: Vec<&str> = host.split('.').collect();
    if labels.last().is_some_and(|l| l.is_empty()) {
        if labels.len() == 1 {
            return false;
        }
        labels.pop();
    }
    let Some(last) = labels.last() else {
        return false;
    };
    if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    parse_ipv4_number(last).is_some()
}

/// WHATWG IPv4 number parser: decimal, `0`-prefixed octal, `0x`-prefixed hexadecimal.
fn parse_ipv4_number(part: &str) -> Option<u64> {
    if part.is_empty() {
        return None;
    }
    let (digits, radix) =
        if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
            (hex, 16)
        } else if part.len() > 1
            && let Some(oct) = part.strip_prefix('0')
        {
            (oct, 8)
        } else {
            (part, 10)
        };
    if digits.is_empty() {
        return Some(0);
    }
    let mut value: u64 = 0;
    for c in digits.chars() {
        let d = u64::from(c.to_digit(radix)?);
        // Anything above 2^32 fails later anyway; saturate instead of overflowing.
        value = value
            .saturating_mul(u64::from(radix))
            .saturating_add(d)
            .min(u64::from(u32::MAX) + 1);
    }
    Some(value)
}

/// WHATWG IPv4 parser: one to four numeric parts, the last filling the remaining bytes.
fn parse_whatwg_ipv4(host: &str) -> Option<Ipv4Addr> {
    let mut parts: Vec<&str> = host.split('.').collect();
    if parts.len() > 1 && parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    if parts.len() > 4 {
        return None;
    }
    let numbers: Vec<u64> = parts
        .iter()
        .map(|p| parse_ipv4_number(p))
        .collect::<Option<_>>()?;
    let (last, init) = numbers.split_last()?;
    if init.iter().any(|n| *n > 255) {
        return None;
    }
    let remaining_bits = 8 * (4 - u32::try_from(init.len()).ok()?);
    if *last >= 1u64 << remaining_bits {
        return None;
    }
    let mut address = *last;
    for (i, n) in init.iter().enumerate() {
        let shift = 8 * (3 - u32::try_from(i).ok()?);
        address += n << shift;
    }
    u32::try_from(address).ok().map(Ipv4Addr::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whatwg_numeric_forms_read_as_the_browser_reads_them() {
        for (form, expected) in [
            ("2130706433", Ipv4Addr::new(127, 0, 0, 1)),
            ("0x7f.1", Ipv4Addr::new(127, 0, 0, 1)),
            ("0177.0.0.1", Ipv4Addr::new(127, 0, 0, 1)),
            ("127.1", Ipv4Addr::new(127, 0, 0, 1)),
            ("127.0.0.1.", Ipv4Addr::new(127, 0, 0, 1)),
            ("0x7f.0.0.0x1", Ipv4Addr::new(127, 0, 0, 1)),
            ("0x", Ipv4Addr::new(0, 0, 0, 0)),
            ("4294967295", Ipv4Addr::new(255, 255, 255, 255)),
            ("0xa9.254.169.254", Ipv4Addr::new(169, 254, 169, 254)),
        ] {
            assert_eq!(parse_whatwg_ipv4(form), Some(expected), "{form}");
            assert!(ends_in_number(form), "{form}");
        }
        for bad in [
            "4294967296",
            "0x100000000",
            "1.2.3.4.5",
            "1..2",
            "08.0.0.1",
            "256.1.1.1",
        ] {
            assert_eq!(parse_whatwg_ipv4(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_dotted_decimal_is_an_unambiguous_ipv4_host() {
        assert_eq!(parse_host("127.0.0.1"), Ok(Host::Ipv4(Ipv4Addr::LOCALHOST)));
        assert!(matches!(
            parse_host("0x7f.1"),
            Ok(Host::Ambiguous {
                why: Ambiguity::NumericIpv4 { .. },
                ..
            })
        ));
        assert!(matches!(
            parse_host("foo.123"),
            Err(EndpointError::BadIpv4 { .. })
        ));
    }

    #[test]
    fn percent_encoding_and_non_ascii_are_ambiguous_or_invalid() {
        assert!(matches!(
            parse_host("%6cocalhost"),
            Ok(Host::Ambiguous { why: Ambiguity::PercentEncoded { ref decoded }, .. })
                if decoded == "localhost"
        ));
        assert!(matches!(
            parse_host("ｌｏｃａｌｈｏｓｔ"),
            Ok(Host::Ambiguous {
                why: Ambiguity::NonAscii,
                ..
            })
        ));
        assert!(matches!(
            parse_host("a%2Fb"),
            Err(EndpointError::BadHost { .. })
        ));
        assert!(matches!(
            parse_host("a%ffb"),
            Err(EndpointError::BadHost { .. })
        ));
        assert!(matches!(
            parse_host("a%zzb"),
            Err(EndpointError::BadHost { .. })
        ));
    }

    #[test]
    fn domains_are_lower_cased_and_localhost_only_when_exact() {
        assert_eq!(
            parse_host("LocalHost"),
            Ok(Host::Domain("localhost".into()))
        );
        assert!(parse_host("LocalHost").is_ok_and(|h| h.is_loopback()));
        assert!(parse_host("localhost.").is_ok_and(|h| !h.is_loopback()));
        assert!(parse_host("a.localhost").is_ok_and(|h| !h.is_loopback()));
        assert!(parse_host("[::ffff:127.0.0.1]").is_ok_and(|h| h.is_loopback()));
        assert!(parse_host("[::127.0.0.1]").is_ok_and(|h| !h.is_loopback()));
        assert!(parse_host("[fe80::1%25eth0]").is_err());
    }
}

//! The W3C `baggage` header: `key=value;property` members, percent-encoded values, and the
//! limits every hop must at least propagate (64 members, 8192 bytes).
//!
//! Not a store for secrets: baggage travels in clear to every downstream service.

/// The most members we keep (the specification's grammar allows 180).
pub const MAX_BAGGAGE_MEMBERS: usize = 180;
/// The most bytes of `baggage` we send.
pub const MAX_BAGGAGE_BYTES: usize = 8192;

/// One baggage entry: a key, its decoded value, and its raw properties (`;k=v` parts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaggageMember {
    /// The key (an HTTP token).
    pub key: String,
    /// The percent-decoded value.
    pub value: String,
    /// The properties as they arrived, without the leading `;`.
    pub properties: Vec<String>,
}

/// Parsed `baggage`: valid members in order; invalid members are skipped and counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baggage {
    members: Vec<BaggageMember>,
    skipped: usize,
}

impl Baggage {
    /// Parses the combined value of every `baggage` header (joined with `,`). A member that
    /// breaks the grammar is skipped (and counted in [`Baggage::skipped`]); the others stay.
    /// A key that repeats keeps its last value.
    pub fn parse(value: &str) -> Self {
        let mut out = Self::default();
        for raw in value.split(',') {
            let raw = raw.trim_matches([' ', '\t']);
            if raw.is_empty() {
                continue;
            }
            match parse_member(raw) {
                Some(member) => {
                    out.members.retain(|m| m.key != member.key);
                    out.members.push(member);
                }
                None => out.skipped += 1,
            }
        }
        out
    }

    /// Members that did not parse and were dropped.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// The members in order.
    pub fn members(&self) -> &[BaggageMember] {
        &self.members
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.members
            .iter()
            .find(|m| m.key == key)
            .map(|m| m.value.as_str())
    }

    /// Sets `key` to `value` (replacing an earlier value). Keys that are not HTTP tokens are
    /// refused and `false` is returned.
    pub fn insert(&mut self, key: &str, value: &str) -> bool {
        if !is_token(key) {
            return false;
        }
        self.members.retain(|m| m.key != key);
        self.members.push(BaggageMember {
            key: key.into(),
            value: value.into(),
            properties: Vec::new(),
        });
        true
    }

    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The header value to send: whole members only, at most 180 of them and 8192 bytes
    /// (members that would pass either limit are left out; none is cut in half).
    pub fn to_header(&self) -> String {
        let mut out = String::new();
        for (count, member) in self.members.iter().enumerate() {
            if count >= MAX_BAGGAGE_MEMBERS {
                break;
            }
            let mut encoded = format!("{}={}", member.key, percent_encode(&member.value));
            for p in &member.properties {
                encoded.push(';');
                encoded.push_str(p);
            }
            let sep = usize::from(!out.is_empty());
            if out.len() + sep + encoded.len() > MAX_BAGGAGE_BYTES {
                continue;
            }
            if sep == 1 {
                out.push(',');
            }
            out.push_str(&encoded);
        }
        out
    }
}

fn parse_member(raw: &str) -> Option<BaggageMember> {
    let mut parts = raw.split(';');
    let (key, value) = parts.next()?.split_once('=')?;
    let key = key.trim_matches([' ', '\t']);
    let value = value.trim_matches([' ', '\t']);
    if !is_token(key) || !value.bytes().all(baggage_octet_or_percent) {
        return None;
    }
    let value = percent_decode(value)?;
    let mut properties = Vec::new();
    for p in parts {
        let p = p.trim_matches([' ', '\t']);
        let name = p
            .split_once('=')
            .map_or(p, |(k, _)| k)
            .trim_matches([' ', '\t']);
        if !is_token(name) {
            return None;
        }
        properties.push(p.to_owned());
    }
    Some(BaggageMember {
        key: key.to_owned(),
        value,
        properties,
    })
}

/// RFC 7230 `token`.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

/// `baggage-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E` (and `%` of escapes).
fn baggage_octet_or_percent(c: u8) -> bool {
    matches!(c, 0x21 | 0x23..=0x2b | 0x2d..=0x3a | 0x3c..=0x5b | 0x5d..=0x7e)
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hi = (*b.get(i + 1)? as char).to_digit(16)?;
            let lo = (*b.get(i + 2)? as char).to_digit(16)?;
            out.push(u8::try_from(hi * 16 + lo).ok()?);
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.bytes() {
        if baggage_octet_or_percent(c) && c != b'%' {
            out.push(char::from(c));
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

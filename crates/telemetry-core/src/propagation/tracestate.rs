//! The W3C `tracestate` header: list-members validated by the Trace Context key and value
//! grammar, the 32-member limit, and the rule that an invalid header is dropped whole.

use super::error::PropagationError;

/// The most list-members a `tracestate` may carry.
pub const MAX_TRACESTATE_MEMBERS: usize = 32;
/// How many characters of `tracestate` we always propagate (the specification's floor).
pub const MIN_PROPAGATED_LEN: usize = 512;

/// A valid `tracestate`: ordered `key=value` members, no duplicate keys, at most 32.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceState {
    members: Vec<(String, String)>,
}

impl TraceState {
    /// Parses the combined value of every `tracestate` header (joined with `,`, in order).
    /// Empty members and optional whitespace around members are allowed.
    ///
    /// # Errors
    /// [`PropagationError::TraceState`] when any member breaks the key or value grammar, a key
    /// repeats, or there are more than 32 members: the whole header is then to be dropped.
    pub fn parse(value: &str) -> Result<Self, PropagationError> {
        let mut members: Vec<(String, String)> = Vec::new();
        for raw in value.split(',') {
            let member = raw.trim_matches([' ', '\t']);
            if member.is_empty() {
                continue;
            }
            let bad = |detail: String| PropagationError::TraceState {
                member: member.to_owned(),
                detail,
            };
            let (key, val) = member
                .split_once('=')
                .ok_or_else(|| bad("expected key=value".into()))?;
            if !valid_key(key) {
                return Err(bad(format!("invalid key {key:?}")));
            }
            if !valid_value(val) {
                return Err(bad(format!("invalid value {val:?}")));
            }
            if members.iter().any(|(k, _)| k == key) {
                return Err(bad(format!("duplicate key {key:?}")));
            }
            members.push((key.to_owned(), val.to_owned()));
            if members.len() > MAX_TRACESTATE_MEMBERS {
                return Err(bad(format!(
                    "more than {MAX_TRACESTATE_MEMBERS} list-members"
                )));
            }
        }
        Ok(Self { members })
    }

    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The members in order.
    pub fn members(&self) -> impl Iterator<Item = (&str, &str)> {
        self.members.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.members
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Puts (or moves) our member at the front, as the specification asks of a vendor that
    /// updates its entry; members beyond 32 are dropped from the end.
    ///
    /// # Errors
    /// [`PropagationError::TraceState`] when the key or value breaks the grammar.
    pub fn upsert(&mut self, key: &str, value: &str) -> Result<(), PropagationError> {
        if !valid_key(key) || !valid_value(value) {
            return Err(PropagationError::TraceState {
                member: format!("{key}={value}"),
                detail: "invalid key or value".into(),
            });
        }
        self.members.retain(|(k, _)| k != key);
        self.members.insert(0, (key.to_owned(), value.to_owned()));
        self.members.truncate(MAX_TRACESTATE_MEMBERS);
        Ok(())
    }

    /// The header value to send: members joined by `,`. When it would exceed 512 characters,
    /// members longer than 128 characters are removed first (from the end), then members
    /// from the end, as the specification recommends.
    pub fn to_header(&self) -> String {
        let mut members: Vec<&(String, String)> = self.members.iter().collect();
        let len = |m: &[&(String, String)]| -> usize {
            m.iter().map(|(k, v)| k.len() + v.len() + 1).sum::<usize>() + m.len().saturating_sub(1)
        };
        while len(&members) > MIN_PROPAGATED_LEN {
            match members
                .iter()
                .rposition(|(k, v)| k.len() + v.len() + 1 > 128)
            {
                Some(big) => {
                    members.remove(big);
                }
                None => {
                    members.pop();
                }
            }
        }
        members
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn key_char(c: u8) -> bool {
    matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'*' | b'/')
}

/// `simple-key = lcalpha 0*255(...)` or `tenant-id "@" system-id` with
/// `tenant-id = (lcalpha / DIGIT) 0*240(...)` and `system-id = lcalpha 0*13(...)`.
fn valid_key(key: &str) -> bool {
    let b = key.as_bytes();
    match key.split_once('@') {
        None => {
            matches!(b.first(), Some(b'a'..=b'z'))
                && b.len() <= 256
                && b.iter().all(|&c| key_char(c))
        }
        Some((tenant, system)) => {
            let (t, s) = (tenant.as_bytes(), system.as_bytes());
            matches!(t.first(), Some(b'a'..=b'z' | b'0'..=b'9'))
                && t.len() <= 241
                && t.iter().all(|&c| key_char(c))
                && matches!(s.first(), Some(b'a'..=b'z'))
                && s.len() <= 14
                && s.iter().all(|&c| key_char(c))
        }
    }
}

/// `value = 0*255(chr) nblk-chr`, `nblk-chr = %x21-2B / %x2D-3C / %x3E-7E`, `chr = %x20 / nblk-chr`.
fn valid_value(value: &str) -> bool {
    let b = value.as_bytes();
    let nblk = |c: u8| matches!(c, 0x21..=0x2b | 0x2d..=0x3c | 0x3e..=0x7e);
    (1..=256).contains(&b.len())
        && b.iter().all(|&c| c == b' ' || nblk(c))
        && b.last().is_some_and(|&c| nblk(c))
}

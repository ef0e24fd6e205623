//! [`Scanner`]: one policy's compiled detectors, running the three prefilter passes over a
//! text and the precise checks only where a pass found something. Not where spans are
//! replaced: that is [`crate::Redactor`]'s job.

use std::ops::Range;

use aho_corasick::packed::{self, Searcher};

use super::bytes::{at, is_b64std, is_b64token, run_end, run_start};
use super::card::scan_cards;
use super::kind::{Detector, DetectorSet, Finding};
use super::literal::{
    Anchor, LITERAL_DETECTORS, MIN_LITERAL_FINDING, TRIGGERS, aws_access_key_id, credential_pair,
    jwt, pair_after, pem, prefix_token, scheme_credential, slack,
};
use super::separator::{email, key_value, url_userinfo};

/// The compiled detectors of one policy.
#[derive(Debug, Clone)]
pub(crate) struct Scanner {
    /// `None` when no literal-triggered detector is enabled.
    pub(super) triggers: Option<Searcher>,
    enabled: DetectorSet,
}

impl Scanner {
    /// Compiles the trigger search; `None` if it cannot be built (it always can for the fixed
    /// trigger list).
    pub(crate) fn new(enabled: DetectorSet) -> Option<Self> {
        let needs_literals = LITERAL_DETECTORS.iter().any(|d| enabled.contains(*d));
        let triggers = if needs_literals {
            let mut builder = packed::Config::new()
                .match_kind(packed::MatchKind::LeftmostFirst)
                .builder();
            builder.extend(TRIGGERS.iter().map(|(literal, _)| literal));
            Some(builder.build()?)
        } else {
            None
        };
        Some(Scanner { triggers, enabled })
    }

    /// Appends every finding in `text` to `out` (unsorted, possibly overlapping). `out` is
    /// not touched, and nothing is allocated, when the text is clean.
    pub(crate) fn scan(&self, text: &str, out: &mut Vec<Finding>) {
        let t = text.as_bytes();
        if let Some(triggers) = self
            .triggers
            .as_ref()
            .filter(|_| t.len() >= MIN_LITERAL_FINDING)
        {
            for m in triggers.find_iter(t) {
                let Some((literal, anchor)) = TRIGGERS.get(m.pattern().as_usize()) else {
                    continue;
                };
                let (s, e) = (m.start(), m.end());
                match *anchor {
                    Anchor::Bearer => self.push(
                        out,
                        Detector::BearerCredential,
                        scheme_credential(t, s, e, is_b64token),
                    ),
                    Anchor::Basic => self.push(
                        out,
                        Detector::BasicCredential,
                        scheme_credential(t, s, e, is_b64std),
                    ),
                    Anchor::Jwt => self.push(out, Detector::Jwt, jwt(t, s, e)),
                    Anchor::Pem => self.push(out, Detector::PemPrivateKey, pem(t, s, e)),
                    Anchor::Aws => self.aws(t, s, e, out),
                    Anchor::Slack => self.push(out, Detector::SlackToken, slack(t, s, e)),
                    Anchor::Credential => {
                        self.push(out, Detector::KeyValueSecret, credential_pair(t, s, e));
                    }
                    Anchor::Prefix(token) => {
                        self.push(out, token.detector, prefix_token(t, s, e, literal, token));
                    }
                }
            }
        }
        let key_values = self.enabled.contains(Detector::KeyValueSecret);
        let at_signs = self.enabled.contains(Detector::Email)
            || self.enabled.contains(Detector::UrlCredentials);
        if key_values || at_signs {
            for i in memchr::memchr3_iter(b'@', b'=', b':', t) {
                if at(t, i) == Some(b'@') {
                    if at_signs {
                        self.push(out, Detector::UrlCredentials, url_userinfo(t, i));
                        self.push(out, Detector::Email, email(t, i));
                    }
                } else if key_values {
                    self.push(out, Detector::KeyValueSecret, key_value(t, i));
                }
            }
        }
        if self.enabled.contains(Detector::PaymentCard) {
            scan_cards(t, out);
        }
    }

    fn push(&self, out: &mut Vec<Finding>, detector: Detector, range: Option<Range<usize>>) {
        if let Some(range) = range
            && self.enabled.contains(detector)
        {
            out.push(Finding { range, detector });
        }
    }

    fn aws(&self, t: &[u8], s: usize, e: usize, out: &mut Vec<Finding>) {
        let Some(id) = aws_access_key_id(t, s, e) else {
            return;
        };
        // `AKIA…:secret` / `AKIA…/secret`: the second half of the pair goes with the id.
        let pair_end = pair_after(t, id.end).map_or(id.end, |pair| pair.end);
        self.push(out, Detector::AwsAccessKeyId, Some(id.start..pair_end));
        if !self.enabled.contains(Detector::AwsSecretKey) {
            return;
        }
        // A secret key near an access key id: a 40-character standard-base64 run.
        let from = id.start.saturating_sub(AWS_CONTEXT);
        let to = (id.end + AWS_CONTEXT).min(t.len());
        let mut i = from;
        while i < to {
            if !is_b64std(t.get(i).copied().unwrap_or(0)) {
                i += 1;
                continue;
            }
            let start = run_start(t, i, is_b64std);
            let end = run_end(t, i, is_b64std);
            let padded = t.get(end) == Some(&b'=');
            if end - start == 40 && !padded {
                out.push(Finding {
                    range: start..end,
                    detector: Detector::AwsSecretKey,
                });
            }
            i = end.max(i + 1);
        }
    }
}

/// How far around an AWS access key id a secret access key is looked for, in bytes.
const AWS_CONTEXT: usize = 256;

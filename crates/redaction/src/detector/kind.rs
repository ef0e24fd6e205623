//! The detector names a policy enables ([`Detector`]), sets of them ([`DetectorSet`]) and
//! what a scan reports ([`Finding`]). Not where anything is searched for: the scan passes
//! are in the sibling modules.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::reason::Reason;

/// One value detector. The serde names (`snake_case`) are the ones a policy file uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Detector {
    /// `Bearer <token>` (`Bearer`, `bearer` or `BEARER`): the token is masked.
    BearerCredential,
    /// `Basic <base64>` (`Basic`, `basic` or `BASIC`): the credentials are masked.
    BasicCredential,
    /// A JSON Web Token: `eyJ…` header, payload and signature segments (JWS and JWE).
    Jwt,
    /// A PEM block whose label names a private key, through its `-----END …-----` line.
    PemPrivateKey,
    /// An AWS access key id (`AKIA…`/`ASIA…`, 20 characters), with the second half of a
    /// credential pair after it (`AKIA…:secret`, `AKIA…/secret`).
    AwsAccessKeyId,
    /// An AWS secret access key: a 40-character base64 run within 256 bytes of an access
    /// key id. (`aws_secret_access_key=…` is also caught by [`Detector::KeyValueSecret`].)
    AwsSecretKey,
    /// GitHub tokens: `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`.
    GithubToken,
    /// GitLab personal access tokens: `glpat-`.
    GitlabToken,
    /// Slack tokens: `xoxa-`, `xoxb-`, `xoxe-`, `xoxp-`, `xoxr-`, `xoxs-`.
    SlackToken,
    /// Stripe secret and restricted keys: `sk_live_`, `rk_live_`, `sk_test_`, `rk_test_`.
    StripeKey,
    /// Google API keys: `AIza` followed by 35 characters.
    GoogleApiKey,
    /// `key=value` and `key: value` in text where the key names a secret (`password`,
    /// `passwd`, `pwd`, `secret`, `token`, `api_key`, `access_key`, `private_key`,
    /// `client_secret`, `authorization`, `cookie`, `session_id`, `signature`, `sig`, `code`,
    /// …): the value is masked. Also credential pairs: `credentials first:second`, and
    /// `client_id`/`user`/`username` values that are `first:second` or `first/second`.
    KeyValueSecret,
    /// Credentials in a URL: `scheme://user:pass@host` keeps scheme and host.
    UrlCredentials,
    /// An e-mail address (personal data).
    Email,
    /// A payment card number: 13–19 digits, optionally grouped by single spaces or single
    /// dashes (one kind per number), starting with 2–6 (the card networks' ranges) and
    /// passing the Luhn check (personal data).
    PaymentCard,
}

impl Detector {
    /// Every detector.
    pub const ALL: [Detector; 15] = [
        Detector::BearerCredential,
        Detector::BasicCredential,
        Detector::Jwt,
        Detector::PemPrivateKey,
        Detector::AwsAccessKeyId,
        Detector::AwsSecretKey,
        Detector::GithubToken,
        Detector::GitlabToken,
        Detector::SlackToken,
        Detector::StripeKey,
        Detector::GoogleApiKey,
        Detector::KeyValueSecret,
        Detector::UrlCredentials,
        Detector::Email,
        Detector::PaymentCard,
    ];

    /// The reason a match of this detector reports: [`Reason::Pii`] for e-mail addresses and
    /// card numbers, [`Reason::Secret`] for everything else.
    #[must_use]
    pub const fn reason(self) -> Reason {
        match self {
            Detector::Email | Detector::PaymentCard => Reason::Pii,
            _ => Reason::Secret,
        }
    }

    const fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of [`Detector`]s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DetectorSet(u16);

impl DetectorSet {
    /// No detector.
    pub const NONE: DetectorSet = DetectorSet(0);

    /// Every detector (the default).
    #[must_use]
    pub const fn all() -> Self {
        // One bit per variant, and the variants are numbered from zero.
        DetectorSet((1 << Detector::ALL.len()) - 1)
    }

    /// Whether `detector` is in the set.
    #[must_use]
    pub const fn contains(self, detector: Detector) -> bool {
        self.0 & detector.bit() != 0
    }

    /// Adds a detector.
    pub fn insert(&mut self, detector: Detector) {
        self.0 |= detector.bit();
    }

    /// Removes a detector.
    pub fn remove(&mut self, detector: Detector) {
        self.0 &= !detector.bit();
    }

    /// The detectors in the set, in the order of [`Detector::ALL`].
    pub fn iter(self) -> impl Iterator<Item = Detector> {
        Detector::ALL.into_iter().filter(move |d| self.contains(*d))
    }
}

impl Default for DetectorSet {
    fn default() -> Self {
        DetectorSet::all()
    }
}

impl FromIterator<Detector> for DetectorSet {
    fn from_iter<I: IntoIterator<Item = Detector>>(iter: I) -> Self {
        let mut set = DetectorSet::NONE;
        for detector in iter {
            set.insert(detector);
        }
        set
    }
}

/// A span of text a detector matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Finding {
    pub(crate) range: Range<usize>,
    pub(crate) detector: Detector,
}

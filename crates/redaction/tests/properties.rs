//! Properties of the redactor: a planted secret never survives, allow-list mode never emits a
//! key outside the list, redacting twice equals redacting once, and no input panics.

use std::sync::LazyLock;

use proptest::prelude::*;
use serde_json::{Map, Value};
use stellaops_redaction::{QueryAllowList, RedactionPolicy, Redactor, sanitize_url};

/// A secret in one detector format, and the part of it that must not appear in the output.
#[derive(Clone, Debug)]
struct Secret {
    text: String,
    core: String,
}

fn secret(text: String, core: String) -> Secret {
    Secret { text, core }
}

/// A credential-like token: random characters with a digit, so it is never a dictionary word.
fn token(
    chars: &'static str,
    len: std::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = String> {
    (
        proptest::string::string_regex(&format!("[{chars}]{{{},{}}}", len.start(), len.end()))
            .unwrap(),
        0..10u8,
    )
        .prop_map(|(t, d)| format!("{t}{d}"))
}

fn luhn_complete(body: &[u8]) -> u8 {
    let mut sum = 0u32;
    for (i, d) in body.iter().rev().enumerate() {
        let mut v = u32::from(*d);
        if i % 2 == 0 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    ((10 - sum % 10) % 10) as u8
}

fn card() -> impl Strategy<Value = Secret> {
    (
        2..=6u8,
        prop::collection::vec(0..10u8, 11..=17),
        prop::sample::select(vec!["", " ", "-"]),
    )
        .prop_map(|(first, rest, sep)| {
            let mut digits = vec![first];
            digits.extend(rest);
            let check = luhn_complete(&digits);
            digits.push(check);
            let plain: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
            let grouped = plain
                .as_bytes()
                .chunks(4)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>()
                .join(sep);
            secret(grouped.clone(), grouped)
        })
}

fn any_secret() -> impl Strategy<Value = Secret> {
    let b64 = "A-Za-z0-9";
    prop_oneof![
        token("A-Za-z0-9._~+/-", 8..=40).prop_map(|t| secret(format!("Bearer {t}"), t)),
        token("A-Za-z0-9+/", 12..=40).prop_map(|t| secret(format!("basic {t}=="), t)),
        (
            token("A-Za-z0-9_-", 10..=40),
            token("A-Za-z0-9_-", 5..=60),
            token("A-Za-z0-9_-", 10..=60)
        )
            .prop_map(|(h, p, s)| {
                let jwt = format!("eyJ{h}.eyJ{p}.{s}");
                secret(jwt.clone(), jwt)
            }),
        (
            prop::sample::select(vec!["RSA ", "EC ", "OPENSSH ", "ENCRYPTED ", ""]),
            token(b64, 20..=64),
            token(b64, 20..=64)
        )
            .prop_map(|(kind, l1, l2)| secret(
                format!(
                    "-----BEGIN {kind}PRIVATE KEY-----\n{l1}\n{l2}\n-----END {kind}PRIVATE KEY-----"
                ),
                l1,
            )),
        (prop::sample::select(vec!["AKIA", "ASIA"]), "[A-Z0-9]{16}").prop_map(|(p, rest)| {
            let id = format!("{p}{rest}");
            secret(id.clone(), id)
        }),
        ("[A-Z0-9]{16}", "[A-Za-z0-9/+]{39}", 0..10u8).prop_map(|(id, s, d)| {
            let key = format!("{s}{d}");
            secret(format!("AKIA{id} {key}"), key)
        }),
        (
            prop::sample::select(vec!["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"]),
            token("A-Za-z0-9_", 20..=82)
        )
            .prop_map(|(p, t)| {
                let s = format!("{p}{t}");
                secret(s.clone(), s)
            }),
        token("A-Za-z0-9_-", 20..=30).prop_map(|t| {
            let s = format!("glpat-{t}");
            secret(s.clone(), s)
        }),
        (
            prop::sample::select(vec!["xoxa-", "xoxb-", "xoxp-", "xoxr-", "xoxs-"]),
            token("A-Za-z0-9-", 10..=40)
        )
            .prop_map(|(p, t)| {
                let s = format!("{p}{t}");
                secret(s.clone(), s)
            }),
        (
            prop::sample::select(vec!["sk_live_", "rk_live_", "sk_test_", "rk_test_"]),
            token(b64, 10..=40)
        )
            .prop_map(|(p, t)| {
                let s = format!("{p}{t}");
                secret(s.clone(), s)
            }),
        "[A-Za-z0-9_-]{35}".prop_map(|t| {
            let s = format!("AIza{t}");
            secret(s.clone(), s)
        }),
        (
            prop::sample::select(vec![
                "password",
                "db_password",
                "passwd",
                "pwd",
                "secret",
                "client_secret",
                "token",
                "access_token",
                "apiKey",
                "api_key",
                "x-api-key",
                "aws_secret_access_key",
                "private_key",
                "credentials",
                "session_id",
            ]),
            prop::sample::select(vec!["=", ": ", " = ", ":"]),
            token("A-Za-z0-9!#$%*+/?^~.-", 6..=24),
            prop::sample::select(vec!["", "\"", "'"]),
        )
            .prop_map(|(key, sep, value, quote)| {
                let (open, close) = if quote.is_empty() {
                    ("", "")
                } else {
                    (quote, quote)
                };
                secret(
                    format!("{open}{key}{close}{sep}{open}{value}{close}"),
                    value,
                )
            }),
        (
            "[a-z][a-z0-9+.-]{1,8}",
            "[a-z]{3,10}",
            token(b64, 8..=20),
            "[a-z]{3,10}\\.(com|internal|io)"
        )
            .prop_map(|(scheme, user, pass, host)| secret(
                format!("{scheme}://{user}:{pass}@{host}/x"),
                pass
            )),
        (
            "[a-z0-9][a-z0-9._%+-]{0,15}",
            "[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?",
            "[a-z]{2,6}"
        )
            .prop_map(|(l, d, tld)| {
                let email = format!("{l}@{d}.{tld}");
                secret(email.clone(), email)
            }),
        card(),
        new_secret(),
    ]
}

/// A card number printed in one of the usual layouts (4-4-4-4, Amex 4-6-5, 4-4-4-4-3), with
/// one separator kind throughout.
fn printed_card() -> impl Strategy<Value = Secret> {
    (
        prop::sample::select(vec![&[4usize, 4, 4, 4][..], &[4, 6, 5], &[4, 4, 4, 4, 3]]),
        2..=6u8,
        prop::collection::vec(0..10u8, 18),
        prop::sample::select(vec![" ", "-"]),
    )
        .prop_map(|(layout, first, rest, sep)| {
            let len: usize = layout.iter().sum();
            let mut digits = vec![first];
            digits.extend(rest.into_iter().take(len - 2));
            digits.push(luhn_complete(&digits));
            let mut printed = String::new();
            let mut at = 0;
            for (i, group) in layout.iter().enumerate() {
                if i > 0 {
                    printed.push_str(sep);
                }
                printed.extend(digits[at..at + group].iter().map(|d| char::from(b'0' + d)));
                at += group;
            }
            secret(printed.clone(), printed)
        })
}

/// The second half of a credential pair: no whitespace, quotes or delimiters of the text.
fn pair_second() -> impl Strategy<Value = String> {
    token("A-Za-z0-9!$%*+^~._-", 6..=24)
}

/// A credential pair whose first half is recognised; the core is the second half.
fn credential_pair() -> impl Strategy<Value = Secret> {
    prop_oneof![
        (
            prop::sample::select(vec!["AKIA", "ASIA"]),
            "[A-Z0-9]{16}",
            prop::sample::select(vec![":", "/"]),
            pair_second()
        )
            .prop_map(|(p, id, sep, second)| secret(format!("{p}{id}{sep}{second}"), second)),
        (
            prop::sample::select(vec!["credentials", "Credential", "CREDENTIALS"]),
            "[a-z][a-z0-9_-]{2,12}",
            prop::sample::select(vec![":", "/"]),
            pair_second()
        )
            .prop_map(|(word, first, sep, second)| secret(
                format!("{word} {first}{sep}{second}"),
                second
            )),
        (
            prop::sample::select(vec!["client_id", "clientId", "user", "username"]),
            prop::sample::select(vec!["=", ": "]),
            "[a-z][a-z0-9_-]{2,12}",
            prop::sample::select(vec![":", "/"]),
            pair_second()
        )
            .prop_map(|(key, kv, first, sep, second)| secret(
                format!("{key}{kv}{first}{sep}{second}"),
                second
            )),
    ]
}

/// A signed-URL or OAuth query parameter; the core is its value.
fn query_secret() -> impl Strategy<Value = Secret> {
    (
        prop::sample::select(vec![
            "sig",
            "signature",
            "X-Amz-Signature",
            "X-Amz-Credential",
            "X-Amz-Security-Token",
            "X-Goog-Signature",
            "x-goog-credential",
            "code",
            "client_secret",
            "refresh_token",
            "access_token",
            "id_token",
        ]),
        prop::sample::select(vec!["/cb?", "https://api.example/v1/x?page=2&", "?a=1&"]),
        token("A-Za-z0-9%._~+/-", 6..=40),
        prop::sample::select(vec!["", "&state=1", "#frag"]),
    )
        .prop_map(|(name, before, value, after)| {
            secret(format!("{before}{name}={value}{after}"), value)
        })
}

fn new_secret() -> impl Strategy<Value = Secret> {
    prop_oneof![printed_card(), credential_pair(), query_secret()]
}

/// Log-line-like filler: printable ASCII, or any printable Unicode.
fn filler() -> impl Strategy<Value = String> {
    prop_oneof!["[ -~]{0,60}", "\\PC{0,40}"]
}

fn planted() -> impl Strategy<Value = (String, Secret)> {
    (
        filler(),
        any_secret(),
        filler(),
        prop::sample::select(vec![" ", "\n", "\t", " (", ", "]),
    )
        .prop_map(|(before, s, after, gap)| (format!("{before}{gap}{}{gap}{after}", s.text), s))
}

/// Building a redactor compiles an automaton and regexes; the properties share a few.
static DEFAULT: LazyLock<Redactor> = LazyLock::new(|| Redactor::new(RedactionPolicy::default()));

/// Maximum value lengths the length-sensitive properties pick from.
const MAX_LENGTHS: [usize; 5] = [8, 16, 40, 64, 256];

/// For each of [`MAX_LENGTHS`]: a masking and a hashing redactor.
static BY_LENGTH: LazyLock<Vec<[Redactor; 2]>> = LazyLock::new(|| {
    MAX_LENGTHS
        .iter()
        .map(|&max| {
            [
                Redactor::new(
                    RedactionPolicy::builder()
                        .max_value_length(max)
                        .build()
                        .unwrap(),
                ),
                Redactor::new(
                    RedactionPolicy::builder()
                        .hash_with_salt("site-salt")
                        .max_value_length(max)
                        .build()
                        .unwrap(),
                ),
            ]
        })
        .collect()
});

static ALLOW_LIST: LazyLock<Redactor> = LazyLock::new(|| {
    let mut builder = RedactionPolicy::builder().allow_list().max_value_length(64);
    for key in ALLOWED {
        builder = builder.allow_key(key);
    }
    Redactor::new(builder.build().unwrap())
});

const ALLOWED: [&str; 3] = ["http.method", "a.b", "service"];

fn default_redactor() -> &'static Redactor {
    &DEFAULT
}

fn by_length() -> impl Strategy<Value = &'static [Redactor; 2]> {
    (0..MAX_LENGTHS.len()).prop_map(|i| &BY_LENGTH[i])
}

fn json_value() -> impl Strategy<Value = Value> {
    let key = prop::sample::select(vec![
        "http",
        "method",
        "db",
        "password",
        "tenant",
        "user",
        "a",
        "b",
        "trace_id",
        "service",
        "msg",
        "Authorization",
        "cookie",
        "note",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<u64>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        filler().prop_map(Value::String),
        planted().prop_map(|(text, _)| Value::String(text)),
    ];
    leaf.prop_recursive(3, 24, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..5).prop_map(|entries| Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect::<Map<_, _>>()
            )),
        ]
    })
}

fn json_object() -> impl Strategy<Value = Value> {
    json_value().prop_map(|v| match v {
        Value::Object(_) => v,
        other => serde_json::json!({ "note": other }),
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn planted_secret_never_survives_in_text((text, s) in planted()) {
        let (out, report) = default_redactor().redact_text(&text);
        prop_assert!(!out.contains(&s.core), "{:?} survived in {:?}", s.core, out);
        prop_assert!(report.scrubbed());
    }

    #[test]
    fn planted_secret_never_survives_in_values((text, s) in planted(), pair in by_length()) {
        for redactor in [default_redactor()].into_iter().chain(pair) {
            let out = redactor.redact_value("note", &text);
            let value = out.value().unwrap();
            prop_assert!(!value.contains(&s.core), "{:?} survived in {:?}", s.core, value);
        }
    }

    #[test]
    fn planted_secret_never_survives_in_nested_json((text, s) in planted(), depth in 0usize..4) {
        let mut record = Value::String(text);
        for level in 0..depth {
            record = if level % 2 == 0 {
                serde_json::json!({ "attributes": record })
            } else {
                serde_json::json!([1, record])
            };
        }
        let mut record = serde_json::json!({ "log": record });
        default_redactor().redact_json(&mut record);
        let out = record.to_string();
        prop_assert!(!out.contains(&s.core), "{:?} survived in {}", s.core, out);
    }

    #[test]
    fn redaction_is_idempotent_on_text((text, _) in planted(), noise in filler()) {
        let text = format!("{text}{noise}");
        for redactor in &BY_LENGTH[4] {
            let (once, _) = redactor.redact_text(&text);
            let (twice, report) = redactor.redact_text(&once);
            prop_assert_eq!(&once, &twice);
            prop_assert!(!report.scrubbed());
        }
    }

    #[test]
    fn redaction_is_idempotent_on_values(
        (text, _) in planted(),
        key in prop::sample::select(vec!["note", "password", "http.request.header.authorization", "msg"]),
        pair in by_length(),
    ) {
        for redactor in pair {
            let once = redactor.redact_value(key, &text);
            let once = once.value().unwrap();
            let twice = redactor.redact_value(key, once);
            prop_assert_eq!(Some(once), twice.value());
            prop_assert!(!twice.report().scrubbed(), "second pass reported {:?}", twice.report());
        }
    }

    #[test]
    fn redaction_is_idempotent_on_json(record in json_object(), allow in any::<bool>()) {
        let redactor = if allow { &*ALLOW_LIST } else { &BY_LENGTH[3][1] };
        let mut once = record;
        redactor.redact_json(&mut once);
        let mut twice = once.clone();
        let report = redactor.redact_json(&mut twice);
        prop_assert_eq!(&once, &twice);
        prop_assert!(!report.scrubbed());
    }

    #[test]
    fn allow_list_never_emits_a_key_outside_the_list(record in json_object()) {
        let mut out = record;
        ALLOW_LIST.redact_json(&mut out);
        let mut leaves = Vec::new();
        leaf_paths(&out, "", &mut leaves);
        for path in leaves {
            let kept = ALLOWED.iter().any(|a| path == *a || path.starts_with(&format!("{a}.")));
            let last = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
            let always = ["tenant", "trace_id"].contains(&last.as_str());
            prop_assert!(kept || always, "{path} is outside the allow-list in {out}");
        }
    }

    #[test]
    fn no_input_panics(text in "\\PC{0,300}", raw in any::<Vec<u8>>(), record in json_object()) {
        let redactor = default_redactor();
        let _ = redactor.redact_text(&text);
        let _ = redactor.redact_value(&text, &text);
        let lossy = String::from_utf8_lossy(&raw);
        let _ = redactor.redact_text(&lossy);
        let _ = BY_LENGTH[0][1].redact_value("note", &lossy);
        let mut record = record;
        let _ = BY_LENGTH[0][1].redact_json(&mut record);
        let _ = RedactionPolicy::from_json(&text);
        let _ = RedactionPolicy::from_json(&lossy);
    }

}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn planted_card_pair_or_query_secret_never_survives(
        before in filler(),
        s in new_secret(),
        after in filler(),
        gap in prop::sample::select(vec![" ", "\n", "\t", " (", ", "]),
    ) {
        let text = format!("{before}{gap}{}{gap}{after}", s.text);
        let (out, report) = default_redactor().redact_text(&text);
        prop_assert!(!out.contains(&s.core), "{:?} survived in {:?}", s.core, out);
        prop_assert!(report.scrubbed());
    }

    #[test]
    fn sanitize_url_keeps_scheme_host_path_and_only_allowed_values(
        scheme in prop::sample::select(vec!["https", "http", "s3", "postgres"]),
        userinfo in proptest::option::of(("[a-z]{1,8}", proptest::option::of("[A-Za-z0-9!$*+.~-]{1,12}"))),
        host in "[a-z][a-z0-9-]{0,10}(\\.[a-z]{2,6}){0,2}(:[0-9]{2,5})?",
        path in "(/[A-Za-z0-9._~%-]{0,10}){0,4}",
        params in prop::collection::vec((
            prop::sample::select(vec!["page", "per_page", "limit", "offset", "sort", "order", "Page", "q", "token", "sig", "x", "lang", "code"]),
            "[A-Za-z0-9%._~+/-]{1,20}",
        ), 0..6),
        bare in any::<bool>(),
    ) {
        let allowed = QueryAllowList::default();
        let authority = match &userinfo {
            Some((user, Some(pass))) => format!("{user}:{pass}@{host}"),
            Some((user, None)) => format!("{user}@{host}"),
            None => host.clone(),
        };
        let prefix = if bare { String::new() } else { format!("{scheme}://{authority}") };
        let query: Vec<String> = params.iter().map(|(n, v)| format!("{n}={v}")).collect();
        let url = if query.is_empty() {
            format!("{prefix}{path}")
        } else {
            format!("{prefix}{path}?{}", query.join("&"))
        };
        let out = sanitize_url(&url, &allowed);
        let kept_prefix = if bare {
            path.clone()
        } else if userinfo.is_some() {
            format!("{scheme}://[redacted]@{host}{path}")
        } else {
            format!("{scheme}://{host}{path}")
        };
        prop_assert!(out.starts_with(&kept_prefix), "{url} -> {out}");
        let rest = &out[kept_prefix.len()..];
        if params.is_empty() {
            prop_assert_eq!(rest, "");
        } else {
            let got: Vec<&str> = rest.strip_prefix('?').unwrap_or(rest).split('&').collect();
            prop_assert_eq!(got.len(), params.len(), "{} -> {}", url, out);
            for ((name, value), param) in params.iter().zip(got) {
                let expected = if allowed.allows(name) { value.as_str() } else { "[redacted]" };
                prop_assert_eq!(param, format!("{name}={expected}"), "{} -> {}", url, out);
            }
        }
        let again = sanitize_url(&out, &allowed);
        prop_assert!(matches!(again, std::borrow::Cow::Borrowed(_)), "not idempotent: {out} -> {again}");
    }

    #[test]
    fn clean_input_comes_back_borrowed(
        words in "[a-z ,.()]{0,120}",
        path in "(/[a-z0-9._-]{1,10}){0,4}",
        page in 0..10_000u32,
        order in prop::sample::select(vec!["asc", "desc"]),
    ) {
        let redactor = default_redactor();
        let (out, report) = redactor.redact_text(&words);
        prop_assert!(matches!(out, std::borrow::Cow::Borrowed(_)), "{words} -> {out}");
        prop_assert!(!report.scrubbed());
        let url = format!("https://registry.internal{path}?page={page}&order={order}");
        prop_assert!(matches!(sanitize_url(&url, &QueryAllowList::default()), std::borrow::Cow::Borrowed(_)));
        for key in ["url.full", "http.target", "http.url"] {
            let value = redactor.redact_value(key, &url);
            prop_assert!(matches!(value.into_value(), Some(std::borrow::Cow::Borrowed(_))), "{key}: {url}");
        }
    }
}

proptest! {
    // Each case compiles a whole policy: fewer cases keep the suite quick.
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_key_pattern_builds_or_is_rejected_with_a_code(pattern in "[a-z*?\\[\\]!.\\-_]{0,12}") {
        match RedactionPolicy::builder().block_key(pattern.clone()).allow_key(pattern).build() {
            Ok(policy) => { let _ = Redactor::new(policy).redact_value("a.b", "x"); }
            Err(e) => prop_assert_eq!(e.code(), "redaction.policy.invalid_pattern"),
        }
    }
}

/// Dotted paths of every leaf (scalar) in `value`; array elements share their array's path.
fn leaf_paths(value: &Value, path: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                leaf_paths(v, &child, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                leaf_paths(item, path, out);
            }
        }
        _ => out.push(path.to_owned()),
    }
}

//! Unit tests of the redactor: values, text, records, overrides and hashing.

use chrono::{TimeDelta, TimeZone, Utc};
use serde_json::json;

use super::*;
use crate::{ManualClock, Override, RecordingAudit};

fn redactor() -> Redactor {
    Redactor::new(RedactionPolicy::default())
}

#[test]
fn free_text_keeps_everything_but_the_secret_spans() {
    let (out, report) =
        redactor().redact_text("login failed for bob@example.com with password=hunter2");
    assert_eq!(out, "login failed for [redacted] with password=[redacted]");
    assert_eq!(
        report.reasons().iter().collect::<Vec<_>>(),
        [Reason::Secret, Reason::Pii]
    );
    let (out, report) = redactor().redact_text("GET /healthz 200");
    assert!(matches!(out, Cow::Borrowed(_)));
    assert!(!report.scrubbed());
}

#[test]
fn overlapping_findings_become_one_mask() {
    let (out, _) = redactor().redact_text("Authorization: Bearer abc123DEF456ghi789\nnext");
    assert_eq!(out, "Authorization: [redacted]\nnext");
}

#[test]
fn blocked_keys_are_masked_whole() {
    let r = redactor();
    let v = r.redact_value("headers.Authorization", "Basic dXNlcjpwYXNz");
    assert_eq!(v.value(), Some("[redacted]"));
    assert_eq!(
        v.report().reasons().iter().collect::<Vec<_>>(),
        [Reason::Pattern]
    );
    let again = r.redact_value("headers.Authorization", "[redacted]");
    assert!(!again.report().scrubbed());
}

#[test]
fn long_values_are_truncated_and_marked() {
    let r = Redactor::new(
        RedactionPolicy::builder()
            .max_value_length(10)
            .build()
            .unwrap(),
    );
    let v = r.redact_value("note", "abcdefghijklmnop");
    assert_eq!(v.value(), Some("abcdefghij"));
    assert_eq!(
        v.report().reasons().iter().collect::<Vec<_>>(),
        [Reason::Length]
    );
    let msg = r.redact_value("message", "abcdefghijklmnop");
    assert_eq!(
        msg.value(),
        Some("abcdefghijklmnop"),
        "text keys are not truncated"
    );
}

#[test]
fn hash_mode_hashes_pii_and_blocked_keys_but_masks_secrets() {
    let r = Redactor::new(
        RedactionPolicy::builder()
            .hash_with_salt("s")
            .build()
            .unwrap(),
    );
    let mut expected = Sha256::new();
    expected.update(b"sbob@example.com");
    let expected = format!("sha256:{}", hex::encode(expected.finalize().as_slice()));
    let (out, report) = r.redact_text("user bob@example.com token=abc123");
    assert_eq!(out, format!("user {expected} token=[redacted]"));
    assert!(report.hashed());
    let v = r.redact_value("session_id", "abc");
    assert!(v.value().unwrap().starts_with("sha256:"));
    assert!(v.report().hashed());
    let twice = r.redact_value("session_id", v.value().unwrap());
    assert_eq!(twice.value(), v.value());
    assert!(!twice.report().scrubbed());
}

#[test]
fn allow_list_drops_unlisted_keys_and_keeps_containers_of_allowed_ones() {
    let policy = RedactionPolicy::builder()
        .allow_list()
        .allow_key("http.method")
        .allow_key("attributes.*")
        .build()
        .unwrap();
    let r = Redactor::new(policy);
    let mut record = json!({
        "tenant": "acme",
        "user": "bob",
        "http": {"method": "GET", "url": "https://x/?q=1"},
        "attributes": {"a": 1, "password": "p"},
        "list": [1, 2],
        "empty": {}
    });
    let report = r.redact_json(&mut record);
    assert_eq!(
        record,
        json!({
            "tenant": "acme",
            "http": {"method": "GET"},
            "attributes": {"a": 1, "password": "[redacted]"}
        })
    );
    assert!(report.reasons().contains(Reason::NotAllowed));
    assert!(report.reasons().contains(Reason::Pattern));
}

#[test]
fn json_walk_scans_nested_strings_and_card_numbers() {
    let mut record = json!({
        "msg": "paid with 4111 1111 1111 1111",
        "request": {"headers": {"Authorization": "Bearer x", "Accept": "*/*"}},
        "items": [{"card": 4111111111111111u64}, {"sku": 42}],
    });
    redactor().redact_json(&mut record);
    assert_eq!(
        record,
        json!({
            "msg": "paid with [redacted]",
            "request": {"headers": {"Authorization": "[redacted]", "Accept": "*/*"}},
            "items": [{"card": "[redacted]"}, {"sku": 42}],
        })
    );
}

#[test]
fn overrides_keep_values_until_they_expire_and_every_use_is_audited() {
    let noon = Utc.with_ymd_and_hms(2025, 11, 29, 12, 0, 0).unwrap();
    let policy = RedactionPolicy::builder()
        .grant_override(
            Override::new("http.request.header.authorization", "INC-42", noon)
                .ttl(std::time::Duration::from_secs(3600))
                .granted_by("alice"),
        )
        .build_at(noon)
        .unwrap();
    let audit = Arc::new(RecordingAudit::new());
    let at = |t| {
        Redactor::new(policy.clone())
            .with_clock(Arc::new(ManualClock::new(t)))
            .with_audit(audit.clone())
    };
    let key = "http.request.header.authorization";
    let v = at(noon + TimeDelta::minutes(30)).redact_value(key, "Bearer abc123def456");
    assert_eq!(v.value(), Some("Bearer abc123def456"));
    let records = audit.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].ticket, "INC-42");
    assert_eq!(records[0].key, key);
    assert_eq!(records[0].granted_by.as_deref(), Some("alice"));
    assert_eq!(records[0].expires_at, noon + TimeDelta::hours(1));

    let v = at(noon + TimeDelta::hours(1)).redact_value(key, "Bearer abc123def456");
    assert_eq!(
        v.value(),
        Some("[redacted]"),
        "expired overrides stop applying"
    );
    assert_eq!(audit.records().len(), 1);
}

#[test]
fn attributes_are_rewritten_in_place() {
    let mut attrs = vec![
        ("http.method", "GET".to_owned()),
        ("db.password", "hunter2".to_owned()),
        ("note", "mail bob@example.com".to_owned()),
    ];
    let report = redactor().redact_attributes(&mut attrs);
    assert_eq!(
        attrs,
        [
            ("http.method", "GET".to_owned()),
            ("db.password", "[redacted]".to_owned()),
            ("note", "mail [redacted]".to_owned()),
        ]
    );
    assert!(report.reasons().contains(Reason::Pattern));
    assert!(report.reasons().contains(Reason::Pii));
}

#[test]
fn printed_card_numbers_go_in_text_and_nested_json() {
    let r = redactor();
    let (out, report) = r.redact_text("cards 5624 2962 4010 0148 and 3714-496353-98431 ok");
    assert_eq!(out, "cards [redacted] and [redacted] ok");
    assert_eq!(report.reasons().iter().collect::<Vec<_>>(), [Reason::Pii]);
    let (out, _) = r.redact_text("ref 5624 2962 4010 0149 and 5624 2962-4010 0148");
    assert_eq!(out, "ref 5624 2962 4010 0149 and 5624 2962-4010 0148");
    let mut record = json!({
        "payment": {"details": [{"note": "card 4111-1111-1111-1111-110 on file"}]},
        "msg": "charged 3714 496353 98431",
    });
    r.redact_json(&mut record);
    assert_eq!(
        record,
        json!({
            "payment": {"details": [{"note": "card [redacted] on file"}]},
            "msg": "charged [redacted]",
        })
    );
}

#[test]
fn credential_pairs_leave_no_second_half() {
    let r = redactor();
    let (out, _) = r.redact_text("credentials AKIAIOSFODNN7EXAMPLE:hunter2-Correct-Horse");
    assert_eq!(out, "credentials [redacted]");
    let (out, _) = r.redact_text("auth client_id=web:hunter2 and AKIAIOSFODNN7EXAMPLE/pw9");
    assert_eq!(out, "auth client_id=[redacted] and [redacted]");
    let mut record = json!({"log": {"message": "credentials svc:Tr0ub4dor&3 loaded"}});
    r.redact_json(&mut record);
    assert_eq!(
        record,
        json!({"log": {"message": "credentials [redacted] loaded"}})
    );
}

#[test]
fn url_keys_are_sanitized_with_the_policy_allow_list() {
    let r = redactor();
    let v = r.redact_value("url.full", "https://u:p@host/a?token=x&page=2&lang=en");
    assert_eq!(
        v.value(),
        Some("https://[redacted]@host/a?token=[redacted]&page=2&lang=[redacted]")
    );
    assert_eq!(
        v.report().reasons().iter().collect::<Vec<_>>(),
        [Reason::Secret]
    );
    assert_eq!(
        r.redact_value("http.target", "/r?sig=x&order=asc").value(),
        Some("/r?sig=[redacted]&order=asc")
    );
    assert_eq!(
        r.redact_value("url.query", "limit=5&q=alice").value(),
        Some("limit=5&q=[redacted]")
    );
    for key in ["url", "http.url", "span.attributes.HTTP.URL"] {
        assert_eq!(
            r.redact_value(key, "/x?a=1").value(),
            Some("/x?a=[redacted]"),
            "{key}"
        );
    }
    assert_eq!(
        r.redact_value("http.route", "/x?a=1").value(),
        Some("/x?a=1")
    );
    let clean = r.redact_value("url.full", "https://host/a?page=2");
    assert!(matches!(clean.into_value(), Some(Cow::Borrowed(_))));

    let mut record = json!({"http": {"url": "https://h/p?code=abc&offset=3"}});
    r.redact_json(&mut record);
    assert_eq!(
        record,
        json!({"http": {"url": "https://h/p?code=[redacted]&offset=3"}})
    );

    let custom = Redactor::new(
        RedactionPolicy::builder()
            .without_default_url_query_allow()
            .url_query_allow("lang")
            .build()
            .unwrap(),
    );
    let (out, _) = custom.redact_url("/a?lang=en&page=2");
    assert_eq!(out, "/a?lang=en&page=[redacted]");
    let (out, _) = r.redact_url("/reset/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln?page=1");
    assert_eq!(out, "/reset/[redacted]?page=1", "detectors run on the path");
}

#[test]
fn cut_url_values_are_sanitized_again() {
    let r = Redactor::new(
        RedactionPolicy::builder()
            .max_value_length(12)
            .build()
            .unwrap(),
    );
    let once = r.redact_value("url", "/a?page=1&tokenname=x");
    assert_eq!(once.value(), Some("/a?page=1&[redacted]"));
    let twice = r.redact_value("url", once.value().unwrap());
    assert_eq!(twice.value(), once.value());
    assert!(!twice.report().scrubbed());
}

#[test]
fn the_documented_examples_hold() {
    let r = redactor();
    for (text, expected) in [
        (
            "paid with 5624-2962-4010-0148, thanks",
            "paid with [redacted], thanks",
        ),
        (
            "credentials AKIAIOSFODNN7EXAMPLE:hunter2-Correct-Horse",
            "credentials [redacted]",
        ),
        (
            "loaded Credentials svc-build:Tr0ub4dor&3",
            "loaded Credentials [redacted]",
        ),
        ("user=alice/hunter2", "user=[redacted]"),
        (
            "GET /cb?state=1&code=SplxlOBeZQQYbYS6WxSbIA#x",
            "GET /cb?state=1&code=[redacted]#x",
        ),
        (
            "/o/k?X-Goog-Credential=svc%2F2025&X-Goog-Signature=9f0a",
            "/o/k?X-Goog-Credential=[redacted]&X-Goog-Signature=[redacted]",
        ),
        (
            "order=asc exit_code=1 code=404",
            "order=asc exit_code=1 code=404",
        ),
    ] {
        assert_eq!(r.redact_text(text).0, expected, "{text}");
    }
    for (url, expected) in [
        (
            "https://u:p@host/a?token=x&page=2",
            "https://[redacted]@host/a?token=[redacted]&page=2",
        ),
        ("/r?sig=abc&order=asc", "/r?sig=[redacted]&order=asc"),
        (
            "/search?q=alice@example.com&limit=5",
            "/search?q=[redacted]&limit=5",
        ),
    ] {
        assert_eq!(r.redact_url(url).0, expected, "{url}");
    }
}

#[test]
fn deep_paths_spill_to_the_heap_and_still_match() {
    let long = "k".repeat(300);
    let mut value = json!({ "outer": { long.clone(): { "password": "p" } } });
    redactor().redact_json(&mut value);
    assert_eq!(value["outer"][&long]["password"], "[redacted]");
}

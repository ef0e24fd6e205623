//! Unit tests of the scan passes and the precise checks.

use super::*;

fn find(text: &str) -> Vec<(String, Detector)> {
    let scanner = Scanner::new(DetectorSet::all()).unwrap();
    assert!(scanner.triggers.is_some());
    let mut out = Vec::new();
    scanner.scan(text, &mut out);
    out.sort_by_key(|f| (f.range.start, f.range.end));
    out.into_iter()
        .map(|f| (text[f.range].to_owned(), f.detector))
        .collect()
}

fn only(text: &str) -> (String, Detector) {
    let found = find(text);
    assert_eq!(found.len(), 1, "{text:?} -> {found:?}");
    found.into_iter().next().unwrap()
}

#[test]
fn clean_text_finds_nothing() {
    for text in [
        "GET /api/v1/scans/42 200 in 12ms",
        "user logged in from 10.0.0.1 at 2025-01-15T10:22:33Z",
        "passed 15 tests; bypass cache; the bearer of news",
        "Basic authentication failed for realm scanner",
        "token expired",
        "https://example.com/path?q=1",
        "pkg@1.2.3 and @scope/name",
        "ts=1700000000000 id=123456789012345678901234",
        "sha256:0000000000000000000000000000000000000000000000000000000000000000",
    ] {
        assert_eq!(find(text), [], "{text}");
    }
}

#[test]
fn credentials_after_scheme_words() {
    assert_eq!(
        only("sent bearer abc123DEF456ghi789"),
        ("abc123DEF456ghi789".into(), Detector::BearerCredential)
    );
    let header = find("Authorization: Bearer abc123DEF456ghi789");
    assert_eq!(
        header,
        [
            ("Bearer abc123DEF456ghi789".into(), Detector::KeyValueSecret),
            ("abc123DEF456ghi789".into(), Detector::BearerCredential),
        ]
    );
    let found = find("auth header basic dXNlcjpwYXNzd29yZA== sent");
    assert_eq!(
        found,
        [("dXNlcjpwYXNzd29yZA==".into(), Detector::BasicCredential)]
    );
}

#[test]
fn vendor_tokens() {
    let cases = [
        (
            "ghp_0123456789abcdefghijABCDEFGHIJ012345",
            Detector::GithubToken,
        ),
        (
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
            Detector::GithubToken,
        ),
        ("glpat-abcdefghij0123456789", Detector::GitlabToken),
        ("xoxb-1234567890-abcdefghij", Detector::SlackToken),
        ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", Detector::StripeKey),
        (
            "AIzaSyA-abcdefghijklmnopqrstuvwxyz01234",
            Detector::GoogleApiKey,
        ),
        ("AKIAIOSFODNN7EXAMPLE", Detector::AwsAccessKeyId),
    ];
    for (token, detector) in cases {
        let text = format!("using {token} now");
        assert_eq!(only(&text), (token.to_owned(), detector), "{text}");
    }
}

#[test]
fn aws_secret_key_near_an_access_key_id() {
    let text = "creds AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY end";
    assert_eq!(
        find(text),
        [
            ("AKIAIOSFODNN7EXAMPLE".into(), Detector::AwsAccessKeyId),
            (
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
                Detector::AwsSecretKey
            ),
        ]
    );
}

#[test]
fn jwt_and_pem() {
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
    assert_eq!(only(&format!("t={jwt}.")), (jwt.into(), Detector::Jwt));
    let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----";
    assert_eq!(
        only(&format!("key:\n{pem}\ndone")),
        (pem.into(), Detector::PemPrivateKey)
    );
    let cut = "-----BEGIN PRIVATE KEY-----\nMIIEow";
    assert_eq!(only(cut), (cut.into(), Detector::PemPrivateKey));
    assert_eq!(
        find("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"),
        []
    );
}

#[test]
fn key_value_secrets_keep_the_key() {
    assert_eq!(
        only("login password=hunter2 ok"),
        ("hunter2".into(), Detector::KeyValueSecret)
    );
    assert_eq!(
        only("db_password: 's3cr3t pass'"),
        ("s3cr3t pass".into(), Detector::KeyValueSecret)
    );
    assert_eq!(
        only(r#"{"client_secret":"abc","x":1}"#),
        ("abc".into(), Detector::KeyValueSecret)
    );
    assert_eq!(
        only(r#"{\"apiKey\":\"abc\"}"#),
        ("abc".into(), Detector::KeyValueSecret)
    );
    assert_eq!(
        only("cb?access_token=abc&state=1"),
        ("abc".into(), Detector::KeyValueSecret)
    );
    assert_eq!(
        only("Cookie: session=a; theme=dark\nHost: x"),
        ("session=a; theme=dark".into(), Detector::KeyValueSecret)
    );
    assert_eq!(find("password=[redacted] token: [redacted]"), []);
    assert_eq!(find("tokens_used=15 password_changed=true"), []);
}

#[test]
fn url_credentials_keep_scheme_and_host() {
    assert_eq!(
        only("connecting to postgres://app:hunter2@db.internal:5432/scans"),
        ("app:hunter2".into(), Detector::UrlCredentials)
    );
    assert_eq!(find("https://[redacted]@db.internal"), []);
    assert_eq!(find("ssh://git@host/repo"), []);
}

#[test]
fn emails() {
    assert_eq!(
        only("mail bob.smith+x@mail.example.org."),
        ("bob.smith+x@mail.example.org".into(), Detector::Email)
    );
    assert_eq!(find("bob@localhost and a@b.c0m"), []);
}

#[test]
fn cards_are_luhn_checked_and_whole() {
    assert_eq!(
        only("card 4111 1111 1111 1111 ok"),
        ("4111 1111 1111 1111".into(), Detector::PaymentCard)
    );
    assert_eq!(
        only("card 5500-0000-0000-0004"),
        ("5500-0000-0000-0004".into(), Detector::PaymentCard)
    );
    assert_eq!(
        only("n=4111111111111111"),
        ("4111111111111111".into(), Detector::PaymentCard)
    );
    assert_eq!(find("4111111111111112"), [], "Luhn fails");
    assert_eq!(find("x4111111111111111"), [], "inside a token");
    assert_eq!(find("1111111111111117"), [], "not a card network range");
    assert_eq!(
        find("4111 1111 1111 1111 2024"),
        [("4111 1111 1111 1111".into(), Detector::PaymentCard)]
    );
    assert!(is_card_number(4_111_111_111_111_111));
    assert!(!is_card_number(1_700_000_000_000));
}

#[test]
fn markers_are_recognised() {
    assert!(is_marker(MASK));
    assert!(is_marker(&format!("sha256:{}", "ab".repeat(32))));
    assert!(!is_marker(&format!("sha256:{}", "AB".repeat(32))));
    assert!(!is_marker("[redacted]x"));
}

#[test]
fn printed_card_numbers_with_one_separator_kind() {
    for card in [
        "5624 2962 4010 0148",
        "5624-2962-4010-0148",
        "3714 496353 98431",
        "3714-496353-98431",
        "4111 1111 1111 1111 110",
        "4111-1111-1111-1111-110",
    ] {
        let text = format!("paid with {card}, thanks");
        assert_eq!(only(&text), (card.into(), Detector::PaymentCard), "{text}");
    }
    assert_eq!(find("ref 5624 2962 4010 0149"), [], "Luhn fails");
    assert_eq!(find("ref 3714 496353 98432"), [], "Luhn fails");
    assert_eq!(find("ref 5624 2962-4010 0148"), [], "mixed separators");
    assert_eq!(find("ref 3714-496353 98431"), [], "mixed separators");
    assert_eq!(find("ref 5624  2962  4010  0148"), [], "double spaces");
}

#[test]
fn credential_pairs_are_masked_whole() {
    assert_eq!(
        find("credentials AKIAIOSFODNN7EXAMPLE:hunter2-Correct-Horse"),
        [
            (
                "AKIAIOSFODNN7EXAMPLE:hunter2-Correct-Horse".into(),
                Detector::KeyValueSecret
            ),
            (
                "AKIAIOSFODNN7EXAMPLE:hunter2-Correct-Horse".into(),
                Detector::AwsAccessKeyId
            ),
        ]
    );
    assert_eq!(
        only("key AKIAIOSFODNN7EXAMPLE/hunter2 used"),
        (
            "AKIAIOSFODNN7EXAMPLE/hunter2".into(),
            Detector::AwsAccessKeyId
        )
    );
    assert_eq!(
        only("loaded Credentials svc-build:Tr0ub4dor&3"),
        ("svc-build:Tr0ub4dor&3".into(), Detector::KeyValueSecret)
    );
    assert_eq!(
        only("client_id=web-ui:s3cr3tValue&x=1"),
        ("web-ui:s3cr3tValue".into(), Detector::KeyValueSecret)
    );
    assert_eq!(
        only("user=alice/hunter2 logged in"),
        ("alice/hunter2".into(), Detector::KeyValueSecret)
    );
    assert_eq!(find("client_id=web-ui user=alice"), []);
    assert_eq!(
        find("credentials expired: retry; credentials at /etc/aws/credentials"),
        []
    );
    assert_eq!(find("credentials from s3://bucket/key"), []);
    assert_eq!(find("credentials [redacted] and AKIA"), []);
}

#[test]
fn query_secrets_keep_the_name() {
    for name in [
        "sig",
        "signature",
        "X-Amz-Signature",
        "X-Amz-Credential",
        "X-Amz-Security-Token",
        "X-Goog-Signature",
        "X-Goog-Credential",
        "code",
        "client_secret",
        "refresh_token",
        "access_token",
        "id_token",
        "SIG",
        "x-amz-signature",
    ] {
        let text = format!("GET /cb?state=1&{name}=v4lue%2Fx#frag 302");
        assert_eq!(
            only(&text),
            ("v4lue%2Fx".into(), Detector::KeyValueSecret),
            "{text}"
        );
        let text = format!("GET /cb?{name}=v4lue done");
        assert_eq!(
            only(&text),
            ("v4lue".into(), Detector::KeyValueSecret),
            "{text}"
        );
    }
    assert_eq!(
        only("signature=abc123 ok"),
        ("abc123".into(), Detector::KeyValueSecret)
    );
    assert_eq!(
        only("oauth code=SplxlOBeZQQYbYS6WxSbIA exchanged"),
        ("SplxlOBeZQQYbYS6WxSbIA".into(), Detector::KeyValueSecret)
    );
    assert_eq!(
        find("order=asc exit_code=1 status_code=200 code=404 code: E42 config=prod"),
        []
    );
    assert_eq!(
        only("GET /o?X-Amz-Signature=ab,c;d&x=1"),
        ("ab,c;d".into(), Detector::KeyValueSecret)
    );
    assert_eq!(
        only(r#"{"url":"/o?sig=abc","n":1}"#),
        ("abc".into(), Detector::KeyValueSecret)
    );
    assert_eq!(find("/cb?sig=[redacted]&code=[redacted]"), []);
}

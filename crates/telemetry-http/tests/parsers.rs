//! Property tests: the JWT verifier, the window parser, the TTL parser and the incident body
//! parser never panic, whatever the input, and accept exactly what they should.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use http::{Method, StatusCode};
use proptest::prelude::*;
use std::sync::Arc;
use stellaops_telemetry_http::incident::{format_ttl, parse_ttl};
use stellaops_telemetry_http::window::{MAX_WINDOW, Window, parse_export_window};
use stellaops_telemetry_http::{Authorizer as _, JwtHs256, ManualClock};

fn now() -> DateTime<Utc> {
    "2025-03-01T12:00:00Z".parse().unwrap()
}

fn jwt() -> JwtHs256 {
    JwtHs256::new(
        b"property-test-secret-of-32-bytes!".to_vec(),
        Arc::new(ManualClock::new(now())),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn jwt_never_panics_on_any_text(token in ".{0,300}") {
        let _ = jwt().authorize(Some(&token));
    }

    #[test]
    fn jwt_never_panics_on_structured_garbage(
        header in proptest::collection::vec(any::<u8>(), 0..80),
        payload in proptest::collection::vec(any::<u8>(), 0..200),
        signature in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        let token = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(&header),
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(&signature)
        );
        prop_assert!(jwt().authorize(Some(&token)).is_err());
    }

    #[test]
    fn jwt_accepts_exactly_its_own_unexpired_tokens(
        sub in "[a-z]{1,12}@[a-z]{1,8}",
        tenant in "[a-z][a-z0-9-]{0,15}",
        scopes in proptest::sample::subsequence(vec!["telemetry:read", "telemetry:admin", "telemetry:export"], 0..=3),
        ttl in -3600i64..3600,
        flip in any::<prop::sample::Index>(),
    ) {
        let j = jwt();
        let token = j.issue(&sub, &tenant, &scopes, now() + Duration::seconds(ttl));
        let result = j.authorize(Some(&token));
        if ttl > 0 {
            let p = result.unwrap();
            prop_assert_eq!((p.subject.as_str(), p.tenant.as_str()), (sub.as_str(), tenant.as_str()));
            prop_assert_eq!(p.scopes.len(), scopes.len());
        } else {
            prop_assert_eq!(result.unwrap_err().code(), "telemetry.auth.expired_token");
        }
        // any single changed character of the signed part is refused
        let signed = token.rfind('.').unwrap();
        let i = flip.index(signed);
        let mut bytes = token.into_bytes();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        prop_assert!(j.authorize(Some(&tampered)).is_err());
    }

    #[test]
    fn window_never_panics_and_bounds_hold(text in ".{0,80}") {
        if let Ok(w) = parse_export_window(&text, now()) {
            prop_assert!(w.start < w.end);
            prop_assert!(w.end - w.start <= MAX_WINDOW);
        }
    }

    #[test]
    fn window_ranges_round_trip(start in 0i64..2_000_000_000, len in 1i64..(31 * 86_400)) {
        let s = DateTime::<Utc>::from_timestamp(start, 0).unwrap();
        let e = s + Duration::seconds(len);
        let text = format!("{}/{}", s.to_rfc3339(), e.to_rfc3339());
        prop_assert_eq!(parse_export_window(&text, now()).unwrap(), Window { start: s, end: e });
    }

    #[test]
    fn ttl_round_trips(seconds in 1u64..10_000_000) {
        let ttl = std::time::Duration::from_secs(seconds);
        prop_assert_eq!(parse_ttl(&format_ttl(ttl)), Some(ttl));
    }

    #[test]
    fn ttl_never_panics(text in ".{0,24}") {
        let _ = parse_ttl(&text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Whatever the body, the toggle endpoint answers 200, 400 or 403, never 500, and every
    /// error names a field.
    #[test]
    fn incident_bodies_never_cause_server_errors(
        body in prop_oneof![
            ".{0,120}",
            (any::<Option<String>>(), any::<Option<bool>>(), any::<Option<String>>(), any::<Option<String>>())
                .prop_map(|(t, e, r, ttl)| serde_json::json!({"tenant": t, "enabled": e, "reason": r, "ttl": ttl}).to_string()),
        ]
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let f = support::Fixture::new();
        let reply = runtime.block_on(f.send(Method::POST, "/telemetry/incidents/mode", Some("acme-admin"), Some(&body)));
        prop_assert!(
            [StatusCode::OK, StatusCode::BAD_REQUEST, StatusCode::FORBIDDEN].contains(&reply.status),
            "{} for {:?}", reply.status, body
        );
        if reply.status == StatusCode::BAD_REQUEST {
            prop_assert!(reply.error().1.is_some());
        }
    }
}

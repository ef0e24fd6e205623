//! The HTTP API contract through `tower::ServiceExt::oneshot`: every endpoint's success path,
//! every scope and tenant rule (cross-tenant attempts included), malformed bodies and windows
//! (400 naming the field), the audit record of every toggle and export, ETag/304, 404/405.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use http::{Method, StatusCode};
use sha2::{Digest as _, Sha256};
use std::io::Cursor;
use std::sync::Arc;
use stellaops_bundle_format::{BundleReader, Signal};
use stellaops_dsse::{TrustedKeys, Verifier};
use stellaops_telemetry_http::{
    AuditAction, AuditOutcome, ExportError, ForensicExporter, JwtHs256, window::Window,
};
use support::{Fixture, now, send};

fn verifier() -> Verifier {
    Verifier::new(TrustedKeys::new().with(support::key()).unwrap())
}

const START: &str =
    r#"{"tenant":"acme","enabled":true,"reason":"CVE-2025-12345 investigation","ttl":"45m"}"#;

#[tokio::test]
async fn health_ready_and_metrics_need_no_token() {
    let f = Fixture::new();
    let r = f.send(Method::GET, "/healthz", None, None).await;
    assert_eq!(
        (r.status, r.json()["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    let r = f.send(Method::GET, "/readyz", None, None).await;
    assert_eq!(
        (r.status, r.json()["status"].as_str()),
        (StatusCode::OK, Some("ready"))
    );
    let r = f.send(Method::GET, "/metrics", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text; version=1.0.0")
    );
    let text = String::from_utf8(r.body).unwrap();
    assert!(text.contains("stellaops_request_total{service=\"demo\",status=\"200\"} 3"));
    assert!(text.ends_with("# EOF\n"));
}

#[tokio::test]
async fn readyz_reports_what_is_not_ready() {
    let f = Fixture::with(|b| b.readiness(Arc::new(|| Err("spool not mounted".to_owned()))));
    let r = f.send(Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.error().0, "telemetry.http.not_ready");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("spool not mounted")
    );
}

#[tokio::test]
async fn profiles_are_listed_with_their_etags() {
    let f = Fixture::new();
    let r = f
        .send(
            Method::GET,
            "/telemetry/config/profiles",
            Some("acme-read"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let json = r.json();
    let names: Vec<&str> = json["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default", "forensic", "airgap"]);
    let forensic = &json["profiles"][1];
    assert_eq!(forensic["traceSamplingRatio"], 1.0);
    assert_eq!(forensic["retentionDays"], 180);
    assert_eq!(json["profiles"][2]["sealed"], true);
    let one = f
        .send(
            Method::GET,
            "/telemetry/config/profile/forensic",
            Some("acme-read"),
            None,
        )
        .await;
    assert_eq!(forensic["etag"].as_str(), one.headers["etag"].to_str().ok());
}

#[tokio::test]
async fn profile_bundle_is_signed_and_cached_by_etag() {
    let f = Fixture::new();
    let uri = "/telemetry/config/profile/default";
    let r = f.send(Method::GET, uri, Some("acme-read"), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["content-type"], "application/json");
    let etag = r.headers["etag"].to_str().unwrap().to_owned();
    assert_eq!(
        etag,
        format!("\"sha256:{}\"", hex::encode(Sha256::digest(&r.body)))
    );
    let json = r.json();
    assert_eq!(json["profile"], "default");
    assert!(
        json["files"]["collector/agent.yaml"]
            .as_str()
            .unwrap()
            .contains("receivers")
    );
    // the DSSE envelope verifies with the site key and signs exactly the served manifest
    let envelope = serde_json::to_vec(&json["signature"]).unwrap();
    let verified = verifier()
        .verify_json(
            &envelope,
            stellaops_telemetry_deploy::bundle::MANIFEST_PAYLOAD_TYPE,
        )
        .unwrap();
    assert_eq!(
        verified.payload(),
        json["files"]["manifest.json"].as_str().unwrap().as_bytes()
    );
    // the same request gives the same bytes (deterministic rendering)
    let again = f.send(Method::GET, uri, Some("acme-read"), None).await;
    assert_eq!(again.body, r.body);

    for header in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"other\", {etag}"),
        "*".to_owned(),
    ] {
        let cached = send(
            &f.router,
            Method::GET,
            uri,
            Some("acme-read"),
            None,
            &[("if-none-match", &header)],
        )
        .await;
        assert_eq!(cached.status, StatusCode::NOT_MODIFIED, "{header}");
        assert!(cached.body.is_empty());
        assert_eq!(cached.headers["etag"].to_str().unwrap(), etag);
    }
    let stale = send(
        &f.router,
        Method::GET,
        uri,
        Some("acme-read"),
        None,
        &[("if-none-match", "\"sha256:0000\"")],
    )
    .await;
    assert_eq!(stale.status, StatusCode::OK);
    // profile names are case-insensitive; unknown ones are 404 naming the field
    let upper = f
        .send(
            Method::GET,
            "/telemetry/config/profile/AIRGAP",
            Some("acme-read"),
            None,
        )
        .await;
    assert_eq!(upper.json()["profile"], "airgap");
    let unknown = f
        .send(
            Method::GET,
            "/telemetry/config/profile/nope",
            Some("acme-read"),
            None,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(
        unknown.error(),
        (
            "telemetry.config.unknown_profile".to_owned(),
            Some("name".to_owned())
        )
    );
}

#[tokio::test]
async fn incident_start_status_expiry_and_stop() {
    let f = Fixture::new();
    let r = f
        .send(
            Method::POST,
            "/telemetry/incidents/mode",
            Some("acme-admin"),
            Some(START),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let view = r.json();
    assert_eq!(view["tenant"], "acme");
    assert_eq!(view["active"], true);
    assert_eq!(view["actor"], "admin@acme");
    assert_eq!(view["reason"], "CVE-2025-12345 investigation");
    assert_eq!(view["startedAt"], "2025-03-01T12:00:00Z");
    assert_eq!(view["expiresAt"], "2025-03-01T12:45:00Z");

    let status = f
        .send(
            Method::GET,
            "/telemetry/incidents/status",
            Some("acme-read"),
            None,
        )
        .await;
    assert_eq!(status.status, StatusCode::OK);
    assert_eq!(status.json()["incidents"][0]["active"], true);
    let other = f
        .send(
            Method::GET,
            "/telemetry/incidents/status",
            Some("globex-all"),
            None,
        )
        .await;
    assert_eq!(other.json()["incidents"][0]["tenant"], "globex");
    assert_eq!(other.json()["incidents"][0]["active"], false);

    // expires by itself once the clock passes expiresAt
    f.clock.advance(chrono::Duration::minutes(45));
    let status = f
        .send(
            Method::GET,
            "/telemetry/incidents/status?tenant=acme",
            Some("acme-read"),
            None,
        )
        .await;
    assert_eq!(status.json()["incidents"][0]["active"], false);

    // default TTL is 30 minutes; stop ends it now
    let r = f
        .send(
            Method::POST,
            "/telemetry/incidents/mode",
            Some("acme-admin"),
            Some(r#"{"tenant":"acme","enabled":true,"reason":"again"}"#),
        )
        .await;
    assert_eq!(r.json()["expiresAt"], "2025-03-01T13:15:00Z");
    let r = f
        .send(
            Method::POST,
            "/telemetry/incidents/mode",
            Some("acme-admin"),
            Some(r#"{"tenant":"acme","enabled":false}"#),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["active"], false);
    let status = f
        .send(
            Method::GET,
            "/telemetry/incidents/status",
            Some("acme-read"),
            None,
        )
        .await;
    assert_eq!(status.json()["incidents"][0]["active"], false);
}

fn records(bundle: &[u8]) -> Vec<(Signal, Vec<u8>)> {
    let (verified, records) = BundleReader::new(verifier())
        .read_records(Cursor::new(bundle))
        .unwrap();
    assert_eq!(verified.manifest().tenant, "acme");
    records
}

#[tokio::test]
async fn forensic_export_streams_the_callers_signed_bundle_and_is_audited() {
    let f = Fixture::new();
    let r = f
        .send(
            Method::GET,
            "/telemetry/exports/forensic/24h",
            Some("acme-export"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["content-type"], "application/gzip");
    assert!(
        r.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("forensic-acme-20250228T120000Z-20250301T120000Z.tar.gz")
    );
    let got = records(&r.body);
    // only acme's records inside the window, ordered by time; never globex's
    assert_eq!(
        got,
        vec![
            (Signal::Logs, b"acme-log-2h".to_vec()),
            (Signal::Traces, b"acme-trace-1h".to_vec()),
        ]
    );
    let audit = f.audit.records();
    assert_eq!(audit.len(), 1);
    let record = &audit[0];
    assert_eq!(
        (record.actor.as_str(), record.tenant.as_str()),
        ("auditor@acme", "acme")
    );
    assert_eq!(record.outcome, AuditOutcome::Ok);
    assert_eq!(record.at, now());
    let AuditAction::ForensicExport {
        window,
        start,
        end,
        bytes,
        digest,
    } = &record.action
    else {
        panic!("{record:?}");
    };
    assert_eq!(window, "24h");
    assert_eq!(*start, Some(now() - chrono::Duration::hours(24)));
    assert_eq!(*end, Some(now()));
    assert_eq!(*bytes, r.body.len() as u64);
    assert_eq!(
        digest.as_deref(),
        Some(format!("sha256:{}", hex::encode(Sha256::digest(&r.body))).as_str())
    );

    // an explicit RFC 3339 range, URL-encoded, and the caller's own tenant named explicitly
    let range = "2025-02-27T00:00:00Z%2F2025-03-01T00:00:00Z";
    let r = f
        .send(
            Method::GET,
            &format!("/telemetry/exports/forensic/{range}?tenant=acme"),
            Some("acme-all"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        records(&r.body),
        vec![(Signal::Traces, b"acme-trace-48h".to_vec())]
    );
    let last = f.audit.records().pop().unwrap();
    assert!(
        matches!(&last.action, AuditAction::ForensicExport { window, .. } if window == "2025-02-27T00:00:00Z/2025-03-01T00:00:00Z")
    );
}

struct Table {
    method: Method,
    uri: &'static str,
    body: Option<&'static str>,
    token: Option<&'static str>,
    status: StatusCode,
    code: Option<&'static str>,
}

fn row(
    method: Method,
    uri: &'static str,
    body: Option<&'static str>,
    token: Option<&'static str>,
    status: StatusCode,
    code: Option<&'static str>,
) -> Table {
    Table {
        method,
        uri,
        body,
        token,
        status,
        code,
    }
}

#[tokio::test]
async fn every_scope_and_tenant_rule() {
    use StatusCode as S;
    const PROFILES: &str = "/telemetry/config/profiles";
    const PROFILE: &str = "/telemetry/config/profile/default";
    const MODE: &str = "/telemetry/incidents/mode";
    const STATUS: &str = "/telemetry/incidents/status";
    const EXPORT: &str = "/telemetry/exports/forensic/24h";
    const GLOBEX_BODY: &str = r#"{"tenant":"globex","enabled":true,"reason":"peek"}"#;
    const MISSING: Option<&str> = Some("telemetry.auth.missing_token");
    const INVALID: Option<&str> = Some("telemetry.auth.invalid_token");
    const SCOPE: Option<&str> = Some("telemetry.auth.missing_scope");
    const TENANT: Option<&str> = Some("telemetry.auth.tenant_forbidden");
    let get = || Method::GET;
    let post = || Method::POST;
    let table = [
        // read endpoints: telemetry:read only
        row(get(), PROFILES, None, None, S::UNAUTHORIZED, MISSING),
        row(
            get(),
            PROFILES,
            None,
            Some("forged"),
            S::UNAUTHORIZED,
            INVALID,
        ),
        row(get(), PROFILES, None, Some("acme-read"), S::OK, None),
        row(
            get(),
            PROFILES,
            None,
            Some("acme-admin"),
            S::FORBIDDEN,
            SCOPE,
        ),
        row(
            get(),
            PROFILES,
            None,
            Some("acme-export"),
            S::FORBIDDEN,
            SCOPE,
        ),
        row(
            get(),
            PROFILES,
            None,
            Some("acme-none"),
            S::FORBIDDEN,
            SCOPE,
        ),
        row(get(), PROFILE, None, None, S::UNAUTHORIZED, MISSING),
        row(get(), PROFILE, None, Some("acme-read"), S::OK, None),
        row(
            get(),
            PROFILE,
            None,
            Some("acme-admin"),
            S::FORBIDDEN,
            SCOPE,
        ),
        row(get(), STATUS, None, None, S::UNAUTHORIZED, MISSING),
        row(get(), STATUS, None, Some("acme-read"), S::OK, None),
        row(
            get(),
            STATUS,
            None,
            Some("acme-export"),
            S::FORBIDDEN,
            SCOPE,
        ),
        row(
            get(),
            "/telemetry/incidents/status?tenant=acme",
            None,
            Some("acme-read"),
            S::OK,
            None,
        ),
        // no cross-tenant read, ever (even with every scope)
        row(
            get(),
            "/telemetry/incidents/status?tenant=globex",
            None,
            Some("acme-read"),
            S::FORBIDDEN,
            TENANT,
        ),
        row(
            get(),
            "/telemetry/incidents/status?tenant=globex",
            None,
            Some("acme-all"),
            S::FORBIDDEN,
            TENANT,
        ),
        row(
            get(),
            "/telemetry/incidents/status?tenant=acme",
            None,
            Some("globex-all"),
            S::FORBIDDEN,
            TENANT,
        ),
        // incident toggles: telemetry:admin, own tenant only
        row(post(), MODE, Some(START), None, S::UNAUTHORIZED, MISSING),
        row(
            post(),
            MODE,
            Some(START),
            Some("forged"),
            S::UNAUTHORIZED,
            INVALID,
        ),
        row(post(), MODE, Some(START), Some("acme-admin"), S::OK, None),
        row(
            post(),
            MODE,
            Some(START),
            Some("acme-read"),
            S::FORBIDDEN,
            SCOPE,
        ),
        row(
            post(),
            MODE,
            Some(START),
            Some("acme-export"),
            S::FORBIDDEN,
            SCOPE,
        ),
        row(
            post(),
            MODE,
            Some(START),
            Some("acme-none"),
            S::FORBIDDEN,
            SCOPE,
        ),
        row(
            post(),
            MODE,
            Some(GLOBEX_BODY),
            Some("acme-admin"),
            S::FORBIDDEN,
            TENANT,
        ),
        row(
            post(),
            MODE,
            Some(GLOBEX_BODY),
            Some("acme-all"),
            S::FORBIDDEN,
            TENANT,
        ),
        row(
            post(),
            MODE,
            Some(START),
            Some("globex-all"),
            S::FORBIDDEN,
            TENANT,
        ),
        // exports: telemetry:export, own tenant only
        row(get(), EXPORT, None, None, S::UNAUTHORIZED, MISSING),
        row(
            get(),
            EXPORT,
            None,
            Some("forged"),
            S::UNAUTHORIZED,
            INVALID,
        ),
        row(get(), EXPORT, None, Some("acme-export"), S::OK, None),
        row(get(), EXPORT, None, Some("acme-read"), S::FORBIDDEN, SCOPE),
        row(get(), EXPORT, None, Some("acme-admin"), S::FORBIDDEN, SCOPE),
        row(
            get(),
            "/telemetry/exports/forensic/24h?tenant=globex",
            None,
            Some("acme-export"),
            S::FORBIDDEN,
            TENANT,
        ),
        row(
            get(),
            "/telemetry/exports/forensic/24h?tenant=acme",
            None,
            Some("globex-all"),
            S::FORBIDDEN,
            TENANT,
        ),
        // unauthenticated operational endpoints
        row(get(), "/metrics", None, None, S::OK, None),
        row(get(), "/healthz", None, Some("forged"), S::OK, None),
        row(get(), "/readyz", None, None, S::OK, None),
    ];
    let f = Fixture::new();
    for t in &table {
        let r = f.send(t.method.clone(), t.uri, t.token, t.body).await;
        let what = format!("{} {} token={:?}", t.method, t.uri, t.token);
        assert_eq!(
            r.status,
            t.status,
            "{what}: {}",
            String::from_utf8_lossy(&r.body)
        );
        if let Some(code) = t.code {
            assert_eq!(r.error().0, code, "{what}");
        }
        if t.status == S::UNAUTHORIZED {
            let challenge = r.headers["www-authenticate"].to_str().unwrap();
            assert!(
                challenge.starts_with("Bearer realm="),
                "{what}: {challenge}"
            );
        }
    }
    // no globex data ever left through an acme token, and nothing of acme through globex
    assert!(!f.incidents_active("globex"));
}

impl Fixture {
    fn incidents_active(&self, tenant: &str) -> bool {
        use stellaops_telemetry_http::IncidentApi as _;
        self.incidents.status(Some(tenant))[0].active
    }
}

#[tokio::test]
async fn authorization_header_must_be_a_bearer_token() {
    let f = Fixture::new();
    for value in ["Basic YWNtZTpwdw==", "Bearer", "Bearer   ", "acme-read"] {
        let r = send(
            &f.router,
            Method::GET,
            "/telemetry/incidents/status",
            None,
            None,
            &[("authorization", value)],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{value}");
        assert_eq!(r.error().0, "telemetry.auth.malformed_token", "{value}");
        assert!(
            r.headers["www-authenticate"]
                .to_str()
                .unwrap()
                .contains("error=\"invalid_token\"")
        );
    }
    // the scheme is case-insensitive
    let r = send(
        &f.router,
        Method::GET,
        "/telemetry/incidents/status",
        None,
        None,
        &[("authorization", "bearer acme-read")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn malformed_bodies_are_400_naming_the_field() {
    let f = Fixture::new();
    let cases: &[(&str, &str, &str)] = &[
        ("{", "telemetry.http.invalid_json", "body"),
        ("", "telemetry.http.invalid_json", "body"),
        ("[1,2]", "telemetry.http.invalid_json", "body"),
        (
            r#"{"enabled":true,"reason":"r"}"#,
            "telemetry.http.missing_field",
            "tenant",
        ),
        (
            r#"{"tenant":null,"enabled":true,"reason":"r"}"#,
            "telemetry.http.missing_field",
            "tenant",
        ),
        (
            r#"{"tenant":7,"enabled":true,"reason":"r"}"#,
            "telemetry.http.invalid_field",
            "tenant",
        ),
        (
            r#"{"tenant":"","enabled":true,"reason":"r"}"#,
            "telemetry.http.invalid_tenant",
            "tenant",
        ),
        (
            r#"{"tenant":"acme"}"#,
            "telemetry.http.missing_field",
            "enabled",
        ),
        (
            r#"{"tenant":"acme","enabled":"yes","reason":"r"}"#,
            "telemetry.http.invalid_field",
            "enabled",
        ),
        (
            r#"{"tenant":"acme","enabled":true}"#,
            "telemetry.http.missing_field",
            "reason",
        ),
        (
            r#"{"tenant":"acme","enabled":true,"reason":""}"#,
            "telemetry.http.invalid_field",
            "reason",
        ),
        (
            r#"{"tenant":"acme","enabled":true,"reason":"r","ttl":"soon"}"#,
            "telemetry.incident.invalid_ttl",
            "ttl",
        ),
        (
            r#"{"tenant":"acme","enabled":true,"reason":"r","ttl":"0m"}"#,
            "telemetry.incident.invalid_ttl",
            "ttl",
        ),
        (
            r#"{"tenant":"acme","enabled":true,"reason":"r","ttl":"8d"}"#,
            "telemetry.incident.invalid_ttl",
            "ttl",
        ),
        (
            r#"{"tenant":"acme","enabled":true,"reason":"r","ttl":30}"#,
            "telemetry.incident.invalid_ttl",
            "ttl",
        ),
        (
            r#"{"tenant":"acme","enabled":true,"reason":"r","TTL":"30m"}"#,
            "telemetry.http.unknown_field",
            "TTL",
        ),
    ];
    for (body, code, field) in cases {
        let r = f
            .send(
                Method::POST,
                "/telemetry/incidents/mode",
                Some("acme-admin"),
                Some(body),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            r.error(),
            ((*code).to_owned(), Some((*field).to_owned())),
            "{body}"
        );
    }
    // nothing was toggled, and malformed requests are not audited as toggles
    assert!(!f.incidents_active("acme"));
    assert!(f.audit.is_empty());
    // a bad tenant query parameter
    let r = f
        .send(
            Method::GET,
            "/telemetry/incidents/status?tenant=",
            Some("acme-read"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error().1.as_deref(), Some("tenant"));
}

#[tokio::test]
async fn malformed_windows_are_400_naming_the_field() {
    let f = Fixture::new();
    for window in [
        "yesterday",
        "0h",
        "32d",
        "24",
        "2025-03-01T00:00:00Z%2F2025-02-01T00:00:00Z",
        "2025-03-01T00:00:00Z%2Fnot-a-time",
        "2025-01-01T00:00:00Z%2F2025-03-01T00:00:00Z",
        "%FF%FE",
    ] {
        let r = f
            .send(
                Method::GET,
                &format!("/telemetry/exports/forensic/{window}"),
                Some("acme-export"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{window}");
        assert_eq!(
            r.error(),
            (
                "telemetry.capture.invalid_window".to_owned(),
                Some("window".to_owned())
            ),
            "{window}"
        );
    }
    assert!(f.audit.is_empty());
}

#[tokio::test]
async fn every_toggle_is_audited_including_refusals() {
    let f = Fixture::new();
    let post = |token, body| {
        f.send(
            Method::POST,
            "/telemetry/incidents/mode",
            Some(token),
            Some(body),
        )
    };
    assert_eq!(post("acme-admin", START).await.status, StatusCode::OK);
    assert_eq!(post("acme-read", START).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        post("acme-admin", r#"{"tenant":"globex","enabled":false}"#)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post("acme-admin", r#"{"tenant":"acme","enabled":false}"#)
            .await
            .status,
        StatusCode::OK
    );
    let audit = f.audit.records();
    let summary = audit
        .iter()
        .map(|r| {
            let AuditAction::IncidentToggle {
                enabled,
                reason,
                ttl_seconds,
            } = &r.action
            else {
                panic!("{r:?}");
            };
            (
                r.actor.as_str(),
                r.actor_tenant.as_str(),
                r.tenant.as_str(),
                *enabled,
                reason.as_deref(),
                *ttl_seconds,
                r.outcome,
                r.code.as_deref(),
            )
        })
        .collect::<Vec<_>>();
    let reason = Some("CVE-2025-12345 investigation");
    assert_eq!(
        summary,
        vec![
            (
                "admin@acme",
                "acme",
                "acme",
                true,
                reason,
                Some(2700),
                AuditOutcome::Ok,
                None
            ),
            (
                "reader@acme",
                "acme",
                "acme",
                true,
                reason,
                Some(2700),
                AuditOutcome::Denied,
                Some("telemetry.auth.missing_scope")
            ),
            (
                "admin@acme",
                "acme",
                "globex",
                false,
                None,
                None,
                AuditOutcome::Denied,
                Some("telemetry.auth.tenant_forbidden")
            ),
            (
                "admin@acme",
                "acme",
                "acme",
                false,
                None,
                None,
                AuditOutcome::Ok,
                None
            ),
        ]
    );
    assert!(audit.iter().all(|r| r.at == now()));
    assert!(audit[0].to_json().contains("\"kind\":\"incident_toggle\""));
}

#[tokio::test]
async fn refused_exports_are_audited() {
    let f = Fixture::new();
    f.send(
        Method::GET,
        "/telemetry/exports/forensic/7d",
        Some("acme-read"),
        None,
    )
    .await;
    f.send(
        Method::GET,
        "/telemetry/exports/forensic/7d?tenant=globex",
        Some("acme-export"),
        None,
    )
    .await;
    let audit = f.audit.records();
    assert_eq!(audit.len(), 2);
    assert_eq!(
        audit
            .iter()
            .map(|r| (r.tenant.as_str(), r.outcome, r.code.as_deref()))
            .collect::<Vec<_>>(),
        vec![
            (
                "acme",
                AuditOutcome::Denied,
                Some("telemetry.auth.missing_scope")
            ),
            (
                "globex",
                AuditOutcome::Denied,
                Some("telemetry.auth.tenant_forbidden")
            ),
        ]
    );
    assert!(audit.iter().all(|r| matches!(&r.action, AuditAction::ForensicExport { bytes: 0, digest: None, window, .. } if window == "7d")));
}

#[derive(Debug)]
struct Unavailable;

impl ForensicExporter for Unavailable {
    fn export(&self, _: &str, _: &Window, _: &mut dyn std::io::Write) -> Result<(), ExportError> {
        Err(ExportError::Unavailable(
            "the spool is being compacted".to_owned(),
        ))
    }
}

/// Writes `len` bytes in odd-sized pieces, then fails or succeeds.
struct Large {
    len: usize,
    fail_after: bool,
}

impl ForensicExporter for Large {
    fn export(&self, _: &str, _: &Window, out: &mut dyn std::io::Write) -> Result<(), ExportError> {
        let piece = vec![0xA5u8; 10_007];
        let mut left = self.len;
        while left > 0 {
            let n = left.min(piece.len());
            out.write_all(&piece[..n])?;
            left -= n;
        }
        if self.fail_after {
            return Err(ExportError::Bundle {
                code: "bundle.io".into(),
                message: "disk full".into(),
            });
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_failing_export_is_an_error_response_and_audited() {
    let f = Fixture::with_exporter(Arc::new(Unavailable));
    let r = f
        .send(
            Method::GET,
            "/telemetry/exports/forensic/1h",
            Some("acme-export"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.error().0, "telemetry.export.unavailable");
    let audit = f.audit.records();
    assert_eq!((audit.len(), audit[0].outcome), (1, AuditOutcome::Failed));
    assert_eq!(
        audit[0].code.as_deref(),
        Some("telemetry.export.unavailable")
    );
}

#[tokio::test]
async fn large_exports_stream_every_byte_in_bounded_chunks() {
    let len = 3 * 1024 * 1024 + 17;
    let f = Fixture::with_exporter(Arc::new(Large {
        len,
        fail_after: false,
    }));
    let r = f
        .send(
            Method::GET,
            "/telemetry/exports/forensic/1h",
            Some("acme-export"),
            None,
        )
        .await;
    assert_eq!((r.status, r.body.len()), (StatusCode::OK, len));
    assert!(r.body.iter().all(|b| *b == 0xA5));
    let audit = f.audit.records();
    assert!(
        matches!(audit[0].action, AuditAction::ForensicExport { bytes, .. } if bytes == len as u64)
    );

    // a failure after streaming started aborts the body instead of ending it cleanly
    let f = Fixture::with_exporter(Arc::new(Large {
        len,
        fail_after: true,
    }));
    let request = http::Request::get("/telemetry/exports/forensic/1h")
        .header("authorization", "Bearer acme-export")
        .body(axum::body::Body::empty())
        .unwrap();
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;
    let response = f.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.into_body().collect().await.is_err());
    let audit = f.audit.records();
    assert_eq!(audit[0].outcome, AuditOutcome::Failed);
    assert_eq!(audit[0].code.as_deref(), Some("telemetry.export.bundle"));
}

#[tokio::test]
async fn unknown_routes_are_404_json_and_wrong_methods_405() {
    let f = Fixture::new();
    for uri in [
        "/",
        "/telemetry",
        "/telemetry/config/profile",
        "/telemetry/exports/forensic/24h/extra",
    ] {
        let r = f.send(Method::GET, uri, Some("acme-all"), None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(r.error().0, "telemetry.http.not_found");
    }
    for (method, uri) in [
        (Method::GET, "/telemetry/incidents/mode"),
        (Method::POST, "/telemetry/incidents/status"),
        (Method::DELETE, "/telemetry/config/profiles"),
        (Method::PUT, "/telemetry/exports/forensic/24h"),
        (Method::POST, "/metrics"),
    ] {
        let r = f.send(method.clone(), uri, Some("acme-all"), None).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
        assert_eq!(r.error().0, "telemetry.http.method_not_allowed");
        let allow = r.headers["allow"].to_str().unwrap();
        let expected = if uri == "/telemetry/incidents/mode" {
            "POST"
        } else {
            "GET,HEAD"
        };
        assert_eq!(allow, expected, "{method} {uri}");
    }
}

#[tokio::test]
async fn jwt_bearer_tokens_through_the_router() {
    let clock = Arc::new(stellaops_telemetry_http::ManualClock::new(now()));
    let jwt = JwtHs256::new(
        b"a-long-enough-hmac-secret-for-hs256".to_vec(),
        clock.clone(),
    );
    let token = jwt.issue(
        "ops@acme",
        "acme",
        &["telemetry:read"],
        now() + chrono::Duration::minutes(5),
    );
    let f = Fixture::with(|b| b.clock(clock.clone()));
    let state = stellaops_telemetry_http::TelemetryState::builder(
        Arc::new(jwt),
        f.incidents.clone(),
        f.exporter.clone(),
        Arc::new(support::key()),
    )
    .clock(clock.clone())
    .build()
    .unwrap();
    let router = stellaops_telemetry_http::TelemetryRouter::new(state).into_router();
    let r = send(
        &router,
        Method::GET,
        "/telemetry/incidents/status",
        Some(&token),
        None,
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["incidents"][0]["tenant"], "acme");
    let r = send(
        &router,
        Method::GET,
        "/telemetry/exports/forensic/1h",
        Some(&token),
        None,
        &[],
    )
    .await;
    assert_eq!(r.error().0, "telemetry.auth.missing_scope");
    clock.advance(chrono::Duration::minutes(5));
    let r = send(
        &router,
        Method::GET,
        "/telemetry/incidents/status",
        Some(&token),
        None,
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.error().0, "telemetry.auth.expired_token");
}

/// Forwards every record to a channel, so a test can await the one it expects.
struct ChannelAudit(tokio::sync::mpsc::UnboundedSender<stellaops_telemetry_http::AuditRecord>);

impl stellaops_telemetry_http::AuditSink for ChannelAudit {
    fn record(&self, record: &stellaops_telemetry_http::AuditRecord) {
        let _ = self.0.send(record.clone());
    }
}

#[tokio::test]
async fn a_client_that_goes_away_stops_the_export_with_bounded_buffering() {
    use http_body_util::BodyExt as _;
    use stellaops_telemetry_http::router::{EXPORT_CHUNK, EXPORT_QUEUE};
    use tower::ServiceExt as _;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let huge = 512 * 1024 * 1024;
    let f = Fixture::build(
        Some(Arc::new(Large {
            len: huge,
            fail_after: false,
        })),
        |b| b.audit(Arc::new(ChannelAudit(tx))),
    );
    let request = http::Request::get("/telemetry/exports/forensic/1h")
        .header("authorization", "Bearer acme-export")
        .body(axum::body::Body::empty())
        .unwrap();
    let response = f.router.clone().oneshot(request).await.unwrap();
    let mut body = response.into_body();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(first.len(), EXPORT_CHUNK);
    drop(body);
    let record = tokio::time::timeout(std::time::Duration::from_secs(60), rx.recv())
        .await
        .expect("the exporter did not stop after the client went away")
        .unwrap();
    assert_eq!(record.outcome, AuditOutcome::Failed);
    assert_eq!(record.code.as_deref(), Some("telemetry.export.io"));
    let AuditAction::ForensicExport { bytes, .. } = record.action else {
        panic!("{record:?}");
    };
    // the exporter never ran more than the channel's capacity ahead of the reader
    assert!(bytes >= EXPORT_CHUNK as u64);
    assert!(
        bytes <= ((EXPORT_QUEUE + 2) * EXPORT_CHUNK) as u64,
        "{bytes} bytes buffered"
    );
}

#[tokio::test]
async fn head_probes_an_export_without_running_or_auditing_it() {
    let f = Fixture::new();
    let r = f
        .send(
            Method::HEAD,
            "/telemetry/exports/forensic/24h",
            Some("acme-export"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["content-type"], "application/gzip");
    assert!(r.body.is_empty());
    assert!(f.audit.is_empty());
    // access is still checked, and a refused probe is audited like any refused export
    let r = f
        .send(
            Method::HEAD,
            "/telemetry/exports/forensic/24h",
            Some("acme-read"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(f.audit.records()[0].outcome, AuditOutcome::Denied);
    let r = f
        .send(
            Method::HEAD,
            "/telemetry/exports/forensic/99d",
            Some("acme-export"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[test]
fn jwt_with_critical_extensions_or_other_algorithms_is_refused() {
    use base64::Engine as _;
    use stellaops_telemetry_http::Authorizer as _;
    let b64 = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    let clock = Arc::new(stellaops_telemetry_http::ManualClock::new(now()));
    let secret = b"a-long-enough-hmac-secret-for-hs256".to_vec();
    let jwt = JwtHs256::new(secret.clone(), clock);
    let claims = r#"{"sub":"s","tenant":"acme","scope":"telemetry:read","exp":1900000000}"#;
    let sign = |header: &str| {
        use hmac::{KeyInit as _, Mac as _};
        let input = format!("{}.{}", b64(header), b64(claims));
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&secret).unwrap();
        mac.update(input.as_bytes());
        let sig =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{input}.{sig}")
    };
    assert!(
        jwt.authorize(Some(&sign(r#"{"alg":"HS256","typ":"JWT"}"#)))
            .is_ok()
    );
    for header in [
        r#"{"alg":"HS256","crit":["b64"],"b64":false}"#,
        r#"{"alg":"none"}"#,
        r#"{"alg":"HS512"}"#,
        r#"{"alg":"hs256"}"#,
        r#"{"typ":"JWT"}"#,
    ] {
        let err = jwt.authorize(Some(&sign(header))).unwrap_err();
        assert!(
            [
                "telemetry.auth.invalid_token",
                "telemetry.auth.malformed_token"
            ]
            .contains(&err.code()),
            "{header}: {err}"
        );
    }
    // an unsigned token ("alg":"none" with an empty signature) is refused too
    let unsigned = format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64(claims));
    assert!(jwt.authorize(Some(&unsigned)).is_err());
}

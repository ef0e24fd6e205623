//! Federation end to end, with real keys and a fixed clock: what a peer must refuse (payload
//! tamper, signature tamper, wrong key, digest tamper, broken consent linkage, expired or
//! revoked consent under valid signatures), what a site must refuse (bundles without, after or
//! beyond consent, sending while sealed), k-anonymity at k-1 / k, budget exhaustion and reset,
//! and replay determinism.

use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};
use std::sync::Arc;
use stellaops_dsse::{
    Ed25519Signer, Envelope, EnvelopeSigner, HmacSha256Key, TrustedKeys, sign_envelope,
};
use stellaops_egress_policy::{
    EgressDecision, EgressPolicy as _, Endpoint, ExporterAllowList, SealState, SealedMode,
    SealedModePolicy, Unrestricted,
};
use stellaops_federation::*;

const NOW: i64 = 1_772_618_400; // 2026-03-04T10:00:00Z
const TENANT: &str = "tenant-a";

fn t(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap()
}

fn site_key() -> Ed25519Signer {
    Ed25519Signer::from_seed(&[11; 32]).with_key_id("site-a-ed25519")
}

fn trusted() -> TrustedKeys {
    let key = site_key();
    TrustedKeys::new()
        .with(key.public_key().verifier(key.key_id()))
        .unwrap()
}

fn options() -> FederatedTelemetryOptions {
    FederatedTelemetryOptions::builder("site-a")
        .trusted_keys(trusted())
        .build()
        .unwrap()
}

fn site(clock: &Arc<ManualClock>) -> FederationSite {
    FederationSite::new(options(), clock.clone()).with_signer(Arc::new(site_key()))
}

fn window() -> Window {
    Window::new(t(NOW - 86_400), t(NOW)).unwrap()
}

/// `artifacts` distinct artifacts affected by `cve`, each observed `per` times.
fn facts(cve: &str, artifacts: usize, per: usize) -> Vec<Fact> {
    (0..artifacts)
        .flat_map(|a| {
            (0..per).map(move |o| {
                Fact::new(cve, format!("sha256:{cve}-{a:04}"), t(NOW - 600 - o as i64))
            })
        })
        .collect()
}

fn sample_facts() -> Vec<Fact> {
    let mut all = facts("CVE-2025-0001", 12, 2);
    all.extend(facts("CVE-2025-0002", 7, 1));
    all.extend(facts("CVE-2025-0003", 4, 5)); // below k = 5
    all
}

/// A granted site and one bundle it built.
fn granted_bundle() -> (Arc<ManualClock>, FederationSite, FederatedBundle) {
    let clock = Arc::new(ManualClock::new(t(NOW)));
    let mut site = site(&clock);
    site.grant_consent(ConsentGrant::new(TENANT, "alice").ttl(TimeDelta::days(30)))
        .unwrap();
    let aggregation = site
        .aggregate(TENANT, window(), &sample_facts(), &mut seeded_rng(42))
        .unwrap();
    let bundle = site.build_bundle(&aggregation).unwrap();
    (clock, site, bundle)
}

fn verifier() -> BundleVerifier {
    BundleVerifier::from_options(&options())
}

fn code(result: Result<VerifiedBundle, FederationError>) -> &'static str {
    result.unwrap_err().code()
}

/// Replaces the bundle's envelope and recomputes its digest (what an attacker who can rewrite
/// the whole bundle can do).
fn with_envelope(bundle: &FederatedBundle, envelope: &Envelope) -> FederatedBundle {
    let json = envelope.to_json();
    FederatedBundle {
        envelope_digest: sha256_digest(json.as_bytes()),
        envelope: json,
        ..bundle.clone()
    }
}

/// A bundle for `payload` correctly signed by `signer`: a site that signs what it should not.
fn forge(
    mut payload: BundlePayload,
    consent: &str,
    signer: &dyn EnvelopeSigner,
) -> FederatedBundle {
    payload.bundle_id = payload.derive_bundle_id().unwrap();
    let envelope = sign_envelope(
        &[signer],
        BUNDLE_PAYLOAD_TYPE,
        payload.to_canonical_json().unwrap(),
    )
    .unwrap();
    let json = envelope.to_json();
    FederatedBundle {
        bundle_id: payload.bundle_id.clone(),
        envelope_digest: sha256_digest(json.as_bytes()),
        envelope: json,
        consent: consent.to_owned(),
        consent_digest: sha256_digest(consent.as_bytes()),
        signer_key_ids: vec![signer.key_id().to_owned()],
    }
}

fn payload_of(bundle: &FederatedBundle) -> BundlePayload {
    let envelope = Envelope::from_json(bundle.envelope.as_bytes()).unwrap();
    BundlePayload::from_canonical_json(&envelope.payload).unwrap()
}

#[test]
fn grant_aggregate_sign_verify_at_a_peer() {
    let (_clock, _site, bundle) = granted_bundle();
    let verified = verifier().verify_json(bundle.to_json().as_bytes()).unwrap();
    let payload = verified.payload();
    assert_eq!(payload.site_id, "site-a");
    assert_eq!(payload.tenant_id, TENANT);
    assert_eq!(payload.consent_digest, bundle.consent_digest);
    assert_eq!(payload.created_at, t(NOW));
    assert_eq!(payload.window, window());
    assert_eq!((payload.k_anonymity, payload.epsilon), (5, 0.25));
    assert_eq!(payload.suppressed_buckets, 1);
    let cves: Vec<(&str, u64, u64)> = payload
        .buckets
        .iter()
        .map(|b| (b.cve_id.as_str(), b.artifact_count, b.observation_count))
        .collect();
    assert_eq!(cves, [("CVE-2025-0001", 12, 24), ("CVE-2025-0002", 7, 7)]);
    assert_eq!(verified.consent().granted_by, "alice");
    assert_eq!(verified.signer_key_ids(), ["site-a-ed25519"]);
    assert!(!verified.is_unsigned_fallback());
    assert_eq!(bundle.signer_key_ids, ["site-a-ed25519"]);
}

#[test]
fn payload_tamper_fails_the_signature() {
    let (_, _, bundle) = granted_bundle();
    let mut envelope = Envelope::from_json(bundle.envelope.as_bytes()).unwrap();
    let text = String::from_utf8(envelope.payload.clone()).unwrap();
    let tampered = text.replacen("\"artifactCount\":12", "\"artifactCount\":13", 1);
    assert_ne!(tampered, text);
    envelope.payload = tampered.into_bytes();
    assert_eq!(
        code(verifier().verify(&with_envelope(&bundle, &envelope))),
        "federation.dsse.bad_signature"
    );
    // The same change without recomputing the digest is caught first, by the digest.
    let mut stale = with_envelope(&bundle, &envelope);
    stale.envelope_digest = bundle.envelope_digest.clone();
    assert_eq!(
        code(verifier().verify(&stale)),
        "federation.bundle.digest_mismatch"
    );
}

#[test]
fn signature_tamper_fails() {
    let (_, _, bundle) = granted_bundle();
    let mut envelope = Envelope::from_json(bundle.envelope.as_bytes()).unwrap();
    envelope.signatures[0].sig[5] ^= 0x01;
    assert_eq!(
        code(verifier().verify(&with_envelope(&bundle, &envelope))),
        "federation.dsse.bad_signature"
    );
    // Any change to the envelope bytes, even one that keeps them valid DSSE, breaks the digest.
    let mut spaced = bundle.clone();
    spaced.envelope = spaced.envelope.replacen(':', ": ", 1);
    assert_eq!(
        code(verifier().verify(&spaced)),
        "federation.bundle.digest_mismatch"
    );
}

#[test]
fn wrong_key_fails() {
    let (_, _, bundle) = granted_bundle();
    // A peer that trusts another key under the same key id.
    let other = Ed25519Signer::from_seed(&[12; 32]).with_key_id("site-a-ed25519");
    let peer = BundleVerifier::new(
        TrustedKeys::new()
            .with(other.public_key().verifier(other.key_id()))
            .unwrap(),
    );
    assert_eq!(code(peer.verify(&bundle)), "federation.dsse.bad_signature");
    // A peer that trusts only an unrelated key id.
    let hmac = HmacSha256Key::new("site-b-hmac", vec![5; 32]).unwrap();
    let peer = BundleVerifier::new(TrustedKeys::new().with(hmac.clone()).unwrap());
    assert_eq!(code(peer.verify(&bundle)), "federation.dsse.untrusted_key");
    // A bundle re-signed by an attacker's key: the signature is valid, the key is not trusted.
    let attacker = Ed25519Signer::from_seed(&[13; 32]).with_key_id("site-a-ed25519");
    let forged = forge(payload_of(&bundle), &bundle.consent, &attacker);
    assert_eq!(
        code(verifier().verify(&forged)),
        "federation.dsse.bad_signature"
    );
    // Threshold 2 with one distinct trusted key can never be met.
    let two = verifier().threshold(2);
    assert_eq!(
        code(two.verify(&bundle)),
        "federation.dsse.invalid_threshold"
    );
    let both = BundleVerifier::new(trusted().with(hmac).unwrap()).threshold(2);
    assert_eq!(
        code(both.verify(&bundle)),
        "federation.dsse.threshold_not_met"
    );
}

#[test]
fn payload_type_swap_fails() {
    let (_, _, bundle) = granted_bundle();
    // The consent envelope presented as a bundle envelope.
    let swapped = FederatedBundle {
        envelope: bundle.consent.clone(),
        envelope_digest: bundle.consent_digest.clone(),
        ..bundle.clone()
    };
    assert_eq!(
        code(verifier().verify(&swapped)),
        "federation.dsse.payload_type_mismatch"
    );
}

#[test]
fn consent_expiry_is_refused_even_with_a_valid_signature() {
    let clock = Arc::new(ManualClock::new(t(NOW)));
    let mut site = site(&clock);
    let proof = site
        .grant_consent(ConsentGrant::new(TENANT, "alice").ttl(TimeDelta::hours(2)))
        .unwrap();
    let aggregation = site
        .aggregate(TENANT, window(), &sample_facts(), &mut seeded_rng(1))
        .unwrap();
    let bundle = site.build_bundle(&aggregation).unwrap();
    assert!(verifier().verify(&bundle).is_ok());

    // After expiry the site refuses to build...
    clock.advance(TimeDelta::hours(2));
    assert_eq!(site.consent_state(TENANT).as_str(), "expired");
    let err = site.build_bundle(&aggregation).unwrap_err();
    assert_eq!(err.code(), "federation.consent.expired");
    let err = site
        .aggregate(TENANT, window(), &sample_facts(), &mut seeded_rng(1))
        .unwrap_err();
    assert_eq!(err.code(), "federation.consent.expired");

    // ...and a peer refuses a correctly signed bundle created after expiry.
    let mut late = payload_of(&bundle);
    late.created_at = t(NOW + 2 * 3600);
    let forged = forge(late, proof.envelope_json(), &site_key());
    assert_eq!(
        code(verifier().verify(&forged)),
        "federation.bundle.consent_expired"
    );
    // A bundle dated before the grant is refused too.
    let mut early = payload_of(&bundle);
    early.created_at = t(NOW - 1);
    let forged = forge(early, proof.envelope_json(), &site_key());
    assert_eq!(
        code(verifier().verify(&forged)),
        "federation.bundle.consent_not_yet_valid"
    );
}

#[test]
fn revoked_consent_stops_new_bundles_and_peers_refuse_later_ones() {
    let (clock, mut site, before) = granted_bundle();
    let aggregation = site
        .aggregate(TENANT, window(), &sample_facts(), &mut seeded_rng(2))
        .unwrap();
    clock.advance(TimeDelta::minutes(10));
    let revocation = site.revoke_consent(TENANT, "bob").unwrap();
    assert_eq!(revocation.consent_digest, before.consent_digest);
    assert_eq!(revocation.revoked_at, t(NOW + 600));

    // No new bundle, no new aggregation.
    assert_eq!(
        site.build_bundle(&aggregation).unwrap_err().code(),
        "federation.consent.revoked"
    );
    assert_eq!(
        site.aggregate(TENANT, window(), &sample_facts(), &mut seeded_rng(2))
            .unwrap_err()
            .code(),
        "federation.consent.revoked"
    );

    // A peer that knows of the revocation still accepts the bundle created before it, and
    // refuses one (validly signed) created after it.
    let peer = verifier().with_revocation(revocation.clone());
    assert!(peer.verify(&before).is_ok());
    let mut after = payload_of(&before);
    after.created_at = t(NOW + 600);
    let forged = forge(after, &before.consent, &site_key());
    assert!(verifier().verify(&forged).is_ok(), "unknown revocation");
    assert_eq!(
        code(peer.verify(&forged)),
        "federation.bundle.consent_revoked"
    );

    // A new grant is a new consent (new digest); bundles can be built again.
    clock.advance(TimeDelta::minutes(1));
    let regrant = site
        .grant_consent(ConsentGrant::new(TENANT, "alice"))
        .unwrap();
    assert_ne!(regrant.digest(), revocation.consent_digest);
    let again = site
        .aggregate(TENANT, window(), &sample_facts(), &mut seeded_rng(3))
        .unwrap();
    assert!(peer.verify(&site.build_bundle(&again).unwrap()).is_ok());
}

#[test]
fn broken_consent_linkage_is_refused() {
    let (clock, mut site, bundle) = granted_bundle();
    // Another valid, signed consent of the same tenant is not the one the payload names.
    clock.advance(TimeDelta::seconds(1));
    let other = site
        .grant_consent(ConsentGrant::new(TENANT, "mallory"))
        .unwrap();
    let swapped = FederatedBundle {
        consent: other.envelope_json().to_owned(),
        consent_digest: other.digest().to_owned(),
        ..bundle.clone()
    };
    assert_eq!(
        code(verifier().verify(&swapped)),
        "federation.bundle.consent_digest_mismatch"
    );
    // The consent envelope re-serialized (same content, other bytes) breaks the link too.
    let reformatted = FederatedBundle {
        consent: bundle.consent.replacen(':', ": ", 1),
        ..bundle.clone()
    };
    assert_eq!(
        code(verifier().verify(&reformatted)),
        "federation.bundle.consent_digest_mismatch"
    );
    // The summary's id must be the payload's.
    let renamed = FederatedBundle {
        bundle_id: "0".repeat(32),
        ..bundle.clone()
    };
    assert_eq!(
        code(verifier().verify(&renamed)),
        "federation.bundle.id_mismatch"
    );
}

#[test]
fn consent_must_verify_and_belong_to_the_bundle_tenant() {
    let (_, _, bundle) = granted_bundle();
    // A consent signed by an untrusted key, correctly linked by a trusted-key-signed payload.
    let rogue = HmacSha256Key::new("rogue", vec![1; 32]).unwrap();
    let consent = ConsentProof::sign(
        ConsentGrant::new(TENANT, "eve"),
        t(NOW),
        &[&rogue],
        Default::default(),
    )
    .unwrap();
    let mut payload = payload_of(&bundle);
    payload.consent_digest = consent.digest().to_owned();
    let forged = forge(payload, consent.envelope_json(), &site_key());
    let err = verifier().verify(&forged).unwrap_err();
    assert_eq!(err.code(), "federation.consent.signature_invalid");
    assert!(
        err.to_string().contains("federation.dsse.untrusted_key"),
        "{err}"
    );

    // A trusted consent of another tenant.
    let other = ConsentProof::sign(
        ConsentGrant::new("tenant-b", "alice"),
        t(NOW),
        &[&site_key()],
        Default::default(),
    )
    .unwrap();
    let mut payload = payload_of(&bundle);
    payload.consent_digest = other.digest().to_owned();
    let forged = forge(payload, other.envelope_json(), &site_key());
    assert_eq!(
        code(verifier().verify(&forged)),
        "federation.bundle.tenant_mismatch"
    );
}

#[test]
fn no_consent_no_aggregation_and_no_budget_spent() {
    let clock = Arc::new(ManualClock::new(t(NOW)));
    let mut site = site(&clock);
    let err = site
        .aggregate(TENANT, window(), &sample_facts(), &mut seeded_rng(1))
        .unwrap_err();
    assert_eq!(err.code(), "federation.consent.not_granted");
    assert_eq!(site.budget(TENANT).remaining, 1.0);
    assert_eq!(site.consent_state(TENANT), ConsentState::NotGranted);
}

#[test]
fn k_anonymity_at_k_minus_1_and_k() {
    for (k, published) in [(4, true), (5, false)] {
        let clock = Arc::new(ManualClock::new(t(NOW)));
        let opts = FederatedTelemetryOptions::builder("site-a")
            .k_anonymity(k)
            .build()
            .unwrap();
        let mut site = FederationSite::new(opts, clock.clone()).with_signer(Arc::new(site_key()));
        site.grant_consent(ConsentGrant::new(TENANT, "alice"))
            .unwrap();
        // 4 distinct artifacts, many observations each.
        let four = facts("CVE-2025-0009", 4, 10);
        let agg = site
            .aggregate(TENANT, window(), &four, &mut seeded_rng(5))
            .unwrap();
        assert_eq!(!agg.buckets().is_empty(), published, "k = {k}");
        assert_eq!(agg.suppressed_buckets(), u64::from(!published));
        let payload = payload_of(&site.build_bundle(&agg).unwrap());
        assert_eq!(payload.buckets.len(), usize::from(published));
        assert_eq!(payload.suppressed_buckets, u64::from(!published));
    }
}

#[test]
fn budget_exhaustion_suppresses_until_the_period_resets() {
    let (clock, mut site, _) = granted_bundle(); // one query of 0.25 spent at 10:00
    for spent in 2..=4 {
        let agg = site
            .aggregate(TENANT, window(), &sample_facts(), &mut seeded_rng(spent))
            .unwrap();
        assert!(!agg.budget_exhausted());
        assert_eq!(agg.budget().queries, spent);
    }
    let report = site.budget(TENANT);
    assert_eq!((report.remaining, report.total), (0.0, 1.0));
    assert!(report.exhausted);

    let agg = site
        .aggregate(TENANT, window(), &sample_facts(), &mut seeded_rng(9))
        .unwrap();
    assert!(agg.budget_exhausted());
    assert!(agg.buckets().is_empty());
    assert_eq!(agg.epsilon(), 0.0);
    assert_eq!((agg.budget().queries, agg.budget().suppressions), (4, 1));
    // A suppressed aggregation still makes a (verifiable, empty) bundle.
    let bundle = site.build_bundle(&agg).unwrap();
    let verified = verifier().verify(&bundle).unwrap();
    assert!(verified.payload().budget_exhausted);
    assert!(verified.payload().buckets.is_empty());

    // Another tenant has its own budget.
    site.grant_consent(ConsentGrant::new("tenant-b", "alice"))
        .unwrap();
    assert!(!site.budget("tenant-b").exhausted);

    // Midnight UTC: a new period.
    clock.set(t(NOW + 14 * 3600 - 1)); // 23:59:59
    assert!(site.budget(TENANT).exhausted);
    clock.advance(TimeDelta::seconds(1));
    let report = site.budget(TENANT);
    assert_eq!(
        (report.remaining, report.queries, report.suppressions),
        (1.0, 0, 0)
    );
    assert!(!report.exhausted);
    let agg = site
        .aggregate(TENANT, window(), &sample_facts(), &mut seeded_rng(10))
        .unwrap();
    assert!(!agg.budget_exhausted());
    assert_eq!(agg.buckets().len(), 2);
}

#[test]
fn replay_with_the_same_seed_and_clock_gives_identical_bytes() {
    let run = |seed: u64, reverse: bool| {
        let clock = Arc::new(ManualClock::new(t(NOW)));
        let mut site = site(&clock);
        site.grant_consent(ConsentGrant::new(TENANT, "alice").ttl(TimeDelta::days(30)))
            .unwrap();
        let mut input = sample_facts();
        if reverse {
            input.reverse();
        }
        let agg = site
            .aggregate(TENANT, window(), &input, &mut seeded_rng(seed))
            .unwrap();
        site.build_bundle(&agg).unwrap()
    };
    let a = run(7, false);
    let b = run(7, true);
    assert_eq!(a.to_json(), b.to_json());
    assert_eq!(a.envelope_digest, b.envelope_digest);
    assert_eq!(a.consent_digest, b.consent_digest);
    assert_eq!(a.bundle_id, b.bundle_id);
    // Another seed: other noise, so another payload, id and digest; same consent.
    let c = run(8, false);
    assert_ne!(payload_of(&a).buckets, payload_of(&c).buckets);
    assert_ne!(a.bundle_id, c.bundle_id);
    assert_ne!(a.envelope_digest, c.envelope_digest);
    assert_eq!(a.consent_digest, c.consent_digest);
}

#[test]
fn unsigned_fallback_only_when_allowed_on_both_sides() {
    let clock = Arc::new(ManualClock::new(t(NOW)));
    // No signer configured.
    let strict = FederationSite::new(options(), clock.clone());
    let mut strict = strict;
    let err = strict
        .grant_consent(ConsentGrant::new(TENANT, "alice"))
        .unwrap_err();
    assert_eq!(err.code(), "federation.dsse.signer_unavailable");

    let lax = FederatedTelemetryOptions::builder("site-a")
        .dangerous_allow_unsigned_fallback()
        .signer_key_id("hsm-key") // configured, but no such signer: unavailable
        .build()
        .unwrap();
    let mut site =
        FederationSite::new(lax.clone(), clock.clone()).with_signer(Arc::new(site_key()));
    let proof = site
        .grant_consent(ConsentGrant::new(TENANT, "alice"))
        .unwrap();
    assert!(proof.is_unsigned_fallback());
    let agg = site
        .aggregate(TENANT, window(), &sample_facts(), &mut seeded_rng(1))
        .unwrap();
    let bundle = site.build_bundle(&agg).unwrap();
    assert_eq!(bundle.signer_key_ids, ["offline-unsigned-fallback"]);
    assert_eq!(
        code(verifier().verify(&bundle)),
        "federation.dsse.unsigned_envelope"
    );
    let verified = BundleVerifier::from_options(&lax).verify(&bundle).unwrap();
    assert!(verified.is_unsigned_fallback());
    assert!(verified.signer_key_ids().is_empty());
}

#[test]
fn signer_key_id_selects_the_signer() {
    let clock = Arc::new(ManualClock::new(t(NOW)));
    let hmac = HmacSha256Key::new("site-a-hmac", vec![4; 32]).unwrap();
    let opts = FederatedTelemetryOptions::builder("site-a")
        .signer_key_id("site-a-hmac")
        .build()
        .unwrap();
    let mut site = FederationSite::new(opts, clock.clone())
        .with_signer(Arc::new(site_key()))
        .with_signer(Arc::new(hmac.clone()));
    let proof = site
        .grant_consent(ConsentGrant::new(TENANT, "alice"))
        .unwrap();
    assert_eq!(proof.signer_key_ids(), ["site-a-hmac"]);
    let agg = site
        .aggregate(TENANT, window(), &sample_facts(), &mut seeded_rng(1))
        .unwrap();
    let bundle = site.build_bundle(&agg).unwrap();
    assert_eq!(bundle.signer_key_ids, ["site-a-hmac"]);
    let peer = BundleVerifier::new(TrustedKeys::new().with(hmac).unwrap());
    assert_eq!(
        peer.verify(&bundle).unwrap().signer_key_ids(),
        ["site-a-hmac"]
    );
}

#[test]
fn sealed_sites_build_but_do_not_send() {
    let (_clock, mut site, _bundle) = granted_bundle();
    let remote = || Endpoint::parse("https://federation.peer.example:8443");
    // Unsealed: the egress policy decides, asked with federation's component and intent.
    let mut asked = None;
    let decision = site
        .authorize_sync(remote(), |r| {
            asked = Some((r.component().to_owned(), r.intent().to_owned(), r.signal()));
            Unrestricted.decide(r)
        })
        .unwrap();
    assert!(decision.allowed());
    let (component, intent, signal) = asked.unwrap();
    assert_eq!(
        (component.as_str(), intent.as_str()),
        (SYNC_COMPONENT, SYNC_INTENT)
    );
    assert_eq!(signal.as_str(), "metrics");

    let allow_list = ExporterAllowList::builder()
        .endpoint("*.corp.example:4317")
        .unwrap()
        .build();
    let err = site
        .authorize_sync(remote(), |r| allow_list.decide(r))
        .unwrap_err();
    assert_eq!(err.code(), "federation.sync.egress_denied");

    // Sealed by the option: nothing leaves, the policy is not even asked.
    site.set_sealed(true);
    assert!(site.is_sealed());
    let err = site
        .authorize_sync(Endpoint::parse("http://127.0.0.1:8443"), |_| {
            EgressDecision::allow("must not be asked")
        })
        .unwrap_err();
    assert_eq!(err.code(), "federation.sync.sealed");
    // Building is still allowed while sealed.
    let agg = site
        .aggregate(TENANT, window(), &sample_facts(), &mut seeded_rng(4))
        .unwrap();
    assert!(site.build_bundle(&agg).is_ok());

    // Sealed by the egress-policy crate's run-time state.
    site.set_sealed(false);
    let mode = SealedMode::new(SealState::Sealed);
    let site = site.with_sealed_mode(mode.clone());
    let policy = SealedModePolicy::new(mode.clone());
    assert_eq!(
        site.authorize_sync(remote(), |r| policy.decide(r))
            .unwrap_err()
            .code(),
        "federation.sync.sealed"
    );
    mode.unseal();
    assert!(site.authorize_sync(remote(), |r| policy.decide(r)).is_ok());
}

#[test]
fn bundles_survive_transport_as_json() {
    let (_, _, bundle) = granted_bundle();
    let json = bundle.to_json();
    let back = FederatedBundle::from_json(json.as_bytes()).unwrap();
    assert_eq!(back, bundle);
    // The envelope is DSSE JSON any DSSE tool reads: standard base64 payload.
    let envelope: serde_json::Value = serde_json::from_str(&bundle.envelope).unwrap();
    let payload = base64::engine::general_purpose::STANDARD
        .decode(envelope["payload"].as_str().unwrap())
        .unwrap();
    assert!(payload.starts_with(b"{\"buckets\":["));
    assert_eq!(
        code(verifier().verify_json(b"{\"bundleId\":1}")),
        "federation.bundle.malformed"
    );
}

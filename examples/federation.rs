//! Federated telemetry between two sites: site A grants consent for a tenant, aggregates its
//! vulnerability facts (k-anonymity, seeded Laplace noise, privacy budget), signs a bundle with
//! Ed25519, checks that sync is allowed (sealed mode, egress policy), and site B verifies the
//! bundle it received. Then A revokes the consent and B refuses what comes after.
//!
//! Run: `cargo run --example federation`

use chrono::{TimeDelta, TimeZone, Utc};
use std::sync::Arc;
use stellaops_telemetry::dsse::{Ed25519Signer, TrustedKeys};
use stellaops_telemetry::egress::EgressPolicy as _;
use stellaops_telemetry::egress::{Endpoint, SealState, SealedMode, SealedModePolicy};
use stellaops_telemetry::federation::{
    BundleVerifier, ConsentGrant, Fact, FederatedBundle, FederatedTelemetryOptions, FederationSite,
    ManualClock, Window, seeded_rng,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let now = Utc
        .with_ymd_and_hms(2026, 3, 4, 10, 0, 0)
        .single()
        .ok_or("bad date")?;
    let clock = Arc::new(ManualClock::new(now));

    // Site A signs with Ed25519; site B trusts A's public key.
    let key = Ed25519Signer::from_seed(&[7; 32]).with_key_id("site-a-2026");
    let a_public = TrustedKeys::new().with(key.public_key().verifier(key.key_id()))?;
    let options = FederatedTelemetryOptions::builder("site-a")
        .k_anonymity(5)
        .epsilon_budget(1.0)
        .budget_period(TimeDelta::hours(24))
        .signer_key_id("site-a-2026")
        .build()?;
    let mode = SealedMode::new(SealState::Unsealed);
    let mut site_a = FederationSite::new(options, clock.clone())
        .with_signer(Arc::new(key))
        .with_sealed_mode(mode.clone());

    // 1. Grant: a DSSE-signed stella.ops/federatedConsent@v1 proof.
    let proof =
        site_a.grant_consent(ConsentGrant::new("acme", "ciso@acme").ttl(TimeDelta::days(90)))?;
    println!(
        "consent {} ({}), signed by {:?}",
        proof.digest(),
        site_a.consent_state("acme").as_str(),
        proof.signer_key_ids()
    );

    // 2. Aggregate yesterday's facts: 3 CVEs, one seen on only 3 artifacts (suppressed at k = 5).
    let mut facts = Vec::new();
    for (cve, artifacts) in [
        ("CVE-2025-1001", 40),
        ("CVE-2025-1002", 9),
        ("CVE-2025-1003", 3),
    ] {
        for i in 0..artifacts {
            facts.push(Fact::new(
                cve,
                format!("sha256:{cve}-{i:04}"),
                now - TimeDelta::hours(3),
            ));
        }
    }
    let window = Window::new(now - TimeDelta::days(1), now)?;
    let aggregation = site_a.aggregate("acme", window, &facts, &mut seeded_rng(2026))?;
    println!(
        "aggregated: {} bucket(s) published, {} suppressed by k-anonymity, epsilon {} ({:?} per bucket); budget: {}",
        aggregation.buckets().len(),
        aggregation.suppressed_buckets(),
        aggregation.epsilon(),
        aggregation.epsilon_per_bucket(),
        aggregation.budget()
    );

    // 3. Sign: canonical payload, deterministic bundle id, DSSE envelope, consent attached.
    let bundle = site_a.build_bundle(&aggregation)?;
    println!(
        "bundle {} envelope {}",
        bundle.bundle_id, bundle.envelope_digest
    );

    // 4. Sync: refused while sealed, then asked of the egress policy.
    let peer = Endpoint::parse("https://federation.site-b.example:8443");
    let policy = SealedModePolicy::new(mode.clone());
    mode.seal();
    match site_a.authorize_sync(peer.clone(), |r| policy.decide(r)) {
        Err(e) => println!("sealed: {} ({})", e.code(), e),
        Ok(_) => return Err("a sealed site must not send".into()),
    }
    mode.unseal();
    let decision = site_a.authorize_sync(peer, |r| policy.decide(r))?;
    println!(
        "unsealed: sync {} ({})",
        decision.as_str(),
        decision.reason()
    );
    let wire = bundle.to_json();

    // 5. Verify at site B.
    let site_b = BundleVerifier::new(a_public);
    let verified = site_b.verify_json(wire.as_bytes())?;
    println!(
        "site B verified bundle from {} for tenant {}:",
        verified.payload().site_id,
        verified.payload().tenant_id
    );
    for b in &verified.payload().buckets {
        println!(
            "  {}  noisyCount {:>3}  artifacts {:>3}  observations {:>3}",
            b.cve_id, b.noisy_count, b.artifact_count, b.observation_count
        );
    }

    // 6. Revoke: no new bundle at A; B, told of the revocation, refuses later bundles.
    clock.advance(TimeDelta::hours(1));
    let revocation = site_a.revoke_consent("acme", "ciso@acme")?;
    let refused = site_a
        .build_bundle(&aggregation)
        .err()
        .ok_or("built after revocation")?;
    println!(
        "after revocation: {} ({})",
        refused.code(),
        site_a.consent_state("acme").as_str()
    );
    let site_b = site_b.with_revocation(revocation);
    let still_ok = site_b
        .verify(&FederatedBundle::from_json(wire.as_bytes())?)
        .is_ok();
    println!("bundle created before the revocation still verifies at B: {still_ok}");
    Ok(())
}

//! DSSE envelope cost against the raw signature primitive, per key type and payload size.
//!
//! Each group is a paired measurement (every iteration runs the three variants back to back and
//! times one), so the ratios hold on a shared, noisy machine.
//!
//! Baseline `raw`: the primitive alone over the payload bytes (ed25519-dalek, p256 ECDSA with a
//! DER signature, HMAC-SHA256). `envelope`: `sign_envelope` / `Verifier::verify` (PAE, the
//! primitive over the PAE, the envelope or verified payload). `envelope+json`: the same plus
//! writing / parsing the base64 JSON. Run with
//! `cargo bench --bench dsse -- --warm-up-time 1 --measurement-time 3`;
//! results are recorded in `docs/benchmarks.md`.
// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::{Signer as _, Verifier as _};
use hmac::{KeyInit as _, Mac as _};
use std::hint::black_box;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use stellaops_telemetry::dsse::{
    EcdsaP256Signer, Ed25519Signer, EnvelopeSigner, EnvelopeVerifier, HmacSha256Key, TrustedKeys,
    Verifier, sign_envelope,
};

const TYPE: &str = "application/vnd.stellaops.federation.bundle+json";
const SEED: [u8; 32] = [7; 32];
const SCALAR: [u8; 32] = [9; 32];
const SECRET: [u8; 32] = [5; 32];

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

type SignFn = Box<dyn Fn(&[u8]) -> Vec<u8>>;
type VerifyFn = Box<dyn Fn(&[u8], &[u8]) -> bool>;

/// A raw primitive: sign bytes, verify bytes.
struct Raw {
    sign: SignFn,
    verify: VerifyFn,
}

fn raw_ed25519() -> Raw {
    let key = ed25519_dalek::SigningKey::from_bytes(&SEED);
    let public = key.verifying_key();
    Raw {
        sign: Box::new(move |m| key.sign(m).to_bytes().to_vec()),
        verify: Box::new(move |m, s| {
            let sig = ed25519_dalek::Signature::from_slice(s).unwrap();
            public.verify(m, &sig).is_ok()
        }),
    }
}

fn raw_p256() -> Raw {
    let key = p256::ecdsa::SigningKey::from_slice(&SCALAR).unwrap();
    let public = *key.verifying_key();
    Raw {
        sign: Box::new(move |m| {
            let sig: p256::ecdsa::Signature = key.sign(m);
            sig.to_der().as_bytes().to_vec()
        }),
        verify: Box::new(move |m, s| {
            let sig = p256::ecdsa::Signature::from_der(s).unwrap();
            public.verify(m, &sig).is_ok()
        }),
    }
}

fn raw_hmac() -> Raw {
    Raw {
        sign: Box::new(|m| {
            let mac = HmacSha256::new_from_slice(&SECRET).unwrap();
            mac.chain_update(m).finalize().into_bytes().to_vec()
        }),
        verify: Box::new(|m, s| {
            let mac = HmacSha256::new_from_slice(&SECRET).unwrap();
            mac.chain_update(m).verify_slice(s).is_ok()
        }),
    }
}

/// The three variants compared in one group, in order: `raw`, `envelope`, `envelope+json`.
const VARIANTS: [&str; 3] = ["raw", "envelope", "envelope+json"];

/// Benchmarks each of `ops` as a paired measurement: every iteration runs all three
/// operations back to back and times only the one under test. On a shared, noisy machine the
/// variants then see the same load, so their ratio stays meaningful.
fn paired(c: &mut Criterion, group: &str, size_name: &str, bytes: usize, ops: [&dyn Fn(); 3]) {
    let mut group = c.benchmark_group(group);
    group.throughput(Throughput::Bytes(bytes as u64));
    for (k, variant) in VARIANTS.iter().enumerate() {
        group.bench_function(BenchmarkId::new(*variant, size_name), |b| {
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    for (j, op) in ops.iter().enumerate() {
                        if j == k {
                            let start = Instant::now();
                            op();
                            timed += start.elapsed();
                        } else {
                            op();
                        }
                    }
                }
                timed
            });
        });
    }
    group.finish();
}

fn bench_key(
    c: &mut Criterion,
    name: &str,
    raw: &Raw,
    signer: &dyn EnvelopeSigner,
    trusted: impl EnvelopeVerifier + 'static,
) {
    let verifier = Verifier::new(TrustedKeys::new().with(trusted).unwrap());
    for (size_name, size) in [("1KiB", 1024usize), ("1MiB", 1024 * 1024)] {
        let payload = b"0123456789abcdef".repeat(size / 16);
        let p = payload.as_slice();

        paired(
            c,
            &format!("dsse/sign/{name}"),
            size_name,
            size,
            [
                &|| {
                    black_box((raw.sign)(black_box(p)));
                },
                &|| {
                    black_box(sign_envelope(&[signer], TYPE, black_box(p)).unwrap());
                },
                &|| {
                    black_box(
                        sign_envelope(&[signer], TYPE, black_box(p))
                            .unwrap()
                            .to_json(),
                    );
                },
            ],
        );

        // Inputs for verification, made only when a verify benchmark runs (a filtered or
        // test-mode run stays quick).
        let raw_sig = OnceLock::new();
        let raw_sig = || {
            raw_sig.get_or_init(|| {
                let sig = (raw.sign)(p);
                assert!((raw.verify)(p, &sig));
                sig
            })
        };
        let envelope = OnceLock::new();
        let envelope = || {
            envelope.get_or_init(|| {
                let e = sign_envelope(&[signer], TYPE, p).unwrap();
                assert_eq!(verifier.verify(&e, TYPE).unwrap().payload(), p);
                let json = e.to_json();
                (e, json)
            })
        };

        paired(
            c,
            &format!("dsse/verify/{name}"),
            size_name,
            size,
            [
                &|| assert!((raw.verify)(black_box(p), black_box(raw_sig()))),
                &|| {
                    black_box(verifier.verify(black_box(&envelope().0), TYPE).unwrap());
                },
                &|| {
                    black_box(
                        verifier
                            .verify_json(black_box(envelope().1.as_bytes()), TYPE)
                            .unwrap(),
                    );
                },
            ],
        );
    }
}

fn dsse(c: &mut Criterion) {
    let ed = Ed25519Signer::from_seed(&SEED);
    bench_key(
        c,
        "ed25519",
        &raw_ed25519(),
        &ed,
        ed.public_key().verifier(ed.key_id()),
    );

    let ec = EcdsaP256Signer::from_scalar_bytes(&SCALAR).unwrap();
    bench_key(
        c,
        "ecdsa-p256",
        &raw_p256(),
        &ec,
        ec.public_key().verifier(ec.key_id()),
    );

    let hmac = HmacSha256Key::new("bench-hmac", SECRET.to_vec()).unwrap();
    bench_key(c, "hmac-sha256", &raw_hmac(), &hmac, hmac.clone());
}

criterion_group!(benches, dsse);
criterion_main!(benches);

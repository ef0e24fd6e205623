//! Redaction throughput on a realistic log corpus, against a naive baseline in the same run.
//!
//! The corpus is built deterministically (a fixed-seed generator): 2,000 log lines, about 95%
//! clean (HTTP access lines, scan and policy events, exporter retries, key=value lines with
//! ids, timestamps and durations) and about 5% carrying a secret or personal data in one of the
//! detector formats. The same lines are also wrapped into JSON records with attributes.
//!
//! - `redaction/text`: every line through `Redactor::redact_text` vs `naive_regex`, one regex
//!   per detector run separately over each line (`Regex::replace_all`, Luhn in the card
//!   replacer). Throughput in bytes.
//! - `redaction/clean_text`: the clean lines only: the no-allocation path.
//! - `redaction/records`: every record through `Redactor::redact_json` vs the naive regexes
//!   over each string value plus one regex per blocked key pattern. Throughput in records.
//!
//! Run: `cargo bench --bench redaction -- --warm-up-time 1 --measurement-time 3`.
#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented public function"
)]

use std::borrow::Cow;
use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use regex::{Captures, Regex};
use serde_json::{Value, json};
use stellaops_redaction::{DEFAULT_BLOCKED_KEYS, RedactionPolicy, Redactor};

/// A small deterministic generator (SplitMix64), so the corpus is the same on every run.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    fn alnum(&mut self, len: usize) -> String {
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| char::from(CHARS[self.below(CHARS.len() as u64) as usize]))
            .collect()
    }

    fn hex(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from(b"0123456789abcdef"[self.below(16) as usize]))
            .collect()
    }
}

const ROUTES: &[&str] = &[
    "/api/v1/scans",
    "/api/v1/scans/{id}",
    "/api/v1/policies/evaluate",
    "/healthz",
    "/api/v1/findings",
    "/telemetry/config/profile/default",
    "/api/v1/sbom/upload",
];
const SERVICES: &[&str] = &[
    "scanner",
    "policy-engine",
    "authority",
    "orchestrator",
    "notify",
];
const TENANTS: &[&str] = &["acme-corp", "globex", "initech", "umbrella", "hooli"];

fn clean_line(g: &mut Gen) -> String {
    match g.below(6) {
        0 => format!(
            "{} {} {} {} in {}ms from 10.{}.{}.{}",
            g.pick(&["GET", "POST", "PUT", "DELETE"]),
            g.pick(ROUTES),
            g.pick(&["200", "201", "204", "404", "500"]),
            g.below(90_000),
            g.below(2_000),
            g.below(255),
            g.below(255),
            g.below(255)
        ),
        1 => format!(
            "scan completed for sha256:{} with {} components and {} vulnerabilities (tenant {})",
            g.hex(12),
            g.below(900),
            g.below(60),
            g.pick(TENANTS)
        ),
        2 => format!(
            "retrying export to collector (attempt {} of 5), backoff {}ms; queue depth {}",
            g.below(5) + 1,
            g.below(5_000),
            g.below(10_000)
        ),
        3 => format!(
            "ts={} level=info svc={} msg=\"policy evaluated\" rule=deny-critical result=ok duration_ms={}",
            1_732_881_600_000u64 + g.below(86_400_000),
            g.pick(SERVICES),
            g.below(400)
        ),
        4 => format!(
            "pulled https://registry.internal/v2/library/{}/manifests/{}.{} digest={} size={}",
            g.pick(&["alpine", "debian", "nginx", "postgres"]),
            g.below(4) + 1,
            g.below(30),
            g.hex(16),
            g.below(90_000_000)
        ),
        _ => format!(
            "trace {} span {} finished job {} for tenant {} after {} retries",
            g.hex(32),
            g.hex(16),
            g.alnum(10),
            g.pick(TENANTS),
            g.below(3)
        ),
    }
}

fn dirty_line(g: &mut Gen) -> String {
    match g.below(10) {
        0 => format!(
            "login failed for {}@example.com with password={}",
            g.alnum(6).to_lowercase(),
            g.alnum(12)
        ),
        1 => format!(
            "calling upstream with Authorization: Bearer {}",
            g.alnum(40)
        ),
        2 => format!(
            "token accepted: eyJhbGciOiJIUzI1NiJ9.eyJ{}.{}",
            g.alnum(40),
            g.alnum(43)
        ),
        3 => format!(
            "using credentials AKIA{} for bucket {}",
            g.alnum(16).to_uppercase(),
            g.alnum(8)
        ),
        4 => format!(
            "connecting to postgres://app:{}@db.internal:5432/scans",
            g.alnum(14)
        ),
        5 => format!("github push with ghp_{} failed", g.alnum(36)),
        6 => "charged card 4111 1111 1111 1111 for order 1234".to_owned(),
        7 => format!("config loaded: api_key={} region=eu-west-1", g.alnum(32)),
        8 => format!(
            "slack notify via xoxb-{}-{}",
            g.below(1_000_000_000_000),
            g.alnum(24)
        ),
        _ => format!("stripe charge with sk_live_{} ok", g.alnum(24)),
    }
}

fn corpus() -> Vec<String> {
    let mut g = Gen(0x5EED_CAFE);
    (0..2_000)
        .map(|_| {
            if g.below(100) < 5 {
                dirty_line(&mut g)
            } else {
                clean_line(&mut g)
            }
        })
        .collect()
}

fn records(lines: &[String]) -> Vec<Value> {
    let mut g = Gen(0xFACE_FEED);
    lines
        .iter()
        .map(|line| {
            json!({
                "timestamp": "2025-11-29T12:00:00.123Z",
                "level": "info",
                "message": line,
                "service": g.pick(SERVICES),
                "traceId": g.hex(32),
                "spanId": g.hex(16),
                "tenant": g.pick(TENANTS),
                "http": {"method": "GET", "route": g.pick(ROUTES), "status_code": 200},
                "componentCount": g.below(500),
            })
        })
        .collect()
}

/// The baseline: one regex per detector, each run separately over the value.
struct Naive {
    detectors: Vec<Regex>,
    card: Regex,
    blocked: Vec<Regex>,
}

impl Naive {
    fn new() -> Self {
        let detectors = [
            r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]{8,}=*",
            r"(?i)\bbasic\s+[A-Za-z0-9+/]{8,}=*",
            r"\beyJ[A-Za-z0-9_-]{7,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*",
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----",
            r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",
            r"(?i)(?:aws_secret_access_key|secretaccesskey)\s*[:=]\s*[A-Za-z0-9/+]{40}",
            r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9_]{20,}|\bgithub_pat_[A-Za-z0-9_]{20,}",
            r"\bglpat-[A-Za-z0-9_-]{20,}",
            r"\bxox[abeprs]-[A-Za-z0-9-]{10,}",
            r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{10,}",
            r"\bAIza[A-Za-z0-9_-]{35,}",
            r#"(?i)[A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|session[_-]?id)["']?\s*[:=]\s*["']?[^\s&,;"'}]+"#,
            r"[A-Za-z][A-Za-z0-9+.-]*://[^\s/:@]+:[^\s/@]+@",
            r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
        ]
        .iter()
        .map(|p| Regex::new(p).unwrap())
        .collect();
        let blocked = DEFAULT_BLOCKED_KEYS
            .iter()
            .map(|p| {
                let body = regex::escape(p)
                    .replace(r"\*", "[^.]*")
                    .replace(r"\[", "[")
                    .replace(r"\]", "]")
                    .replace(r"\-", "-");
                Regex::new(&format!(r"(?i)(?:^|\.){body}(?:\.|$)")).unwrap()
            })
            .collect();
        Naive {
            detectors,
            card: Regex::new(r"\b[2-6]\d{3}(?:[ -]?\d{4}){2,3}\d{0,3}\b").unwrap(),
            blocked,
        }
    }

    fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut current = Cow::Borrowed(text);
        for re in &self.detectors {
            if let Cow::Owned(replaced) = re.replace_all(&current, "[redacted]") {
                current = Cow::Owned(replaced);
            }
        }
        let card = self.card.replace_all(&current, |c: &Captures<'_>| {
            let digits = &c[0];
            if luhn(digits) {
                "[redacted]".to_owned()
            } else {
                digits.to_owned()
            }
        });
        if let Cow::Owned(replaced) = card {
            current = Cow::Owned(replaced);
        }
        current
    }

    fn redact_json(&self, path: &str, value: &mut Value) {
        match value {
            Value::String(s) => {
                if self.blocked.iter().any(|re| re.is_match(path)) {
                    *s = "[redacted]".to_owned();
                } else if let Cow::Owned(out) = self.redact(s) {
                    *s = out;
                }
            }
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    let child = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    self.redact_json(&child, v);
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.redact_json(path, item);
                }
            }
            _ => {}
        }
    }
}

fn luhn(s: &str) -> bool {
    let mut sum = 0;
    let mut double = false;
    for b in s.bytes().rev().filter(u8::is_ascii_digit) {
        let mut d = u32::from(b - b'0');
        if double {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
        double = !double;
    }
    sum % 10 == 0
}

fn bench(c: &mut Criterion) {
    let lines = corpus();
    let redactor = Redactor::new(RedactionPolicy::default());
    let naive = Naive::new();

    // Both sides must agree that the dirty lines are dirty, or the comparison is meaningless.
    let dirty = lines
        .iter()
        .filter(|l| redactor.redact_text(l).1.scrubbed())
        .count();
    let naive_dirty = lines
        .iter()
        .filter(|l| matches!(naive.redact(l), Cow::Owned(_)))
        .count();
    assert!(
        dirty > 50 && naive_dirty >= dirty * 9 / 10,
        "{dirty} vs {naive_dirty}"
    );

    let bytes: usize = lines.iter().map(String::len).sum();
    let mut group = c.benchmark_group("redaction/text");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("redactor", |b| {
        b.iter(|| {
            for line in &lines {
                black_box(redactor.redact_text(black_box(line)));
            }
        });
    });
    group.bench_function("naive_regex", |b| {
        b.iter(|| {
            for line in &lines {
                black_box(naive.redact(black_box(line)));
            }
        });
    });
    group.finish();

    let clean: Vec<&String> = lines
        .iter()
        .filter(|l| !redactor.redact_text(l).1.scrubbed())
        .collect();
    let clean_bytes: usize = clean.iter().map(|l| l.len()).sum();
    let mut group = c.benchmark_group("redaction/clean_text");
    group.throughput(Throughput::Bytes(clean_bytes as u64));
    group.bench_function("redactor", |b| {
        b.iter(|| {
            for line in &clean {
                black_box(redactor.redact_text(black_box(line)));
            }
        });
    });
    group.bench_function("naive_regex", |b| {
        b.iter(|| {
            for line in &clean {
                black_box(naive.redact(black_box(line)));
            }
        });
    });
    group.finish();

    let records = records(&lines);
    let mut group = c.benchmark_group("redaction/records");
    group.throughput(Throughput::Elements(records.len() as u64));
    group.bench_function("redactor", |b| {
        b.iter_batched_ref(
            || records.clone(),
            |records| {
                for record in records.iter_mut() {
                    black_box(redactor.redact_json(record));
                }
            },
            BatchSize::LargeInput,
        );
    });
    group.bench_function("naive_regex", |b| {
        b.iter_batched_ref(
            || records.clone(),
            |records| {
                for record in records.iter_mut() {
                    naive.redact_json("", record);
                }
            },
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

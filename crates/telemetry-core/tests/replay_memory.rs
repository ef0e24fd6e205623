//! Replay memory stays flat: a counting global allocator samples the live heap at every record
//! the sink receives while a 16 MiB bundle streams through the replayer. Loading a signal file
//! whole would add at least 16 MiB; streaming adds a few buffers.

use std::alloc::System;

use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};
use stellaops_bundle_format::{BundleOptions, BundleReader, BundleWriter, ManualClock, Signal};
use stellaops_dsse::{Ed25519Signer, TrustedKeys, Verifier};
use stellaops_telemetry_core::replay::{RecordSink, Replayer, SendFailure};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const RECORDS: usize = 256;
const RECORD_SIZE: usize = 64 * 1024;

fn live_bytes() -> i128 {
    let s = GLOBAL.stats();
    s.bytes_allocated as i128 - s.bytes_deallocated as i128 + s.bytes_reallocated as i128
}

struct Sampling {
    peak: i128,
    records: usize,
    bytes: usize,
}

impl RecordSink for Sampling {
    fn send(&mut self, _: Signal, record: &[u8]) -> Result<(), SendFailure> {
        self.peak = self.peak.max(live_bytes());
        self.records += 1;
        self.bytes += record.len();
        Ok(())
    }
}

#[test]
fn replaying_a_large_bundle_keeps_memory_flat() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.tar.gz");
    let clock = ManualClock::new("2025-03-01T00:00:00Z".parse().unwrap());
    let mut writer =
        BundleWriter::create(&path, BundleOptions::new("acme", "forensic"), &clock).unwrap();
    // Incompressible records (an LCG), so the archive is as large as its content.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut record = vec![0u8; RECORD_SIZE];
    for _ in 0..RECORDS {
        for b in &mut record {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            *b = (state >> 33) as u8;
        }
        writer.write_record(Signal::Traces, &record).unwrap();
    }
    let signer = Ed25519Signer::generate().unwrap();
    writer.finish(&[&signer]).unwrap();
    drop(record);
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size > (RECORDS * RECORD_SIZE) as u64, "{size}");

    let trusted = TrustedKeys::new()
        .with(signer.public_key().verifier(signer.key_id()))
        .unwrap();
    let reader = BundleReader::new(Verifier::new(trusted));
    let mut sink = Sampling {
        peak: 0,
        records: 0,
        bytes: 0,
    };
    let replay_clock = ManualClock::default();
    let baseline = live_bytes();
    let report = Replayer::new(&mut sink, &replay_clock)
        .replay_file(&reader, &path)
        .unwrap();
    assert_eq!(report.sent(), RECORDS as u64);
    assert_eq!(sink.records, RECORDS);
    assert_eq!(sink.bytes, RECORDS * RECORD_SIZE);
    let growth = sink.peak - baseline;
    assert!(
        growth < 4 << 20,
        "expected the live heap to grow by less than 4 MiB while streaming a {} MiB bundle, found {} KiB",
        size >> 20,
        growth >> 10
    );
}

//! Writer/reader behaviour: round trips, reproducibility, tamper and truncation detection,
//! hostile archives.

use proptest::prelude::*;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use stellaops_bundle_format::{
    BundleOptions, BundleReader, BundleWriter, Compression, Limits, ManualClock, Signal,
    SignatureStatus, Window,
};
use stellaops_dsse::{HmacSha256Key, TrustedKeys, Verifier};

fn key() -> HmacSha256Key {
    HmacSha256Key::new("site-key", vec![7u8; 32]).unwrap()
}

fn reader() -> BundleReader {
    BundleReader::new(Verifier::new(TrustedKeys::new().with(key()).unwrap()))
}

fn clock() -> ManualClock {
    ManualClock::new("2025-01-02T03:04:05Z".parse().unwrap())
}

fn write(dir: &Path, name: &str, records: &[(Signal, Vec<u8>)]) -> PathBuf {
    write_with(dir, name, records, Compression::Gzip)
}

fn write_with(
    dir: &Path,
    name: &str,
    records: &[(Signal, Vec<u8>)],
    compression: Compression,
) -> PathBuf {
    let path = dir.join(name);
    let mut options = BundleOptions::new("acme", "forensic");
    options.compression = compression;
    options.window = Some(
        Window::new(
            "2025-01-01T00:00:00Z".parse().unwrap(),
            "2025-01-02T00:00:00Z".parse().unwrap(),
        )
        .unwrap(),
    );
    let mut w = BundleWriter::create(&path, options, &clock()).unwrap();
    for (s, r) in records {
        w.write_record(*s, r).unwrap();
    }
    w.add_config_file("config/collector.yaml", &b"receivers: {otlp: {}}\n"[..])
        .unwrap();
    w.add_config_file("config/dashboards/platform.json", &b"{}"[..])
        .unwrap();
    w.finish(&[&key()]).unwrap();
    path
}

fn sample() -> Vec<(Signal, Vec<u8>)> {
    vec![
        (Signal::Traces, b"trace-1".to_vec()),
        (Signal::Logs, b"log-1".to_vec()),
        (Signal::Traces, vec![]),
        (Signal::Metrics, vec![0u8; 300]),
    ]
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn decompress(bytes: &[u8]) -> Vec<u8> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        gunzip(bytes)
    } else {
        zstd::stream::decode_all(bytes).unwrap()
    }
}

fn compression(zstd: bool) -> Compression {
    if zstd {
        Compression::Zstd
    } else {
        Compression::Gzip
    }
}

#[test]
fn zstd_bundles_have_the_fixed_frame_header_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_with(dir.path(), "b.tar.zst", &sample(), Compression::Zstd);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(
        bytes[..8],
        stellaops_bundle_format::writer::ZSTD_SKIPPABLE_HEADER
    );
    assert_eq!(bytes[40..46], stellaops_bundle_format::writer::ZSTD_HEADER);
    // An independent build of the container from the same tar gives the same bytes.
    assert_eq!(zstd_container(&decompress(&bytes)), bytes);
    let (v, records) = reader().read_records(&bytes[..]).unwrap();
    assert_eq!(v.manifest().compression, "zstd");
    assert_eq!(records.len(), 4);
    // The manifest must say how the bundle is compressed.
    let regz = gzip(&decompress(&bytes));
    let err = reader().verify(&regz[..]).unwrap_err();
    assert_eq!(err.code(), "bundle.invalid_manifest", "{err}");
}

/// A bundle container around `tar`, built independently of the writer from the format's
/// description: the gzip header with the `SD` subfield holding the SHA-256 of the rest.
fn gzip(tar: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
    // The format feeds the compressor 64 KiB at a time (COMPRESSOR_INPUT_CHUNK).
    for chunk in tar.chunks(64 * 1024) {
        e.write_all(chunk).unwrap();
    }
    let mut body = e.finish().unwrap();
    let mut crc = flate2::Crc::new();
    crc.update(tar);
    body.extend_from_slice(&crc.sum().to_le_bytes());
    body.extend_from_slice(&crc.amount().to_le_bytes());
    let mut out = stellaops_bundle_format::writer::GZIP_HEADER.to_vec();
    out.extend_from_slice(&sha2::Sha256::digest(&body));
    out.extend_from_slice(&body);
    out
}

/// The same for zstd: the stream-digest skippable frame, then one zstd frame.
fn zstd_container(tar: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    let mut e = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    e.include_checksum(true).unwrap();
    e.include_contentsize(false).unwrap();
    e.window_log(21).unwrap();
    for chunk in tar.chunks(64 * 1024) {
        e.write_all(chunk).unwrap();
    }
    let body = e.finish().unwrap();
    let mut out = stellaops_bundle_format::writer::ZSTD_SKIPPABLE_HEADER.to_vec();
    out.extend_from_slice(&sha2::Sha256::digest(&body));
    out.extend_from_slice(&body);
    out
}

/// The first `n` entries of a tar stream (headers, data and padding), as raw bytes.
fn first_entries(tar: &[u8], n: usize) -> Vec<u8> {
    let mut pos = 0;
    for _ in 0..n {
        let header = tar::Header::from_byte_slice(&tar[pos..pos + 512]);
        let size = header.entry_size().unwrap() as usize;
        pos += 512 + size.div_ceil(512) * 512;
    }
    tar[..pos].to_vec()
}

/// A raw ustar header with any name bytes and entry type.
fn raw_entry(name: &[u8], kind: tar::EntryType, data: &[u8]) -> Vec<u8> {
    let mut h = tar::Header::new_ustar();
    h.as_ustar_mut().unwrap().name[..name.len()].copy_from_slice(name);
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_entry_type(kind);
    h.set_cksum();
    let mut out = h.as_bytes().to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out
}

/// A valid bundle's manifest and signature followed by `rest` and the end blocks.
fn hostile(rest: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let tar = gunzip(&std::fs::read(write(dir.path(), "b.tgz", &sample())).unwrap());
    let mut out = first_entries(&tar, 2);
    out.extend_from_slice(rest);
    out.extend_from_slice(&[0u8; 1024]);
    gzip(&out)
}

#[test]
fn round_trip_with_config_and_signature() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "b.tgz", &sample());
    let (verified, records) = reader()
        .read_records(std::fs::File::open(&path).unwrap())
        .unwrap();
    // Files come in path order: logs, metrics, traces.
    assert_eq!(
        records,
        vec![
            (Signal::Logs, b"log-1".to_vec()),
            (Signal::Metrics, vec![0u8; 300]),
            (Signal::Traces, b"trace-1".to_vec()),
            (Signal::Traces, vec![]),
        ]
    );
    let m = verified.manifest();
    assert_eq!(m.created_at, "2025-01-02T03:04:05Z");
    assert_eq!(
        m.record_counts(),
        vec![(Signal::Logs, 1), (Signal::Metrics, 1), (Signal::Traces, 2)]
    );
    assert_eq!(
        m.collector_config_sha256.as_deref(),
        Some(m.file("config/collector.yaml").unwrap().sha256.as_str())
    );
    assert_eq!(
        verified.signature(),
        &SignatureStatus::Verified {
            key_ids: vec!["site-key".into()]
        }
    );
    // The tar layout: manifest, signature, then payload sorted by path.
    let tar = gunzip(&std::fs::read(&path).unwrap());
    let mut archive = tar::Archive::new(&tar[..]);
    let names: Vec<String> = archive
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "manifest.json",
            "signatures/manifest.sig",
            "config/collector.yaml",
            "config/dashboards/platform.json",
            "otlp/logs.pb",
            "otlp/metrics.pb",
            "otlp/traces.pb"
        ]
    );
}

#[test]
fn extract_writes_verified_files_and_refuses_existing_targets() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "b.tgz", &sample());
    let out = dir.path().join("out");
    reader().extract(&path, &out).unwrap();
    let traces = std::fs::read(out.join("otlp/traces.pb")).unwrap();
    assert_eq!(
        traces,
        [
            0, 0, 0, 7, b't', b'r', b'a', b'c', b'e', b'-', b'1', 0, 0, 0, 0
        ]
    );
    assert!(out.join("manifest.json").is_file());
    assert!(out.join("signatures/manifest.sig").is_file());
    assert_eq!(
        std::fs::read(out.join("config/dashboards/platform.json")).unwrap(),
        b"{}"
    );
    let err = reader().extract(&path, &out).unwrap_err();
    assert_eq!(err.code(), "bundle.invalid_input");

    // A bad bundle leaves nothing behind.
    let bad = dir.path().join("bad.tgz");
    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    bytes.truncate(n - 20);
    std::fs::write(&bad, bytes).unwrap();
    let out2 = dir.path().join("out2");
    assert!(reader().extract(&bad, &out2).is_err());
    assert!(!out2.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn unsigned_bundles_are_refused_unless_signature_checks_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("u.tgz");
    let mut w =
        BundleWriter::create(&path, BundleOptions::new("acme", "default"), &clock()).unwrap();
    w.write_record(Signal::Logs, b"x").unwrap();
    w.finish(&[]).unwrap();
    let err = reader().verify_file(&path).unwrap_err();
    assert_eq!(err.code(), "bundle.signature");
    let v = BundleReader::dangerous_skip_signature()
        .verify_file(&path)
        .unwrap();
    assert!(matches!(
        v.signature(),
        SignatureStatus::NotChecked { unsigned: true, .. }
    ));
}

#[test]
fn wrong_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "b.tgz", &sample());
    let other = HmacSha256Key::new("site-key", vec![8u8; 32]).unwrap();
    let err = BundleReader::new(Verifier::new(TrustedKeys::new().with(other).unwrap()))
        .verify_file(&path)
        .unwrap_err();
    assert_eq!(err.code(), "bundle.signature");
    assert!(
        err.to_string().starts_with("signatures/manifest.sig"),
        "{err}"
    );
}

#[test]
fn hostile_entries_are_refused_naming_the_file() {
    let cases: Vec<(Vec<u8>, &str, &str)> = vec![
        (
            raw_entry(b"config/../../etc/passwd", tar::EntryType::Regular, b"x"),
            "bundle.unsafe_path",
            "config/../../etc/passwd",
        ),
        (
            raw_entry(b"/etc/passwd", tar::EntryType::Regular, b"x"),
            "bundle.unsafe_path",
            "/etc/passwd",
        ),
        (
            raw_entry(b"config/link", tar::EntryType::Symlink, b""),
            "bundle.link",
            "config/link",
        ),
        (
            raw_entry(b"config/hard", tar::EntryType::Link, b""),
            "bundle.link",
            "config/hard",
        ),
        (
            raw_entry(b"config/dir", tar::EntryType::Directory, b""),
            "bundle.unsupported_entry",
            "config/dir",
        ),
        (
            raw_entry(b"manifest.json", tar::EntryType::Regular, b"{}"),
            "bundle.duplicate_entry",
            "manifest.json",
        ),
        (
            raw_entry(b"config/extra.yaml", tar::EntryType::Regular, b"x"),
            "bundle.extra_file",
            "config/extra.yaml",
        ),
        (
            raw_entry(b"otlp/logs.pb", tar::EntryType::Regular, b"x"),
            "bundle.missing_file",
            "config/collector.yaml",
        ),
    ];
    for (entry, code, file) in cases {
        let bytes = hostile(&entry);
        let err = reader().verify(&bytes[..]).unwrap_err();
        assert_eq!(err.code(), code, "{err}");
        assert!(err.to_string().contains(file), "{err}");
    }
}

#[test]
fn missing_payload_is_refused() {
    let err = reader().verify(&hostile(&[])[..]).unwrap_err();
    assert_eq!(err.code(), "bundle.missing_file");
    assert!(err.to_string().contains("config/collector.yaml"), "{err}");
}

#[test]
fn decompression_bombs_and_oversized_entries_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.tgz");
    let mut w =
        BundleWriter::create(&path, BundleOptions::new("acme", "default"), &clock()).unwrap();
    w.write_record(Signal::Logs, &vec![0u8; 8 << 20]).unwrap();
    w.finish(&[&key()]).unwrap();
    let err = reader().verify_file(&path).unwrap_err();
    assert_eq!(err.code(), "bundle.limit_exceeded", "{err}");
    assert!(err.to_string().contains("compression ratio"), "{err}");

    let mut limits = Limits::default();
    limits.max_ratio = u64::MAX;
    limits.max_entry_size = 1024;
    let err = reader().with_limits(limits).verify_file(&path).unwrap_err();
    assert_eq!(err.code(), "bundle.limit_exceeded");
    assert!(err.to_string().starts_with("otlp/logs.pb"), "{err}");
}

#[test]
fn trailing_bytes_and_foreign_gzip_headers_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "b.tgz", &sample());
    let mut bytes = std::fs::read(&path).unwrap();
    let mut with_name = bytes.clone();
    with_name[9] = 3; // OS = Unix
    assert_eq!(
        reader().verify(&with_name[..]).unwrap_err().code(),
        "bundle.not_a_bundle"
    );
    // A plain gzip of the same archive (no stream digest) is not a bundle.
    let plain = {
        let mut e = flate2::GzBuilder::new()
            .mtime(0)
            .operating_system(255)
            .write(Vec::new(), flate2::Compression::new(6));
        e.write_all(&decompress(&bytes)).unwrap();
        e.finish().unwrap()
    };
    let err = reader().verify(&plain[..]).unwrap_err();
    assert_eq!(err.code(), "bundle.not_a_bundle");
    assert!(err.to_string().contains("stream-digest"), "{err}");
    bytes.push(0);
    assert_eq!(
        reader().verify(&bytes[..]).unwrap_err().code(),
        "bundle.corrupt"
    );
}

#[test]
fn the_gzip_container_matches_its_description_and_standard_tar_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "b.tgz", &sample());
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(gzip(&decompress(&bytes)), bytes);
    let out = dir.path().join("x");
    std::fs::create_dir(&out).unwrap();
    let status = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(&path)
        .arg("-C")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    assert!(out.join("manifest.json").is_file());
    assert_eq!(
        std::fs::read(out.join("otlp/logs.pb")).unwrap()[4..],
        b"log-1"[..]
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn records_round_trip_in_order(records in proptest::collection::vec(
        (prop::sample::select(stellaops_bundle_format::BUNDLE_ORDER.to_vec()), proptest::collection::vec(any::<u8>(), 0..200)), 0..20),
        zstd in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let path = write_with(dir.path(), "b.tgz", &records, compression(zstd));
        let (_, back) = reader().read_records(std::fs::File::open(&path).unwrap()).unwrap();
        let mut expected = Vec::new();
        for s in stellaops_bundle_format::BUNDLE_ORDER {
            expected.extend(records.iter().filter(|(t, _)| *t == s).cloned());
        }
        prop_assert_eq!(back, expected);
    }

    #[test]
    fn writing_twice_gives_identical_bytes(records in proptest::collection::vec(
        (prop::sample::select(stellaops_bundle_format::BUNDLE_ORDER.to_vec()), proptest::collection::vec(any::<u8>(), 0..100)), 0..10),
        zstd in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let a = std::fs::read(write_with(dir.path(), "a.tgz", &records, compression(zstd))).unwrap();
        let b = std::fs::read(write_with(dir.path(), "b.tgz", &records, compression(zstd))).unwrap();
        prop_assert_eq!(a, b);
    }

    #[test]
    fn any_single_byte_change_or_truncation_is_detected(
        records in proptest::collection::vec(
            (prop::sample::select(stellaops_bundle_format::BUNDLE_ORDER.to_vec()), proptest::collection::vec(any::<u8>(), 0..64)), 1..6),
        at in any::<prop::sample::Index>(),
        xor in 1u8..=255,
        cut in any::<prop::sample::Index>(),
        zstd in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let original = std::fs::read(write_with(dir.path(), "b.tgz", &records, compression(zstd))).unwrap();
        let mut changed = original.clone();
        let i = at.index(changed.len());
        changed[i] ^= xor;
        // The stream digest in the header covers every byte after it (even deflate's unread
        // padding bits), the header is fixed, and the rest is the signed content.
        let verdict = reader().verify(&changed[..]);
        prop_assert!(verdict.is_err(), "a change at byte {} (xor {:#04x}) went undetected", i, xor);
        let cut = cut.index(original.len());
        let err = reader().verify(&original[..cut]).unwrap_err();
        prop_assert!(
            matches!(err.code(), "bundle.truncated" | "bundle.not_a_bundle" | "bundle.corrupt"),
            "{}", err
        );
    }

    #[test]
    fn reader_never_panics(data in proptest::collection::vec(any::<u8>(), 0..2048), how in 0u8..3) {
        let input = match how {
            0 => gzip(&data),
            1 => zstd_container(&data),
            _ => data,
        };
        let _ = reader().verify(&input[..]);
        let _ = BundleReader::dangerous_skip_signature().verify(&input[..]);
    }
}

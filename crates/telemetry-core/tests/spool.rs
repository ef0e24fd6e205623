//! The spool: per-signal private segments named by record time, sealed by age and size with a
//! manual clock, torn-frame recovery after a simulated crash, restarts, retention (30 and 180
//! days), the size cap, and incident holds that win over both and survive restarts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod otlp_records;

use chrono::Duration as Delta;
use otlp_records::{ns, span_names, spans, spooled, t};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;
use stellaops_bundle_format::Signal;
use stellaops_telemetry_core::spool::{ManualClock, Spool, SpoolConfig, SpoolMetrics};
use stellaops_telemetry_core::window::Window;
use stellaops_telemetry_model::Clock as _;

const DAY: u64 = 86_400;

fn open(dir: &Path, clock: &ManualClock, config: SpoolConfig) -> Spool {
    Spool::builder(dir)
        .config(config)
        .clock(clock.clone())
        .open()
        .unwrap()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn names(dir: &Path, signal: Signal) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir.join(signal.as_str()))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    out.sort();
    out
}

fn everything() -> Window {
    Window::parse(
        "2000-01-01T00:00:00Z/2100-01-01T00:00:00Z",
        t("2025-01-01T00:00:00Z"),
    )
    .unwrap()
}

#[test]
fn segments_are_per_signal_private_and_named_by_record_time() {
    let tmp = otlp_records::private_tempdir();
    let dir = tmp.path().join("spool");
    let clock = ManualClock::new(t("2025-03-01T10:00:00Z"));
    let spool = open(&dir, &clock, SpoolConfig::default());
    spool
        .append_request(&spans(None, &[("a", t("2025-03-01T09:59:00.250Z"), None)]))
        .unwrap();
    spool
        .append_request(&spans(
            None,
            &[
                ("b", t("2025-03-01T09:59:30Z"), None),
                ("c", t("2025-03-01T09:58:00Z"), None),
            ],
        ))
        .unwrap();
    assert_eq!(names(&dir, Signal::Traces), ["00000000000000000000.open"]);
    assert!(names(&dir, Signal::Logs).is_empty() && names(&dir, Signal::Metrics).is_empty());
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("traces")), 0o700);
    assert_eq!(mode(&dir.join("traces/00000000000000000000.open")), 0o600);

    spool.seal_all().unwrap();
    let from = t("2025-03-01T09:58:00Z").timestamp_millis();
    let to = t("2025-03-01T09:59:30Z").timestamp_millis();
    let sealed = format!("00000000000000000000_{from}_{to}.otlp");
    assert_eq!(names(&dir, Signal::Traces), std::slice::from_ref(&sealed));
    assert_eq!(mode(&dir.join("traces").join(&sealed)), 0o600);
    let segs = spool.segments(Signal::Traces, &everything()).unwrap();
    assert_eq!(segs.len(), 1);
    assert_eq!(
        (segs[0].from, segs[0].to, segs[0].sealed),
        (t("2025-03-01T09:58:00Z"), t("2025-03-01T09:59:30Z"), true)
    );
    // The window picks segments by name: one ending before it is not listed.
    let later = Window::parse("2025-03-01T09:59:31Z/2025-03-02T00:00:00Z", clock.now()).unwrap();
    assert!(spool.segments(Signal::Traces, &later).unwrap().is_empty());
    let edge = Window::parse("2025-03-01T09:59:30Z/2025-03-02T00:00:00Z", clock.now()).unwrap();
    assert_eq!(spool.segments(Signal::Traces, &edge).unwrap().len(), 1);

    let records = spooled(&dir, Signal::Traces);
    assert_eq!(records.len(), 2);
    assert_eq!(
        span_names(&records[0]),
        [("a".to_owned(), ns(t("2025-03-01T09:59:00.250Z")))]
    );
}

#[test]
fn a_world_readable_spool_is_refused() {
    let tmp = otlp_records::private_tempdir();
    let dir = tmp.path().join("spool");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let err = Spool::open(&dir, SpoolConfig::default()).unwrap_err();
    assert_eq!(err.code(), "telemetry.spool.world_readable");
    assert!(err.to_string().contains("mode 755"), "{err}");

    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::create_dir(dir.join("logs")).unwrap();
    std::fs::set_permissions(dir.join("logs"), std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(dir.join("logs/00000000000000000003_1_2.otlp"), b"").unwrap();
    std::fs::set_permissions(
        dir.join("logs/00000000000000000003_1_2.otlp"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let err = Spool::open(&dir, SpoolConfig::default()).unwrap_err();
    assert_eq!(err.code(), "telemetry.spool.world_readable");
    assert!(
        err.to_string().contains("00000000000000000003_1_2.otlp"),
        "{err}"
    );
}

#[test]
fn the_open_segment_is_sealed_after_its_maximum_age() {
    let tmp = otlp_records::private_tempdir();
    let clock = ManualClock::new(t("2025-03-01T00:00:00Z"));
    let spool = open(tmp.path(), &clock, SpoolConfig::default());
    let rec = |name| spans(None, &[(name, clock.now(), None)]);
    spool.append_request(&rec("one")).unwrap();
    clock.advance(Delta::minutes(59));
    spool.append_request(&rec("two")).unwrap();
    assert_eq!(spool.seal_expired().unwrap(), 0);
    assert_eq!(
        names(tmp.path(), Signal::Traces).len(),
        1,
        "younger than 1 h: one segment"
    );
    clock.advance(Delta::minutes(1));
    assert_eq!(spool.seal_expired().unwrap(), 1, "exactly 1 h old: sealed");
    spool.append_request(&rec("three")).unwrap();
    let segs = spool.segments(Signal::Traces, &everything()).unwrap();
    assert_eq!(
        segs.iter().map(|s| s.sealed).collect::<Vec<_>>(),
        [true, false]
    );
    // A 10-minute maximum: the append itself seals the old segment first.
    let tmp2 = otlp_records::private_tempdir();
    let short = open(
        tmp2.path(),
        &clock,
        SpoolConfig::default().segment_max_age(Duration::from_secs(600)),
    );
    short.append_request(&rec("a")).unwrap();
    clock.advance(Delta::minutes(10));
    short.append_request(&rec("b")).unwrap();
    let segs = short.segments(Signal::Traces, &everything()).unwrap();
    assert_eq!(
        (segs.len(), segs[0].sealed, segs[1].sealed),
        (2, true, false)
    );
    assert_eq!((segs[0].seq, segs[1].seq), (0, 1));
}

#[test]
fn the_open_segment_is_sealed_before_passing_its_maximum_size() {
    let tmp = otlp_records::private_tempdir();
    let clock = ManualClock::new(t("2025-03-01T00:00:00Z"));
    let one = spans(None, &[("x", clock.now(), None)]).encode();
    let framed = one.len() as u64 + 4;
    let spool = open(
        tmp.path(),
        &clock,
        SpoolConfig::default().segment_max_bytes(framed * 2),
    );
    for _ in 0..5 {
        spool.append(Signal::Traces, &one).unwrap();
    }
    let segs = spool.segments(Signal::Traces, &everything()).unwrap();
    assert_eq!(
        segs.iter().map(|s| s.size).collect::<Vec<_>>(),
        [framed * 2, framed * 2, framed]
    );
    assert_eq!(
        segs.iter().map(|s| s.sealed).collect::<Vec<_>>(),
        [true, true, false]
    );
    // A record that does not decode as the signal's request is refused.
    let err = spool.append(Signal::Logs, b"\xff\xff\xff").unwrap_err();
    assert_eq!(err.code(), "telemetry.spool.invalid_record");
}

#[test]
fn a_torn_final_frame_is_truncated_reported_and_the_segment_sealed_at_restart() {
    let tmp = otlp_records::private_tempdir();
    let clock = ManualClock::new(t("2025-03-01T00:00:00Z"));
    let times = [
        "2025-03-01T00:00:01Z",
        "2025-03-01T00:00:02Z",
        "2025-03-01T00:00:03Z",
    ];
    {
        let spool = open(tmp.path(), &clock, SpoolConfig::default());
        for (i, time) in times.iter().enumerate() {
            spool
                .append_request(&spans(None, &[(["a", "b", "c"][i], t(time), None)]))
                .unwrap();
        }
        // Crash: the process dies mid-write of a fourth frame; nothing is sealed.
        let open_path = tmp.path().join("traces/00000000000000000000.open");
        let full = spans(None, &[("d", t("2025-03-01T00:00:04Z"), None)]).encode();
        let mut framed = Vec::new();
        stellaops_bundle_format::framing::write_record(&mut framed, &full).unwrap();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&open_path)
            .unwrap();
        f.write_all(&framed[..framed.len() - 3]).unwrap();
        std::mem::forget(spool); // no orderly shutdown
    }
    let torn = spans(None, &[("d", t("2025-03-01T00:00:04Z"), None)])
        .encode()
        .len() as u64
        + 4
        - 3;
    let metrics = SpoolMetrics::default();
    let mut registry = prometheus_client::registry::Registry::default();
    metrics.register(&mut registry);
    let spool = Spool::builder(tmp.path())
        .clock(clock.clone())
        .metrics(metrics.clone())
        .open()
        .unwrap();
    let recovered = spool.recovered();
    assert_eq!(recovered.len(), 1);
    assert_eq!(
        (recovered[0].records, recovered[0].truncated_bytes),
        (3, torn)
    );
    let seg = recovered[0].segment.clone().unwrap();
    assert!(seg.sealed);
    assert_eq!((seg.from, seg.to), (t(times[0]), t(times[2])));
    assert_eq!(metrics.recovered_segments(), 1);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    assert!(
        text.contains("telemetry_spool_recovered_segments_total 1"),
        "{text}"
    );
    assert!(
        text.contains(&format!("telemetry_spool_truncated_bytes_total {torn}")),
        "{text}"
    );
    let names: Vec<String> = spooled(tmp.path(), Signal::Traces)
        .iter()
        .flat_map(|r| span_names(r))
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["a", "b", "c"]);
    // New records go to a new segment after the recovered one.
    spool
        .append_request(&spans(None, &[("e", clock.now(), None)]))
        .unwrap();
    let segs = spool.segments(Signal::Traces, &everything()).unwrap();
    assert_eq!(segs.iter().map(|s| s.seq).collect::<Vec<_>>(), [0, 1]);
}

#[test]
fn an_open_segment_with_only_a_torn_frame_is_removed_and_a_clean_one_is_sealed() {
    let tmp = otlp_records::private_tempdir();
    let clock = ManualClock::new(t("2025-03-01T00:00:00Z"));
    drop(open(tmp.path(), &clock, SpoolConfig::default()));
    let empty = tmp.path().join("logs/00000000000000000004.open");
    std::fs::write(&empty, [0, 0, 1]).unwrap();
    std::fs::set_permissions(&empty, std::fs::Permissions::from_mode(0o600)).unwrap();
    {
        let spool = open(tmp.path(), &clock, SpoolConfig::default());
        spool
            .append_request(&spans(None, &[("kept", t("2025-02-28T00:00:00Z"), None)]))
            .unwrap();
        std::mem::forget(spool);
    }
    let spool = open(tmp.path(), &clock, SpoolConfig::default());
    let recovered = spool.recovered();
    assert_eq!(
        recovered.len(),
        1,
        "the logs stub was recovered by the previous open"
    );
    assert_eq!((recovered[0].records, recovered[0].truncated_bytes), (1, 0));
    assert!(names(tmp.path(), Signal::Logs).is_empty());
    assert_eq!(
        spool.metrics().recovered_segments(),
        0,
        "a clean end is not a torn frame"
    );
}

#[test]
fn the_spool_survives_a_restart_and_continues_its_sequence() {
    let tmp = otlp_records::private_tempdir();
    let clock = ManualClock::new(t("2025-03-01T00:00:00Z"));
    {
        let spool = open(tmp.path(), &clock, SpoolConfig::default());
        spool
            .append_request(&spans(None, &[("before", clock.now(), None)]))
            .unwrap();
        spool.seal_all().unwrap();
        spool
            .append_request(&spans(None, &[("open-at-exit", clock.now(), None)]))
            .unwrap();
    }
    clock.advance(Delta::minutes(5));
    let spool = open(tmp.path(), &clock, SpoolConfig::default());
    spool
        .append_request(&spans(None, &[("after", clock.now(), None)]))
        .unwrap();
    let segs = spool.segments(Signal::Traces, &everything()).unwrap();
    assert_eq!(
        segs.iter().map(|s| (s.seq, s.sealed)).collect::<Vec<_>>(),
        [(0, true), (1, true), (2, false)]
    );
    let names: Vec<String> = spooled(tmp.path(), Signal::Traces)
        .iter()
        .flat_map(|r| span_names(r))
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["before", "open-at-exit", "after"]);
    assert_eq!(
        spool
            .stats()
            .unwrap()
            .signals
            .iter()
            .find(|(s, _)| *s == Signal::Traces)
            .unwrap()
            .1
            .segments,
        3
    );
}

fn sealed_segment_at(spool: &Spool, when: &str) {
    spool
        .append_request(&spans(None, &[("x", t(when), None)]))
        .unwrap();
    spool.seal_all().unwrap();
}

#[test]
fn retention_is_30_days_by_default_and_180_forensic() {
    for (config, days) in [(SpoolConfig::default(), 30), (SpoolConfig::forensic(), 180)] {
        let tmp = otlp_records::private_tempdir();
        let clock = ManualClock::new(t("2025-01-01T00:00:00Z"));
        let spool = open(tmp.path(), &clock, config.clone());
        sealed_segment_at(&spool, "2025-01-01T00:00:00Z");
        clock.advance(Delta::days(days) - Delta::seconds(1));
        assert!(
            spool.prune().unwrap().expired.is_empty(),
            "{days} days minus a second: kept"
        );
        assert_eq!(
            spool
                .stats()
                .unwrap()
                .signals
                .iter()
                .map(|(_, s)| s.segments)
                .sum::<usize>(),
            1
        );
        clock.advance(Delta::seconds(1));
        let report = spool.prune().unwrap();
        assert_eq!(report.expired.len(), 1, "{days} days: deleted");
        assert_eq!(spool.metrics().pruned_segments("retention"), 1);
        assert_eq!(spool.stats().unwrap().total_bytes, 0);
    }
    assert_eq!(
        SpoolConfig::default().retention,
        Duration::from_secs(30 * DAY)
    );
}

#[test]
fn the_size_cap_prunes_oldest_first_and_never_the_open_segment() {
    let tmp = otlp_records::private_tempdir();
    let clock = ManualClock::new(t("2025-01-10T00:00:00Z"));
    let size = spans(None, &[("x", clock.now(), None)]).encode().len() as u64 + 4;
    let spool = open(
        tmp.path(),
        &clock,
        SpoolConfig::default().max_total_bytes(size * 2),
    );
    for day in ["2025-01-03", "2025-01-01", "2025-01-02"] {
        sealed_segment_at(&spool, &format!("{day}T00:00:00Z"));
    }
    // The third seal pruned the oldest record time first (01-01), not the oldest sequence.
    let left: Vec<_> = spool
        .segments(Signal::Traces, &everything())
        .unwrap()
        .iter()
        .map(|s| s.from)
        .collect();
    assert_eq!(left, [t("2025-01-03T00:00:00Z"), t("2025-01-02T00:00:00Z")]);
    assert_eq!(spool.metrics().pruned_segments("size_cap"), 1);
    // The open segment counts towards the cap but is never deleted.
    spool
        .append_request(&spans(None, &[("y", t("2024-12-01T00:00:00Z"), None)]))
        .unwrap();
    let report = spool.prune().unwrap();
    assert_eq!(report.over_cap.len(), 1);
    let segs = spool.segments(Signal::Traces, &everything()).unwrap();
    assert_eq!(
        segs.iter().map(|s| (s.from, s.sealed)).collect::<Vec<_>>(),
        [
            (t("2025-01-03T00:00:00Z"), true),
            (t("2024-12-01T00:00:00Z"), false)
        ]
    );
}

#[test]
fn holds_win_over_retention_and_the_cap_and_survive_restarts() {
    let tmp = otlp_records::private_tempdir();
    let clock = ManualClock::new(t("2025-01-10T00:00:00Z"));
    let size = spans(None, &[("x", clock.now(), None)]).encode().len() as u64 + 4;
    let config = SpoolConfig::default().max_total_bytes(size / 2);
    {
        let spool = open(tmp.path(), &clock, config.clone());
        spool
            .add_hold("acme", t("2025-01-01T12:00:00Z"), t("2025-01-02T12:00:00Z"))
            .unwrap();
        assert_eq!(mode(&tmp.path().join("holds.json")), 0o600);
        let err = spool
            .add_hold("acme", t("2025-01-02T00:00:00Z"), t("2025-01-01T00:00:00Z"))
            .unwrap_err();
        assert_eq!(err.code(), "telemetry.spool.invalid_hold");
    }
    let spool = open(tmp.path(), &clock, config.clone());
    assert_eq!(spool.holds().len(), 1, "holds.json survived the restart");
    assert_eq!(spool.holds()[0].tenant, "acme");
    sealed_segment_at(&spool, "2025-01-01T00:00:00Z"); // before the hold
    sealed_segment_at(&spool, "2025-01-02T00:00:00Z"); // inside the hold
    sealed_segment_at(&spool, "2025-01-03T00:00:00Z"); // after the hold
    // The cap is half a segment: every unheld segment goes, the held one stays over the cap.
    let froms = |s: &Spool| {
        s.segments(Signal::Traces, &everything())
            .unwrap()
            .iter()
            .map(|s| s.from)
            .collect::<Vec<_>>()
    };
    assert_eq!(froms(&spool), [t("2025-01-02T00:00:00Z")]);
    assert_eq!(spool.metrics().pruned_segments("size_cap"), 2);
    let report = spool.prune().unwrap();
    assert_eq!(report.held_over_cap_bytes, size - size / 2);
    assert_eq!(report.held, 1);
    assert_eq!(
        spool.metrics().held_over_cap_bytes(),
        i64::try_from(size - size / 2).unwrap()
    );
    // Past the 30-day retention and after a restart: the held segment stays.
    clock.set(t("2025-03-01T00:00:00Z"));
    drop(spool);
    let spool = open(tmp.path(), &clock, SpoolConfig::default());
    assert_eq!(froms(&spool), [t("2025-01-02T00:00:00Z")]);
    let report = spool.prune().unwrap();
    assert_eq!((report.held, report.held_over_cap_bytes), (1, 0));
    clock.set(t("2025-07-01T00:00:00Z") - Delta::seconds(1)); // 2025-01-02 + 180 d = 2025-07-01
    assert_eq!(spool.prune().unwrap().expired.len(), 0);
    clock.set(t("2025-07-01T00:00:00Z"));
    let report = spool.prune().unwrap();
    assert_eq!(report.expired.len(), 1);
    assert!(froms(&spool).is_empty());
    // The hold ended 2025-01-02T12:00; it expires with its 180 days.
    clock.set(t("2025-07-02T00:00:00Z"));
    assert_eq!(spool.prune().unwrap().holds_expired, 1);
    drop(spool);
    assert!(open(tmp.path(), &clock, config).holds().is_empty());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
    /// Whatever the segments, hold, cap and elapsed time: a held segment inside its hold
    /// retention is never deleted, an unheld one past retention always is, and the spool is
    /// over its cap only because of held segments.
    #[test]
    fn prune_keeps_its_promises(
        days in proptest::collection::vec(0i64..60, 1..8),
        hold in proptest::option::of((0i64..60, 0i64..5)),
        cap_segments in 0u64..6,
        elapsed in 0i64..400,
    ) {
        let tmp = otlp_records::private_tempdir();
        let base = t("2025-01-01T00:00:00Z");
        let clock = ManualClock::new(base + Delta::days(60));
        let size = spans(None, &[("x", base, None)]).encode().len() as u64 + 4;
        let spool = open(tmp.path(), &clock, SpoolConfig::default().max_total_bytes(cap_segments * size));
        let hold = hold.map(|(start, len)| (base + Delta::days(start), base + Delta::days(start + len)));
        if let Some((s, e)) = hold {
            spool.add_hold("acme", s, e).unwrap();
        }
        for d in &days {
            spool.append_request(&spans(None, &[("x", base + Delta::days(*d), None)])).unwrap();
            spool.seal_all().unwrap();
        }
        clock.advance(Delta::days(elapsed));
        spool.prune().unwrap();
        let now = clock.now();
        let left = spool.segments(Signal::Traces, &everything()).unwrap();
        let held = |from, to| hold.is_some_and(|(s, e)| from <= e && to >= s);
        for d in &days {
            let at = base + Delta::days(*d);
            let present = left.iter().any(|s| s.from == at);
            if held(at, at) && now < at + Delta::days(180) {
                proptest::prop_assert!(present, "held segment {at} deleted at {now}");
            }
            if !held(at, at) && now >= at + Delta::days(30) {
                proptest::prop_assert!(!present, "unheld segment {at} kept past retention at {now}");
            }
        }
        let total: u64 = left.iter().map(|s| s.size).sum();
        if total > cap_segments * size {
            proptest::prop_assert!(left.iter().all(|s| held(s.from, s.to)), "over the cap with unheld segments");
        }
    }
}

//! `stella-telemetry egress check`: the output and exit-status contract on the real binary.
//! One JSON object per endpoint on stdout with keys endpoint, class, allowed, reason,
//! remediation; exit 0 when all are allowed, 3 when any is denied, 2 on a usage error.

use std::process::{Command, Output};

use serde_json::Value;

fn stella(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stella-telemetry"))
        .args(args)
        .output()
        .unwrap()
}

fn lines(output: &Output) -> Vec<Value> {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn check(args: &[&str]) -> (i32, Vec<Value>) {
    let output = stella(&[&["egress", "check"], args].concat());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.is_empty(), "unexpected stderr: {stderr}");
    (output.status.code().unwrap(), lines(&output))
}

#[test]
fn prints_one_object_per_endpoint_with_the_documented_keys_in_order() {
    let output = stella(&[
        "egress",
        "check",
        "http://127.0.0.1:4317",
        "https://collector.example:4318/v1/traces",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let raw: Vec<&str> = stdout.lines().collect();
    assert_eq!(raw.len(), 2);
    for line in &raw {
        let positions: Vec<usize> = ["endpoint", "class", "allowed", "reason", "remediation"]
            .iter()
            .map(|key| line.find(&format!("\"{key}\":")).unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{line}");
        let object: Value = serde_json::from_str(line).unwrap();
        assert_eq!(object.as_object().unwrap().len(), 5, "{line}");
    }
    let objects: Vec<Value> = raw
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objects[0]["endpoint"], "http://127.0.0.1:4317");
    assert_eq!(objects[0]["class"], "loopback");
    assert_eq!(objects[0]["allowed"], true);
    assert_eq!(objects[0]["remediation"], Value::Null);
    assert!(
        objects[0]["reason"]
            .as_str()
            .unwrap()
            .contains("sealed mode is off")
    );
    assert_eq!(
        objects[1]["endpoint"],
        "https://collector.example:4318/v1/traces"
    );
    assert_eq!(objects[1]["class"], "public");
    assert_eq!(objects[1]["allowed"], true);
}

#[test]
fn sealed_allows_only_local_endpoints_and_exits_3_on_any_denial() {
    let endpoints = [
        ("http://127.0.0.1:4317", "loopback", true),
        ("LOCALHOST:4317", "loopback", true),
        ("http://[::1]:4318/v1/logs", "loopback", true),
        ("http://[::ffff:127.0.0.1]:4317", "loopback", true),
        ("unix:///run/otel.sock", "unix", true),
        ("file:///var/spool/x", "file", true),
        ("/var/log/x", "file", true),
        ("./logs/x", "file", true),
        ("10.1.2.3:4317", "private", false),
        ("http://169.254.169.254/latest", "link-local", false),
        ("http://[fe80::1]:4317", "link-local", false),
        ("https://collector.example:4318", "public", false),
        ("ftp://127.0.0.1", "invalid", false),
    ];
    let args: Vec<&str> = std::iter::once("--sealed")
        .chain(endpoints.iter().map(|(e, _, _)| *e))
        .collect();
    let (code, objects) = check(&args);
    assert_eq!(code, 3);
    assert_eq!(objects.len(), endpoints.len());
    for ((endpoint, class, allowed), object) in endpoints.iter().zip(&objects) {
        assert_eq!(object["endpoint"], *endpoint);
        assert_eq!(object["class"], *class, "{endpoint}");
        assert_eq!(object["allowed"], *allowed, "{endpoint}");
        if *allowed {
            assert_eq!(object["remediation"], Value::Null, "{endpoint}");
        } else {
            assert!(
                object["remediation"].as_str().unwrap().len() > 40,
                "{endpoint}"
            );
        }
    }
    let local_only: Vec<&str> = endpoints
        .iter()
        .filter(|(_, _, allowed)| *allowed)
        .map(|(e, _, _)| *e)
        .collect();
    let (code, _) = check(&[&["--sealed"], local_only.as_slice()].concat());
    assert_eq!(code, 0);
}

#[test]
fn sealed_denials_tell_the_operator_how_to_fix_them() {
    let (code, objects) = check(&["--sealed", "https://collector.example:4318"]);
    assert_eq!(code, 3);
    let remediation = objects[0]["remediation"].as_str().unwrap();
    assert!(remediation.contains("OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317"));
    assert!(remediation.contains("file exporter"));
    assert!(remediation.contains("unseal"));
    let reason = objects[0]["reason"].as_str().unwrap();
    assert!(reason.contains("sealed mode is on"), "{reason}");
    assert!(reason.contains("collector.example"), "{reason}");
}

#[test]
fn url_tricks_are_read_as_http_clients_read_them() {
    let tricks = [
        "http://127.0.0.1@evil.example",
        "http://evil.example#@127.0.0.1",
        "http://evil.example\\@127.0.0.1",
        "http://localhost:4317@evil.example",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://localhost./",
        "http://%6cocalhost/",
    ];
    let (code, objects) = check(&[&["--sealed"], &tricks[..]].concat());
    assert_eq!(code, 3);
    for (trick, object) in tricks.iter().zip(&objects) {
        assert_eq!(object["class"], "public", "{trick}");
        assert_eq!(object["allowed"], false, "{trick}");
    }
}

#[test]
fn an_invalid_endpoint_is_a_denial_not_a_crash() {
    for endpoint in [
        "",
        "ftp://x",
        "http://user@/",
        "//server/share",
        "http://foo.123/",
        "http://0.0.0.0:4317",
    ] {
        let (code, objects) = check(&[endpoint]);
        assert_eq!(code, 3, "{endpoint:?}");
        assert_eq!(objects.len(), 1);
        assert_eq!(objects[0]["class"], "invalid", "{endpoint:?}");
        assert_eq!(objects[0]["allowed"], false);
        assert!(objects[0]["reason"].as_str().unwrap().contains("expected"));
        assert!(
            objects[0]["remediation"]
                .as_str()
                .unwrap()
                .contains("fix the exporter's endpoint")
        );
    }
}

#[test]
fn allow_exporter_patterns_restrict_remote_endpoints() {
    let (code, objects) = check(&[
        "--allow-exporter",
        "*.corp.example:4317",
        "--allow-exporter",
        "https://metrics.partner.example",
        "otel.corp.example:4317",
        "https://metrics.partner.example/v1/metrics",
        "./logs/x",
        "otel.corp.example:4318",
        "http://metrics.partner.example",
        "http://otel.corp.example:4317@evil.example:4317",
    ]);
    assert_eq!(code, 3);
    let allowed: Vec<bool> = objects
        .iter()
        .map(|o| o["allowed"].as_bool().unwrap())
        .collect();
    assert_eq!(allowed, [true, true, true, false, false, false]);
    assert!(
        objects[3]["remediation"]
            .as_str()
            .unwrap()
            .contains("`otel.corp.example:4318`")
    );
    assert!(
        objects[3]["reason"]
            .as_str()
            .unwrap()
            .contains("`*.corp.example:4317`")
    );

    let (code, _) = check(&["--allow-exporter", "*.corp.example", "a.corp.example:1"]);
    assert_eq!(code, 0);
}

#[test]
fn sealed_mode_wins_over_the_allow_list() {
    let (code, objects) = check(&[
        "--sealed",
        "--allow-exporter",
        "collector.example",
        "collector.example:4317",
        "127.0.0.1:4317",
    ]);
    assert_eq!(code, 3);
    assert_eq!(objects[0]["allowed"], false);
    assert_eq!(objects[1]["allowed"], true);
}

#[test]
fn usage_errors_exit_2_and_print_nothing_on_stdout() {
    for args in [
        &["egress", "check"][..],
        &["egress", "check", "--sealed"],
        &["egress", "check", "--allow-exporter", "collector.example"],
        &["egress", "check", "--allow-exporter", "ftp://x", "a"],
        &["egress", "check", "--allow-exporter", "exporter=otlp", "a"],
        &["egress", "check", "--allow-exporter", "x:99999", "a"],
        &["egress", "check", "--no-such-flag", "a"],
        &["egress"],
        &["egress", "nope"],
        &[],
    ] {
        let output = stella(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
        assert!(!output.stderr.is_empty(), "{args:?}");
    }
    let output = stella(&["egress", "check", "--allow-exporter", "exporter=otlp", "a"]);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("names an exporter"), "{stderr}");
}

#[test]
fn help_documents_the_contract() {
    let output = stella(&["egress", "check", "--help"]);
    assert_eq!(output.status.code(), Some(0));
    let help = String::from_utf8(output.stdout).unwrap();
    for needle in [
        "--sealed",
        "--allow-exporter <PATTERN>",
        "<ENDPOINT>...",
        "link-local",
        "3 when any is",
    ] {
        assert!(help.contains(needle), "missing {needle:?} in\n{help}");
    }
}

//! `stella-telemetry redact`: the real binary, fed on stdin.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn redact(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stella-telemetry"))
        .arg("redact")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A run that fails at start-up (bad policy) exits without reading: a closed pipe is fine.
    if let Err(e) = child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    child.wait_with_output().unwrap()
}

fn lines(bytes: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn default_policy_redacts_each_line_in_order() {
    let input = concat!(
        r#"{"tenant":"acme","msg":"login failed for bob@example.com with password=hunter2"}"#,
        "\n",
        r#"{"http":{"request":{"header":{"authorization":"Bearer abc123def456"}}},"level":"info"}"#,
        "\n",
        r#"{"msg":"GET /healthz 200","n":1}"#,
        "\n",
    );
    let out = redact(&[], input);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        lines(&out.stdout),
        [
            serde_json::json!({"tenant": "acme", "msg": "login failed for [redacted] with password=[redacted]"}),
            serde_json::json!({"http": {"request": {"header": {"authorization": "[redacted]"}}}, "level": "info"}),
            serde_json::json!({"msg": "GET /healthz 200", "n": 1}),
        ]
    );
    assert!(out.stderr.is_empty());
}

#[test]
fn non_object_lines_are_reported_by_number_and_not_echoed_and_the_run_fails() {
    let input = "{\"a\":\"x@example.com\"}\n[1,2]\nnot json\n\n{\"b\":2}\n";
    let out = redact(&[], input);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        lines(&out.stdout),
        [
            serde_json::json!({"a": "[redacted]"}),
            serde_json::json!({"b": 2})
        ]
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("line 2: expected a JSON object, found an array"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 3: expected a JSON object, found invalid JSON"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 4: expected a JSON object"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("line 1:") && !stderr.contains("line 5:"),
        "{stderr}"
    );
    assert!(stderr.contains("3 line(s) rejected"), "{stderr}");
}

#[test]
fn policy_file_switches_to_allow_list_and_hashing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.json");
    std::fs::write(
        &path,
        r#"{"mode":"allow_list","allowed_keys":["http.method","user"],"replacement":"hash","hash_salt":"s"}"#,
    )
    .unwrap();
    let input = r#"{"tenant":"acme","http":{"method":"GET","url":"https://u:p4ss@x.io/"},"user":{"email":"bob@example.com"},"extra":1}"#;
    let out = redact(&["--policy", path.to_str().unwrap()], &format!("{input}\n"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let record = &lines(&out.stdout)[0];
    assert_eq!(record["tenant"], "acme");
    assert_eq!(record["http"], serde_json::json!({"method": "GET"}));
    assert!(record.get("extra").is_none());
    let email = record["user"]["email"].as_str().unwrap();
    assert!(email.starts_with("sha256:") && email.len() == 71, "{email}");
}

#[test]
fn override_keeps_a_value_and_is_reported_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.json");
    // The binary checks expiry against the wall clock, so the grant is relative to now.
    let granted = (chrono::Utc::now() - chrono::TimeDelta::hours(1)).to_rfc3339();
    std::fs::write(
        &path,
        format!(r#"{{"overrides":[{{"key":"debug.cookie","ticket":"INC-77","granted_at":"{granted}"}}]}}"#),
    )
    .unwrap();
    let out = redact(
        &["--policy", path.to_str().unwrap()],
        "{\"debug\":{\"cookie\":\"sid=42\"},\"cookie\":\"sid=42\"}\n",
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        lines(&out.stdout),
        [serde_json::json!({"debug": {"cookie": "sid=42"}, "cookie": "[redacted]"})]
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("audit: override INC-77 (key debug.cookie"),
        "{stderr}"
    );
    assert!(stderr.contains("kept 1 value(s)"), "{stderr}");
}

#[test]
fn expired_override_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.json");
    std::fs::write(
        &path,
        r#"{"overrides":[{"key":"user.email","ticket":"INC-1","granted_at":"2020-01-01T00:00:00Z"}]}"#,
    )
    .unwrap();
    let out = redact(&["--policy", path.to_str().unwrap()], "{}\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("INC-1") && stderr.contains("redaction.policy.override_expired"),
        "{stderr}"
    );
}

#[test]
fn unreadable_or_invalid_policy_is_a_setup_error() {
    let out = redact(&["--policy", "/nonexistent/policy.json"], "{}\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read policy file"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.json");
    std::fs::write(&path, r#"{"mode":"allow-list"}"#).unwrap();
    let out = redact(&["--policy", path.to_str().unwrap()], "{}\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("redaction.policy.parse"));
}

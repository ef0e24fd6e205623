//! The one stderr error format, through the real binary: every failing path of every command
//! that can be reached without a peer prints `error[CODE]: message` and exits with the
//! documented number; with the global `--json` the same failure is one JSON object
//! `{"error":{"code","message"}}` per line on stderr; successful output does not change.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// One failing invocation: what it runs and what it must report.
struct Case {
    args: Vec<String>,
    env: Vec<(&'static str, &'static str)>,
    stdin: &'static [u8],
    code: &'static str,
    exit: i32,
}

fn case(args: &[&str], code: &'static str, exit: i32) -> Case {
    Case {
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        env: Vec::new(),
        stdin: b"",
        code,
        exit,
    }
}

impl Case {
    fn env(mut self, key: &'static str, value: &'static str) -> Self {
        self.env.push((key, value));
        self
    }

    fn stdin(mut self, bytes: &'static [u8]) -> Self {
        self.stdin = bytes;
        self
    }

    fn run(&self, dir: &Path, json: bool) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_stella-telemetry"));
        if json {
            command.arg("--json");
        }
        let mut child = command
            .args(&self.args)
            .current_dir(dir)
            .env_remove("SOURCE_DATE_EPOCH")
            .env_remove("STELLAOPS_TELEMETRY_SEALED")
            .env_remove("STELLA_TELEMETRY_TOKEN")
            .env_remove("STELLA_TELEMETRY_CA")
            .envs(self.env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        // A command that fails before reading its input closes the pipe early.
        match input.write_all(self.stdin) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            other => other.unwrap(),
        }
        drop(input);
        child.wait_with_output().unwrap()
    }

    /// Text: exit number, and the failure's `error[CODE]: ` line with a message after it.
    fn check_text(&self, dir: &Path) {
        let out = self.run(dir, false);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let what = format!("{:?}: {stderr}", self.args);
        assert_eq!(out.status.code(), Some(self.exit), "{what}");
        let prefix = format!("error[{}]: ", self.code);
        let line = stderr
            .lines()
            .rfind(|l| l.starts_with("error["))
            .unwrap_or_else(|| panic!("no error[ line: {what}"));
        assert!(line.starts_with(&prefix), "expected {prefix}: {what}");
        assert!(line.len() > prefix.len(), "empty message: {what}");
        assert!(!stderr.contains("error ["), "old format: {what}");
    }

    /// JSON: exit number, and every line that reports an error is one JSON object with a code
    /// and a message, the last one this case's code.
    fn check_json(&self, dir: &Path) {
        let out = self.run(dir, true);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let what = format!("--json {:?}: {stderr}", self.args);
        assert_eq!(out.status.code(), Some(self.exit), "{what}");
        let reports: Vec<serde_json::Value> = stderr
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {what}")))
            .collect();
        assert!(
            !stderr.lines().any(|l| l.starts_with("error[")),
            "text format under --json: {what}"
        );
        let last = reports.last().unwrap_or_else(|| panic!("no JSON: {what}"));
        for report in &reports {
            let error = report["error"].as_object().unwrap();
            assert!(error["code"].is_string(), "{what}");
            assert!(
                error["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{what}"
            );
        }
        assert_eq!(last["error"]["code"], self.code, "{what}");
    }
}

/// Serves `response` (raw bytes) to every connection, after reading the request head.
fn canned_server(response: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65_536 {
                match stream.read(&mut byte) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&byte[..n]),
                }
            }
            let _ = stream.write_all(&response);
        }
    });
    addr.to_string()
}

fn http_response(status: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A TCP server that answers a TLS ClientHello with plain HTTP: the handshake fails.
fn plain_server_for_tls() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut hello = [0u8; 512];
            let _ = stream.read(&mut hello);
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
        }
    });
    addr.to_string()
}

#[test]
fn every_failing_path_prints_one_format_and_its_exit_number() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("afile"), "x").unwrap();
    std::fs::write(dir.join("garbage.tar.gz"), "garbage").unwrap();
    std::fs::write(dir.join("bad-policy.json"), "{").unwrap();
    std::fs::write(dir.join("empty.jsonl"), "").unwrap();
    std::fs::write(dir.join("bad-event.jsonl"), "{\"kind\":\"nope\"}\n").unwrap();
    std::fs::write(dir.join("bad-json.jsonl"), "{\"kind\":\n").unwrap();
    let unreachable = format!(
        "http://127.0.0.1:{}",
        stellaops_telemetry_testkit::free_loopback_port().unwrap()
    );
    let unauthorized = format!(
        "http://{}",
        canned_server(http_response(
            "401 Unauthorized",
            r#"{"error":{"code":"telemetry.auth.invalid_token","message":"the token is not valid"}}"#,
        ))
    );
    let server_error = format!(
        "http://{}",
        canned_server(http_response(
            "500 Internal Server Error",
            r#"{"error":{"code":"telemetry.incident.controller_down","message":"down"}}"#,
        ))
    );
    let not_json = format!(
        "http://{}",
        canned_server(http_response("200 OK", "<html>"))
    );
    let tls = format!("https://{}", plain_server_for_tls());
    let window = [
        "--from",
        "2025-01-01T00:00:00Z",
        "--to",
        "2025-01-02T00:00:00Z",
    ];
    let dora = |command: &str, events: &str, extra: &[&str]| {
        let mut args = vec!["dora", command, "--events", events, "--tenant", "acme"];
        args.extend(window);
        args.extend(extra);
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let owned = |args: Vec<String>, code, exit| Case {
        args,
        env: Vec::new(),
        stdin: b"",
        code,
        exit,
    };

    let cases = vec![
        // What clap refuses is a usage error in the same format.
        case(&[], "cli.usage", 2),
        case(&["bundle"], "cli.usage", 2),
        case(&["no-such-command"], "cli.usage", 2),
        case(
            &["dsse", "keygen", "--type", "rsa", "--out", "k"],
            "cli.usage",
            2,
        ),
        // deploy
        case(
            &["deploy", "--profile", "turbo", "--out", "d"],
            "deploy.unknown_profile",
            2,
        ),
        case(
            &[
                "deploy",
                "--profile",
                "default",
                "--out",
                "d",
                "--key",
                "nokey",
            ],
            "federation.dsse.key_file",
            2,
        ),
        case(
            &["deploy", "--profile", "default", "--out", "afile/sub"],
            "deploy.io",
            1,
        ),
        // bundle
        case(
            &["bundle", "create", "--input", ".", "--out", "o.tar.gz"],
            "bundle.invalid_input",
            1,
        ),
        case(
            &["bundle", "create", "--input", ".", "--out", "o.tar.gz"],
            "bundle.invalid_input",
            1,
        )
        .env("SOURCE_DATE_EPOCH", "-1"),
        case(&["bundle", "verify", "nope.tar.gz"], "bundle.io", 1),
        case(
            &["bundle", "inspect", "garbage.tar.gz"],
            "bundle.not_a_bundle",
            1,
        ),
        case(
            &["bundle", "extract", "garbage.tar.gz", "--out", "x"],
            "bundle.not_a_bundle",
            1,
        ),
        // bundle replay
        case(
            &[
                "bundle",
                "replay",
                "nope.tar.gz",
                "--endpoint",
                "127.0.0.1:4317",
            ],
            "replay.unverified",
            1,
        ),
        case(
            &[
                "bundle",
                "replay",
                "nope.tar.gz",
                "--endpoint",
                "127.0.0.1:4317",
            ],
            "replay.invalid_environment",
            2,
        )
        .env("STELLAOPS_TELEMETRY_SEALED", "maybe"),
        case(
            &[
                "bundle",
                "replay",
                "nope.tar.gz",
                "--endpoint",
                "10.1.2.3:4317",
                "--sealed",
            ],
            "egress.denied",
            3,
        ),
        case(
            &[
                "bundle",
                "replay",
                "nope.tar.gz",
                "--endpoint",
                "127.0.0.1:4317",
                "--insecure-skip-verify",
                "--ca",
                "ca.pem",
            ],
            "replay.invalid_endpoint",
            1,
        ),
        case(
            &[
                "bundle",
                "replay",
                "nope.tar.gz",
                "--endpoint",
                "127.0.0.1:4317",
                "--insecure-skip-verify",
            ],
            "replay.io",
            1,
        ),
        // capture --spool
        case(
            &[
                "capture", "--spool", "nope", "--window", "24y", "--out", "c",
            ],
            "telemetry.capture.invalid_window",
            2,
        ),
        case(
            &[
                "capture", "--spool", "nope", "--window", "24h", "--out", "c",
            ],
            "bundle.invalid_input",
            2,
        )
        .env("SOURCE_DATE_EPOCH", "yesterday"),
        case(
            &[
                "capture", "--spool", "nope", "--window", "24h", "--out", "c",
            ],
            "telemetry.spool.io",
            1,
        ),
        // capture --url and incident: every remote failure class
        case(
            &[
                "capture", "--url", "ftp://x", "--window", "24h", "--out", "c",
            ],
            "cli.remote.bad_url",
            2,
        ),
        case(
            &[
                "capture",
                "--url",
                &unreachable,
                "--token-file",
                "nope",
                "--window",
                "24h",
                "--out",
                "c",
            ],
            "cli.remote.io",
            1,
        ),
        case(
            &[
                "capture",
                "--url",
                &unreachable,
                "--window",
                "24h",
                "--out",
                "c",
            ],
            "cli.remote.unreachable",
            6,
        ),
        case(
            &["incident", "status", "--url", "ftp://x"],
            "cli.remote.bad_url",
            2,
        ),
        case(
            &[
                "incident",
                "stop",
                "--tenant",
                "acme",
                "--url",
                &unreachable,
                "--ca",
                "ca.pem",
            ],
            "cli.remote.bad_url",
            2,
        ),
        case(
            &[
                "incident",
                "status",
                "--url",
                &unreachable,
                "--token-file",
                "nope",
            ],
            "cli.remote.io",
            1,
        ),
        case(
            &["incident", "status", "--url", &unauthorized],
            "telemetry.auth.invalid_token",
            4,
        ),
        case(
            &["incident", "status", "--url", &server_error],
            "telemetry.incident.controller_down",
            5,
        ),
        case(
            &["incident", "status", "--url", &not_json],
            "cli.remote.bad_response",
            5,
        ),
        case(
            &["incident", "status", "--url", &unreachable],
            "cli.remote.unreachable",
            6,
        ),
        case(&["incident", "status", "--url", &tls], "cli.remote.tls", 7),
        // dora
        case(
            &[
                "dora",
                "summary",
                "--events",
                "empty.jsonl",
                "--tenant",
                "acme",
                "--from",
                "2025-01-02T00:00:00Z",
                "--to",
                "2025-01-01T00:00:00Z",
            ],
            "dora.window.empty",
            2,
        ),
        owned(dora("summary", "nope.jsonl", &[]), "dora.io", 1),
        owned(
            dora("summary", "bad-event.jsonl", &[]),
            "dora.event.unknown_kind",
            1,
        ),
        owned(
            dora("report", "bad-json.jsonl", &[]),
            "dora.event.invalid_json",
            1,
        ),
        owned(
            dora("report", "empty.jsonl", &["--out", "no-dir/report.json"]),
            "dora.io",
            1,
        ),
        // dsse
        case(
            &["dsse", "verify", "--trusted", "nokey.pub", "garbage.tar.gz"],
            "federation.dsse.key_file",
            1,
        ),
        case(
            &[
                "dsse",
                "sign",
                "--key",
                "nokey",
                "--payload-type",
                "t",
                "afile",
            ],
            "federation.dsse.key_file",
            1,
        ),
        // offline-kit
        case(
            &["offline-kit", "--profile", "turbo", "--out", "kit"],
            "kit.usage",
            2,
        ),
        case(
            &["offline-kit", "--profile", "default", "--out", ".."],
            "kit.usage",
            2,
        ),
        case(&["offline-kit", "verify", "nope"], "kit.io", 1),
        // redact
        case(
            &["redact", "--policy", "nope.json"],
            "redact.policy_unreadable",
            2,
        ),
        case(
            &["redact", "--policy", "bad-policy.json"],
            "redaction.policy.parse",
            2,
        ),
        case(&["redact"], "redact.rejected", 1).stdin(b"[1]\n{\"a\":1}\nnope\n"),
    ];
    for case in &cases {
        case.check_text(dir);
        case.check_json(dir);
    }
}

#[test]
fn json_reports_carry_the_remediation_and_each_rejected_line() {
    let tmp = tempfile::tempdir().unwrap();
    let denied = case(
        &[
            "bundle",
            "replay",
            "nope.tar.gz",
            "--endpoint",
            "10.1.2.3:4317",
            "--sealed",
        ],
        "egress.denied",
        3,
    );
    let out = denied.run(tmp.path(), false);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut lines = stderr.lines();
    assert!(
        lines
            .next()
            .is_some_and(|l| l.starts_with("error[egress.denied]: http://10.1.2.3:4317: ")),
        "{stderr}"
    );
    assert!(
        lines
            .next()
            .is_some_and(|l| l.starts_with("remediation: sealed mode allows only loopback")),
        "{stderr}"
    );
    let out = denied.run(tmp.path(), true);
    let report: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert!(
        report["error"]["message"]
            .as_str()
            .unwrap()
            .contains("refused by the egress policy, nothing sent")
    );
    assert!(
        report["error"]["remediation"]
            .as_str()
            .unwrap()
            .contains("http://127.0.0.1:4317")
    );

    // `--json` after the subcommand works as well as before it.
    let rejected = case(&["redact", "--json"], "redact.rejected", 1).stdin(b"[1]\n{}\n2\n");
    let out = rejected.run(tmp.path(), false);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(out.stdout, b"{}\n");
    let reports: Vec<serde_json::Value> = String::from_utf8(out.stderr)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let codes: Vec<_> = reports.iter().map(|r| r["error"]["code"].clone()).collect();
    assert_eq!(
        codes,
        [
            "redact.invalid_line",
            "redact.invalid_line",
            "redact.rejected"
        ]
    );
    assert_eq!(
        reports[0]["error"]["message"],
        "line 1: expected a JSON object, found an array"
    );
    assert_eq!(reports[2]["error"]["message"], "2 line(s) rejected");
}

#[test]
fn json_does_not_change_successful_output_and_denials_stay_off_stderr() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_stella-telemetry"))
            .args(args)
            .output()
            .unwrap()
    };
    let plain = run(&[
        "egress",
        "check",
        "--sealed",
        "127.0.0.1:4317",
        "10.0.0.1:4317",
    ]);
    let json = run(&[
        "--json",
        "egress",
        "check",
        "--sealed",
        "127.0.0.1:4317",
        "10.0.0.1:4317",
    ]);
    for out in [&plain, &json] {
        // A denial is a verdict on stdout, not a failure report.
        assert_eq!(out.status.code(), Some(3));
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(plain.stdout, json.stdout);

    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    let plain = run(&[
        "deploy",
        "--profile",
        "airgap",
        "--out",
        a.to_str().unwrap(),
    ]);
    let json = run(&[
        "deploy",
        "--profile",
        "airgap",
        "--out",
        b.to_str().unwrap(),
        "--json",
    ]);
    assert!(plain.status.success() && json.status.success());
    let without_dir = |out: &Output, dir: &Path| {
        String::from_utf8_lossy(&out.stdout).replace(dir.to_str().unwrap(), "DIR")
    };
    assert_eq!(without_dir(&plain, &a), without_dir(&json, &b));
    assert_eq!(plain.stderr, json.stderr);
}

//! A real Prometheus (Debian `prometheus`, /usr/bin/prometheus) scrapes a test service's
//! `/metrics` on loopback (a telemetry-core catalogue registry), loads the generated alert
//! rules, and its rule evaluation shows the expected state: Circuit Open and Queue Backlog
//! active (pending, waiting out their `for`), High Error Rate inactive.

use prometheus_client::registry::Registry;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use stellaops_telemetry_core::metrics::{MetricCatalogue, encode_prometheus_text};
use stellaops_telemetry_deploy::alerts::{RULES_FILE, rules_yaml, standard_rules};
use stellaops_telemetry_testkit::free_loopback_port;

/// Kills the Prometheus it holds on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Serves `GET /metrics` with the registry's Prometheus text until the test ends.
fn serve_metrics(registry: Arc<Registry>) -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let body = encode_prometheus_text(&registry).unwrap();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (_, body) = response.split_once("\r\n\r\n")?;
    Some(body.to_owned())
}

/// `{alertname: state}` from `/api/v1/rules` (Prometheus reports `inactive`, `pending` or
/// `firing` per alerting rule).
fn rule_states(port: u16) -> Option<Vec<(String, String)>> {
    let body = http_get(port, "/api/v1/rules?type=alert")?;
    let json: serde_json::Value = serde_json::from_str(&body).ok()?;
    let mut states = Vec::new();
    for group in json["data"]["groups"].as_array()? {
        for rule in group["rules"].as_array()? {
            states.push((
                rule["name"].as_str()?.to_owned(),
                rule["state"].as_str()?.to_owned(),
            ));
        }
    }
    Some(states)
}

#[test]
fn prometheus_scrapes_the_service_and_evaluates_the_rules() {
    let catalogue = MetricCatalogue::default();
    let mut registry = Registry::default();
    catalogue.register(&mut registry);
    catalogue.circuit_breaker_open("scanner", "registry").set(1);
    catalogue.circuit_breaker_open("scanner", "db").set(0);
    catalogue.queue_depth("scans").set(1500);
    catalogue.queue_depth("reports").set(3);
    catalogue.request_total("scanner", "ok").inc_by(100);
    let target = serve_metrics(Arc::new(registry));

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(RULES_FILE), rules_yaml(&standard_rules())).unwrap();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {RULES_FILE}\nscrape_configs:\n  - job_name: stellaops\n    static_configs:\n      - targets: ['127.0.0.1:{target}']\n"
    );
    std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
    // the generated group evaluates every 30 s; Prometheus honours the group's interval,
    // so shorten it for the test (the rules themselves are unchanged)
    let rules = rules_yaml(&standard_rules()).replace("interval: \"30s\"", "interval: \"1s\"");
    assert_ne!(
        rules,
        rules_yaml(&standard_rules()),
        "group interval not found"
    );
    std::fs::write(dir.path().join(RULES_FILE), rules).unwrap();

    let port = free_loopback_port().unwrap();
    let prometheus = Command::new("/usr/bin/prometheus")
        .current_dir(dir.path())
        .arg(format!(
            "--config.file={}",
            dir.path().join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("/usr/bin/prometheus (Debian package prometheus) must be installed");
    let mut prometheus = Running(prometheus);

    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last: Option<String>;
    loop {
        if let Ok(Some(status)) = prometheus.0.try_wait() {
            let mut stderr = String::new();
            if let Some(mut e) = prometheus.0.stderr.take() {
                let _ = e.read_to_string(&mut stderr);
            }
            panic!("prometheus exited with {status}: {stderr}");
        }
        if let Some(states) = rule_states(port) {
            let state = |name: &str| {
                states
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, s)| s.clone())
                    .unwrap_or_default()
            };
            let active = |s: String| s == "pending" || s == "firing";
            if states.len() == standard_rules().len()
                && active(state("CircuitOpen"))
                && active(state("QueueBacklog"))
            {
                assert_eq!(state("HighErrorRate"), "inactive", "{states:?}");
                assert_eq!(state("IncidentModeStuck"), "inactive", "{states:?}");
                // the pending alert carries the scraped labels
                let alerts = http_get(port, "/api/v1/alerts").unwrap();
                assert!(alerts.contains("\"breaker\":\"registry\""), "{alerts}");
                assert!(!alerts.contains("\"breaker\":\"db\""), "{alerts}");
                assert!(alerts.contains("\"queue\":\"scans\""), "{alerts}");
                return;
            }
            last = Some(format!("{states:?}"));
        } else {
            last = http_get(port, "/api/v1/rules?type=alert");
        }
        assert!(
            Instant::now() < deadline,
            "Circuit Open and Queue Backlog did not become active within 60 s; last rule states: {last:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

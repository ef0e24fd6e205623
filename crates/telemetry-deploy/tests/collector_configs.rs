//! Collector configs per profile: golden files (regenerate with
//! `STELLAOPS_UPDATE_GOLDEN=1 cargo nextest run -p stellaops-telemetry-deploy`), YAML that an
//! independent parser (PyYAML) reads back as the same document, egress decisions.

use std::path::PathBuf;
use std::sync::Arc;
use stellaops_egress_policy::{ExporterAllowList, SealState, SealedMode, SealedModePolicy};
use stellaops_redaction::RedactionPolicy;
use stellaops_telemetry_deploy::collector::{RenderError, Site, render};
use stellaops_telemetry_deploy::yaml::Yaml;
use stellaops_telemetry_model::profile::Profile;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Compares `text` with the golden file, or rewrites it when `STELLAOPS_UPDATE_GOLDEN` is set.
fn golden(name: &str, text: &str) {
    let path = golden_dir().join(name);
    if std::env::var_os("STELLAOPS_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; regenerate with STELLAOPS_UPDATE_GOLDEN=1",
            path.display()
        )
    });
    assert_eq!(text, expected, "{name} differs from its golden file");
}

/// PyYAML's reading of `text`, as JSON (the peers' Python, from scripts/install-peers.sh).
fn python_yaml(text: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.yaml");
    std::fs::write(&file, text).unwrap();
    let python = stellaops_telemetry_testkit::Python::locate().unwrap();
    let out = python
        .code(
            "import sys, json, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
            &[file.to_str().unwrap()],
        )
        .unwrap();
    assert!(out.success, "{}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap()
}

fn strs(node: Option<&Yaml>) -> Vec<String> {
    match node {
        Some(Yaml::Seq(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        other => panic!("expected a list of strings, found {other:?}"),
    }
}

#[test]
fn golden_files_per_profile() {
    for profile in Profile::NAMES.map(|n| Profile::by_name(n).unwrap()) {
        let configs = render(&profile, &Site::for_profile(&profile)).unwrap();
        for (file, text) in configs.files() {
            golden(&format!("{}/{file}", profile.name), &text);
            let parsed = python_yaml(&text);
            let ours = if file == "agent.yaml" {
                configs.agent.to_json()
            } else {
                configs.gateway.as_ref().unwrap().to_json()
            };
            assert_eq!(
                parsed, ours,
                "{}/{file} reads back differently",
                profile.name
            );
        }
    }
}

#[test]
fn default_agents_balance_by_trace_id_to_the_gateways() {
    let site = Site::example();
    let configs = render(&Profile::default_profile(), &site).unwrap();
    let lb = configs.agent.at(&["exporters", "loadbalancing"]).unwrap();
    assert_eq!(
        lb.get("routing_key").and_then(Yaml::as_str),
        Some("traceID")
    );
    assert_eq!(
        strs(lb.at(&["resolver", "static", "hostnames"])),
        [
            "otel-gateway-0.telemetry.svc:4317",
            "otel-gateway-1.telemetry.svc:4317",
            "otel-gateway-2.telemetry.svc:4317"
        ]
    );
    let traces = configs
        .agent
        .at(&["service", "pipelines", "traces"])
        .unwrap();
    let processors = strs(traces.get("processors"));
    assert_eq!(
        processors.first().map(String::as_str),
        Some("memory_limiter")
    );
    assert_eq!(processors.last().map(String::as_str), Some("batch"));
    assert!(processors.contains(&"redaction".to_owned()));
    assert!(processors.contains(&"resourcedetection".to_owned()));
    // TLS on the receivers
    assert!(
        configs
            .agent
            .at(&["receivers", "otlp", "protocols", "grpc", "tls", "cert_file"])
            .is_some()
    );
}

#[test]
fn gateway_sampling_matches_the_in_process_sampler() {
    let default = render(&Profile::default_profile(), &Site::example()).unwrap();
    let policies = default
        .gateway
        .as_ref()
        .unwrap()
        .at(&["processors", "tail_sampling", "policies"])
        .unwrap()
        .to_json();
    assert_eq!(policies[0]["status_code"]["status_codes"][0], "ERROR");
    assert_eq!(policies[1]["latency"]["threshold_ms"], 2000);
    assert_eq!(policies[2]["probabilistic"]["sampling_percentage"], 10.0);
    let forensic = render(&Profile::forensic(), &Site::example()).unwrap();
    let policies = forensic
        .gateway
        .as_ref()
        .unwrap()
        .at(&["processors", "tail_sampling", "policies"])
        .unwrap()
        .to_json();
    assert_eq!(policies.as_array().unwrap().len(), 1);
    assert_eq!(policies[0]["type"], "always_sample");
    let gateway = default.gateway.unwrap().to_json();
    let exporters: Vec<&String> = gateway["exporters"].as_object().unwrap().keys().collect();
    assert_eq!(
        exporters,
        ["otlp/tempo", "otlphttp/loki", "prometheusremotewrite"]
    );
}

#[test]
fn airgap_has_file_exporters_only_on_loopback() {
    let configs = render(&Profile::airgap(), &Site::airgap_example()).unwrap();
    assert!(configs.gateway.is_none());
    let json = configs.agent.to_json();
    for (name, exporter) in json["exporters"].as_object().unwrap() {
        assert!(name.starts_with("file/"), "{name} is not a file exporter");
        assert_eq!(exporter["format"], "proto");
        assert_eq!(exporter["rotation"]["max_backups"], 3);
    }
    assert_eq!(
        json["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"],
        "127.0.0.1:4317"
    );
    let text = configs.agent.to_text();
    for network in [
        "loadbalancing",
        "prometheusremotewrite",
        "otlp/",
        "otlphttp",
        "https://",
    ] {
        assert!(!text.contains(network), "airgap config mentions {network}");
    }
}

#[test]
fn sealed_airgap_refuses_a_non_local_listener_with_the_egress_remediation() {
    let site = Site {
        listen_host: "10.0.0.5".to_owned(),
        ..Site::airgap_example()
    };
    let err = render(&Profile::airgap(), &site).unwrap_err();
    assert_eq!(err.code(), "deploy.egress_denied");
    let text = err.to_string();
    assert!(text.contains("sealed mode"), "{text}");
    assert!(
        text.contains("http://127.0.0.1:4317"),
        "remediation missing: {text}"
    );
    // also when the site itself is not sealed (the profile is), and for the wildcard address
    let site = Site {
        listen_host: "0.0.0.0".to_owned(),
        ..Site::example()
    };
    assert!(matches!(
        render(&Profile::airgap(), &site),
        Err(RenderError::EgressDenied { .. })
    ));
}

#[test]
fn connected_profiles_check_every_exporter_against_the_site_policy() {
    let allow = ExporterAllowList::builder()
        .endpoint("*.telemetry.svc:4317")
        .unwrap()
        .endpoint("prometheus.telemetry.svc:9090")
        .unwrap()
        .build();
    let site = Site {
        egress: Arc::new(allow),
        ..Site::example()
    };
    let err = render(&Profile::default_profile(), &site).unwrap_err();
    match &err {
        RenderError::EgressDenied {
            component,
            endpoint,
            ..
        } => {
            assert_eq!(component, "otlphttp/loki");
            assert!(endpoint.contains("loki.telemetry.svc"), "{endpoint}");
        }
        other => panic!("expected an egress denial, got {other:?}"),
    }
    // a sealed site renders no connected profile at all
    let sealed = Site {
        egress: Arc::new(SealedModePolicy::new(SealedMode::new(SealState::Sealed))),
        ..Site::example()
    };
    let err = render(&Profile::forensic(), &sealed).unwrap_err();
    assert!(err.to_string().contains("loadbalancing"), "{err}");
    let none = Site {
        gateways: vec![],
        ..Site::example()
    };
    assert_eq!(
        render(&Profile::default_profile(), &none)
            .unwrap_err()
            .code(),
        "deploy.no_gateway"
    );
}

#[test]
fn redaction_processor_mirrors_the_redaction_policy() {
    let default = render(&Profile::default_profile(), &Site::example()).unwrap();
    let redaction = default
        .agent
        .at(&["processors", "redaction"])
        .unwrap()
        .to_json();
    assert_eq!(redaction["allow_all_keys"], true);
    let ignored: Vec<&str> = redaction["ignored_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for key in stellaops_redaction::DEFAULT_ALWAYS_KEPT {
        assert!(ignored.contains(key), "{key} not kept");
    }
    assert_eq!(
        redaction["blocked_key_patterns"].as_array().unwrap().len(),
        stellaops_redaction::DEFAULT_BLOCKED_KEYS.len()
    );
    let policy = RedactionPolicy::builder()
        .allow_list()
        .allow_key("http.route")
        .block_key("x-internal-*")
        .build()
        .unwrap();
    let site = Site {
        redaction: policy,
        ..Site::example()
    };
    let configs = render(&Profile::default_profile(), &site).unwrap();
    let redaction = configs
        .agent
        .at(&["processors", "redaction"])
        .unwrap()
        .to_json();
    assert_eq!(redaction["allow_all_keys"], false);
    let allowed = redaction["allowed_keys"].to_string();
    assert!(
        allowed.contains("http.route") && allowed.contains("tenant"),
        "{allowed}"
    );
    let deletes = configs
        .agent
        .at(&["processors", "attributes/redaction", "actions"])
        .unwrap()
        .to_json();
    assert!(
        deletes.to_string().contains("x-internal-[^.]*"),
        "{deletes}"
    );
}

#[test]
fn blocked_value_patterns_catch_what_the_redactor_masks() {
    // The collector's RE2 patterns are a subset of Rust's regex syntax: check them with
    // the regex crate against samples the in-process redactor masks.
    let redactor = stellaops_redaction::Redactor::new(RedactionPolicy::default());
    let samples = [
        "Bearer abcdef0123456789",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
        "AKIAIOSFODNN7EXAMPLE",
        "ghp_0123456789abcdefghijABCDEFGHIJ012345",
        "bob@example.com",
        "https://user:pass@host.example/x",
        "4111 1111 1111 1111",
    ];
    let patterns: Vec<regex::Regex> = stellaops_telemetry_deploy::collector::BLOCKED_VALUE_PATTERNS
        .iter()
        .map(|p| regex::Regex::new(p).unwrap())
        .collect();
    for sample in samples {
        let (masked, _) = redactor.redact_text(sample);
        assert_ne!(masked, sample, "the redactor keeps {sample}");
        assert!(
            patterns.iter().any(|p| p.is_match(sample)),
            "no collector pattern masks {sample}"
        );
    }
    assert!(!patterns.iter().any(|p| p.is_match("GET /api/v1/scans 200")));
}

//! Differential test against a real WHATWG URL parser: for 2,500 tricky endpoint strings,
//! `data/whatwg_hosts.json` records the host Node's `URL` (the algorithm of browsers, the
//! `url` crate and reqwest) reads; `data/whatwg_hosts.mjs` regenerates it.
//!
//! Our parser must never call an endpoint local unless WHATWG reads a loopback host, and
//! wherever it names a host without calling it ambiguous, it must name the same host and port.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use stellaops_egress_policy::{Endpoint, EndpointClass, Host, Scheme};

struct Case {
    input: String,
    hostname: Option<String>,
    port: Option<String>,
}

fn cases() -> Vec<Case> {
    let text = include_str!("data/whatwg_hosts.json");
    let json: serde_json::Value = serde_json::from_str(text).unwrap();
    json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Case {
            input: c["input"].as_str().unwrap().to_owned(),
            hostname: c["hostname"].as_str().map(str::to_owned),
            port: c["port"].as_str().map(str::to_owned),
        })
        .collect()
}

fn whatwg_ip(hostname: &str) -> Option<IpAddr> {
    match hostname.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6.parse::<Ipv6Addr>().ok().map(IpAddr::V6),
        None => hostname.parse::<Ipv4Addr>().ok().map(IpAddr::V4),
    }
}

fn whatwg_is_loopback(hostname: &str) -> bool {
    if hostname == "localhost" {
        return true;
    }
    match whatwg_ip(hostname) {
        Some(ip) => ip.to_canonical().is_loopback(),
        None => false,
    }
}

fn whatwg_is_unspecified(hostname: &str) -> bool {
    match whatwg_ip(hostname).map(|ip| ip.to_canonical()) {
        Some(IpAddr::V4(v4)) => v4.octets()[0] == 0,
        Some(IpAddr::V6(v6)) => v6.is_unspecified(),
        None => false,
    }
}

fn same_host(ours: &Host, whatwg: &str) -> bool {
    match ours {
        Host::Domain(name) => name == whatwg,
        Host::Ipv4(ip) => whatwg_ip(whatwg) == Some(IpAddr::V4(*ip)),
        Host::Ipv6(ip) => whatwg_ip(whatwg) == Some(IpAddr::V6(*ip)),
        _ => false,
    }
}

#[test]
fn the_table_is_large_and_mixed() {
    let cases = cases();
    assert_eq!(cases.len(), 2500);
    let failures = cases.iter().filter(|c| c.hostname.is_none()).count();
    assert!(failures > 500 && failures < 2000, "{failures}");
}

#[test]
fn local_only_when_a_whatwg_parser_reads_a_loopback_host() {
    for case in cases() {
        let endpoint = Endpoint::parse(&case.input);
        let class = endpoint.class();
        match class {
            EndpointClass::Loopback => {
                let hostname = case.hostname.as_deref().unwrap_or("<failure>");
                assert!(
                    whatwg_is_loopback(hostname),
                    "{:?}: ours loopback, WHATWG host {hostname}",
                    case.input
                );
            }
            EndpointClass::File | EndpointClass::Unix => {
                assert_eq!(
                    case.hostname.as_deref(),
                    Some(""),
                    "{:?}: ours {class}, WHATWG disagrees",
                    case.input
                );
            }
            _ => {}
        }
        if let Some(hostname) = case.hostname.as_deref()
            && !hostname.is_empty()
            && !whatwg_is_loopback(hostname)
        {
            assert!(
                !endpoint.is_local(),
                "{:?}: WHATWG host {hostname}, ours {class}",
                case.input
            );
        }
    }
}

#[test]
fn unambiguous_hosts_and_ports_are_the_ones_whatwg_reads() {
    let mut compared = 0;
    for case in cases() {
        let endpoint = Endpoint::parse(&case.input);
        let Some(host) = endpoint.host() else {
            continue;
        };
        if matches!(host, Host::Ambiguous { .. }) {
            continue;
        }
        let hostname = case
            .hostname
            .as_deref()
            .unwrap_or_else(|| panic!("{:?}: ours host {host}, WHATWG fails", case.input));
        assert!(
            same_host(host, hostname),
            "{:?}: ours {host}, WHATWG {hostname}",
            case.input
        );
        let whatwg_port = case.port.as_deref().unwrap_or("");
        let default = endpoint.scheme().and_then(Scheme::default_port);
        let expected = match endpoint.port() {
            Some(port) if Some(port) == default => String::new(),
            Some(port) => port.to_string(),
            None => String::new(),
        };
        assert_eq!(whatwg_port, expected, "{:?}: port", case.input);
        compared += 1;
    }
    assert!(compared > 300, "{compared}");
}

#[test]
fn invalid_only_where_whatwg_fails_or_reads_no_destination() {
    for case in cases() {
        let endpoint = Endpoint::parse(&case.input);
        if endpoint.class() != EndpointClass::Invalid {
            // Accepted where WHATWG fails: only hosts we call ambiguous (which are remote).
            if case.hostname.is_none() {
                assert!(
                    matches!(endpoint.host(), Some(Host::Ambiguous { .. })),
                    "{:?}: WHATWG fails, ours {} {:?}",
                    case.input,
                    endpoint.class(),
                    endpoint.host()
                );
            }
            continue;
        }
        let Some(hostname) = case.hostname.as_deref() else {
            continue;
        };
        let is_file = case.input.to_ascii_lowercase().starts_with("file:");
        assert!(
            whatwg_is_unspecified(hostname) || is_file,
            "{:?}: ours invalid ({}), WHATWG host {hostname}",
            case.input,
            endpoint
                .error()
                .map(ToString::to_string)
                .unwrap_or_default()
        );
    }
}

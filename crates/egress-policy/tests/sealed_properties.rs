//! Property tests: under sealed mode no generated non-local endpoint is ever allowed, local
//! ones always are, allow-list tricks never widen the list, and parsing never panics.

use std::net::{Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use stellaops_egress_policy::*;

fn sealed_policy() -> SealedModePolicy {
    SealedModePolicy::new(SealedMode::new(SealState::Sealed))
}

fn request(input: &str) -> EgressRequest {
    EgressRequest::new("otlp", Signal::Traces, Endpoint::parse(input))
}

/// Random upper/lower case, as operators and attackers both write hosts.
fn mixed_case(text: String) -> impl Strategy<Value = String> {
    let len = text.len();
    proptest::collection::vec(any::<bool>(), len).prop_map(move |upper| {
        text.chars()
            .zip(upper)
            .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c })
            .collect()
    })
}

/// IPv4 addresses from every range except loopback and "this network" (0/8).
fn remote_ipv4() -> impl Strategy<Value = Ipv4Addr> {
    let in_range = |base: u32, prefix: u32| {
        any::<u32>().prop_map(move |bits| {
            let host_mask = u32::MAX >> prefix;
            Ipv4Addr::from((base & !host_mask) | (bits & host_mask))
        })
    };
    prop_oneof![
        in_range(0x0a00_0000, 8),  // 10/8
        in_range(0xac10_0000, 12), // 172.16/12
        in_range(0xc0a8_0000, 16), // 192.168/16
        in_range(0xa9fe_0000, 16), // 169.254/16 (link-local, metadata)
        in_range(0x6440_0000, 10), // 100.64/10
        in_range(0xe000_0000, 4),  // multicast
        in_range(0xf000_0000, 4),  // reserved and broadcast
        any::<u32>().prop_map(Ipv4Addr::from),
    ]
    .prop_filter("not loopback or 0/8", |ip| {
        !matches!(ip.octets()[0], 0 | 127)
    })
}

/// Numeric IPv4 forms other than a.b.c.d, for any address, loopback included: clients read
/// them differently, so sealed mode must refuse them all.
fn non_canonical_ipv4() -> impl Strategy<Value = String> {
    (any::<u32>(), 0..7u8).prop_map(|(bits, form)| {
        let [a, b, c, d] = bits.to_be_bytes();
        let low16 = u16::from_be_bytes([c, d]);
        let low24 = bits & 0x00ff_ffff;
        match form {
            0 => bits.to_string(),
            1 => format!("0x{bits:x}"),
            2 => format!("0{a:o}.0{b:o}.0{c:o}.0{d:o}"),
            3 => format!("0x{a:x}.0x{b:x}.0x{c:x}.0x{d:x}"),
            4 => format!("{a}.{low24}"),
            5 => format!("{a}.{b}.{low16}"),
            _ => format!("{a}.{b}.{c}.{d}."),
        }
    })
}

fn remote_ipv6() -> impl Strategy<Value = Ipv6Addr> {
    let random = any::<[u16; 8]>().prop_map(Ipv6Addr::from);
    let link_local = any::<[u16; 7]>()
        .prop_map(|s| Ipv6Addr::new(0xfe80, s[0], s[1], s[2], s[3], s[4], s[5], s[6]));
    let unique_local = any::<[u16; 7]>().prop_map(|s| {
        Ipv6Addr::new(
            0xfd00 | (s[0] & 0xff),
            s[1],
            s[2],
            s[3],
            s[4],
            s[5],
            s[6],
            1,
        )
    });
    let mapped = remote_ipv4().prop_map(|v4| v4.to_ipv6_mapped());
    // IPv4-compatible and NAT64 forms of loopback leave the host.
    let compatible =
        any::<[u8; 3]>().prop_map(|[a, b, c]| Ipv4Addr::new(127, a, b, c).to_ipv6_compatible());
    let nat64 = any::<[u8; 3]>().prop_map(|[a, b, c]| {
        let v4 = u32::from(Ipv4Addr::new(127, a, b, c));
        Ipv6Addr::from((0x0064_ff9b_u128 << 96) | u128::from(v4))
    });
    prop_oneof![random, link_local, unique_local, mapped, compatible, nat64].prop_filter(
        "not loopback, not unspecified",
        |ip| {
            !ip.is_loopback()
                && !ip.is_unspecified()
                && !ip
                    .to_ipv4_mapped()
                    .is_some_and(|v4| matches!(v4.octets()[0], 0 | 127))
        },
    )
}

fn ipv6_text(ip: Ipv6Addr) -> impl Strategy<Value = String> {
    let segments = ip.segments();
    prop_oneof![
        Just(format!("[{ip}]")),
        Just(format!("[{}]", ip.to_string().to_uppercase())),
        Just(format!(
            "[{}]",
            segments.map(|s| format!("{s:x}")).join(":")
        )),
    ]
}

fn dns_name() -> impl Strategy<Value = String> {
    let label = "[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?";
    let plain = proptest::collection::vec(label, 1..4).prop_map(|labels| labels.join("."));
    let near_localhost = prop_oneof![
        Just("localhost.".to_owned()),
        Just("localhost.evil.example".to_owned()),
        Just("evil.localhost".to_owned()),
        Just("localhostx".to_owned()),
        Just("127.0.0.1.evil.example".to_owned()),
        Just("localhost.localdomain".to_owned()),
        Just("ip6-localhost".to_owned()),
    ];
    prop_oneof![4 => plain, 1 => near_localhost]
        .prop_filter("not localhost", |name| {
            !name.eq_ignore_ascii_case("localhost")
        })
        .prop_flat_map(mixed_case)
}

/// A host that is not local however it is written.
fn remote_host() -> impl Strategy<Value = String> {
    prop_oneof![
        dns_name(),
        remote_ipv4().prop_map(|ip| ip.to_string()),
        non_canonical_ipv4(),
        remote_ipv6().prop_flat_map(ipv6_text),
        // percent-encoded and non-ASCII spellings of local names
        Just("%6cocalhost".to_owned()),
        Just("127.0.0.%31".to_owned()),
        Just("\u{ff4c}\u{ff4f}\u{ff43}\u{ff41}\u{ff4c}\u{ff48}\u{ff4f}\u{ff53}\u{ff54}".to_owned()),
        Just("local\u{ad}host".to_owned()),
    ]
}

const SCHEMES: &[&str] = &[
    "http://",
    "https://",
    "HTTP://",
    "HtTpS://",
    "http:",
    "http:\\\\",
    "http:/\\",
    "https:///",
    "",
];
const LOCAL_LOOKING_USERINFO: &[&str] = &[
    "",
    "user@",
    "user:pass@",
    "127.0.0.1@",
    "localhost@",
    "localhost:4317@",
    "[::1]@",
    "a@127.0.0.1@",
    "127.0.0.1:4317@",
];
const LOCAL_LOOKING_SUFFIXES: &[&str] = &[
    "",
    "/",
    "/v1/traces",
    "#@127.0.0.1",
    "#@localhost",
    "?@127.0.0.1",
    "/@localhost",
    "\\@127.0.0.1",
    "?next=http://127.0.0.1:4317",
    "#\\@[::1]",
];

/// A non-local endpoint dressed up with every trick that makes it look local.
fn remote_endpoint() -> impl Strategy<Value = String> {
    (
        proptest::sample::select(SCHEMES),
        proptest::sample::select(LOCAL_LOOKING_USERINFO),
        remote_host(),
        proptest::option::of(any::<u16>()),
        proptest::sample::select(LOCAL_LOOKING_SUFFIXES),
        proptest::option::of((
            any::<proptest::sample::Index>(),
            prop_oneof!["\t", "\n", "\r"],
        )),
    )
        .prop_map(|(scheme, userinfo, host, port, suffix, control)| {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            let mut text = format!("{scheme}{userinfo}{host}{port}{suffix}");
            if let Some((at, c)) = control {
                // WHATWG removes tabs and newlines anywhere: they must not change the answer.
                let boundaries: Vec<usize> = (0..=text.len())
                    .filter(|i| text.is_char_boundary(*i))
                    .collect();
                text.insert_str(*at.get(&boundaries), &c);
            }
            text
        })
}

fn loopback_host() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<[u8; 3]>().prop_map(|[a, b, c]| format!("127.{a}.{b}.{c}")),
        mixed_case("localhost".to_owned()),
        Just("[::1]".to_owned()),
        Just("[0:0:0:0:0:0:0:1]".to_owned()),
        Just("[::0:1]".to_owned()),
        any::<[u8; 3]>().prop_map(|[a, b, c]| format!("[::ffff:127.{a}.{b}.{c}]")),
        any::<[u8; 3]>().prop_map(|[a, b, c]| format!("[::FFFF:7f{a:02x}:{b:02x}{c:02x}]")),
    ]
}

/// Relative path segments; the first starts with a letter or `_`, since `unix:4317` could
/// also be host `unix` on port 4317 (and is invalid for that reason).
fn path_segments() -> impl Strategy<Value = String> {
    (
        "[a-zA-Z_][a-zA-Z0-9._-]{0,9}",
        proptest::collection::vec("[a-zA-Z0-9._-]{1,10}", 0..4),
    )
        .prop_map(|(first, rest)| {
            std::iter::once(first)
                .chain(rest)
                .collect::<Vec<_>>()
                .join("/")
        })
}

/// A local endpoint, with remote-looking decoys where clients ignore them.
fn local_endpoint() -> impl Strategy<Value = String> {
    let url = (
        proptest::sample::select(&["http://", "https://", "HTTP://", "http:", "http:\\\\"][..]),
        proptest::sample::select(&["", "user@", "evil.example@", "u:p@"][..]),
        loopback_host(),
        proptest::option::of(any::<u16>()),
        proptest::sample::select(
            &[
                "",
                "/v1/traces",
                "#@evil.example",
                "?@evil.example",
                "/@evil.example",
                "\\@evil.example",
            ][..],
        ),
    )
        .prop_map(|(scheme, userinfo, host, port, suffix)| {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            format!("{scheme}{userinfo}{host}{port}{suffix}")
        });
    let host_port = (
        loopback_host(),
        any::<u16>(),
        proptest::sample::select(&["", "/v1/logs"][..]),
    )
        .prop_map(|(host, port, path)| format!("{host}:{port}{path}"));
    let paths = (
        path_segments(),
        proptest::sample::select(
            &[
                "/",
                "./",
                "../",
                "file:///",
                "file://localhost/",
                "FILE:/",
                "unix:///",
                "unix:/",
                "unix:",
            ][..],
        ),
    )
        .prop_map(|(path, prefix)| format!("{prefix}{path}"));
    prop_oneof![url, host_port, paths]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn sealed_mode_never_allows_a_non_local_endpoint(input in remote_endpoint()) {
        let endpoint = Endpoint::parse(&input);
        prop_assert!(!endpoint.is_local(), "{input:?} classified {}", endpoint.class());
        let decision = sealed_policy().decide(&request(&input));
        prop_assert!(!decision.allowed(), "{input:?} allowed: {}", decision.reason());
        prop_assert!(decision.remediation().is_some());
        // Composition cannot reopen what sealed mode closes, even with an allow-all list.
        let list = ExporterAllowList::builder().exporter("otlp").build();
        let composed = AllOf::new().with(list).with(sealed_policy());
        prop_assert!(!composed.decide(&request(&input)).allowed());
    }

    #[test]
    fn sealed_mode_allows_local_endpoints(input in local_endpoint()) {
        let endpoint = Endpoint::parse(&input);
        prop_assert!(endpoint.is_local(), "{input:?} classified {}: {}", endpoint.class(), endpoint.explain());
        let decision = sealed_policy().decide(&request(&input));
        prop_assert!(decision.allowed(), "{input:?} denied: {}", decision.reason());
    }

    #[test]
    fn unsealing_allows_what_sealing_refused(input in remote_endpoint()) {
        let mode = SealedMode::new(SealState::Sealed);
        let policy = SealedModePolicy::new(mode.clone());
        let endpoint = Endpoint::parse(&input);
        mode.unseal();
        // Unsealed, only invalid endpoints stay refused.
        prop_assert_eq!(
            policy.decide(&request(&input)).allowed(),
            endpoint.class() != EndpointClass::Invalid
        );
    }

    #[test]
    fn allow_list_tricks_never_reach_a_host_outside_the_list(
        input in remote_endpoint().prop_filter("not under corp.example", |s| !s.to_ascii_lowercase().contains("corp.example")),
        decoy in proptest::sample::select(&["ok.corp.example@", "#@ok.corp.example", "\\@ok.corp.example", "?@ok.corp.example"][..]),
    ) {
        let list = ExporterAllowList::builder().endpoint("*.corp.example").unwrap().build();
        let tricked = if decoy.ends_with('@') {
            match input.find("://") {
                Some(i) => format!("{}{decoy}{}", &input[..i + 3], &input[i + 3..]),
                None => format!("{decoy}{input}"),
            }
        } else {
            format!("{input}{decoy}")
        };
        let decision = list.decide(&request(&tricked));
        prop_assert!(!decision.allowed(), "{tricked:?} allowed: {}", decision.reason());
    }

    #[test]
    fn allow_list_entries_allow_the_names_they_list(
        name in "[a-z0-9]{1,10}(\\.[a-z0-9]{1,10}){0,2}",
        port in any::<u16>(),
        scheme in proptest::sample::select(&["http://", "https://", ""][..]),
    ) {
        let list = ExporterAllowList::builder().endpoint("*.corp.example").unwrap().build();
        let input = format!("{scheme}{name}.CORP.example:{port}/v1/traces");
        prop_assert!(list.decide(&request(&input)).allowed(), "{input}");
    }

    #[test]
    fn parsing_never_panics_and_stays_consistent(input in any::<String>()) {
        check_consistent(&input)?;
    }

    #[test]
    fn url_like_parsing_never_panics_and_stays_consistent(
        scheme in proptest::sample::select(&["http://", "https:", "file://", "unix:", "HTTP:\\\\", "x:", ""][..]),
        rest in "[a-zA-Z0-9:/\\\\@#?\\[\\]%._~ \t\n-]{0,40}",
    ) {
        check_consistent(&format!("{scheme}{rest}"))?;
    }

    #[test]
    fn redaction_never_shows_user_info(
        scheme in proptest::sample::select(&["http://", "https://", "ftp://", ""][..]),
        host in remote_host(),
        suffix in proptest::sample::select(LOCAL_LOOKING_SUFFIXES),
    ) {
        let input = format!("{scheme}operator:pw!SECRET@{host}{suffix}");
        let endpoint = Endpoint::parse(&input);
        prop_assert!(!endpoint.redacted().contains("SECRET"), "{}", endpoint.redacted());
        prop_assert!(!endpoint.explain().contains("SECRET"), "{}", endpoint.explain());
    }

    #[test]
    fn allow_rule_parsing_never_panics(input in any::<String>()) {
        if let Ok(rule) = AllowRule::parse(&input) {
            // A displayed rule parses back to itself.
            prop_assert_eq!(AllowRule::parse(&rule.to_string()), Ok(rule));
        }
    }
}

fn check_consistent(input: &str) -> Result<(), TestCaseError> {
    let endpoint = Endpoint::parse(input);
    let class = endpoint.class();
    prop_assert_eq!(class == EndpointClass::Invalid, endpoint.error().is_some());
    let _ = (
        endpoint.explain(),
        endpoint.redacted(),
        endpoint.effective_port(),
    );
    match class {
        EndpointClass::Loopback => {
            prop_assert!(endpoint.host().is_some_and(Host::is_loopback), "{input:?}");
        }
        EndpointClass::Unix | EndpointClass::File => {
            prop_assert!(endpoint.path().is_some(), "{input:?}");
        }
        _ => {}
    }
    let decision = sealed_policy().decide(&request(input));
    prop_assert_eq!(decision.allowed(), class.is_local());
    Ok(())
}

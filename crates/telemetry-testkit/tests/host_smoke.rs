//! The host offers a non-loopback address, so sealed-mode tests can prove that nothing
//! connects to it.

#[test]
fn the_host_has_a_non_loopback_address_for_sealed_mode_tests() {
    let addr =
        stellaops_telemetry_testkit::host_non_loopback_ipv4().expect("a non-loopback IPv4 address");
    assert!(!addr.is_loopback());
    std::net::TcpListener::bind((addr, 0)).expect("bindable");
}

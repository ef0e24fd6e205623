//! Free loopback ports for peers started by tests.

use std::net::{Ipv4Addr, TcpListener};

/// Asks the kernel for a free TCP port on 127.0.0.1.
///
/// The port is free when this returns; a peer that binds it a moment later almost always gets
/// it (the kernel hands out ephemeral ports round-robin).
///
/// # Errors
/// Fails when no loopback socket can be bound at all.
pub fn free_loopback_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// A non-loopback IPv4 address of this host (read from `/proc/net/fib_trie`'s local routes),
/// for tests that must prove nothing connects to a non-local address.
pub fn host_non_loopback_ipv4() -> Option<std::net::Ipv4Addr> {
    let trie = std::fs::read_to_string("/proc/net/fib_trie").ok()?;
    let lines: Vec<&str> = trie.lines().collect();
    lines.windows(2).find_map(|pair| {
        let [addr_line, kind_line] = pair else {
            return None;
        };
        if !kind_line.contains("/32 host LOCAL") {
            return None;
        }
        let addr: std::net::Ipv4Addr = addr_line
            .trim()
            .trim_start_matches("|-- ")
            .trim()
            .parse()
            .ok()?;
        (!addr.is_loopback() && !addr.is_unspecified()).then_some(addr)
    })
}

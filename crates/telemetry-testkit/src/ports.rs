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

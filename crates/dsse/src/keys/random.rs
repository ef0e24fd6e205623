//! Key material from the operating system's random number generator (getrandom), the one
//! source every generated key draws from; no seeded or user-space generator.

use crate::error::DsseError;
use zeroize::Zeroizing;

/// `N` bytes from the operating system's random number generator, zeroized on drop.
pub(crate) fn random_bytes<const N: usize>() -> Result<Zeroizing<[u8; N]>, DsseError> {
    let mut bytes = Zeroizing::new([0u8; N]);
    getrandom::fill(bytes.as_mut_slice()).map_err(|e| DsseError::KeyGeneration {
        detail: e.to_string(),
    })?;
    Ok(bytes)
}

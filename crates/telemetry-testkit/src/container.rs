//! An independent implementation of the bundle container (docs/bundle-format.md, "Container"),
//! so tests can change a bundle's tar and wrap it again in a well-formed container. The
//! result passes the container checks (header, stream digest, CRC), and whatever the test
//! changed inside is caught by the manifest's per-file digests or the signature instead.

use sha2::Digest as _;
use std::io::{self, Read, Write};

/// The 16 fixed bytes of a gzip bundle: FEXTRA, MTIME 0, XFL 0, OS 255, XLEN 36, subfield
/// `SD` of 32 bytes (the SHA-256 of everything after the header).
const GZIP_BUNDLE_HEADER: [u8; 16] = [
    0x1f, 0x8b, 0x08, 0x04, 0, 0, 0, 0, 0x00, 0xff, 36, 0, b'S', b'D', 32, 0,
];

/// The tar inside a gzip bundle (any gzip reader skips the stream-digest subfield).
///
/// # Errors
/// The file cannot be read or is not gzip.
pub fn gzip_bundle_tar(path: &std::path::Path) -> io::Result<Vec<u8>> {
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path)?).read_to_end(&mut tar)?;
    Ok(tar)
}

/// `tar` wrapped in a gzip bundle container: the fixed header, the stream digest, the deflate
/// stream (level 6) and the CRC-32/ISIZE trailer.
///
/// # Errors
/// Compression failed (it does not, for an in-memory buffer).
pub fn gzip_bundle_container(tar: &[u8]) -> io::Result<Vec<u8>> {
    let mut deflate = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
    deflate.write_all(tar)?;
    let mut body = deflate.finish()?;
    let mut crc = flate2::Crc::new();
    crc.update(tar);
    body.extend_from_slice(&crc.sum().to_le_bytes());
    body.extend_from_slice(&crc.amount().to_le_bytes());
    let mut out = GZIP_BUNDLE_HEADER.to_vec();
    out.extend_from_slice(&sha2::Sha256::digest(&body));
    out.extend_from_slice(&body);
    Ok(out)
}

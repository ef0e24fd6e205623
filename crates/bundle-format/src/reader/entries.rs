//! The walk over the tar entries: every header checked (type, ustar, safe UTF-8 path), the
//! order (`manifest.json`, `signatures/manifest.sig`, then payload files sorted by path), no
//! duplicates, extra or missing files, and the metadata and entry size limits. Not where a
//! payload file's contents are checked.

use std::collections::HashSet;
use std::io::Read;

use stellaops_dsse::Verifier;

use super::limits::Limits;
use super::payload::read_payload;
use super::read_error::{ARCHIVE, classify};
use super::signature::check_signature;
use super::verified::SignatureStatus;
use super::visitor::BundleVisitor;
use crate::error::BundleError;
use crate::manifest::{MANIFEST_PATH, Manifest, SIGNATURE_PATH, check_entry_path};

/// The manifest, its bytes, and the signature check with the envelope bytes.
pub(super) type Metadata = (Manifest, Vec<u8>, (SignatureStatus, Vec<u8>));

/// Reads every entry of `archive`, handing payload files to `visitor`.
pub(super) fn read_entries<R: Read>(
    archive: &mut tar::Archive<R>,
    limits: &Limits,
    verifier: Option<&Verifier>,
    visitor: &mut dyn BundleVisitor,
) -> Result<Metadata, BundleError> {
    let mut entries = archive
        .entries()
        .map_err(|e| classify(e, ARCHIVE))?
        .raw(true);
    let mut manifest: Option<(Manifest, Vec<u8>)> = None;
    let mut signature: Option<(SignatureStatus, Vec<u8>)> = None;
    let mut seen: HashSet<String> = HashSet::new();
    let mut previous: Option<String> = None;
    let mut index: u64 = 0;
    let mut next_listed = 0usize;
    loop {
        let current = previous.clone().unwrap_or_else(|| ARCHIVE.to_owned());
        let Some(entry) = entries.next() else { break };
        let mut entry = entry.map_err(|e| classify(e, &format!("entry after {current}")))?;
        index += 1;
        if index > limits.max_entries {
            return Err(BundleError::LimitExceeded {
                file: ARCHIVE.into(),
                detail: format!("expected at most {} entries", limits.max_entries),
            });
        }
        let path = check_header(&entry)?;
        if !seen.insert(path.clone()) {
            return Err(BundleError::DuplicateEntry { file: path });
        }
        let size = entry.header().size().map_err(|e| classify(e, &path))?;
        match index {
            1 | 2 => {
                let expected = if index == 1 {
                    MANIFEST_PATH
                } else {
                    SIGNATURE_PATH
                };
                if path != expected {
                    return Err(if index == 1 || path != MANIFEST_PATH {
                        BundleError::OutOfOrder {
                            file: path,
                            detail: format!("expected entry {index} to be {expected}"),
                        }
                    } else {
                        BundleError::DuplicateEntry { file: path }
                    });
                }
                if size > limits.max_metadata_size {
                    return Err(BundleError::LimitExceeded {
                        file: path,
                        detail: format!(
                            "expected at most {} bytes, found a header size of {size}",
                            limits.max_metadata_size
                        ),
                    });
                }
                let mut bytes = Vec::new();
                entry
                    .read_to_end(&mut bytes)
                    .map_err(|e| classify(e, &path))?;
                if bytes.len() as u64 != size {
                    return Err(BundleError::Truncated {
                        file: path,
                        detail: format!("expected {size} bytes, found {}", bytes.len()),
                    });
                }
                if index == 1 {
                    manifest = Some((Manifest::from_bytes(&bytes)?, bytes));
                } else if let Some((_, manifest_json)) = &manifest {
                    signature = Some((check_signature(verifier, &bytes, manifest_json)?, bytes));
                }
            }
            _ => {
                let Some((m, _)) = &manifest else {
                    return Err(BundleError::MissingFile {
                        file: MANIFEST_PATH.into(),
                    });
                };
                if let Some(p) = &previous
                    && index > 3
                    && p.as_bytes() >= path.as_bytes()
                {
                    return Err(BundleError::OutOfOrder {
                        file: path,
                        detail: format!(
                            "expected payload entries sorted by path, found it after {p}"
                        ),
                    });
                }
                let Some(listed) = m.file(&path) else {
                    return Err(BundleError::ExtraFile { file: path });
                };
                // Sorted entries and a sorted manifest: anything skipped is missing.
                if let Some(skipped) = m.files.get(next_listed)
                    && skipped.path != path
                {
                    return Err(BundleError::MissingFile {
                        file: skipped.path.clone(),
                    });
                }
                next_listed += 1;
                if size != listed.size {
                    return Err(BundleError::SizeMismatch {
                        file: path,
                        expected: listed.size,
                        found: size,
                    });
                }
                if size > limits.max_entry_size {
                    return Err(BundleError::LimitExceeded {
                        file: path,
                        detail: format!(
                            "expected entries of at most {} bytes, found {size}",
                            limits.max_entry_size
                        ),
                    });
                }
                read_payload(&mut entry, listed, limits.max_record_size, visitor)?;
            }
        }
        previous = Some(path);
    }
    let Some((manifest, manifest_json)) = manifest else {
        return Err(BundleError::MissingFile {
            file: MANIFEST_PATH.into(),
        });
    };
    let Some(signature) = signature else {
        return Err(BundleError::MissingFile {
            file: SIGNATURE_PATH.into(),
        });
    };
    if let Some(missing) = manifest.files.get(next_listed) {
        return Err(BundleError::MissingFile {
            file: missing.path.clone(),
        });
    }
    Ok((manifest, manifest_json, signature))
}

/// Checks an entry's header: a ustar regular file with a safe, UTF-8 path. Returns the path.
fn check_header<R: Read>(entry: &tar::Entry<'_, R>) -> Result<String, BundleError> {
    let header = entry.header();
    let raw = header.path_bytes();
    let file = String::from_utf8_lossy(&raw).into_owned();
    let entry_type = header.entry_type();
    match entry_type {
        tar::EntryType::Regular => {}
        tar::EntryType::Symlink => {
            return Err(BundleError::Link {
                file,
                kind: "symbolic",
            });
        }
        tar::EntryType::Link => return Err(BundleError::Link { file, kind: "hard" }),
        other => {
            return Err(BundleError::UnsupportedEntry {
                file,
                found: format!("entry type {:?} ({:?})", other, other.as_byte() as char),
            });
        }
    }
    if header.as_ustar().is_none() {
        return Err(BundleError::UnsupportedEntry {
            file,
            found: "a non-ustar header (GNU or v7)".into(),
        });
    }
    let Ok(path) = std::str::from_utf8(&raw) else {
        return Err(BundleError::UnsafePath {
            file,
            detail: "expected a UTF-8 path".into(),
        });
    };
    if path != MANIFEST_PATH && path != SIGNATURE_PATH {
        check_entry_path(path).map_err(|detail| BundleError::UnsafePath {
            file: file.clone(),
            detail,
        })?;
    }
    Ok(path.to_owned())
}

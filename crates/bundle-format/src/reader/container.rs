//! The compressed container around the tar archive: the raw bundle bytes (counted and
//! hashed), the fixed gzip or zstd header with its stream digest, the decoder, and the checks
//! at the end of the stream (trailer, trailing bytes, digest). Not where the tar entries are
//! read.

use std::cell::{Cell, RefCell};
use std::io::{self, BufReader, Read};
use std::rc::Rc;

use sha2::{Digest, Sha256};

use super::read_error::{ARCHIVE, classify};
use crate::error::BundleError;
use crate::writer::{GZIP_HEADER, STREAM_DIGEST_LEN, ZSTD_HEADER, ZSTD_SKIPPABLE_HEADER};

/// The raw bundle bytes: counted and hashed.
pub(super) struct RawReader<R> {
    pub(super) inner: R,
    pub(super) count: Rc<Cell<u64>>,
    pub(super) hash: Rc<RefCell<Sha256>>,
}

impl<R: Read> Read for RawReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(got) = buf.get(..n) {
            self.hash.borrow_mut().update(got);
        }
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// The bytes after the container header and its digest: hashed as they are read, so the
/// digest in the header can be checked at the end.
struct StreamReader<R> {
    inner: R,
    hash: Rc<RefCell<Sha256>>,
}

impl<R: Read> Read for StreamReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(got) = buf.get(..n) {
            self.hash.borrow_mut().update(got);
        }
        Ok(n)
    }
}

type Rewound<R> = BufReader<io::Chain<io::Cursor<Vec<u8>>, StreamReader<R>>>;

enum Codec<R: Read> {
    Gzip(Box<flate2::CrcReader<flate2::bufread::DeflateDecoder<BufReader<StreamReader<R>>>>>),
    Zstd(Box<zstd::stream::read::Decoder<'static, Rewound<R>>>),
}

/// The decompressing reader over the bytes after the container header.
pub(super) struct Decoder<R: Read> {
    codec: Codec<R>,
    /// The SHA-256 the container header promises for the rest of the file.
    expected: [u8; STREAM_DIGEST_LEN],
    hash: Rc<RefCell<Sha256>>,
}

/// Reads up to `buf.len()` bytes, fewer only at the end of the input.
fn read_full(raw: &mut impl Read, buf: &mut [u8]) -> Result<usize, BundleError> {
    let mut got = 0;
    while got < buf.len() {
        let rest = buf.get_mut(got..).unwrap_or_default();
        match raw.read(rest) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(BundleError::io("reading the bundle", e)),
        }
    }
    Ok(got)
}

fn truncated_header(what: &str) -> BundleError {
    BundleError::Truncated {
        file: ARCHIVE.into(),
        detail: format!("the file ends inside the {what}"),
    }
}

impl<R: Read> Decoder<R> {
    pub(super) fn open(mut raw: R) -> Result<Self, BundleError> {
        let mut magic = [0u8; 16];
        let got = read_full(&mut raw, &mut magic)?;
        let head = magic.get(..got).unwrap_or_default();
        let found = hex::encode(head);
        let gzip = head.starts_with(&[0x1f, 0x8b]);
        let zstd = head.starts_with(&[0x5d, 0x2a, 0x4d, 0x18]) || head.starts_with(&[0x28, 0xb5]);
        if gzip && magic != GZIP_HEADER {
            if got < magic.len() && GZIP_HEADER.starts_with(head) {
                return Err(truncated_header("gzip header"));
            }
            return Err(BundleError::NotABundle {
                detail: format!(
                    "expected the gzip header {} (FEXTRA with one 32-byte `SD` stream-digest subfield, MTIME 0, XFL 0, OS 255), found {found}",
                    hex::encode(GZIP_HEADER)
                ),
            });
        }
        if zstd && !magic.starts_with(&ZSTD_SKIPPABLE_HEADER) {
            if got < ZSTD_SKIPPABLE_HEADER.len() && ZSTD_SKIPPABLE_HEADER.starts_with(head) {
                return Err(truncated_header("zstd stream-digest frame"));
            }
            return Err(BundleError::NotABundle {
                detail: format!(
                    "expected a zstd bundle to start with the stream-digest skippable frame {}, found {found}",
                    hex::encode(ZSTD_SKIPPABLE_HEADER)
                ),
            });
        }
        if !gzip && !zstd {
            return Err(BundleError::NotABundle {
                detail: format!(
                    "expected a gzip stream starting {} or a zstd stream starting {}, found {found}",
                    hex::encode(GZIP_HEADER),
                    hex::encode(ZSTD_SKIPPABLE_HEADER)
                ),
            });
        }
        // What follows the fixed header: for zstd the rest of the 16 bytes read already are
        // part of the digest.
        let fixed = if gzip {
            GZIP_HEADER.len()
        } else {
            ZSTD_SKIPPABLE_HEADER.len()
        };
        let mut expected = [0u8; STREAM_DIGEST_LEN];
        let carried = magic.get(fixed..).unwrap_or_default();
        let (first, rest) = expected.split_at_mut(carried.len());
        first.copy_from_slice(carried);
        if read_full(&mut raw, rest)? < rest.len() {
            return Err(truncated_header("stream digest"));
        }
        let hash = Rc::new(RefCell::new(Sha256::new()));
        let mut stream = StreamReader {
            inner: raw,
            hash: Rc::clone(&hash),
        };
        let codec = if gzip {
            Codec::Gzip(Box::new(flate2::CrcReader::new(
                flate2::bufread::DeflateDecoder::new(BufReader::with_capacity(256 * 1024, stream)),
            )))
        } else {
            let mut frame = [0u8; ZSTD_HEADER.len()];
            let got = read_full(&mut stream, &mut frame)?;
            let head = frame.get(..got).unwrap_or_default().to_vec();
            if frame != ZSTD_HEADER {
                if got < frame.len() {
                    return Err(truncated_header("zstd frame header"));
                }
                return Err(BundleError::NotABundle {
                    detail: format!(
                        "expected the zstd frame header {} (content checksum, 2 MiB window), found {}",
                        hex::encode(ZSTD_HEADER),
                        hex::encode(&head)
                    ),
                });
            }
            let chained = io::Cursor::new(head).chain(stream);
            let decoder = zstd::stream::read::Decoder::with_buffer(BufReader::with_capacity(
                256 * 1024,
                chained,
            ))
            .map_err(|e| BundleError::io("starting the zstd decoder", e))?
            .single_frame();
            Codec::Zstd(Box::new(decoder))
        };
        Ok(Self {
            codec,
            expected,
            hash,
        })
    }

    pub(super) fn name(&self) -> &'static str {
        match self.codec {
            Codec::Gzip(_) => "gzip",
            Codec::Zstd(_) => "zstd",
        }
    }

    /// Reads the compressed stream to its end (checking its CRC and length), checks that
    /// nothing follows it and that every byte after the header has the promised digest.
    pub(super) fn finish(&mut self) -> Result<(), BundleError> {
        let mut rest = Vec::new();
        self.take(1)
            .read_to_end(&mut rest)
            .map_err(|e| classify(e, ARCHIVE))?;
        if !rest.is_empty() {
            return Err(BundleError::Corrupt {
                file: ARCHIVE.into(),
                detail:
                    "expected the compressed stream to end after the tar archive, found more data"
                        .into(),
            });
        }
        let mut trailing = Vec::new();
        match &mut self.codec {
            Codec::Gzip(d) => {
                let (crc, amount) = (d.crc().sum(), d.crc().amount());
                let input = d.get_mut().get_mut();
                let mut trailer = [0u8; 8];
                if read_full(input, &mut trailer)? < trailer.len() {
                    return Err(BundleError::Truncated {
                        file: ARCHIVE.into(),
                        detail: "the file ends inside the gzip trailer (CRC-32 and size)".into(),
                    });
                }
                let (want_crc, want_len) = trailer.split_at(4);
                if want_crc != crc.to_le_bytes() || want_len != amount.to_le_bytes() {
                    return Err(BundleError::Corrupt {
                        file: ARCHIVE.into(),
                        detail: format!(
                            "expected the gzip trailer {} (CRC-32 and size of the decompressed data), found {}",
                            hex::encode([crc.to_le_bytes(), amount.to_le_bytes()].concat()),
                            hex::encode(trailer)
                        ),
                    });
                }
                input.take(1).read_to_end(&mut trailing)
            }
            Codec::Zstd(d) => d.get_mut().take(1).read_to_end(&mut trailing),
        }
        .map_err(|e| classify(e, ARCHIVE))?;
        if !trailing.is_empty() {
            return Err(BundleError::Corrupt {
                file: ARCHIVE.into(),
                detail:
                    "expected the file to end after the compressed stream, found trailing bytes"
                        .into(),
            });
        }
        let found = self.hash.borrow().clone().finalize();
        if found.as_slice() != self.expected {
            return Err(BundleError::Corrupt {
                file: ARCHIVE.into(),
                detail: format!(
                    "expected the compressed stream to have the SHA-256 in the bundle's header ({}), found {} (the file was changed after it was written)",
                    hex::encode(self.expected),
                    hex::encode(found)
                ),
            });
        }
        Ok(())
    }
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.codec {
            Codec::Gzip(d) => d.read(buf),
            Codec::Zstd(d) => d.read(buf),
        }
    }
}

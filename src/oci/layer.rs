//! `--content`: a layer blob hashed as it streams in (its digest) and decompressed as the runtime
//! unpacks it (the digest of the uncompressed tar is the config's `rootfs.diff_ids` entry).
//!
//! As containerd 1.6's applier does (`images.DiffCompression`, then `compression.DecompressStream`):
//! a layer typed as an uncompressed OCI tar (`application/vnd.oci.image.layer.v1.tar`, or its
//! non-distributable twin) is taken as it is, whatever its bytes; any other layer type has its
//! compression told from the first bytes, not from the type: gzip (`1f 8b 08`, several members read
//! as one stream, as Go's `gzip.Reader` does), zstd (`28 b5 2f fd`), anything else uncompressed. The
//! content is then walked as a tar archive ([`TarCheck`]). Nothing is kept: memory stays at the
//! decoders' windows and a few queued chunks.

use crate::net::Sink;
use crate::oci::tar::TarCheck;
use crate::oci::{Algo, Digest};
use sha2::{Digest as _, Sha256};
use std::io::{self, Write};
use std::rc::Rc;

/// The digests of a layer: of the bytes served and of those bytes decompressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerDigests {
    /// sha256 of the bytes the registry served.
    pub compressed: Digest,
    /// The content decompressed, or why it was not (see [`NotUnpacked`]).
    pub content: Result<Content, NotUnpacked>,
}

/// Why a layer's content was not decompressed to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotUnpacked {
    /// The compressed stream is damaged or cut short: the runtime's unpack fails on it too.
    Damaged(String),
    /// The content is larger than [`MAX_CONTENT`] (or the limit given): not checked further, which
    /// decides nothing about it (a decompression bomb, or a very large layer).
    TooLarge(u64),
}

/// The most uncompressed bytes one layer is decompressed, hashed and walked for: a few bytes of
/// zstd or gzip can stand for terabytes, and a check must end. No real layer comes near it (the
/// largest images' layers are some tens of GiB uncompressed at most; 64 GiB takes about a minute).
pub const MAX_CONTENT: u64 = 64 << 30;

/// A layer's content, decompressed as the runtime does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    /// sha256 of the uncompressed content (what `rootfs.diff_ids` must list).
    pub digest: Digest,
    /// The compression found: `gzip`, `zstd` or `none`.
    pub compression: &'static str,
    /// Why Go's tar reader would not read the content to its end, or containerd would not unpack
    /// it wherever the layer is in an image (`None`: it would).
    pub not_tar: Option<String>,
    /// Why containerd would not unpack it as an image's first layer only (whiteouts remove there).
    pub not_tar_first: Option<String>,
    /// Why containerd would not unpack it above an image's first layer only (its overlayfs
    /// snapshotter makes whiteouts devices there).
    pub not_tar_upper: Option<String>,
    /// Why the walk stopped early without a verdict (`None`: it read to the end or refused).
    pub unchecked: Option<String>,
}

/// A writer that hashes the uncompressed stream and walks it as a tar archive, refusing more than
/// `left` bytes (and saying so in `over`, which the decoders' own errors would hide).
struct HashWriter {
    sha: Sha256,
    tar: TarCheck,
    left: u64,
    over: Rc<std::cell::Cell<bool>>,
}

impl HashWriter {
    fn new(limit: u64, over: Rc<std::cell::Cell<bool>>) -> Self {
        HashWriter {
            sha: Sha256::new(),
            tar: TarCheck::default(),
            left: limit,
            over,
        }
    }
}

impl Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.len() as u64 > self.left {
            self.over.set(true);
            return Err(io::Error::other("the content is larger than the limit"));
        }
        self.left -= buf.len() as u64;
        self.sha.update(buf);
        self.tar.write(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

enum Stage {
    /// Fewer than four bytes seen: the compression is not known yet.
    Sniffing(Vec<u8>),
    Plain(Box<HashWriter>),
    Gzip(Box<GzMembers>),
    Zstd(Box<zstd::stream::write::Decoder<'static, HashWriter>>),
}

/// A gzip stream of one or more members, read as Go's `gzip.Reader` reads it under containerd: a
/// member's trailer (CRC-32 and length) must match, the next member starts right after it, and any
/// other bytes after a member are an invalid header. Go also refuses a member header whose file
/// name or comment is 512 bytes or longer (its header buffer), which flate2 takes: checked here,
/// member by member.
struct GzMembers(flate2::write::GzDecoder<HashWriter>);

/// Go's `gzip.Reader` reads a header's file name or comment into a buffer of this many bytes,
/// terminating NUL included.
const GO_GZIP_HEADER_STRING: usize = 512;

impl GzMembers {
    fn feed(&mut self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            match self.0.write(data)? {
                // The member ended (trailer read): the rest begins the next member.
                0 => {
                    self.check_header()?;
                    let placeholder = HashWriter::new(0, Default::default());
                    let done =
                        std::mem::replace(&mut self.0, flate2::write::GzDecoder::new(placeholder));
                    let out = done.finish()?;
                    self.0 = flate2::write::GzDecoder::new(out);
                    match self.0.write(data)? {
                        0 => {
                            return Err(io::Error::new(
                                io::ErrorKind::InvalidData,
                                "gzip: a member took no bytes",
                            ))
                        }
                        n => data = &data[n..],
                    }
                }
                n => data = &data[n..],
            }
        }
        Ok(())
    }

    fn check_header(&self) -> io::Result<()> {
        let Some(h) = self.0.header() else {
            return Ok(());
        };
        for (what, field) in [("file name", h.filename()), ("comment", h.comment())] {
            if let Some(f) = field.filter(|f| f.len() >= GO_GZIP_HEADER_STRING) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "gzip: invalid header (a member's {what} of {} bytes; Go's reader, which the runtime unpacks with, takes at most {})",
                        f.len(),
                        GO_GZIP_HEADER_STRING - 1
                    ),
                ));
            }
        }
        Ok(())
    }

    fn finish(mut self) -> io::Result<HashWriter> {
        self.0.try_finish()?;
        self.check_header()?;
        self.0.finish()
    }
}

/// Whether the runtime decompresses a layer of this (bare) media type: every layer type but the
/// uncompressed OCI ones (containerd's `DiffCompression` gives them no compression, so their bytes
/// are the diff; Docker's uncompressed type is "unknown" to it, and sniffed).
pub fn decompressed(media_type: &str) -> bool {
    ![
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
    ]
    .contains(&media_type)
}

fn sha256_digest(h: Sha256) -> Digest {
    Digest {
        algo: Algo::Sha256,
        hex: hex::encode(h.finalize()),
    }
}

/// Why decompressing stopped with `e`: past `limit` when the writer said so in `over`, else a
/// damaged stream.
fn stopped(over: &std::cell::Cell<bool>, limit: u64, e: io::Error) -> NotUnpacked {
    if over.get() {
        NotUnpacked::TooLarge(limit)
    } else {
        NotUnpacked::Damaged(e.to_string())
    }
}

/// Decompresses and hashes the content, synchronously (on [`LayerSink`]'s worker thread).
struct Unpacker {
    stage: Stage,
    limit: u64,
    over: Rc<std::cell::Cell<bool>>,
}

impl Unpacker {
    fn new(sniff: bool, limit: u64) -> Self {
        let over = Rc::default();
        Unpacker {
            stage: if sniff {
                Stage::Sniffing(Vec::with_capacity(4))
            } else {
                Stage::Plain(Box::new(HashWriter::new(limit, Rc::clone(&over))))
            },
            limit,
            over,
        }
    }

    /// Why decompressing stopped with `e`.
    fn stopped(&self, e: io::Error) -> NotUnpacked {
        stopped(&self.over, self.limit, e)
    }

    fn decide(&self, head: &[u8]) -> io::Result<Stage> {
        let out = HashWriter::new(self.limit, Rc::clone(&self.over));
        Ok(if head.starts_with(&[0x1f, 0x8b, 0x08]) {
            Stage::Gzip(Box::new(GzMembers(flate2::write::GzDecoder::new(out))))
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
            // A skippable frame (0x184D2A50-5F): containerd 1.6's DetectCompression takes it for zstd.
            || (head.len() >= 4 && head[0] & 0xf0 == 0x50 && head[1..4] == [0x2a, 0x4d, 0x18])
        {
            Stage::Zstd(Box::new(zstd::stream::write::Decoder::new(out)?))
        } else {
            Stage::Plain(Box::new(out))
        })
    }

    fn feed(&mut self, data: &[u8]) -> io::Result<()> {
        match &mut self.stage {
            Stage::Sniffing(head) => {
                head.extend_from_slice(data);
                if head.len() >= 4 {
                    let head = std::mem::take(head);
                    self.stage = self.decide(&head)?;
                    self.feed(&head)?;
                }
                Ok(())
            }
            Stage::Plain(w) => w.write_all(data),
            Stage::Gzip(d) => d.feed(data),
            Stage::Zstd(d) => d.write_all(data),
        }
    }

    fn finish(mut self) -> io::Result<Content> {
        if let Stage::Sniffing(head) = &mut self.stage {
            let head = std::mem::take(head);
            self.stage = self.decide(&head)?;
            self.feed(&head)?;
        }
        let (mut out, compression) = match self.stage {
            Stage::Sniffing(_) => unreachable!("decided above"),
            Stage::Plain(w) => (*w, "none"),
            Stage::Gzip(d) => (d.finish()?, "gzip"),
            // Both refuse a stream that ends inside a member or frame, as the runtime's unpack does.
            Stage::Zstd(d) => (d.finish()?, "zstd"),
        };
        Ok(Content {
            not_tar: out.tar.finish().err(),
            not_tar_first: out.tar.fails_as_first().map(str::to_string),
            not_tar_upper: out.tar.fails_as_upper().map(str::to_string),
            unchecked: out.tar.unchecked().map(str::to_string),
            digest: sha256_digest(out.sha),
            compression,
        })
    }
}

/// Chunks handed to the worker and not yet taken (each up to [`crate::net::CHUNK`]).
const QUEUE: usize = 4;

/// A [`Sink`] that computes a layer's [`LayerDigests`] while it downloads: the bytes served are
/// hashed as they arrive; decompressing, hashing the content and walking the tar run on a worker
/// thread, beside the download (a queue of [`QUEUE`] chunks; the download waits when it is full).
pub struct LayerSink {
    compressed: Sha256,
    sniff: bool,
    limit: u64,
    tx: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    worker: Option<std::thread::JoinHandle<Result<Content, NotUnpacked>>>,
}

impl LayerSink {
    /// An empty sink for a layer of `media_type` (see [`decompressed`]), decompressing at most
    /// [`MAX_CONTENT`] bytes.
    pub fn new(media_type: &str) -> Self {
        Self::with(decompressed(media_type), MAX_CONTENT)
    }

    fn with(sniff: bool, limit: u64) -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(QUEUE);
        let worker = std::thread::spawn(move || {
            let mut u = Unpacker::new(sniff, limit);
            // On a damaged stream (or past the limit), stop decompressing; the rest is dropped (the
            // sender then finds the queue gone and keeps only hashing what it receives).
            for chunk in rx {
                u.feed(&chunk).map_err(|e| u.stopped(e))?;
            }
            let over = Rc::clone(&u.over);
            u.finish().map_err(|e| stopped(&over, limit, e))
        });
        LayerSink {
            compressed: Sha256::new(),
            sniff,
            limit,
            tx: Some(tx),
            worker: Some(worker),
        }
    }

    /// The digests, once the whole body was written.
    pub fn finish(mut self) -> LayerDigests {
        drop(self.tx.take());
        let content = match self.worker.take().map(|w| w.join()) {
            Some(Ok(r)) => r,
            _ => Err(NotUnpacked::Damaged(
                "the decompression stopped unexpectedly".to_string(),
            )),
        };
        LayerDigests {
            compressed: sha256_digest(std::mem::take(&mut self.compressed)),
            content,
        }
    }
}

impl Sink for LayerSink {
    fn write(&mut self, data: &[u8]) -> io::Result<()> {
        self.compressed.update(data);
        // A worker that stopped (a damaged stream) says why in `finish`.
        if let Some(tx) = &self.tx {
            if tx.send(data.to_vec()).is_err() {
                self.tx = None;
            }
        }
        Ok(())
    }

    fn reset(&mut self) -> io::Result<()> {
        *self = LayerSink::with(self.sniff, self.limit);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(data: &[u8]) -> Digest {
        Digest::of(Algo::Sha256, data)
    }

    const GZIP_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

    /// The compressed digest (always the bytes' own), and the content or why not.
    struct Got {
        compressed: Digest,
        uncompressed: Digest,
        compression: &'static str,
    }

    fn run(body: &[u8], chunk: usize) -> Result<Got, String> {
        run_as(GZIP_TYPE, body, chunk)
    }

    fn run_as(media_type: &str, body: &[u8], chunk: usize) -> Result<Got, String> {
        let mut s = LayerSink::new(media_type);
        for c in body.chunks(chunk.max(1)) {
            Sink::write(&mut s, c).unwrap();
        }
        let d = s.finish();
        assert_eq!(d.compressed, sha(body));
        let c = d.content.map_err(|e| format!("{e:?}"))?;
        Ok(Got {
            compressed: d.compressed,
            uncompressed: c.digest,
            compression: c.compression,
        })
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn plain_gzip_and_zstd_give_the_uncompressed_digest() {
        let tar: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let gz = gzip(&tar);
        let zs = zstd::stream::encode_all(&tar[..], 3).unwrap();
        for chunk in [1, 3, 4096, 1 << 20] {
            let d = run(&tar, chunk).unwrap();
            assert_eq!(
                (d.compressed.clone(), d.uncompressed, d.compression),
                (sha(&tar), sha(&tar), "none")
            );
            let d = run(&gz, chunk).unwrap();
            assert_eq!(
                (d.compressed, d.uncompressed, d.compression),
                (sha(&gz), sha(&tar), "gzip")
            );
            let d = run(&zs, chunk).unwrap();
            assert_eq!(
                (d.compressed, d.uncompressed, d.compression),
                (sha(&zs), sha(&tar), "zstd")
            );
        }
        // A zstd stream that begins with a skippable frame.
        let mut skip = vec![0x53, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3];
        skip.extend(&zs);
        assert_eq!(run(&skip, 5).unwrap().uncompressed, sha(&tar));
        // Shorter than the four bytes that tell the compression: uncompressed.
        let d = run(b"ab", 1).unwrap();
        assert_eq!(d.uncompressed, sha(b"ab"));
        // The uncompressed OCI types are taken as they are, gzip bytes or not; Docker's is sniffed.
        for t in [
            "application/vnd.oci.image.layer.v1.tar",
            "application/vnd.oci.image.layer.nondistributable.v1.tar",
        ] {
            let d = run_as(t, &gz, 4096).unwrap();
            assert_eq!((d.uncompressed, d.compression), (sha(&gz), "none"));
        }
        let d = run_as("application/vnd.docker.image.rootfs.diff.tar", &gz, 4096).unwrap();
        assert_eq!(d.uncompressed, sha(&tar));
    }

    #[test]
    fn gzip_members_are_one_stream_and_damage_is_an_error() {
        let (a, b) = (b"first member ".repeat(100), b"second member".repeat(100));
        let mut two = gzip(&a);
        two.extend(gzip(&b));
        let d = run(&two, 7).unwrap();
        assert_eq!(d.uncompressed, sha(&[a.clone(), b].concat()));
        let gz = gzip(&a);
        assert!(run(&gz[..gz.len() - 5], 64).is_err(), "cut short");
        let mut junk = gz.clone();
        junk.extend_from_slice(b"trailing junk");
        assert!(
            run(&junk, 64).is_err(),
            "trailing bytes that are no gzip member"
        );
        // Go's reader refuses a member header whose file name or comment is 512 bytes or more,
        // in any member; 511 is read.
        let named = |name: Vec<u8>, comment: bool| {
            let g = flate2::GzBuilder::new();
            let g = if comment {
                g.comment(name)
            } else {
                g.filename(name)
            };
            let mut e = g.write(Vec::new(), flate2::Compression::fast());
            e.write_all(&a).unwrap();
            e.finish().unwrap()
        };
        for comment in [false, true] {
            for (len, ok) in [(511, true), (512, false), (4000, false)] {
                let mut three = gzip(&a);
                three.extend(named(vec![b'n'; len], comment));
                three.extend(gzip(&a));
                for chunk in [1, 64, 1 << 20] {
                    let got = run(&three, chunk);
                    assert_eq!(
                        got.is_ok(),
                        ok,
                        "{len} bytes, comment {comment}, chunk {chunk}"
                    );
                    if let Err(e) = got {
                        assert!(e.contains("invalid header"), "{e}");
                    }
                }
                let last = [gzip(&a), named(vec![b'n'; len], comment)].concat();
                assert_eq!(run(&last, 100).is_ok(), ok, "in the last member");
            }
        }
        let zs = zstd::stream::encode_all(&a[..], 3).unwrap();
        assert!(
            run(&zs[..zs.len() - 3], 64).is_err(),
            "zstd frame cut short"
        );
    }

    /// A stream that decompresses past the limit stops there: `TooLarge`, not damaged (a few
    /// bytes of zstd or gzip can stand for terabytes).
    #[test]
    fn content_past_the_limit_is_too_large() {
        let tar = vec![0u8; 100_000];
        let gz = gzip(&tar);
        let zs = zstd::stream::encode_all(&tar[..], 3).unwrap();
        for body in [&tar, &gz, &zs] {
            for (limit, fits) in [(100_000, true), (99_999, false), (10, false)] {
                let mut s = LayerSink::with(true, limit);
                for c in body.chunks(777) {
                    Sink::write(&mut s, c).unwrap();
                }
                let d = s.finish();
                assert_eq!(d.compressed, sha(body));
                match d.content {
                    Ok(c) => assert!(fits, "{limit}: {c:?}"),
                    Err(e) => assert_eq!((fits, e), (false, NotUnpacked::TooLarge(limit))),
                }
            }
        }
    }
}

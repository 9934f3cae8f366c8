//! `--content`: the uncompressed layer checked as the runtime's tar reader (Go's `archive/tar`, under
//! containerd's `archive.Apply`) walks it, streamed, nothing kept. A layer whose bytes match both
//! digests but that this reader or containerd refuses fails the unpack.
//!
//! Checked as Go checks it (compared with containerd 1.6.20's `ctr images pull`, adversarial pass
//! 24): a header whose checksum (read as octal; the unsigned or the signed sum) does not match, or
//! whose size, mode, uid, gid, mtime (and, in ustar/GNU headers, device numbers) are not numbers, is
//! "invalid tar header"; PAX records must be well formed (a key, no NUL in a key or in a path or
//! name value, numbers in `uid`, `gid`, `size`, times in `mtime`, `atime`, `ctime`); a PAX header or
//! GNU long name over 1 MiB is "header field too long"; a header or an entry's data cut short is
//! "unexpected EOF". The archive ends at two zero blocks, at one zero block followed by the end of
//! the stream, or at the end of the stream on a header boundary or inside an entry's padding (Go's
//! reader returns `io.EOF` there); bytes after the end are not read. Header-only types (links,
//! devices, directories, FIFOs) carry no data whatever their size field says; a PAX `size` applies
//! to the next entry. containerd then refuses entry types it does not create (only regular files,
//! links, symlinks, devices, directories, FIFOs and global PAX headers: a GNU sparse `S`, `7`, `V`...
//! is "unhandled tar header type") and whiteouts naming no file (`.wh.`, `.wh..`, `.wh...`).
//! PAX sparse files (`GNU.sparse.*`) lay out their data differently: the walk stops there and the
//! rest is taken as it is.

/// A tar block.
const BLOCK: usize = 512;
/// Largest PAX or GNU long-name header Go reads (`maxSpecialFileSize`).
const MAX_SPECIAL: u64 = 1 << 20;

#[derive(Debug)]
enum State {
    /// Collecting a header block (`zeros`: a zero block came just before).
    Header { zeros: bool },
    /// `left` bytes of an entry's data, then `pad` bytes of padding: skipped, or kept when `keep`
    /// is the type flag of a PAX header or GNU long name, whose body is read.
    Body {
        keep: Option<u8>,
        left: u64,
        pad: u64,
    },
    /// The archive ended (or cannot be walked further): the rest is not read.
    Done,
}

/// Walks a tar stream fed in pieces; [`TarCheck::finish`] says whether the runtime would unpack it.
#[derive(Debug)]
pub struct TarCheck {
    state: State,
    block: Vec<u8>,
    special: Vec<u8>,
    /// A PAX `size` for the next entry.
    next_size: Option<u64>,
    /// A PAX `path` or GNU long name for the next entry.
    next_name: Option<Vec<u8>>,
    /// Entries seen.
    entries: u64,
    /// Stream offset, for messages.
    offset: u64,
    error: Option<String>,
}

impl Default for TarCheck {
    fn default() -> Self {
        TarCheck {
            state: State::Header { zeros: false },
            block: Vec::with_capacity(BLOCK),
            special: Vec::new(),
            next_size: None,
            next_name: None,
            entries: 0,
            offset: 0,
            error: None,
        }
    }
}

/// Go's `parseNumeric`: base-256 when the first byte has its high bit set, else [`octal`].
fn numeric(field: &[u8]) -> Option<i128> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        // Base-256 (two's complement, the first byte's top bit a marker): at most 8 value bytes.
        let inv = if field[0] & 0x40 != 0 { 0xff } else { 0 };
        let mut x: i128 = 0;
        for (i, b) in field.iter().enumerate() {
            let mut c = b ^ inv;
            if i == 0 {
                c &= 0x7f;
            }
            if x >> 56 > 0 {
                return None;
            }
            x = (x << 8) | c as i128;
        }
        return Some(if inv == 0xff { !x } else { x });
    }
    octal(field)
}

/// Go's `parseOctal`: leading and trailing spaces and NULs trimmed, empty is 0, else octal digits.
fn octal(field: &[u8]) -> Option<i128> {
    let mut t = field;
    while let [b' ' | 0, rest @ ..] = t {
        t = rest;
    }
    while let [rest @ .., b' ' | 0] = t {
        t = rest;
    }
    if t.is_empty() {
        return Some(0);
    }
    if !t.iter().all(|b| (b'0'..=b'7').contains(b)) {
        return None;
    }
    i128::from_str_radix(std::str::from_utf8(t).ok()?, 8).ok()
}

/// A NUL-terminated header string.
fn cstr(field: &[u8]) -> &[u8] {
    field.split(|b| *b == 0).next().unwrap_or_default()
}

/// Go's `parsePAXTime`: seconds, optionally negative, and an optional fraction of digits.
fn pax_time(v: &[u8]) -> bool {
    let s = std::str::from_utf8(v).unwrap_or("x");
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    secs.parse::<i64>().is_ok() && frac.bytes().all(|b| b.is_ascii_digit())
}

impl TarCheck {
    fn fail(&mut self, why: String) {
        if self.error.is_none() {
            self.error = Some(why);
        }
        self.state = State::Done;
    }

    /// Feeds the next piece of the uncompressed stream.
    pub fn write(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            match &mut self.state {
                State::Done => return,
                State::Header { .. } => {
                    let take = (BLOCK - self.block.len()).min(data.len());
                    self.block.extend_from_slice(&data[..take]);
                    data = &data[take..];
                    self.offset += take as u64;
                    if self.block.len() == BLOCK {
                        let block = std::mem::take(&mut self.block);
                        self.header(&block);
                        self.block = block;
                        self.block.clear();
                    }
                }
                State::Body { keep, left, pad } => {
                    let take = (*left + *pad).min(data.len() as u64);
                    let from_data = take.min(*left);
                    if keep.is_some() {
                        self.special.extend_from_slice(&data[..from_data as usize]);
                    }
                    *left -= from_data;
                    *pad -= take - from_data;
                    data = &data[take as usize..];
                    self.offset += take;
                    if *left == 0 && *pad == 0 {
                        let keep = *keep;
                        self.state = State::Header { zeros: false };
                        let body = std::mem::take(&mut self.special);
                        match keep {
                            Some(b'x') => self.pax_records(&body),
                            Some(b'L') => self.next_name = Some(cstr(&body).to_vec()),
                            _ => {}
                        }
                    }
                }
            }
        }
    }

    // Long: one header's checks in Go's order (zero blocks, checksum, numeric fields, type), then
    // what follows it.
    fn header(&mut self, b: &[u8]) {
        let at = self.offset - BLOCK as u64;
        let State::Header { zeros } = self.state else {
            return;
        };
        if b.iter().all(|&x| x == 0) {
            if zeros {
                self.state = State::Done;
            } else {
                self.state = State::Header { zeros: true };
            }
            return;
        }
        let n = self.entries + 1;
        let invalid = |why: &str| format!("invalid tar header at byte {at} (header {n}): {why}");
        if zeros {
            return self.fail(invalid("a header follows a single zero block"));
        }
        // The checksum field counts as spaces; Go accepts the unsigned or the signed byte sum.
        let (unsigned, signed) = b.iter().enumerate().fold((0i64, 0i64), |(u, s), (i, &x)| {
            let (xu, xs) = if (148..156).contains(&i) {
                (32, 32)
            } else {
                (x as i64, x as i8 as i64)
            };
            (u + xu, s + xs)
        });
        let sum = octal(&b[148..156]);
        if sum != Some(unsigned as i128) && sum != Some(signed as i128) {
            return self.fail(invalid("its checksum does not match"));
        }
        let magic = &b[257..265];
        let ustar = magic.starts_with(b"ustar\0") || magic == b"ustar  \0";
        let mut fields = vec![
            ("mode", 100..108),
            ("uid", 108..116),
            ("gid", 116..124),
            ("mtime", 136..148),
        ];
        if ustar {
            fields.extend([("devmajor", 329..337), ("devminor", 337..345)]);
        }
        if let Some((name, _)) = fields
            .iter()
            .find(|(_, r)| numeric(&b[r.clone()]).is_none())
        {
            return self.fail(invalid(&format!("its {name} field is not a number")));
        }
        let Some(size) = numeric(&b[124..136]).filter(|s| *s >= 0) else {
            return self.fail(invalid("its size field is not a size"));
        };
        self.entries += 1;
        let size = self.next_size.take().map(i128::from).unwrap_or(size);
        let size = u64::try_from(size).unwrap_or(u64::MAX);
        let pad = |n: u64| (BLOCK as u64 - n % BLOCK as u64) % BLOCK as u64;
        let typ = b[156];
        if matches!(typ, b'x' | b'g' | b'L' | b'K') {
            if size > MAX_SPECIAL {
                return self.fail(format!(
                    "{} at byte {at} is {size} bytes: \"header field too long\" to Go's tar reader",
                    if typ == b'L' || typ == b'K' {
                        "a GNU long name"
                    } else {
                        "a PAX header"
                    }
                ));
            }
            self.state = if size == 0 {
                State::Header { zeros: false }
            } else {
                State::Body {
                    keep: Some(typ),
                    left: size,
                    pad: pad(size),
                }
            };
            return;
        }
        // What containerd's archive.Apply creates; any other type fails the unpack.
        if !matches!(typ, b'0' | 0 | b'1'..=b'6') {
            return self.fail(format!(
                "entry {n} at byte {at} has tar header type {typ} (`{}`), which containerd does not unpack (\"unhandled tar header type\")",
                (typ as char).escape_default()
            ));
        }
        let name = self.next_name.take().unwrap_or_else(|| {
            let mut name = cstr(&b[0..100]).to_vec();
            let prefix = cstr(&b[345..500]);
            if magic.starts_with(b"ustar\0") && !prefix.is_empty() {
                name = [prefix, b"/", &name].concat();
            }
            name
        });
        if let Some(why) = bad_whiteout(&name) {
            return self.fail(format!("entry {n} at byte {at}: {why}"));
        }
        self.state = if matches!(typ, b'1'..=b'6') || size == 0 {
            // Header-only types: no data, whatever the size field says.
            State::Header { zeros: false }
        } else {
            State::Body {
                keep: None,
                left: size,
                pad: pad(size),
            }
        };
    }

    /// PAX records (`LEN key=value\n`), as Go's `parsePAX` and `mergePAX` read them: a `size` and a
    /// `path` for the next entry; sparse files stop the walk.
    fn pax_records(&mut self, mut r: &[u8]) {
        let bad = |why: &str| format!("invalid tar header: a PAX record {why}");
        while !r.is_empty() {
            let Some(sp) = r.iter().position(|&b| b == b' ') else {
                return self.fail(bad("has no length"));
            };
            let Some(len) = std::str::from_utf8(&r[..sp])
                .ok()
                .and_then(|s| s.parse::<usize>().ok())
            else {
                return self.fail(bad("has no length"));
            };
            if len <= sp + 1 || len > r.len() || r[len - 1] != b'\n' {
                return self.fail(bad("is cut short"));
            }
            let rec = &r[sp + 1..len - 1];
            r = &r[len..];
            let Some(eq) = rec.iter().position(|&b| b == b'=') else {
                return self.fail(bad("has no `=`"));
            };
            let (k, v) = (&rec[..eq], &rec[eq + 1..]);
            if k.is_empty() || k.contains(&0) {
                return self.fail(bad("has an empty key or a NUL in its key"));
            }
            if k.starts_with(b"GNU.sparse.") {
                self.state = State::Done;
                return;
            }
            let number = || {
                std::str::from_utf8(v)
                    .ok()
                    .and_then(|s| s.parse::<i64>().ok())
            };
            let ok = match k {
                b"path" | b"linkpath" | b"uname" | b"gname" => !v.contains(&0),
                b"uid" | b"gid" => number().is_some(),
                b"size" => number().is_some_and(|n| n >= 0),
                b"mtime" | b"atime" | b"ctime" => pax_time(v),
                _ => true,
            };
            if !ok {
                return self.fail(bad(&format!(
                    "`{}` has a value Go refuses",
                    String::from_utf8_lossy(k)
                )));
            }
            match k {
                b"size" => self.next_size = number().map(|n| n as u64),
                b"path" => self.next_name = Some(v.to_vec()),
                _ => {}
            }
        }
    }

    /// Whether the stream, now ended, is an archive the runtime unpacks (`Err`: why not).
    pub fn finish(&self) -> Result<(), String> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        match &self.state {
            State::Done => Ok(()),
            State::Header { .. } if self.block.is_empty() => Ok(()),
            State::Header { .. } => Err(format!(
                "unexpected EOF: the stream ends inside a tar header ({} of {BLOCK} bytes)",
                self.block.len()
            )),
            // Inside the padding after an entry's data: Go's reader reads the end of the archive.
            State::Body {
                keep: None,
                left: 0,
                ..
            } => Ok(()),
            State::Body { .. } => Err(format!(
                "unexpected EOF: the stream ends inside entry {}'s data",
                self.entries
            )),
        }
    }
}

/// containerd's whiteout rule: a `.wh.NAME` entry must name a file in its own directory
/// (`.wh.`, `.wh..` and `.wh...` do not: "invalid whiteout name"); `.wh..wh..opq` is the opaque marker.
fn bad_whiteout(name: &[u8]) -> Option<String> {
    let name = String::from_utf8_lossy(name);
    let base = name
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    let original = base.strip_prefix(".wh.")?;
    if base == ".wh..wh..opq" {
        return None;
    }
    matches!(original, "" | "." | "..").then(|| {
        format!("the whiteout `{}` names no file in its directory (\"invalid whiteout name\" to containerd)", name.escape_default())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ustar header for `name` of `size` bytes and type `t`, with a correct checksum.
    fn header(name: &str, size: u64, t: u8) -> Vec<u8> {
        let mut h = vec![0u8; BLOCK];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..107].copy_from_slice(b"0000644");
        h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
        h[136..147].copy_from_slice(b"00000000000");
        h[156] = t;
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| b as u32).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        h
    }

    fn entry(name: &str, data: &[u8]) -> Vec<u8> {
        let mut v = header(name, data.len() as u64, b'0');
        v.extend_from_slice(data);
        v.resize(v.len().div_ceil(BLOCK) * BLOCK, 0);
        v
    }

    fn check(bytes: &[u8], chunk: usize) -> Result<(), String> {
        let mut t = TarCheck::default();
        for c in bytes.chunks(chunk.max(1)) {
            t.write(c);
        }
        t.finish()
    }

    fn archive() -> Vec<u8> {
        let mut v = entry("a.txt", b"hello");
        v.extend(header("dir/", 0, b'5'));
        // A symlink whose size field is not 0: header-only, no data follows.
        v.extend(header("link", 999, b'2'));
        v.extend(entry("b.bin", &[7u8; 1500]));
        v
    }

    #[test]
    fn archives_go_reads_to_the_end_pass() {
        let mut full = archive();
        full.extend([0u8; 1024]);
        for chunk in [1, 7, 512, 4096] {
            check(&full, chunk).unwrap();
            // No end blocks, one zero block, trailing bytes after the end: all read to the end.
            check(&archive(), chunk).unwrap();
            check(&[archive(), vec![0u8; 512]].concat(), chunk).unwrap();
            check(&[full.clone(), b"trailing junk".to_vec()].concat(), chunk).unwrap();
        }
        check(b"", 1).unwrap();
        check(&[0u8; 1024], 100).unwrap();
        // The last entry's data without any padding.
        let mut short = header("c", 5, b'0');
        short.extend_from_slice(b"12345");
        check(&short, 3).unwrap();
        // A PAX size record applies to the next entry.
        let rec = b"13 size=1000\n";
        let mut pax = header("pax", rec.len() as u64, b'x');
        pax.extend_from_slice(rec);
        pax.resize(BLOCK * 2, 0);
        pax.extend(header("big", 0, b'0'));
        pax.extend([9u8; 1024]);
        check(&pax, 100).unwrap();
    }

    #[test]
    fn what_go_cannot_read_is_refused() {
        let good = archive();
        let mut bad_sum = good.clone();
        bad_sum[3] ^= 1;
        assert!(check(&bad_sum, 512).unwrap_err().contains("checksum"));
        assert!(check(&good[..good.len() - 600], 512)
            .unwrap_err()
            .contains("unexpected EOF"));
        assert!(check(&good[..100], 512)
            .unwrap_err()
            .contains("inside a tar header"));
        let gz_like: Vec<u8> = (0..4096u32).map(|i| (i * 7 + 3) as u8).collect();
        assert!(check(&gz_like, 512).is_err());
        let mut after_zero = vec![0u8; 512];
        after_zero.extend(entry("x", b"1"));
        assert!(check(&after_zero, 512)
            .unwrap_err()
            .contains("single zero block"));
        // Inside padding, Go's reader finds the end of the archive (tryReadFull gives io.EOF).
        let mut e = entry("c", b"12345");
        e.truncate(BLOCK + 100);
        check(&e, 64).unwrap();
    }

    /// Sets a header field and fixes the checksum.
    fn with(mut h: Vec<u8>, at: usize, v: &[u8]) -> Vec<u8> {
        h[at..at + v.len()].copy_from_slice(v);
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| b as u32).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        h
    }

    /// One PAX record for `kv` (`key=value`), its length prefix computed.
    fn rec(kv: &str) -> String {
        let mut n = kv.len() + 3;
        while format!("{n} {kv}\n").len() != n {
            n += 1;
        }
        format!("{n} {kv}\n")
    }

    fn pax(kv: &str) -> Vec<u8> {
        let records = rec(kv);
        let mut v = header("pax", records.len() as u64, b'x');
        v.extend_from_slice(records.as_bytes());
        v.resize(v.len().div_ceil(BLOCK) * BLOCK, 0);
        v
    }

    #[test]
    fn what_go_or_containerd_refuses_in_a_header_is_refused() {
        let end = [0u8; 1024];
        let arch = |parts: &[Vec<u8>]| [parts.concat(), end.to_vec()].concat();
        let fails = |bytes: Vec<u8>, needle: &str| {
            let e = check(&bytes, 100).unwrap_err();
            assert!(e.contains(needle), "{needle}: {e}");
        };
        // Types containerd does not create: GNU sparse, contiguous, volume label.
        for t in [b'S', b'7', b'V'] {
            fails(arch(&[header("f", 0, t)]), "unhandled tar header type");
        }
        // Numeric fields Go cannot parse, and a checksum in base-256 (Go reads it as octal only).
        fails(
            arch(&[with(header("f", 0, b'0'), 100, b"07x0644")]),
            "mode field",
        );
        fails(
            arch(&[with(header("f", 0, b'0'), 136, b"abc")]),
            "mtime field",
        );
        let mut b256 = header("f", 0, b'0');
        let sum: u32 = b256.iter().map(|&b| b as u32).sum::<u32>();
        b256[148..156].copy_from_slice(&[0x80, 0, 0, 0, 0, 0, (sum >> 8) as u8, sum as u8]);
        fails(arch(&[b256]), "checksum");
        // PAX records Go refuses.
        fails(arch(&[pax("mtime=abc"), header("f", 0, b'0')]), "mtime");
        fails(arch(&[pax("path=a\0b"), header("f", 0, b'0')]), "path");
        fails(arch(&[pax("=abc"), header("f", 0, b'0')]), "empty key");
        // A GNU long name over 1 MiB.
        fails(
            arch(&[header("././@LongLink", (1 << 20) + 1, b'L')]),
            "header field too long",
        );
        // Whiteouts that name no file; the opaque marker and a real whiteout pass.
        fails(arch(&[header(".wh..", 0, b'0')]), "invalid whiteout name");
        fails(
            arch(&[header("sub/.wh.", 0, b'0')]),
            "invalid whiteout name",
        );
        check(
            &arch(&[
                header("sub/.wh..wh..opq", 0, b'0'),
                header("sub/.wh.file", 0, b'0'),
            ]),
            7,
        )
        .unwrap();
        // A PAX path names the entry (a whiteout there too).
        fails(
            arch(&[pax("path=d/.wh..."), header("f", 0, b'0')]),
            "invalid whiteout name",
        );
        // A GNU long name with a good name, and good PAX records, pass.
        let mut long = header("././@LongLink", 12, b'L');
        long.extend_from_slice(b"a/long/name\0");
        long.resize(BLOCK * 2, 0);
        check(
            &arch(&[
                long,
                header("x", 0, b'0'),
                pax("mtime=1.000000001"),
                header("y", 0, b'0'),
            ]),
            33,
        )
        .unwrap();
    }
}

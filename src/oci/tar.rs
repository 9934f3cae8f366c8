//! `--content`: the uncompressed layer checked as the runtime's tar reader (Go's `archive/tar`, under
//! containerd's `archive.Apply`) walks it, streamed, nothing kept: every header's checksum, each
//! entry's data and padding present, the end of the archive. A layer whose bytes match both
//! digests but is no tar archive fails the unpack.
//!
//! Checked as Go checks it: a header block whose checksum (unsigned or signed sum, as Go accepts
//! either) does not match is "invalid tar header"; a header or an entry's data cut short is
//! "unexpected EOF"; the archive ends at two zero blocks, at one zero block followed by the end of
//! the stream, or at the end of the stream on a header boundary (or at the end of an entry's data
//! with no padding at all), as Go's reader returns `io.EOF` there; bytes after the end are not read.
//! Header-only types (links, devices, directories, FIFOs) carry no data whatever their size field
//! says. A PAX header's `size` record applies to the next entry. Sparse files (GNU `S`, PAX
//! `GNU.sparse.*`) lay out their data differently: the walk stops there and the rest is taken as
//! it is (no verdict, as before this check existed).

/// A tar block.
const BLOCK: usize = 512;
/// Largest PAX or GNU long-name header Go reads (`maxSpecialFileSize`).
const MAX_SPECIAL: u64 = 1 << 20;

#[derive(Debug)]
enum State {
    /// Collecting a header block (`zeros`: a zero block came just before).
    Header { zeros: bool },
    /// Skipping `left` bytes of an entry's data, then `pad` bytes of padding.
    Data { left: u64, pad: u64, pad_total: u64 },
    /// Collecting a PAX header's records (`left` bytes more), then `pad` bytes of padding.
    Pax { left: u64, pad: u64 },
    /// The archive ended (or cannot be walked further): the rest is not read.
    Done,
}

/// Walks a tar stream fed in pieces; [`TarCheck::finish`] says whether Go's reader would read it
/// to its end.
#[derive(Debug)]
pub struct TarCheck {
    state: State,
    block: Vec<u8>,
    pax: Vec<u8>,
    /// A PAX `size` for the next entry.
    next_size: Option<u64>,
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
            pax: Vec::new(),
            next_size: None,
            entries: 0,
            offset: 0,
            error: None,
        }
    }
}

/// Go's `parseNumeric`: base-256 when the first byte has its high bit set, else octal with leading
/// and trailing spaces and NULs trimmed (empty is 0).
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
    let t: &[u8] = {
        let mut s = field;
        while let [b' ' | 0, rest @ ..] = s {
            s = rest;
        }
        while let [rest @ .., b' ' | 0] = s {
            s = rest;
        }
        s
    };
    if t.is_empty() {
        return Some(0);
    }
    // Go's parseOctal stops at the first NUL (parseString semantics are applied before).
    let t = t.split(|b| *b == 0).next().unwrap_or_default();
    let s = std::str::from_utf8(t).ok()?;
    i128::from_str_radix(s, 8)
        .ok()
        .filter(|_| s.bytes().all(|b| (b'0'..=b'7').contains(&b)))
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
                State::Data { left, pad, .. } => {
                    let take = (*left + *pad).min(data.len() as u64);
                    let from_data = take.min(*left);
                    *left -= from_data;
                    *pad -= take - from_data;
                    data = &data[take as usize..];
                    self.offset += take;
                    if *left == 0 && *pad == 0 {
                        self.state = State::Header { zeros: false };
                    }
                }
                State::Pax { left, pad } => {
                    let take = (*left + *pad).min(data.len() as u64);
                    let from_data = take.min(*left);
                    self.pax.extend_from_slice(&data[..from_data as usize]);
                    *left -= from_data;
                    *pad -= take - from_data;
                    data = &data[take as usize..];
                    self.offset += take;
                    if *left == 0 && *pad == 0 {
                        let records = std::mem::take(&mut self.pax);
                        self.state = State::Header { zeros: false };
                        self.pax_records(&records);
                    }
                }
            }
        }
    }

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
        if zeros {
            return self.fail(format!(
                "invalid tar header at byte {at}: a header follows a single zero block"
            ));
        }
        let unsigned: i64 = b
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    x as i64
                }
            })
            .sum();
        let signed: i64 = b
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    x as i8 as i64
                }
            })
            .sum();
        let sum = numeric(&b[148..156]);
        if sum != Some(unsigned as i128) && sum != Some(signed as i128) {
            return self.fail(format!(
                "invalid tar header at byte {at} (entry {}): its checksum does not match",
                self.entries + 1
            ));
        }
        let Some(size) = numeric(&b[124..136]).filter(|s| *s >= 0) else {
            return self.fail(format!(
                "invalid tar header at byte {at}: its size field is not a size"
            ));
        };
        self.entries += 1;
        let size = self.next_size.take().map(i128::from).unwrap_or(size);
        let size = u64::try_from(size).unwrap_or(u64::MAX);
        let pad = |n: u64| (BLOCK as u64 - n % BLOCK as u64) % BLOCK as u64;
        match b[156] {
            // Header-only types: no data, whatever the size field says.
            b'1'..=b'6' => self.state = State::Header { zeros: false },
            b'x' | b'g' => {
                if size > MAX_SPECIAL {
                    return self.fail(format!(
                        "PAX header at byte {at} is {size} bytes, more than Go's tar reader reads"
                    ));
                }
                self.state = State::Pax {
                    left: size,
                    pad: pad(size),
                };
                if size == 0 {
                    self.state = State::Header { zeros: false };
                }
            }
            // GNU sparse: laid out differently; not walked further.
            b'S' => self.state = State::Done,
            _ if size == 0 => self.state = State::Header { zeros: false },
            _ => {
                self.state = State::Data {
                    left: size,
                    pad: pad(size),
                    pad_total: pad(size),
                }
            }
        }
    }

    /// PAX records (`LEN key=value\n`): a `size` for the next entry; sparse files stop the walk.
    fn pax_records(&mut self, mut r: &[u8]) {
        while !r.is_empty() {
            let Some(sp) = r.iter().position(|&b| b == b' ') else {
                return self.fail("invalid PAX record".into());
            };
            let Some(len) = std::str::from_utf8(&r[..sp])
                .ok()
                .and_then(|s| s.parse::<usize>().ok())
            else {
                return self.fail("invalid PAX record length".into());
            };
            if len <= sp || len > r.len() || r[len - 1] != b'\n' {
                return self.fail("invalid PAX record".into());
            }
            let rec = &r[sp + 1..len - 1];
            r = &r[len..];
            let Some(eq) = rec.iter().position(|&b| b == b'=') else {
                return self.fail("invalid PAX record".into());
            };
            let (k, v) = (&rec[..eq], &rec[eq + 1..]);
            if k.starts_with(b"GNU.sparse.") {
                self.state = State::Done;
                return;
            }
            if k == b"size" {
                match std::str::from_utf8(v)
                    .ok()
                    .and_then(|s| s.parse::<u64>().ok())
                {
                    Some(n) => self.next_size = Some(n),
                    None => return self.fail("invalid PAX size record".into()),
                }
            }
        }
    }

    /// Whether the stream, now ended, was a tar archive Go's reader reads to its end (`Err`: why not).
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
            // The end of an entry's data with no padding at all reads as the end of the archive.
            State::Data {
                left: 0,
                pad,
                pad_total,
            } if pad == pad_total => Ok(()),
            State::Data { .. } | State::Pax { .. } => Err(format!(
                "unexpected EOF: the stream ends inside entry {}'s data or padding",
                self.entries
            )),
        }
    }
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
        // Inside padding (some but not all of it) is cut short.
        let mut e = entry("c", b"12345");
        e.truncate(BLOCK + 100);
        assert!(check(&e, 64).is_err());
    }
}

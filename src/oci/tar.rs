//! `--content`: the uncompressed layer checked as the runtime's tar reader (Go's `archive/tar`, under
//! containerd's `archive.Apply`) walks it, streamed, nothing kept. A layer whose bytes match both
//! digests but that this reader or containerd refuses fails the unpack.
//!
//! The walk follows Go 1.19's `Reader.Next` (containerd 1.6.20 was built with it; compared with its
//! `ctr images pull` in adversarial passes 24 and 25) and then containerd's `applyNaive` for each
//! entry Go returns:
//! - a header block: its checksum (octal, trimmed, cut at a NUL; the unsigned or the signed byte
//!   sum), its format (USTAR, STAR with the `tar\0` trailer, GNU, V7) and the numeric fields Go
//!   parses for it (size, mode, uid, gid, mtime; device numbers past V7; STAR's atime and ctime;
//!   base-256 values over 63 bits refused) or "invalid tar header"; a GNU header whose atime or
//!   ctime does not parse takes its name prefix from those bytes, as Go reads old Go archives;
//! - meta headers (`x`, `g`, `L`, `K`) read with their own size, at most 1 MiB ("header field too
//!   long"); PAX records well formed (length, `=`, no NUL in a key or in a path or name value; GNU
//!   sparse offsets and sizes in order); each `x` replaces the records before it; a `g` is an entry
//!   of its own (its `path` record names it) and ends what came before it;
//! - at the next entry, the records merged as Go's `mergePAX` does: empty values skipped, `uid`,
//!   `gid`, `size` and times must parse ("invalid tar header"), `path` names the entry and a GNU
//!   long name (not empty) overrides it; a NUL type flag with a name ending in `/` is a directory;
//!   header-only types (links, devices, directories, FIFOs) carry no data whatever their size, and
//!   any other negative size is refused;
//! - for each entry, as containerd does: the name cleaned (`filepath.Clean`); an entry that resolves
//!   to the root is skipped; a whiteout must name a file in its own directory (`.wh.`, `.wh..`:
//!   "invalid whiteout name") and is not created; anything else must be a type containerd creates
//!   (regular files, links, symlinks, devices, directories, FIFOs, global PAX headers: a GNU sparse
//!   `S`, `7`, `V`... is "unhandled tar header type");
//! - what Linux refuses on any file system (`TarCheck::path_limits`, `TarCheck::created_checks`):
//!   a path component over 255 bytes or a path too long, for every entry's directory (containerd
//!   creates it for whiteouts and `g` headers too), the file a whiteout removes and each entry
//!   created; a symbolic link to an empty target or one of 4096 bytes or more; a hard link whose
//!   link name is a directory by its form; an extended attribute (`SCHILY.xattr.` record) the
//!   kernel refuses (a name empty or over 255 bytes, a value over 64 KiB, a namespace with no
//!   name, file capabilities in no known format).
//!
//! The archive ends at two zero blocks, at one zero block followed by the end of the stream, or at
//! the end of the stream on a header boundary or inside an entry's padding (Go's reader returns
//! `io.EOF` there); a header or an entry's data cut short is "unexpected EOF"; bytes after the end
//! are not read. Sparse files: an old GNU sparse entry (`S`) has its map read as Go's
//! `readOldGNUSparseMap` reads it (GNU format, `realsize`, entries, extension blocks taken from the
//! stream, `validateSparseEntries`); a PAX sparse map of version 0.0 or 0.1 must parse and fit, and
//! a regular file's data must be exactly what the map needs (Go's reader: "missing data",
//! "unreferenced data"). What the entries do to one another on the file system is replayed by
//! [`crate::oci::fstree`]. Not checked: what a particular file system or security
//! module refuses (ext4 keeps about 4 KiB of extended attributes per inode; SELinux checks its
//! labels), and PAX sparse files of version 1.0, whose map is at the start of the data: the walk
//! stops there, as it does at a name whose fate depends on the unpack directory's length.

use crate::oci::fstree::{go_clean, split, Refusal, Resolved, Tree};
use std::collections::HashMap;

/// A tar block.
const BLOCK: usize = 512;
/// Largest PAX or GNU long-name header Go reads (`maxSpecialFileSize`).
const MAX_SPECIAL: u64 = 1 << 20;

/// A meta header whose body Go reads before the entry it describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Special {
    /// `x`: PAX records for the next entry.
    Pax,
    /// `g`: global PAX records, an entry of its own.
    Global,
    /// `L`: a GNU long name for the next entry.
    LongName,
    /// `K`: a GNU long link name for the next entry.
    LongLink,
}

#[derive(Debug)]
enum State {
    /// Collecting a header block (`zeros`: a zero block came just before).
    Header { zeros: bool },
    /// `left` bytes of an entry's data, then `pad` bytes of padding: skipped, or kept when the
    /// entry is a meta header (`special`), whose body is read.
    Body {
        special: Option<Special>,
        left: u64,
        pad: u64,
    },
    /// Collecting an old GNU sparse header's extension block (more sparse entries, read from the
    /// stream before the entry's data).
    SparseExt(Box<OldSparse>),
    /// The archive ended (or cannot be walked further): the rest is not read.
    Done,
}

/// An old GNU sparse entry (type `S`) whose sparse map is being read, as Go's
/// `readOldGNUSparseMap` reads it.
#[derive(Debug)]
struct OldSparse {
    /// The entry's name, as Go merges it.
    name: Vec<u8>,
    /// The data that follows the map in the stream.
    nb: u64,
    /// What the header block says of the map.
    map: OldSparseMap,
}

/// The sparse map an old GNU sparse header holds (more may follow in extension blocks).
#[derive(Debug)]
struct OldSparseMap {
    /// The file's logical size (`realsize`).
    real_size: i128,
    /// (offset, length) pairs.
    entries: Vec<(i128, i128)>,
    /// Whether an extension block follows the header (each block then says whether another
    /// follows it).
    extended: bool,
}

/// PAX records as Go keeps them (`paxHdrs`: a later record of a key replaces an earlier one).
type Records = HashMap<Vec<u8>, Vec<u8>>;

/// Walks a tar stream fed in pieces; [`TarCheck::finish`] says whether the runtime would unpack it.
#[derive(Debug)]
pub struct TarCheck {
    state: State,
    block: Vec<u8>,
    special: Vec<u8>,
    /// The records of the last `x` header since the last entry (Go's `paxHdrs`).
    pax: Records,
    /// The last GNU long name since the last entry (Go's `gnuLongName`).
    long_name: Vec<u8>,
    /// The last GNU long link name since the last entry (Go's `gnuLongLink`).
    long_link: Vec<u8>,
    /// The name in a `g` header, until its records are read.
    global_name: Vec<u8>,
    /// Headers seen (entries and meta headers), for messages.
    headers: u64,
    /// Stream offset, for messages.
    offset: u64,
    error: Option<String>,
    /// Why the walk stopped before the end without a verdict (a PAX sparse file of format 1.0).
    unchecked: Option<String>,
    /// The names the entries so far made, replayed as containerd unpacks them: as the image's
    /// first layer, and as any layer until the layer holds a whiteout.
    tree: Tree,
    /// From the layer's first whiteout or opaque marker, the replay as a layer above the first
    /// (whiteouts are unpacked differently there: [`crate::oci::fstree::Whiteouts`]).
    upper: Option<Box<Tree>>,
    /// Why the runtime fails the layer only as the image's first layer, or only above it.
    as_first: Option<String>,
    as_upper: Option<String>,
}

impl Default for TarCheck {
    fn default() -> Self {
        TarCheck {
            state: State::Header { zeros: false },
            block: Vec::with_capacity(BLOCK),
            special: Vec::new(),
            pax: Records::new(),
            long_name: Vec::new(),
            long_link: Vec::new(),
            global_name: Vec::new(),
            headers: 0,
            offset: 0,
            error: None,
            unchecked: None,
            tree: Tree::default(),
            upper: None,
            as_first: None,
            as_upper: None,
        }
    }
}

/// Go's `parseNumeric`: base-256 when the first byte has its high bit set (at most 63 bits of
/// value), else [`octal`].
fn numeric(field: &[u8]) -> Option<i128> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        // Two's complement, the first byte's top bit a marker.
        let inv = if field[0] & 0x40 != 0 { 0xff } else { 0 };
        let mut x: u64 = 0;
        for (i, b) in field.iter().enumerate() {
            let mut c = b ^ inv;
            if i == 0 {
                c &= 0x7f;
            }
            if x >> 56 > 0 {
                return None;
            }
            x = (x << 8) | c as u64;
        }
        if x >> 63 > 0 {
            return None;
        }
        let x = x as i64;
        return Some(if inv == 0xff { !x } else { x } as i128);
    }
    octal(field)
}

/// Go's `parseOctal`: leading and trailing spaces and NULs trimmed, the rest cut at a NUL
/// (`parseString`), empty is 0, else octal digits (at most 64 bits).
fn octal(field: &[u8]) -> Option<i128> {
    let mut t = field;
    while let [b' ' | 0, rest @ ..] = t {
        t = rest;
    }
    while let [rest @ .., b' ' | 0] = t {
        t = rest;
    }
    let t = cstr(t);
    if t.is_empty() {
        return Some(0);
    }
    if !t.iter().all(|b| (b'0'..=b'7').contains(b)) {
        return None;
    }
    u64::from_str_radix(std::str::from_utf8(t).ok()?, 8)
        .ok()
        .map(|x| x as i64 as i128)
}

/// A NUL-terminated header string.
fn cstr(field: &[u8]) -> &[u8] {
    field.split(|b| *b == 0).next().unwrap_or_default()
}

/// Go's `strconv.ParseInt(s, 10, 64)`.
fn go_int(v: &[u8]) -> Option<i64> {
    std::str::from_utf8(v).ok()?.parse::<i64>().ok()
}

/// Go's `parsePAXTime`: seconds, optionally signed, and an optional fraction of digits.
fn pax_time(v: &[u8]) -> bool {
    let (secs, frac) = match v.iter().position(|&b| b == b'.') {
        Some(i) => (&v[..i], &v[i + 1..]),
        None => (v, &b""[..]),
    };
    go_int(secs).is_some() && frac.iter().all(u8::is_ascii_digit)
}

/// Types Go reads no data for (`isHeaderOnlyType`).
fn header_only(typ: u8) -> bool {
    matches!(typ, b'1'..=b'6')
}

/// Bytes of padding after `n` bytes of data.
fn pad(n: u64) -> u64 {
    (BLOCK as u64 - n % BLOCK as u64) % BLOCK as u64
}

/// Go's `parsePAX`: the records of an `x` or `g` body (`Err`: why Go refuses them).
fn parse_pax(mut s: &[u8]) -> Result<Records, String> {
    let mut records = Records::new();
    let mut sparse_map: Vec<&[u8]> = Vec::new();
    // Extended attributes, the last record of a name winning (Go's map).
    let mut xattrs: HashMap<&[u8], &[u8]> = HashMap::new();
    while !s.is_empty() {
        // `parsePAXRecord`: "LEN key=value\n", LEN counting the whole record.
        let sp = s
            .iter()
            .position(|&b| b == b' ')
            .ok_or_else(|| "has no length".to_string())?;
        let n = go_int(&s[..sp]).ok_or_else(|| "has no length".to_string())?;
        if n < 5 || n > s.len() as i64 {
            return Err("has a length that does not fit".into());
        }
        let n = n - (sp as i64 + 1);
        if n <= 0 {
            return Err("has a length that does not fit".into());
        }
        let (rest, n) = (&s[sp + 1..], n as usize);
        if rest[n - 1] != b'\n' {
            return Err("does not end where its length says".into());
        }
        let rec = &rest[..n - 1];
        s = &rest[n..];
        let eq = rec
            .iter()
            .position(|&b| b == b'=')
            .ok_or_else(|| "has no `=`".to_string())?;
        let (k, v) = (&rec[..eq], &rec[eq + 1..]);
        let valid = !k.is_empty()
            && match k {
                b"path" | b"linkpath" | b"uname" | b"gname" => !v.contains(&0),
                _ => !k.contains(&0),
            };
        if !valid {
            return Err(format!(
                "`{}` has an empty key or a NUL Go refuses",
                String::from_utf8_lossy(k).escape_default()
            ));
        }
        match k {
            b"GNU.sparse.offset" | b"GNU.sparse.numbytes" => {
                let want: &[u8] = if sparse_map.len() % 2 == 0 {
                    b"GNU.sparse.offset"
                } else {
                    b"GNU.sparse.numbytes"
                };
                if k != want || v.contains(&b',') {
                    return Err("is a GNU sparse offset or size out of order".into());
                }
                sparse_map.push(v);
            }
            // Only the records Go's reader acts on are kept (a later one replaces an earlier
            // one); the others (xattrs, comments) are validated above and dropped, so a header
            // of a million records costs a scan, not a million allocations.
            b"path" | b"linkpath" | b"uname" | b"gname" | b"uid" | b"gid" | b"size" | b"atime"
            | b"mtime" | b"ctime" => {
                records.insert(k.to_vec(), v.to_vec());
            }
            _ if k.starts_with(b"GNU.sparse.") => {
                records.insert(k.to_vec(), v.to_vec());
            }
            _ => {
                if let Some(name) = k.strip_prefix(&b"SCHILY.xattr."[..]) {
                    xattrs.insert(name, v);
                }
            }
        }
    }
    if !sparse_map.is_empty() {
        records.insert(b"GNU.sparse.map".to_vec(), sparse_map.join(&b","[..]));
    }
    // Only the verdict is kept (keys hold no NUL, so these cannot be records of the archive).
    let mut refused: Vec<(&[u8], XattrRefusal)> = xattrs
        .into_iter()
        .filter_map(|(name, value)| xattr_refused(name, value).map(|r| (name, r)))
        .collect();
    refused.sort_by(|a, b| a.0.cmp(b.0));
    for (name, r) in refused {
        let key: &[u8] = if r.any_file {
            XATTR_REFUSED
        } else {
            XATTR_REFUSED_REG_DIR
        };
        records.entry(key.to_vec()).or_insert_with(|| {
            format!(
                "extended attribute `{}`: {}",
                String::from_utf8_lossy(name).escape_default(),
                r.why
            )
            .into_bytes()
        });
    }
    Ok(records)
}

/// A path past Linux's limits: certainly, or depending on the unpack directory's length.
enum Over {
    Fails(String),
    Undecided(String),
}

/// Linux's limits on a path containerd uses (`cleaned`, rooted, under its unpack directory) for
/// entry `n`: each component at most 255 bytes (ENAMETOOLONG on every file system containerd
/// unpacks to), the whole under 4096 bytes with the directory in front (any directory fits a
/// name of up to 3584 bytes; none one of 4094 or more).
fn path_over(cleaned: &[u8], what: &str, n: u64) -> Option<Over> {
    let relative = cleaned.strip_prefix(b"/").unwrap_or(cleaned);
    match relative.split(|&b| b == b'/').find(|c| c.len() > 255) {
        Some(c) => Some(component_over(c, what, n)),
        None => length_over(relative.len(), what, n),
    }
}

/// A path component over 255 bytes.
fn component_over(c: &[u8], what: &str, n: u64) -> Over {
    let start: String = String::from_utf8_lossy(c).chars().take(80).collect();
    Over::Fails(format!(
        "entry {n}: {what} has a component of {} bytes (`{}...`), longer than the 255 Linux file systems allow (\"file name too long\" to containerd)",
        c.len(),
        start.escape_default()
    ))
}

/// A rooted path of `len` bytes (without its leading `/`) under the unpack directory.
fn length_over(len: usize, what: &str, n: u64) -> Option<Over> {
    if len >= 4094 {
        return Some(Over::Fails(format!(
            "entry {n}: {what} is {len} bytes long; with the directory the runtime unpacks into, the path is longer than the 4095 bytes Linux allows (\"file name too long\")"
        )));
    }
    (len > 3584).then(|| Over::Undecided(format!(
        "entry {n}: {what} is {len} bytes long; whether the runtime can use it depends on the length of the directory it unpacks into (paths stop at 4095 bytes); the rest of the archive was not walked"
    )))
}

/// What a hard link's limits are measured on, for messages.
const LINK_WHAT: &str = "its hard link's target, as the runtime looks it up,";

/// A path over Linux's limits as written, where symbolic links the replay does not follow may
/// make it shorter: undecided.
fn unknown_length(over: Over, what: &str) -> Over {
    match over {
        Over::Fails(why) => Over::Undecided(format!(
            "{why}; but {what} passes through symbolic links shipcheck does not follow, which may make it shorter; the rest of the archive was not walked"
        )),
        undecided => undecided,
    }
}

/// containerd's lookups for a hard link's link name (`hardlinkRootPath`): its directory part
/// walked raw by `fs.RootPath`, each prefix cleaned as it goes and looked up (`lstat`; a `..` at
/// the top stays there; symlinks are not followed here), then the target, the last name joined.
/// Returns how the lookups meet Linux's limits (a certain failure first, wherever it is) and the
/// target's rooted path. Linear in the name's length (a PAX `linkpath` may be 1 MiB).
fn link_walk(linkname: &[u8], n: u64) -> (Option<Over>, Vec<u8>) {
    let what = LINK_WHAT;
    let (dir, base) = match linkname.iter().rposition(|&b| b == b'/') {
        Some(i) => (&linkname[..i], &linkname[i + 1..]),
        None => (&b""[..], linkname),
    };
    let mut parts: Vec<&[u8]> = Vec::new();
    // The rooted path's length without its leading `/`: the parts and the `/`s between them.
    let mut len = 0usize;
    let mut undecided = None;
    let steps = dir.split(|&b| b == b'/').chain(std::iter::once(base));
    let last = steps.clone().filter(|c| !c.is_empty()).count();
    for (i, c) in steps.filter(|c| !c.is_empty()).enumerate() {
        if c == b"." {
            continue;
        }
        if c == b".." {
            if let Some(p) = parts.pop() {
                len -= p.len() + usize::from(!parts.is_empty());
            }
            continue;
        }
        let under_top = parts.is_empty();
        len += c.len() + usize::from(!under_top);
        parts.push(c);
        // Only the part just added and the new length can cross a limit. Linux measures a
        // component when it looks it up in its directory: under the top, or as the target itself
        // (which then fails as too long or as missing), certainly; under a directory that may not
        // exist when the link is made (`lstat` then says "not found" and the walk goes on), not.
        // (An undecided step is described once: the first one found.)
        let first = undecided.is_none();
        let over = match (c.len() > 255, under_top || i + 1 == last) {
            (false, _) if first || len >= 4094 => length_over(len, what, n),
            (false, _) => None,
            (true, true) => Some(component_over(c, what, n)),
            (true, false) if !first => None,
            (true, false) => {
                let dir = parts[..parts.len() - 1].join(&b"/"[..]);
                let dir: String = String::from_utf8_lossy(&dir).chars().take(80).collect();
                Some(Over::Undecided(format!(
                    "entry {n}: {what} has a component of {} bytes under `{}`, which Linux refuses only if that directory exists when the link is made (a lower layer may create it); the rest of the archive was not walked",
                    c.len(),
                    dir.escape_default()
                )))
            }
        };
        match over {
            Some(Over::Fails(why)) => return (Some(Over::Fails(why)), Vec::new()),
            Some(u) => {
                undecided.get_or_insert(u);
            }
            None => {}
        }
    }
    (undecided, [&b"/"[..], &parts.join(&b"/"[..])].concat())
}

/// Where [`parse_pax`] notes an extended attribute Linux refuses on any file.
const XATTR_REFUSED: &[u8] = b"\0xattr";
/// Where [`parse_pax`] notes one Linux refuses on regular files and directories only (a `user.`
/// attribute on anything else is refused with EPERM, which containerd ignores).
const XATTR_REFUSED_REG_DIR: &[u8] = b"\0xattr-reg-dir";

/// Why Linux refuses an extended attribute containerd sets (`Lsetxattr` for each `SCHILY.xattr.`
/// record; containerd skips `trusted.` ones and ignores ENOTSUP, so unknown namespaces pass).
struct XattrRefusal {
    why: &'static str,
    /// Refused whatever the file (else only on regular files and directories).
    any_file: bool,
}

/// The kernel's own limits (`fs/xattr.c`, `security/commoncap.c`), the same on every file system:
/// a name of 1 to 255 bytes (ERANGE), a value of at most 64 KiB (E2BIG), a namespace prefix with a
/// name after it (EINVAL), and a `security.capability` value in the format of revision 2 or 3
/// (EINVAL). What a file system or a security module adds (ext4 keeps about 4 KiB of attributes
/// per inode, SELinux checks its labels) is not judged here.
fn xattr_refused(name: &[u8], value: &[u8]) -> Option<XattrRefusal> {
    let any = |why| {
        Some(XattrRefusal {
            why,
            any_file: true,
        })
    };
    if name.starts_with(b"trusted.") {
        return None;
    }
    if name.is_empty() || name.len() > 255 {
        return any("Linux refuses a name that is empty or longer than 255 bytes (ERANGE)");
    }
    if value.len() > 65536 {
        return any("Linux refuses a value over 64 KiB (E2BIG)");
    }
    if name == b"security." {
        return any("Linux refuses a namespace without a name (EINVAL)");
    }
    if name == b"user." {
        return Some(XattrRefusal {
            why: "Linux refuses a namespace without a name (EINVAL)",
            any_file: false,
        });
    }
    if name == b"security.capability" && !value.is_empty() {
        // `magic_etc` without its one flag bit (VFS_CAP_FLAGS_EFFECTIVE), as the kernel's
        // `sansflags` compares it: any other bit set is another revision.
        let revision = value
            .get(..4)
            .map(|m| u32::from_le_bytes([m[0], m[1], m[2], m[3]]) & !1);
        let valid = matches!(
            (value.len(), revision),
            (20, Some(0x0200_0000)) | (24, Some(0x0300_0000))
        );
        if !valid {
            return any("Linux refuses file capabilities that are not in the format of revision 2 (20 bytes) or 3 (24 bytes) (EINVAL)");
        }
        // Revision 3 names the user ID that is root where the capabilities apply; -1 is no user
        // (containerd runs in the first user namespace, where every other ID maps).
        if value.len() == 24 && value[20..24] == [0xff; 4] {
            return any("Linux refuses file capabilities of revision 3 whose root user ID is 4294967295, which is no user (EINVAL)");
        }
    }
    None
}

/// Whether Go reads an entry with these (merged) PAX records as a GNU sparse file
/// (`readGNUSparsePAXHeaders`).
fn gnu_sparse(records: &Records) -> bool {
    let get = |k: &[u8]| records.get(k).map(Vec::as_slice).unwrap_or_default();
    let (major, minor) = (get(b"GNU.sparse.major"), get(b"GNU.sparse.minor"));
    match (major, minor) {
        (b"0", b"0" | b"1") | (b"1", b"0") => true,
        _ if !major.is_empty() || !minor.is_empty() => false,
        _ => !get(b"GNU.sparse.map").is_empty(),
    }
}

/// Appends the old GNU sparse entries of `area` (24 bytes each: a 12-byte offset and length; a
/// NUL first offset byte ends them) to `out`, as Go reads them.
fn sparse_entries(area: &[u8], out: &mut Vec<(i128, i128)>) -> Result<(), &'static str> {
    for e in area.chunks_exact(24) {
        if e[0] == 0 {
            break;
        }
        match (numeric(&e[..12]), numeric(&e[12..])) {
            (Some(o), Some(l)) => out.push((o, l)),
            _ => return Err("has a sparse offset or length that is not a number"),
        }
    }
    Ok(())
}

/// Go's `validateSparseEntries`: fragments in order, not overlapping, within `size`.
fn valid_sparse(entries: &[(i128, i128)], size: i128) -> bool {
    if size < 0 {
        return false;
    }
    let mut end = 0i128;
    for &(offset, length) in entries {
        if offset < 0 || length < 0 || offset > i64::MAX as i128 - length {
            return false;
        }
        if offset + length > size || end > offset {
            return false;
        }
        end = offset + length;
    }
    true
}

/// A PAX sparse file as Go reads it (`readGNUSparsePAXHeaders`).
struct PaxSparse {
    /// `GNU.sparse.name`.
    name: Option<Vec<u8>>,
    /// The logical size (`GNU.sparse.size` or `realsize`, else the entry's).
    real_size: i128,
    /// The map of versions 0.0 and 0.1 (from the records); `None` for 1.0 (in the data).
    map: Option<Vec<(i128, i128)>>,
}

/// Whether the merged `records` make the entry a PAX sparse file, and its map (`Err`: why Go
/// refuses them).
fn pax_sparse(records: &Records, size: i128) -> Result<Option<PaxSparse>, &'static str> {
    if !gnu_sparse(records) {
        return Ok(None);
    }
    let get = |k: &[u8]| records.get(k).map(Vec::as_slice).unwrap_or_default();
    let v1 = get(b"GNU.sparse.major") == b"1" && get(b"GNU.sparse.minor") == b"0";
    let size_text = match get(b"GNU.sparse.size") {
        b"" => get(b"GNU.sparse.realsize"),
        s => s,
    };
    let real_size = match size_text {
        b"" => size,
        s => go_int(s).ok_or("its GNU sparse size is not a number")? as i128,
    };
    let map = if v1 {
        None
    } else {
        // `readGNUSparseMap0x1`.
        let n = go_int(get(b"GNU.sparse.numblocks"))
            .filter(|n| *n >= 0)
            .ok_or("its GNU sparse block count is not a number")?;
        let text = get(b"GNU.sparse.map");
        let parts: Vec<&[u8]> = if text.is_empty() {
            Vec::new()
        } else {
            text.split(|&b| b == b',').collect()
        };
        if parts.len() as i128 != 2 * n as i128 {
            return Err("its GNU sparse map does not have two numbers per block");
        }
        let mut entries = Vec::new();
        for pair in parts.chunks_exact(2) {
            match (go_int(pair[0]), go_int(pair[1])) {
                (Some(o), Some(l)) => entries.push((o as i128, l as i128)),
                _ => return Err("its GNU sparse map has an entry that is not a number"),
            }
        }
        Some(entries)
    };
    Ok(Some(PaxSparse {
        name: Some(get(b"GNU.sparse.name").to_vec()),
        real_size,
        map,
    }))
}

/// Go's `filepath.Clean` of `/` then `name`: the name as containerd resolves it under its unpack
/// directory (`fs.RootPath`: a `..` at the top stays there).
fn go_clean_rooted(name: &[u8]) -> Vec<u8> {
    go_clean(&[&b"/"[..], name].concat())
}

/// A name or link name for a message (escaped, at most 80 characters).
fn shown(b: &[u8]) -> String {
    let s: String = String::from_utf8_lossy(b).chars().take(80).collect();
    s.escape_default().to_string()
}

/// Why the replay refuses an entry of type `typ`, for a message.
fn entry_refused(refusal: Refusal, typ: u8, linkname: &[u8]) -> String {
    match (refusal, typ) {
        (Refusal::LinkToNothing, _) => format!(
            "it is a hard link to `{}`, which no earlier entry of this layer made: containerd (with its default overlayfs snapshotter) and Docker unpack each layer into a directory of its own, where the link fails (ENOENT)",
            shown(linkname)
        ),
        (Refusal::LinkToDir, _) => format!(
            "it is a hard link to `{}`, a directory, which Linux cannot hard-link (EPERM)",
            shown(linkname)
        ),
        (r, b'1') => format!("it is a hard link to `{}`, {}", shown(linkname), refused(&r)),
        (r, _) => refused(&r),
    }
}

/// What fails in the replay of the layer's entries, for a message.
fn refused(r: &Refusal) -> String {
    match r {
        Refusal::NotDir { at } => format!(
            "it passes through `{}`, which an earlier entry of this layer made a file, not a directory: containerd's unpack fails (ENOTDIR)",
            shown(at)
        ),
        Refusal::TooManyLinks => "more than 255 symbolic links are on its way: containerd's unpack fails (\"too many links\")".into(),
        Refusal::LinkToNothing => "it names nothing this layer made before it (ENOENT)".into(),
        Refusal::LinkToDir => "it names a directory (EPERM)".into(),
        Refusal::WhiteoutOverName => "it is a whiteout of a name an earlier entry of this layer made: containerd's overlayfs snapshotter makes the whiteout a device at that name and fails (\"file exists\")".into(),
        Refusal::DirGone { name } => format!(
            "`{}` names nothing any more (a later entry removed it or made it a symbolic link to nothing): containerd's unpack fails (ENOENT)",
            shown(name)
        ),
    }
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
                State::Header { .. } | State::SparseExt(_) => {
                    let take = (BLOCK - self.block.len()).min(data.len());
                    self.block.extend_from_slice(&data[..take]);
                    data = &data[take..];
                    self.offset += take as u64;
                    if self.block.len() == BLOCK {
                        let block = std::mem::take(&mut self.block);
                        // A placeholder while the block is judged (each branch sets what follows).
                        let placeholder = State::Header { zeros: false };
                        match std::mem::replace(&mut self.state, placeholder) {
                            State::SparseExt(sparse) => self.sparse_extension(sparse, &block),
                            header => {
                                self.state = header;
                                self.header(&block);
                            }
                        }
                        self.block = block;
                        self.block.clear();
                    }
                }
                State::Body { special, left, pad } => {
                    let take = (*left + *pad).min(data.len() as u64);
                    let from_data = take.min(*left);
                    if special.is_some() {
                        self.special.extend_from_slice(&data[..from_data as usize]);
                    }
                    *left -= from_data;
                    *pad -= take - from_data;
                    data = &data[take as usize..];
                    self.offset += take;
                    // A meta header's body is read (and acted on) as soon as it is whole, before
                    // its padding, as Go reads it.
                    let done = *left == 0 && *pad == 0;
                    let body_read = if *left == 0 { special.take() } else { None };
                    if done {
                        self.state = State::Header { zeros: false };
                    }
                    if let Some(kind) = body_read {
                        let body = std::mem::take(&mut self.special);
                        self.special_read(kind, &body);
                    }
                }
            }
        }
    }

    /// Starts reading `nb` bytes of data (a meta header's body when `special`).
    fn body(&mut self, special: Option<Special>, nb: u64) {
        self.state = State::Body {
            special,
            left: nb,
            pad: pad(nb),
        };
        if nb == 0 {
            self.state = State::Header { zeros: false };
            if let Some(kind) = special {
                self.special_read(kind, &[]);
            }
        }
    }

    /// A meta header's whole body, as Go's `next()` handles it.
    fn special_read(&mut self, kind: Special, body: &[u8]) {
        let n = self.headers;
        match kind {
            Special::Pax | Special::Global => match parse_pax(body) {
                Err(why) => self.fail(format!(
                    "invalid tar header: a PAX record in header {n} {why}"
                )),
                Ok(records) if kind == Special::Pax => self.pax = records,
                Ok(records) => {
                    // A `g` is an entry: Go names it by its own `path` record and returns it,
                    // dropping what came before it.
                    let name = match records.get(&b"path"[..]) {
                        Some(p) if !p.is_empty() => p.clone(),
                        _ => std::mem::take(&mut self.global_name),
                    };
                    self.pax.clear();
                    self.long_name.clear();
                    self.long_link.clear();
                    self.entry_checks(b'g', &name);
                    self.replay(b'g', &name, b"");
                }
            },
            Special::LongName => self.long_name = cstr(body).to_vec(),
            Special::LongLink => self.long_link = cstr(body).to_vec(),
        }
    }

    // Long: one header block in Go's order (zero blocks, checksum and format, numeric fields for
    // the format, the name and its prefix, then the type), each step a few lines.
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
        self.headers += 1;
        let n = self.headers;
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
        #[derive(PartialEq)]
        enum Format {
            V7,
            Ustar,
            Star,
            Gnu,
        }
        let format = match (&b[257..263], &b[263..265], &b[508..512]) {
            (b"ustar\0", _, b"tar\0") => Format::Star,
            (b"ustar\0", _, _) => Format::Ustar,
            (b"ustar ", b" \0", _) => Format::Gnu,
            _ => Format::V7,
        };
        let mut fields = vec![
            ("size", 124..136),
            ("mode", 100..108),
            ("uid", 108..116),
            ("gid", 116..124),
            ("mtime", 136..148),
        ];
        if format != Format::V7 {
            fields.extend([("devmajor", 329..337), ("devminor", 337..345)]);
        }
        if format == Format::Star {
            fields.extend([("atime", 476..488), ("ctime", 488..500)]);
        }
        if let Some((name, _)) = fields
            .iter()
            .find(|(_, r)| numeric(&b[r.clone()]).is_none())
        {
            return self.fail(invalid(&format!("its {name} field is not a number")));
        }
        let prefix = match format {
            Format::V7 => &b""[..],
            Format::Ustar => cstr(&b[345..500]),
            Format::Star => cstr(&b[345..476]),
            // A GNU header whose atime or ctime does not parse is an old Go archive's: its name
            // prefix is there (when it is ASCII).
            Format::Gnu => {
                let bad = |r: std::ops::Range<usize>| b[r.start] != 0 && numeric(&b[r]).is_none();
                let p = cstr(&b[345..500]);
                if (bad(345..357) || bad(357..369)) && p.is_ascii() {
                    p
                } else {
                    &b""[..]
                }
            }
        };
        let mut name = cstr(&b[0..100]).to_vec();
        let linkname = cstr(&b[157..257]).to_vec();
        if !prefix.is_empty() {
            name = [prefix, b"/", &name].concat();
        }
        let size = numeric(&b[124..136]).expect("checked above");
        let typ = b[156];
        // Go's `handleRegularFile` on the header as read.
        if size < 0 && !header_only(typ) {
            return self.fail(invalid("its size field is not a size"));
        }
        let special = match typ {
            b'x' => Special::Pax,
            b'g' => Special::Global,
            b'L' => Special::LongName,
            b'K' => Special::LongLink,
            b'S' => {
                // Go's `readOldGNUSparseMap`: GNU format only, `realsize` and up to four entries
                // in the header (a NUL first offset byte ends them), more in extension blocks.
                if format != Format::Gnu {
                    return self.fail(invalid(
                        "it is an old GNU sparse entry without the GNU format",
                    ));
                }
                let Some(real_size) = numeric(&b[483..495]) else {
                    return self.fail(invalid("its GNU sparse realsize is not a number"));
                };
                let mut entries = Vec::new();
                if let Err(why) = sparse_entries(&b[386..482], &mut entries) {
                    return self.fail(invalid(why));
                }
                let map = OldSparseMap {
                    real_size,
                    entries,
                    extended: b[482] != 0,
                };
                return self.entry(typ, name, linkname, size, at, Some(map));
            }
            _ => return self.entry(typ, name, linkname, size, at, None),
        };
        let nb = u64::try_from(size).unwrap_or(u64::MAX);
        if nb > MAX_SPECIAL {
            return self.fail(format!(
                "{} at byte {at} is {nb} bytes: \"header field too long\" to Go's tar reader",
                if matches!(special, Special::LongName | Special::LongLink) {
                    "a GNU long name"
                } else {
                    "a PAX header"
                }
            ));
        }
        if special == Special::Global {
            self.global_name = name;
        }
        self.body(Some(special), nb);
    }

    /// An entry Go returns (any type but the meta headers), with what came before it merged.
    // Long: Go's merge of what came before an entry, then its sparse map, each a few lines.
    fn entry(
        &mut self,
        typ: u8,
        mut name: Vec<u8>,
        mut linkname: Vec<u8>,
        mut size: i128,
        at: u64,
        old_sparse: Option<OldSparseMap>,
    ) {
        let n = self.headers;
        let records = std::mem::take(&mut self.pax);
        let long_name = std::mem::take(&mut self.long_name);
        let long_link = std::mem::take(&mut self.long_link);
        // Go's `mergePAX`: empty values keep the header's; numbers and times must parse.
        for (k, v) in &records {
            if v.is_empty() {
                continue;
            }
            let ok = match k.as_slice() {
                b"path" => {
                    name = v.clone();
                    true
                }
                b"linkpath" => {
                    linkname = v.clone();
                    true
                }
                b"uid" | b"gid" => go_int(v).is_some(),
                b"atime" | b"mtime" | b"ctime" => pax_time(v),
                b"size" => go_int(v).map(|s| size = s as i128).is_some(),
                _ => true,
            };
            if !ok {
                return self.fail(format!(
                    "invalid tar header at byte {at} (header {n}): its PAX record `{}` has a value Go refuses",
                    String::from_utf8_lossy(k).escape_default()
                ));
            }
        }
        if !long_name.is_empty() {
            name = long_name;
        }
        if !long_link.is_empty() {
            linkname = long_link;
        }
        // Legacy archives mark directories with a trailing slash and a NUL type.
        let typ = match typ {
            0 if name.ends_with(b"/") => b'5',
            0 => b'0',
            t => t,
        };
        let nb = if header_only(typ) {
            0
        } else if size < 0 {
            return self.fail(format!(
                "invalid tar header at byte {at} (header {n}): its PAX size is negative"
            ));
        } else {
            u64::try_from(size).unwrap_or(u64::MAX)
        };
        let invalid = |why: &str| format!("invalid tar header at byte {at} (header {n}): {why}");
        if let Some(map) = old_sparse {
            let sparse = OldSparse { name, nb, map };
            if sparse.map.extended {
                self.state = State::SparseExt(Box::new(sparse));
            } else {
                self.old_sparse_done(sparse);
            }
            return;
        }
        match pax_sparse(&records, size) {
            Ok(None) => {}
            Ok(Some(sparse)) => {
                // Go's `readGNUSparsePAXHeaders`: the entry takes the sparse name, and a
                // header-only type cannot be sparse.
                if let Some(n) = sparse.name.filter(|n| !n.is_empty()) {
                    name = n;
                }
                if header_only(typ) {
                    return self.fail(invalid("a PAX sparse map on an entry that has no data"));
                }
                let created = self.entry_checks(typ, &name);
                if let Some(rooted) = &created {
                    self.created_checks(typ, &name, rooted, &linkname, &records);
                }
                self.replay(typ, &name, &linkname);
                if matches!(self.state, State::Done) {
                    return;
                }
                match sparse.map {
                    // Version 1.0 keeps its map at the start of the data: not walked further.
                    None => {
                        self.unchecked = Some(format!(
                            "entry {n} is a PAX sparse file of format 1.0, whose map shipcheck does not read; the rest of the archive was not walked"
                        ));
                        self.state = State::Done;
                    }
                    Some(entries) => {
                        if !valid_sparse(&entries, sparse.real_size) {
                            return self.fail(invalid("its PAX sparse map does not fit the file"));
                        }
                        // The runtime reads a regular file's data through the map: the data
                        // must be exactly what the map's fragments need.
                        let data: i128 = entries.iter().map(|e| e.1).sum();
                        if created.is_some() && typ == b'0' && data != nb as i128 {
                            return self.fail(format!(
                                "entry {n}: its PAX sparse map needs {data} bytes of data but {nb} follow (Go's reader: \"{}\")",
                                if data > nb as i128 { "missing data" } else { "unreferenced data" }
                            ));
                        }
                        self.body(None, nb);
                    }
                }
                return;
            }
            Err(why) => return self.fail(invalid(why)),
        }
        if let Some(rooted) = self.entry_checks(typ, &name) {
            self.created_checks(typ, &name, &rooted, &linkname, &records);
        }
        self.replay(typ, &name, &linkname);
        if matches!(self.state, State::Done) {
            return;
        }
        self.body(None, nb);
    }

    /// One extension block of an old GNU sparse map (21 entries, then its own "extended" flag).
    fn sparse_extension(&mut self, mut sparse: Box<OldSparse>, b: &[u8]) {
        if let Err(why) = sparse_entries(&b[..504], &mut sparse.map.entries) {
            return self.fail(format!(
                "invalid tar header: an old GNU sparse extension block {why}"
            ));
        }
        if b[504] != 0 {
            self.state = State::SparseExt(sparse);
        } else {
            self.old_sparse_done(*sparse);
        }
    }

    /// An old GNU sparse entry whose map is read: Go validates it, then containerd judges the
    /// entry (it creates no `S` entry: only a whiteout or one resolving to the root passes).
    fn old_sparse_done(&mut self, sparse: OldSparse) {
        if !valid_sparse(&sparse.map.entries, sparse.map.real_size) {
            return self.fail(format!(
                "invalid tar header (header {}): its old GNU sparse map does not fit the file",
                self.headers
            ));
        }
        self.entry_checks(b'S', &sparse.name);
        self.replay(b'S', &sparse.name, b"");
        if matches!(self.state, State::Done) {
            return;
        }
        self.body(None, sparse.nb);
    }

    /// containerd's checks of one entry (`applyNaive`, `validateWhiteout`, `createTarFile`); the
    /// path it creates the entry at (rooted under its unpack directory) when it creates one (not
    /// skipped, not a whiteout, a type it handles, within Linux's limits).
    fn entry_checks(&mut self, typ: u8, name: &[u8]) -> Option<Vec<u8>> {
        let n = self.headers;
        // The path containerd uses: the name cleaned under its unpack directory, a `..` at the top
        // staying there (`fs.RootPath`; symlinks on the way are not followed here). One that
        // resolves to the top is skipped.
        let rooted = go_clean_rooted(name);
        if rooted == b"/" {
            return None;
        }
        let base = rooted.rsplit(|&b| b == b'/').next().unwrap_or_default();
        let dir = &rooted[..rooted.len() - base.len()];
        // The directory as containerd resolves it (the name cleaned, relative as written).
        let cleaned = if self.tree.follows_links() {
            go_clean(name)
        } else {
            Vec::new()
        };
        let (cdir, _) = split(&cleaned);
        let shown = || String::from_utf8_lossy(name).escape_default().to_string();
        let created = matches!(typ, b'0'..=b'6') && !base.starts_with(b".wh.");
        // Whatever the entry, containerd first creates its directory (`mkparent`); an entry it
        // creates is measured whole (its directory is part of it: a name that fails for any
        // unpack directory fails, also where its directory alone would be undecided).
        let (measured, tail, what) = if created {
            (&rooted[..], base, "its name")
        } else {
            (dir, &b""[..], "its directory")
        };
        if !self.path_limits(measured, Some((cdir, tail)), what) {
            return None;
        }
        if base == b".wh..wh..opq" {
            return None;
        }
        if let Some(original) = base.strip_prefix(b".wh.") {
            if matches!(original, b"" | b"." | b"..") {
                self.fail(format!(
                    "entry {n}: the whiteout `{}` names no file in its directory (\"invalid whiteout name\" to containerd)",
                    shown()
                ));
                return None;
            }
            // A whiteout removes a file; it is not created, whatever its type. containerd creates
            // its directory, then removes the file it names (an error other than "not found"
            // fails the unpack: a name too long for Linux).
            // Once the layer has symbolic links, not measured: overlayfs makes the whiteout at the
            // resolved path, while the first layer's removal goes by its directory where the
            // whole path is too long (Go's RemoveAll), so no one length decides (adversarial
            // passes 37 and 38).
            if !self.tree.follows_links() {
                self.path_limits(
                    &[dir, original].concat(),
                    None,
                    "the file its whiteout removes",
                );
            }
            return None;
        }
        if !matches!(typ, b'0'..=b'6' | b'g') {
            self.fail(format!(
                "entry {n} (`{}`) has tar header type {typ} (`{}`), which containerd does not unpack (\"unhandled tar header type\")",
                shown(),
                (typ as char).escape_default()
            ));
            return None;
        }
        created.then_some(rooted)
    }

    /// What Linux refuses, on any file system, when containerd creates an entry (`createTarFile`):
    /// a name component over 255 bytes or a whole name too long for a path (ENAMETOOLONG), a
    /// symbolic link to nothing (ENOENT) or to a target of 4096 bytes or more (ENAMETOOLONG), a hard
    /// link whose target is a directory by the form of its name (EPERM), an extended attribute the
    /// kernel refuses ([`xattr_refused`]).
    fn created_checks(
        &mut self,
        typ: u8,
        name: &[u8],
        rooted: &[u8],
        linkname: &[u8],
        records: &Records,
    ) {
        let n = self.headers;
        let shown = |b: &[u8]| {
            let s: String = String::from_utf8_lossy(b).chars().take(80).collect();
            s.escape_default().to_string()
        };
        match typ {
            b'2' if linkname.is_empty() => {
                return self.fail(format!(
                    "entry {n} (`{}`) is a symbolic link to an empty target, which Linux refuses (ENOENT)",
                    shown(name)
                ))
            }
            b'2' if linkname.len() >= 4096 => {
                return self.fail(format!(
                    "entry {n} (`{}`) is a symbolic link whose target is {} bytes, more than the 4095 Linux allows (ENAMETOOLONG)",
                    shown(name),
                    linkname.len()
                ))
            }
            // containerd's `hardlinkRootPath` resolves the link name under its directory: an
            // empty name, a last component `..`, or a name that cleans to the top is a directory
            // (`f/` or `f/.` is `f`, which may be a file: not judged).
            b'1' => {
                // Once the layer has symbolic links, the replay resolves the link name (a `..`
                // after a link leads elsewhere than written), and measures the target there,
                // after containerd removed what was at the entry's path.
                let as_written = !self.tree.follows_links();
                let last = linkname.rsplit(|&b| b == b'/').next().unwrap_or_default();
                let top = go_clean_rooted(linkname) == b"/";
                if linkname.is_empty() || as_written && (last == b".." || top) {
                    return self.fail(format!(
                        "entry {n} (`{}`) is a hard link to `{}`, a directory, which Linux cannot hard-link (EPERM)",
                        shown(name),
                        shown(linkname)
                    ));
                }
                let (over, target) = match (as_written, self.tree.deciding()) {
                    (true, _) => link_walk(linkname, n),
                    (false, true) => (None, Vec::new()),
                    (false, false) => {
                        let (over, _) = link_walk(linkname, n);
                        (over.map(|o| unknown_length(o, LINK_WHAT)), Vec::new())
                    }
                };
                if !self.within(over) {
                    return;
                }
                // containerd removes what is at the entry's path, then links to the target: a
                // link to its own path names nothing (ENOENT).
                if target == rooted {
                    return self.fail(format!(
                        "entry {n} (`{}`) is a hard link to itself, which names nothing once containerd makes room for it (ENOENT)",
                        shown(name)
                    ));
                }
            }
            _ => {}
        }
        // A hard link's attributes go to the file it names, whose type the layer may not tell.
        let reg_dir_refused = records.get(XATTR_REFUSED_REG_DIR);
        if let (b'1', None, Some(why)) = (typ, records.get(XATTR_REFUSED), reg_dir_refused) {
            self.unchecked = Some(format!(
                "entry {n} (`{}`) is a hard link with an {}, refused on a regular file or directory only: whether the unpack fails depends on the file it names; the rest of the archive was not walked",
                shown(name),
                String::from_utf8_lossy(why)
            ));
            self.state = State::Done;
            return;
        }
        let reg_dir = matches!(typ, b'0' | b'5');
        let refused = records
            .get(XATTR_REFUSED)
            .or(reg_dir_refused.filter(|_| reg_dir));
        if let Some(why) = refused {
            self.fail(format!(
                "entry {n} (`{}`): its {}; containerd fails the unpack",
                shown(name),
                String::from_utf8_lossy(why)
            ));
        }
    }

    /// The entry, passed by the checks of its own, replayed on the names the layer made so far
    /// ([`Tree`]): what fails there fails the layer.
    fn replay(&mut self, typ: u8, name: &[u8], linkname: &[u8]) {
        let upper_deciding = self.upper.as_ref().is_some_and(|u| u.deciding());
        if matches!(self.state, State::Done) || !(self.tree.deciding() || upper_deciding) {
            return;
        }
        // containerd cleans the name (`filepath.Clean`, relative as written) and resolves it; one
        // that resolves to the top (only `.` and `..` in it) is skipped.
        let cleaned = go_clean(name);
        let top = |c: &[u8]| matches!(c, b"" | b"." | b"..");
        if cleaned.split(|&b| b == b'/').all(top) {
            return;
        }
        // Whiteouts are unpacked one way in the image's first layer and another above it: from
        // the first one, the layer is replayed both ways.
        if self.upper.is_none() && split(&cleaned).1.starts_with(b".wh.") {
            self.upper = Some(Box::new(self.tree.marking()));
        }
        let n = self.headers;
        let says = |r: Refusal| {
            format!(
                "entry {n} (`{}`): {}",
                shown(name),
                entry_refused(r, typ, linkname)
            )
        };
        let first = match self.as_first {
            None => self.tree.entry(typ, &cleaned, linkname).err().map(says),
            Some(_) => None,
        };
        let made = self.tree.link_target_made();
        if let (Some(target), None) = (made, &first) {
            if !self.within(path_over(&target, LINK_WHAT, n)) {
                return;
            }
        }
        let Some(upper) = &mut self.upper else {
            if let Some(why) = first {
                self.fail(why);
            }
            return;
        };
        let above = match self.as_upper {
            None => upper.entry(typ, &cleaned, linkname).err().map(says),
            Some(_) => None,
        };
        self.placed(first, above);
    }

    /// Records why the layer fails as the image's first layer and above it (the first reason of
    /// each is kept); failing in both places, it fails wherever it is.
    fn placed(&mut self, first: Option<String>, above: Option<String>) {
        self.as_first = self.as_first.take().or(first);
        self.as_upper = self.as_upper.take().or(above);
        if let (Some(first), Some(upper)) = (&self.as_first, &self.as_upper) {
            let why = if first == upper {
                first.clone()
            } else {
                format!("as the image's first layer, {first}; as a layer above it, {upper}")
            };
            self.fail(why);
        }
    }

    /// Why the runtime fails the layer only as the image's first layer (which containerd unpacks
    /// into an empty directory, whiteouts removing what they name), after [`TarCheck::finish`].
    pub fn fails_as_first(&self) -> Option<&str> {
        self.as_first.as_deref().filter(|_| self.error.is_none())
    }

    /// Why it fails only above the first layer (containerd's overlayfs snapshotter unpacks such a
    /// layer into a directory of its own, whiteouts made devices there).
    pub fn fails_as_upper(&self) -> Option<&str> {
        self.as_upper.as_deref().filter(|_| self.error.is_none())
    }

    /// Linux's limits on a path containerd uses (`cleaned`, under its unpack directory): each
    /// component at most 255 bytes (ENAMETOOLONG on every file system containerd unpacks to), the
    /// whole under 4096 bytes with the directory in front. Once the layer has made a symbolic
    /// link, the path measured is where `resolve` (a directory part and a last name) leads, as the
    /// kernel sees it. `false` when the walk stops here (the layer fails, or, for a length that
    /// depends on that directory or on links the replay does not follow, is undecided).
    fn path_limits(&mut self, cleaned: &[u8], resolve: Option<(&[u8], &[u8])>, what: &str) -> bool {
        let resolved = match resolve {
            Some((dir, tail)) => self.tree.resolve(dir, tail),
            None => Resolved::AsWritten,
        };
        let over = match resolved {
            Resolved::AsWritten => path_over(cleaned, what, self.headers),
            Resolved::To(path) => path_over(&path, what, self.headers),
            // The replay fails the entry where its resolution fails.
            Resolved::Fails => None,
            Resolved::Unknown => {
                path_over(cleaned, what, self.headers).map(|o| unknown_length(o, what))
            }
        };
        self.within(over)
    }

    /// Acts on a path over Linux's limits: the layer fails, or the walk stops undecided. `false`
    /// when the walk stops here.
    fn within(&mut self, over: Option<Over>) -> bool {
        match over {
            None => true,
            Some(Over::Fails(why)) => {
                self.fail(why);
                false
            }
            Some(Over::Undecided(why)) => {
                self.unchecked = Some(why);
                self.state = State::Done;
                false
            }
        }
    }

    /// Why the walk stopped before the end without a verdict, if it did (the runtime may or may
    /// not unpack what follows).
    pub fn unchecked(&self) -> Option<&str> {
        self.unchecked.as_deref()
    }

    /// Whether the stream, now ended, is an archive the runtime unpacks (`Err`: why not).
    pub fn finish(&mut self) -> Result<(), String> {
        let ended = self.ended();
        if ended.is_ok() && self.unchecked.is_none() {
            // containerd then sets the times of every directory entry.
            let says = |r: Refusal| {
                format!(
                    "at the end of the archive, containerd sets the times of each directory entry: {}",
                    refused(&r)
                )
            };
            let first = match self.as_first {
                None => self.tree.end().err().map(says),
                Some(_) => None,
            };
            let Some(upper) = &mut self.upper else {
                return first.map_or(Ok(()), Err);
            };
            let above = match self.as_upper {
                None => upper.end().err().map(says),
                Some(_) => None,
            };
            self.placed(first, above);
            return self.ended();
        }
        ended
    }

    /// Whether the stream, now ended, ends where Go's reader ends an archive (`Err`: why not).
    fn ended(&self) -> Result<(), String> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        match &self.state {
            State::Done => Ok(()),
            State::SparseExt(_) => Err(
                "unexpected EOF: the stream ends inside an old GNU sparse entry's extension blocks"
                    .into(),
            ),
            State::Header { .. } if self.block.is_empty() => Ok(()),
            State::Header { .. } => Err(format!(
                "unexpected EOF: the stream ends inside a tar header ({} of {BLOCK} bytes)",
                self.block.len()
            )),
            // Inside the padding after an entry's data: Go's reader reads the end of the archive.
            State::Body { left: 0, .. } => Ok(()),
            State::Body { .. } => Err(format!(
                "unexpected EOF: the stream ends inside the data of header {}",
                self.headers
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
        if matches!(t, b'1' | b'2') {
            h[157..163].copy_from_slice(b"target");
        }
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

    /// Adversarial pass 30: entries Linux refuses to create on any file system passed.
    #[test]
    fn what_linux_refuses_to_create_is_refused() {
        let end = [0u8; 1024];
        let arch = |parts: &[Vec<u8>]| [parts.concat(), end.to_vec()].concat();
        let fails = |bytes: Vec<u8>, needle: &str| {
            for chunk in [1, 100, 4096] {
                let e = check(&bytes, chunk).unwrap_err();
                assert!(e.contains(needle), "{needle}: {e}");
            }
        };
        let passes = |bytes: Vec<u8>| {
            for chunk in [1, 100, 4096] {
                check(&bytes, chunk).unwrap();
            }
        };
        let file = || header("f", 0, b'0');
        // Extended attributes: the kernel's limits.
        let long_name = format!("SCHILY.xattr.user.{}=v", "n".repeat(251));
        let big_value = format!("SCHILY.xattr.user.big={}", "v".repeat(65537));
        for (kv, needle) in [
            ("SCHILY.xattr.=v", "ERANGE"),
            (long_name.as_str(), "ERANGE"),
            (big_value.as_str(), "E2BIG"),
            ("SCHILY.xattr.user.=v", "EINVAL"),
            ("SCHILY.xattr.security.=v", "EINVAL"),
            ("SCHILY.xattr.security.capability=garbage", "revision 2"),
        ] {
            fails(arch(&[pax(kv), file()]), needle);
            fails(arch(&[pax(kv), header("d/", 0, b'5')]), needle);
        }
        // What Linux or containerd lets through: a user attribute on a symlink (EPERM, ignored),
        // other namespaces (ENOTSUP, ignored), trusted (skipped), a 64 KiB value, a 255-byte name,
        // good capabilities (revision 2), a record on a whiteout or a `g` header, and a bad
        // record replaced by a later one of the same name.
        let max_name = format!("SCHILY.xattr.user.{}=v", "n".repeat(250));
        let max_value = format!("SCHILY.xattr.user.big={}", "v".repeat(65536));
        let mut cap = vec![0u8; 20];
        cap[3] = 2;
        let cap = format!(
            "SCHILY.xattr.security.capability={}",
            String::from_utf8(cap).unwrap()
        );
        for kv in [
            "SCHILY.xattr.foo.bar=v",
            "SCHILY.xattr.trusted.=v",
            "SCHILY.xattr.user.ok=",
            "SCHILY.xattr.security.capability=",
            max_name.as_str(),
            max_value.as_str(),
            cap.as_str(),
        ] {
            passes(arch(&[pax(kv), file()]));
        }
        passes(arch(&[pax("SCHILY.xattr.user.=v"), header("l", 0, b'2')]));
        passes(arch(&[pax("SCHILY.xattr.=v"), header(".wh.gone", 0, b'0')]));
        passes(arch(&[meta(b'g', &records(&["SCHILY.xattr.=v"])), file()]));
        passes(arch(&[
            meta(
                b'x',
                &records(&["SCHILY.xattr.user.x=", "SCHILY.xattr.user.x=v"]),
            ),
            file(),
        ]));
        fails(
            arch(&[
                meta(
                    b'x',
                    &records(&["SCHILY.xattr.user.x=v", "SCHILY.xattr.=v"]),
                ),
                file(),
            ]),
            "ERANGE",
        );
        // Symbolic links: an empty target, a target of 4096 bytes (4095 passes).
        fails(
            arch(&[with(header("l", 0, b'2'), 157, &[0; 6])]),
            "empty target",
        );
        for (n, ok) in [(4095, true), (4096, false)] {
            let target = format!("linkpath={}", "t".repeat(n));
            let bytes = arch(&[pax(&target), header("l", 0, b'2')]);
            if ok {
                passes(bytes);
            } else {
                fails(bytes, "ENAMETOOLONG");
            }
        }
        // A GNU long link name is the target too.
        let mut long_link = header("././@LongLink", 4097, b'K');
        long_link.extend_from_slice(&[b't'; 4097]);
        long_link.resize(long_link.len().div_ceil(BLOCK) * BLOCK, 0);
        fails(arch(&[long_link, header("l", 0, b'2')]), "ENAMETOOLONG");
        // Hard links to a directory (pass 32: `f/` and `f/.` name `f`, which may be a file).
        let link_to = |target: &[u8]| {
            let mut field = target.to_vec();
            field.resize(8, 0);
            let (f, dir) = (entry("f", b"1"), entry("dir", b"1"));
            arch(&[f, dir, with(header("h", 0, b'1'), 157, &field)])
        };
        for target in [&b""[..], b".", b"./", b"/", b"..", b"a/..", b"d/f/.."] {
            fails(link_to(target), "EPERM");
        }
        for target in [&b"f/"[..], b"f/.", b"./f", b"../f", b"dir/"] {
            passes(link_to(target));
        }
        // A `user.` attribute alone on a hard link: refused on a file or directory, ignored on
        // anything else, and the layer may not say what the link names.
        let mut t = TarCheck::default();
        t.write(&arch(&[pax("SCHILY.xattr.user.=v"), header("h", 0, b'1')]));
        assert!(t.finish().is_ok() && t.unchecked().unwrap().contains("hard link"));
        // File capabilities: the effective flag (bit 0) is the only flag (pass 32).
        for (len, magic, ok) in [
            (20, 0x0200_0001u32, true),
            (24, 0x0300_0001, true),
            (20, 0x0200_0002, false),
            (20, 0x0200_ff00, false),
            (24, 0x0300_0004, false),
        ] {
            let mut v = vec![b'a'; len];
            v[..4].copy_from_slice(&magic.to_le_bytes());
            let kv = [&b"SCHILY.xattr.security.capability="[..], &v].concat();
            let bytes = arch(&[meta(b'x', &raw_record(&kv)), file()]);
            if ok {
                passes(bytes);
            } else {
                fails(bytes, "revision 2");
            }
        }
        // Revision 3 with root user ID -1 (pass 33).
        let mut v3 = vec![0u8; 24];
        v3[..4].copy_from_slice(&0x0300_0000u32.to_le_bytes());
        v3[20..].copy_from_slice(&[0xff; 4]);
        let kv = [&b"SCHILY.xattr.security.capability="[..], &v3].concat();
        fails(
            arch(&[meta(b'x', &raw_record(&kv)), file()]),
            "root user ID",
        );
        v3[20..].copy_from_slice(&[0xfe, 0xff, 0xff, 0xff]);
        let kv = [&b"SCHILY.xattr.security.capability="[..], &v3].concat();
        passes(arch(&[meta(b'x', &raw_record(&kv)), file()]));
        // A hard link's target is walked raw (pass 33): a long component or prefix removed by a
        // later `..` still fails; a link to itself names nothing.
        let link = |target: String| {
            arch(&[
                entry("f", b"1"),
                pax(&format!("linkpath={target}")),
                header("h", 0, b'1'),
            ])
        };
        fails(link(format!("{}/../f", "a".repeat(256))), "255");
        fails(link(format!("../{}/../f", "a".repeat(300))), "255");
        fails(
            link(format!("{}{}f", "d/".repeat(2100), "../".repeat(2100))),
            "4095",
        );
        passes(link(format!("{}/../f", "a".repeat(255))));
        // Under a directory that may not exist yet, Linux says "not found" before it measures a
        // component, and the walk goes on (pass 34): undecided; as the target itself, it fails.
        let mut t = TarCheck::default();
        t.write(&link(format!("nope/{}/../../f", "a".repeat(300))));
        assert!(t.finish().is_ok() && t.unchecked().unwrap().contains("under `nope`"));
        fails(link(format!("nope/{}", "a".repeat(300))), "255");
        passes(link(format!(
            "{}{}f",
            "d/".repeat(1000),
            "../".repeat(1000)
        )));
        fails(
            arch(&[
                entry("f", b"1"),
                pax("linkpath=x/../f"),
                header("f", 0, b'1'),
            ]),
            "itself",
        );
        // A name of 4094 bytes or more fails even where its directory alone is undecided.
        fails(
            arch(&[
                pax(&format!(
                    "path={}/{}",
                    "d/".repeat(1990).trim_end_matches('/'),
                    "n".repeat(120)
                )),
                file(),
            ]),
            "its name",
        );
        // Leading `..` stay at the top (`fs.RootPath`): not counted in a name's length.
        passes(arch(&[
            pax(&format!("path={}f", "../".repeat(1400))),
            file(),
        ]));
        // Every entry's directory is created, also for an opaque whiteout and a `g` header.
        for (name, needle) in [(".wh..wh..opq", "its directory"), ("g", "its name")] {
            fails(
                arch(&[pax(&format!("path={}/{name}", "a".repeat(300))), file()]),
                needle,
            );
        }
        fails(
            arch(&[meta(
                b'g',
                &records(&[&format!("path={}/g", "a".repeat(300))]),
            )]),
            "its directory",
        );
        // Names: a component over 255 bytes, a whole name too long for any unpack directory,
        // and one whose fate depends on that directory (undecided).
        fails(
            arch(&[pax(&format!("path=d/{}", "c".repeat(256))), file()]),
            "255",
        );
        passes(arch(&[pax(&format!("path=d/{}", "c".repeat(255))), file()]));
        // A whiteout is not created, but the file it removes is looked up (its own name may be
        // longer than 255 bytes, the name it removes may not).
        passes(arch(&[
            pax(&format!("path=d/.wh.{}", "c".repeat(253))),
            file(),
        ]));
        fails(
            arch(&[pax(&format!("path=d/.wh.{}", "c".repeat(256))), file()]),
            "the file its whiteout removes",
        );
        fails(
            arch(&[pax(&format!("path={}/.wh.x", "c".repeat(256))), file()]),
            "255",
        );
        let deep = |len: usize| {
            let mut p = "d/".repeat(len / 2);
            p.truncate(len);
            format!("path={p}x")
        };
        fails(arch(&[pax(&deep(4100)), file()]), "4095");
        passes(arch(&[pax(&deep(3500)), file()]));
        let mut t = TarCheck::default();
        t.write(&arch(&[pax(&deep(4000)), file()]));
        assert!(t.finish().is_ok() && t.unchecked().unwrap().contains("depends"));
    }

    /// What the entries of one layer do to one another as containerd unpacks them
    /// (`fstree`): hard links to nothing or to a directory, entries under a file.
    #[test]
    fn entries_meet_as_containerd_unpacks_them() {
        let end = [0u8; 1024];
        let arch = |parts: &[Vec<u8>]| [parts.concat(), end.to_vec()].concat();
        let t = |name: &str, typ: u8| header(name, 0, typ);
        let link = |name: &str, target: &str| {
            [pax(&format!("linkpath={target}")), header(name, 0, b'1')].concat()
        };
        let symlink = |name: &str, target: &str| {
            [pax(&format!("linkpath={target}")), header(name, 0, b'2')].concat()
        };
        let run = |parts: &[Vec<u8>]| {
            let bytes = arch(parts);
            let mut last = None;
            for chunk in [1, 100, 4096] {
                let mut c = TarCheck::default();
                for piece in bytes.chunks(chunk) {
                    c.write(piece);
                }
                let got = (
                    c.finish(),
                    c.tree.lost(),
                    c.fails_as_first().map(str::to_string),
                    c.fails_as_upper().map(str::to_string),
                );
                if let Some(prev) = &last {
                    assert_eq!(prev, &got, "chunk {chunk}");
                }
                last = Some(got);
            }
            last.expect("three runs")
        };
        let fails = |parts: &[Vec<u8>], needle: &str| {
            let (r, ..) = run(parts);
            let e = r.expect_err(&format!(
                "{needle} in {}",
                String::from_utf8_lossy(&parts.concat()).replace('\0', "")
            ));
            assert!(e.contains(needle), "{needle}: {e}");
        };
        let passes = |parts: &[Vec<u8>]| {
            let (r, lost, first, upper) = run(parts);
            r.unwrap();
            assert_eq!((lost, first, upper), (None, None, None));
        };
        let undecided_here = |parts: &[Vec<u8>], why: &str| {
            let (r, lost, first, upper) = run(parts);
            r.unwrap();
            assert!(lost.unwrap().contains(why), "{why}: {lost:?}");
            assert_eq!((first, upper), (None, None));
        };
        // Fails in one place of an image only: as its first layer (`Some` needle) or above it.
        let fails_placed = |parts: &[Vec<u8>], as_first: Option<&str>, above: Option<&str>| {
            let (r, _, first, upper) = run(parts);
            r.unwrap();
            for (got, want) in [(first, as_first), (upper, above)] {
                match (got, want) {
                    (Some(g), Some(w)) => assert!(g.contains(w), "{w}: {g}"),
                    (g, w) => assert_eq!((g.is_some(), w.is_some()), (false, false), "{g:?} {w:?}"),
                }
            }
        };
        let f = || entry("f", b"1");
        // Hard links the runtime makes: to an earlier file, through `..`, to a symlink, by the
        // forms that name a file; a directory made again and again; a file made a directory.
        passes(&[f(), link("h", "f")]);
        passes(&[
            f(),
            link("h", "a/../f"),
            link("h2", "nope/x/../../f"),
            link("h3", "f/."),
        ]);
        passes(&[
            f(),
            link("h", "f/"),
            link("h2", "/f"),
            link("h3", "../../f"),
        ]);
        passes(&[symlink("s", "nowhere"), link("h", "s")]);
        passes(&[
            t("d/", b'5'),
            t("d/", b'5'),
            entry("d/x", b"1"),
            link("d/y", "d/x"),
        ]);
        passes(&[f(), t("f/", b'5'), entry("f/x", b"1"), link("g", "f/x")]);
        passes(&[
            t("d/", b'5'),
            entry("d/f", b"1"),
            f(),
            t("d", b'0'),
            t("d/", b'5'),
            entry("d/f/x", b""),
        ]);
        passes(&[entry("a/b/c", b""), link("h", "a/b/c"), link("h2", "h")]);
        // A hard link to nothing this layer made (before it), to a directory, through a file.
        fails(&[link("h", "f")], "ENOENT");
        fails(&[link("h", "f"), f()], "ENOENT");
        fails(&[entry("a/b", b""), link("h", "a/c")], "ENOENT");
        fails(&[link("h", "nope/")], "ENOENT");
        for target in ["d", "d/", "d/.", "a/../d", "e", "/d/e/../"] {
            fails(
                &[t("d/", b'5'), entry("e/f", b""), link("h", target)],
                "EPERM",
            );
        }
        fails(&[f(), link("h", "f/x/../../f")], "ENOTDIR");
        fails(&[f(), link("h", "f/x")], "through `/f`");
        // A removed directory takes its entries with it.
        fails(
            &[
                t("d/", b'5'),
                entry("d/f", b""),
                t("d", b'0'),
                link("h", "d/f"),
            ],
            "ENOTDIR",
        );
        fails(
            &[
                t("d/", b'5'),
                entry("d/f", b""),
                t("d", b'0'),
                t("d/", b'5'),
                link("h", "d/f"),
            ],
            "ENOENT",
        );
        // A directory made a file: what the walk cached of it is gone too.
        fails(
            &[entry("d/a", b""), t("d", b'0'), entry("d/b", b"")],
            "passes through `/d`",
        );
        // A global header removes what is at its name (and makes nothing).
        fails(
            &[f(), meta(b'g', rec("path=f").as_bytes()), link("h", "f")],
            "ENOENT",
        );
        // An entry under a file (or device, FIFO) an earlier entry made.
        fails(&[f(), entry("f/x", b"")], "passes through `/f`");
        fails(&[f(), t("f/a/b/", b'5')], "ENOTDIR");
        fails(&[t("d/f", b'6'), link("d/f/h", "x")], "ENOTDIR");
        fails(&[f(), t("f/.wh.x", b'0')], "ENOTDIR");
        // An opaque marker before the directory holds anything: both snapshotters agree.
        fails(
            &[
                t("d/", b'5'),
                t("d/.wh..wh..opq", b'0'),
                entry("d/f", b""),
                entry("d/f/x", b""),
            ],
            "ENOTDIR",
        );
        // Where the replay stops deciding (the rest of the layer is judged by the other checks).
        // Symbolic links on the way are followed inside the unpack directory, as `fs.RootPath`
        // follows them, at most 255.
        let d = || t("d/", b'5');
        passes(&[d(), symlink("s", "d"), entry("s/x", b""), link("h", "s/x")]);
        passes(&[symlink("s", "/d"), entry("s/x", b""), link("h", "d/x")]);
        passes(&[
            symlink("s", "../../d"),
            entry("s/x", b""),
            link("h", "/d/x"),
        ]);
        passes(&[
            symlink("s", "nowhere"),
            entry("s/x", b""),
            link("h", "nowhere/x"),
        ]);
        passes(&[
            d(),
            symlink("s", "d"),
            link("h", "s"),
            entry("h/x", b""),
            link("g", "d/x"),
        ]);
        passes(&[f(), d(), symlink("d", "f")]);
        fails(
            &[symlink("s", "f"), f(), entry("s/x", b"")],
            "passes through `/f`",
        );
        fails(
            &[symlink("a", "b"), symlink("b", "a"), entry("a/x", b"")],
            "too many links",
        );
        fails(&[symlink("s", "s"), link("h", "s/x")], "too many links");
        fails(&[d(), symlink("d/s", "/"), link("h", "d/s/x")], "ENOENT");
        // A relative name is resolved as written: a link at the top is followed before a `..`
        // after it applies (adversarial pass 37), also once the names it met are made later.
        let abx = || symlink("x", "a/b");
        passes(&[
            abx(),
            symlink("s", "x/../t"),
            entry("s/g", b""),
            link("h", "a/t/g"),
        ]);
        fails(
            &[
                f(),
                symlink("x", "f/z"),
                symlink("s", "x/../t"),
                entry("s/g", b""),
            ],
            "ENOTDIR",
        );
        passes(&[d(), t("a/t/", b'5'), abx(), symlink("d", "x/../t")]);
        fails(
            &[d(), t("t/", b'5'), abx(), symlink("d", "x/../t")],
            "`d` names nothing",
        );
        passes(&[
            symlink("s", "/x/../t"),
            entry("s/f", b""),
            abx(),
            entry("s/g", b""),
            link("h", "a/t/g"),
        ]);
        // Path limits are measured where the name resolves, once the layer has symbolic links.
        let x255 = "X".repeat(255);
        let long = format!("{}f", format!("{x255}/").repeat(16));
        let named = |kvs: &[&str], h: Vec<u8>| [meta(b'x', records(kvs).as_slice()), h].concat();
        let to_dot = || named(&[&format!("path={x255}"), "linkpath=."], t("l", b'2'));
        passes(&[to_dot(), named(&[&format!("path={long}")], t("n", b'0'))]);
        passes(&[
            f(),
            to_dot(),
            named(&[&format!("linkpath={long}")], t("h", b'1')),
        ]);
        fails(
            &[named(&[&format!("path={long}")], t("n", b'0'))],
            "4097 bytes",
        );
        let far = format!("linkpath={}", format!("{}/", "T".repeat(250)).repeat(12));
        let u = |n: usize| format!("{}/", "U".repeat(250)).repeat(n);
        let (grown, grown5) = (format!("path=l/{}f", u(1)), format!("path=l/{}f", u(5)));
        passes(&[named(&[&far], t("l", b'2')), named(&[&grown], t("n", b'0'))]);
        fails(
            &[
                named(&[&far], t("l", b'2')),
                named(&[&grown5], t("n", b'0')),
            ],
            "longer than the 4095 bytes",
        );
        // Adversarial pass 38: a hard link's name is judged where it resolves, after containerd
        // removed what was at the entry's path; a whiteout's target is measured as written.
        let fz = || symlink("x", "f/z");
        passes(&[
            f(),
            fz(),
            link("h", "x/../."),
            link("h2", "x/../"),
            link("h3", "/x/../."),
        ]);
        fails(&[f(), fz(), link("h", "x/..")], "ENOTDIR");
        let p = || symlink("p", "t");
        undecided_here(
            &[
                entry("t/q/f", b""),
                p(),
                symlink("x", "p/q/r"),
                link("f", "x/../f"),
            ],
            "symbolic link",
        );
        let a4000 = format!("linkpath={}b", format!("{}/", "a".repeat(249)).repeat(16));
        passes(&[f(), named(&[&a4000], t("s", b'2')), link("s", "s/../f")]);
        let t3500 = format!("linkpath={}", format!("{}/", "T".repeat(249)).repeat(14));
        let wh200 = format!("path=s/.wh.{}", "W".repeat(200));
        passes(&[
            named(&[&t3500], t("s", b'2')),
            named(&[&wh200], t("w", b'0')),
        ]);
        let wh_long = format!("path={}.wh.f", format!("{x255}/").repeat(16));
        passes(&[to_dot(), named(&[&wh_long], t("w", b'0'))]);
        // A very long name behind a symbolic link: the work is bounded (the replay stops, and the
        // name's length, over the limits as written, is undecided).
        let mut c = TarCheck::default();
        let deep = format!("path={}f", "m/".repeat(20_000));
        c.write(&arch(&[symlink("s", "d"), named(&[&deep], t("n", b'0'))]));
        assert!(c.finish().is_ok() && c.unchecked().unwrap().contains("symbolic links"));
        // containerd sets every directory entry's times at the end, its name resolved again.
        fails(&[d(), symlink("d", "nowhere")], "`d` names nothing");
        fails(&[d(), symlink("d", "d")], "too many links");
        // Whiteouts: the first layer's unpack removes what they name; above it, overlayfs makes
        // each a device at that name (`ctr` under both snapshotters, adversarial pass 36).
        let wh = |name: &str| t(name, b'0');
        fails_placed(&[f(), wh(".wh.f")], None, Some("file exists"));
        fails_placed(
            &[f(), wh(".wh.f"), entry("f/x", b"")],
            None,
            Some("file exists"),
        );
        fails_placed(
            &[d(), wh("d/.wh.x"), entry("d/x/y", b"")],
            None,
            Some("ENOTDIR"),
        );
        fails_placed(&[entry("d/x", b""), wh(".wh.d")], None, Some("file exists"));
        fails_placed(&[wh(".wh.d"), entry("d/new", b"")], None, Some("ENOTDIR"));
        fails_placed(&[wh(".wh.f"), link("h", "f")], Some("ENOENT"), None);
        passes(&[wh(".wh.f"), entry("f", b""), entry("g", b"")]);
        fails(
            &[d(), entry("d/f", b""), wh(".wh.d")],
            "as the image's first layer",
        );
        fails(&[f(), wh(".wh.f"), link("h", "f")], "ENOENT");
        // Opaque markers: above the first layer, an attribute; in it, decided only while the
        // directory holds nothing.
        undecided_here(&[f(), wh(".wh..wh..opq"), link("h", "f")], "opaque");
        undecided_here(
            &[
                d(),
                entry("d/f", b""),
                wh("d/.wh..wh..opq"),
                link("h", "d/f"),
            ],
            "opaque",
        );
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
        for t in [b'7', b'V'] {
            fails(arch(&[header("f", 0, t)]), "unhandled tar header type");
        }
        // An old GNU sparse entry needs the GNU format (Go), and is never created (containerd).
        fails(arch(&[header("f", 0, b'S')]), "without the GNU format");
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

    /// Asserts that the walk refuses `bytes`, fed in pieces of several sizes.
    fn refused(bytes: Vec<u8>, case: &str) {
        for chunk in [1, 100, 4096] {
            assert!(
                check(&bytes, chunk).is_err(),
                "{case} passed (chunk {chunk})"
            );
        }
    }

    /// Asserts that the walk reads `bytes` to the end, fed in pieces of several sizes.
    fn read(bytes: Vec<u8>, case: &str) {
        for chunk in [1, 100, 4096] {
            if let Err(e) = check(&bytes, chunk) {
                panic!("{case} refused (chunk {chunk}): {e}");
            }
        }
    }

    /// A meta header of type `t` whose body is `body`, padded.
    fn meta(t: u8, body: &[u8]) -> Vec<u8> {
        let mut v = header("meta", body.len() as u64, t);
        v.extend_from_slice(body);
        v.resize(v.len().div_ceil(BLOCK) * BLOCK, 0);
        v
    }

    /// One PAX record of raw bytes (`key=value`), its length prefix computed.
    fn raw_record(kv: &[u8]) -> Vec<u8> {
        let mut n = kv.len() + 3;
        while format!("{n} ").len() + kv.len() + 1 != n {
            n += 1;
        }
        [format!("{n} ").as_bytes(), kv, b"\n"].concat()
    }

    fn records(kvs: &[&str]) -> Vec<u8> {
        kvs.iter()
            .map(|kv| rec(kv))
            .collect::<String>()
            .into_bytes()
    }

    /// Go's `Reader.Next` (1.19) as adversarial pass 25 compared it with containerd 1.6.20: each
    /// archive here was unpacked by `ctr images pull`, or refused by it, as asserted.
    #[test]
    fn meta_headers_and_names_follow_gos_next() {
        let end = vec![0u8; 1024];
        let arch = |parts: &[Vec<u8>]| [parts.concat(), end.clone()].concat();
        let junk = vec![b'J'; BLOCK];
        let pax_size = meta(b'x', &records(&["size=1024"]));
        // A PAX size applies to the next entry, not to the meta header after it.
        refused(
            arch(&[
                pax_size.clone(),
                header("g", 0, b'g'),
                vec![b'J'; 1024],
                header("f", 0, b'0'),
            ]),
            "x size then g",
        );
        refused(
            arch(&[
                pax_size.clone(),
                meta(b'L', b"a/long/name\0"),
                junk.clone(),
                header("f", 0, b'0'),
            ]),
            "x size then L",
        );
        let mut as_records = records(&["mtime=1"]);
        as_records.resize(1024, b'\n');
        refused(
            arch(&[pax_size.clone(), header("x", 0, b'x'), as_records]),
            "x size then x",
        );
        // A `g` body is parsed, and a `g` is an entry named by its header or its `path`.
        refused(
            arch(&[meta(b'g', b"garbage without a length\n")]),
            "g records",
        );
        refused(arch(&[header(".wh..", 0, b'g')]), "g named .wh..");
        refused(
            arch(&[meta(b'g', &records(&["path=a/.wh.."]))]),
            "g path .wh..",
        );
        // A NUL type with a trailing slash is a directory: no data.
        refused(
            arch(&[header("d/", 512, 0), junk.clone()]),
            "old-style directory with a size",
        );
        refused(
            arch(&[
                meta(b'x', &records(&["path=d/"])),
                header("f", 512, 0),
                junk.clone(),
            ]),
            "PAX path with a slash, NUL type",
        );
        read(
            arch(&[header("d/", 512, b'0'), junk.clone()]),
            "regular file named d/",
        );
        // Base-256 values over 63 bits; a STAR header's times.
        let big = [0x80, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0];
        refused(
            arch(&[with(header("f", 0, b'0'), 136, &big)]),
            "mtime bit 63",
        );
        refused(
            arch(&[with(header("d", 0, b'5'), 124, &big)]),
            "size bit 63",
        );
        let star = with(header("f", 0, b'0'), 508, b"tar\0");
        read(arch(std::slice::from_ref(&star)), "STAR header");
        refused(arch(&[with(star, 476, b"notanumber!")]), "STAR atime");
        // Whiteouts judged after filepath.Clean.
        refused(arch(&[header("a/.wh../b/..", 0, b'0')]), "a/.wh../b/..");
        refused(arch(&[header("a/.wh./.", 0, b'0')]), "a/.wh./.");
        // Which name Go uses: empty long names and PAX paths are skipped, the long name wins over
        // the PAX path, each `x` replaces the last, a `g` ends what came before it.
        refused(
            arch(&[meta(b'L', b"\0"), header(".wh..", 0, b'0')]),
            "empty L",
        );
        refused(
            arch(&[meta(b'x', &records(&["path="])), header(".wh..", 0, b'0')]),
            "empty PAX path",
        );
        refused(
            arch(&[
                meta(b'L', b"d/.wh..\0"),
                meta(b'x', &records(&["path=ok"])),
                header("f", 0, b'0'),
            ]),
            "L then x path",
        );
        refused(
            arch(&[
                meta(b'x', &records(&["path=ok"])),
                header("x", 0, b'x'),
                header(".wh..", 0, b'0'),
            ]),
            "x path then empty x",
        );
        refused(
            arch(&[
                meta(b'x', &records(&["path=ok"])),
                header("g", 0, b'g'),
                header(".wh..", 0, b'0'),
            ]),
            "x path then g",
        );
        // An old Go archive: a GNU header whose atime does not parse holds the name's prefix.
        let mut gnu = header("", 0, b'0');
        gnu[257..265].copy_from_slice(b"ustar  \0");
        refused(arch(&[with(gnu, 345, b"zz/.wh..")]), "GNU prefix fallback");
        // GNU sparse keys that do not make a sparse file; records out of order.
        refused(
            arch(&[
                meta(b'x', &records(&["GNU.sparse.foo=1"])),
                entry("f", b"1"),
                junk.clone(),
            ]),
            "GNU.sparse.foo",
        );
        refused(
            arch(&[
                meta(b'x', &records(&["GNU.sparse.numbytes=1"])),
                header("f", 0, b'0'),
            ]),
            "sparse numbytes first",
        );
        // What Go reads that the walk refused (false fails of pass 25).
        for kv in ["size=", "mtime=", "uid="] {
            read(arch(&[meta(b'x', &records(&[kv])), entry("f", b"12")]), kv);
        }
        read(
            arch(&[
                meta(b'x', &records(&["mtime=abc"])),
                header("g", 0, b'g'),
                header("f", 0, b'0'),
            ]),
            "bad x before g",
        );
        read(
            [entry("f", b"1"), meta(b'x', &records(&["mtime=abc"]))].concat(),
            "bad x at the end",
        );
        read(
            arch(&[meta(b'x', &records(&["size=-5"])), header("l", 0, b'2')]),
            "negative PAX size on a symlink",
        );
        read(
            arch(&[with(header("l", 0, b'2'), 124, &[0xff; 12])]),
            "negative size on a symlink",
        );
        read(
            arch(&[with(header("f", 0, b'0'), 100, b"0644\0 7\0")]),
            "NUL inside the mode",
        );
        let mut h = header("f", 0, b'0');
        let field = h[148..156].to_vec();
        let digits = cstr(&field).to_vec();
        h[148..148 + digits.len()].copy_from_slice(&digits);
        h[148 + digits.len()] = 0;
        h[149 + digits.len()..156].fill(b'7');
        read(arch(&[h]), "NUL inside the checksum");
        read(
            arch(&[
                meta(b'x', &records(&["size=2097152"])),
                meta(b'L', b"short\0"),
                header("f", 0, b'2'),
            ]),
            "big PAX size then a short L",
        );
        // A real PAX sparse file stops the walk (its data is laid out differently).
        read(
            arch(&[
                meta(
                    b'x',
                    &records(&["GNU.sparse.major=1", "GNU.sparse.minor=0"]),
                ),
                header("f", 5, b'0'),
                junk,
            ]),
            "PAX sparse 1.0",
        );
    }

    #[test]
    fn names_are_cleaned_as_go_does() {
        for (name, clean) in [
            ("a/b/../c", "a/c"),
            ("./a//b/.", "a/b"),
            ("../../a", "../../a"),
            ("/../a", "/a"),
            ("a/..", "."),
            ("", "."),
            ("/", "/"),
            ("a/.wh../b/..", "a/.wh.."),
        ] {
            assert_eq!(go_clean(name.as_bytes()), clean.as_bytes(), "{name}");
        }
    }

    /// An old GNU sparse header (`S`, GNU magic) for `name`: `realsize`, sparse entries in the
    /// header, and the "extended" flag.
    fn old_sparse(name: &str, real: u64, entries: &[(u64, u64)], extended: bool) -> Vec<u8> {
        let mut h = header(name, 0, b'S');
        h[257..265].copy_from_slice(b"ustar  \0");
        for (i, (o, l)) in entries.iter().enumerate() {
            let at = 386 + 24 * i;
            h[at..at + 11].copy_from_slice(format!("{o:011o}").as_bytes());
            h[at + 12..at + 23].copy_from_slice(format!("{l:011o}").as_bytes());
        }
        h[482] = extended as u8;
        h[483..494].copy_from_slice(format!("{real:011o}").as_bytes());
        with(h, 0, name.as_bytes())
    }

    /// Old GNU sparse entries (`S`) as Go's `readOldGNUSparseMap` reads them, then containerd
    /// (which creates no `S` entry: only a whiteout or an entry resolving to the root passes);
    /// and PAX sparse maps of versions 0.0/0.1 (adversarial pass 28, compared with ctr).
    #[test]
    fn sparse_entries_follow_gos_reader() {
        let end = vec![0u8; 1024];
        let arch = |parts: &[Vec<u8>]| [parts.concat(), end.clone()].concat();
        let zero = vec![0u8; BLOCK];
        let junk = vec![b'J'; BLOCK];
        read(
            arch(&[old_sparse(".wh.foo", 10, &[(0, 5)], false)]),
            "valid S whiteout",
        );
        refused(
            arch(&[old_sparse("foo", 10, &[(0, 5)], false)]),
            "S created",
        );
        // An extension block follows the header (here empty: a zero block), then the archive.
        refused(
            [
                old_sparse(".wh.foo", 0, &[], true),
                zero.clone(),
                zero.clone(),
                junk.clone(),
                end.clone(),
            ]
            .concat(),
            "S extension then one zero block then junk",
        );
        refused(
            [
                old_sparse("./", 0, &[], true),
                zero.clone(),
                zero.clone(),
                junk.clone(),
                end.clone(),
            ]
            .concat(),
            "S at the root, same",
        );
        read(
            arch(&[
                old_sparse(".wh.foo", 0, &[], true),
                zero.clone(),
                entry("f", b"1"),
            ]),
            "S extension then an entry",
        );
        let mut ext = vec![0u8; BLOCK];
        ext[..11].copy_from_slice(b"00000000000");
        ext[12..23].copy_from_slice(b"00000000012");
        ext[24..35].copy_from_slice(b"00000000024");
        ext[36..47].copy_from_slice(b"00000000012");
        read(
            arch(&[
                old_sparse(".wh.foo", 1000, &[], true),
                ext,
                entry("f", b"1"),
            ]),
            "S extension with entries",
        );
        refused(
            arch(&[with(
                old_sparse(".wh.foo", 10, &[(0, 5)], false),
                386,
                b"JJJJJJJJJJJ\0",
            )]),
            "bad sparse offset",
        );
        refused(
            arch(&[with(
                old_sparse("d/.wh..wh..opq", 10, &[(0, 5)], false),
                386,
                b"JJJJJJJJJJJ\0",
            )]),
            "bad sparse offset, opaque marker",
        );
        refused(
            arch(&[with(
                old_sparse(".wh.foo", 10, &[], false),
                483,
                b"zzzzzzzzzzz\0",
            )]),
            "bad realsize",
        );
        let ustar = with(old_sparse(".wh.foo", 10, &[], false), 257, b"ustar\x0000");
        refused(arch(&[ustar]), "S with ustar magic");
        refused(
            arch(&[old_sparse(".wh.foo", 10, &[(100, 100)], false)]),
            "entry past realsize",
        );
        refused(
            old_sparse(".wh.foo", 0, &[], true),
            "cut inside the extension blocks",
        );
        // PAX sparse 0.1: the map must fit, the data must be what it needs; the sparse name
        // names the entry.
        let sparse01 = |map: &str, real: u64| {
            meta(
                b'x',
                &records(&[
                    "GNU.sparse.major=0",
                    "GNU.sparse.minor=1",
                    &format!("GNU.sparse.numblocks={}", map.split(',').count() / 2),
                    &format!("GNU.sparse.map={map}"),
                    &format!("GNU.sparse.size={real}"),
                ]),
            )
        };
        read(
            arch(&[sparse01("0,3,10,2", 20), entry("f", b"12345"), junk.clone()][..2]),
            "PAX 0.1",
        );
        refused(
            arch(&[sparse01("0,3,10,2", 20), entry("f", b"1234")]),
            "PAX 0.1 missing data",
        );
        refused(
            arch(&[sparse01("0,3,10,2", 20), entry("f", b"123456")]),
            "PAX 0.1 unreferenced data",
        );
        refused(
            arch(&[sparse01("0,3,10,20", 20), entry("f", b"12345")]),
            "PAX 0.1 past the size",
        );
        refused(
            arch(&[sparse01("0,3,10,2", 20), entry("f", b"12345"), junk.clone()]),
            "PAX 0.1 then junk",
        );
        refused(
            arch(&[
                meta(
                    b'x',
                    &records(&[
                        "GNU.sparse.major=1",
                        "GNU.sparse.minor=0",
                        "GNU.sparse.name=.wh..",
                    ]),
                ),
                header("f", 0, b'0'),
            ]),
            "PAX sparse name .wh..",
        );
        // Version 1.0 keeps its map in the data, which the walk does not read: no verdict on the
        // rest (undecided for the caller), never a silent pass.
        let mut t = TarCheck::default();
        t.write(&arch(&[
            meta(
                b'x',
                &records(&["GNU.sparse.major=1", "GNU.sparse.minor=0"]),
            ),
            header("f", 0, b'0'),
        ]));
        assert!(t.finish().is_ok());
        assert!(t.unchecked().unwrap().contains("format 1.0"));
    }
}

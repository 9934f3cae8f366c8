//! `--content`: what one layer's entries do to one another when containerd unpacks the layer.
//!
//! containerd's default snapshotter on Linux (overlayfs), like Docker's overlay2, unpacks each
//! layer on its own into an empty directory (`archive.Apply` into the snapshot's upper directory;
//! the first layer into a bind mount of an empty one), so what an entry meets on the file system is
//! what the earlier entries of the same layer made. This module replays those entries as
//! `applyNaive` does, on a tree of names, and reports what fails there:
//! - the entry's directory resolved as `fs.RootPath` resolves it (symbolic links followed inside
//!   the unpack directory, at most 255 of them: "too many links"; a name looked up under a file:
//!   ENOTDIR), then made (`mkparent`: ENOTDIR where it is a file, device or FIFO);
//! - what is at the entry's path removed unless a directory meets a directory, then the entry
//!   made; a hard link's name resolved as `hardlinkRootPath` does, and the link refused where it
//!   names nothing this layer made before it (ENOENT: it may be in a lower layer, which
//!   containerd's native snapshotter would find, but the overlayfs snapshotter and Docker link
//!   inside the layer's own directory) or a directory (EPERM);
//! - at the end, every directory entry's name resolved again and its times set (ENOENT where a
//!   later entry removed it or made it a symbolic link to nothing).
//!
//! Whiteouts are unpacked one way in an image's first layer (into an empty directory: a whiteout
//! removes what it names, an opaque marker what its directory holds that the layer did not name)
//! and another above it (overlayfs: a whiteout becomes a character device at the name it names,
//! EEXIST where the layer made that name; an opaque marker an attribute): [`Whiteouts`]. The
//! caller replays a layer both ways from its first whiteout, since one layer may sit anywhere.
//!
//! The tree keeps the kind of each name and the target of each symbolic link. Where the replay
//! would need more than that, it stops deciding for the rest of the layer (never a failure, never
//! a pass of its own: the layer is judged by the other checks alone): an opaque marker in a
//! directory that already has entries in the first layer (whose unpack also removes directories
//! `mkparent` made), a lookup the kernel would make through a symbolic link (which may leave the
//! unpack directory), and more than [`MAX_NODES`] names, [`MAX_BYTES`] bytes of link targets and
//! directory names, or [`MAX_STEPS`] lookups.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};

/// Most names one layer's tree holds: what a table of 2^18 slots takes before it grows (17 bytes a
/// slot, 4.5 MiB); past it the replay stops deciding.
pub const MAX_NODES: usize = (1 << 18) / 8 * 7;
/// Most names made in all (a name made again takes a new one).
const MAX_IDS: u32 = 1 << 22;
/// Most bytes of symbolic link targets and directory entry names kept.
pub const MAX_BYTES: usize = 8 << 20;
/// Most work one layer's replay does: name lookups, and bytes of paths built or cleaned (a path
/// of 2,000 components through symbolic links costs millions); a fraction of a second.
pub const MAX_STEPS: u64 = 1 << 23;
/// Symbolic links `fs.RootPath` follows before "too many links".
const MAX_LINKS: u32 = 255;

/// What is at a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dir,
    /// A regular file, a device or a FIFO: not a directory, not a link.
    File,
    Symlink,
}

/// How a layer's whiteouts are unpacked, which depends on the layer's place in the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whiteouts {
    /// The first layer (unpacked into an empty directory, the native way): a whiteout removes what
    /// it names, with everything under it; an opaque marker removes what the directory holds that
    /// the layer did not name.
    Remove,
    /// A layer above the first (overlayfs: into its own upper directory): a whiteout becomes a
    /// character device 0/0 at the name it names (EEXIST where the name is taken); an opaque
    /// marker an attribute of the directory.
    Mark,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    /// The node's own identity: children are keyed by it, so a replaced directory's entries are
    /// gone with it.
    id: u32,
    kind: Kind,
}

/// Keys are already keyed SipHash values: used as they are.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unreachable!("only u64 keys are hashed")
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// Why the unpack fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A name is looked up under a non-directory, or a directory is made where one is (ENOTDIR).
    NotDir {
        /// That non-directory's rooted name.
        at: Vec<u8>,
    },
    /// More than 255 symbolic links on the way ("too many links").
    TooManyLinks,
    /// The hard link names nothing made before it in this layer (ENOENT).
    LinkToNothing,
    /// The hard link names a directory (EPERM).
    LinkToDir,
    /// A whiteout names something the layer made, where overlayfs makes its device (EEXIST).
    WhiteoutOverName,
    /// A directory entry's name names nothing at the end, when its times are set (ENOENT).
    DirGone {
        /// The directory entry's name, cleaned.
        name: Vec<u8>,
    },
}

/// The replay ends for this entry: it fails, or stops deciding.
enum Stop {
    Fail(Refusal),
    Lost,
}

impl From<Refusal> for Stop {
    fn from(r: Refusal) -> Self {
        Stop::Fail(r)
    }
}

/// Where a name resolves, for Linux's path limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// As written: the layer has made no symbolic link.
    AsWritten,
    /// To this rooted, cleaned path.
    To(Vec<u8>),
    /// Its resolution fails (the replay fails the entry).
    Fails,
    /// Not known: the replay stopped deciding.
    Unknown,
}

/// What an entry makes: its kind, and a symbolic link's target.
type Made = (Kind, Option<Box<[u8]>>);

/// What `walkLink` returns: a path, whether it was a link's target, the directory it names.
type Walked = (Vec<u8>, bool, Option<u32>);

/// What `lstat` of a rooted, cleaned name finds.
enum Found {
    /// Every directory on the way exists: what is at the name.
    At(Option<Node>),
    /// A directory on the way does not exist (ENOENT).
    Missing,
}

/// The names one layer's unpack has made so far (see the module's documentation).
#[derive(Clone)]
pub struct Tree {
    whiteouts: Whiteouts,
    nodes: HashMap<u64, Node, BuildHasherDefault<Prehashed>>,
    /// Symbolic links' targets, by node id.
    targets: HashMap<u32, Box<[u8]>>,
    /// The directories (by id, one bit each) something was made in.
    filled: Vec<u64>,
    /// Whether the layer made a symbolic link (until then, names resolve as they are written).
    symlinks: bool,
    /// The names of the directory entries, whose times containerd sets at the end.
    dirs: Vec<Box<[u8]>>,
    bytes: usize,
    steps: u64,
    keys: RandomState,
    next_id: u32,
    /// Why the replay stopped deciding, if it did.
    lost: Option<&'static str>,
    /// Bumped whenever a name is removed or replaced (what a cached walk relied on may be gone).
    epoch: u64,
    /// Where the last hard link replayed resolved, once the layer has symbolic links (for
    /// Linux's path limits, measured by the caller).
    last_link: Option<Vec<u8>>,
    /// Lookups that found nothing (a resolution that met none stays true until a removal).
    misses: u64,
    /// The last directory an entry was made in: its name, its id and the epoch then.
    cached: (Vec<u8>, u32, u64),
}

impl std::fmt::Debug for Tree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tree")
            .field("names", &self.nodes.len())
            .field("lost", &self.lost)
            .finish()
    }
}

impl Default for Tree {
    fn default() -> Self {
        Tree {
            whiteouts: Whiteouts::Remove,
            nodes: HashMap::default(),
            targets: HashMap::new(),
            filled: Vec::new(),
            symlinks: false,
            dirs: Vec::new(),
            bytes: 0,
            steps: 0,
            keys: RandomState::new(),
            next_id: 1,
            lost: None,
            epoch: 0,
            misses: 0,
            last_link: None,
            cached: (b"/".to_vec(), 0, 0),
        }
    }
}

/// Go's `filepath.Clean` of a slash-separated name.
pub(crate) fn go_clean(name: &[u8]) -> Vec<u8> {
    let rooted = name.first() == Some(&b'/');
    let mut parts: Vec<&[u8]> = Vec::new();
    for part in name.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => match parts.last() {
                Some(&last) if last != b".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(part),
            },
            _ => parts.push(part),
        }
    }
    let joined = parts.join(&b"/"[..]);
    match (rooted, joined.is_empty()) {
        (true, _) => [&b"/"[..], &joined].concat(),
        (false, true) => b".".to_vec(),
        (false, false) => joined,
    }
}

/// Go's `filepath.Join` of two names (an empty one is skipped; the result cleaned).
fn join(a: &[u8], b: &[u8]) -> Vec<u8> {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => Vec::new(),
        (true, false) => go_clean(b),
        (false, true) => go_clean(a),
        (false, false) => go_clean(&[a, b"/", b].concat()),
    }
}

/// Go's `filepath.Split`: up to and including the last `/`, and the rest.
pub(crate) fn split(path: &[u8]) -> (&[u8], &[u8]) {
    let at = path.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
    path.split_at(at)
}

impl Tree {
    /// Why the replay stopped deciding for the rest of the layer, if it did.
    #[cfg(test)]
    pub fn lost(&self) -> Option<&'static str> {
        self.lost
    }

    /// The same names, replayed on as a layer above the first ([`Whiteouts::Mark`]).
    pub fn marking(&self) -> Tree {
        Tree {
            whiteouts: Whiteouts::Mark,
            ..self.clone()
        }
    }

    /// Where the hard link just replayed resolved (once the layer has symbolic links; `None`
    /// otherwise or where its replay stopped), taken.
    pub fn link_target_made(&mut self) -> Option<Vec<u8>> {
        self.last_link.take()
    }

    /// Whether the replay still decides (it has not stopped).
    pub fn deciding(&self) -> bool {
        self.lost.is_none()
    }

    /// Whether names resolve other than as written: the layer has made a symbolic link (and
    /// [`Tree::resolve`] needs the name cleaned as containerd cleans it).
    pub fn follows_links(&self) -> bool {
        self.symlinks
    }

    fn key(&self, parent: u32, name: &[u8]) -> u64 {
        let mut h = self.keys.build_hasher();
        h.write_u32(parent);
        h.write(name);
        h.finish()
    }

    fn get(&mut self, parent: u32, name: &[u8]) -> Result<Option<Node>, Stop> {
        let key = self.key(parent, name);
        self.get_key(key)
    }

    fn get_key(&mut self, key: u64) -> Result<Option<Node>, Stop> {
        self.charge(0)?;
        Ok(self.nodes.get(&key).copied())
    }

    /// Counts one step of work, and one for every byte of a path built or cleaned (a walk down a
    /// long name rebuilds it at each step).
    fn charge(&mut self, bytes: usize) -> Result<(), Stop> {
        self.steps += 1 + bytes as u64;
        if self.steps > MAX_STEPS {
            return Err(self.stop("more lookups than the replay makes"));
        }
        Ok(())
    }

    fn insert(&mut self, parent: u32, name: &[u8], kind: Kind) -> Result<u32, Stop> {
        let key = self.key(parent, name);
        self.insert_key(parent, key, kind)
    }

    /// Makes a name (`key`: its parent's id and the name) in the directory `parent`.
    fn insert_key(&mut self, parent: u32, key: u64, kind: Kind) -> Result<u32, Stop> {
        if self.nodes.len() >= MAX_NODES || self.next_id >= MAX_IDS {
            return Err(self.stop("more names than the replay keeps"));
        }
        let id = self.next_id;
        self.next_id += 1;
        if self.nodes.insert(key, Node { id, kind }).is_some() {
            self.epoch += 1;
        }
        let (word, bit) = (parent as usize / 64, parent % 64);
        if self.filled.len() <= word {
            self.filled.resize(word + 1, 0);
        }
        self.filled[word] |= 1 << bit;
        Ok(id)
    }

    fn filled(&self, dir: u32) -> bool {
        self.filled
            .get(dir as usize / 64)
            .is_some_and(|w| w & (1 << (dir % 64)) != 0)
    }

    fn remove_key(&mut self, key: u64) {
        if let Some(old) = self.nodes.remove(&key) {
            self.targets.remove(&old.id);
            self.epoch += 1;
        }
    }

    /// Counts `n` bytes kept.
    fn keep(&mut self, n: usize) -> Result<(), Stop> {
        self.bytes += n;
        if self.bytes > MAX_BYTES {
            return Err(self.stop("more link targets and directory names than the replay keeps"));
        }
        Ok(())
    }

    fn stop(&mut self, why: &'static str) -> Stop {
        self.lost.get_or_insert(why);
        Stop::Lost
    }

    /// One entry of the layer, after the other checks passed it: `typ` its tar type (`0` to `6`,
    /// `g`, or anything for a whiteout), `name` its name cleaned as containerd cleans it (Go's
    /// `filepath.Clean`, relative unless written from `/`; not one that resolves to the top),
    /// `linkname` a link's name as written.
    pub fn entry(&mut self, typ: u8, name: &[u8], linkname: &[u8]) -> Result<(), Refusal> {
        self.decide(|t| t.replay(typ, name, linkname))
    }

    /// Where `dir` (a cleaned entry name's directory part, as [`split`] gives it) then `tail`
    /// resolve, for Linux's path limits: as written until the layer makes a symbolic link.
    pub fn resolve(&mut self, dir: &[u8], tail: &[u8]) -> Resolved {
        self.resolved(|t| Ok(join(&t.root_path(dir)?, tail)))
    }

    fn resolved(&mut self, f: impl FnOnce(&mut Self) -> Result<Vec<u8>, Stop>) -> Resolved {
        if !self.symlinks {
            return Resolved::AsWritten;
        }
        if self.lost.is_some() {
            return Resolved::Unknown;
        }
        match f(self) {
            Ok(p) => Resolved::To(p),
            Err(Stop::Fail(_)) => Resolved::Fails,
            Err(Stop::Lost) => Resolved::Unknown,
        }
    }

    /// At the end of the layer: containerd sets the times of every directory entry, its name
    /// resolved again (`name` is that entry's rooted name when it fails).
    pub fn end(&mut self) -> Result<(), Refusal> {
        self.decide(|t| {
            // Nothing removed, replaced or linked: every directory entry is where it was made.
            if !t.symlinks && t.epoch == 0 {
                return Ok(());
            }
            for name in std::mem::take(&mut t.dirs) {
                let resolved = if t.symlinks {
                    t.root_path(&name)?
                } else {
                    join(b"/", &name)
                };
                match t.lstat(&resolved)? {
                    Found::At(Some(_)) => {}
                    _ => return Err(Refusal::DirGone { name: name.into() }.into()),
                }
            }
            Ok(())
        })
    }

    fn decide(&mut self, f: impl FnOnce(&mut Self) -> Result<(), Stop>) -> Result<(), Refusal> {
        if self.lost.is_some() {
            return Ok(());
        }
        match f(self) {
            Ok(()) | Err(Stop::Lost) => Ok(()),
            Err(Stop::Fail(r)) => Err(r),
        }
    }

    fn replay(&mut self, typ: u8, name: &[u8], linkname: &[u8]) -> Result<(), Stop> {
        let (dir, base) = split(name);
        let parent = self.make_dir(dir)?;
        if base == b".wh..wh..opq" {
            // The first layer's unpack removes what the directory holds that the layer did not
            // name (also directories `mkparent` made, which are not tracked here): decided only
            // while it holds nothing. overlayfs marks the directory.
            if self.whiteouts == Whiteouts::Remove && self.filled(parent) {
                return Err(self.stop("an opaque-directory marker in a directory with entries"));
            }
            return Ok(());
        }
        if let Some(original) = base.strip_prefix(b".wh.") {
            let key = self.key(parent, original);
            let taken = self.get_key(key)?.is_some();
            match (self.whiteouts, taken) {
                (Whiteouts::Remove, true) => self.remove_key(key),
                (Whiteouts::Remove, false) => {}
                (Whiteouts::Mark, true) => return Err(Refusal::WhiteoutOverName.into()),
                (Whiteouts::Mark, false) => {
                    self.insert_key(parent, key, Kind::File)?;
                }
            }
            return Ok(());
        }
        let key = self.key(parent, base);
        let existing = self.get_key(key)?;
        let dir_on_dir = typ == b'5'
            && matches!(
                existing,
                Some(Node {
                    kind: Kind::Dir,
                    ..
                })
            );
        if existing.is_some() && !dir_on_dir {
            self.remove_key(key);
        }
        if typ == b'5' {
            self.keep(name.len())?;
            self.dirs.push(name.into());
        }
        let (kind, target) = match typ {
            b'5' if dir_on_dir => return Ok(()),
            b'5' => (Kind::Dir, None),
            b'2' => (Kind::Symlink, Some(linkname.into())),
            b'1' => self.link_target(linkname)?,
            // A global header makes nothing (what was at its name is removed above).
            b'g' => return Ok(()),
            _ => (Kind::File, None),
        };
        let id = self.insert_key(parent, key, kind)?;
        if let Some(target) = target {
            self.symlinks = true;
            self.keep(target.len())?;
            self.targets.insert(id, target);
        }
        Ok(())
    }

    /// Resolves an entry's directory (its cleaned name's directory part, as `filepath.Split`
    /// gives it) as `fs.RootPath` does and makes what is missing (`mkparent`): its id.
    fn make_dir(&mut self, dir: &[u8]) -> Result<u32, Stop> {
        if self.cached.0 == dir && self.cached.2 == self.epoch {
            return Ok(self.cached.1);
        }
        // Until the layer makes a symbolic link, a name resolves as it is written; after, a
        // resolution is kept only if every name it looked up was there (one that was not may be
        // made later and change it).
        let misses = self.misses;
        let resolved = if self.symlinks {
            self.root_path(dir)?
        } else {
            join(b"/", dir)
        };
        let keep = !self.symlinks || self.misses == misses;
        let mut id = 0;
        for c in resolved.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
            id = match self.step(id, c, &resolved)? {
                Some(dir) => dir,
                None => self.insert(id, c, Kind::Dir)?,
            };
        }
        if keep {
            self.cached.0.clear();
            self.cached.0.extend_from_slice(dir);
            (self.cached.1, self.cached.2) = (id, self.epoch);
        }
        Ok(id)
    }

    /// One step of a walk down `path` (rooted, cleaned), into `c` in the directory `dir`: its id,
    /// or `None` where nothing is there; under a non-directory Linux says ENOTDIR, and through a
    /// symbolic link (which the kernel would follow, maybe out of the unpack directory) or a
    /// whiteout's mark the replay stops.
    fn step(&mut self, dir: u32, c: &[u8], path: &[u8]) -> Result<Option<u32>, Stop> {
        match self.get(dir, c)? {
            None => {
                self.misses += 1;
                Ok(None)
            }
            Some(Node {
                kind: Kind::Dir,
                id,
            }) => Ok(Some(id)),
            Some(Node {
                kind: Kind::File, ..
            }) => Err(Refusal::NotDir {
                at: through(path, c),
            }
            .into()),
            Some(_) => Err(self.stop("a symbolic link on the way")),
        }
    }

    /// `lstat` of a rooted, cleaned name: the kernel follows a symbolic link on the way, which
    /// the replay does not (it may leave the unpack directory).
    fn lstat(&mut self, path: &[u8]) -> Result<Found, Stop> {
        let mut parts = path
            .split(|&b| b == b'/')
            .filter(|c| !c.is_empty())
            .peekable();
        let mut id = 0;
        while let Some(c) = parts.next() {
            if parts.peek().is_some() {
                match self.step(id, c, path)? {
                    Some(dir) => id = dir,
                    None => return Ok(Found::Missing),
                }
                continue;
            }
            let node = self.get(id, c)?;
            if node.is_none() {
                self.misses += 1;
            }
            return Ok(Found::At(node));
        }
        Ok(Found::At(Some(Node {
            id: 0,
            kind: Kind::Dir,
        })))
    }

    /// continuity's `RootPath`: `path` with every symbolic link on the way followed inside the
    /// unpack directory; rooted and cleaned.
    fn root_path(&mut self, path: &[u8]) -> Result<Vec<u8>, Stop> {
        if path.is_empty() {
            return Ok(b"/".to_vec());
        }
        let mut links = 0;
        let mut path = path.to_vec();
        loop {
            let before = links;
            self.charge(path.len())?;
            path = self.walk_links(&path, &mut links)?;
            if before == links {
                let rooted = join(b"/", &path);
                if path == rooted {
                    return Ok(rooted);
                }
                path = rooted;
            }
        }
    }

    /// continuity's `walkLink`: what `path` names, and whether it was a symbolic link (then its
    /// target, as written); also the directory's id when it names one.
    fn walk_link(&mut self, path: &[u8], links: &mut u32) -> Result<Walked, Stop> {
        if *links > MAX_LINKS {
            return Err(Refusal::TooManyLinks.into());
        }
        let path = join(b"/", path);
        if path == b"/" {
            return Ok((path, false, Some(0)));
        }
        match self.lstat(&path)? {
            Found::At(Some(Node {
                kind: Kind::Symlink,
                id,
            })) => {
                *links += 1;
                let target = self.targets.get(&id).ok_or(Stop::Lost)?.to_vec();
                Ok((target, true, None))
            }
            Found::At(Some(Node {
                kind: Kind::Dir,
                id,
            })) => Ok((path, false, Some(id))),
            _ => Ok((path, false, None)),
        }
    }

    /// continuity's `walkLinks`, which recurses on the directory part first: here the names
    /// are taken from the left, each joined to what the ones before it resolved to (a relative
    /// link target joined to its directory, an absolute one taken as it is).
    fn walk_links(&mut self, path: &[u8], links: &mut u32) -> Result<Vec<u8>, Stop> {
        let mut parts = path.split(|&b| b == b'/').filter(|c| !c.is_empty());
        // The directory `resolved` names, while known: a plain name under it is looked up there
        // (what `lstat` of the joined path finds), not from the top again.
        let (mut resolved, mut at) = if path.first() == Some(&b'/') {
            (b"/".to_vec(), Some(0))
        } else {
            // The first name is looked up as it is (an empty path: the top).
            let (first, _, at) = self.walk_link(parts.next().unwrap_or_default(), links)?;
            (first, at)
        };
        for c in parts {
            if let (Some(dir), false) = (at, c == b"." || c == b"..") {
                if *links > MAX_LINKS {
                    return Err(Refusal::TooManyLinks.into());
                }
                let node = self.get(dir, c)?;
                at = None;
                match node {
                    Some(Node {
                        kind: Kind::Symlink,
                        id,
                    }) => {
                        *links += 1;
                        let target = self.targets.get(&id).ok_or(Stop::Lost)?.to_vec();
                        resolved = if target.first() == Some(&b'/') {
                            target
                        } else {
                            join(&resolved, &target)
                        };
                        continue;
                    }
                    Some(Node {
                        kind: Kind::Dir,
                        id,
                    }) => at = Some(id),
                    None => self.misses += 1,
                    Some(_) => {}
                }
                if resolved != b"/" {
                    resolved.push(b'/');
                }
                resolved.extend_from_slice(c);
                continue;
            }
            self.charge(resolved.len() + c.len())?;
            let (next, islink, dir) = self.walk_link(&join(&resolved, c), links)?;
            at = dir;
            resolved = if !islink || next.first() == Some(&b'/') {
                next
            } else {
                join(&resolved, &next)
            };
        }
        Ok(resolved)
    }

    /// containerd's `hardlinkRootPath`: the link name's directory resolved, its last name joined.
    fn hardlink_root_path(&mut self, linkname: &[u8]) -> Result<Vec<u8>, Stop> {
        let (dir, base) = split(linkname);
        let resolved = self.root_path(dir)?;
        Ok(join(&resolved, base))
    }

    /// What a hard link names (Linux links a symbolic link itself, not what it points to): its
    /// kind, and a symbolic link's target.
    fn link_target(&mut self, linkname: &[u8]) -> Result<Made, Stop> {
        let target = self.hardlink_root_path(linkname)?;
        if self.symlinks {
            self.last_link = Some(target.clone());
        }
        if target == b"/" {
            return Err(Refusal::LinkToDir.into());
        }
        match self.lstat(&target)? {
            Found::Missing | Found::At(None) => Err(Refusal::LinkToNothing.into()),
            Found::At(Some(Node {
                kind: Kind::Dir, ..
            })) => Err(Refusal::LinkToDir.into()),
            Found::At(Some(Node {
                kind: Kind::Symlink,
                id,
            })) => {
                let to = self.targets.get(&id).cloned().ok_or(Stop::Lost)?;
                Ok((Kind::Symlink, Some(to)))
            }
            Found::At(Some(Node { kind, .. })) => Ok((kind, None)),
        }
    }
}

/// `path` up to and including its component `c` (a slice of it).
fn through(path: &[u8], c: &[u8]) -> Vec<u8> {
    let end = c.as_ptr() as usize - path.as_ptr() as usize + c.len();
    path[..end].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_its_size_the_replay_stops_deciding() {
        let mut t = Tree::default();
        for i in 0..MAX_NODES {
            t.entry(b'0', format!("/d{}/f{i}", i % 64).as_bytes(), b"")
                .unwrap();
        }
        assert_eq!(t.lost(), Some("more names than the replay keeps"));
        // Nothing is decided past it: a link to nothing passes.
        t.entry(b'1', b"/h", b"nothing").unwrap();
        assert!(t.nodes.len() <= MAX_NODES);
        let mut t = Tree::default();
        t.entry(b'0', b"/f", b"").unwrap();
        assert_eq!(
            t.entry(b'1', b"/h", b"nothing"),
            Err(Refusal::LinkToNothing)
        );
        assert_eq!(t.lost(), None);
    }

    #[test]
    fn joins_and_splits_as_go_does() {
        assert_eq!(join(b"/", b"a/../b"), b"/b");
        assert_eq!(join(b"t/u", b"x"), b"t/u/x");
        assert_eq!(join(b"", b""), b"");
        assert_eq!(join(b"/a", b".."), b"/");
        assert_eq!(split(b"a/b"), (&b"a/"[..], &b"b"[..]));
        assert_eq!(split(b"b"), (&b""[..], &b"b"[..]));
        assert_eq!(split(b"a/"), (&b"a/"[..], &b""[..]));
    }
}

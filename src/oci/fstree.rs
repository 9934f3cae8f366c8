//! `--content`: what one layer's entries do to one another when containerd unpacks the layer.
//!
//! containerd's default snapshotter on Linux (overlayfs), like Docker's overlay2, unpacks each
//! layer on its own into an empty directory (`archive.Apply` into the snapshot's upper directory;
//! the first layer into a bind mount of an empty one), so what an entry meets on the file system is
//! what the earlier entries of the same layer made. This module replays those entries as
//! `applyNaive` does (the parent directory resolved, then made, `mkparent`; what is at the path
//! removed unless a directory meets a directory; the entry created) on a tree of names, and reports
//! what Linux refuses there:
//! - an entry whose directory is, or passes through, a file (or device, FIFO) an earlier entry
//!   made (ENOTDIR);
//! - a hard link whose link name passes through such a file (ENOTDIR), names nothing this layer
//!   made before it (ENOENT: it may be in a lower layer, which containerd's native snapshotter
//!   would find, but the overlayfs snapshotter and Docker link inside the layer's own directory),
//!   or names a directory (EPERM).
//!
//! The tree keeps no more than the kind of each name. Where the replay would need more than that,
//! or where containerd's snapshotters part ways, it stops deciding for the rest of the layer (never
//! a failure, never a pass of its own: the layer is judged by the other checks alone, as before):
//! a symbolic link (or a whiteout's mark) on the way of a path, a whiteout of a name this layer
//! made (overlayfs fails on it, the native snapshotter removes it), an opaque-directory marker in
//! a directory that already has entries, and more than [`MAX_NODES`] names.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};

/// Most names one layer's tree holds (about 20 bytes each); past it the replay stops deciding.
pub const MAX_NODES: usize = 1 << 18;

/// What is at a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dir,
    /// A regular file, a device or a FIFO: not a directory, not a link.
    File,
    Symlink,
    /// A whiteout's mark: nothing (native snapshotter) or a character device (overlayfs).
    Whiteout,
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

/// Why the unpack fails at an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The entry's directory is or passes through a non-directory (ENOTDIR).
    UnderFile {
        /// That non-directory's rooted name.
        at: Vec<u8>,
    },
    /// The hard link's name passes through a non-directory (ENOTDIR).
    LinkThroughFile {
        /// That non-directory's rooted name.
        at: Vec<u8>,
    },
    /// The hard link names nothing made before it in this layer (ENOENT).
    LinkToNothing,
    /// The hard link names a directory (EPERM).
    LinkToDir,
}

/// One step of a path walk: a directory (by id), nothing there, or a non-directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    Dir(u32),
    Missing,
    File,
}

/// The replay stops: what follows is not decided here.
struct Lost;

/// The names one layer's unpack has made so far (see the module's documentation).
pub struct Tree {
    nodes: HashMap<u64, Node, BuildHasherDefault<Prehashed>>,
    /// The directories (by id) something was made in.
    filled: HashSet<u32>,
    keys: RandomState,
    next_id: u32,
    /// Why the replay stopped deciding, if it did.
    lost: Option<&'static str>,
    /// Bumped whenever a name is removed or replaced (what a cached walk relied on may be gone).
    epoch: u64,
    /// The last directory an entry was made in: its rooted name, its id and the epoch then.
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
            nodes: HashMap::default(),
            filled: HashSet::new(),
            keys: RandomState::new(),
            next_id: 1,
            lost: None,
            epoch: 0,
            cached: (b"/".to_vec(), 0, 0),
        }
    }
}

/// The components of a rooted, cleaned name (`/a/b` is `a`, `b`).
fn components(rooted: &[u8]) -> impl Iterator<Item = &[u8]> {
    rooted.split(|&b| b == b'/').filter(|c| !c.is_empty())
}

impl Tree {
    /// Why the replay stopped deciding for the rest of the layer, if it did.
    #[cfg(test)]
    pub fn lost(&self) -> Option<&'static str> {
        self.lost
    }

    fn key(&self, parent: u32, name: &[u8]) -> u64 {
        let mut h = self.keys.build_hasher();
        h.write_u32(parent);
        h.write(name);
        h.finish()
    }

    fn get(&self, parent: u32, name: &[u8]) -> Option<Node> {
        self.nodes.get(&self.key(parent, name)).copied()
    }

    fn insert(&mut self, parent: u32, name: &[u8], kind: Kind) -> Result<u32, Lost> {
        if self.nodes.len() >= MAX_NODES {
            return Err(self.stop("more names than the replay keeps"));
        }
        let id = self.next_id;
        self.next_id = self.next_id.checked_add(1).ok_or(Lost)?;
        let key = self.key(parent, name);
        if self.nodes.insert(key, Node { id, kind }).is_some() {
            self.epoch += 1;
        }
        self.filled.insert(parent);
        Ok(id)
    }

    fn remove(&mut self, parent: u32, name: &[u8]) {
        let key = self.key(parent, name);
        if self.nodes.remove(&key).is_some() {
            self.epoch += 1;
        }
    }

    fn stop(&mut self, why: &'static str) -> Lost {
        self.lost.get_or_insert(why);
        Lost
    }

    /// One entry of the layer, after the other checks passed it: `typ` its tar type (`0` to `6`,
    /// `g`, or anything for a whiteout), `rooted` its name cleaned under the unpack directory (not
    /// the top), `linkname` a hard link's name as written.
    pub fn entry(&mut self, typ: u8, rooted: &[u8], linkname: &[u8]) -> Result<(), Refusal> {
        if self.lost.is_some() {
            return Ok(());
        }
        match self.replay(typ, rooted, linkname) {
            Ok(r) => r,
            Err(Lost) => Ok(()),
        }
    }

    fn replay(
        &mut self,
        typ: u8,
        rooted: &[u8],
        linkname: &[u8],
    ) -> Result<Result<(), Refusal>, Lost> {
        let base_at = rooted.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
        let (dir, base) = (&rooted[..base_at], &rooted[base_at..]);
        // `fs.RootPath` of the directory, then `mkparent`.
        let parent = match self.make_dir(dir)? {
            Ok(id) => id,
            Err(r) => return Ok(Err(r)),
        };
        if base == b".wh..wh..opq" {
            // The native snapshotter removes what the directory holds that this layer did not
            // name; overlayfs marks the directory. The same only when it holds nothing yet.
            if self.filled.contains(&parent) {
                return Err(self.stop("an opaque-directory marker in a directory with entries"));
            }
            return Ok(Ok(()));
        }
        if let Some(original) = base.strip_prefix(b".wh.") {
            if self.get(parent, original).is_some() {
                return Err(self.stop("a whiteout of a name the layer made"));
            }
            self.insert(parent, original, Kind::Whiteout)?;
            return Ok(Ok(()));
        }
        let existing = self.get(parent, base);
        let dir_on_dir = typ == b'5'
            && matches!(
                existing,
                Some(Node {
                    kind: Kind::Dir,
                    ..
                })
            );
        if existing.is_some() && !dir_on_dir {
            self.remove(parent, base);
        }
        let kind = match typ {
            b'5' if dir_on_dir => return Ok(Ok(())),
            b'5' => Kind::Dir,
            b'2' => Kind::Symlink,
            b'1' => match self.link_target(linkname)? {
                Ok(kind) => kind,
                Err(r) => return Ok(Err(r)),
            },
            // A global header makes nothing (what was at its name is removed above).
            b'g' => return Ok(Ok(())),
            _ => Kind::File,
        };
        self.insert(parent, base, kind)?;
        Ok(Ok(()))
    }

    /// Resolves a directory (rooted, cleaned, ending in `/`) as `fs.RootPath` does and makes what
    /// is missing (`mkparent`): its id, or why containerd fails there.
    fn make_dir(&mut self, dir: &[u8]) -> Result<Result<u32, Refusal>, Lost> {
        if dir == b"/" {
            return Ok(Ok(0));
        }
        if self.cached.0 == dir && self.cached.2 == self.epoch {
            return Ok(Ok(self.cached.1));
        }
        let mut id = 0;
        for c in components(dir) {
            id = match self.get(id, c) {
                Some(Node {
                    kind: Kind::Dir,
                    id,
                }) => id,
                Some(Node {
                    kind: Kind::File, ..
                }) => {
                    let at = prefix_through(dir, c);
                    return Ok(Err(Refusal::UnderFile { at }));
                }
                Some(_) => return Err(self.stop("a symbolic link or whiteout on an entry's way")),
                None => self.insert(id, c, Kind::Dir)?,
            };
        }
        self.cached = (dir.to_vec(), id, self.epoch);
        Ok(Ok(id))
    }

    /// What a hard link names, walked as `hardlinkRootPath` does: the link name's directory
    /// resolved component by component as written (each prefix looked up, a `..` going back up),
    /// then its last component joined.
    fn link_target(&mut self, linkname: &[u8]) -> Result<Result<Kind, Refusal>, Lost> {
        let split = linkname
            .iter()
            .rposition(|&b| b == b'/')
            .map_or(0, |i| i + 1);
        let (dir, base) = (&linkname[..split], &linkname[split..]);
        // Each step: what is there, and the name walked so far (for messages).
        let mut stack: Vec<(At, usize)> = vec![(At::Dir(0), 0)];
        let mut walked: Vec<u8> = Vec::new();
        for c in dir.split(|&b| b == b'/') {
            match c {
                b"" | b"." => {}
                b".." => {
                    if stack.len() > 1 {
                        let (_, len) = stack.pop().expect("not empty");
                        walked.truncate(len);
                    }
                }
                name => {
                    let len = walked.len();
                    let here = match stack.last().expect("never empty").0 {
                        At::Missing => At::Missing,
                        // Linux looks the next name up inside a non-directory: ENOTDIR.
                        At::File => return Ok(Err(Refusal::LinkThroughFile { at: walked })),
                        At::Dir(id) => match self.get(id, name) {
                            None => At::Missing,
                            Some(Node {
                                kind: Kind::Dir,
                                id,
                            }) => At::Dir(id),
                            Some(Node {
                                kind: Kind::File, ..
                            }) => At::File,
                            Some(_) => {
                                return Err(
                                    self.stop("a symbolic link or whiteout on a hard link's way")
                                )
                            }
                        },
                    };
                    walked.push(b'/');
                    walked.extend_from_slice(name);
                    stack.push((here, len));
                }
            }
        }
        let at = stack.last().expect("never empty").0;
        let target = match base {
            b"" | b"." => match at {
                At::Dir(_) => return Ok(Err(Refusal::LinkToDir)),
                At::File => return Ok(Ok(Kind::File)),
                At::Missing => return Ok(Err(Refusal::LinkToNothing)),
            },
            // A last `..` is refused by its form before the replay.
            b".." => return Ok(Err(Refusal::LinkToDir)),
            name => match at {
                At::Missing => return Ok(Err(Refusal::LinkToNothing)),
                At::File => return Ok(Err(Refusal::LinkThroughFile { at: walked })),
                At::Dir(id) => self.get(id, name),
            },
        };
        match target {
            None => Ok(Err(Refusal::LinkToNothing)),
            Some(Node {
                kind: Kind::Dir, ..
            }) => Ok(Err(Refusal::LinkToDir)),
            Some(Node {
                kind: Kind::File, ..
            }) => Ok(Ok(Kind::File)),
            // Linux links the symbolic link itself.
            Some(Node {
                kind: Kind::Symlink,
                ..
            }) => Ok(Ok(Kind::Symlink)),
            Some(Node {
                kind: Kind::Whiteout,
                ..
            }) => Err(self.stop("a hard link to a whiteout's mark")),
        }
    }
}

/// `dir` up to and including the component `c` (a slice of it).
fn prefix_through(dir: &[u8], c: &[u8]) -> Vec<u8> {
    let end = c.as_ptr() as usize - dir.as_ptr() as usize + c.len();
    dir[..end].to_vec()
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
}

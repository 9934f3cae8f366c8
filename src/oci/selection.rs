//! Which index entry the container runtime runs for a platform.
//!
//! An index (and the indexes nested in it) is read into an [`IndexTree`] that keeps the registry's
//! order. [`IndexTree::select`] then picks, for one required platform, the entry containerd (and so
//! ECS on EC2 and Fargate) would pick, following `images.Manifest` in containerd 2.x:
//!
//! 1. keep the entries whose descriptor platform matches (after normalisation, with the fallbacks
//!    `platforms.Only` allows) or that carry no platform; annotations play no part;
//! 2. sort them stably by how well the platform matches, entries without a platform last;
//! 3. take the first; a nested index is entered the same way (never backtracked out of); an image
//!    manifest without a platform (or without an os, which containerd reads as the host's) is
//!    accepted when its config names the platform; any other media type fails the pull.
//!
//! shipcheck is stricter in one way: when the entry finally selected is an image (or an unusable
//! entry) listed for a fallback platform (32-bit arm on arm64, 386 on amd64, an older variant), the
//! required platform counts as missing. A nested index listed for a fallback platform is entered,
//! as the runtime does, and the image it holds decides.

use crate::oci::{is_image_type, is_index_type, Descriptor, Platform};

/// One entry of an index.
#[derive(Debug, Clone)]
pub enum Node {
    /// A nested index; `children` is `None` when it could not be read (the reason is reported).
    Index {
        /// The entry's descriptor.
        desc: Descriptor,
        /// Positions in [`IndexTree::nodes`] of the nested index's entries.
        children: Option<Vec<usize>>,
    },
    /// An entry whose media type is an image manifest.
    Image {
        /// The entry's descriptor.
        desc: Descriptor,
    },
    /// An entry of any other media type (the runtime cannot use it).
    Other {
        /// The entry's descriptor.
        desc: Descriptor,
    },
}

impl Node {
    /// The node for an index entry, by its media type; a nested index starts unread.
    pub fn new(desc: Descriptor) -> Node {
        if is_index_type(&desc.media_type) {
            Node::Index {
                desc,
                children: None,
            }
        } else if is_image_type(&desc.media_type) {
            Node::Image { desc }
        } else {
            Node::Other { desc }
        }
    }

    /// The entry's descriptor.
    pub fn desc(&self) -> &Descriptor {
        match self {
            Node::Index { desc, .. } | Node::Image { desc } | Node::Other { desc } => desc,
        }
    }
}

/// An index and the indexes nested in it, in the registry's order.
#[derive(Debug, Clone, Default)]
pub struct IndexTree {
    /// Every entry of the top index and of the nested indexes; [`Node`]s refer to each other by
    /// position in this list.
    pub nodes: Vec<Node>,
    /// The top index's entries.
    pub top: Vec<usize>,
}

/// What the runtime would run for one required platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// This image entry; `by_config` when it has no platform (or no os) in the index, so that its
    /// config must name the required platform.
    Image {
        /// Position of the entry in [`IndexTree::nodes`].
        node: usize,
        /// Whether the entry's config must name the platform (it has none, or no os, in the index).
        by_config: bool,
    },
    /// The best match is another platform the runtime falls back to: the required one is missing.
    Fallback {
        /// Position of the entry in [`IndexTree::nodes`].
        node: usize,
        /// The fallback platform the entry is for.
        platform: Platform,
    },
    /// The entry selected has a media type the runtime cannot use: the pull fails.
    Unusable {
        /// Position of the entry in [`IndexTree::nodes`].
        node: usize,
    },
    /// No entry matches.
    None,
    /// The path leads into a nested index that could not be read (already reported).
    Undecided,
}

impl IndexTree {
    /// Adds entries as nodes and returns their positions.
    pub fn add(&mut self, entries: Vec<Descriptor>) -> Vec<usize> {
        let start = self.nodes.len();
        self.nodes.extend(entries.into_iter().map(Node::new));
        (start..self.nodes.len()).collect()
    }

    /// The nested indexes that lead from the top index to entry `node`, outermost first (the
    /// runtime fetches each on its way there).
    pub fn ancestors(&self, node: usize) -> Vec<usize> {
        let parent = |child: usize| {
            self.nodes.iter().position(
                |n| matches!(n, Node::Index { children: Some(kids), .. } if kids.contains(&child)),
            )
        };
        let mut path = Vec::new();
        let mut at = node;
        while let Some(p) = parent(at) {
            path.push(p);
            at = p;
        }
        path.reverse();
        path
    }

    /// The entry the runtime selects for `required` (see the module documentation).
    pub fn select(&self, required: &Platform) -> Selection {
        let mut level = &self.top;
        loop {
            // Rank: containerd's order, entries without a platform after every match; on a
            // Windows host, the highest revision among equal matches first.
            let mut candidates: Vec<(usize, usize)> = level
                .iter()
                .filter_map(|&id| match &self.nodes[id].desc().platform {
                    None => Some((id, usize::MAX)),
                    Some(p) => required.runtime_rank(p).map(|r| (id, r)),
                })
                .collect();
            candidates.sort_by_key(|&(id, rank)| {
                let revision = match &self.nodes[id].desc().platform {
                    Some(p) if required.os == "windows" => windows_revision(p),
                    _ => 0,
                };
                (rank, std::cmp::Reverse(revision))
            });
            let Some(&(id, rank)) = candidates.first() else {
                return Selection::None;
            };
            let node = &self.nodes[id];
            // A nested index listed under a fallback platform is entered like any other: what the
            // runtime runs is the image it selects in there (found by adversarial pass 15: an arm64
            // image in an index listed as arm/v7 was reported missing).
            let fallback = rank != 0 && rank != usize::MAX;
            if fallback && !matches!(node, Node::Index { .. }) {
                let platform = node.desc().platform.clone().expect("ranked by platform");
                return Selection::Fallback { node: id, platform };
            }
            match node {
                Node::Index {
                    children: Some(kids),
                    ..
                } => level = kids,
                Node::Index { children: None, .. } => return Selection::Undecided,
                // Without a platform, or without an os (the runtime reads it as its own), only the
                // image's config can say whether it is the required platform.
                Node::Image { desc } => {
                    return Selection::Image {
                        node: id,
                        by_config: desc.platform.as_ref().is_none_or(|p| p.os.is_empty()),
                    }
                }
                Node::Other { .. } => return Selection::Unusable { node: id },
            }
        }
    }
}

/// A Windows entry's revision, for containerd's Windows ordering: among the entries a Windows host
/// matches, the highest revision first, index order among equals (containerd's `matchComparer.Less`
/// with `revision`: the fourth dot-separated part of `os.version` read with Go's `Atoi`; 0 when
/// there is none, or it is not a number, or it overflows, as for an entry without `os.version`).
fn windows_revision(p: &Platform) -> i64 {
    let Some(v) = p.os_version.as_deref() else {
        return 0;
    };
    let Some(part) = v.split('.').nth(3) else {
        return 0;
    };
    let (sign, digits) = match part.as_bytes().first() {
        Some(b'-') => (-1, &part[1..]),
        Some(b'+') => (1, &part[1..]),
        _ => (1, part),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    digits.parse::<i64>().map_or(0, |n| sign * n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::{Digest, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST};

    fn desc(n: u8, mt: &str, platform: Option<&str>) -> Descriptor {
        Descriptor {
            media_type: mt.into(),
            digest: Digest::of(crate::oci::Algo::Sha256, &[n]),
            size: 1,
            platform: platform.map(|p| {
                let f: Vec<&str> = p.split('/').collect();
                Platform::new(f[0], f[1], f.get(2).copied())
            }),
            annotations: Default::default(),
            urls: Vec::new(),
        }
    }

    fn tree(entries: Vec<Descriptor>) -> IndexTree {
        let mut t = IndexTree::default();
        t.top = t.add(entries);
        t
    }

    fn p(s: &str) -> Platform {
        Platform::parse(s).unwrap()
    }

    #[test]
    fn first_exact_match_wins_in_index_order() {
        let t = tree(vec![
            desc(0, OCI_MANIFEST, Some("linux/amd64")),
            desc(1, OCI_MANIFEST, Some("linux/arm/v7")),
            desc(2, OCI_MANIFEST, Some("linux/arm64/v8")),
            desc(3, DOCKER_MANIFEST, Some("linux/aarch64")),
        ]);
        let img = |node| Selection::Image {
            node,
            by_config: false,
        };
        assert_eq!(t.select(&p("arm64")), img(2));
        assert_eq!(t.select(&p("amd64")), img(0));
        assert_eq!(t.select(&p("arm/v7")), img(1));
        assert_eq!(t.select(&p("arm/v6")), Selection::None);
        assert_eq!(t.select(&p("windows/amd64")), Selection::None);
    }

    #[test]
    fn fallbacks_and_platformless_entries() {
        let t = tree(vec![
            desc(0, OCI_MANIFEST, None),
            desc(1, OCI_MANIFEST, Some("linux/arm/v7")),
        ]);
        assert_eq!(
            t.select(&p("arm64")),
            Selection::Fallback {
                node: 1,
                platform: p("arm/v7")
            }
        );
        assert_eq!(
            t.select(&p("amd64")),
            Selection::Image {
                node: 0,
                by_config: true
            }
        );
        let t = tree(vec![
            desc(0, "application/x-unknown", Some("linux/arm64")),
            desc(1, OCI_MANIFEST, Some("linux/arm64")),
        ]);
        assert_eq!(t.select(&p("arm64")), Selection::Unusable { node: 0 });
    }

    #[test]
    fn windows_entries_are_taken_highest_version_first() {
        let win = |n: u8, v: Option<&str>| {
            let mut d = desc(n, OCI_MANIFEST, Some("windows/amd64"));
            d.platform = d.platform.map(|p| p.with_os_version(v));
            d
        };
        let t = tree(vec![
            win(0, None),
            win(1, Some("10.0.17763.100")),
            win(2, Some("10.0.17763.2000")),
            win(3, Some("10.0.17763.2000")),
            win(4, Some("10.0.17763.99999999999999999999")),
        ]);
        let host = p("windows/amd64").with_os_version(Some("10.0.17763.5000"));
        let img = |node| Selection::Image {
            node,
            by_config: false,
        };
        // The highest revision, the first listed of equals (an overflowing one reads as 0).
        assert_eq!(t.select(&host), img(2));
        // No version, three parts or a revision that is not a number are all 0: index order.
        let t = tree(vec![
            win(0, Some("10.0.17763.abc")),
            win(1, Some("10.0.17763")),
            win(2, None),
            win(3, Some("10.0.17763.-1")),
        ]);
        assert_eq!(t.select(&host), img(0));
        // Linux hosts keep index order.
        let t = tree(vec![
            desc(0, OCI_MANIFEST, Some("linux/amd64")),
            desc(1, OCI_MANIFEST, Some("linux/amd64")),
        ]);
        assert_eq!(t.select(&p("amd64")), img(0));
    }

    #[test]
    fn a_nested_index_under_a_fallback_platform_is_entered() {
        let mut t = tree(vec![desc(0, OCI_INDEX, Some("linux/arm/v7"))]);
        let kids = t.add(vec![
            desc(1, OCI_MANIFEST, Some("linux/arm/v7")),
            desc(2, OCI_MANIFEST, Some("linux/arm64")),
        ]);
        if let Node::Index { children, .. } = &mut t.nodes[0] {
            *children = Some(kids);
        }
        let arm64 = Selection::Image {
            node: 2,
            by_config: false,
        };
        assert_eq!(t.select(&p("arm64")), arm64);
        // Inside, the image listed for the fallback still counts as missing when it is the best.
        if let Node::Index { children, .. } = &mut t.nodes[0] {
            *children = Some(vec![1]);
        }
        assert_eq!(
            t.select(&p("arm64")),
            Selection::Fallback {
                node: 1,
                platform: p("arm/v7")
            }
        );
    }

    #[test]
    fn nested_indexes_are_filtered_by_their_descriptor_platform() {
        let mut t = tree(vec![
            desc(0, OCI_INDEX, Some("linux/amd64")),
            desc(1, OCI_MANIFEST, Some("linux/amd64")),
        ]);
        let kids = t.add(vec![desc(2, OCI_MANIFEST, Some("linux/arm64"))]);
        if let Node::Index { children, .. } = &mut t.nodes[0] {
            *children = Some(kids);
        }
        assert_eq!(t.select(&p("arm64")), Selection::None);
        // The amd64 descriptor of the nested index is entered first, and holds no amd64 image.
        assert_eq!(t.select(&p("amd64")), Selection::None);
        let mut t = tree(vec![desc(0, OCI_INDEX, None)]);
        assert_eq!(t.select(&p("arm64")), Selection::Undecided);
        let kids = t.add(vec![desc(1, OCI_MANIFEST, Some("linux/arm64"))]);
        if let Node::Index { children, .. } = &mut t.nodes[0] {
            *children = Some(kids);
        }
        assert_eq!(
            t.select(&p("arm64")),
            Selection::Image {
                node: 1,
                by_config: false
            }
        );
    }
}

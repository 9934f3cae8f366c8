//! `--content`: every layer downloaded, hashed against its digest and, decompressed as the runtime
//! unpacks it (gzip, zstd or none, told from the first bytes), against the config's
//! `rootfs.diff_ids`. containerd's unpack refuses a layer whose uncompressed digest is not its
//! diff_id ("wrong diff id calculated on extraction"); `--deep` (a HEAD per layer) cannot see that.

use crate::common;
use crate::common::fake_registry::{self, blob_path, ok, Fake};
use crate::common::image_json::run_json;
use common::registry::{sha256, Registry, OCI_CONFIG, OCI_MANIFEST};
use common::shipcheck;
use serde_json::{json, Value};
use std::io::Write;

const GZIP_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const ZSTD_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
const TAR_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";

/// A tar archive of one file of some 200 KB, different for each `seed`.
fn tar(seed: &str) -> Vec<u8> {
    let data: Vec<u8> = (0..20_000u32)
        .flat_map(|i| format!("{seed} {i}\n").into_bytes())
        .collect();
    common::tar::tar_of(&[(&format!("{seed}.txt"), &data)])
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(data, 3).unwrap()
}

/// Pushes an image for `platform` whose layers are `(media type, blob, diff_id)` and tags it.
fn push(
    r: &Registry,
    repo: &str,
    tag: &str,
    platform: (&str, &str),
    layers: &[(&str, Vec<u8>, String)],
) {
    let mut descs = Vec::new();
    let mut diff_ids = Vec::new();
    for (mt, blob, diff) in layers {
        let d = r.put_blob(repo, blob);
        descs.push(json!({"mediaType": mt, "digest": d, "size": blob.len()}));
        diff_ids.push(Value::String(diff.clone()));
    }
    let config = serde_json::to_vec(
        &json!({"os": platform.0, "architecture": platform.1, "config": {},
        "rootfs": {"type": "layers", "diff_ids": diff_ids}}),
    )
    .unwrap();
    let cd = r.put_blob(repo, &config);
    let body = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": cd, "size": config.len()}, "layers": descs}))
    .unwrap();
    r.put_manifest(repo, tag, OCI_MANIFEST, &body);
}

fn run(r: &Registry, repo_tag: &str, flag: &str) -> common::image_json::Run {
    let reference = format!("{}/{repo_tag}", r.host());
    let mut args = vec![reference.as_str(), "--platforms", "amd64"];
    if !flag.is_empty() {
        args.push(flag);
    }
    run_json(shipcheck(), &args, None)
}

#[test]
fn gzip_zstd_and_plain_layers_whose_diff_ids_match_pass() {
    let r = Registry::plain();
    let (a, b, c) = (tar("a"), tar("b"), tar("c"));
    push(
        &r,
        "content/good",
        "v1",
        ("linux", "amd64"),
        &[
            (GZIP_LAYER, gzip(&a), sha256(&a)),
            (ZSTD_LAYER, zstd(&b), sha256(&b)),
            (TAR_LAYER, c.clone(), sha256(&c)),
            // The same blob twice: downloaded once.
            (GZIP_LAYER, gzip(&a), sha256(&a)),
        ],
    );
    let shallow = run(&r, "content/good:v1", "");
    shallow.expect(0, "");
    let full = run(&r, "content/good:v1", "--content");
    full.expect(0, "");
    // HEAD + GET of the tag, the config, and one GET per distinct layer (three).
    assert_eq!(full.requests, shallow.requests + 3, "{}", full.stderr);
}

#[test]
fn a_diff_id_that_is_not_the_uncompressed_layer_fails_where_deep_passes() {
    let r = Registry::plain();
    let a = tar("a");
    let gz = gzip(&a);
    // The commonest hand-assembly mistake: the compressed digest written as the diff_id.
    push(
        &r,
        "content/diff",
        "v1",
        ("linux", "amd64"),
        &[(GZIP_LAYER, gz.clone(), sha256(&gz))],
    );
    run(&r, "content/diff:v1", "--deep").expect(0, "");
    run(&r, "content/diff:v1", "--content")
        .expect(1, "digest-mismatch")
        .says(&[
            "rootfs.diff_ids[0]",
            &sha256(&a),
            "decompressed (gzip)",
            "wrong diff id",
        ]);
    // A zstd layer whose diff_id names another layer's content.
    let b = tar("b");
    push(
        &r,
        "content/zdiff",
        "v1",
        ("linux", "amd64"),
        &[(ZSTD_LAYER, zstd(&b), sha256(&a))],
    );
    run(&r, "content/zdiff:v1", "--content")
        .expect(1, "digest-mismatch")
        .says(&["decompressed (zstd)", &sha256(&b)]);
    // As containerd 1.6's applier: a compressed layer type has its compression told from the
    // bytes (plain tar or zstd under `+gzip` pass when the diff_id is the uncompressed digest)...
    push(
        &r,
        "content/sniff",
        "v1",
        ("linux", "amd64"),
        &[(GZIP_LAYER, a.clone(), sha256(&a))],
    );
    run(&r, "content/sniff:v1", "--content").expect(0, "");
    push(
        &r,
        "content/sniffz",
        "v1",
        ("linux", "amd64"),
        &[(GZIP_LAYER, zstd(&a), sha256(&a))],
    );
    run(&r, "content/sniffz:v1", "--content").expect(0, "");
    // ...but the uncompressed OCI type is taken as it is: gzip bytes under it are the diff, so a
    // diff_id of the content inside fails (ctr 1.6: "wrong diff id calculated on extraction").
    push(
        &r,
        "content/raw",
        "v1",
        ("linux", "amd64"),
        &[(TAR_LAYER, gz.clone(), sha256(&a))],
    );
    run(&r, "content/raw:v1", "--content")
        .expect(1, "digest-mismatch")
        .says(&["uncompressed, hashes", &sha256(&gz)]);
}

#[test]
fn a_damaged_compressed_stream_is_unusable() {
    let r = Registry::plain();
    let a = tar("a");
    let gz = gzip(&a);
    let cut = gz[..gz.len() / 2].to_vec();
    push(
        &r,
        "content/cut",
        "v1",
        ("linux", "amd64"),
        &[(GZIP_LAYER, cut, sha256(&a))],
    );
    run(&r, "content/cut:v1", "--deep").expect(0, "");
    run(&r, "content/cut:v1", "--content")
        .expect(1, "unusable-entry")
        .says(&["compressed stream is damaged", "cannot unpack"]);
    // Damage in the middle (found while streaming, not at the end): the same verdict, not an
    // error of writing the download (it was `install-failed`, exit 2; adversarial pass 24).
    let big = tar("big");
    let mut mid = gzip(&big);
    let n = mid.len();
    for b in &mut mid[n / 3..n / 3 + 64] {
        *b = 0xff;
    }
    push(
        &r,
        "content/mid",
        "v1",
        ("linux", "amd64"),
        &[(GZIP_LAYER, mid, sha256(&big))],
    );
    run(&r, "content/mid:v1", "--content")
        .expect(1, "unusable-entry")
        .says(&["compressed stream is damaged"]);
}

/// Go's gzip reader (containerd's unpack) refuses a member header whose file name is 512 bytes or
/// longer ("gzip: invalid header"); flate2 reads it. A layer of two members, the second named so,
/// passed `--content` until 2026-12-03; 511 bytes unpack.
#[test]
fn a_gzip_member_name_go_cannot_read_is_unusable() {
    let r = Registry::plain();
    let a = tar("a");
    let named = |len: usize| {
        let mut e = flate2::GzBuilder::new()
            .filename(vec![b'n'; len])
            .write(Vec::new(), flate2::Compression::fast());
        e.write_all(&a[a.len() / 2..]).unwrap();
        e.finish().unwrap()
    };
    for (len, tag) in [(511, "ok"), (512, "long")] {
        let layer = [gzip(&a[..a.len() / 2]), named(len)].concat();
        push(
            &r,
            "content/gzname",
            tag,
            ("linux", "amd64"),
            &[(GZIP_LAYER, layer, sha256(&a))],
        );
    }
    run(&r, "content/gzname:ok", "--content").expect(0, "");
    run(&r, "content/gzname:long", "--content")
        .expect(1, "unusable-entry")
        .says(&["invalid header", "file name of 512 bytes"]);
}

#[test]
fn layer_bytes_that_do_not_hash_to_the_digest_fail_and_one_missing_is_missing_content() {
    // docker-registry checks digests on upload, so a registry that serves other bytes is scripted.
    let img = fake_registry::Image::new();
    let fake = Fake::start();
    img.serve(&fake);
    let reference = format!("{}/app:v1", fake.host());
    let check = |flag: &str| {
        run_json(
            shipcheck(),
            &[&reference, "--platforms", "amd64,arm64", flag],
            None,
        )
    };
    check("--content").expect(0, "");
    let mut other = img.layers[1].clone();
    other[0] ^= 1;
    fake.route(
        &blob_path(&img.layers[1]),
        vec![ok("application/octet-stream", &other)],
    );
    // HEAD sees the right size: --deep passes; --content hashes the bytes.
    check("--deep").expect(0, "");
    check("--content").expect(1, "digest-mismatch").says(&[
        "layer 0",
        &sha256(&img.layers[1]),
        "hash to",
        &sha256(&other),
    ]);
    // Longer than its descriptor: refused without reading on.
    let mut longer = img.layers[1].clone();
    longer.extend_from_slice(b"more");
    fake.route(
        &blob_path(&img.layers[1]),
        vec![ok("application/octet-stream", &longer)],
    );
    check("--content").expect(1, "size-mismatch");
    fake.route(
        &blob_path(&img.layers[1]),
        vec![fake_registry::status(404, &[])],
    );
    check("--content").expect(1, "missing-content");
}

#[test]
fn an_audit_target_with_content_checks_the_layers() {
    let r = Registry::plain();
    let a = tar("a");
    let gz = gzip(&a);
    push(
        &r,
        "content/audit",
        "v1",
        ("linux", "amd64"),
        &[(GZIP_LAYER, gz.clone(), sha256(&gz))],
    );
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.toml");
    let reference = format!("{}/content/audit:v1", r.host());
    std::fs::write(
        &audit,
        format!(
            "[[image]]\nref = \"{reference}\"\nplatforms = [\"amd64\"]\n\n[[image]]\nref = \"{reference}\"\nplatforms = [\"amd64\"]\ncontent = true\n"
        ),
    )
    .unwrap();
    let out = shipcheck()
        .args(["audit", audit.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let results = v["results"].as_array().unwrap();
    let verdicts: Vec<&str> = results
        .iter()
        .map(|r| r["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["pass", "fail"], "{stdout}");
    assert!(
        common::codes(&results[1]).contains(&"digest-mismatch".to_string()),
        "{stdout}"
    );
}

/// Bytes that match both digests but are no tar archive the runtime can read fail the unpack
/// (Go's archive/tar under containerd: "invalid tar header", "unexpected EOF"): `unusable-entry`.
#[test]
fn content_that_is_no_tar_archive_is_unusable() {
    let r = Registry::plain();
    let junk: Vec<u8> = (0..5000u32).map(|i| (i * 31 + 7) as u8).collect();
    let mut bad_sum = tar("a");
    bad_sum[0] ^= 1; // the file name changes, the checksum no longer matches
    let good = tar("a");
    let cut = good[..good.len() - 2048].to_vec(); // inside the file's data
    for (tag, blob, mt) in [
        ("junk", junk.clone(), TAR_LAYER),
        ("sum", gzip(&bad_sum), GZIP_LAYER),
        ("cut", zstd(&cut), ZSTD_LAYER),
    ] {
        let inner = match mt {
            TAR_LAYER => junk.clone(),
            GZIP_LAYER => bad_sum.clone(),
            _ => cut.clone(),
        };
        let repo = format!("content/notar-{tag}");
        push(
            &r,
            &repo,
            "v1",
            ("linux", "amd64"),
            &[(mt, blob, sha256(&inner))],
        );
        run(&r, &format!("{repo}:v1"), "--deep").expect(0, "");
        run(&r, &format!("{repo}:v1"), "--content")
            .expect(1, "unusable-entry")
            .says(&["not a tar archive"]);
    }
}

/// A foreign (non-distributable) layer is fetched from the registry like any other when it names
/// no http(s) URL (containerd does not look at the type): `--content` checks it, and a missing one
/// is missing, not "served from elsewhere" (adversarial pass 24: both passed).
#[test]
fn a_foreign_layer_without_http_urls_is_checked_like_any_other() {
    const FOREIGN: &str = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
    let r = Registry::plain();
    let a = tar("a");
    let gz = gzip(&a);
    push(
        &r,
        "content/foreign",
        "v1",
        ("linux", "amd64"),
        &[(FOREIGN, gz.clone(), sha256(&gz))],
    );
    run(&r, "content/foreign:v1", "--content")
        .expect(1, "digest-mismatch")
        .says(&["rootfs.diff_ids[0]"]);
    // Named with an ftp URL only (skipped by containerd) and missing from the registry.
    let fake = Fake::start();
    let cfg = serde_json::to_vec(&json!({"os": "linux", "architecture": "amd64",
        "rootfs": {"type": "layers", "diff_ids": [sha256(&a)]}}))
    .unwrap();
    let m = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": sha256(&cfg), "size": cfg.len()},
        "layers": [{"mediaType": FOREIGN, "digest": sha256(&gz), "size": gz.len(), "urls": ["ftp://127.0.0.1:1/layer"]}]}))
    .unwrap();
    fake.route(
        "/v2/app/manifests/v1",
        vec![fake_registry::with_digest(ok(OCI_MANIFEST, &m), &m)],
    );
    fake.route(&blob_path(&cfg), vec![ok("application/octet-stream", &cfg)]);
    fake.route(&blob_path(&gz), vec![fake_registry::status(404, &[])]);
    let reference = format!("{}/app:v1", fake.host());
    for flag in ["--deep", "--content"] {
        run_json(
            shipcheck(),
            &[&reference, "--platforms", "amd64", flag],
            None,
        )
        .expect(1, "missing-content");
    }
}

/// The tar walk reads meta headers as Go's reader under containerd 1.6 does (adversarial pass 25,
/// each case compared with `ctr images pull`): a PAX `size` applies to the next entry, not to a
/// global header in between (so 1024 bytes of junk there are read as a header: the unpack fails;
/// this passed `--content`); an empty PAX value is skipped (this failed `--content` and unpacks);
/// a NUL type on a name ending in `/` is a directory, with no data (junk after it fails).
#[test]
fn meta_headers_are_read_as_the_runtime_reads_them() {
    use common::tar::{header, member, pax_records};
    let r = Registry::plain();
    let end = vec![0u8; 1024];
    // An old GNU sparse whiteout whose "extended" flag makes Go read the next block as more of
    // its map: the zero block after it is that block, not the end (adversarial pass 28).
    let mut sparse = header(".wh.foo", 0, b'S');
    sparse[257..265].copy_from_slice(b"ustar  \0");
    sparse[482] = 1;
    sparse[148..156].copy_from_slice(b"        ");
    let sum: u32 = sparse.iter().map(|&b| b as u32).sum();
    sparse[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    let cases: [(&str, Vec<u8>, i32); 4] = [
        (
            "sparse-extension",
            [sparse, vec![0u8; 1024], vec![b'J'; 512], end.clone()].concat(),
            1,
        ),
        (
            "size-then-g",
            [
                member("pax", b'x', &pax_records(&["size=1024"])),
                header("global", 0, b'g'),
                vec![b'J'; 1024],
                header("f", 0, b'0'),
                end.clone(),
            ]
            .concat(),
            1,
        ),
        (
            "empty-size",
            [
                member("pax", b'x', &pax_records(&["size="])),
                member("f", b'0', b"12"),
                end.clone(),
            ]
            .concat(),
            0,
        ),
        (
            "nul-type-dir",
            [
                member("pax", b'x', &pax_records(&["path=d/"])),
                header("f", 512, 0),
                vec![b'J'; 512],
                end.clone(),
            ]
            .concat(),
            1,
        ),
    ];
    // A PAX sparse file of format 1.0 (its map in the data, which the walk does not read):
    // undecided, not a pass.
    let sparse1 = [
        member(
            "pax",
            b'x',
            &pax_records(&["GNU.sparse.major=1", "GNU.sparse.minor=0"]),
        ),
        member("f", b'0', b"1\n0\n1\n"),
        end.clone(),
    ]
    .concat();
    push(
        &r,
        "content/meta",
        "sparse-1.0",
        ("linux", "amd64"),
        &[(TAR_LAYER, sparse1.clone(), sha256(&sparse1))],
    );
    run(&r, "content/meta:sparse-1.0", "--content")
        .expect(2, "unsupported-media-type")
        .says(&["format 1.0"]);
    for (tag, layer, exit) in cases {
        push(
            &r,
            "content/meta",
            tag,
            ("linux", "amd64"),
            &[(TAR_LAYER, layer.clone(), sha256(&layer))],
        );
        let run = run(&r, &format!("content/meta:{tag}"), "--content");
        if exit == 1 {
            run.expect(1, "unusable-entry")
                .says(&["not a tar archive the runtime can unpack"]);
        } else {
            run.expect(0, "");
        }
    }
}

/// `rootfs` is decoded by the runtime's Go JSON decoder, which folds key case (`DIFF_IDS`, `diff_idſ`
/// are `diff_ids`) and takes the last: a config listing the right `diff_ids` for shipcheck and
/// another spelling for containerd (bogus digests, or null) passed `--content` while containerd
/// failed the unpack (adversarial pass 30). Another spelling inside `rootfs` is refused like one at
/// the top level (could not decide), and so is a `rootfs` holding only another spelling, which
/// shipcheck had read as no layers at all.
#[test]
fn another_spelling_of_diff_ids_in_rootfs_is_not_read_past() {
    let r = Registry::plain();
    let a = tar("a");
    let blob = gzip(&a);
    let good = sha256(&a);
    let bogus = format!("sha256:{}", "ab".repeat(32));
    for (tag, rootfs) in [
        (
            "last-bogus",
            format!(r#""diff_ids":["{good}"],"DIFF_IDS":["{bogus}"]"#),
        ),
        (
            "last-null",
            format!(r#""diff_ids":["{good}"],"DIFF_IDS":null"#),
        ),
        (
            "long-s",
            format!(r#""diff_ids":["{good}"],"diff_id\u017f":["{bogus}"]"#),
        ),
        ("only-other", format!(r#""Diff_IDs":["{good}"]"#)),
    ] {
        let d = r.put_blob("content/fold", &blob);
        let config = format!(
            r#"{{"os":"linux","architecture":"amd64","config":{{}},"rootfs":{{"type":"layers",{rootfs}}}}}"#
        );
        let cd = r.put_blob("content/fold", config.as_bytes());
        let body = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": cd, "size": config.len()},
            "layers": [{"mediaType": GZIP_LAYER, "digest": d, "size": blob.len()}]}))
        .unwrap();
        r.put_manifest("content/fold", tag, OCI_MANIFEST, &body);
        let run = run(&r, &format!("content/fold:{tag}"), "--content");
        run.expect(2, "invalid-manifest");
        assert!(run.stdout.contains("rootfs"), "{tag}: {}", run.stdout);
    }
}

/// Entries Linux refuses to create on any file system, which containerd 1.6's unpack fails on
/// (compared with `ctr images pull` in adversarial pass 30, where each passed `--content`): an
/// extended attribute the kernel refuses, a symbolic link to an empty or overlong target, a name
/// component over 255 bytes. Attributes containerd ignores or Linux accepts still pass.
#[test]
fn entries_linux_refuses_to_create_are_unusable() {
    use common::tar::{header, member, pax_records};
    let r = Registry::plain();
    let end = vec![0u8; 1024];
    let with_records = |kvs: &[&str], entry: Vec<u8>| {
        [member("pax", b'x', &pax_records(kvs)), entry, end.clone()].concat()
    };
    let long_target = format!("linkpath={}", "t".repeat(5000));
    let long_name = format!("path=d/{}", "n".repeat(300));
    let big = format!("SCHILY.xattr.user.big={}", "v".repeat(70_000));
    let link_through = format!("linkpath={}/../f", "a".repeat(300));
    let cases = [
        (
            "xattr-empty-name",
            with_records(&["SCHILY.xattr.=v"], member("f", b'0', b"1")),
            1,
        ),
        (
            "xattr-value-too-big",
            with_records(&[&big], member("f", b'0', b"1")),
            1,
        ),
        (
            "bad-capability",
            with_records(
                &["SCHILY.xattr.security.capability=garbage"],
                member("f", b'0', b"1"),
            ),
            1,
        ),
        (
            "symlink-to-nothing",
            [header("l", 0, b'2'), end.clone()].concat(),
            1,
        ),
        (
            "hard-link-through-a-long-name",
            [
                member("f", b'0', b"1"),
                member("pax", b'x', &pax_records(&[&link_through])),
                header("h", 0, b'1'),
                end.clone(),
            ]
            .concat(),
            1,
        ),
        (
            "hard-link-to-itself",
            [
                member("f", b'0', b"1"),
                member("pax", b'x', &pax_records(&["linkpath=f"])),
                header("f", 0, b'1'),
                end.clone(),
            ]
            .concat(),
            1,
        ),
        (
            "symlink-too-long",
            with_records(&[&long_target], header("l", 0, b'2')),
            1,
        ),
        (
            "name-component-too-long",
            with_records(&[&long_name], member("f", b'0', b"1")),
            1,
        ),
        (
            "ignored-xattrs",
            with_records(
                &[
                    "SCHILY.xattr.foo.bar=v",
                    "SCHILY.xattr.trusted.x=v",
                    "SCHILY.xattr.user.ok=v",
                ],
                member("f", b'0', b"1"),
            ),
            0,
        ),
    ];
    for (tag, layer, exit) in cases {
        push(
            &r,
            "content/linux",
            tag,
            ("linux", "amd64"),
            &[(TAR_LAYER, layer.clone(), sha256(&layer))],
        );
        let run = run(&r, &format!("content/linux:{tag}"), "--content");
        if exit == 1 {
            run.expect(1, "unusable-entry")
                .says(&["not a tar archive the runtime can unpack"]);
        } else {
            run.expect(0, "");
        }
    }
}

/// What a layer's entries do to one another as containerd unpacks the layer (each layer into a
/// directory of its own, as its default overlayfs snapshotter and Docker do; compared with
/// `ctr images pull` in adversarial pass 36): a hard link to nothing the layer made, to a
/// directory, an entry under a file and symbolic links that loop fail; symbolic links on the way
/// are followed inside the layer; a whiteout of a name its own layer made fails above the image's
/// first layer only (overlayfs makes it a device there).
#[test]
fn entries_that_meet_on_the_file_system_are_replayed_as_containerd_unpacks_them() {
    use common::tar::{header, member, pax_records};
    let r = Registry::plain();
    let end = vec![0u8; 1024];
    let link = |name: &str, target: &str| {
        let record = format!("linkpath={target}");
        [
            member("pax", b'x', &pax_records(&[&record])),
            header(name, 0, b'1'),
        ]
        .concat()
    };
    let symlink = |name: &str, target: &str| {
        let record = format!("linkpath={target}");
        [
            member("pax", b'x', &pax_records(&[&record])),
            header(name, 0, b'2'),
        ]
        .concat()
    };
    let f = || member("f", b'0', b"1");
    let layer = |parts: &[Vec<u8>]| [parts.concat(), end.clone()].concat();
    // A 4097-byte name that a link to `.` makes `/n` (adversarial pass 37: it failed here).
    let x255 = "X".repeat(255);
    let long = format!("{}n", format!("{x255}/").repeat(16));
    let cases = [
        (
            "link-to-earlier-file",
            vec![layer(&[f(), link("h", "f")])],
            "",
        ),
        (
            "link-to-nothing",
            vec![layer(&[link("h", "f"), f()])],
            "ENOENT",
        ),
        (
            "link-to-a-directory",
            vec![layer(&[header("d/", 0, b'5'), link("h", "d/")])],
            "EPERM",
        ),
        (
            "file-under-a-file",
            vec![layer(&[f(), member("f/x", b'0', b"2")])],
            "ENOTDIR",
        ),
        (
            "link-through-a-file",
            vec![layer(&[f(), link("h", "f/x/../../f")])],
            "ENOTDIR",
        ),
        (
            "link-to-a-lower-layer",
            vec![layer(&[f()]), layer(&[link("h", "f")])],
            "ENOENT",
        ),
        (
            "file-under-a-lower-layers-file",
            vec![layer(&[f()]), layer(&[member("f/x", b'0', b"2")])],
            "",
        ),
        (
            "symlinks-that-loop",
            vec![layer(&[
                symlink("a", "b"),
                symlink("b", "a"),
                member("a/x", b'0', b"2"),
            ])],
            "too many links",
        ),
        (
            "directory-made-a-dangling-symlink",
            vec![layer(&[header("d/", 0, b'5'), symlink("d", "nowhere")])],
            "ENOENT",
        ),
        (
            "relative-link-at-the-top",
            vec![layer(&[
                symlink("x", "a/b"),
                symlink("s", "x/../t"),
                member("s/g", b'0', b"2"),
                link("h", "a/t/g"),
            ])],
            "",
        ),
        (
            "long-name-through-a-link-to-dot",
            vec![layer(&[
                [
                    member(
                        "pax",
                        b'x',
                        &pax_records(&[&format!("path={x255}"), "linkpath=."]),
                    ),
                    header("l", 0, b'2'),
                ]
                .concat(),
                [
                    member("pax", b'x', &pax_records(&[&format!("path={long}")])),
                    member("n", b'0', b"2"),
                ]
                .concat(),
            ])],
            "",
        ),
        (
            "whiteout-of-its-own-file-as-first-layer",
            vec![layer(&[f(), member(".wh.f", b'0', b"")])],
            "",
        ),
        (
            "whiteout-of-its-own-file-above-the-first",
            vec![
                layer(&[member("g", b'0', b"3")]),
                layer(&[f(), member(".wh.f", b'0', b"")]),
            ],
            "file exists",
        ),
        (
            "symlink-on-the-way",
            vec![layer(&[
                symlink("s", "d"),
                member("s/x", b'0', b"2"),
                link("h", "s/x"),
            ])],
            "",
        ),
    ];
    for (tag, layers, fails) in cases {
        let layers: Vec<_> = layers
            .into_iter()
            .map(|l| (TAR_LAYER, l.clone(), sha256(&l)))
            .collect();
        push(&r, "content/meet", tag, ("linux", "amd64"), &layers);
        let run = run(&r, &format!("content/meet:{tag}"), "--content");
        if fails.is_empty() {
            run.expect(0, "");
        } else {
            run.expect(1, "unusable-entry")
                .says(&["not a tar archive the runtime can unpack", fails]);
        }
    }
}

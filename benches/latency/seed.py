#!/usr/bin/env python3
"""Writes a static OCI registry tree for nginx: N distinct two-platform images (amd64, arm64/v8),
each an OCI index with two image manifests and two configs, under app<i>:v1.

    seed.py TREE N

Manifests are served by tag and by digest; blobs by digest. Every body carries its mediaType. nginx
serves the tag (the top manifest) as the index's media type, as registries do: runtimes read the top
manifest's type from Content-Type; below it, the descriptors name the types.
"""
import hashlib
import json
import os
import sys

tree, n = sys.argv[1], int(sys.argv[2])
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"


def put(path, body):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(body)


def digest(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


for i in range(n):
    repo = os.path.join(tree, "v2", f"app{i}")
    entries = []
    for arch, variant in (("amd64", None), ("arm64", "v8")):
        layer = f"layer {i} {arch}".encode()
        cfg = {"architecture": arch, "os": "linux", "config": {}, "rootfs": {"type": "layers", "diff_ids": [digest(layer)]}}
        if variant:
            cfg["variant"] = variant
        config = json.dumps(cfg).encode()
        put(os.path.join(repo, "blobs", digest(config)), config)
        put(os.path.join(repo, "blobs", digest(layer)), layer)
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": digest(config), "size": len(config)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest(layer), "size": len(layer)}],
        }).encode()
        put(os.path.join(repo, "manifests", digest(manifest)), manifest)
        platform = {"os": "linux", "architecture": arch}
        if variant:
            platform["variant"] = variant
        entries.append({"mediaType": OCI_MANIFEST, "digest": digest(manifest), "size": len(manifest), "platform": platform})
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}).encode()
    put(os.path.join(repo, "manifests", "v1"), index)
    put(os.path.join(repo, "manifests", digest(index)), index)

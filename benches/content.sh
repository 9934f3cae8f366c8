#!/usr/bin/env bash
# verify-image --content benchmark (not a test): a single-platform image whose one layer is a
# gzip-compressed tar of SIZE_MIB MiB (a file of base64 text, which compresses about as much as
# real layers), on a loopback docker-registry. shipcheck downloads the layer, hashes it, decompresses
# and hashes it again and walks the tar; compared with `skopeo copy` of the same image to a
# directory (which downloads and checks the compressed digest only, and writes the layer to disk).
# Also the peak RSS of shipcheck (GNU time).
#
#   benches/content.sh [SIZE_MIB=256] [RUNS=5] [FILES=0]
#
# With FILES > 0 the layer holds FILES empty files instead (in 1000 directories, as
# `d123/f456789`), where the per-entry checks and the replay of the entries weigh most.
#
# BASE=/path/to/an/older/shipcheck adds that binary to the comparison.
#
# Needs: hyperfine, skopeo, docker-registry, curl, gzip, tar, GNU time (/usr/bin/time).
set -euo pipefail
unset RUST_BACKTRACE RUST_LIB_BACKTRACE
cd "$(dirname "$0")/.."
SIZE=${1:-256}
RUNS=${2:-5}
FILES=${3:-0}
# shellcheck source=benches/registry.sh
. benches/registry.sh
if [ "$FILES" -gt 0 ]; then
    python3 - "$W/layer.tar" "$FILES" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.USTAR_FORMAT) as t:
    for i in range(int(sys.argv[2])):
        t.addfile(tarfile.TarInfo(f"d{i % 1000}/f{i}"))
PY
else
    head -c $((SIZE * 1024 * 1024 * 3 / 4)) /dev/urandom | base64 -w 0 > "$W/data"
    tar -cf "$W/layer.tar" -C "$W" data
fi
gzip -1 -c "$W/layer.tar" > "$W/layer.tar.gz"
rm -f "$W/data"
LD=$(put_blob bench/content "$W/layer.tar.gz")
printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
    "$(digest "$W/layer.tar")" > "$W/config"
CD=$(put_blob bench/content "$W/config")
printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"%s","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%s}]}' \
    "$OCI_M" "$OCI_C" "$CD" "$(size "$W/config")" "$LD" "$(size "$W/layer.tar.gz")" > "$W/m.json"
put_manifest bench/content "$W/m.json" "$OCI_M" v1
REF=127.0.0.1:$PORT/bench/content:v1
echo "== layer: $(( $(size "$W/layer.tar") / 1048576 )) MiB tar, $(( $(size "$W/layer.tar.gz") / 1048576 )) MiB gzip"
"$BIN" verify-image "$REF" "${SC_TLS[@]}" --platforms amd64 --content
BASE_CMD=()
[ -n "${BASE:-}" ] && BASE_CMD=(-n "base $(basename "$BASE")" "$BASE verify-image $REF ${SC_TLS[*]} --platforms amd64 --content --quiet")
hyperfine --warmup 1 --runs "$RUNS" -N \
    -n 'shipcheck verify-image --content' "$BIN verify-image $REF ${SC_TLS[*]} --platforms amd64 --content --quiet" \
    "${BASE_CMD[@]}" \
    -n 'skopeo copy to dir' --prepare "rm -rf $W/out" "skopeo copy -q ${SKOPEO_TLS[*]/--tls-verify/--src-tls-verify} docker://$REF dir:$W/out" \
    --export-markdown "$W/content.md" >/dev/null
cat "$W/content.md"
echo
echo "== peak RSS, shipcheck --content"
/usr/bin/time -f '%M KiB' "$BIN" verify-image "$REF" "${SC_TLS[@]}" --platforms amd64 --content --quiet

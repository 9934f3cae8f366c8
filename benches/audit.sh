#!/usr/bin/env bash
# audit benchmark (not a test): `shipcheck audit` over N image references (2-platform OCI indexes with
# attestations) on a loopback docker-registry with the default concurrency, doing the full
# verification, against a shell loop of `skopeo inspect --raw` over the same references (top manifest
# only), and the audit's peak RSS.
#
#   benches/audit.sh [N=200]      LAYOUT=distinct benches/audit.sh [N=200]      TLS=1 ...
#
# LAYOUT=tags (default): 20 repositories x N/20 tags, the tags of a repository naming one index (as a
# release is tagged v1.4.2, v1.4 and latest). Every tag is resolved and its index checked; platform
# manifests and configs verified for one tag are reused by the others (ContentCache).
# LAYOUT=distinct: every reference is its own image (N indexes, 2N platform manifests, 2N configs),
# so nothing is reused: 6 requests per reference (the index by GET and HEAD, 2 manifests, 2 configs).
#
# Needs: hyperfine, skopeo, docker-registry, curl, python3, /usr/bin/time; ab (apache2-utils) optional.
set -euo pipefail
# As users run it: with RUST_BACKTRACE=1 (set in many CI and test shells) every anyhow error that
# sequoia builds while parsing normally captures a backtrace, which costs milliseconds.
unset RUST_BACKTRACE RUST_LIB_BACKTRACE
cd "$(dirname "$0")/.."
N=${1:-200}
LAYOUT=${LAYOUT:-tags}
# shellcheck source=benches/registry.sh
. benches/registry.sh

REPOS=20
PER=$(( (N + REPOS - 1) / REPOS ))
: > "$W/audit.toml"
: > "$W/refs"
n=0
for r in $(seq 1 $REPOS); do
    [ "$LAYOUT" = distinct ] || push_multi "team/app$r" v1
    for t in $(seq 1 $PER); do
        [ $n -lt "$N" ] || break
        if [ "$LAYOUT" = distinct ]; then
            push_multi "team/app$r" "v$t"
        elif [ "$t" != 1 ]; then
            put_manifest "team/app$r" "$W/index.json" application/vnd.oci.image.index.v1+json "v$t"
        fi
        ref=127.0.0.1:$PORT/team/app$r:v$t
        printf '[[image]]\nref = "%s"\nplatforms = ["linux/amd64", "linux/arm64"]\n\n' "$ref" >> "$W/audit.toml"
        echo "$ref" >> "$W/refs"
        n=$((n + 1))
    done
done
cat > "$W/skopeo-loop.sh" <<LOOP
while read -r ref; do skopeo inspect --raw ${SKOPEO_TLS[*]} "docker://\$ref" >/dev/null; done < "$W/refs"
LOOP

echo "== check: the audit passes all $N references"
"$BIN" audit "$W/audit.toml" "${SC_TLS[@]}" --format text | tail -1

echo
echo "== $N references ($SCHEME, LAYOUT=$LAYOUT): shipcheck audit (full check, default concurrency) vs skopeo inspect --raw loop"
hyperfine --warmup 1 --runs 5 \
    -n 'skopeo inspect --raw loop' "bash $W/skopeo-loop.sh" \
    -n 'shipcheck audit' "$BIN audit $W/audit.toml ${SC_TLS[*]} --quiet" \
    --export-markdown "$W/audit.md" >/dev/null
cat "$W/audit.md"

echo
echo "== peak RSS of the audit: $(/usr/bin/time -f %M "$BIN" audit "$W/audit.toml" "${SC_TLS[@]}" --quiet 2>&1 >/dev/null | tail -1) KiB"

# Where the time goes: the registry's own CPU for one audit (docker-registry 2.8 spends about 1 ms of
# CPU per request here, even for GET /v2/; a full check needs 6 requests per image against skopeo's 2).
REGCPU0=$(awk '{print $14+$15}' "/proc/$REG_PID/stat")
/usr/bin/time -f "shipcheck audit: %e s wall, %U s user, %S s sys" "$BIN" audit "$W/audit.toml" "${SC_TLS[@]}" --quiet >/dev/null
REGCPU1=$(awk '{print $14+$15}' "/proc/$REG_PID/stat")
echo "docker-registry CPU during that audit: $(( (REGCPU1 - REGCPU0) * 1000 / $(getconf CLK_TCK) )) ms"
SHIPCHECK_TRACE_REQUESTS=1 "$BIN" audit "$W/audit.toml" "${SC_TLS[@]}" --quiet 2>&1 >/dev/null | grep reused

# The registry's CPU per request by kind, 1000 keep-alive GETs each with ab (when installed): a blob GET
# costs docker-registry 2.8 a 4 MiB read buffer, a manifest GET does not.
if command -v ab >/dev/null && [ "$SCHEME" = http ]; then
    MD=$(digest "$W/m-amd64.json")
    CD=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"]["digest"])' "$W/m-amd64.json")
    for path in "manifests/$MD" "blobs/$CD"; do
        C0=$(awk '{print $14+$15}' "/proc/$REG_PID/stat")
        ab -q -k -n 1000 -c 4 -H "Accept: $OCI_M" "http://127.0.0.1:$PORT/v2/team/app$REPOS/$path" >/dev/null
        C1=$(awk '{print $14+$15}' "/proc/$REG_PID/stat")
        echo "docker-registry CPU per GET ${path%%/*}: $(( (C1 - C0) * 1000000 / $(getconf CLK_TCK) / 1000 )) us"
    done
fi

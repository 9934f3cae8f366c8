#!/usr/bin/env bash
# audit benchmark (not a test): `shipcheck audit` over N image references (2-platform OCI indexes with
# attestations, 20 repositories x N/20 tags) on a loopback docker-registry with the default concurrency,
# doing the full verification, against a shell loop of `skopeo inspect --raw` over the same references
# (top manifest only), and the audit's peak RSS.
#
#   benches/audit.sh [N=200]          TLS=1 benches/audit.sh [N=200]
#
# Needs: hyperfine, skopeo, docker-registry, curl, python3, /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200}
# shellcheck source=benches/registry.sh
. benches/registry.sh

REPOS=20
PER=$(( (N + REPOS - 1) / REPOS ))
: > "$W/audit.toml"
: > "$W/refs"
n=0
for r in $(seq 1 $REPOS); do
    push_multi "team/app$r" v1
    for t in $(seq 1 $PER); do
        [ $n -lt "$N" ] || break
        # Same index under several tags: every reference is verified in full all the same.
        [ "$t" = 1 ] || put_manifest "team/app$r" "$W/index.json" application/vnd.oci.image.index.v1+json "v$t"
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
echo "== $N references ($SCHEME): shipcheck audit (full check, default concurrency) vs skopeo inspect --raw loop"
hyperfine --warmup 1 --runs 5 \
    -n 'skopeo inspect --raw loop' "bash $W/skopeo-loop.sh" \
    -n 'shipcheck audit' "$BIN audit $W/audit.toml ${SC_TLS[*]} --quiet" \
    --export-markdown "$W/audit.md" >/dev/null
cat "$W/audit.md"

echo
echo "== peak RSS of the audit: $(/usr/bin/time -f %M "$BIN" audit "$W/audit.toml" "${SC_TLS[@]}" --quiet 2>&1 >/dev/null | tail -1) KiB"

# Where the time goes: the registry's own CPU for one audit (docker-registry spends ~2 ms of CPU per
# request here, and a full check needs 5 requests per image against skopeo's 2).
REGCPU0=$(awk '{print $14+$15}' "/proc/$REG_PID/stat")
/usr/bin/time -f "shipcheck audit: %e s wall, %U s user, %S s sys" "$BIN" audit "$W/audit.toml" "${SC_TLS[@]}" --quiet >/dev/null
REGCPU1=$(awk '{print $14+$15}' "/proc/$REG_PID/stat")
echo "docker-registry CPU during that audit: $(( (REGCPU1 - REGCPU0) * 1000 / $(getconf CLK_TCK) )) ms"

#!/usr/bin/env bash
# verify-image benchmark (not a test): a 2-platform OCI index (amd64 + arm64, with buildx-style
# attestations) on a loopback docker-registry, fully verified by shipcheck (index, both platform
# manifests, both configs) against `skopeo inspect --raw` on the same tag (top manifest only), and the
# number of HTTP requests shipcheck sends per verified image (SHIPCHECK_TRACE_REQUESTS=1).
#
#   benches/image.sh [RUNS=50]          plain HTTP registry on 127.0.0.1
#   TLS=1 benches/image.sh [RUNS=50]    HTTPS registry (self-signed cert made with openssl)
#
# Note: on a plain-HTTP loopback registry shipcheck first tries HTTPS (as Docker does for localhost)
# and falls back. Real registries (ECR) speak HTTPS.
#
# Needs: hyperfine, skopeo, docker-registry, curl, sha256sum.
# As root: apt-get install -y hyperfine skopeo docker-registry curl coreutils
set -euo pipefail
# As users run it: with RUST_BACKTRACE=1 (set in many CI and test shells) every anyhow error that
# sequoia builds while parsing normally captures a backtrace, which costs milliseconds.
unset RUST_BACKTRACE RUST_LIB_BACKTRACE
cd "$(dirname "$0")/.."
RUNS=${1:-50}
# shellcheck source=benches/registry.sh
. benches/registry.sh
push_multi bench/app v1
REF=127.0.0.1:$PORT/bench/app:v1

echo "== requests per verified image (SHIPCHECK_TRACE_REQUESTS=1)"
SHIPCHECK_TRACE_REQUESTS=1 "$BIN" verify-image "$REF" "${SC_TLS[@]}" --platforms amd64,arm64 --quiet 2>&1 | tail -1
SHIPCHECK_TRACE_REQUESTS=1 "$BIN" verify-image "$REF" "${SC_TLS[@]}" --platforms amd64,arm64 --deep --quiet 2>&1 | tail -1 | sed 's/$/ (--deep)/'

echo
echo "== 2-platform index, loopback registry ($SCHEME): shipcheck full check vs skopeo inspect --raw (top manifest only)"
hyperfine --warmup 3 --runs "$RUNS" -N \
    -n 'skopeo inspect --raw' "skopeo inspect --raw ${SKOPEO_TLS[*]} docker://$REF" \
    -n 'shipcheck verify-image' "$BIN verify-image $REF ${SC_TLS[*]} --platforms amd64,arm64 --quiet" \
    -n 'shipcheck verify-image --deep' "$BIN verify-image $REF ${SC_TLS[*]} --platforms amd64,arm64 --deep --quiet" \
    --export-markdown "$W/image.md" >/dev/null
cat "$W/image.md"

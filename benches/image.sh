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
# and falls back; that failed handshake costs ~40 ms here. Real registries (ECR) speak HTTPS.
#
# Needs: hyperfine, skopeo, docker-registry, curl, sha256sum.
# As root: apt-get install -y hyperfine skopeo docker-registry curl coreutils
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-50}
cargo build --release --locked --quiet
BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/shipcheck
W=$(mktemp -d)
REG_PID=
cleanup() { [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$W/config.yml" <<CONF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $W/storage}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$PORT}
CONF
SCHEME=http; CURL=(curl); SC_TLS=(); SKOPEO_TLS=(--tls-verify=false)
if [ "${TLS:-0}" = 1 ]; then
    mkdir -p "$W/certs"
    openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=bench-ca -days 1 \
        -keyout "$W/ca.key" -out "$W/certs/ca.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$W/key.pem" -out "$W/srv.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' > "$W/ext.cnf"
    openssl x509 -req -in "$W/srv.csr" -CA "$W/certs/ca.crt" -CAkey "$W/ca.key" -CAcreateserial -days 1 \
        -extfile "$W/ext.cnf" -out "$W/srv.pem" 2>/dev/null
    printf '  tls: {certificate: %s, key: %s}\n' "$W/srv.pem" "$W/key.pem" >> "$W/config.yml"
    sed -i 's/^http: {addr: \(.*\)}$/http:\n  addr: \1/' "$W/config.yml"
    SCHEME=https; CURL=(curl --cacert "$W/certs/ca.crt"); SC_TLS=(--ca-cert "$W/certs/ca.crt"); SKOPEO_TLS=(--cert-dir "$W/certs")
fi
docker-registry serve "$W/config.yml" >"$W/registry.log" 2>&1 & REG_PID=$!
for _ in $(seq 100); do "${CURL[@]}" -fs "$SCHEME://127.0.0.1:$PORT/v2/" >/dev/null && break; sleep 0.05; done
BASE=$SCHEME://127.0.0.1:$PORT/v2/bench/app

digest() { echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }
size() { stat -c %s "$1"; }
put_blob() { # file -> prints digest
    local d loc
    d=$(digest "$1")
    loc=$("${CURL[@]}" -fsS -X POST -D - -o /dev/null "$BASE/blobs/uploads/" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
    case "$loc" in http*) ;; *) loc="$SCHEME://127.0.0.1:$PORT$loc" ;; esac
    "${CURL[@]}" -fsS -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$1" "$loc&digest=$d" >/dev/null
    echo "$d"
}
put_manifest() { # file media-type reference
    "${CURL[@]}" -fsS -X PUT -H "Content-Type: $2" --data-binary "@$1" "$BASE/manifests/$3" >/dev/null
}
image() { # arch variant -> writes $W/m-$1.json
    local arch=$1 variant=$2
    head -c 4096 /dev/urandom > "$W/layer-$arch"
    local ld; ld=$(put_blob "$W/layer-$arch")
    printf '{"architecture":"%s","os":"linux"%s,"config":{},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
        "$arch" "${variant:+,\"variant\":\"$variant\"}" "$ld" > "$W/config-$arch"
    local cd; cd=$(put_blob "$W/config-$arch")
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%s}]}' \
        "$cd" "$(size "$W/config-$arch")" "$ld" "$(size "$W/layer-$arch")" > "$W/m-$arch.json"
    put_manifest "$W/m-$arch.json" application/vnd.oci.image.manifest.v1+json "$(digest "$W/m-$arch.json")"
}
attestation() { # arch -> writes $W/a-$1.json
    printf '{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"digest":{"sha256":"%s"}}]}' "$(digest "$W/m-$1.json" | cut -d: -f2)" > "$W/st-$1"
    local sd; sd=$(put_blob "$W/st-$1")
    printf '{"architecture":"unknown","os":"unknown","config":{},"rootfs":{"type":"layers","diff_ids":[]}}' > "$W/ac-$1"
    local cd; cd=$(put_blob "$W/ac-$1")
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.in-toto+json","digest":"%s","size":%s}]}' \
        "$cd" "$(size "$W/ac-$1")" "$sd" "$(size "$W/st-$1")" > "$W/a-$1.json"
    put_manifest "$W/a-$1.json" application/vnd.oci.image.manifest.v1+json "$(digest "$W/a-$1.json")"
}
entry() { # file platform-json [annotations-json]
    printf '{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"platform":%s%s}' \
        "$(digest "$1")" "$(size "$1")" "$2" "${3:+,\"annotations\":$3}"
}
image amd64 ""
image arm64 v8
attestation amd64
attestation arm64
att() { printf '{"vnd.docker.reference.type":"attestation-manifest","vnd.docker.reference.digest":"%s"}' "$(digest "$W/m-$1.json")"; }
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s,%s,%s,%s]}' \
    "$(entry "$W/m-amd64.json" '{"os":"linux","architecture":"amd64"}')" \
    "$(entry "$W/m-arm64.json" '{"os":"linux","architecture":"arm64","variant":"v8"}')" \
    "$(entry "$W/a-amd64.json" '{"os":"unknown","architecture":"unknown"}' "$(att amd64)")" \
    "$(entry "$W/a-arm64.json" '{"os":"unknown","architecture":"unknown"}' "$(att arm64)")" > "$W/index.json"
put_manifest "$W/index.json" application/vnd.oci.image.index.v1+json v1
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

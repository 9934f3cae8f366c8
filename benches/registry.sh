# Sourced by the image and audit benchmarks: a loopback docker-registry (plain HTTP, or HTTPS with a
# throwaway CA when TLS=1) and `push_multi REPO TAG`, which pushes a buildx-style 2-platform OCI index
# (amd64 + arm64/v8, each with an attestation manifest) through the registry API with curl.
#
# Builds shipcheck (BIN), makes a temp dir (W) removed on exit with the registry stopped, and sets PORT,
# SCHEME, CURL, SC_TLS (shipcheck flags), SKOPEO_TLS.

. benches/lib.sh
cargo build --release --locked --quiet
BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/shipcheck
W=$(mktemp -d)
REG_PID=
cleanup() { [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT

PORT=$(free_port)
cat > "$W/config.yml" <<CONF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $W/storage}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$PORT}
CONF
SCHEME=http; CURL=(curl); SC_TLS=(); SKOPEO_TLS=(--tls-verify=false)
if [ "${TLS:-0}" = 1 ]; then
    make_test_certs "$W"
    printf '  tls: {certificate: %s, key: %s}\n' "$W/srv.pem" "$W/key.pem" >> "$W/config.yml"
    sed -i 's/^http: {addr: \(.*\)}$/http:\n  addr: \1/' "$W/config.yml"
    SCHEME=https; CURL=(curl --cacert "$W/certs/ca.crt"); SC_TLS=(--ca-cert "$W/certs/ca.crt"); SKOPEO_TLS=(--cert-dir "$W/certs")
fi
docker-registry serve "$W/config.yml" >"$W/registry.log" 2>&1 & REG_PID=$!
for _ in $(seq 100); do "${CURL[@]}" -fs "$SCHEME://127.0.0.1:$PORT/v2/" >/dev/null && break; sleep 0.05; done

digest() { echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }
size() { stat -c %s "$1"; }
put_blob() { # repo file -> prints digest
    local d loc
    d=$(digest "$2")
    loc=$("${CURL[@]}" -fsS -X POST -D - -o /dev/null "$SCHEME://127.0.0.1:$PORT/v2/$1/blobs/uploads/" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
    case "$loc" in http*) ;; *) loc="$SCHEME://127.0.0.1:$PORT$loc" ;; esac
    "${CURL[@]}" -fsS -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$2" "$loc&digest=$d" >/dev/null
    echo "$d"
}
put_manifest() { # repo file media-type reference
    "${CURL[@]}" -fsS -X PUT -H "Content-Type: $3" --data-binary "@$2" "$SCHEME://127.0.0.1:$PORT/v2/$1/manifests/$4" >/dev/null
}
OCI_M=application/vnd.oci.image.manifest.v1+json
OCI_C=application/vnd.oci.image.config.v1+json
image() { # repo arch variant -> writes $W/m-$2.json
    local repo=$1 arch=$2 variant=$3
    head -c 4096 /dev/urandom > "$W/layer-$arch"
    local ld; ld=$(put_blob "$repo" "$W/layer-$arch")
    printf '{"architecture":"%s","os":"linux"%s,"config":{},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
        "$arch" "${variant:+,\"variant\":\"$variant\"}" "$ld" > "$W/config-$arch"
    local cd; cd=$(put_blob "$repo" "$W/config-$arch")
    printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"%s","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%s}]}' \
        "$OCI_M" "$OCI_C" "$cd" "$(size "$W/config-$arch")" "$ld" "$(size "$W/layer-$arch")" > "$W/m-$arch.json"
    put_manifest "$repo" "$W/m-$arch.json" "$OCI_M" "$(digest "$W/m-$arch.json")"
}
attestation() { # repo arch -> writes $W/a-$2.json
    local repo=$1 arch=$2
    printf '{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"digest":{"sha256":"%s"}}]}' "$(digest "$W/m-$arch.json" | cut -d: -f2)" > "$W/st-$arch"
    local sd; sd=$(put_blob "$repo" "$W/st-$arch")
    printf '{"architecture":"unknown","os":"unknown","config":{},"rootfs":{"type":"layers","diff_ids":[]}}' > "$W/ac-$arch"
    local cd; cd=$(put_blob "$repo" "$W/ac-$arch")
    printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"%s","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.in-toto+json","digest":"%s","size":%s}]}' \
        "$OCI_M" "$OCI_C" "$cd" "$(size "$W/ac-$arch")" "$sd" "$(size "$W/st-$arch")" > "$W/a-$arch.json"
    put_manifest "$repo" "$W/a-$arch.json" "$OCI_M" "$(digest "$W/a-$arch.json")"
}
entry() { # file platform-json [annotations-json]
    printf '{"mediaType":"%s","digest":"%s","size":%s,"platform":%s%s}' \
        "$OCI_M" "$(digest "$1")" "$(size "$1")" "$2" "${3:+,\"annotations\":$3}"
}
att() { printf '{"vnd.docker.reference.type":"attestation-manifest","vnd.docker.reference.digest":"%s"}' "$(digest "$W/m-$1.json")"; }
push_multi() { # repo tag
    image "$1" amd64 ""
    image "$1" arm64 v8
    attestation "$1" amd64
    attestation "$1" arm64
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s,%s,%s,%s]}' \
        "$(entry "$W/m-amd64.json" '{"os":"linux","architecture":"amd64"}')" \
        "$(entry "$W/m-arm64.json" '{"os":"linux","architecture":"arm64","variant":"v8"}')" \
        "$(entry "$W/a-amd64.json" '{"os":"unknown","architecture":"unknown"}' "$(att amd64)")" \
        "$(entry "$W/a-arm64.json" '{"os":"unknown","architecture":"unknown"}' "$(att arm64)")" > "$W/index.json"
    put_manifest "$1" "$W/index.json" application/vnd.oci.image.index.v1+json "$2"
}

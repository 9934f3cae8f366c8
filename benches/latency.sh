#!/usr/bin/env bash
# Latency benchmark (not a test): shipcheck against a registry 10-100 ms away, where round trips
# and requests in flight decide the time, not CPU.
#
#   benches/latency.sh [IMAGES=200] [RTT_MS=10] [TLS=0|1] [SKOPEO_SAMPLE=all|N]
#
# The registry is static: nginx serving a tree that benches/latency/seed.py writes (IMAGES distinct
# two-platform OCI images), so each request costs the registry almost no CPU (Debian's
# docker-registry spends about 1 ms of CPU per request, which would hide the latency we measure).
# In front of it, benches/latency/delay_proxy.py delays each direction by RTT/2. With TLS=1, nginx
# speaks HTTPS with HTTP/2 (ALPN) under a throwaway CA.
#
# Prints, for an audit of every image and for verify-image of one image: wall time, the same for a
# `skopeo inspect --raw` loop over the same references (the top manifest only: skopeo does less
# work), the ratio, requests served (nginx's log), connections opened (the proxy's count), peak RSS,
# and the latency floor (4 round trips: connect, index, platform manifest, config; with TLS one more
# for the handshake).
# SKOPEO_SAMPLE=N times skopeo on the first N references and scales to all (skopeo takes about
# 4 round trips per image, one image after another).
#
# Needs: nginx-light, python3, skopeo, openssl, bc, /usr/bin/time (apt-get install -y nginx-light
# skopeo openssl bc time).
set -euo pipefail
# As users run it: with RUST_BACKTRACE=1 (set in many CI and test shells) every anyhow error that
# sequoia builds while parsing normally captures a backtrace, which costs milliseconds.
unset RUST_BACKTRACE RUST_LIB_BACKTRACE
cd "$(dirname "$0")/.."
. benches/lib.sh
IMAGES=${1:-200}
RTT=${2:-10}
TLS=${3:-0}
SAMPLE=${4:-all}
cargo build --release --locked --quiet
BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/shipcheck
W=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$W"; }
trap cleanup EXIT

python3 benches/latency/seed.py "$W/tree" "$IMAGES"
NGINX_PORT=$(free_port)
PROXY_PORT=$(free_port)
mkdir -p "$W/tmp" "$W/certs"
LISTEN="listen 127.0.0.1:$NGINX_PORT;"
SCHEME=http; SC_TLS=(); SKOPEO_TLS=(--tls-verify=false)
if [ "$TLS" = 1 ]; then
    make_test_certs "$W"
    # TLS 1.3 as registries speak it (ECR, Docker Hub, GHCR); Debian 12's nginx 1.22 offers only up to
    # TLS 1.2 unless told, which costs every client one more round trip per connection.
    LISTEN="listen 127.0.0.1:$NGINX_PORT ssl http2; ssl_protocols TLSv1.2 TLSv1.3; ssl_certificate $W/srv.pem; ssl_certificate_key $W/key.pem;"
    SCHEME=https; SC_TLS=(--ca-cert "$W/certs/ca.crt"); SKOPEO_TLS=(--cert-dir "$W/certs")
fi
cat > "$W/nginx.conf" <<CONF
daemon off; master_process off; worker_processes 1;
pid $W/nginx.pid; error_log $W/nginx.err warn;
events { worker_connections 4096; }
http { access_log $W/access.log; client_body_temp_path $W/tmp/b; proxy_temp_path $W/tmp/p;
  fastcgi_temp_path $W/tmp/f; uwsgi_temp_path $W/tmp/u; scgi_temp_path $W/tmp/s;
  keepalive_requests 100000; http2_max_concurrent_streams 256;
  server { $LISTEN root $W/tree; default_type application/json; types { }
    location = /v2/ { return 200 '{}'; }
    location ~ ^/v2/[^/]+/manifests/v1\$ { default_type application/vnd.oci.image.index.v1+json; } } }
CONF
/usr/sbin/nginx -p "$W" -e "$W/nginx.err" -c "$W/nginx.conf" & PIDS+=($!)
python3 benches/latency/delay_proxy.py "$PROXY_PORT" "$NGINX_PORT" "$((RTT / 2))" "$W/conns" & PIDS+=($!)
sleep 0.5
HOST=127.0.0.1:$PROXY_PORT

for i in $(seq 0 $((IMAGES - 1))); do
    printf '[[image]]\nref = "%s/app%d:v1"\nplatforms = ["amd64", "arm64"]\n' "$HOST" "$i"
done > "$W/audit.toml"

now() { date +%s.%N; }
requests() { wc -l < "$W/access.log"; }
conns() { cat "$W/conns" 2>/dev/null || echo 0; }
measure() { # label cmd... -> "seconds requests connections rss_kib"
    : > "$W/access.log"; echo 0 > "$W/conns"
    local t0 t1 rss
    t0=$(now)
    /usr/bin/time -o "$W/rss" -f '%M' "$@" >/dev/null 2>&1 || true
    rss=$(tail -1 "$W/rss")
    t1=$(now)
    echo "$(echo "$t1 - $t0" | bc -l) $(requests) $(conns) $rss"
}

TRIPS=4; [ "$TLS" = 1 ] && TRIPS=5
FLOOR=$(echo "$TRIPS * $RTT / 1000" | bc -l)
echo "== $IMAGES distinct two-platform images, ${RTT} ms round trip, $SCHEME ($( [ "$TLS" = 1 ] && echo 'HTTP/2 offered' || echo 'HTTP/1.1'))"
read -r SC_T SC_REQ SC_CONN SC_RSS < <(measure "$BIN" audit "$W/audit.toml" --quiet "${SC_TLS[@]}")
# Verdict check outside the timing: every image must pass.
"$BIN" audit "$W/audit.toml" --quiet "${SC_TLS[@]}" >/dev/null || { echo "audit did not pass"; exit 1; }
N=$IMAGES; [ "$SAMPLE" != all ] && N=$SAMPLE
printf 'for i in $(seq 0 %d); do skopeo inspect --raw %s "docker://%s/app$i:v1" >/dev/null; done\n' \
    "$((N - 1))" "${SKOPEO_TLS[*]}" "$HOST" > "$W/skopeo_loop.sh"
read -r SK_T SK_REQ SK_CONN _ < <(measure bash "$W/skopeo_loop.sh")
SK_ALL=$(echo "$SK_T * $IMAGES / $N" | bc -l)
printf 'shipcheck audit:        %7.3f s  %5d requests  %4d connections  peak RSS %d KiB\n' "$SC_T" "$SC_REQ" "$SC_CONN" "$SC_RSS"
printf 'skopeo inspect --raw:   %7.3f s  %5d requests  %4d connections%s\n' "$SK_ALL" "$SK_REQ" "$SK_CONN" \
    "$( [ "$N" != "$IMAGES" ] && echo "  (timed on $N references, scaled to $IMAGES)")"
printf 'ratio skopeo/shipcheck: %7.1fx\n' "$(echo "$SK_ALL / $SC_T" | bc -l)"
printf 'latency floor:          %7.3f s  (shipcheck is %.1fx the floor)\n' "$FLOOR" "$(echo "$SC_T / $FLOOR" | bc -l)"

echo
echo "== verify-image of one two-platform image, ${RTT} ms round trip"
V=()
for _ in 1 2 3 4 5; do read -r t _ _ _ < <(measure "$BIN" verify-image "$HOST/app0:v1" --platforms amd64,arm64 --quiet "${SC_TLS[@]}"); V+=("$t"); done
S=()
for _ in 1 2 3 4 5; do read -r t _ _ _ < <(measure skopeo inspect --raw "${SKOPEO_TLS[@]}" "docker://$HOST/app0:v1"); S+=("$t"); done
median() { printf '%s\n' "$@" | sort -n | sed -n 3p; }
VM=$(median "${V[@]}"); SM=$(median "${S[@]}")
printf 'shipcheck verify-image: %7.3f s (median of 5)\nskopeo inspect --raw:   %7.3f s (median of 5)\nratio shipcheck/skopeo: %7.2f\n' \
    "$VM" "$SM" "$(echo "$VM / $SM" | bc -l)"
# What the network alone costs each: shipcheck's chain is connect (+ TLS), index, platform manifests,
# configs (each step needs the digests of the one before); skopeo's is connect (+ TLS), the /v2/
# ping, the top manifest.
printf 'latency floor:          %7.3f s shipcheck (%d round trips), %.3f s skopeo (%d)\n' \
    "$FLOOR" "$TRIPS" "$(echo "($TRIPS - 1) * $RTT / 1000" | bc -l)" "$((TRIPS - 1))"
echo
echo "== request timeline of one verify-image (SHIPCHECK_TRACE_REQUESTS=1)"
SHIPCHECK_TRACE_REQUESTS=1 "$BIN" verify-image "$HOST/app0:v1" --platforms amd64,arm64 --quiet "${SC_TLS[@]}" 2>&1 >/dev/null | grep -E '^request|HTTP requests' || true

#!/usr/bin/env bash
# verify-bin benchmark (not a test): wall time against sqv and gpgv on the same file and signature,
# download-and-verify against curl + gpgv run one after the other, and peak RSS on a 1 GiB file.
#
#   benches/verify_bin.sh [SIZE_MIB=256] [DIGEST=SHA256] [KEY_ALGO=ed25519]
#
# Targets (issue 11): the 256 MiB local file at most 1.05x sqv's time; a small (4 KiB) file at most
# 2x sqv's time.
#
# Needs: hyperfine, sqv, gpgv, gpg (only to make the bench key and signature), curl, nginx-light,
# /usr/bin/time. As root: apt-get install -y hyperfine sqv gpgv gnupg curl nginx-light time
set -euo pipefail
# As users run it: with RUST_BACKTRACE=1 (set in many CI and test shells) every anyhow error that
# sequoia builds while parsing normally captures a backtrace, which costs milliseconds.
unset RUST_BACKTRACE RUST_LIB_BACKTRACE
cd "$(dirname "$0")/.."
. benches/lib.sh
SIZE=${1:-256}
DIGEST=${2:-SHA256}
KEY_ALGO=${3:-ed25519}
cargo build --release --locked --quiet
BIN=$PWD/target/release/shipcheck
W=$(mktemp -d)
NGINX_PID=
cleanup() { [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT

export GNUPGHOME=$W/gnupg
mkdir -m 700 "$GNUPGHOME" "$W/www" "$W/dl" "$W/tmp"
gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
    --quick-gen-key 'bench <bench@shipcheck.test>' "$KEY_ALGO" sign never 2>/dev/null
gpg --batch --export --armor > "$W/key.asc"
gpg --batch --export > "$W/key.gpg"

make_file() { # name MiB
    head -c "$(($2 * 1024 * 1024))" /dev/urandom > "$W/www/$1"
    gpg --batch --quiet --detach-sign --armor --digest-algo "$DIGEST" -o "$W/www/$1.asc" "$W/www/$1"
}
make_file file "$SIZE"

PORT=$(free_port)
cat > "$W/nginx.conf" <<CONF
daemon off; master_process off; worker_processes 1;
pid $W/nginx.pid; error_log $W/nginx.err warn;
events { worker_connections 64; }
http { access_log off; client_body_temp_path $W/tmp/b; proxy_temp_path $W/tmp/p;
  fastcgi_temp_path $W/tmp/f; uwsgi_temp_path $W/tmp/u; scgi_temp_path $W/tmp/s;
  default_type application/octet-stream; types { } sendfile on;
  server { listen 127.0.0.1:$PORT; root $W/www; } }
CONF
/usr/sbin/nginx -p "$W" -e "$W/nginx.err" -c "$W/nginx.conf" & NGINX_PID=$!
sleep 0.3
URL=http://127.0.0.1:$PORT/file

small_file() { # name bytes
    head -c "$2" /dev/urandom > "$W/www/$1"
    gpg --batch --quiet --detach-sign --armor --digest-algo "$DIGEST" -o "$W/www/$1.asc" "$W/www/$1"
}
small_file small 4096
echo "== 4 KiB, ${DIGEST} signature, ${KEY_ALGO} key, local file: shipcheck vs sqv"
hyperfine --warmup 5 --runs 50 -N \
    -n sqv "sqv --keyring $W/key.gpg $W/www/small.asc $W/www/small" \
    -n shipcheck "$BIN verify-bin --file $W/www/small --sig $W/www/small.asc --key $W/key.asc --quiet" \
    --export-markdown "$W/small.md" >/dev/null
cat "$W/small.md"
echo

echo "== ${SIZE} MiB, ${DIGEST} signature, ${KEY_ALGO} key, local file: shipcheck vs sqv vs gpgv"
hyperfine --warmup 2 --runs 10 -N \
    -n sqv "sqv --keyring $W/key.gpg $W/www/file.asc $W/www/file" \
    -n gpgv "gpgv --keyring $W/key.gpg $W/www/file.asc $W/www/file" \
    -n shipcheck "$BIN verify-bin --file $W/www/file --sig $W/www/file.asc --key $W/key.asc --quiet" \
    --export-markdown "$W/local.md" >/dev/null
cat "$W/local.md"

echo
echo "== ${SIZE} MiB from a loopback HTTP server: shipcheck download+verify+install vs curl, curl, gpgv"
hyperfine --warmup 2 --runs 10 \
    -n 'curl + gpgv' "curl -sSf -o $W/dl/file $URL && curl -sSf -o $W/dl/file.asc $URL.asc && gpgv -q --keyring $W/key.gpg $W/dl/file.asc $W/dl/file 2>/dev/null" \
    -n shipcheck "$BIN verify-bin --url $URL --key $W/key.asc --dest $W/dl/installed --quiet" \
    --export-markdown "$W/dl.md" >/dev/null
cat "$W/dl.md"

echo
echo "== peak RSS, 1 GiB"
make_file big 1024
rss() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1; }
echo "shipcheck --file (1 GiB):        $(rss "$BIN" verify-bin --file "$W/www/big" --sig "$W/www/big.asc" --key "$W/key.asc" --quiet) KiB"
echo "shipcheck --url + install (1 GiB): $(rss "$BIN" verify-bin --url "http://127.0.0.1:$PORT/big" --key "$W/key.asc" --dest "$W/dl/big" --quiet) KiB"
echo "sqv (1 GiB):                      $(rss sqv --keyring "$W/key.gpg" "$W/www/big.asc" "$W/www/big") KiB"

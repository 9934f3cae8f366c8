# Shared by the benchmark scripts (sourced, from the repository root).

# A free TCP port on 127.0.0.1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A one-day test CA and a server certificate for 127.0.0.1 signed by it, in DIR:
# DIR/certs/ca.crt (the CA, in a directory as skopeo's --cert-dir wants it), DIR/srv.pem, DIR/key.pem.
make_test_certs() {
    mkdir -p "$1/certs"
    openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=bench-ca -days 1 \
        -keyout "$1/ca.key" -out "$1/certs/ca.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$1/key.pem" -out "$1/srv.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' > "$1/ext.cnf"
    openssl x509 -req -in "$1/srv.csr" -CA "$1/certs/ca.crt" -CAkey "$1/ca.key" -CAcreateserial -days 1 \
        -extfile "$1/ext.cnf" -out "$1/srv.pem" 2>/dev/null
}

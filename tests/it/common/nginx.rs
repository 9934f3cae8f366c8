//! A real HTTPS server for release files: Debian's nginx, on 127.0.0.1, serving a temp directory with
//! a test-CA certificate, plus a plain-HTTP listener, and a few redirect locations.

use super::tls::TestCa;
use super::{free_port, require, wait_for_port};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Nginx {
    child: Child,
    pub https_port: u16,
    pub http_port: u16,
    pub root: PathBuf,
    pub ca: TestCa,
    _dir: tempfile::TempDir,
}

impl Nginx {
    pub fn start() -> Nginx {
        let nginx = require("nginx", "nginx-light");
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("www");
        std::fs::create_dir_all(&root).unwrap();
        for sub in ["tmp", "logs"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let ca = TestCa::new(&dir.path().join("tls"));
        let (https_port, http_port) = (free_port(), free_port());
        let d = dir.path().display();
        let conf = format!(
            r#"
daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/logs/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    default_type application/octet-stream;
    types {{ }}
    sendfile on;
    server {{
        listen 127.0.0.1:{https_port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        root {root};
        # Redirects: to plain HTTP on loopback (a downgrade), to a plain-HTTP foreign host, and a
        # benign HTTPS-to-HTTPS redirect.
        location /to-plain/ {{ rewrite ^/to-plain/(.*)$ http://127.0.0.1:{http_port}/$1 redirect; }}
        location /to-foreign/ {{ rewrite ^/to-foreign/(.*)$ http://example.invalid/$1 redirect; }}
        location /moved/ {{ rewrite ^/moved/(.*)$ https://localhost:{https_port}/$1 redirect; }}
    }}
    server {{
        listen 127.0.0.1:{http_port};
        root {root};
    }}
}}
"#,
            cert = ca.server_cert.display(),
            key = ca.server_key.display(),
            root = root.display(),
        );
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let child = Command::new(nginx)
            .arg("-p")
            .arg(dir.path())
            .arg("-e")
            .arg(dir.path().join("logs/error.log"))
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        wait_for_port(https_port, Duration::from_secs(10));
        wait_for_port(http_port, Duration::from_secs(10));
        Nginx {
            child,
            https_port,
            http_port,
            root,
            ca,
            _dir: dir,
        }
    }

    /// Publishes `data` at `/name`.
    pub fn put(&self, name: &str, data: &[u8]) {
        let p = self.root.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(p, data).unwrap();
    }

    pub fn https(&self, path: &str) -> String {
        format!(
            "https://127.0.0.1:{}/{}",
            self.https_port,
            path.trim_start_matches('/')
        )
    }

    pub fn http(&self, path: &str) -> String {
        format!(
            "http://127.0.0.1:{}/{}",
            self.http_port,
            path.trim_start_matches('/')
        )
    }

    pub fn ca_cert(&self) -> &Path {
        &self.ca.ca_cert
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! A real OCI registry for the tests: Debian's `docker-registry` (CNCF distribution 2.8) on 127.0.0.1
//! on a free port with a temp storage dir, plain HTTP or TLS (test CA) with htpasswd Basic auth (user
//! `AWS`, like ECR). Images are pushed through the registry API: blobs by monolithic upload
//! (POST + PUT), manifests and indexes by PUT. Stopped (killed) when dropped.

use super::tls::TestCa;
use super::{free_port, require, wait_for_port};
use base64::Engine as _;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

pub fn sha256(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// Something pushed: its descriptor fields.
#[derive(Clone, Debug)]
pub struct Pushed {
    pub digest: String,
    pub size: u64,
    pub media_type: String,
    pub body: Vec<u8>,
}

impl Pushed {
    /// An index entry for this manifest with a platform (`os/arch[/variant]`).
    pub fn entry(&self, platform: &str) -> Value {
        let parts: Vec<&str> = platform.split('/').collect();
        let mut p = json!({"os": parts[0], "architecture": parts[1]});
        if let Some(v) = parts.get(2) {
            p["variant"] = json!(v);
        }
        json!({"mediaType": self.media_type, "digest": self.digest, "size": self.size, "platform": p})
    }
}

/// Which manifest flavour to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// OCI manifest with a `mediaType` field.
    Oci,
    /// OCI manifest without the optional `mediaType` field (as umoci writes them).
    OciNoMediaType,
    /// Docker v2 schema 2.
    Docker,
}

pub struct Registry {
    pub port: u16,
    pub dir: tempfile::TempDir,
    /// PEM of the test CA (TLS registries only).
    pub ca: Option<PathBuf>,
    /// The password of user `AWS` (auth registries only).
    pub password: Option<String>,
    child: Child,
    rt: tokio::runtime::Runtime,
    http: shipcheck::net::Http,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Registry {
    /// A registry over plain HTTP without auth.
    pub fn plain() -> Registry {
        Registry::start(false, "")
    }

    /// A registry over TLS (test CA) with htpasswd Basic auth for user `AWS`.
    pub fn tls_auth() -> Registry {
        Registry::start(true, "ecr-like-token-Zm9vYmFy-7c1e")
    }

    /// Like [`Registry::tls_auth`], with the given password for `AWS` (e.g. a token from moto).
    pub fn tls_auth_with(password: &str) -> Registry {
        Registry::start(true, password)
    }

    fn start(secure: bool, pw: &str) -> Registry {
        let prog = require("docker-registry", "docker-registry");
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let storage = dir.path().join("storage");
        std::fs::create_dir_all(&storage).unwrap();
        let mut cfg = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            storage.display()
        );
        let (mut ca, mut password) = (None, None);
        if secure {
            let htpasswd = require("htpasswd", "apache2-utils");
            let tls = TestCa::new(&dir.path().join("tls"));
            cfg.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                tls.server_cert.display(),
                tls.server_key.display()
            ));
            let out = Command::new(htpasswd)
                .args(["-Bbn", "-C", "5", "AWS", pw])
                .output()
                .unwrap();
            assert!(out.status.success(), "htpasswd failed");
            let file = dir.path().join("htpasswd");
            std::fs::write(&file, &out.stdout).unwrap();
            cfg.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: shipcheck-test\n    path: {}\n",
                file.display()
            ));
            ca = Some(tls.ca_cert);
            password = Some(pw.to_string());
        }
        let cfg_path = dir.path().join("config.yml");
        std::fs::write(&cfg_path, cfg).unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new(prog)
            .arg("serve")
            .arg(&cfg_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("cannot start docker-registry");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let http = shipcheck::net::Http::new(shipcheck::net::HttpOptions {
            ca_certs: ca.iter().cloned().collect(),
            ..Default::default()
        })
        .unwrap();
        let reg = Registry {
            port,
            dir,
            ca,
            password,
            child,
            rt,
            http,
        };
        wait_for_port(port, Duration::from_secs(10));
        reg
    }

    /// `127.0.0.1:PORT`
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn base(&self) -> String {
        let scheme = if self.ca.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.host())
    }

    fn auth(&self) -> Option<String> {
        self.password.as_ref().map(|p| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("AWS:{p}"))
            )
        })
    }

    fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        ct: Option<&str>,
        body: Vec<u8>,
    ) -> (u16, reqwest::header::HeaderMap, String) {
        let url = url::Url::parse(url).unwrap();
        self.rt.block_on(async {
            let mut rb = self.http.request(method, &url).body(body);
            if let Some(ct) = ct {
                rb = rb.header("content-type", ct);
            }
            if let Some(a) = self.auth() {
                rb = rb.header("authorization", a);
            }
            let resp = rb.send().await.unwrap();
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let text = resp.text().await.unwrap_or_default();
            (status, headers, text)
        })
    }

    /// Uploads a blob (monolithic: POST then PUT with the digest) and returns its digest.
    pub fn put_blob(&self, repo: &str, data: &[u8]) -> String {
        self.put_blob_as(repo, data, &sha256(data))
    }

    /// Uploads a blob under `digest` (a `sha512:` one, say), which the registry checks.
    pub fn put_blob_as(&self, repo: &str, data: &[u8], digest: &str) -> String {
        let digest = digest.to_string();
        let (status, headers, text) = self.send(
            reqwest::Method::POST,
            &format!("{}/v2/{repo}/blobs/uploads/", self.base()),
            None,
            Vec::new(),
        );
        assert_eq!(status, 202, "blob upload start: {text}");
        let loc = headers.get("location").unwrap().to_str().unwrap();
        let mut url = url::Url::parse(&self.base()).unwrap().join(loc).unwrap();
        url.query_pairs_mut().append_pair("digest", &digest);
        let (status, _, text) = self.send(
            reqwest::Method::PUT,
            url.as_str(),
            Some("application/octet-stream"),
            data.to_vec(),
        );
        assert_eq!(status, 201, "blob upload: {text}");
        digest
    }

    /// Copies a pushed image manifest (and its config and layers, by cross-repository blob mount, as
    /// buildx does) from one repository to another.
    pub fn copy_image(&self, from: &str, to: &str, manifest: &Pushed) {
        let m: Value = serde_json::from_slice(&manifest.body).unwrap();
        let mut blobs = vec![m["config"]["digest"].as_str().unwrap().to_string()];
        for l in m["layers"].as_array().unwrap() {
            blobs.push(l["digest"].as_str().unwrap().to_string());
        }
        for d in blobs {
            let (status, _, text) = self.send(
                reqwest::Method::POST,
                &format!(
                    "{}/v2/{to}/blobs/uploads/?mount={d}&from={from}",
                    self.base()
                ),
                None,
                Vec::new(),
            );
            assert_eq!(status, 201, "blob mount {d} from {from} to {to}: {text}");
        }
        self.put_manifest(to, &manifest.digest, &manifest.media_type, &manifest.body);
    }

    /// Deletes a manifest by digest (the registry runs with deletes enabled), as a lifecycle policy
    /// or a partial push leaves an index pointing at nothing.
    pub fn delete_manifest(&self, repo: &str, digest: &str) {
        let (status, _, text) = self.send(
            reqwest::Method::DELETE,
            &format!("{}/v2/{repo}/manifests/{digest}", self.base()),
            None,
            Vec::new(),
        );
        assert_eq!(status, 202, "manifest DELETE {repo}@{digest}: {text}");
    }

    /// Deletes a blob from a repository (the registry runs with deletes enabled): the manifests that
    /// name it stay, and the registry answers 404 for it, as after a failed or partial push.
    pub fn delete_blob(&self, repo: &str, digest: &str) {
        let (status, _, text) = self.send(
            reqwest::Method::DELETE,
            &format!("{}/v2/{repo}/blobs/{digest}", self.base()),
            None,
            Vec::new(),
        );
        assert_eq!(status, 202, "blob DELETE {repo}@{digest}: {text}");
    }

    /// PUTs a manifest or index under `reference` (a tag or its digest).
    pub fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        body: &[u8],
    ) -> Pushed {
        let (status, _, text) = self.send(
            reqwest::Method::PUT,
            &format!("{}/v2/{repo}/manifests/{reference}", self.base()),
            Some(media_type),
            body.to_vec(),
        );
        assert_eq!(status, 201, "manifest PUT {repo}:{reference}: {text}");
        Pushed {
            digest: sha256(body),
            size: body.len() as u64,
            media_type: media_type.to_string(),
            body: body.to_vec(),
        }
    }

    /// Pushes a small single-platform image (`os/arch[/variant]`) with one layer and returns its
    /// manifest, pushed by digest (tag it with `tag` if given).
    pub fn push_image(
        &self,
        repo: &str,
        platform: &str,
        flavour: Flavour,
        tag: Option<&str>,
    ) -> Pushed {
        let parts: Vec<&str> = platform.split('/').collect();
        let mut config = json!({"architecture": parts[1], "os": parts[0]});
        if let Some(v) = parts.get(2) {
            config["variant"] = json!(v);
        }
        self.push_image_with_config(repo, &config, flavour, tag)
    }

    /// Pushes an image whose config holds the fields of `platform_fields` (any JSON object: `os`,
    /// `architecture`, `variant` as a hostile or unusual pusher writes them) with one layer.
    pub fn push_image_with_config(
        &self,
        repo: &str,
        platform_fields: &Value,
        flavour: Flavour,
        tag: Option<&str>,
    ) -> Pushed {
        let layer = format!("layer for {platform_fields} in {repo}").into_bytes();
        let layer_digest = self.put_blob(repo, &layer);
        let mut config = platform_fields.clone();
        config["config"] = json!({});
        config["rootfs"] = json!({"type": "layers", "diff_ids": [layer_digest]});
        let config = serde_json::to_vec(&config).unwrap();
        let config_digest = self.put_blob(repo, &config);
        let (mt, cmt, lmt) = match flavour {
            Flavour::Docker => (DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER),
            _ => (OCI_MANIFEST, OCI_CONFIG, OCI_LAYER),
        };
        let mut m = json!({
            "schemaVersion": 2,
            "mediaType": mt,
            "config": {"mediaType": cmt, "digest": config_digest, "size": config.len()},
            "layers": [{"mediaType": lmt, "digest": layer_digest, "size": layer.len()}],
        });
        if flavour == Flavour::OciNoMediaType {
            m.as_object_mut().unwrap().remove("mediaType");
        }
        let body = serde_json::to_vec_pretty(&m).unwrap();
        let digest = sha256(&body);
        self.put_manifest(repo, tag.unwrap_or(&digest), mt, &body)
    }

    /// Pushes a buildx-style attestation manifest for `subject` and returns its index entry.
    pub fn push_attestation(&self, repo: &str, subject: &Pushed) -> Value {
        let statement = format!(
            r#"{{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://spdx.dev/Document","subject":[{{"digest":{{"sha256":"{}"}}}}]}}"#,
            &subject.digest[7..]
        )
        .into_bytes();
        let layer = self.put_blob(repo, &statement);
        let config = br#"{"architecture":"unknown","os":"unknown","config":{},"rootfs":{"type":"layers","diff_ids":[]}}"#;
        let config_digest = self.put_blob(repo, config);
        let m = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config.len()},
            "layers": [{"mediaType": "application/vnd.in-toto+json", "digest": layer, "size": statement.len(),
                        "annotations": {"in-toto.io/predicate-type": "https://spdx.dev/Document"}}],
        });
        let body = serde_json::to_vec(&m).unwrap();
        let p = self.put_manifest(repo, &sha256(&body), OCI_MANIFEST, &body);
        json!({
            "mediaType": OCI_MANIFEST, "digest": p.digest, "size": p.size,
            "platform": {"os": "unknown", "architecture": "unknown"},
            "annotations": {
                "vnd.docker.reference.type": "attestation-manifest",
                "vnd.docker.reference.digest": subject.digest,
            }
        })
    }

    /// Pushes an index (OCI, or a Docker manifest list when `docker`) of `entries` under `tag`.
    pub fn push_index(&self, repo: &str, tag: &str, entries: Vec<Value>, docker: bool) -> Pushed {
        let mt = if docker { DOCKER_LIST } else { OCI_INDEX };
        let body = serde_json::to_vec_pretty(&json!({
            "schemaVersion": 2,
            "mediaType": mt,
            "manifests": entries,
        }))
        .unwrap();
        self.put_manifest(repo, tag, mt, &body)
    }

    /// The usual multi-platform image: amd64 + arm64 (v8), optionally with attestations, under `tag`.
    pub fn push_multi(&self, repo: &str, tag: &str, attestations: bool) -> (Pushed, Vec<Pushed>) {
        let amd = self.push_image(repo, "linux/amd64", Flavour::Oci, None);
        let arm = self.push_image(repo, "linux/arm64/v8", Flavour::Oci, None);
        let mut entries = vec![amd.entry("linux/amd64"), arm.entry("linux/arm64/v8")];
        if attestations {
            entries.push(self.push_attestation(repo, &amd));
            entries.push(self.push_attestation(repo, &arm));
        }
        (self.push_index(repo, tag, entries, false), vec![amd, arm])
    }

    /// The registry's log (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }
}

//! What one run learns about registries and keeps for its later references: content verified
//! earlier (by digest), the scheme each loopback registry answers, and ECR logins.

use super::{Digest, Fetched};
use crate::report::Reason;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// Whether a cached piece was fetched as a manifest or as a blob (the same digest under the two
/// APIs is not the same answer from the registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Fetched from the manifests API (`/v2/<repo>/manifests/<digest>`).
    Manifest,
    /// Fetched from the blobs API (`/v2/<repo>/blobs/<digest>`).
    Blob,
}

/// How many bytes of verified content one run keeps at most (manifests and configs are kilobytes;
/// past this, content is fetched as if there were no cache).
pub const CACHE_BUDGET: u64 = 32 << 20;

type CacheKey = (String, String, Kind, Digest);

/// Platform manifests and configs verified earlier in one run (an audit, or one task definition),
/// by registry host, repository and digest, so that references sharing content (several tags of
/// one release, the same image in several task definitions) fetch each piece once.
///
/// What it keeps is the bytes of a fetch by digest that passed every check (size, digest,
/// `Docker-Content-Digest`); every use checks them again against the descriptor in hand. Failures are
/// never kept: the next target asks the registry itself. Tags are never cached (a tag is resolved on
/// every reference), and the key holds the repository because a registry serving a digest in one
/// repository says nothing about another (a partial push, a lifecycle policy). Targets that need
/// the same piece at the same moment wait for one fetch.
pub struct ContentCache {
    inner: Mutex<CacheEntries>,
    budget: u64,
    hits: AtomicUsize,
    /// The scheme decided for each loopback registry in this run (see [`Decided`]).
    schemes: Mutex<HashMap<String, Arc<OnceCell<Decided>>>>,
    /// The ECR login of each ECR registry in this run (see [`crate::oci::auth::ecr`]).
    ecr_logins: Mutex<HashMap<String, Arc<OnceCell<EcrLogin>>>>,
    /// Registries that asked for Basic credentials in this run (see [`ContentCache::basic_asked`]).
    basic_hosts: Mutex<HashMap<String, Arc<AtomicBool>>>,
    /// `--content`: layers streamed at once in this run (see [`LAYER_STREAMS`]).
    layer_streams: tokio::sync::Semaphore,
}

/// `--content`: how many layers one run downloads and decompresses at once. Each holds its
/// decoder's window (zstd: up to 128 MiB, which a hostile registry can make it fill) and a worker
/// thread; a few keep the download and both cores busy, and bound memory whatever the number of
/// layers, images and targets.
pub const LAYER_STREAMS: usize = 4;

/// The scheme a loopback registry answers (`https` or `http`), and why HTTPS failed if it did:
/// decided by the first request of a run to that host, which the others wait for, so that the many
/// images of an audit probe a plain-HTTP registry once, not once per image.
pub type Decided = (&'static str, Option<String>);

/// An ECR login (or why it failed): one `GetAuthorizationToken` per registry per run. A failure is
/// kept too, so an audit of 200 images reports it once per image without calling 200 times.
pub type EcrLogin = Result<super::auth::Credentials, Reason>;

#[derive(Default)]
struct CacheEntries {
    cells: HashMap<CacheKey, Arc<OnceCell<Arc<Fetched>>>>,
    /// The descriptor sizes of every cell, fetched or not.
    reserved: u64,
}

impl Default for ContentCache {
    fn default() -> Self {
        ContentCache::with_budget(CACHE_BUDGET)
    }
}

impl ContentCache {
    /// An empty cache that keeps at most `budget` bytes.
    pub fn with_budget(budget: u64) -> Self {
        ContentCache {
            inner: Mutex::new(CacheEntries::default()),
            budget,
            hits: AtomicUsize::new(0),
            schemes: Mutex::new(HashMap::new()),
            ecr_logins: Mutex::new(HashMap::new()),
            basic_hosts: Mutex::new(HashMap::new()),
            layer_streams: tokio::sync::Semaphore::new(LAYER_STREAMS),
        }
    }

    /// `--content`: waits for one of the run's [`LAYER_STREAMS`] layer streams.
    pub async fn layer_stream(&self) -> tokio::sync::SemaphorePermit<'_> {
        self.layer_streams
            .acquire()
            .await
            .expect("the semaphore is never closed")
    }

    /// The run's scheme decision for the loopback registry `host`.
    pub fn scheme(&self, host: &str) -> Arc<OnceCell<Decided>> {
        let mut map = self.schemes.lock().expect("schemes lock");
        map.entry(host.to_string()).or_default().clone()
    }

    /// The run's ECR login for the registry `host`.
    pub fn ecr_login(&self, host: &str) -> Arc<OnceCell<EcrLogin>> {
        let mut map = self.ecr_logins.lock().expect("logins lock");
        map.entry(host.to_ascii_lowercase()).or_default().clone()
    }

    /// Whether the registry `host` asked for Basic credentials (a `Basic` challenge) earlier in this
    /// run: the run's later images send them with their first request, so a Basic registry costs one
    /// 401 per run, not one per image.
    pub fn basic_asked(&self, host: &str) -> Arc<AtomicBool> {
        let mut map = self.basic_hosts.lock().expect("basic hosts lock");
        map.entry(host.to_string()).or_default().clone()
    }

    /// Fetches answered from the cache so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::Relaxed)
    }

    /// The verified content for `key` (`size`: what its descriptor says), from the cache or from
    /// `fetch`, which must return only bytes that passed the checks. Errors are not cached.
    pub async fn get_or_fetch<F, Fut>(
        &self,
        key: CacheKey,
        size: u64,
        fetch: F,
    ) -> Result<Arc<Fetched>, Reason>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Fetched, Reason>>,
    {
        let cell = {
            let mut inner = self.inner.lock().unwrap();
            match inner.cells.get(&key) {
                Some(c) => Some(c.clone()),
                // Reserve the descriptor's size up front; over the budget, no cache entry.
                None if inner.reserved.saturating_add(size) <= self.budget => {
                    inner.reserved += size;
                    let c = Arc::new(OnceCell::new());
                    inner.cells.insert(key, c.clone());
                    Some(c)
                }
                None => None,
            }
        };
        let Some(cell) = cell else {
            return fetch().await.map(Arc::new);
        };
        let mut fetched_here = false;
        let r = cell
            .get_or_try_init(|| {
                fetched_here = true;
                async { fetch().await.map(Arc::new) }
            })
            .await
            .cloned();
        if r.is_ok() && !fetched_here {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::Algo;
    use crate::report::Code;

    fn key(d: &str) -> CacheKey {
        let digest = Digest::of(Algo::Sha256, d.as_bytes());
        ("reg".into(), "team/app".into(), Kind::Manifest, digest)
    }

    fn fetched(body: &str) -> Fetched {
        Fetched {
            body: body.as_bytes().to_vec(),
            content_type: None,
            digest_header: None,
        }
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn a_failed_fetch_is_not_cached() {
        rt().block_on(async {
            let cache = ContentCache::default();
            let calls = AtomicUsize::new(0);
            let fail = || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(Reason::new(Code::DigestMismatch, "bad bytes"))
            };
            assert!(cache.get_or_fetch(key("a"), 10, fail).await.is_err());
            let ok = || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok(fetched("good"))
            };
            let f = cache.get_or_fetch(key("a"), 10, ok).await.unwrap();
            assert_eq!(f.body, b"good");
            assert_eq!(calls.load(Ordering::SeqCst), 2, "the failure was not kept");
            let again = cache
                .get_or_fetch(key("a"), 10, || async { panic!("fetched again") })
                .await
                .unwrap();
            assert_eq!(again.body, b"good");
            assert_eq!(cache.hits(), 1);
        });
    }

    #[test]
    fn concurrent_targets_wait_for_one_fetch() {
        rt().block_on(async {
            let cache = ContentCache::default();
            let calls = AtomicUsize::new(0);
            let all = futures_util::future::join_all((0..8).map(|_| {
                cache.get_or_fetch(key("b"), 10, || async {
                    calls.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    Ok(fetched("shared"))
                })
            }))
            .await;
            assert!(all.iter().all(|r| r.as_ref().unwrap().body == b"shared"));
            assert_eq!(calls.load(Ordering::SeqCst), 1);
            assert_eq!(cache.hits(), 7);
        });
    }

    #[test]
    fn content_past_the_budget_is_fetched_every_time() {
        rt().block_on(async {
            let cache = ContentCache::with_budget(100);
            let calls = AtomicUsize::new(0);
            for k in ["small", "big", "big"] {
                let size = if k == "big" { 200 } else { 60 };
                cache
                    .get_or_fetch(key(k), size, || async {
                        calls.fetch_add(1, Ordering::SeqCst);
                        Ok(fetched(k))
                    })
                    .await
                    .unwrap();
            }
            assert_eq!(calls.load(Ordering::SeqCst), 3);
            // Other repositories and kinds are other keys.
            let mut other = key("small");
            other.1 = "team/other".into();
            let mut blob = key("small");
            blob.2 = Kind::Blob;
            for k in [key("small"), other, blob] {
                cache
                    .get_or_fetch(k, 10, || async {
                        calls.fetch_add(1, Ordering::SeqCst);
                        Ok(fetched("x"))
                    })
                    .await
                    .unwrap();
            }
            assert_eq!(calls.load(Ordering::SeqCst), 5, "one hit, two misses");
            assert_eq!(cache.hits(), 1);
        });
    }
}

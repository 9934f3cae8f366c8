//! Requests in flight per host, with an adaptive limit, as TCP's congestion window: it starts at
//! [`HttpOptions::start_per_host`] and grows by one per answer (doubling every round trip) until
//! the host first answers 429 or 503 (it is overloaded or throttling); then it halves, and from
//! there grows by one for every `limit` answers (additive increase, multiplicative decrease); never
//! above [`HttpOptions::max_per_host`].
//!
//! [`HttpOptions::start_per_host`]: super::HttpOptions::start_per_host
//! [`HttpOptions::max_per_host`]: super::HttpOptions::max_per_host

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// The limits of every host one client talks to.
#[derive(Default)]
pub struct HostLimits {
    start: usize,
    max: usize,
    hosts: Mutex<HashMap<String, Arc<HostLimit>>>,
}

/// One host's limit.
pub struct HostLimit {
    state: Mutex<State>,
    freed: Notify,
}

struct State {
    limit: f64,
    max: f64,
    /// Below this, the limit grows by one per answer (slow start); it is the cap at first, and half
    /// the limit at the last throttling after.
    threshold: f64,
    in_flight: usize,
}

/// How a request ended, for the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// 429 or 503: the host asks for fewer requests.
    Throttled,
    /// Any other answer, or a failure that says nothing about load.
    Other,
}

impl HostLimits {
    /// Limits that start each host at `start` requests in flight and never exceed `max` (at least 1).
    pub fn new(start: usize, max: usize) -> Self {
        let max = max.max(1);
        HostLimits {
            start: start.clamp(1, max),
            max,
            hosts: Mutex::default(),
        }
    }

    /// Waits until a request to `host` may be sent; the permit counts it until it is given back.
    pub async fn acquire(&self, host: &str) -> Permit {
        let limit = self
            .hosts
            .lock()
            .unwrap()
            .entry(host.to_string())
            .or_insert_with(|| {
                Arc::new(HostLimit {
                    state: Mutex::new(State {
                        limit: self.start as f64,
                        max: self.max as f64,
                        threshold: self.max as f64,
                        in_flight: 0,
                    }),
                    freed: Notify::new(),
                })
            })
            .clone();
        loop {
            let freed = limit.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            {
                let mut s = limit.state.lock().unwrap();
                if s.in_flight < (s.limit as usize).max(1) {
                    s.in_flight += 1;
                    return Permit {
                        limit: limit.clone(),
                        answered: false,
                    };
                }
            }
            freed.await;
        }
    }

    /// The current limit of `host` (for tests and tracing).
    pub fn limit_of(&self, host: &str) -> Option<f64> {
        let hosts = self.hosts.lock().unwrap();
        hosts.get(host).map(|h| h.state.lock().unwrap().limit)
    }
}

/// A request in flight to one host.
pub struct Permit {
    limit: Arc<HostLimit>,
    answered: bool,
}

impl Permit {
    /// Gives the permit back, adjusting the host's limit by how the request was answered.
    pub fn answered(mut self, answer: Answer) {
        self.answered = true;
        self.release(Some(answer));
    }

    fn release(&self, answer: Option<Answer>) {
        {
            let mut s = self.limit.state.lock().unwrap();
            s.in_flight = s.in_flight.saturating_sub(1);
            match answer {
                Some(Answer::Throttled) => {
                    s.limit = (s.limit / 2.0).max(1.0);
                    s.threshold = s.limit;
                }
                Some(Answer::Other) if s.limit < s.threshold => {
                    s.limit = (s.limit + 1.0).min(s.max)
                }
                Some(Answer::Other) => s.limit = (s.limit + 1.0 / s.limit).min(s.max),
                None => {}
            }
        }
        self.limit.freed.notify_waiters();
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.answered {
            self.release(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_on_throttling_and_grows_back_slowly() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let l = HostLimits::new(16, 64);
            l.acquire("h").await.answered(Answer::Throttled);
            assert_eq!(l.limit_of("h"), Some(8.0));
            l.acquire("h").await.answered(Answer::Throttled);
            l.acquire("h").await.answered(Answer::Throttled);
            l.acquire("h").await.answered(Answer::Throttled);
            assert_eq!(l.limit_of("h"), Some(1.0));
            l.acquire("h").await.answered(Answer::Throttled);
            assert_eq!(l.limit_of("h"), Some(1.0), "never below one");
            // About `limit` answers per step of one.
            for _ in 0..10 {
                l.acquire("h").await.answered(Answer::Other);
            }
            let grown = l.limit_of("h").unwrap();
            assert!((4.0..5.0).contains(&grown), "{grown}");
            // Other hosts are not affected; before any throttling the limit grows by one per
            // answer (slow start), up to the cap.
            assert_eq!(l.limit_of("other"), None);
            for _ in 0..10 {
                l.acquire("other").await.answered(Answer::Other);
            }
            assert_eq!(l.limit_of("other"), Some(26.0));
            for _ in 0..10_000 {
                l.acquire("other").await.answered(Answer::Other);
            }
            assert_eq!(l.limit_of("other"), Some(64.0));
        });
    }

    #[test]
    fn waits_for_a_free_slot() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let l = Arc::new(HostLimits::new(2, 2));
            let a = l.acquire("h").await;
            let _b = l.acquire("h").await;
            let l2 = l.clone();
            let third = tokio::spawn(async move { l2.acquire("h").await.answered(Answer::Other) });
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            assert!(!third.is_finished(), "a third request waited");
            drop(a);
            tokio::time::timeout(std::time::Duration::from_secs(5), third)
                .await
                .expect("freed")
                .unwrap();
        });
    }
}

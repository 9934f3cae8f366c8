//! The one retry policy every transfer uses: which failures are worth another attempt, how long to
//! wait before it (exponential backoff, or the server's `Retry-After` in seconds or as an HTTP date,
//! capped), and how a final failure says how many attempts were made.

use super::{FetchError, HttpOptions};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;
use std::time::{Duration, SystemTime};

/// The attempts of one transfer. Every loop that retries asks it after each failure; nested steps
/// of one transfer (the request, then its body) share one budget of `--retries`.
pub struct Attempts<'a> {
    opts: &'a HttpOptions,
    /// Failed attempts so far.
    failed: u32,
}

impl<'a> Attempts<'a> {
    /// The attempts of a new transfer, none failed yet; `opts.retries` bounds the retries.
    pub fn new(opts: &'a HttpOptions) -> Self {
        Attempts { opts, failed: 0 }
    }

    /// After a failed attempt: waits and returns `Ok` when another attempt is worth making, or
    /// returns the error to give up with (saying how many attempts were made).
    pub async fn retry_after(&mut self, e: FetchError) -> Result<(), FetchError> {
        if !is_retryable(&e) || self.failed >= self.opts.retries {
            return Err(give_up(e, self.failed));
        }
        let headers = match &e {
            FetchError::Status { headers, .. } => Some(headers.as_ref()),
            _ => None,
        };
        tokio::time::sleep(backoff(self.opts, self.failed, headers, SystemTime::now())).await;
        self.failed += 1;
        Ok(())
    }
}

/// A status worth retrying: 408, 429 and 5xx.
pub fn retryable_status(s: StatusCode) -> bool {
    s == StatusCode::TOO_MANY_REQUESTS || s == StatusCode::REQUEST_TIMEOUT || s.is_server_error()
}

/// Connection errors, bodies that broke off, and retryable statuses. Never a refused (insecure)
/// URL or redirect, a 404, a size cap or a local failure.
fn is_retryable(e: &FetchError) -> bool {
    match e {
        FetchError::Network { .. } | FetchError::Truncated { .. } => true,
        FetchError::Status { status, .. } => retryable_status(*status),
        _ => false,
    }
}

/// The wait before attempt `failed + 1`: the server's `Retry-After` (delay in seconds, or an HTTP
/// date) when it sent one, else `retry_delay` doubled per failure; at most `max_retry_wait`.
fn backoff(
    opts: &HttpOptions,
    failed: u32,
    headers: Option<&HeaderMap>,
    now: SystemTime,
) -> Duration {
    let exp = opts.retry_delay.saturating_mul(1u32 << failed.min(16));
    let retry_after = headers
        .and_then(|h| h.get(RETRY_AFTER))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let v = v.trim();
            v.parse::<u64>().map(Duration::from_secs).ok().or_else(|| {
                httpdate::parse_http_date(v)
                    .ok()
                    .map(|t| t.duration_since(now).unwrap_or(Duration::ZERO))
            })
        });
    retry_after.unwrap_or(exp).min(opts.max_retry_wait)
}

/// The final error after `failed` earlier failed attempts: transient errors say how many attempts
/// were made.
fn give_up(e: FetchError, failed: u32) -> FetchError {
    if failed == 0 {
        return e;
    }
    let attempts = failed + 1;
    match e {
        FetchError::Network { url, why } => FetchError::Network {
            url,
            why: format!("{why} (gave up after {attempts} attempts)"),
        },
        FetchError::Status { url, status, .. } => FetchError::Network {
            url,
            why: format!("HTTP {status} (gave up after {attempts} attempts)"),
        },
        FetchError::Truncated { url, expected, got } => FetchError::Network {
            url,
            why: format!(
                "body ended after {got} bytes, Content-Length said {expected} (gave up after {attempts} attempts)"
            ),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn backoff_doubles_and_honours_retry_after_in_both_forms() {
        let opts = HttpOptions {
            retry_delay: Duration::from_millis(100),
            max_retry_wait: Duration::from_secs(30),
            ..HttpOptions::default()
        };
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(backoff(&opts, 0, None, now), Duration::from_millis(100));
        assert_eq!(backoff(&opts, 3, None, now), Duration::from_millis(800));
        assert_eq!(backoff(&opts, 30, None, now), Duration::from_secs(30));
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(backoff(&opts, 0, Some(&h), now), Duration::from_secs(7));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(12));
        h.insert(RETRY_AFTER, HeaderValue::from_str(&later).unwrap());
        assert_eq!(backoff(&opts, 0, Some(&h), now), Duration::from_secs(12));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(12));
        h.insert(RETRY_AFTER, HeaderValue::from_str(&past).unwrap());
        assert_eq!(backoff(&opts, 0, Some(&h), now), Duration::ZERO);
        h.insert(RETRY_AFTER, HeaderValue::from_static("3600"));
        assert_eq!(backoff(&opts, 0, Some(&h), now), Duration::from_secs(30));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(backoff(&opts, 1, Some(&h), now), Duration::from_millis(200));
    }

    #[test]
    fn final_errors_count_the_attempts() {
        let e = FetchError::Truncated {
            url: "u".into(),
            expected: 10,
            got: 3,
        };
        assert_eq!(
            give_up(e, 2).to_string(),
            "u: body ended after 3 bytes, Content-Length said 10 (gave up after 3 attempts)"
        );
        assert!(!is_retryable(&FetchError::NotFound { url: "u".into() }));
    }
}

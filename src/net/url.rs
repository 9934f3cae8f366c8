//! URL policy: HTTPS everywhere, plain HTTP only for loopback hosts; URLs as shipcheck prints them.

use super::FetchError;
use std::net::IpAddr;
use url::Url;

/// True when `host` is a loopback host: 127.0.0.0/8, ::1 or `localhost`.
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    h.parse::<IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

/// A URL as shipcheck shows it: without the user name and password, which are credentials (they are
/// sent, as Basic auth, only to that URL's host). See [`redact_text`].
pub fn redact(url: &Url) -> String {
    redact_text(url.as_str())
}

/// Text the user gave as a URL, fit to print: everything between the scheme and the last `@` is
/// replaced by `***` (`https://***@host/path`). This covers credentials the URL parser sees as
/// userinfo and those it does not: a password holding an unencoded `/`, `?` or `#`
/// (`https://user:pa/ss@host/` parses as host `user` with `ss@host` in its path), and the spellings
/// without `//` the parser accepts (`https:user:pass@host`, `https:\\user:pass@host`). Whatever
/// could be a credential is hidden, at the price of hiding the host of a URL with an `@` in its path.
/// The query and fragment are hidden too (`?***`): presigned URLs (a registry's redirect to S3 or
/// R2, a release link with a token) carry credentials there.
pub fn redact_text(s: &str) -> String {
    let (first_q, last_at) = (s.find(['?', '#']), s.rfind('@'));
    if let (Some(q), Some(at)) = (first_q, last_at) {
        if q < at {
            // An `@` after a `?` or `#`: either the password holds one of those or the query holds
            // an `@`; where the userinfo ends cannot be told, so only the scheme is shown.
            return match scheme(s) {
                Some(sch) => format!("{sch}://***"),
                None => "***".to_string(),
            };
        }
    }
    let s = redact_userinfo(s);
    match s.find(['?', '#']) {
        Some(i) => format!("{}***", &s[..=i]),
        None => s,
    }
}

/// The scheme of a URL-like text (`https` in `https:...`), if it starts with one.
fn scheme(s: &str) -> Option<&str> {
    s.split_once(':').map(|(sch, _)| sch).filter(|sch| {
        sch.starts_with(|c: char| c.is_ascii_alphabetic())
            && sch
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
    })
}

fn redact_userinfo(s: &str) -> String {
    let Some(at) = s.rfind('@') else {
        return s.to_string();
    };
    match scheme(s) {
        Some(sch) => format!("{sch}://***{}", &s[at..]),
        None => format!("***{}", &s[at..]),
    }
}

/// Accepts `https://` everywhere and `http://` only for loopback hosts.
pub fn check_url(url: &Url) -> Result<(), FetchError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if url.host_str().is_some_and(is_loopback_host) => Ok(()),
        "http" => Err(FetchError::Insecure {
            url: redact(url),
            why: "plain HTTP to a non-loopback host is refused".into(),
        }),
        other => Err(FetchError::Insecure {
            url: redact(url),
            why: format!("unsupported URL scheme `{other}`"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for h in [
            "127.0.0.1",
            "127.3.2.1",
            "localhost",
            "LOCALHOST",
            "[::1]",
            "::1",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in [
            "10.0.0.1",
            "example.com",
            "localhost.example.com",
            "128.0.0.1",
            "[::2]",
        ] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }

    #[test]
    fn url_policy() {
        assert!(check_url(&Url::parse("https://example.com/x").unwrap()).is_ok());
        assert!(check_url(&Url::parse("http://127.0.0.1:8080/x").unwrap()).is_ok());
        assert!(check_url(&Url::parse("http://[::1]:8080/x").unwrap()).is_ok());
        assert!(check_url(&Url::parse("http://example.com/x").unwrap()).is_err());
        assert!(check_url(&Url::parse("ftp://127.0.0.1/x").unwrap()).is_err());
        assert!(check_url(&Url::parse("file:///etc/passwd").unwrap()).is_err());
    }

    #[test]
    fn userinfo_is_never_shown() {
        let u = Url::parse("https://user:s3cret@example.com:8443/a/b?x=1").unwrap();
        assert_eq!(redact(&u), "https://***@example.com:8443/a/b?***");
        assert_eq!(
            redact(&Url::parse("https://tok@example.com/").unwrap()),
            "https://***@example.com/"
        );
        assert_eq!(
            redact(&Url::parse("https://example.com/a").unwrap()),
            "https://example.com/a"
        );
        // Unparsable (bad port): still redacted.
        assert_eq!(
            redact_text("https://u:s3cret@host:99999/x"),
            "https://***@host:99999/x"
        );
        // Passwords with `/`, `?`, `#`, `@`: the parser sees no userinfo; nothing is shown anyway.
        for pw in ["tok/en+s3cret==", "s3c?ret", "s3c#ret", "p@ss"] {
            let text = format!("https://AWS:{pw}@127.0.0.1:9/x");
            // With a `?` or `#` before the last `@`, where the userinfo ends is unknown: only the
            // scheme is shown.
            let shown = if pw.contains(['?', '#']) {
                "https://***"
            } else {
                "https://***@127.0.0.1:9/x"
            };
            assert_eq!(redact_text(&text), shown);
            if let Ok(u) = Url::parse(&text) {
                assert!(!redact(&u).contains("s3c"), "{}", redact(&u));
            }
        }
        assert_eq!(redact_text("not a url"), "not a url");
        // Presigned URLs (a registry's redirect to S3) carry credentials in the query.
        let presigned = "https://bucket.s3.amazonaws.com/blob?X-Amz-Security-Token=s3cret&X-Amz-Signature=s3c#f";
        assert_eq!(
            redact_text(presigned),
            "https://bucket.s3.amazonaws.com/blob?***"
        );
        assert_eq!(redact_text("https://h/x#s3cret"), "https://h/x#***");
        assert_eq!(redact_text("https://u:p?s3c@h/x?t=s3c"), "https://***");
        for c in [
            "https://u:s3cret@[::1]:8443/p?tok=s3cret",
            "https://u:s3cret@[2001:db8::1]/x#s3cret",
            "https://u:p?s3cret@h/x",
            "https://u:p#s3cret@h/x",
            "https://h/x?a=1@s3cret",
            "https://h/x;token=ok?sig=s3cret",
            "https:u:s3cret@h?x=s3cret",
            "HTTPS://U:s3cret@H/",
        ] {
            assert!(
                !redact_text(c).contains("s3cret"),
                "{c} -> {}",
                redact_text(c)
            );
            if let Ok(u) = Url::parse(c) {
                assert!(!redact(&u).contains("s3cret"), "{c} -> {}", redact(&u));
            }
        }
        // Spellings without `//` that the parser accepts, with credentials.
        for text in [
            "https:AWS:s3cret@127.0.0.1:9/t",
            "https:\\\\AWS:s3cret@127.0.0.1:9/t",
            "https:/\t/AWS:s3c/ret@127.0.0.1:9/t",
            "AWS:s3cret@127.0.0.1:9/t",
        ] {
            assert!(!redact_text(text).contains("s3c"), "{}", redact_text(text));
            if let Ok(u) = Url::parse(text) {
                assert!(!redact(&u).contains("s3c"), "{}", redact(&u));
            }
        }
    }
}

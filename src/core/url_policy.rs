//! Which URLs the worker fetches for an upload by URL (`files_urls`): http
//! and https only, never to a loopback, private, link-local or metadata
//! address given literally (hosts are read as a browser reads them, so
//! `2130706433` and `0x7f.1` are 127.0.0.1), and the same for every
//! redirect. Local addresses are allowed only when the operator says so
//! (`ALLOW_LOCAL_URLS`, for local development and the tests).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

use crate::core::refusal::Refusal;

/// Most redirects followed.
pub const MAX_REDIRECTS: usize = 5;
/// Seconds a fetch may take to answer.
pub const TIMEOUT_SECS: u64 = 10;

fn refuse(reason: impl Into<String>) -> Refusal {
    Refusal::RejectUrl {
        reason: reason.into(),
    }
}

fn local_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254.0.0/16, with the cloud metadata address
        || ip.is_unspecified()
        || ip.is_broadcast()
        || (a == 100 && (64..128).contains(&b)) // shared address space, 100.64.0.0/10
        || a == 0
}

fn local_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || (first & 0xfe00) == 0xfc00 // unique local, fc00::/7 (fd00:ec2::254 among them)
        || (first & 0xffc0) == 0xfe80 // link-local, fe80::/10
        || ip.to_ipv4_mapped().is_some_and(local_v4)
}

/// Whether an address is one the worker must not fetch from.
pub fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => local_v4(v4),
        IpAddr::V6(v6) => local_v6(v6),
    }
}

/// Parses `text` (relative to `base`, for a redirect's `Location`) and
/// checks it may be fetched.
pub fn check(text: &str, base: Option<&Url>, allow_local: bool) -> Result<Url, Refusal> {
    let url = match base {
        Some(base) => base.join(text),
        None => Url::parse(text),
    }
    .map_err(|_| refuse(format!("{text:?} is not a URL")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(refuse(format!(
            "{} URLs are not fetched: only http and https",
            url.scheme()
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("a URL with credentials is not fetched"));
    }
    let local = match url.host() {
        None => return Err(refuse("the URL has no host")),
        Some(Host::Ipv4(ip)) => local_v4(ip),
        Some(Host::Ipv6(ip)) => local_v6(ip),
        Some(Host::Domain(d)) => {
            let d = d.trim_end_matches('.');
            d == "localhost" || d.ends_with(".localhost")
        }
    };
    if local && !allow_local {
        return Err(refuse(format!(
            "{} is a local address: the worker does not fetch from it",
            url.host_str().unwrap_or_default()
        )));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(url: &str) -> Option<&'static str> {
        check(url, None, false).err().map(|e| e.code())
    }

    #[test]
    fn only_http_to_public_hosts() {
        for ok in [
            "https://images.example/cat.jpg",
            "http://93.184.216.34/a",
            "https://[2606:2800:220:1:248:1893:25c8:1946]/a",
            "http://100.128.0.1/",
        ] {
            assert_eq!(code(ok), None, "{ok}");
        }
        for bad in [
            "ftp://h/a",
            "file:///etc/passwd",
            "data:text/plain,hi",
            "javascript:alert(1)",
            "http://localhost/a",
            "http://api.localhost:8080/a",
            "http://localhost./a",
            "http://127.0.0.1/a",
            "http://127.1/a",
            "http://2130706433/a",
            "http://0x7f.0.0.1/a",
            "http://017700000001/a",
            "http://0.0.0.0/a",
            "http://10.1.2.3/a",
            "http://172.16.0.1/a",
            "http://192.168.1.1/a",
            "http://169.254.169.254/latest/meta-data/",
            "http://100.64.0.1/a",
            "http://[::1]/a",
            "http://[::]/a",
            "http://[::ffff:127.0.0.1]/a",
            "http://[fd00:ec2::254]/a",
            "http://[fe80::1]/a",
            "http://user:pw@images.example/a",
            "not a url",
        ] {
            assert!(code(bad).is_some(), "{bad} must be refused");
        }
        assert_eq!(code("http://127.0.0.1/a"), Some("URL_REFUSED"));
        assert!(
            check("http://127.0.0.1:9/a", None, true).is_ok(),
            "when local addresses are allowed"
        );
    }

    #[test]
    fn redirects_are_checked_again() {
        let base = check("https://images.example/a/b", None, false).unwrap();
        assert_eq!(
            check("/c", Some(&base), false).unwrap().as_str(),
            "https://images.example/c"
        );
        assert!(check("http://127.0.0.1/", Some(&base), false).is_err());
        assert!(check("//10.0.0.1/x", Some(&base), false).is_err());
    }
}

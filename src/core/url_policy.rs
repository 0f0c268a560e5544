//! Which URLs the worker fetches for an upload by URL (`files_urls`): http
//! and https only, with no credentials, and never to a loopback, private,
//! link-local or metadata address given literally, nor a name reserved for
//! local networks (`localhost`, `.local`, `.internal`, `.home.arpa`); the same
//! for every redirect. Local addresses are allowed only when the operator says
//! so (`ALLOW_LOCAL_URLS`, for local development and the tests).
//!
//! The URL is parsed by the platform's own parser, the one its `fetch` uses,
//! so that the host checked here is the host fetched: it reads hosts as a
//! browser does (`2130706433` and `0x7f.1` are 127.0.0.1, international
//! names are punycode). This decides on what that parser made of it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::refusal::Refusal;

/// Most redirects followed.
pub const MAX_REDIRECTS: usize = 5;
/// Seconds a fetch may take to answer.
pub const TIMEOUT_SECS: u64 = 10;

/// A URL as the platform's parser splits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed<'a> {
    /// `http:`, `https:`, …
    pub protocol: &'a str,
    /// The host, normalised: an IPv4 address in dotted form, an IPv6 address
    /// in brackets, or a lower-case ASCII name.
    pub hostname: &'a str,
    pub username: &'a str,
    pub password: &'a str,
}

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

/// Checks that a parsed URL may be fetched.
pub fn check(url: &Parsed, allow_local: bool) -> Result<(), Refusal> {
    if !matches!(url.protocol, "http:" | "https:") {
        return Err(refuse(format!(
            "{} URLs are not fetched: only http and https",
            url.protocol.trim_end_matches(':')
        )));
    }
    if !url.username.is_empty() || !url.password.is_empty() {
        return Err(refuse("a URL with credentials is not fetched"));
    }
    let host = url.hostname.trim_end_matches('.');
    if host.is_empty() || !host.is_ascii() {
        return Err(refuse("the URL has no usable host"));
    }
    let local = if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        v6.parse::<Ipv6Addr>().map_or(true, local_v6)
    } else if let Ok(v4) = host.parse::<Ipv4Addr>() {
        local_v4(v4)
    } else {
        // Names reserved for local and private networks (RFC 6761, RFC 6762,
        // ICANN's `.internal`, where cloud metadata services live).
        ["localhost", "local", "internal", "home.arpa"]
            .iter()
            .any(|tld| host == *tld || host.ends_with(&format!(".{tld}")))
    };
    if local && !allow_local {
        return Err(refuse(format!(
            "{host} is a local address: the worker does not fetch from it"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(protocol: &'static str, hostname: &'static str) -> Parsed<'static> {
        Parsed {
            protocol,
            hostname,
            username: "",
            password: "",
        }
    }

    fn code(protocol: &'static str, host: &'static str) -> Option<&'static str> {
        check(&parsed(protocol, host), false)
            .err()
            .map(|e| e.code())
    }

    #[test]
    fn only_http_to_public_hosts() {
        for (p, host) in [
            ("https:", "images.example"),
            ("http:", "93.184.216.34"),
            ("https:", "[2606:2800:220:1:248:1893:25c8:1946]"),
            ("http:", "100.128.0.1"),
            ("http:", "xn--bcher-kva.example"),
        ] {
            assert_eq!(code(p, host), None, "{host}");
        }
        for (p, host) in [
            ("ftp:", "h"),
            ("file:", ""),
            ("data:", ""),
            ("javascript:", ""),
            ("http:", "localhost"),
            ("http:", "api.localhost"),
            ("http:", "metadata.google.internal"),
            ("http:", "printer.local"),
            ("http:", "nas.home.arpa"),
            ("http:", "localhost."),
            ("http:", "127.0.0.1"),
            ("http:", "0.0.0.0"),
            ("http:", "10.1.2.3"),
            ("http:", "172.16.0.1"),
            ("http:", "192.168.1.1"),
            ("http:", "169.254.169.254"),
            ("http:", "100.64.0.1"),
            ("http:", "[::1]"),
            ("http:", "[::]"),
            ("http:", "[::ffff:7f00:1]"),
            ("http:", "[fd00:ec2::254]"),
            ("http:", "[fe80::1]"),
            ("http:", "[not-v6]"),
            ("http:", "bücher.example"),
            ("http:", ""),
        ] {
            assert!(code(p, host).is_some(), "{p}//{host} must be refused");
        }
        assert_eq!(code("http:", "127.0.0.1"), Some("URL_REFUSED"));
        let with_user = Parsed {
            username: "u",
            ..parsed("https:", "images.example")
        };
        assert!(check(&with_user, false).is_err());
        assert!(
            check(&parsed("http:", "127.0.0.1"), true).is_ok(),
            "when local addresses are allowed"
        );
        assert!(
            check(&parsed("ftp:", "h"), true).is_err(),
            "never another scheme"
        );
    }
}

//! Where a key may be used from: IP ranges, countries and browser origins,
//! and the client a request comes from.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::text::{FromText, text};

/// Most entries in one whitelist.
pub const MAX_ENTRIES: usize = 256;

/// Where the request comes from, as the platform says.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// From `CF-Connecting-IP`, IPv4-mapped addresses as IPv4.
    pub ip: Option<IpAddr>,
    /// From `CF-IPCountry`.
    pub country: Option<String>,
    /// The `Origin` header a browser sends; servers send none.
    pub origin: Option<String>,
}

/// An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) is its IPv4 address.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// The client address from the platform's `CF-Connecting-IP` header.
pub fn client_ip(header: Option<&str>) -> Option<IpAddr> {
    header?.trim().parse().ok().map(canonical_ip)
}

/// The name a client is counted under: its IPv4 address, or its IPv6 /64.
pub fn counting_name(ip: Option<IpAddr>) -> String {
    match ip {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            let net = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            format!("{net}/64")
        }
        None => "unknown".into(),
    }
}

fn canonical_net(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => IpNet::new(IpAddr::V4(v4), v6.prefix_len() - 96)
                .map(|n| n.trunc())
                .unwrap_or(net),
            None => net,
        },
        _ => net.trunc(),
    }
}

/// One entry of `whitelist_ip_ranges`: an address (`8.8.8.8`) or a CIDR range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub struct IpRange(IpNet);

impl IpRange {
    pub fn parse(text: &str) -> Result<IpRange, String> {
        let bad = || format!("{text:?} is not an IP address or CIDR range");
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let net = match prefix {
            // Digits only: u8's parser would take a sign.
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                let len = p.parse::<u8>().map_err(|_| bad())?;
                IpNet::new(addr, len).map_err(|_| bad())?
            }
            Some(_) => return Err(bad()),
            None => IpNet::from(addr),
        };
        // Said as meant, or refused: never silently rewritten.
        if net != net.trunc() {
            return Err(format!(
                "{text:?} has host bits set: the range is {}",
                net.trunc()
            ));
        }
        if let IpNet::V6(v6) = net
            && v6.addr().to_ipv4_mapped().is_some()
            && v6.prefix_len() < 96
        {
            return Err(format!(
                "{text:?} is an IPv4-mapped range with a prefix under 96: it would cover more than IPv4 addresses"
            ));
        }
        Ok(IpRange(canonical_net(net)))
    }
}

/// A whitelist of entries `T`: non-empty, at most `MAX_ENTRIES`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<T>", bound(deserialize = "T: Deserialize<'de>"))]
pub struct List<T>(Vec<T>);

impl<T> TryFrom<Vec<T>> for List<T> {
    type Error = String;
    fn try_from(items: Vec<T>) -> Result<Self, String> {
        if items.is_empty() {
            return Err("must not be empty; leave it out to allow everywhere".into());
        }
        if items.len() > MAX_ENTRIES {
            return Err(format!("must have at most {MAX_ENTRIES} entries"));
        }
        Ok(List(items))
    }
}

impl<T: PartialEq + fmt::Display> List<T> {
    pub fn entries(&self) -> &[T] {
        &self.0
    }

    /// The first entry of `self` that `covered` does not accept, if any.
    pub fn first_outside(&self, covered: impl Fn(&T) -> bool) -> Option<String> {
        self.0.iter().find(|e| !covered(e)).map(T::to_string)
    }
}

/// `whitelist_ip_ranges`.
pub type IpRanges = List<IpRange>;
/// `whitelist_countries`.
pub type Countries = List<Country>;
/// `allowed_origins`.
pub type Origins = List<WebOrigin>;

impl IpRanges {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical_ip(ip);
        self.0.iter().any(|r| r.0.contains(&ip))
    }

    /// The first range of `self` that no range of `other` contains, if any.
    pub fn outside(&self, other: &IpRanges) -> Option<String> {
        self.first_outside(|r| other.0.iter().any(|o| o.0.contains(&r.0)))
    }
}

/// An ISO 3166-1 alpha-2 code, held in upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub struct Country([u8; 2]);

impl Country {
    pub fn parse(text: &str) -> Result<Country, String> {
        let b = text.as_bytes();
        if b.len() != 2 || !b.iter().all(u8::is_ascii_alphabetic) {
            return Err(format!(
                "{text:?} is not a two-letter ISO 3166-1 country code"
            ));
        }
        let code = [b[0].to_ascii_uppercase(), b[1].to_ascii_uppercase()];
        if &code == b"XX" {
            return Err("XX stands for an unknown country and cannot be allowed".into());
        }
        Ok(Country(code))
    }
}

impl Countries {
    /// Whether the `CF-IPCountry` value is allowed. A missing header, `XX`
    /// (unknown) and `T1` (Tor) never are.
    pub fn allows(&self, header: Option<&str>) -> bool {
        let Some(b) = header.map(|c| c.trim().as_bytes()) else {
            return false;
        };
        b.len() == 2
            && self
                .0
                .iter()
                .any(|c| c.0[0] == b[0].to_ascii_uppercase() && c.0[1] == b[1].to_ascii_uppercase())
    }

    /// The first country of `self` not in `other`, if any.
    pub fn outside(&self, other: &Countries) -> Option<String> {
        self.first_outside(|c| other.0.contains(c))
    }
}

/// One of `allowed_origins`: an exact browser origin (`https://shop.example`,
/// `http://127.0.0.1:8787`), held in lower case. Origins bind a key to pages
/// of those sites; a request without an `Origin` header (a server) is not
/// affected, so they do not stop non-browser clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub struct WebOrigin(String);

impl WebOrigin {
    pub fn parse(text: &str) -> Result<WebOrigin, String> {
        let lower = text.to_ascii_lowercase();
        let bad = || {
            format!(
                "{text:?} is not an origin such as https://shop.example or http://localhost:8787"
            )
        };
        let (scheme, rest) = lower.split_once("://").ok_or_else(bad)?;
        if scheme != "http" && scheme != "https" {
            return Err(bad());
        }
        // An IPv6 host is in brackets, with or without a port after them.
        let (host, port) = match rest.find(']').filter(|_| rest.starts_with('[')) {
            Some(end) => match &rest[end + 1..] {
                "" => (&rest[..=end], None),
                after => (
                    &rest[..=end],
                    Some(after.strip_prefix(':').ok_or_else(bad)?),
                ),
            },
            None => match rest.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (rest, None),
            },
        };
        let host_ok = if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            v6.parse::<Ipv6Addr>().is_ok()
        } else {
            !host.is_empty()
                && host.len() <= 253
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        };
        // Digits only: u16's parser would also take a sign (`:+80`).
        let port_ok = port.is_none_or(|p| {
            p.bytes().all(|b| b.is_ascii_digit())
                && !p.starts_with('0')
                && p.parse::<u16>().is_ok_and(|n| n > 0)
        });
        if !host_ok || !port_ok {
            return Err(bad());
        }
        Ok(WebOrigin(lower))
    }
}

impl Origins {
    /// Whether the `Origin` header names one of these origins.
    pub fn allows(&self, origin: &str) -> bool {
        self.0.iter().any(|o| o.0.eq_ignore_ascii_case(origin))
    }

    /// The first origin of `self` not in `other`, if any.
    pub fn outside(&self, other: &Origins) -> Option<String> {
        self.first_outside(|o| other.0.contains(o))
    }
}

macro_rules! text_entry {
    ($t:ident, |$v:ident| $show:expr) => {
        impl FromText for $t {
            fn from_text(s: &str) -> Result<Self, String> {
                $t::parse(s)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                text(d)
            }
        }
        impl From<$t> for String {
            fn from(e: $t) -> String {
                e.to_string()
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let $v = self;
                f.write_str(&$show)
            }
        }
    };
}

text_entry!(IpRange, |r| r.0.to_string());
text_entry!(Country, |c| String::from_utf8_lossy(&c.0));
text_entry!(WebOrigin, |o| o.0.clone());

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;
    use std::net::Ipv4Addr;

    fn list<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, String> {
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    fn ranges(l: &[&str]) -> IpRanges {
        list(json!(l)).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn addresses_and_cidrs() {
        let r = ranges(&[
            "80.12.95.227",
            "10.0.0.0/8",
            "2001:db8::/32",
            "255.240.0.0/12",
        ]);
        assert!(r.contains(ip("80.12.95.227")));
        assert!(!r.contains(ip("80.12.95.228")));
        assert!(r.contains(ip("10.255.0.1")));
        assert!(!r.contains(ip("11.0.0.1")));
        assert!(r.contains(ip("2001:db8:1::5")));
        assert!(!r.contains(ip("2001:db9::5")));
        assert!(r.contains(ip("255.250.1.1")));
    }

    #[test]
    fn mapped_ipv6_counts_as_ipv4() {
        let r = ranges(&["192.0.2.0/24"]);
        assert!(r.contains(ip("::ffff:192.0.2.7")));
        assert_eq!(client_ip(Some("::ffff:192.0.2.7")), Some(ip("192.0.2.7")));
        let mapped = ranges(&["::ffff:192.0.2.0/120"]);
        assert!(mapped.contains(ip("192.0.2.9")));
        assert_eq!(
            serde_json::to_value(&mapped).unwrap(),
            json!(["192.0.2.0/24"])
        );
    }

    #[test]
    fn ranges_are_taken_as_said_or_refused() {
        assert_eq!(
            serde_json::to_value(ranges(&["10.0.0.0/8", "10.1.2.3", "2001:db8::/32"])).unwrap(),
            json!(["10.0.0.0/8", "10.1.2.3/32", "2001:db8::/32"])
        );
        for bad in [
            "10.1.2.3/8",
            "192.0.2.1/24",
            "2001:db8::1/32",
            "::ffff:192.0.2.0/84",
            "::ffff:0.0.0.0/95",
        ] {
            let e = IpRange::parse(bad).unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn malformed_ranges_are_refused() {
        for bad in [
            "1.2.3",
            "1.2.3.4/33",
            "::1/129",
            "abc",
            "1.2.3.4/",
            "/8",
            "1.2.3.4/+8",
            "1.2.3.4/8/9",
            "1.2.3.4 ",
            "",
        ] {
            assert!(list::<IpRanges>(json!([bad])).is_err(), "{bad:?}");
        }
        assert!(
            list::<IpRanges>(json!([]))
                .unwrap_err()
                .contains("must not be empty")
        );
        assert!(list::<IpRanges>(json!("1.2.3.4")).is_err());
        let many: Vec<String> = (0..257)
            .map(|i| format!("10.0.{}.{}", i / 256, i % 256))
            .collect();
        assert!(
            list::<IpRanges>(json!(many))
                .unwrap_err()
                .contains("at most 256")
        );
    }

    #[test]
    fn countries() {
        let c: Countries = list(json!(["FR", "de"])).unwrap();
        assert_eq!(serde_json::to_value(&c).unwrap(), json!(["FR", "DE"]));
        assert!(c.allows(Some("FR")));
        assert!(c.allows(Some("de")));
        assert!(!c.allows(Some("US")));
        assert!(!c.allows(None));
        assert!(!c.allows(Some("XX")));
        assert!(!c.allows(Some("T1")));
        for bad in ["FRA", "F", "F1", "T1", "XX", "", "é"] {
            assert!(list::<Countries>(json!([bad])).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn containment() {
        let parent = ranges(&["10.0.0.0/8", "2001:db8::/32"]);
        assert_eq!(ranges(&["10.1.0.0/16", "10.2.3.4"]).outside(&parent), None);
        assert_eq!(
            ranges(&["10.1.0.0/16", "11.0.0.0/8"]).outside(&parent),
            Some("11.0.0.0/8".into())
        );
        assert_eq!(
            ranges(&["0.0.0.0/0"]).outside(&parent),
            Some("0.0.0.0/0".into())
        );
        assert_eq!(ranges(&["2001:db8:1::/48"]).outside(&parent), None);
        let fr: Countries = list(json!(["FR", "DE"])).unwrap();
        let us: Countries = list(json!(["FR", "US"])).unwrap();
        assert_eq!(us.outside(&fr), Some("US".into()));
        assert_eq!(fr.outside(&fr), None);
    }

    #[test]
    fn origins() {
        let o: Origins = list(json!([
            "https://Shop.example",
            "http://127.0.0.1:8787",
            "http://[::1]:3000",
            "http://[::1]"
        ]))
        .unwrap();
        assert_eq!(
            serde_json::to_value(&o).unwrap(),
            json!([
                "https://shop.example",
                "http://127.0.0.1:8787",
                "http://[::1]:3000",
                "http://[::1]"
            ])
        );
        assert!(o.allows("http://[::1]"));
        assert!(o.allows("https://shop.example"));
        assert!(o.allows("http://127.0.0.1:8787"));
        assert!(!o.allows("http://127.0.0.1:8788"));
        assert!(!o.allows("https://shop.example.evil"));
        assert!(!o.allows("null"));
        for bad in [
            "shop.example",
            "https://shop.example/",
            "https://shop.example/path",
            "ftp://x",
            "https://",
            "https://a:0",
            "https://a:99999",
            "https://a b",
            "*",
            "https://a:+80",
            "https://a:",
            "http://[::1]:+80",
            "http://[::1]80",
            "http://[::1",
            "http://[::g]",
            "http://a]:80",
        ] {
            assert!(list::<Origins>(json!([bad])).is_err(), "{bad}");
        }
    }

    #[test]
    fn counting_names() {
        assert_eq!(counting_name(Some(ip("1.2.3.4"))), "1.2.3.4");
        assert_eq!(
            counting_name(Some(ip("2001:db8:1:2:3:4:5:6"))),
            "2001:db8:1:2::/64"
        );
        assert_eq!(counting_name(None), "unknown");
    }

    proptest! {
        /// An address is in a /n range exactly when its first n bits match.
        #[test]
        fn v4_cidr_membership(net in any::<u32>(), len in 0u8..=32, addr in any::<u32>()) {
            let r = List(vec![IpRange(canonical_net(IpNet::new(IpAddr::V4(Ipv4Addr::from(net)), len).unwrap()))]);
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            prop_assert_eq!(r.contains(IpAddr::V4(Ipv4Addr::from(addr))), net & mask == addr & mask);
            // The same address, IPv4-mapped, is judged the same.
            let mapped = IpAddr::V6(Ipv4Addr::from(addr).to_ipv6_mapped());
            prop_assert_eq!(r.contains(mapped), net & mask == addr & mask);
        }
    }
}

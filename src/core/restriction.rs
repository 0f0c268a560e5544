//! Where a key may be used from: IP ranges and countries.

use std::net::{IpAddr, Ipv6Addr};

use ipnet::IpNet;

use crate::core::refusal::Refusal;

/// Most entries in one whitelist.
pub const MAX_ENTRIES: usize = 256;

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

/// `whitelist_ip_ranges`: addresses (`8.8.8.8`, `2001:db8::1`) or CIDR ranges.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IpRanges(Vec<IpNet>);

impl IpRanges {
    pub fn parse_one(text: &str) -> Result<IpNet, String> {
        let net = if text.contains('/') {
            text.parse::<IpNet>()
                .map_err(|_| format!("{text:?} is not an IP address or CIDR range"))?
        } else {
            let ip: IpAddr = text
                .parse()
                .map_err(|_| format!("{text:?} is not an IP address or CIDR range"))?;
            IpNet::from(ip)
        };
        Ok(canonical_net(net))
    }

    pub fn from_json(
        value: &crate::core::json::Value,
        field: &dyn std::fmt::Display,
    ) -> Result<IpRanges, Refusal> {
        list(
            value,
            field,
            "IP addresses or CIDR ranges",
            IpRanges::parse_one,
        )
        .map(IpRanges)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical_ip(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    pub fn to_texts(&self) -> Vec<String> {
        self.0.iter().map(IpNet::to_string).collect()
    }

    /// The first range of `self` that no range of `other` contains, if any.
    pub fn first_outside(&self, other: &IpRanges) -> Option<String> {
        self.0
            .iter()
            .find(|net| !other.0.iter().any(|o| o.contains(*net)))
            .map(IpNet::to_string)
    }
}

/// `whitelist_countries`: ISO 3166-1 alpha-2 codes, held in upper case.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Countries(Vec<[u8; 2]>);

impl Countries {
    pub fn parse_one(text: &str) -> Result<[u8; 2], String> {
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
        Ok(code)
    }

    pub fn from_json(
        value: &crate::core::json::Value,
        field: &dyn std::fmt::Display,
    ) -> Result<Countries, Refusal> {
        list(
            value,
            field,
            "two-letter country codes",
            Countries::parse_one,
        )
        .map(Countries)
    }

    /// Whether the `CF-IPCountry` value is allowed. A missing header, `XX`
    /// (unknown) and `T1` (Tor) never are.
    pub fn allows(&self, header: Option<&str>) -> bool {
        let Some(code) = header.map(str::trim) else {
            return false;
        };
        let b = code.as_bytes();
        b.len() == 2
            && self
                .0
                .iter()
                .any(|c| c[0] == b[0].to_ascii_uppercase() && c[1] == b[1].to_ascii_uppercase())
    }

    pub fn to_texts(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect()
    }

    /// The first country of `self` not in `other`, if any.
    pub fn first_outside(&self, other: &Countries) -> Option<String> {
        self.0
            .iter()
            .find(|c| !other.0.contains(c))
            .map(|c| String::from_utf8_lossy(c).into_owned())
    }
}

/// `allowed_origins`: exact browser origins (`https://shop.example`,
/// `http://127.0.0.1:8787`), held in lower case. They bind a key to pages of
/// those sites; a request without an `Origin` header (a server) is not
/// affected, so they do not stop non-browser clients.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origins(Vec<String>);

impl Origins {
    pub fn parse_one(text: &str) -> Result<String, String> {
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
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || rest.starts_with('[') => (h, Some(p)),
            _ => (rest, None),
        };
        let host_ok = if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            v6.parse::<std::net::Ipv6Addr>().is_ok()
        } else {
            !host.is_empty()
                && host.len() <= 253
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        };
        let port_ok =
            port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0) && !p.starts_with('0'));
        if !host_ok || !port_ok {
            return Err(bad());
        }
        Ok(lower)
    }

    pub fn from_json(
        value: &crate::core::json::Value,
        field: &dyn std::fmt::Display,
    ) -> Result<Origins, Refusal> {
        list(
            value,
            field,
            "origins such as https://shop.example",
            Origins::parse_one,
        )
        .map(Origins)
    }

    /// Whether the `Origin` header names one of these origins.
    pub fn allows(&self, origin: &str) -> bool {
        self.0.iter().any(|o| o.eq_ignore_ascii_case(origin))
    }

    pub fn to_texts(&self) -> Vec<String> {
        self.0.clone()
    }

    /// The first origin of `self` not in `other`, if any.
    pub fn first_outside(&self, other: &Origins) -> Option<String> {
        self.0.iter().find(|o| !other.0.contains(o)).cloned()
    }
}

/// A whitelist: a non-empty JSON list of at most `MAX_ENTRIES` strings, each
/// parsed by `parse_one`; refusals name the entry (`field[2]`).
fn list<T>(
    value: &crate::core::json::Value,
    field: &dyn std::fmt::Display,
    what: &str,
    parse_one: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, Refusal> {
    let items = value
        .as_array()
        .ok_or_else(|| Refusal::field(field, format!("must be a list of {what}")))?;
    if items.is_empty() {
        return Err(Refusal::field(
            field,
            "must not be empty; leave it out to allow everywhere",
        ));
    }
    if items.len() > MAX_ENTRIES {
        return Err(Refusal::field(
            field,
            format!("must have at most {MAX_ENTRIES} entries"),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let at = || format!("{field}[{i}]");
            let text = item
                .as_str()
                .ok_or_else(|| Refusal::field(at(), "must be a string"))?;
            parse_one(text).map_err(|why| Refusal::field(at(), why))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::json::json;
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    fn ranges(list: &[&str]) -> IpRanges {
        IpRanges::from_json(&json!(list), &"r").unwrap()
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
        assert_eq!(mapped.to_texts(), vec!["192.0.2.0/24"]);
    }

    #[test]
    fn host_bits_are_cleared() {
        assert_eq!(ranges(&["10.1.2.3/8"]).to_texts(), vec!["10.0.0.0/8"]);
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
            "1.2.3.4 ",
            "",
        ] {
            let e = IpRanges::from_json(&json!([bad]), &"restrictions.whitelist_ip_ranges");
            assert!(e.is_err(), "{bad:?}");
        }
        assert!(IpRanges::from_json(&json!([]), &"x").is_err());
        assert!(IpRanges::from_json(&json!("1.2.3.4"), &"x").is_err());
    }

    #[test]
    fn countries() {
        let c = Countries::from_json(&json!(["FR", "de"]), &"c").unwrap();
        assert_eq!(c.to_texts(), vec!["FR", "DE"]);
        assert!(c.allows(Some("FR")));
        assert!(c.allows(Some("de")));
        assert!(!c.allows(Some("US")));
        assert!(!c.allows(None));
        assert!(!c.allows(Some("XX")));
        assert!(!c.allows(Some("T1")));
        for bad in ["FRA", "F", "F1", "T1", "XX", "", "é"] {
            assert!(
                Countries::from_json(&json!([bad]), &"c").is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn containment() {
        let parent = ranges(&["10.0.0.0/8", "2001:db8::/32"]);
        assert_eq!(
            ranges(&["10.1.0.0/16", "10.2.3.4"]).first_outside(&parent),
            None
        );
        assert_eq!(
            ranges(&["10.1.0.0/16", "11.0.0.0/8"]).first_outside(&parent),
            Some("11.0.0.0/8".into())
        );
        assert_eq!(
            ranges(&["0.0.0.0/0"]).first_outside(&parent),
            Some("0.0.0.0/0".into())
        );
        assert_eq!(ranges(&["2001:db8:1::/48"]).first_outside(&parent), None);
        let fr = Countries::from_json(&json!(["FR", "DE"]), &"c").unwrap();
        let us = Countries::from_json(&json!(["FR", "US"]), &"c").unwrap();
        assert_eq!(us.first_outside(&fr), Some("US".into()));
        assert_eq!(fr.first_outside(&fr), None);
    }

    #[test]
    fn origins() {
        let o = Origins::from_json(
            &json!([
                "https://Shop.example",
                "http://127.0.0.1:8787",
                "http://[::1]:3000"
            ]),
            &"allowed_origins",
        )
        .unwrap();
        assert_eq!(
            o.to_texts(),
            vec![
                "https://shop.example",
                "http://127.0.0.1:8787",
                "http://[::1]:3000"
            ]
        );
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
        ] {
            assert!(
                Origins::from_json(&json!([bad]), &"allowed_origins").is_err(),
                "{bad}"
            );
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
            let r = IpRanges(vec![canonical_net(IpNet::new(IpAddr::V4(Ipv4Addr::from(net)), len).unwrap())]);
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            prop_assert_eq!(r.contains(IpAddr::V4(Ipv4Addr::from(addr))), net & mask == addr & mask);
            // The same address, IPv4-mapped, is judged the same.
            let mapped = IpAddr::V6(Ipv4Addr::from(addr).to_ipv6_mapped());
            prop_assert_eq!(r.contains(mapped), net & mask == addr & mask);
        }
    }
}

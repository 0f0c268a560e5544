//! Structured input for the targets: policies, templates and attenuation
//! requests drawn from small pools (so that generated scopes, ranges and
//! lists often overlap), rendered as the JSON a client sends. Most of what is
//! generated is valid; nulls, zeros, aliases, wrong types and unknown fields
//! come often enough to reach the refusals.

use arbitrary::Arbitrary;
use serde_json::{Map, Value, json};

pub const PERMISSIONS: &[&str] = &[
    "OBJECTS_LIST",
    "OBJECTS_FETCH",
    "FILE_UPLOAD",
    "FILE_META_CREATE",
    "FILE_META_CHANGE",
    "FILE_RENAME",
    "FILE_MOVE",
    "FILE_DELETE",
    "FILE_SET_VISIBILITY",
    "DIR_CREATE",
    "DIR_RENAME",
    "DIR_MOVE",
    "DIR_MOV",
    "DIR_META_CHANGE",
    "DIR_DELETE",
    "DIR_SET_VISIBILITY",
    "CONFIG_CHANGE",
    "CONFIG_LIST",
    "FILE_PRODUCT_CHANGE",
    "FILE_PROCESS_AUTOTAGGING",
    "OBJECTS_SHARE_MANAGE",
    "OBJECTS_AIRBOX_MANAGE",
    "OBJECTS_APPROVAL_MANAGE",
    "OBJECTS_APPROVAL_VOTE",
    // Not for keys, or not permissions at all.
    "ACCESS_READ",
    "ACCESS_MANAGE",
    "file_upload",
    "NOPE",
];

/// Path segments; several share prefixes (`a`, `ab`, `up`, `uploads`).
pub const SEGMENTS: &[&str] = &[
    "up", "a", "b", "ab", "uploads", "private", "a b", "é", ".hidden", "..b", "x;y", "%2e",
    "a%2Fb", // Words of the routes: a file may be named so.
    "meta", "move", "v5", "objects",
];

pub const IP_RANGES: &[&str] = &[
    "10.0.0.0/8",
    "10.1.0.0/16",
    "10.1.2.3",
    "10.0.0.1/8",
    "192.0.2.0/24",
    "192.0.2.7/32",
    "0.0.0.0/0",
    "::/0",
    "2001:db8::/32",
    "2001:db8:1::/48",
    "2001:db8::1/128",
    "2001:db8::1/120",
    "::ffff:10.0.0.0/104",
    "::ffff:0:0/96",
    "::ffff:0:0/95",
    "::ffff:10.1.2.3",
];

pub const COUNTRIES: &[&str] = &["FR", "DE", "fr", "US", "GB", "XX", "T1", "F", "FRA"];

pub const ORIGINS: &[&str] = &[
    "https://a.example",
    "https://b.example",
    "HTTPS://A.EXAMPLE",
    "http://localhost:8787",
    "http://[::1]:8080",
    "https://a.example:443",
    "https://a.example/",
    "ftp://a.example",
];

fn pick<'a>(pool: &[&'a str], i: u8) -> &'a str {
    pool[i as usize % pool.len()]
}

/// A field that may be left out, set to `null`, or given.
#[derive(Arbitrary, Debug, Clone)]
pub enum Opt<T> {
    Absent,
    Null,
    Set(T),
}

impl<T> Opt<T> {
    fn put(&self, map: &mut Map<String, Value>, name: &str, render: impl FnOnce(&T) -> Value) {
        match self {
            Opt::Absent => {}
            Opt::Null => {
                map.insert(name.into(), Value::Null);
            }
            Opt::Set(v) => {
                map.insert(name.into(), render(v));
            }
        }
    }

    pub fn is_absent(&self) -> bool {
        matches!(self, Opt::Absent)
    }
}

/// A JSON number, mostly in range, sometimes not one at all.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Num {
    Small(u8),
    Mid(u16),
    Any(u64),
    Zero,
    Negative,
    Fraction,
    Text,
}

impl Num {
    pub fn value(&self) -> Value {
        match *self {
            Num::Small(n) => json!(n),
            Num::Mid(n) => json!(n),
            Num::Any(n) => json!(n),
            Num::Zero => json!(0),
            Num::Negative => json!(-1),
            Num::Fraction => json!(1.5),
            Num::Text => json!("5"),
        }
    }
}

/// A directory scope: segments from the pool, or raw text.
#[derive(Arbitrary, Debug, Clone)]
pub struct Scope {
    pub segments: Vec<u8>,
    pub recursive: bool,
    pub raw: Option<String>,
}

impl Scope {
    pub fn text(&self) -> String {
        if let Some(raw) = &self.raw
            && self.segments.first() == Some(&0)
        {
            return raw.clone();
        }
        let path: String = self
            .segments
            .iter()
            .take(4)
            .map(|&i| format!("/{}", pick(SEGMENTS, i)))
            .collect();
        match (path.is_empty(), self.recursive) {
            (true, true) => "/*".into(),
            (true, false) => "/".into(),
            (false, true) => format!("{path}/*"),
            (false, false) => path,
        }
    }
}

fn scopes(list: &[Scope]) -> Value {
    list.iter()
        .take(6)
        .map(|s| Value::String(s.text()))
        .collect()
}

fn names(list: &[u8], pool: &[&str]) -> Value {
    list.iter()
        .take(6)
        .map(|&i| Value::String(pick(pool, i).into()))
        .collect()
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Ip {
    Pool(u8),
    V4([u8; 4], u8),
    V6(u16, u16, u8),
}

impl Ip {
    pub fn text(&self) -> String {
        match self {
            Ip::Pool(i) => pick(IP_RANGES, *i).into(),
            Ip::V4(a, p) => format!("{}.{}.{}.{}/{}", a[0], a[1], a[2], a[3], p % 40),
            Ip::V6(a, b, p) => format!("2001:db8:{a:x}:{b:x}::/{}", p % 140),
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
pub struct Upload {
    pub limit_per_min: Opt<Num>,
    pub limit_per_source_ip: Opt<Num>,
    /// Spell it `limit_per_ip_source`.
    pub alias_ip: bool,
    pub max: Opt<Num>,
    pub dir_scope: Opt<Vec<Scope>>,
    pub max_file_size: Opt<Num>,
}

#[derive(Arbitrary, Debug, Clone)]
pub struct Restrictions {
    pub whitelist_ip_ranges: Opt<Vec<Ip>>,
    pub whitelist_countries: Opt<Vec<u8>>,
}

#[derive(Arbitrary, Debug, Clone)]
pub struct Listing {
    pub dir_scope: Opt<Vec<Scope>>,
    /// Spell it `directory_scope`.
    pub alias: bool,
    pub max: Opt<Num>,
}

#[derive(Arbitrary, Debug, Clone)]
pub struct Validity {
    pub seconds: Num,
    /// Spell it `expire_duration`.
    pub alias: bool,
}

/// A policy as a template or key request writes it.
#[derive(Arbitrary, Debug, Clone)]
pub struct Policy {
    pub permissions: Opt<Vec<u8>>,
    pub upload: Opt<Upload>,
    pub restrictions: Opt<Restrictions>,
    pub listing: Opt<Listing>,
    pub allowed_origins: Opt<Vec<u8>>,
    pub key_validity: Opt<Validity>,
    /// 0 adds an unknown member.
    pub unknown: u8,
}

impl Policy {
    pub fn members(&self) -> Map<String, Value> {
        let mut m = Map::new();
        self.permissions
            .put(&mut m, "permissions", |p| names(p, PERMISSIONS));
        self.upload.put(&mut m, "upload", |u| {
            let mut o = Map::new();
            u.limit_per_min.put(&mut o, "limit_per_min", |n| n.value());
            let ip_name = if u.alias_ip {
                "limit_per_ip_source"
            } else {
                "limit_per_source_ip"
            };
            u.limit_per_source_ip.put(&mut o, ip_name, |n| n.value());
            u.max.put(&mut o, "max", |n| n.value());
            u.dir_scope.put(&mut o, "dir_scope", |s| scopes(s));
            u.max_file_size.put(&mut o, "max_file_size", |n| n.value());
            Value::Object(o)
        });
        self.restrictions.put(&mut m, "restrictions", |r| {
            let mut o = Map::new();
            r.whitelist_ip_ranges
                .put(&mut o, "whitelist_ip_ranges", |l| {
                    l.iter()
                        .take(6)
                        .map(|ip| Value::String(ip.text()))
                        .collect()
                });
            r.whitelist_countries
                .put(&mut o, "whitelist_countries", |l| names(l, COUNTRIES));
            Value::Object(o)
        });
        self.listing.put(&mut m, "listing", |l| {
            let mut o = Map::new();
            let name = if l.alias {
                "directory_scope"
            } else {
                "dir_scope"
            };
            l.dir_scope.put(&mut o, name, |s| scopes(s));
            l.max.put(&mut o, "max", |n| n.value());
            Value::Object(o)
        });
        self.allowed_origins
            .put(&mut m, "allowed_origins", |l| names(l, ORIGINS));
        self.key_validity.put(&mut m, "key_validity", |v| {
            let name = if v.alias {
                "expire_duration"
            } else {
                "expiration_duration"
            };
            json!({ name: v.seconds.value() })
        });
        if self.unknown == 0 {
            m.insert("nope".into(), json!(1));
        }
        m
    }
}

/// A template as an operator writes it.
#[derive(Arbitrary, Debug, Clone)]
pub struct Template {
    pub policy: Policy,
    pub description: Opt<String>,
    pub active: Opt<bool>,
    pub issue_limit_per_min: Opt<Num>,
    /// 0 names a field only the server sets.
    pub read_only: u8,
}

impl Template {
    pub fn value(&self) -> Value {
        let mut m = self.policy.members();
        self.description.put(&mut m, "description", |d| json!(d));
        self.active.put(&mut m, "active", |a| json!(a));
        self.issue_limit_per_min
            .put(&mut m, "issue_limit_per_min", |n| n.value());
        if self.read_only == 0 {
            m.insert("id".into(), json!("SECU_00000000000000000000000000000000"));
        }
        Value::Object(m)
    }
}

//! Independent readings of sass-edge's documented rules (README: "The
//! gateway", "Template fields", "Attenuation", "The key format"). Nothing
//! here calls the core's own checks: paths are strings, scopes are strings,
//! IP ranges are numbers.

use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Every `%XX` decoded to its byte; `None` when a `%` is not followed by two
/// hex digits.
pub fn percent_decode_bytes(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hi = hex(*b.get(i + 1)?)?;
            let lo = hex(*b.get(i + 2)?)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

/// `percent_decode_bytes`, as UTF-8.
pub fn percent_decode_utf8(s: &str) -> Option<String> {
    String::from_utf8(percent_decode_bytes(s)?).ok()
}

/// README, gateway step 8: "The path is percent-decoded once. It is refused
/// if it has [...] encoded slashes (`%2F`, `%5C`) [...] or is not UTF-8."
pub fn decode_url_path(raw: &str) -> Option<String> {
    let b = raw.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if c == b'%' {
            let hi = hex(*b.get(i + 1)?)?;
            let lo = hex(*b.get(i + 2)?)?;
            if matches!(hi << 4 | lo, b'/' | b'\\') {
                return None;
            }
        }
    }
    percent_decode_utf8(raw)
}

/// A query name or value: `+` is a space, then `%XX` bytes, UTF-8.
pub fn decode_query_part(s: &str) -> Option<String> {
    percent_decode_utf8(&s.replace('+', " "))
}

/// Why `p` is not a normalised absolute path (README: "an absolute,
/// normalised path: no `.` or `..`, no empty segment, no trailing slash, no
/// backslash and no control character", at most 992 bytes: R2 keys are at
/// most 1024, and the project comes first in the key), or has two readings
/// (README, "Refuse what has two readings": no `;`, no `%` followed by two
/// hex digits once decoded, no character that Unicode normalisation, NFKC,
/// turns into `.`, `/`, `\`, `;` or `%`).
pub fn not_normalised(p: &str) -> Option<String> {
    if !p.starts_with('/') {
        return Some("does not start with /".into());
    }
    if p.len() > 992 {
        return Some("is longer than 992 bytes".into());
    }
    if p == "/" {
        return None;
    }
    if p.chars().any(|c| c.is_control()) {
        return Some("has a control character".into());
    }
    if p.contains('\\') {
        return Some("has a backslash".into());
    }
    if p.ends_with('/') {
        return Some("ends with /".into());
    }
    if p.contains("//") {
        return Some("has an empty segment".into());
    }
    if p.split('/').skip(1).any(|s| s == "." || s == "..") {
        return Some("has a . or .. segment".into());
    }
    two_readings(p)
}

/// What another server could read otherwise in a path: a `;` (a path
/// parameter to some servers), an escape left after the one decoding (a
/// second decoding would change it), or a character whose NFKC form holds
/// `.`, `/`, `\`, `;` or `%` (computed here with ICU4X's normaliser, not
/// from a list).
pub fn two_readings(p: &str) -> Option<String> {
    if p.contains(';') {
        return Some(format!("{p:?} holds a ';'"));
    }
    let b = p.as_bytes();
    for i in 0..b.len() {
        if b[i] == b'%'
            && b.get(i + 1).copied().and_then(hex).is_some()
            && b.get(i + 2).copied().and_then(hex).is_some()
        {
            return Some(format!(
                "{p:?} holds {:?}, which a second decoding changes",
                &p[i..i + 3]
            ));
        }
    }
    p.chars().find(|&c| nfkc_look_alike(c)).map(|c| {
        format!(
            "{p:?} holds {c:?} (U+{:04X}), which NFKC turns into {:?}",
            c as u32,
            nfkc(c)
        )
    })
}

fn nfkc(c: char) -> String {
    let mut buf = [0u8; 4];
    icu_normalizer::ComposingNormalizerBorrowed::new_nfkc()
        .normalize(c.encode_utf8(&mut buf))
        .into_owned()
}

/// Whether NFKC turns `c`, not itself one of them, into text holding `.`,
/// `/`, `\`, `;` or `%`.
pub fn nfkc_look_alike(c: char) -> bool {
    !c.is_ascii() && nfkc(c).contains(['.', '/', '\\', ';', '%'])
}

/// A `dir_scope` entry as text: `/a` (exactly /a), `/a/*` (/a and below),
/// `/*` (everything).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeText {
    pub base: String,
    pub recursive: bool,
}

impl ScopeText {
    pub fn read(text: &str) -> ScopeText {
        match text.strip_suffix("/*") {
            Some("") => ScopeText {
                base: "/".into(),
                recursive: true,
            },
            Some(base) => ScopeText {
                base: base.into(),
                recursive: true,
            },
            None => ScopeText {
                base: text.into(),
                recursive: false,
            },
        }
    }

    /// Whether the directory `dir` is allowed: a prefix that ends on a
    /// segment boundary, or the exact directory.
    pub fn allows(&self, dir: &str) -> bool {
        if !self.recursive {
            return dir == self.base;
        }
        self.base == "/"
            || dir == self.base
            || (dir.len() > self.base.len()
                && dir.starts_with(&self.base)
                && dir.as_bytes()[self.base.len()] == b'/')
    }

    /// Whether everything `self` allows, `parent` allows.
    pub fn within(&self, parent: &ScopeText) -> bool {
        if parent.recursive {
            parent.allows(&self.base)
        } else {
            !self.recursive && self.base == parent.base
        }
    }
}

pub fn any_allows(scopes: &[String], dir: &str) -> bool {
    scopes.iter().any(|s| ScopeText::read(s).allows(dir))
}

/// An IP range as numbers: family, address bits (left-aligned in a u128),
/// prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub v4: bool,
    pub bits: u128,
    pub prefix: u32,
}

impl Range {
    /// Reads `addr` or `addr/len`, as the core writes its ranges.
    pub fn read(text: &str) -> Option<Range> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u32>().ok()?)),
            None => (text, None),
        };
        let addr: IpAddr = addr.parse().ok()?;
        Some(match addr {
            IpAddr::V4(a) => Range {
                v4: true,
                bits: (u32::from(a) as u128) << 96,
                prefix: prefix.unwrap_or(32),
            },
            IpAddr::V6(a) => Range {
                v4: false,
                bits: u128::from(a),
                prefix: prefix.unwrap_or(128),
            },
        })
    }

    fn mask(prefix: u32) -> u128 {
        if prefix == 0 {
            0
        } else {
            u128::MAX << (128 - prefix)
        }
    }

    /// Whether every address of `inner` is in `self` (same family only).
    pub fn contains(&self, inner: &Range) -> bool {
        self.v4 == inner.v4
            && inner.prefix >= self.prefix
            && (inner.bits & Self::mask(self.prefix)) == (self.bits & Self::mask(self.prefix))
    }
}

/// Whether `key` is authentic by the README's key format, computed here
/// with the `hmac` crate: `SASS__v2__{kid}__{claims}__{tag}`, the tag the
/// unpadded base64url of HMAC-SHA256 of everything before `__{tag}`.
pub fn authentic(key: &str, kid: &str, secret: &[u8]) -> bool {
    let prefix = format!("SASS__v2__{kid}__");
    let n = key.len();
    if !key.starts_with(&prefix) || n < prefix.len() + 2 + 43 || !key.is_char_boundary(n - 45) {
        return false;
    }
    let (signed, rest) = key.split_at(n - 45);
    let Some(tag) = rest.strip_prefix("__") else {
        return false;
    };
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("any key length");
    mac.update(signed.as_bytes());
    let expected: [u8; 32] = mac.finalize().into_bytes().into();
    URL_SAFE_NO_PAD.encode(expected) == tag
}

//! Absolute, normalised storage paths: directories (`/`, `/a/b`) and files
//! (`/a/b.jpg`).
//!
//! A normalised path starts with `/`, has no empty, `.` or `..` segment, no
//! trailing slash (but for the root), no backslash, and no NUL or other
//! control character. Scopes and request paths are both held to this, and
//! only a string that passes becomes a `Dir` or a `FilePath`.

use std::fmt;

use percent_encoding::percent_decode_str;
use serde::{Deserialize, Serialize};

use crate::hex;
use crate::refusal::Refusal;

/// Longest path accepted, in bytes: R2's longest key (1024 bytes) less the
/// longest project, which prefixes the path in the key.
pub const MAX_PATH_LEN: usize = 1024 - 32;

/// Characters that NFKC normalisation maps to text holding `.`, `/`, `\`,
/// `;` or `%`: every one in Unicode (the fuzz crate checks the list against
/// an NFKC normaliser, character by character). Fullwidth, small and
/// vertical forms, dot leaders, the Greek question mark (`;`, even under
/// NFC), numbers with a full stop (`⒈` is `1.`), and `℀ ℁ ℅ ℆` (`a/c`,
/// `a/s`, `c/o`, `c/u`, which hold a slash).
const NORMALISED_AWAY: [char; 44] = [
    '\u{037E}',
    '\u{2024}',
    '\u{2025}',
    '\u{2026}',
    '\u{2100}',
    '\u{2101}',
    '\u{2105}',
    '\u{2106}',
    '\u{2488}',
    '\u{2489}',
    '\u{248A}',
    '\u{248B}',
    '\u{248C}',
    '\u{248D}',
    '\u{248E}',
    '\u{248F}',
    '\u{2490}',
    '\u{2491}',
    '\u{2492}',
    '\u{2493}',
    '\u{2494}',
    '\u{2495}',
    '\u{2496}',
    '\u{2497}',
    '\u{2498}',
    '\u{2499}',
    '\u{249A}',
    '\u{249B}',
    '\u{33C2}',
    '\u{33C7}',
    '\u{33D8}',
    '\u{FE14}',
    '\u{FE19}',
    '\u{FE30}',
    '\u{FE52}',
    '\u{FE54}',
    '\u{FE68}',
    '\u{FE6A}',
    '\u{FF05}',
    '\u{FF0E}',
    '\u{FF0F}',
    '\u{FF1B}',
    '\u{FF3C}',
    '\u{1F100}',
];

/// Why a string is not a normalised absolute path.
pub fn normalised_error(path: &str) -> Option<&'static str> {
    if !path.starts_with('/') {
        return Some("must start with /");
    }
    if path.len() > MAX_PATH_LEN {
        return Some("is longer than 992 bytes");
    }
    if path == "/" {
        return None;
    }
    // One pass over the bytes (this runs for every scope of every key and
    // every request path). ASCII decides most of it; a multi-byte character
    // is decoded only to check it.
    //
    // Besides the shape: what another server could read differently: `;`
    // (path parameters, stripped by some servers), a percent-escape left
    // after decoding (decoded again by some), and characters that Unicode
    // normalisation (NFKC) turns into `.`, `/`, `\`, `;` or `%`.
    let bytes = path.as_bytes();
    let mut segment_start = 1;
    let mut i = 1;
    while i <= bytes.len() {
        let b = bytes.get(i).copied().unwrap_or(b'/');
        match b {
            b'/' => {
                match &bytes[segment_start..i] {
                    b"" => return Some("must not have empty segments or a trailing slash"),
                    b"." | b".." => return Some("must not have . or .. segments"),
                    _ => {}
                }
                segment_start = i + 1;
            }
            0..=0x1f | 0x7f => return Some("must not contain control characters"),
            b'\\' => return Some("must not contain a backslash"),
            b';' => return Some("must not contain ;"),
            b'%' if bytes.get(i + 1).copied().and_then(hex::value).is_some()
                && bytes.get(i + 2).copied().and_then(hex::value).is_some() =>
            {
                return Some(
                    "must not contain a percent-escape once decoded (a % and two hex digits)",
                );
            }
            0x80.. => {
                let c = path[i..].chars().next().unwrap_or_default();
                if c.is_control() {
                    return Some("must not contain control characters");
                }
                if NORMALISED_AWAY.contains(&c) {
                    return Some(
                        "must not contain characters that Unicode normalisation turns into . / \\ ; or %",
                    );
                }
                i += c.len_utf8();
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn reject(reason: &str) -> Refusal {
    Refusal::RejectPath {
        reason: reason.to_string(),
    }
}

/// A normalised absolute directory; `/` is the root.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Dir(String);

/// A normalised absolute path that names a file (never the root).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FilePath(String);

impl Dir {
    pub fn root() -> Dir {
        Dir("/".into())
    }

    pub fn parse(path: String) -> Result<Dir, Refusal> {
        match normalised_error(&path) {
            None => Ok(Dir(path)),
            Some(why) => Err(reject(why)),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0 == "/"
    }

    /// The file `name` in this directory, if `name` is one segment.
    pub fn file(&self, name: &str) -> Result<FilePath, Refusal> {
        if name.contains('/') {
            return Err(reject("must name a file without a slash"));
        }
        let path = if self.is_root() {
            format!("/{name}")
        } else {
            format!("{}/{name}", self.0)
        };
        FilePath::parse(path)
    }

    /// Whether `other` is this directory or below it.
    pub fn contains(&self, other: &Dir) -> bool {
        self.is_root()
            || other.0 == self.0
            || (other.0.starts_with(&self.0) && other.0.as_bytes().get(self.0.len()) == Some(&b'/'))
    }
}

impl FilePath {
    pub fn parse(path: String) -> Result<FilePath, Refusal> {
        let dir = Dir::parse(path)?;
        if dir.is_root() {
            return Err(reject("must name a file, not the root"));
        }
        Ok(FilePath(dir.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The directory holding the file (`/a/b.jpg` -> `/a`, `/b.jpg` -> `/`).
    pub fn parent(&self) -> Dir {
        match self.0.rfind('/') {
            Some(0) | None => Dir::root(),
            Some(i) => Dir(self.0[..i].to_string()),
        }
    }

    /// The last segment.
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or_default()
    }
}

macro_rules! string_conversions {
    ($t:ident, $what:literal) => {
        impl TryFrom<String> for $t {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                $t::parse(s.clone()).map_err(|r| match r {
                    Refusal::RejectPath { reason } => {
                        format!("{s:?} is not {}: it {reason}", $what)
                    }
                    other => other.message(),
                })
            }
        }
        impl From<$t> for String {
            fn from(p: $t) -> String {
                p.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_conversions!(Dir, "an absolute normalised directory");
string_conversions!(FilePath, "an absolute normalised file path");

/// Percent-decodes a raw URL path once. A `%` not followed by two hex
/// digits, an encoded `/` or `\`, and a result that is not UTF-8 are refused.
pub fn percent_decode(raw: &str) -> Result<String, Refusal> {
    let bytes = raw.as_bytes();
    for (i, _) in raw.match_indices('%') {
        let hi = bytes.get(i + 1).copied().and_then(hex::value);
        let lo = bytes.get(i + 2).copied().and_then(hex::value);
        let (Some(hi), Some(lo)) = (hi, lo) else {
            return Err(reject("has a % that is not followed by two hex digits"));
        };
        if matches!(hi << 4 | lo, b'/' | b'\\') {
            return Err(reject("must not contain an encoded slash or backslash"));
        }
    }
    percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| reject("is not UTF-8 once decoded"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rules, written plainly, one after the other.
    fn reference(path: &str) -> bool {
        let bytes = path.as_bytes();
        path.starts_with('/')
            && path.len() <= MAX_PATH_LEN
            && (path == "/"
                || (!path.chars().any(char::is_control)
                    && !path.contains(['\\', ';'])
                    && !path.match_indices('%').any(|(i, _)| {
                        bytes.get(i + 1).copied().and_then(hex::value).is_some()
                            && bytes.get(i + 2).copied().and_then(hex::value).is_some()
                    })
                    && !path.chars().any(|c| NORMALISED_AWAY.contains(&c))
                    && path[1..].split('/').all(|s| !matches!(s, "" | "." | ".."))))
    }

    proptest::proptest! {
        /// The one-pass check says what the plain rules say.
        #[test]
        fn one_pass_agrees_with_the_rules(path in "/([a-z.;%0-9/\\\\]|\u{FF0E}|\u{85}|é|\t){0,12}") {
            proptest::prop_assert_eq!(normalised_error(&path).is_none(), reference(&path), "{:?}", path);
        }
    }

    #[test]
    fn accepts_normalised() {
        for p in [
            "/",
            "/a",
            "/a/b",
            "/a b/c.jpg",
            "/ünï/çødé",
            "/a/.hidden",
            "/a/..b",
            "/100% done.jpg",
            "/a%zz",
        ] {
            assert_eq!(normalised_error(p), None, "{p}");
        }
    }

    #[test]
    fn refuses_the_rest() {
        for p in [
            "",
            "a",
            "a/b",
            "//",
            "/a/",
            "/a//b",
            "/./a",
            "/a/..",
            "/a/./b",
            "/a\\b",
            "/a\0b",
            "/a\nb",
            "/a\u{7f}",
            "/a/..;/b",
            "/a;x/b",
            "/a/%2e%2e/b",
            "/a%2Fb",
            "/a%25",
            "/a/\u{FF0E}\u{FF0E}/b",
            "/a\u{FF0F}b",
            "/a/\u{2025}",
            "/a\u{FE68}b",
            "/a\u{FF05}2e",
            // Found by the path_scope fuzz target: NFKC turns these into
            // `a/s` (a slash), `..`, `;` and `1.`.
            "/\u{2101}/up",
            "/a/\u{FE30}/b",
            "/a\u{037E}b",
            "/a/\u{2488}",
        ] {
            assert!(normalised_error(p).is_some(), "{p:?}");
            assert!(Dir::parse(p.into()).is_err(), "{p:?}");
        }
        // Every path fits an R2 key (1024 bytes) behind the longest project.
        assert_eq!(MAX_PATH_LEN + 32, 1024);
        assert_eq!(normalised_error(&format!("/{}", "a".repeat(991))), None);
        assert_eq!(
            normalised_error(&format!("/{}", "a".repeat(992))),
            Some("is longer than 992 bytes")
        );
        assert!(normalised_error(&format!("/{}", "é".repeat(496))).is_some());
    }

    #[test]
    fn decodes_once() {
        assert_eq!(percent_decode("/a%20b/%C3%A9.jpg").unwrap(), "/a b/é.jpg");
        assert_eq!(percent_decode("/a%252e").unwrap(), "/a%2e");
        assert_eq!(percent_decode("/plain").unwrap(), "/plain");
        for bad in [
            "/a%2Fb", "/a%2fb", "/a%5Cb", "/a%5cb", "/a%", "/a%4", "/a%zz", "/%FF", "/a%+1",
        ] {
            assert_eq!(
                percent_decode(bad).unwrap_err().code(),
                "PATH_INVALID",
                "{bad}"
            );
        }
        // Decoded dot segments, NUL and control characters are caught by the check.
        for bad in ["/a/%2E%2E/b", "/a/%2e", "/a%00b", "/a%0Ab", "/a//b"] {
            let decoded = percent_decode(bad).unwrap();
            assert_eq!(
                Dir::parse(decoded).unwrap_err().code(),
                "PATH_INVALID",
                "{bad}"
            );
        }
        assert!(FilePath::parse("/".into()).is_err());
        assert_eq!(FilePath::parse("/a.jpg".into()).unwrap().as_str(), "/a.jpg");
    }

    #[test]
    fn parents_and_names() {
        let f = |s: &str| FilePath::parse(s.into()).unwrap();
        assert_eq!(f("/a/b/c.jpg").parent().as_str(), "/a/b");
        assert_eq!(f("/c.jpg").parent(), Dir::root());
        assert_eq!(f("/a/b/c.jpg").name(), "c.jpg");
        let d = Dir::parse("/a".into()).unwrap();
        assert_eq!(d.file("x.jpg").unwrap().as_str(), "/a/x.jpg");
        assert_eq!(Dir::root().file("x.jpg").unwrap().as_str(), "/x.jpg");
        assert!(d.file("..").is_err());
        assert!(d.file("a/b").is_err());
    }

    #[test]
    fn containment() {
        let d = |s: &str| Dir::parse(s.into()).unwrap();
        assert!(d("/a").contains(&d("/a")));
        assert!(d("/a").contains(&d("/a/b")));
        assert!(!d("/a").contains(&d("/ab")));
        assert!(!d("/a/b").contains(&d("/a")));
        assert!(Dir::root().contains(&d("/x")));
    }

    #[test]
    fn serde_reads_only_normalised_paths() {
        let e = serde_json::from_str::<Dir>("\"/a/../b\"").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("\"/a/../b\" is not an absolute normalised directory: it must not have . or .. segments"),
            "{e}"
        );
        assert_eq!(
            serde_json::from_str::<Dir>("\"/a\"").unwrap(),
            Dir("/a".into())
        );
    }
}

//! Absolute, normalised storage paths: `/`, `/a`, `/a/b.jpg`.
//!
//! A normalised path starts with `/`, has no empty, `.` or `..` segment, no
//! trailing slash (but for the root), no backslash, and no NUL or other
//! control character. Scopes and request paths are both held to this.

/// Longest path accepted, in bytes.
pub const MAX_PATH_LEN: usize = 1024;

/// Why a string is not a normalised absolute path.
pub fn normalised_error(path: &str) -> Option<&'static str> {
    if !path.starts_with('/') {
        return Some("must start with /");
    }
    if path.len() > MAX_PATH_LEN {
        return Some("is longer than 1024 bytes");
    }
    if path == "/" {
        return None;
    }
    if path.chars().any(char::is_control) {
        return Some("must not contain control characters");
    }
    if path.contains('\\') {
        return Some("must not contain a backslash");
    }
    for segment in path[1..].split('/') {
        match segment {
            "" => return Some("must not have empty segments or a trailing slash"),
            "." | ".." => return Some("must not have . or .. segments"),
            _ => {}
        }
    }
    None
}

use crate::core::hex;
use crate::core::refusal::Refusal;

/// The value of one hex digit.
/// Percent-decodes a raw URL path once. An encoded `/` or `\\` is refused, as
/// is a `%` not followed by two hex digits or a result that is not UTF-8.
pub fn percent_decode(raw: &str) -> Result<String, Refusal> {
    let reject = |reason: &str| Refusal::RejectPath {
        reason: reason.to_string(),
    };
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = bytes.get(i + 1).copied().and_then(hex::value);
            let lo = bytes.get(i + 2).copied().and_then(hex::value);
            let (Some(hi), Some(lo)) = (hi, lo) else {
                return Err(reject("has a % that is not followed by two hex digits"));
            };
            let b = hi << 4 | lo;
            if b == b'/' || b == b'\\' {
                return Err(reject("must not contain an encoded slash or backslash"));
            }
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| reject("is not UTF-8 once decoded"))
}

/// A normalised absolute path, or the refusal naming what is wrong with it.
pub fn checked(path: String) -> Result<String, Refusal> {
    match normalised_error(&path) {
        None => Ok(path),
        Some(why) => Err(Refusal::RejectPath {
            reason: why.to_string(),
        }),
    }
}

/// A file's path: normalised, absolute, and not the root.
pub fn file(path: String) -> Result<String, Refusal> {
    let path = checked(path)?;
    if path == "/" {
        return Err(Refusal::RejectPath {
            reason: "must name a file, not the root".into(),
        });
    }
    Ok(path)
}

/// The directory holding `path` (`/a/b.jpg` -> `/a`, `/b.jpg` -> `/`).
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        ] {
            assert_eq!(normalised_error(p), None, "{p}");
        }
    }

    #[test]
    fn refuses_the_rest() {
        for p in [
            "", "a", "a/b", "//", "/a/", "/a//b", "/./a", "/a/..", "/a/./b", "/a\\b", "/a\0b",
            "/a\nb", "/a\u{7f}",
        ] {
            assert!(normalised_error(p).is_some(), "{p:?}");
        }
        assert!(normalised_error(&format!("/{}", "a".repeat(1024))).is_some());
    }

    #[test]
    fn decodes_once() {
        assert_eq!(percent_decode("/a%20b/%C3%A9.jpg").unwrap(), "/a b/é.jpg");
        assert_eq!(percent_decode("/a%252e").unwrap(), "/a%2e");
        assert_eq!(percent_decode("/plain").unwrap(), "/plain");
        for bad in [
            "/a%2Fb", "/a%2fb", "/a%5Cb", "/a%5cb", "/a%", "/a%4", "/a%zz", "/%FF",
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
                checked(decoded).unwrap_err().code(),
                "PATH_INVALID",
                "{bad}"
            );
        }
        assert!(file("/".into()).is_err());
        assert_eq!(file("/a.jpg".into()).unwrap(), "/a.jpg");
    }

    #[test]
    fn parents() {
        assert_eq!(parent("/a/b/c.jpg"), "/a/b");
        assert_eq!(parent("/c.jpg"), "/");
        assert_eq!(parent("/"), "/");
    }
}

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
    fn parents() {
        assert_eq!(parent("/a/b/c.jpg"), "/a/b");
        assert_eq!(parent("/c.jpg"), "/");
        assert_eq!(parent("/"), "/");
    }
}

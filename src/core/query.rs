//! The parts of a request URL the worker reads: its path, and its query
//! string (`a=b&c=d`, `+` as space, percent-decoded). Hand-written so the
//! worker needs no URL parser (and its IDNA tables). The URLs are the
//! runtime's serialised ones, whose path always starts with `/` and holds no
//! raw `?` or `#`.

use crate::core::hex;

/// The path of a full URL, percent-encoding intact: from the first `/`
/// after the host, up to `?` or `#`.
pub fn path_of_url(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[after_scheme..];
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    path.split(['?', '#']).next().unwrap_or(path)
}

/// The query part of a full URL (after the first `?`, before any `#`).
pub fn of_url(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once('?')?;
    Some(rest.split('#').next().unwrap_or(rest))
}

fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = hex::value(*bytes.get(i + 1)?)?;
                let lo = hex::value(*bytes.get(i + 2)?)?;
                out.push(hi << 4 | lo);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The first value of `name` in `query`, decoded; `None` when absent or not
/// decodable.
pub fn param(query: Option<&str>, name: &str) -> Option<String> {
    query?
        .split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k)? == name).then(|| decode(v)).flatten()
        })
        .next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params() {
        let url =
            "https://x.test/demo/v5/list?folder=%2Fa%20b&limit=5&cursor=c+d&folder=/second#frag";
        let q = of_url(url);
        assert_eq!(q, Some("folder=%2Fa%20b&limit=5&cursor=c+d&folder=/second"));
        assert_eq!(param(q, "folder").as_deref(), Some("/a b"));
        assert_eq!(param(q, "limit").as_deref(), Some("5"));
        assert_eq!(param(q, "cursor").as_deref(), Some("c d"));
        assert_eq!(param(q, "none"), None);
        assert_eq!(param(Some("flag"), "flag").as_deref(), Some(""));
        assert_eq!(param(Some("a=%zz"), "a"), None);
        assert_eq!(param(Some("a=%+1"), "a"), None, "a sign is not a hex digit");
        assert_eq!(param(Some("a=%4"), "a"), None);
        assert_eq!(param(Some("a=%C3%A9"), "a").as_deref(), Some("é"));
        assert_eq!(of_url("https://x.test/p"), None);
    }

    #[test]
    fn paths() {
        for (url, path) in [
            (
                "https://x.test/demo/v5/files/a%20b?x=1#f",
                "/demo/v5/files/a%20b",
            ),
            ("https://x.test/", "/"),
            ("https://x.test", "/"),
            ("http://127.0.0.1:8787/p/key/SECU_1#frag", "/p/key/SECU_1"),
            ("https://x.test/a/%3F?b", "/a/%3F"),
            ("https://user@x.test:1/a//b", "/a//b"),
        ] {
            assert_eq!(path_of_url(url), path, "{url}");
        }
    }
}

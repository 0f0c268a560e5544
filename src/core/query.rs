//! The query string of a request URL: `a=b&c=d`, `+` as space, percent-decoded.
//! Hand-written so the worker needs no URL parser (and its IDNA tables).

use crate::core::hex;

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
}

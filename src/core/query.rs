//! The parts of a request URL the worker reads: its path, and its query
//! string (`a=b&c=d`, `+` as space, percent-decoded). The URLs are the
//! runtime's serialised ones, whose path always starts with `/` and holds no
//! raw `?` or `#`, so the path and query are split off without a URL parser
//! (and its IDNA tables).

use percent_encoding::percent_decode_str;

use crate::hex;
use crate::refusal::Refusal;

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

/// Decodes one name or value: `+` is a space, `%XX` a byte, and the result
/// must be UTF-8. `None` when it is not so encoded.
fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    for (i, _) in text.match_indices('%') {
        hex::value(*bytes.get(i + 1)?)?;
        hex::value(*bytes.get(i + 2)?)?;
    }
    let spaced = text.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
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

/// A query string read whole: every parameter decoded, or the request is
/// refused, so that what is read has one reading.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Result<Query, Refusal> {
        let mut pairs = Vec::new();
        for pair in raw.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match (decode(k), decode(v)) {
                (Some(k), Some(v)) => pairs.push((k, v)),
                _ => {
                    return Err(Refusal::field(
                        "query",
                        format!("{pair:?} is not percent-encoded UTF-8"),
                    ));
                }
            }
        }
        Ok(Query(pairs))
    }

    /// The value of the parameter spelled any of `names`; refused when it is
    /// given more than once (a server might read either).
    pub fn one(&self, names: &[&str]) -> Result<Option<&str>, Refusal> {
        let mut found = self.0.iter().filter(|(k, _)| names.contains(&k.as_str()));
        let first = found.next();
        if let Some((k, _)) = found.next() {
            return Err(Refusal::field(
                k.clone(),
                format!("is given more than once ({})", names.join(" or ")),
            ));
        }
        Ok(first.map(|(_, v)| v.as_str()))
    }
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
    fn whole_queries() {
        let q = Query::parse(Some("folder=%2Fa+b&limit=5&x&&dir=")).unwrap();
        assert_eq!(
            q.one(&["folder", "dir"]).unwrap_err().message(),
            "dir: is given more than once (folder or dir)"
        );
        assert_eq!(q.one(&["limit"]).unwrap(), Some("5"));
        assert_eq!(q.one(&["x"]).unwrap(), Some(""));
        assert_eq!(q.one(&["nope"]).unwrap(), None);
        let q = Query::parse(Some("folder=/a&folder=/b")).unwrap();
        assert_eq!(q.one(&["folder"]).unwrap_err().code(), "INVALID_FIELD");
        for bad in ["a=%zz", "a=%", "a=%C3", "%ff=1"] {
            assert_eq!(
                Query::parse(Some(bad)).unwrap_err().code(),
                "INVALID_FIELD",
                "{bad}"
            );
        }
        assert_eq!(Query::parse(None).unwrap(), Query::default());
        assert_eq!(
            Query::parse(Some("a=%2B")).unwrap().one(&["a"]).unwrap(),
            Some("+")
        );
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

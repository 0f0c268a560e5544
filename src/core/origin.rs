//! Origin mode: with `ORIGIN_URL` set, a request that passed the gateway is
//! forwarded to that origin (a Filerobot-compatible API), with the operator's
//! own credential (`ORIGIN_KEY`) in `X-Filerobot-Key`, never the caller's key.
//!
//! The origin receives exactly what was authorised: a canonical request (the
//! checked path re-encoded, a query rebuilt from the parameters the gateway
//! read, a body rebuilt from what it read), the headers of an allow-list, and
//! `X-Sass-*` headers stating what the gateway verified, authenticated by an
//! HMAC under `ORIGIN_SECRET`. The origin recomputes HMAC-SHA256 over these
//! lines, joined by `\n`:
//!
//! ```text
//! sass-edge-origin-v2
//! {method}            e.g. PUT
//! {path and query}    as forwarded, e.g. /demo/v5/objects/a.jpg
//! {X-Sass-Project}
//! {X-Sass-Key-Id}     the SASS key's id, or "api:{id}" for an API key ("api:root")
//! {X-Sass-Permission} e.g. FILE_UPLOAD
//! {X-Sass-Client-Ip}  empty when unknown
//! {X-Sass-Timestamp}  Unix seconds
//! {X-Sass-Path}       the file's path, decoded; empty when the call has none
//! {X-Sass-Folder}     the folder of an upload or listing, decoded; or empty
//! {X-Sass-To}         the destination of a move or rename, decoded; or empty
//! ```
//!
//! and compares its base64url (no padding) with `X-Sass-Signature` in
//! constant time, refusing timestamps more than 60 s away from its clock.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use serde_json::json;

use crate::id::{FileId, Project};
use crate::listing::ListQuery;
use crate::path::{Dir, FilePath};
use crate::request::{FileMeta, Operation};
use crate::route::Call;
use crate::signing::SigningKey;

/// The request headers forwarded to the origin: what a storage origin needs
/// to serve a request, and nothing that could steer it (forwarding claims,
/// method or URL overrides, encodings). `Content-Type` is set by the gateway
/// where it rebuilds a body.
const FORWARDED: [&str; 9] = [
    "accept",
    "accept-language",
    "cache-control",
    "if-match",
    "if-none-match",
    "if-modified-since",
    "if-unmodified-since",
    "range",
    "user-agent",
];

/// Whether a request header is forwarded to the origin.
pub fn forwards_header(name: &str) -> bool {
    FORWARDED.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// The origin: its base URL (no trailing slash), the secret that signs the
/// facts, and the credential the origin accepts.
#[derive(Clone, Debug)]
pub struct Origin {
    pub url: String,
    pub key: SigningKey,
    credential: String,
}

impl Origin {
    pub fn parse(
        url: &str,
        secret: &str,
        credential: &str,
    ) -> Result<Origin, (&'static str, String)> {
        let url = url.trim().trim_end_matches('/');
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.contains(['?', '#'])
        {
            return Err((
                "ORIGIN_URL",
                "malformed: it must be an http(s) URL without query".into(),
            ));
        }
        let secret = URL_SAFE_NO_PAD
            .decode(secret.trim().trim_end_matches('='))
            .map_err(|_| {
                (
                    "ORIGIN_SECRET",
                    "malformed: it is not base64url".to_string(),
                )
            })?;
        let key = SigningKey::new("origin", &secret)
            .map_err(|why| ("ORIGIN_SECRET", format!("malformed: {why}")))?;
        let credential = credential.trim();
        if !(8..=4096).contains(&credential.len())
            || !credential.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err((
                "ORIGIN_KEY",
                "malformed: it must be 8 to 4096 printable ASCII characters, without spaces".into(),
            ));
        }
        Ok(Origin {
            url: url.to_string(),
            key,
            credential: credential.to_string(),
        })
    }

    /// The value of `X-Filerobot-Key` on every request to the origin.
    pub fn credential(&self) -> &str {
        &self.credential
    }
}

/// Characters escaped in a path segment of a forwarded URL.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b'\\')
    .add(b'^')
    .add(b'|')
    .add(b';')
    .add(b'[')
    .add(b']')
    .add(b'+')
    .add(b'&')
    .add(b'=');

/// Characters escaped in an `X-Sass-Path`, `-Folder` or `-To` header.
const HEADER: &AsciiSet = &CONTROLS.add(b'%');

/// A checked file path as a URL path, each segment percent-encoded.
pub fn encode_path(path: &FilePath) -> String {
    let mut out = String::new();
    for segment in path.as_str()[1..].split('/') {
        out.push('/');
        out.extend(utf8_percent_encode(segment, SEGMENT));
    }
    out
}

/// A query string from the parameters the gateway read, each encoded.
pub fn encode_query(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let v: String = utf8_percent_encode(v, SEGMENT).collect();
            format!("{k}={v}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// What the gateway read and allowed of a storage call, from which the
/// request to the origin is written.
#[derive(Debug, Clone, Copy)]
pub struct Allowed<'a> {
    pub project: &'a Project,
    pub call: Call,
    /// Whether the client called the `v4` form of a Filerobot call.
    pub v4: bool,
    /// The file id of a call by id.
    pub file: Option<&'a FileId>,
    pub operation: &'a Operation,
    /// The listing's parameters, for `Files`, `Folders` and `Stats`.
    pub list: Option<&'a ListQuery>,
    /// `cursor` and `limit` of the object API's listing.
    pub page: (Option<&'a str>, Option<u32>),
}

impl Allowed<'_> {
    /// The forwarded path and query: the route's fixed segments, the checked
    /// path re-encoded, and only the parameters the gateway read, rebuilt.
    pub fn path_and_query(&self) -> String {
        let p = self.project.as_str();
        let v = if self.v4 { "v4" } else { "v5" };
        let id = self.file.map_or("", FileId::as_str);
        let folder = match self.operation {
            Operation::List { folder } | Operation::UploadFiles { folder } => Some(folder),
            _ => None,
        };
        let mut query: Vec<(&str, String)> = Vec::new();
        if let Some(folder) = folder {
            query.push(("folder", folder.as_str().to_string()));
        }
        if let Some(list) = self.list {
            if list.recursive {
                query.push(("recursive", "1".into()));
            }
            if !matches!(self.call, Call::Stats) {
                query.push(("offset", list.offset.to_string()));
                query.push(("limit", list.limit.to_string()));
                query.push(("sort", list.sort.as_query()));
                if let Some(q) = &list.q {
                    query.push(("q", q.clone()));
                }
            }
        }
        if let (Some(cursor), _) = self.page {
            query.push(("cursor", cursor.to_string()));
        }
        if let (_, Some(limit)) = self.page {
            query.push(("limit", limit.to_string()));
        }
        let path = match (self.call, self.operation) {
            (Call::Move, Operation::Move { from, .. }) => {
                format!("/{p}/v5/objects{}/move", encode_path(from))
            }
            (Call::SetMeta, Operation::SetMeta { path }) => {
                format!("/{p}/v5/objects{}/meta", encode_path(path))
            }
            (
                Call::Put | Call::Get | Call::Remove,
                Operation::Upload { path, .. }
                | Operation::Fetch { path }
                | Operation::Delete { path },
            ) => format!("/{p}/v5/objects{}", encode_path(path)),
            (Call::ListFolder, _) => format!("/{p}/v5/list"),
            (Call::Upload, _) => format!("/{p}/v4/files"),
            (Call::Files, _) => format!("/{p}/{v}/files"),
            (Call::Folders, _) => format!("/{p}/{v}/folders"),
            (Call::Stats, _) => format!("/{p}/{v}/files/stats"),
            (Call::Meta, _) => format!("/{p}/{v}/files/{id}/meta"),
            _ => format!("/{p}/{v}/files/{id}"),
        };
        if query.is_empty() {
            path
        } else {
            format!("{path}?{}", encode_query(&query))
        }
    }

    /// The file, folder and destination the signed headers state.
    pub fn places(&self) -> (Option<&FilePath>, Option<&Dir>, Option<&FilePath>) {
        match self.operation {
            Operation::Upload { path, .. }
            | Operation::Fetch { path }
            | Operation::Inspect { path }
            | Operation::Delete { path }
            | Operation::SetMeta { path } => (Some(path), None, None),
            Operation::Move { from, to } => (Some(from), None, Some(to)),
            Operation::UploadFiles { folder } | Operation::List { folder } => {
                (None, Some(folder), None)
            }
        }
    }

    /// The body of a move, rename or meta call, rebuilt from what the gateway
    /// read: `{"to"}`, `{"name"}`, `{"meta": …}` or the meta object.
    pub fn small_body(&self, meta: Option<&FileMeta>) -> Option<String> {
        let meta = || meta.map_or("{}", FileMeta::as_str);
        match (self.call, self.operation) {
            (Call::Move, Operation::Move { to, .. }) => {
                Some(json!({"to": to.as_str()}).to_string())
            }
            (Call::Rename, Operation::Move { to, .. }) => {
                Some(json!({"name": to.name()}).to_string())
            }
            (Call::Meta, _) => Some(format!("{{\"meta\":{}}}", meta())),
            (Call::SetMeta, _) => Some(meta().to_string()),
            _ => None,
        }
    }
}

/// What the gateway verified about a forwarded request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified<'a> {
    pub method: &'a str,
    pub path_and_query: &'a str,
    pub project: &'a str,
    pub key_id: &'a str,
    pub permission: &'a str,
    pub client_ip: &'a str,
    pub timestamp: u64,
    pub path: Option<&'a FilePath>,
    pub folder: Option<&'a Dir>,
    pub to: Option<&'a FilePath>,
}

impl Verified<'_> {
    fn canonical(&self) -> String {
        format!(
            "sass-edge-origin-v2\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
            self.method,
            self.path_and_query,
            self.project,
            self.key_id,
            self.permission,
            self.client_ip,
            self.timestamp,
            self.path.map_or("", FilePath::as_str),
            self.folder.map_or("", Dir::as_str),
            self.to.map_or("", FilePath::as_str),
        )
    }

    /// The headers added to the forwarded request.
    pub fn headers(&self, key: &SigningKey) -> Vec<(&'static str, String)> {
        let signature = URL_SAFE_NO_PAD.encode(key.tag(self.canonical().as_bytes()));
        let mut out = vec![
            ("X-Sass-Project", self.project.to_string()),
            ("X-Sass-Key-Id", self.key_id.to_string()),
            ("X-Sass-Permission", self.permission.to_string()),
            ("X-Sass-Client-Ip", self.client_ip.to_string()),
            ("X-Sass-Timestamp", self.timestamp.to_string()),
            ("X-Sass-Signature", signature),
        ];
        // Percent-encoded (controls, `%` and non-ASCII): a header holds no
        // raw non-ASCII, and decoding gives back the signed text exactly.
        let encoded = |s: &str| utf8_percent_encode(s, HEADER).to_string();
        if let Some(p) = self.path {
            out.push(("X-Sass-Path", encoded(p.as_str())));
        }
        if let Some(f) = self.folder {
            out.push(("X-Sass-Folder", encoded(f.as_str())));
        }
        if let Some(t) = self.to {
            out.push(("X-Sass-To", encoded(t.as_str())));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

    #[test]
    fn forwarded_headers_are_an_allow_list() {
        for kept in [
            "Accept",
            "if-none-match",
            "Range",
            "User-Agent",
            "Cache-Control",
        ] {
            assert!(forwards_header(kept), "{kept}");
        }
        for dropped in [
            "X-Filerobot-Key",
            "Host",
            "Content-Length",
            "Content-Type",
            "Content-Encoding",
            "Connection",
            "X-Forwarded-For",
            "X-Forwarded-Host",
            "X-Forwarded-Proto",
            "Forwarded",
            "True-Client-IP",
            "X-Client-IP",
            "X-Real-IP",
            "X-HTTP-Method-Override",
            "X-Original-URL",
            "X-Rewrite-URL",
            "CF-Connecting-IP",
            "X-Sass-Signature",
            "Origin",
            "Cookie",
        ] {
            assert!(!forwards_header(dropped), "{dropped}");
        }
    }

    #[test]
    fn signature_vector() {
        // Computed independently with Python:
        // hmac.new(bytes(range(32)), canonical, sha256), base64url without padding.
        let origin = Origin::parse("http://127.0.0.1:9000/", SECRET, "origin-api-key-1").unwrap();
        assert_eq!(origin.url, "http://127.0.0.1:9000");
        assert_eq!(origin.credential(), "origin-api-key-1");
        let path = FilePath::parse("/up/a b.jpg".into()).unwrap();
        let v = Verified {
            method: "PUT",
            path_and_query: "/demo/v5/objects/up/a%20b.jpg",
            project: "demo",
            key_id: "07070707070707070707070707070707",
            permission: "FILE_UPLOAD",
            client_ip: "192.0.2.1",
            timestamp: 1_795_323_661,
            path: Some(&path),
            folder: None,
            to: None,
        };
        let headers = v.headers(&origin.key);
        assert_eq!(headers[5].1, include_str!("origin_vector.txt").trim());
        assert_eq!(headers[0], ("X-Sass-Project", "demo".to_string()));
        assert_eq!(headers[6], ("X-Sass-Path", "/up/a b.jpg".to_string()));
    }

    #[test]
    fn canonical_paths_and_queries() {
        let path = FilePath::parse("/a b/c%d/e?f#g=h+i".into()).unwrap();
        assert_eq!(encode_path(&path), "/a%20b/c%25d/e%3Ff%23g%3Dh%2Bi");
        assert_eq!(
            encode_query(&[("folder", "/a b&c".into()), ("limit", "5".into())]),
            "folder=%2Fa%20b%26c&limit=5"
        );
    }

    #[test]
    fn the_forwarded_request_is_rebuilt_from_what_was_read() {
        let project = Project::parse("demo").unwrap();
        let id = FileId::parse("00000000-0000-4000-8000-000000000001").unwrap();
        let file = FilePath::parse("/a b/c?.txt".into()).unwrap();
        let to = FilePath::parse("/a b/d.txt".into()).unwrap();
        let folder = Dir::parse("/up/x y".into()).unwrap();
        let allowed = |call, operation| Allowed {
            project: &project,
            call,
            v4: false,
            file: None,
            operation,
            list: None,
            page: (None, None),
        };
        let put = Operation::Upload {
            path: file.clone(),
            length: 3,
        };
        assert_eq!(
            allowed(Call::Put, &put).path_and_query(),
            "/demo/v5/objects/a%20b/c%3F.txt"
        );
        assert_eq!(allowed(Call::Put, &put).places(), (Some(&file), None, None));
        let moved = Operation::Move {
            from: file.clone(),
            to: to.clone(),
        };
        let m = allowed(Call::Move, &moved);
        assert_eq!(m.path_and_query(), "/demo/v5/objects/a%20b/c%3F.txt/move");
        assert_eq!(m.small_body(None).unwrap(), r#"{"to":"/a b/d.txt"}"#);
        assert_eq!(m.places(), (Some(&file), None, Some(&to)));
        let renamed = Allowed {
            file: Some(&id),
            v4: true,
            ..allowed(Call::Rename, &moved)
        };
        assert_eq!(
            renamed.path_and_query(),
            "/demo/v4/files/00000000-0000-4000-8000-000000000001"
        );
        assert_eq!(renamed.small_body(None).unwrap(), r#"{"name":"d.txt"}"#);
        let meta = FileMeta::read(&serde_json::json!({"b": [1], "a": "x"})).unwrap();
        let set = Operation::SetMeta { path: file.clone() };
        let by_id = Allowed {
            file: Some(&id),
            ..allowed(Call::Meta, &set)
        };
        assert_eq!(
            by_id.path_and_query(),
            "/demo/v5/files/00000000-0000-4000-8000-000000000001/meta"
        );
        assert_eq!(
            by_id.small_body(Some(&meta)).unwrap(),
            format!("{{\"meta\":{}}}", meta.as_str())
        );
        let upload = Operation::UploadFiles {
            folder: folder.clone(),
        };
        let u = allowed(Call::Upload, &upload);
        assert_eq!(u.path_and_query(), "/demo/v4/files?folder=%2Fup%2Fx%20y");
        assert_eq!(u.places(), (None, Some(&folder), None));
        assert_eq!(u.small_body(None), None);
        let list = Operation::List {
            folder: folder.clone(),
        };
        let asked = crate::query::Query::parse(Some(
            "folder=/up/x%20y&recursive=true&limit=7&q=A%26B&sort=updated_at:desc&view=x",
        ))
        .unwrap();
        let read = ListQuery::read(&asked).unwrap();
        let files = Allowed {
            list: Some(&read),
            ..allowed(Call::Files, &list)
        };
        assert_eq!(
            files.path_and_query(),
            "/demo/v5/files?folder=%2Fup%2Fx%20y&recursive=1&offset=0&limit=7&sort=updated_at:desc&q=a%26b"
        );
        let stats = Allowed {
            list: Some(&read),
            ..allowed(Call::Stats, &list)
        };
        assert_eq!(
            stats.path_and_query(),
            "/demo/v5/files/stats?folder=%2Fup%2Fx%20y&recursive=1"
        );
        let own = Allowed {
            page: (Some("c&1"), Some(5)),
            ..allowed(Call::ListFolder, &list)
        };
        assert_eq!(
            own.path_and_query(),
            "/demo/v5/list?folder=%2Fup%2Fx%20y&cursor=c%261&limit=5"
        );
    }

    #[test]
    fn settings_are_checked() {
        let bad =
            |url: &str, secret: &str, key: &str| Origin::parse(url, secret, key).unwrap_err().0;
        assert_eq!(bad("ftp://x", SECRET, "origin-key"), "ORIGIN_URL");
        assert_eq!(bad("https://x/?a", SECRET, "origin-key"), "ORIGIN_URL");
        assert_eq!(bad("https://x", "short", "origin-key"), "ORIGIN_SECRET");
        assert_eq!(bad("https://x", "!!", "origin-key"), "ORIGIN_SECRET");
        assert_eq!(bad("https://x", SECRET, "short"), "ORIGIN_KEY");
        assert_eq!(bad("https://x", SECRET, "has a space"), "ORIGIN_KEY");
    }
}

//! Filerobot uploads (`POST /{project}/v4/files?folder=…`): what a body
//! holds and how it is read.
//!
//! - **Multipart**, read as it streams with `multer`: every part with a file
//!   name (or named `files[]` or `attachment`) is a file; `info[X]`,
//!   `meta[X]` and `tags[X]` describe the file part named `X` that follows
//!   them (or, if none follows, the last one before them). The name in
//!   `info[X]` wins over the part's file name. Each file's bytes go to a
//!   `Sink` (the shell stages them in storage) while their size is checked
//!   against `max_file_size` and their SHA-1 computed.
//! - **JSON**: `{"name", "data", "postactions": "decode_base64"}` (one file,
//!   base64), or `{"files_urls": [{"url", "name"}]}` (files to fetch).
//!
//! Nothing is stored here: the caller counts the files, then commits or
//! aborts what the sink staged.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use bytes::Bytes;
use futures_util::Stream;
use serde::Deserialize;
use serde_json::{Map, Value};
use sha1::{Digest, Sha1};

use crate::body::typed;
use crate::file_record::Tags;
use crate::hex;
use crate::path::{Dir, FilePath};
use crate::refusal::Refusal;

/// Most files in one request.
pub const MAX_FILES: usize = 100;
/// Most parts in one multipart body, files and descriptions together.
pub const MAX_PARTS: usize = 400;
/// Largest description part (`info[…]`, `meta[…]`, `tags[…]`), in bytes.
pub const MAX_DESCRIPTION: usize = 16 * 1024;
/// Largest block of part headers, in bytes.
pub const MAX_PART_HEADERS: u64 = 64 * 1024;
/// Longest file name, in bytes.
pub const MAX_NAME: usize = 255;
/// Largest JSON upload body (base64 data, or a list of URLs), in bytes.
pub const MAX_JSON_UPLOAD: usize = 16 * 1024 * 1024;
/// Most tags on one file, and the longest tag.
const MAX_TAGS: usize = 100;
const MAX_TAG: usize = 100;

fn reject(reason: impl Into<String>) -> Refusal {
    Refusal::RejectMultipart {
        reason: reason.into(),
    }
}

/// Where a file's bytes go while they stream in. The shell stages them in
/// storage; the tests keep them in memory.
#[allow(async_fn_in_trait)] // wasm32 is single-threaded: no Send bound is wanted.
pub trait Sink {
    /// What a finished file leaves behind, to be committed or aborted.
    type Staged;
    /// A file begins, carried by the part named `field`; it is meant for
    /// `path` (a later `info` part may still rename it).
    async fn open(
        &mut self,
        field: &str,
        path: &FilePath,
        content_type: &str,
    ) -> Result<(), Refusal>;
    async fn write(&mut self, chunk: Bytes) -> Result<(), Refusal>;
    async fn close(&mut self) -> Result<Self::Staged, Refusal>;
    /// A description part (`info[…]`, `meta[…]` or `tags[…]`, named
    /// `part`), read whole and checked: for a sink that passes the body on.
    async fn describe(&mut self, part: &str, json: &[u8]) -> Result<(), Refusal> {
        let _ = (part, json);
        Ok(())
    }
}

/// One file of an upload, received whole.
#[derive(Debug)]
pub struct Received<S> {
    pub path: FilePath,
    pub content_type: String,
    pub size: u64,
    /// Hex SHA-1 of the bytes.
    pub sha1: String,
    pub meta: Map<String, Value>,
    pub tags: Tags,
    pub info: Map<String, Value>,
    /// The name of the part that carried it.
    pub field: String,
    /// Whether `path` changed after the sink opened the file (an `info`
    /// part after its file).
    pub renamed: bool,
    pub staged: S,
}

/// What the client said about a file in `info[…]`, `meta[…]` and `tags[…]`.
#[derive(Debug, Default, Clone)]
struct Described {
    info: Option<Map<String, Value>>,
    meta: Option<Map<String, Value>>,
    tags: Option<Tags>,
}

/// `info[files[]]`: `{"name", "type", …}`; other members are kept as given.
fn read_info(value: Value) -> Result<Map<String, Value>, String> {
    let Value::Object(info) = value else {
        return Err("must be a JSON object".into());
    };
    for (member, what) in [("name", "a file name"), ("type", "a media type")] {
        if let Some(v) = info.get(member)
            && !v.is_string()
        {
            return Err(format!("{member} must be {what}"));
        }
    }
    Ok(info)
}

/// `tags[files[]]`: `{"lang": "en", "new_tags": ["cat"]}` (the widget's
/// form), or `{"en": ["cat"]}`.
pub fn read_tags(value: Value) -> Result<Tags, String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct WidgetTags {
        #[serde(default)]
        lang: Option<String>,
        new_tags: Vec<String>,
    }
    let tags: Tags = match serde_json::from_value::<WidgetTags>(value.clone()) {
        Ok(w) => Tags::from([(w.lang.unwrap_or_else(|| "default".into()), w.new_tags)]),
        Err(_) => serde_json::from_value(value).map_err(|_| {
            "must be {\"lang\": …, \"new_tags\": [names]} or {language: [names]}".to_string()
        })?,
    };
    let count: usize = tags.values().map(Vec::len).sum();
    if count > MAX_TAGS || tags.values().flatten().any(|t| t.chars().count() > MAX_TAG) {
        return Err(format!(
            "at most {MAX_TAGS} tags of at most {MAX_TAG} characters"
        ));
    }
    Ok(tags)
}

/// A file's path: `folder` and a name that is one path segment.
pub fn target(folder: &Dir, name: &str) -> Result<FilePath, Refusal> {
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(Refusal::field(
            "name",
            format!("a file name must have 1 to {MAX_NAME} bytes"),
        ));
    }
    folder.file(name).map_err(|r| match r {
        Refusal::RejectPath { reason } => Refusal::field(
            "name",
            format!("{name:?} is not a file name: the path {reason}"),
        ),
        other => other,
    })
}

/// A media type as given, or the default.
pub fn media_type(given: Option<&str>) -> Result<String, Refusal> {
    match given {
        None | Some("") => Ok("application/octet-stream".into()),
        Some(t)
            if t.len() <= 255 && t.contains('/') && t.is_ascii() && !t.contains(['\r', '\n']) =>
        {
            Ok(t.to_string())
        }
        Some(t) => Err(Refusal::field("type", format!("{t:?} is not a media type"))),
    }
}

/// What kind of part a multipart part is.
#[derive(Debug, PartialEq, Eq)]
enum Part<'a> {
    File {
        field: &'a str,
    },
    Info(&'a str),
    Meta(&'a str),
    Tags(&'a str),
    /// A description this worker does not use (`product[…]`), or any other
    /// part without a file: read and left aside.
    Other,
}

fn classify<'a>(name: &'a str, has_filename: bool) -> Part<'a> {
    let described = |prefix: &str| {
        name.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(']'))
    };
    if has_filename || name == "files[]" || name == "attachment" {
        Part::File { field: name }
    } else if let Some(x) = described("info[") {
        Part::Info(x)
    } else if let Some(x) = described("meta[") {
        Part::Meta(x)
    } else if let Some(x) = described("tags[") {
        Part::Tags(x)
    } else {
        Part::Other
    }
}

/// The request body, counting what is pulled while part headers are read:
/// `multer` buffers a part's headers until their end, however long they are.
/// It hands `multer` one chunk per poll (a poll after a chunk waits once), so
/// that what is pulled while headers are read is those headers and at most
/// one chunk, whether the source has more chunks ready or not.
struct Guarded<S> {
    inner: S,
    pulled: Arc<AtomicU64>,
    headers_from: Arc<AtomicU64>,
    just_gave: bool,
}

const NOT_IN_HEADERS: u64 = u64::MAX;

impl<S: Stream<Item = Result<Bytes, io::Error>> + Unpin> Stream for Guarded<S> {
    type Item = Result<Bytes, io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let from = self.headers_from.load(Ordering::Relaxed);
        let pulled = self.pulled.load(Ordering::Relaxed);
        if from != NOT_IN_HEADERS && pulled.saturating_sub(from) > MAX_PART_HEADERS {
            return Poll::Ready(Some(Err(io::Error::other(HEADERS_TOO_LONG))));
        }
        if self.just_gave {
            self.just_gave = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let polled = Pin::new(&mut self.inner).poll_next(cx);
        if let Poll::Ready(Some(Ok(chunk))) = &polled {
            self.pulled.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            self.just_gave = true;
        }
        polled
    }
}

const HEADERS_TOO_LONG: &str = "part headers too long";

fn multipart_refusal(e: multer::Error) -> Refusal {
    use multer::Error::*;
    match e {
        StreamReadFailed(inner) if inner.to_string() == HEADERS_TOO_LONG => reject(format!(
            "a part's headers are longer than {MAX_PART_HEADERS} bytes"
        )),
        StreamReadFailed(_) => reject("the body could not be read"),
        IncompleteStream | IncompleteFieldData { .. } | IncompleteHeaders => {
            reject("the body ends before its closing boundary")
        }
        ReadHeaderFailed(_) | DecodeHeaderName { .. } | DecodeHeaderValue { .. } => {
            reject("a part's headers are malformed")
        }
        NoMultipart | NoBoundary => reject("the body is not multipart/form-data with a boundary"),
        other => reject(format!("the body is malformed: {other}")),
    }
}

/// The boundary of a `multipart/form-data` content type: 1 to 70
/// characters (RFC 2046).
pub fn boundary(content_type: &str) -> Result<String, Refusal> {
    let boundary = multer::parse_boundary(content_type).map_err(multipart_refusal)?;
    if !(1..=70).contains(&boundary.len()) {
        return Err(reject("the boundary must be 1 to 70 characters"));
    }
    Ok(boundary)
}

/// A file being received.
struct Open {
    field: String,
    path: FilePath,
    content_type: String,
    size: u64,
    sha1: Sha1,
    described: Described,
}

/// Reads a multipart upload into `folder`, streaming each file into `sink`.
/// Every file is at most `max_file_size` bytes. Returns the files in the
/// order they came; at least one.
pub async fn read_multipart<S, K>(
    body: S,
    boundary: &str,
    folder: &Dir,
    max_file_size: u64,
    sink: &mut K,
) -> Result<Vec<Received<K::Staged>>, Refusal>
where
    S: Stream<Item = Result<Bytes, io::Error>> + Send + Unpin + 'static,
    K: Sink,
{
    let pulled = Arc::new(AtomicU64::new(0));
    let headers_from = Arc::new(AtomicU64::new(NOT_IN_HEADERS));
    let guarded = Guarded {
        inner: body,
        pulled: pulled.clone(),
        headers_from: headers_from.clone(),
        just_gave: false,
    };
    let mut multipart = multer::Multipart::new(guarded, boundary);
    // Descriptions waiting for the file part they name.
    let mut pending: HashMap<String, Described> = HashMap::new();
    let mut received: Vec<Received<K::Staged>> = Vec::new();
    let mut parts = 0;
    loop {
        headers_from.store(pulled.load(Ordering::Relaxed), Ordering::Relaxed);
        let next = multipart.next_field().await.map_err(multipart_refusal)?;
        headers_from.store(NOT_IN_HEADERS, Ordering::Relaxed);
        let Some(mut field) = next else { break };
        parts += 1;
        if parts > MAX_PARTS {
            return Err(reject(format!("a body may have at most {MAX_PARTS} parts")));
        }
        let name = field
            .name()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| reject("a part has no name"))?
            .to_string();
        let file_name = field.file_name().map(str::to_string);
        match classify(&name, file_name.is_some()) {
            Part::File { field: x } => {
                if received.len() == MAX_FILES {
                    return Err(reject(format!(
                        "a request may upload at most {MAX_FILES} files"
                    )));
                }
                let described = pending.remove(x).unwrap_or_default();
                let info_name = described
                    .info
                    .as_ref()
                    .and_then(|i| i.get("name"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let given = info_name.or(file_name).ok_or_else(|| {
                    reject(format!(
                        "the file part {name:?} has no file name, and no info[{name}] names it"
                    ))
                })?;
                let path = target(folder, &given)?;
                let info_type = described
                    .info
                    .as_ref()
                    .and_then(|i| i.get("type"))
                    .and_then(Value::as_str);
                let part_type = field.content_type().map(|m| m.essence_str().to_string());
                let content_type = media_type(info_type.or(part_type.as_deref()))?;
                let mut open = Open {
                    field: name.clone(),
                    path,
                    content_type,
                    size: 0,
                    sha1: Sha1::new(),
                    described,
                };
                sink.open(&open.field, &open.path, &open.content_type)
                    .await?;
                while let Some(chunk) = field.chunk().await.map_err(multipart_refusal)? {
                    open.size += chunk.len() as u64;
                    if open.size > max_file_size {
                        return Err(Refusal::RejectFileSize {
                            limit: max_file_size,
                        });
                    }
                    open.sha1.update(&chunk);
                    sink.write(chunk).await?;
                }
                let staged = sink.close().await?;
                received.push(Received {
                    path: open.path,
                    content_type: open.content_type,
                    size: open.size,
                    sha1: hex::lower(&open.sha1.finalize()),
                    meta: open.described.meta.unwrap_or_default(),
                    tags: open.described.tags.unwrap_or_default(),
                    info: open.described.info.unwrap_or_default(),
                    field: open.field,
                    renamed: false,
                    staged,
                });
            }
            Part::Other => {
                read_small(&mut field, &name).await?;
            }
            description => {
                let text = read_small(&mut field, &name).await?;
                let value: Value = crate::body::parse(&text).map_err(|e| {
                    reject(format!("the part {name:?} is not JSON: {}", e.message()))
                })?;
                let bad = |why: String| reject(format!("the part {name:?} {why}"));
                sink.describe(&name, &text).await?;
                match description {
                    Part::Info(x) => {
                        pending.entry(x.to_string()).or_default().info =
                            Some(read_info(value).map_err(bad)?);
                    }
                    Part::Meta(x) => match value {
                        Value::Object(meta) => {
                            pending.entry(x.to_string()).or_default().meta = Some(meta);
                        }
                        _ => return Err(bad("must be a JSON object".into())),
                    },
                    Part::Tags(x) => {
                        pending.entry(x.to_string()).or_default().tags =
                            Some(read_tags(value).map_err(bad)?);
                    }
                    Part::File { .. } | Part::Other => {}
                }
            }
        }
    }
    attach_late(&mut received, pending, folder)?;
    if received.is_empty() {
        return Err(reject("the body holds no file"));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = received.iter().find(|r| !seen.insert(r.path.clone())) {
        return Err(reject(format!("two files go to {}", dup.path)));
    }
    Ok(received)
}

/// Reads a part that is not a file: at most `MAX_DESCRIPTION` bytes.
async fn read_small(field: &mut multer::Field<'_>, name: &str) -> Result<Vec<u8>, Refusal> {
    let mut out = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_refusal)? {
        if out.len() + chunk.len() > MAX_DESCRIPTION {
            return Err(reject(format!(
                "the part {name:?} is larger than {MAX_DESCRIPTION} bytes"
            )));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Descriptions that no file part followed describe the last file part of
/// their name; one that describes no file at all is refused.
fn attach_late<S>(
    received: &mut [Received<S>],
    pending: HashMap<String, Described>,
    folder: &Dir,
) -> Result<(), Refusal> {
    for (x, described) in pending {
        let file = received
            .iter_mut()
            .rev()
            .find(|r| r.field == x)
            .ok_or_else(|| {
                reject(format!(
                    "info[{x}], meta[{x}] or tags[{x}] describes no file part {x:?}"
                ))
            })?;
        if let Some(info) = described.info {
            if let Some(name) = info.get("name").and_then(Value::as_str) {
                let path = target(folder, name)?;
                if path != file.path {
                    file.path = path;
                    file.renamed = true;
                }
            }
            if let Some(t) = info.get("type").and_then(Value::as_str) {
                file.content_type = media_type(Some(t))?;
            }
            file.info = info;
        }
        if let Some(meta) = described.meta {
            file.meta = meta;
        }
        if let Some(tags) = described.tags {
            file.tags = tags;
        }
    }
    Ok(())
}

/// The standard base64 alphabet, with or without padding.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// `{"name", "data", "postactions": "decode_base64"}`: one file, base64.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Base64Body {
    name: String,
    data: String,
    postactions: String,
    #[serde(default, rename = "type")]
    content_type: Option<String>,
    #[serde(default)]
    meta: Map<String, Value>,
    #[serde(default)]
    tags: Option<Value>,
}

/// One entry of `files_urls`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrlEntry {
    pub url: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub meta: Map<String, Value>,
    #[serde(default)]
    pub info: Map<String, Value>,
}

/// `{"files_urls": [{"url", "name"}], "dir"?}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UrlsBody {
    files_urls: Vec<UrlEntry>,
    #[serde(default)]
    dir: Option<String>,
}

/// A file given in a JSON body, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Inline {
    pub path: FilePath,
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub sha1: String,
    pub meta: Map<String, Value>,
    pub tags: Tags,
}

/// A file to fetch from a URL into `path`.
#[derive(Debug, Clone, PartialEq)]
pub struct Remote {
    pub url: String,
    pub path: FilePath,
    pub meta: Map<String, Value>,
    pub info: Map<String, Value>,
}

/// What a JSON upload body asks.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonUpload {
    Inline(Inline),
    Urls(Vec<Remote>),
}

impl JsonUpload {
    /// How many files it uploads (each counts as one upload).
    pub fn count(&self) -> usize {
        match self {
            JsonUpload::Inline(_) => 1,
            JsonUpload::Urls(remotes) => remotes.len(),
        }
    }

    /// The body again, written from what was read (for an origin): only the
    /// fields read, each file named by its checked name.
    pub fn canonical(&self) -> Value {
        match self {
            JsonUpload::Inline(i) => serde_json::json!({
                "name": i.path.name(),
                "data": BASE64.encode(&i.bytes),
                "postactions": "decode_base64",
                "type": i.content_type,
                "meta": i.meta,
                "tags": i.tags,
            }),
            JsonUpload::Urls(remotes) => serde_json::json!({
                "files_urls": remotes.iter().map(|r| serde_json::json!({
                    "url": r.url,
                    "name": r.path.name(),
                    "meta": r.meta,
                    "info": r.info,
                })).collect::<Vec<_>>(),
            }),
        }
    }
}

/// The SHA-1 of `bytes`, in hex.
pub fn sha1_hex(bytes: &[u8]) -> String {
    hex::lower(&Sha1::digest(bytes))
}

/// Reads a JSON upload body into `folder`; a base64 file is at most
/// `max_file_size` bytes once decoded.
pub fn read_json(body: Value, folder: &Dir, max_file_size: u64) -> Result<JsonUpload, Refusal> {
    if body.get("files_urls").is_some() {
        let urls: UrlsBody = typed(body, "")?;
        if let Some(dir) = urls.dir
            && dir != folder.as_str()
        {
            return Err(Refusal::field(
                "dir",
                "names another folder than the query's",
            ));
        }
        if urls.files_urls.is_empty() || urls.files_urls.len() > MAX_FILES {
            return Err(Refusal::field(
                "files_urls",
                format!("must list 1 to {MAX_FILES} files"),
            ));
        }
        let remotes = urls
            .files_urls
            .into_iter()
            .enumerate()
            .map(|(i, e)| remote(e, folder).map_err(|r| at_entry(r, i)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut seen = std::collections::HashSet::new();
        if let Some(dup) = remotes.iter().find(|r| !seen.insert(r.path.clone())) {
            return Err(Refusal::field(
                "files_urls",
                format!("two files go to {}", dup.path),
            ));
        }
        return Ok(JsonUpload::Urls(remotes));
    }
    let b: Base64Body = typed(body, "")?;
    if b.postactions != "decode_base64" {
        return Err(Refusal::field("postactions", "must be \"decode_base64\""));
    }
    let bytes = BASE64
        .decode(b.data.trim())
        .map_err(|_| Refusal::field("data", "is not base64"))?;
    if bytes.len() as u64 > max_file_size {
        return Err(Refusal::RejectFileSize {
            limit: max_file_size,
        });
    }
    let tags = match b.tags {
        Some(t) => read_tags(t).map_err(|why| Refusal::field("tags", why))?,
        None => Tags::new(),
    };
    Ok(JsonUpload::Inline(Inline {
        path: target(folder, &b.name)?,
        content_type: media_type(b.content_type.as_deref())?,
        sha1: sha1_hex(&bytes),
        bytes,
        meta: b.meta,
        tags,
    }))
}

fn at_entry(r: Refusal, i: usize) -> Refusal {
    match r {
        Refusal::RejectField { field, reason } => {
            Refusal::field(format!("files_urls[{i}].{field}"), reason)
        }
        other => other,
    }
}

/// A `files_urls` entry: an http(s) URL, and a name (given, or the URL's
/// last path segment).
fn remote(e: UrlEntry, folder: &Dir) -> Result<Remote, Refusal> {
    let rest = e
        .url
        .strip_prefix("https://")
        .or_else(|| e.url.strip_prefix("http://"))
        .filter(|r| !r.is_empty() && e.url.len() <= 2048 && !e.url.chars().any(char::is_whitespace))
        .ok_or_else(|| Refusal::field("url", "must be an http or https URL"))?;
    let name = match e.name {
        Some(name) => name,
        None => {
            let path = rest.split(['?', '#']).next().unwrap_or_default();
            let last = path.rsplit('/').next().unwrap_or_default();
            crate::path::percent_decode(last).unwrap_or_default()
        }
    };
    Ok(Remote {
        path: target(folder, &name)?,
        url: e.url,
        meta: e.meta,
        info: e.info,
    })
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_json_upload_is_written_again_from_what_was_read() {
        let folder = Dir::parse("/s".into()).unwrap();
        let body = serde_json::json!({
            "name": "a.png", "data": " aGVsbG8= ", "postactions": "decode_base64",
            "type": "image/png", "meta": {"k": 1}
        });
        let read = read_json(body, &folder, 100).unwrap();
        assert_eq!(read.count(), 1);
        assert_eq!(
            read.canonical(),
            serde_json::json!({"name": "a.png", "data": "aGVsbG8=", "postactions": "decode_base64",
                "type": "image/png", "meta": {"k": 1}, "tags": {}})
        );
        let urls = serde_json::json!({"files_urls": [
            {"url": "https://x.example/p/q.jpg"}, {"url": "https://y.example/r", "name": "n.jpg"}
        ], "dir": "/s"});
        let read = read_json(urls, &folder, 100).unwrap();
        assert_eq!(read.count(), 2);
        assert_eq!(
            read.canonical(),
            serde_json::json!({"files_urls": [
                {"url": "https://x.example/p/q.jpg", "name": "q.jpg", "meta": {}, "info": {}},
                {"url": "https://y.example/r", "name": "n.jpg", "meta": {}, "info": {}}
            ]})
        );
    }

    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// Keeps every file in memory.
    #[derive(Default)]
    struct Memory {
        current: Vec<u8>,
        opened: Vec<String>,
    }

    impl Sink for Memory {
        type Staged = Vec<u8>;
        async fn open(&mut self, _: &str, path: &FilePath, _: &str) -> Result<(), Refusal> {
            self.opened.push(path.to_string());
            self.current.clear();
            Ok(())
        }
        async fn write(&mut self, chunk: Bytes) -> Result<(), Refusal> {
            self.current.extend_from_slice(&chunk);
            Ok(())
        }
        async fn close(&mut self) -> Result<Vec<u8>, Refusal> {
            Ok(std::mem::take(&mut self.current))
        }
    }

    const B: &str = "XyZbOuNdArY";

    /// A part of a test body: (name, file name, content type, bytes).
    type TestPart<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

    /// A multipart body of `parts`: (name, file name, content type, bytes).
    fn body(parts: &[TestPart]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, file, ctype, bytes) in parts {
            out.extend_from_slice(
                format!("--{B}\r\nContent-Disposition: form-data; name=\"{name}\"").as_bytes(),
            );
            if let Some(f) = file {
                out.extend_from_slice(format!("; filename=\"{f}\"").as_bytes());
            }
            out.extend_from_slice(b"\r\n");
            if let Some(t) = ctype {
                out.extend_from_slice(format!("Content-Type: {t}\r\n").as_bytes());
            }
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(bytes);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("--{B}--\r\n").as_bytes());
        out
    }

    /// `bytes` as a stream of chunks of `size` bytes.
    fn chunks(
        bytes: Vec<u8>,
        size: usize,
    ) -> impl Stream<Item = Result<Bytes, io::Error>> + Send + Unpin + 'static {
        let pieces: Vec<Result<Bytes, io::Error>> = bytes
            .chunks(size.max(1))
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        futures_util::stream::iter(pieces)
    }

    fn folder() -> Dir {
        Dir::parse("/up".into()).unwrap()
    }

    fn read(bytes: Vec<u8>, chunk: usize, max: u64) -> Result<Vec<Received<Vec<u8>>>, Refusal> {
        let mut sink = Memory::default();
        futures_executor::block_on(read_multipart(
            chunks(bytes, chunk),
            B,
            &folder(),
            max,
            &mut sink,
        ))
    }

    #[test]
    fn the_widget_s_upload() {
        let files = read(
            body(&[
                ("meta[files[]]", None, None, br#"{"title":"Hello"}"#),
                (
                    "info[files[]]",
                    None,
                    None,
                    br#"{"name":"hello \"q\".txt","type":"text/plain"}"#,
                ),
                (
                    "tags[files[]]",
                    None,
                    None,
                    br#"{"lang":"en","new_tags":["cat"]}"#,
                ),
                (
                    "files[]",
                    Some("hello %22q%22.txt"),
                    Some("application/octet-stream"),
                    b"hello",
                ),
            ]),
            7,
            100,
        )
        .unwrap();
        assert_eq!(files.len(), 1);
        let f = &files[0];
        assert_eq!(f.path.as_str(), "/up/hello \"q\".txt", "info's name wins");
        assert_eq!(f.content_type, "text/plain");
        assert_eq!(f.size, 5);
        assert_eq!(f.sha1, "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d");
        assert_eq!(f.staged, b"hello");
        assert_eq!(Value::Object(f.meta.clone()), json!({"title": "Hello"}));
        assert_eq!(f.tags, Tags::from([("en".into(), vec!["cat".into()])]));
    }

    #[test]
    fn the_sdk_s_upload_describes_after_the_file() {
        let files = read(
            body(&[
                ("a.txt", Some("a.txt"), None, b"abc"),
                ("meta[a.txt]", None, None, br#"{"k":"v"}"#),
            ]),
            3,
            100,
        )
        .unwrap();
        assert_eq!(files[0].path.as_str(), "/up/a.txt");
        assert_eq!(files[0].content_type, "application/octet-stream");
        assert_eq!(Value::Object(files[0].meta.clone()), json!({"k": "v"}));
        assert!(!files[0].renamed);
    }

    #[test]
    fn several_files_each_with_its_description() {
        let files = read(
            body(&[
                ("info[files[]]", None, None, br#"{"name":"one.txt"}"#),
                ("files[]", Some("x"), None, b"1"),
                ("info[files[]]", None, None, br#"{"name":"two.txt"}"#),
                ("files[]", Some("y"), None, b"22"),
                ("attachment", Some("three.bin"), Some("image/png"), b"333"),
                ("product[files[]]", None, None, b"{}"),
            ]),
            1,
            100,
        )
        .unwrap();
        let names: Vec<_> = files.iter().map(|f| (f.path.as_str(), f.size)).collect();
        assert_eq!(
            names,
            [("/up/one.txt", 1), ("/up/two.txt", 2), ("/up/three.bin", 3)]
        );
        assert_eq!(files[2].content_type, "image/png");
    }

    #[test]
    fn a_late_name_renames() {
        let files = read(
            body(&[
                ("files[]", Some("x.txt"), None, b"1"),
                ("info[files[]]", None, None, br#"{"name":"late.txt"}"#),
            ]),
            64,
            100,
        )
        .unwrap();
        assert_eq!(files[0].path.as_str(), "/up/late.txt");
        assert!(files[0].renamed);
    }

    fn refusal(bytes: Vec<u8>, max: u64) -> (String, String) {
        let e = read(bytes, 4096, max).unwrap_err();
        (e.code().to_string(), e.message())
    }

    #[test]
    fn malformed_bodies_are_typed_400s() {
        assert_eq!(
            boundary("multipart/form-data").unwrap_err().code(),
            "INVALID_MULTIPART"
        );
        assert_eq!(
            boundary("application/json").unwrap_err().code(),
            "INVALID_MULTIPART"
        );
        assert_eq!(
            boundary(&format!("multipart/form-data; boundary={B}")).unwrap(),
            B
        );
        // An empty or overlong boundary (found by the multipart fuzz target).
        for bad in [
            "multipart/form-data; boundary=".to_string(),
            format!("multipart/form-data; boundary={}", "b".repeat(71)),
        ] {
            assert_eq!(
                boundary(&bad).unwrap_err().code(),
                "INVALID_MULTIPART",
                "{bad}"
            );
        }
        let whole = body(&[("files[]", Some("a.txt"), None, b"hello world")]);
        let cut = whole[..whole.len() - 12].to_vec();
        assert_eq!(refusal(cut, 100).0, "INVALID_MULTIPART");
        assert_eq!(
            refusal(b"no boundary here".to_vec(), 100).0,
            "INVALID_MULTIPART"
        );
        let nameless = format!(
            "--{B}\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\nx\r\n--{B}--\r\n"
        );
        assert!(refusal(nameless.into_bytes(), 100).1.contains("no name"));
        let many: Vec<TestPart> = (0..10_000).map(|_| ("x", None, None, &b""[..])).collect();
        let m = refusal(body(&many), 100).1;
        assert!(m.contains("at most 400 parts"), "{m}");
        let long = format!(
            "--{B}\r\nContent-Disposition: form-data; name=\"files[]\"; filename=\"{}\"\r\n\r\nx\r\n--{B}--\r\n",
            "a".repeat(1024 * 1024)
        );
        assert!(
            refusal(long.into_bytes(), 100)
                .1
                .contains("headers are longer than")
        );
        assert_eq!(
            refusal(body(&[("files[]", Some("a"), None, &[7; 101])]), 100).0,
            "FILE_TOO_LARGE"
        );
        assert!(
            refusal(body(&[("x", None, None, b"1")]), 100)
                .1
                .contains("no file")
        );
        assert!(
            refusal(body(&[("files[]", None, None, b"1")]), 100)
                .1
                .contains("no file name")
        );
        let twice = body(&[
            ("files[]", Some("a"), None, b"1"),
            ("files[]", Some("a"), None, b"2"),
        ]);
        assert!(refusal(twice, 100).1.contains("two files go to /up/a"));
        assert!(
            refusal(
                body(&[
                    ("info[files[]]", None, None, b"{"),
                    ("files[]", Some("a"), None, b"1")
                ]),
                100
            )
            .1
            .contains("not JSON")
        );
        assert!(
            refusal(
                body(&[
                    ("info[files[]]", None, None, b"[]"),
                    ("files[]", Some("a"), None, b"1")
                ]),
                100
            )
            .1
            .contains("JSON object")
        );
        assert!(
            refusal(
                body(&[
                    ("files[]", Some("a"), None, b"1"),
                    ("info[other]", None, None, b"{}")
                ]),
                100
            )
            .1
            .contains("describes no file")
        );
        assert_eq!(
            refusal(body(&[("files[]", Some("../a"), None, b"1")]), 100).0,
            "INVALID_FIELD"
        );
        assert_eq!(
            refusal(body(&[("files[]", Some(".."), None, b"1")]), 100).0,
            "INVALID_FIELD"
        );
        let big_info = format!("{{\"x\":\"{}\"}}", "a".repeat(MAX_DESCRIPTION));
        assert!(
            refusal(
                body(&[
                    ("info[files[]]", None, None, big_info.as_bytes()),
                    ("files[]", Some("a"), None, b"1")
                ]),
                100
            )
            .1
            .contains("larger than")
        );
        let files: Vec<TestPart> = (0..101)
            .map(|i| {
                (
                    "files[]",
                    Some(Box::leak(format!("f{i}").into_boxed_str()) as &str),
                    None,
                    &b"1"[..],
                )
            })
            .collect();
        assert!(refusal(body(&files), 100).1.contains("at most 100 files"));
    }

    #[test]
    fn json_bodies() {
        let f = folder();
        let JsonUpload::Inline(i) = read_json(
            json!({"name": "a.txt", "data": "aGVsbG8=", "postactions": "decode_base64"}),
            &f,
            100,
        )
        .unwrap() else {
            panic!("not inline")
        };
        assert_eq!(
            (i.path.as_str(), i.bytes.as_slice()),
            ("/up/a.txt", &b"hello"[..])
        );
        assert_eq!(i.sha1, sha1_hex(b"hello"));
        let code = |v: Value| read_json(v, &f, 3).unwrap_err().message();
        assert_eq!(
            code(json!({"name": "a", "data": "!!", "postactions": "decode_base64"})),
            "data: is not base64"
        );
        assert_eq!(
            code(json!({"name": "a", "data": "aGVsbG8", "postactions": "x"})),
            "postactions: must be \"decode_base64\""
        );
        assert!(
            code(json!({"name": "a", "data": "aGVsbG8", "postactions": "decode_base64"}))
                .contains("larger than this key allows")
        );
        assert_eq!(
            code(json!({"name": "a", "data": "", "postactions": "decode_base64", "x": 1})),
            "x: unknown field"
        );
        let JsonUpload::Urls(u) = read_json(json!({"files_urls": [{"url": "https://h.example/p/cat%20one.jpg?x=1"}, {"url": "http://h.example/a", "name": "b.txt"}]}), &f, 3).unwrap() else {
            panic!("not urls")
        };
        assert_eq!(u[0].path.as_str(), "/up/cat one.jpg");
        assert_eq!(u[1].path.as_str(), "/up/b.txt");
        assert_eq!(
            code(json!({"files_urls": [{"url": "ftp://h/a"}]})),
            "files_urls[0].url: must be an http or https URL"
        );
        assert_eq!(
            code(json!({"files_urls": [{"url": "https://h/a", "nope": 1}]})),
            "files_urls[0].nope: unknown field"
        );
        assert_eq!(
            code(json!({"files_urls": []})),
            "files_urls: must list 1 to 100 files"
        );
        assert_eq!(
            code(json!({"files_urls": [{"url": "https://h/"}]})),
            "files_urls[0].name: a file name must have 1 to 255 bytes"
        );
        assert_eq!(
            code(json!({"files_urls": [{"url": "https://h/a"}], "dir": "/other"})),
            "dir: names another folder than the query's"
        );
    }

    proptest! {
        /// However the body is cut into chunks, the same files come out, with
        /// their exact bytes; a file over the limit is always refused.
        #[test]
        fn chunking_never_changes_what_is_read(
            contents in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 1..6),
            chunk in 1usize..200,
            max in 50u64..400,
        ) {
            let names: Vec<String> = (0..contents.len()).map(|i| format!("f{i}.bin")).collect();
            let parts: Vec<TestPart> = names
                .iter()
                .zip(&contents)
                .map(|(n, c)| ("files[]", Some(n.as_str()), None, c.as_slice()))
                .collect();
            let result = read(body(&parts), chunk, max);
            let too_large = contents.iter().any(|c| c.len() as u64 > max);
            match result {
                Ok(files) => {
                    prop_assert!(!too_large);
                    prop_assert_eq!(files.len(), contents.len());
                    for (f, c) in files.iter().zip(&contents) {
                        prop_assert_eq!(&f.staged, c);
                        prop_assert_eq!(f.size, c.len() as u64);
                        prop_assert_eq!(&f.sha1, &sha1_hex(c));
                    }
                }
                Err(e) => {
                    prop_assert!(too_large, "{}", e.message());
                    prop_assert_eq!(e.code(), "FILE_TOO_LARGE");
                }
            }
        }
    }
}

//! Uploads (`core::upload`): `read_multipart` (async, driven with
//! `futures_executor::block_on`), `read_json` and `boundary`. The first byte
//! picks what is read:
//!
//! - 0, 1: a multipart request as raw text: the `Content-Type` value up to
//!   the first `\n`, then the body; byte 1 picks the chunk size and byte 2
//!   `max_file_size`.
//! - 2: a generated multipart body (parts from pools of names, file names,
//!   descriptions and contents).
//! - 3: a JSON upload body (`read_json`).
//! - 4: a `Content-Type` for `boundary` alone.
//!
//! Bit 3 of the first byte picks the folder, `/up` or `/`.
//!
//! Invariants for multipart: never a panic; accepted, at least 1 and at most
//! MAX_FILES files, each inside the folder (one segment below it, not `.` or
//! `..`), each at most `max_file_size` bytes, paths distinct, the size,
//! bytes and SHA-1 (computed here with the `sha1` crate) those the sink
//! received, media types valid; the sink sees open, writes, close in order
//! and never more than `max_file_size` bytes of one file, even when the
//! upload is refused; an accepted body is accepted the same, byte for byte,
//! however it is cut into chunks; refusals are INVALID_MULTIPART,
//! INVALID_FIELD or FILE_TOO_LARGE. For JSON: the same bounds, and the
//! canonical body it is rewritten to (for an origin) reads back to the same
//! upload. For `boundary`: a boundary is 1 to 70 bytes and comes from the
//! header; a refusal is INVALID_MULTIPART.

#![no_main]

use std::io;

use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use futures_util::Stream;
use libfuzzer_sys::fuzz_target;
use sass_edge::core::path::{Dir, FilePath};
use sass_edge::core::refusal::Refusal;
use sass_edge::core::upload::{self, JsonUpload, MAX_FILES, Received, Sink};
use sass_edge_fuzz::stat;
use sha1::{Digest, Sha1};

const FOLDERS: [&str; 2] = ["/up", "/"];
const SIZES: [u64; 8] = [
    1,
    3,
    16,
    100,
    1000,
    4096,
    10 * 1024 * 1024,
    5 * 1024 * 1024 * 1024,
];

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let folder = Dir::parse(FOLDERS[(mode >> 3) as usize % 2].into()).expect("a folder");
    match mode % 5 {
        0 | 1 => raw(rest, &folder),
        2 => generated(rest, &folder),
        3 => json(rest, &folder),
        _ => {
            let ct = String::from_utf8_lossy(rest);
            let _ = boundary_of(&ct);
        }
    }
});

fn boundary_of(content_type: &str) -> Option<String> {
    match upload::boundary(content_type) {
        Ok(b) => {
            // RFC 2046: 1 to 70 characters (F2, fixed: an empty one was taken).
            assert!(
                (1..=70).contains(&b.len()),
                "a boundary of {} bytes from {content_type:?}",
                b.len()
            );
            let unescaped = |s: &str| s.replace('\\', "");
            assert!(
                unescaped(content_type).contains(&unescaped(&b)),
                "boundary {b:?} is not in {content_type:?}"
            );
            Some(b)
        }
        Err(e) => {
            assert_eq!(e.code(), "INVALID_MULTIPART", "{e:?}");
            None
        }
    }
}

/// `[chunk][max] content-type \n body`.
fn raw(rest: &[u8], folder: &Dir) {
    let [chunk, max, rest @ ..] = rest else {
        return;
    };
    let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
        return;
    };
    let Some(boundary) = boundary_of(&String::from_utf8_lossy(&rest[..nl])) else {
        return;
    };
    let body = rest[nl + 1..].to_vec();
    let max = SIZES[*max as usize % SIZES.len()];
    multipart(body, &boundary, folder, max, usize::from(*chunk).max(1));
}

/// One part of a generated body.
#[derive(Arbitrary, Debug)]
struct Part {
    name: u8,
    file_name: Option<u8>,
    content_type: Option<u8>,
    content: Content,
    /// Break the part: 1 drops the blank line after the headers, 2 adds a
    /// header without a colon, 3 puts a bare LF.
    broken: u8,
}

#[derive(Arbitrary, Debug)]
enum Content {
    Bytes(Vec<u8>),
    Pool(u8),
    Repeat(u8, u16),
}

const NAMES: &[&str] = &[
    "files[]",
    "attachment",
    "info[files[]]",
    "meta[files[]]",
    "tags[files[]]",
    "file",
    "info[file]",
    "meta[file]",
    "product[files[]]",
    "x",
    "",
    "info[]",
    "files[]\"; filename=\"evil",
];
const FILE_NAMES: &[&str] = &[
    "a.txt",
    "photo.jpg",
    "..",
    ".",
    "../a",
    "a/b",
    "",
    "hello \\\"q\\\".txt",
    "é.png",
    "a\\b",
    "%2e%2e",
    "C:\\fakepath\\a.txt",
];
const TYPES: &[&str] = &[
    "image/jpeg",
    "application/octet-stream",
    "text/plain; charset=utf-8",
    "nope",
    "",
    "application/json",
];
const CONTENTS: &[&str] = &[
    r#"{"name":"n.txt","type":"text/plain"}"#,
    r#"{"name":"../x"}"#,
    r#"{"name":"a.txt"}"#,
    r#"{"name":7}"#,
    r#"{"title":"Hello"}"#,
    r#"{"lang":"en","new_tags":["cat"]}"#,
    r#"{"en":["cat","dog"]}"#,
    r#"{"a":1,"a":2}"#,
    "[]",
    "{",
    "hello",
    "",
];

const BOUNDARY: &str = "----WebKitFormBoundary7MA4YWxkTrZu0gW";

fn generated(rest: &[u8], folder: &Dir) {
    let mut u = Unstructured::new(rest);
    let Ok((parts, chunk, max, closed)) = <(Vec<Part>, u8, u8, bool)>::arbitrary(&mut u) else {
        return;
    };
    let pick = |pool: &[&'static str], i: u8| pool[i as usize % pool.len()];
    let mut body = Vec::new();
    for p in parts.iter().take(120) {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let mut disposition = format!(
            "Content-Disposition: form-data; name=\"{}\"",
            pick(NAMES, p.name)
        );
        if let Some(f) = p.file_name {
            disposition.push_str(&format!("; filename=\"{}\"", pick(FILE_NAMES, f)));
        }
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(if p.broken == 3 { b"\n" } else { b"\r\n" });
        if let Some(t) = p.content_type {
            body.extend_from_slice(format!("Content-Type: {}\r\n", pick(TYPES, t)).as_bytes());
        }
        if p.broken == 2 {
            body.extend_from_slice(b"X-Broken\r\n");
        }
        if p.broken != 1 {
            body.extend_from_slice(b"\r\n");
        }
        match &p.content {
            Content::Bytes(b) => body.extend_from_slice(b),
            Content::Pool(i) => body.extend_from_slice(pick(CONTENTS, *i).as_bytes()),
            Content::Repeat(b, n) => body.extend(std::iter::repeat_n(*b, usize::from(*n) % 3000)),
        }
        body.extend_from_slice(b"\r\n");
    }
    if closed {
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    }
    let max = SIZES[max as usize % SIZES.len()];
    // At most a thousand chunks, to keep an execution short.
    let chunk = usize::from(chunk).max(body.len() / 1000).max(1);
    multipart(body, BOUNDARY, folder, max, chunk);
}

/// A sink that keeps every file and checks that it is driven in order and
/// never handed more than `max` bytes of one file.
struct Memory {
    max: u64,
    current: Option<(String, Vec<u8>)>,
    closed: Vec<String>,
}

impl Sink for Memory {
    type Staged = Vec<u8>;
    async fn open(
        &mut self,
        field: &str,
        path: &FilePath,
        content_type: &str,
    ) -> Result<(), Refusal> {
        assert!(self.current.is_none(), "open {path} while a file is open");
        assert!(!field.is_empty());
        assert!(
            upload::media_type(Some(content_type)).is_ok(),
            "{content_type:?}"
        );
        self.current = Some((path.to_string(), Vec::new()));
        Ok(())
    }
    async fn write(&mut self, chunk: Bytes) -> Result<(), Refusal> {
        let (path, bytes) = self.current.as_mut().expect("a write without an open file");
        bytes.extend_from_slice(&chunk);
        assert!(
            bytes.len() as u64 <= self.max,
            "{path}: the sink got {} bytes, above max_file_size {}",
            bytes.len(),
            self.max
        );
        Ok(())
    }
    async fn close(&mut self) -> Result<Vec<u8>, Refusal> {
        let (path, bytes) = self.current.take().expect("a close without an open file");
        self.closed.push(path);
        Ok(bytes)
    }
}

fn chunks(
    body: Vec<u8>,
    size: usize,
) -> impl Stream<Item = Result<Bytes, io::Error>> + Send + Unpin + 'static {
    let pieces: Vec<Result<Bytes, io::Error>> = body
        .chunks(size)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    futures_util::stream::iter(pieces)
}

fn read(
    body: &[u8],
    boundary: &str,
    folder: &Dir,
    max: u64,
    chunk: usize,
) -> Result<Vec<Received<Vec<u8>>>, Refusal> {
    let mut sink = Memory {
        max,
        current: None,
        closed: Vec::new(),
    };
    let got = futures_executor::block_on(upload::read_multipart(
        chunks(body.to_vec(), chunk),
        boundary,
        folder,
        max,
        &mut sink,
    ));
    if let Ok(files) = &got {
        assert!(sink.current.is_none(), "a file left open");
        assert_eq!(
            sink.closed.len(),
            files.len(),
            "files closed and files returned"
        );
    }
    got
}

/// Whether `path` is a file directly in `folder`, by strings.
fn directly_in(folder: &Dir, path: &str) -> bool {
    let prefix = if folder.is_root() {
        "/".to_string()
    } else {
        format!("{}/", folder.as_str())
    };
    path.strip_prefix(&prefix)
        .is_some_and(|name| !name.is_empty() && !name.contains('/') && name != "." && name != "..")
}

fn multipart(body: Vec<u8>, boundary: &str, folder: &Dir, max: u64, chunk: usize) {
    let got = read(&body, boundary, folder, max, chunk);
    let files = match got {
        Ok(files) => files,
        Err(e) => {
            stat(&format!("multipart refused {}", e.code()));
            assert!(
                matches!(
                    e.code(),
                    "INVALID_MULTIPART" | "INVALID_FIELD" | "FILE_TOO_LARGE"
                ),
                "untyped refusal {e:?}"
            );
            return;
        }
    };
    stat(&format!("multipart accepted {} files", files.len().min(3)));
    assert!(
        !files.is_empty() && files.len() <= MAX_FILES,
        "{} files",
        files.len()
    );
    let mut seen = std::collections::HashSet::new();
    for f in &files {
        let p = f.path.as_str();
        assert!(directly_in(folder, p), "{p} is not a file in {folder}");
        assert!(seen.insert(p.to_string()), "two files go to {p}");
        assert!(f.size <= max, "{p}: {} bytes above {max}", f.size);
        assert_eq!(f.size, f.staged.len() as u64, "{p}: size and bytes");
        let sha1: String = Sha1::digest(&f.staged)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(f.sha1, sha1, "{p}: SHA-1");
        assert!(
            upload::media_type(Some(&f.content_type)).is_ok(),
            "{p}: {:?}",
            f.content_type
        );
    }
    // However it is cut, an accepted body reads the same.
    let whole = read(&body, boundary, folder, max, body.len().max(1))
        .unwrap_or_else(|e| panic!("accepted in chunks of {chunk}, refused whole: {e:?}"));
    let view = |fs: &[Received<Vec<u8>>]| {
        fs.iter()
            .map(|f| {
                (
                    f.path.clone(),
                    f.content_type.clone(),
                    f.staged.clone(),
                    f.meta.clone(),
                    f.tags.clone(),
                    f.info.clone(),
                    f.renamed,
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        view(&files),
        view(&whole),
        "chunks of {chunk} and whole differ"
    );
}

fn json(rest: &[u8], folder: &Dir) {
    let [max, rest @ ..] = rest else {
        return;
    };
    let max = SIZES[*max as usize % SIZES.len()];
    let Ok(value) = sass_edge::core::body::parse(rest) else {
        return;
    };
    let got = match upload::read_json(value, folder, max) {
        Ok(g) => g,
        Err(e) => {
            stat(&format!("json refused {}", e.code()));
            assert!(
                matches!(
                    e.code(),
                    "INVALID_JSON" | "INVALID_FIELD" | "FILE_TOO_LARGE"
                ),
                "untyped refusal {e:?}"
            );
            return;
        }
    };
    stat("json accepted");
    let count = got.count();
    assert!((1..=MAX_FILES).contains(&count), "{count} files");
    match &got {
        JsonUpload::Inline(i) => {
            assert!(
                directly_in(folder, i.path.as_str()),
                "{} not in {folder}",
                i.path
            );
            assert!(i.bytes.len() as u64 <= max);
            let sha1: String = Sha1::digest(&i.bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(i.sha1, sha1);
            assert!(upload::media_type(Some(&i.content_type)).is_ok());
        }
        JsonUpload::Urls(remotes) => {
            let mut seen = std::collections::HashSet::new();
            for r in remotes {
                assert!(
                    directly_in(folder, r.path.as_str()),
                    "{} not in {folder}",
                    r.path
                );
                assert!(seen.insert(r.path.clone()), "two files go to {}", r.path);
                assert!(
                    r.url.starts_with("https://") || r.url.starts_with("http://"),
                    "{}",
                    r.url
                );
            }
        }
    }
    // What an origin is sent reads back to the same upload.
    let canonical = got.canonical();
    let again = upload::read_json(canonical.clone(), folder, max)
        .unwrap_or_else(|e| panic!("the canonical body {canonical} is refused: {e:?}"));
    assert_eq!(
        again, got,
        "the canonical body reads otherwise: {canonical}"
    );
}

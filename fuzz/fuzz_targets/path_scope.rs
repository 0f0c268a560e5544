//! Paths, queries and scopes, as the gateway reads them: a generated request
//! URL goes through `query::path_of_url`, `route::route`, `Query::parse` and
//! `ListQuery::read` into an `Ask` (built as `shell/gateway.rs` builds it),
//! and `gateway::admit` decides it for a key with generated upload and
//! listing scopes and permissions.
//!
//! Invariants:
//! - `admit` agrees, case by case, with `model`: the README's rules (decode
//!   once; no `%2F`/`%5C`; normalised; permission; scope; length) written
//!   again here on strings;
//! - nothing admitted lies outside its scope, by a string-prefix check on
//!   segment boundaries, and every admitted path is canonical: absolute, no
//!   `.`/`..`/empty segment, no control character, no backslash;
//! - origin mode: `origin::encode_path` of an admitted path, percent-decoded
//!   once, is that path, and is plain ASCII with no `;`, `?`, `#` or space;
//!   the forwarded request (`Allowed::path_and_query` and the rebuilt body),
//!   read again by sass-edge's own router and gateway, is the same
//!   operation; the signed `X-Sass-*` headers decode to the same paths and
//!   are valid header values;
//! - no admitted path has two readings: no `;`, no escape left after the
//!   one decoding, no character that NFKC turns into `.`, `/`, `\`, `;` or
//!   `%` (the model computes NFKC; the core keeps a list), no `%` in a
//!   move's `to`, no upload of a file named `meta` or `move` on the object
//!   API however its URL spells it, and at most 992 bytes;
//! - a listing of generated stored files shows nothing outside the scopes.

#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use sass_edge::core::file_record::FileRecord;
use sass_edge::core::gateway::{self, KeyState, TemplateState};
use sass_edge::core::id::FileId;
use sass_edge::core::key::Claims;
use sass_edge::core::listing::{self, ListQuery, page_limit};
use sass_edge::core::origin::{self, Allowed};
use sass_edge::core::path::{Dir, FilePath};
use sass_edge::core::query::{self, Query};
use sass_edge::core::request::{Ask, MoveBody, Operation, Target, Verb};
use sass_edge::core::restriction::Client;
use sass_edge::core::route::{self, At, Call, Route};
use sass_edge::core::template::KeySpec;
use sass_edge_fuzz::generate::{SEGMENTS, Scope};
use sass_edge_fuzz::model::{self, ScopeText, any_allows, not_normalised};
use sass_edge_fuzz::{NOW, demo, key_id, ring, stat, verified};
use serde_json::json;

#[derive(Arbitrary, Debug)]
enum Seg {
    Pool(u8),
    Dot,
    DotDot,
    Empty,
    /// One byte, percent-encoded (lower-case hex when true).
    Byte(u8, bool),
    /// A pool segment, every byte percent-encoded.
    Encoded(u8),
    /// `%25XX`: an escape of an escape.
    Double(u8),
    /// A character of the Basic Multilingual Plane, often from the blocks of
    /// compatibility forms (look-alikes of `.`, `/`, `\`, `;` and `%` among
    /// them), as is or percent-encoded.
    Char(u16, bool),
    Text(String),
}

impl Seg {
    fn text(&self) -> String {
        let pool = |i: &u8| SEGMENTS[*i as usize % SEGMENTS.len()];
        match self {
            Seg::Pool(i) => pool(i).into(),
            Seg::Dot => ".".into(),
            Seg::DotDot => "..".into(),
            Seg::Empty => String::new(),
            Seg::Byte(b, true) => format!("%{b:02x}"),
            Seg::Byte(b, false) => format!("%{b:02X}"),
            Seg::Encoded(i) => pool(i).bytes().map(|b| format!("%{b:02X}")).collect(),
            Seg::Double(b) => format!("%25{b:02X}"),
            Seg::Char(c, encoded) => {
                // Any, or one of the blocks where most compatibility forms
                // are: general punctuation to CJK compatibility, and the
                // presentation, small and fullwidth forms.
                let c = u32::from(*c);
                let code = match c % 4 {
                    0 => c,
                    1 => 0x2000 + c % 0xC00,
                    2 => 0x3000 + c % 0x400,
                    _ => 0xFE00 + c % 0x200,
                };
                let c = char::from_u32(code).unwrap_or('\u{FFFD}');
                if *encoded {
                    c.to_string().bytes().map(|b| format!("%{b:02X}")).collect()
                } else {
                    c.to_string()
                }
            }
            Seg::Text(s) => s.clone(),
        }
    }
}

#[derive(Arbitrary, Debug)]
struct RawPath {
    segments: Vec<Seg>,
    trailing_slash: bool,
}

impl RawPath {
    fn text(&self) -> String {
        let mut s: String = self
            .segments
            .iter()
            .take(8)
            .map(|seg| format!("/{}", seg.text()))
            .collect();
        if s.is_empty() || self.trailing_slash {
            s.push('/');
        }
        s
    }
}

#[derive(Arbitrary, Debug)]
enum Kind {
    Put,
    Get,
    Head,
    Remove,
    Move,
    SetMeta,
    ListFolder,
    Upload,
    UploadV4Upload,
    Files(bool),
    Folders(bool),
    Stats(bool),
    Raw(u8, String),
}

const METHODS: [&str; 6] = ["GET", "HEAD", "PUT", "POST", "DELETE", "PATCH"];
const PARAMS: [&str; 9] = [
    "folder",
    "dir",
    "recursive",
    "offset",
    "limit",
    "sort",
    "order",
    "q",
    "x",
];
const VALUES: [&str; 12] = [
    "1",
    "0",
    "true",
    "name:desc",
    "created_at",
    "updated_at,DESC",
    "5",
    "1000",
    "1001",
    "+5",
    "",
    "A",
];

#[derive(Arbitrary, Debug)]
enum Encoding {
    AsIs,
    Percent,
    Plus,
}

#[derive(Arbitrary, Debug)]
enum ParamValue {
    Path(RawPath, Encoding),
    Pool(u8),
    Text(String),
}

#[derive(Arbitrary, Debug)]
struct Param {
    name: u8,
    value: ParamValue,
}

fn query_encode(s: &str, plus: bool) -> String {
    s.bytes()
        .map(|b| match b {
            b' ' if plus => "+".to_string(),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Arbitrary, Debug)]
enum Length {
    Absent,
    Small(u16),
    Any(u64),
}

#[derive(Arbitrary, Debug)]
struct Input {
    kind: Kind,
    path: RawPath,
    params: Vec<Param>,
    to: Option<RawPath>,
    length: Length,
    upload_scopes: Vec<Scope>,
    listing_scopes: Vec<Scope>,
    /// Bit 7 clear: every permission; set: bits 0 to 6 pick them.
    permissions: u8,
    max_file_size: u16,
    stored: Vec<RawPath>,
}

const KEY_PERMISSIONS: [&str; 7] = [
    "FILE_UPLOAD",
    "OBJECTS_FETCH",
    "OBJECTS_LIST",
    "FILE_DELETE",
    "FILE_RENAME",
    "FILE_MOVE",
    "FILE_META_CHANGE",
];

/// The request as the runtime would hand it over: a method and a URL.
fn request(input: &Input) -> (String, String) {
    let raw = input.path.text();
    let (method, path) = match &input.kind {
        Kind::Put => ("PUT", format!("/demo/v5/objects{raw}")),
        Kind::Get => ("GET", format!("/demo/v5/objects{raw}")),
        Kind::Head => ("HEAD", format!("/demo/v5/objects{raw}")),
        Kind::Remove => ("DELETE", format!("/demo/v5/objects{raw}")),
        Kind::Move => ("POST", format!("/demo/v5/objects{raw}/move")),
        Kind::SetMeta => ("PUT", format!("/demo/v5/objects{raw}/meta")),
        Kind::ListFolder => ("GET", "/demo/v5/list".into()),
        Kind::Upload => ("POST", "/demo/v4/files".into()),
        Kind::UploadV4Upload => ("POST", "/demo/v4/upload".into()),
        Kind::Files(v4) => ("GET", format!("/demo/{}/files", v(*v4))),
        Kind::Folders(v4) => ("GET", format!("/demo/{}/folders", v(*v4))),
        Kind::Stats(v4) => ("GET", format!("/demo/{}/files/stats", v(*v4))),
        Kind::Raw(m, p) => (METHODS[*m as usize % METHODS.len()], format!("/demo/{p}")),
    };
    let query: Vec<String> = input
        .params
        .iter()
        .take(6)
        .map(|p| {
            let name = PARAMS[p.name as usize % PARAMS.len()];
            let value = match &p.value {
                ParamValue::Path(path, Encoding::AsIs) => path.text(),
                ParamValue::Path(path, Encoding::Percent) => query_encode(&path.text(), false),
                ParamValue::Path(path, Encoding::Plus) => query_encode(&path.text(), true),
                ParamValue::Pool(i) => VALUES[*i as usize % VALUES.len()].into(),
                ParamValue::Text(t) => t.clone(),
            };
            format!("{name}={value}")
        })
        .collect();
    let url = if query.is_empty() {
        format!("https://edge.example{path}")
    } else {
        format!("https://edge.example{path}?{}", query.join("&"))
    };
    (method.to_string(), url)
}

fn v(v4: bool) -> &'static str {
    if v4 { "v4" } else { "v5" }
}

/// A storage call as the shell reads it before the gateway decides.
struct Read {
    call: Call,
    v4: bool,
    ask: Ask,
    /// The listing's parameters (`Files`, `Folders`, `Stats`).
    list: Option<ListQuery>,
    /// The page `limit` of the object API's listing (`ListFolder`).
    page: Option<u32>,
}

/// The `Ask` the shell builds for a storage call (`shell/gateway.rs`,
/// `handle`: the move's body read first, then the query), and the listing's
/// parameters; `None` for calls by file id and for refusals before the
/// gateway, which are checked for their type.
fn ask_of(method: &str, url: &str, to: Option<String>, length: Option<u64>) -> Option<Read> {
    let path = query::path_of_url(url);
    let route = match route::route(method, path) {
        Ok(r) => r,
        Err(e) => {
            assert!(
                matches!(
                    e.code(),
                    "NOT_FOUND"
                        | "METHOD_NOT_ALLOWED"
                        | "PROJECT_INVALID"
                        | "FILE_NOT_FOUND"
                        | "TEMPLATE_NOT_FOUND"
                        | "API_KEY_NOT_FOUND"
                        | "INVALID_FIELD"
                ),
                "untyped routing refusal {e:?} for {method} {url}"
            );
            return None;
        }
    };
    let Route::Storage { project, call, at } = route else {
        return None;
    };
    if project != demo() {
        // The key is for demo: the shell refuses this at step 3.
        return None;
    }
    let v4 = path.split('/').nth(2) == Some("v4");
    // A move's `to` comes from its JSON body, read (and refused) first.
    let to = match (call, to) {
        (Call::Move, Some(to)) => match MoveBody::read(json!({ "to": to })) {
            Ok(body) => {
                assert!(!to.contains('%'), "a move's `to` with a % is taken: {to:?}");
                Some(body.to)
            }
            Err(e) => {
                assert_eq!(e.code(), "PATH_INVALID", "{e:?}");
                assert!(to.contains('%'), "a move's `to` {to:?} refused: {e:?}");
                return None;
            }
        },
        (_, to) => to,
    };
    let query = match Query::parse(query::of_url(url)) {
        Ok(q) => q,
        Err(e) => {
            assert_eq!(e.code(), "INVALID_FIELD");
            return None;
        }
    };
    let mut page = None;
    if call == Call::ListFolder {
        match page_limit(&query) {
            Ok(limit) => page = limit,
            Err(e) => {
                assert_eq!(e.code(), "INVALID_FIELD");
                return None;
            }
        }
    }
    let (target, list) = match at {
        At::Path(raw) => (Target::Url(raw), None),
        At::Folder => match call {
            Call::Files | Call::Folders | Call::Stats => match ListQuery::read(&query) {
                Ok(lq) => {
                    let folder = if lq.folder.is_empty() {
                        "/".to_string()
                    } else {
                        lq.folder.clone()
                    };
                    (Target::Plain(folder), Some(lq))
                }
                Err(e) => {
                    assert_eq!(e.code(), "INVALID_FIELD");
                    return None;
                }
            },
            _ => match query.one(&["folder", "dir"]) {
                Ok(None | Some("")) => (Target::Plain("/".into()), None),
                Ok(Some(f)) => (Target::Plain(f.into()), None),
                Err(e) => {
                    assert_eq!(e.code(), "INVALID_FIELD");
                    return None;
                }
            },
        },
        At::File(_) => return None,
    };
    let ask = Ask {
        verb: call.verb(),
        target,
        to,
        length,
    };
    Some(Read {
        call,
        v4,
        ask,
        list,
        page,
    })
}

/// An operation as strings: (kind, paths, length).
type Plain = (&'static str, Vec<String>, Option<u64>);

fn plain(op: &Operation) -> Plain {
    let s = |p: &FilePath| p.as_str().to_string();
    match op {
        Operation::Upload { path, length } => ("upload", vec![s(path)], Some(*length)),
        Operation::UploadFiles { folder } => ("upload files", vec![folder.to_string()], None),
        Operation::Fetch { path } => ("fetch", vec![s(path)], None),
        Operation::Inspect { path } => ("inspect", vec![s(path)], None),
        Operation::Delete { path } => ("delete", vec![s(path)], None),
        Operation::Move { from, to } => ("move", vec![s(from), s(to)], None),
        Operation::SetMeta { path } => ("set meta", vec![s(path)], None),
        Operation::List { folder } => ("list", vec![folder.to_string()], None),
    }
}

fn parent(p: &str) -> String {
    match p.rfind('/') {
        Some(0) | None => "/".into(),
        Some(i) => p[..i].into(),
    }
}

/// The README's gateway, steps 7 to 9, on strings.
fn model(
    ask: &Ask,
    held: &[&str],
    upload: &[String],
    listing: &[String],
    max_file_size: u64,
) -> Result<Plain, &'static str> {
    let candidates: &[&str] = match ask.verb {
        Verb::Upload | Verb::UploadFiles => &["FILE_UPLOAD"],
        Verb::Fetch => &["OBJECTS_FETCH"],
        Verb::Delete => &["FILE_DELETE"],
        Verb::Move => &["FILE_RENAME", "FILE_MOVE"],
        Verb::SetMeta => &["FILE_META_CHANGE"],
        Verb::List | Verb::Inspect => &["OBJECTS_LIST"],
    };
    if !candidates.iter().any(|p| held.contains(p)) {
        return Err("PERMISSION_DENIED");
    }
    let decoded = || match &ask.target {
        Target::Url(raw) => model::decode_url_path(raw).ok_or("PATH_INVALID"),
        Target::Plain(p) => Ok(p.clone()),
    };
    let file = |p: String| match not_normalised(&p) {
        None if p != "/" => Ok(p),
        _ => Err("PATH_INVALID"),
    };
    let dir = |p: String| match not_normalised(&p) {
        None => Ok(p),
        Some(_) => Err("PATH_INVALID"),
    };
    let (kind, paths, permission, dirs): (&'static str, Vec<String>, &str, Vec<String>) =
        match ask.verb {
            Verb::Upload => {
                let p = file(decoded()?)?;
                // `…/meta` and `…/move` name calls of the object API.
                if matches!(p.rsplit('/').next(), Some("meta" | "move")) {
                    return Err("PATH_INVALID");
                }
                ("upload", vec![p.clone()], "FILE_UPLOAD", vec![parent(&p)])
            }
            Verb::UploadFiles => {
                let d = dir(decoded()?)?;
                ("upload files", vec![d.clone()], "FILE_UPLOAD", vec![d])
            }
            Verb::Fetch => {
                let p = file(decoded()?)?;
                ("fetch", vec![p.clone()], "OBJECTS_FETCH", vec![parent(&p)])
            }
            Verb::Inspect => {
                let p = file(decoded()?)?;
                ("inspect", vec![p.clone()], "OBJECTS_LIST", vec![parent(&p)])
            }
            Verb::Delete => {
                let p = file(decoded()?)?;
                ("delete", vec![p.clone()], "FILE_DELETE", vec![parent(&p)])
            }
            Verb::SetMeta => {
                let p = file(decoded()?)?;
                (
                    "set meta",
                    vec![p.clone()],
                    "FILE_META_CHANGE",
                    vec![parent(&p)],
                )
            }
            Verb::Move => {
                let to = ask.to.clone().ok_or("INVALID_FIELD")?;
                let from = file(decoded()?)?;
                let to = file(to)?;
                let (pf, pt) = (parent(&from), parent(&to));
                let permission = if pf == pt { "FILE_RENAME" } else { "FILE_MOVE" };
                ("move", vec![from, to], permission, vec![pf, pt])
            }
            Verb::List => {
                let d = dir(decoded()?)?;
                ("list", vec![d.clone()], "OBJECTS_LIST", vec![d])
            }
        };
    if !held.contains(&permission) {
        return Err("PERMISSION_DENIED");
    }
    let scopes = if matches!(ask.verb, Verb::Upload | Verb::UploadFiles) {
        upload
    } else {
        listing
    };
    if dirs.iter().any(|d| !any_allows(scopes, d)) {
        return Err("SCOPE_DENIED");
    }
    let length = match ask.verb {
        Verb::Upload => {
            let n = ask.length.ok_or("LENGTH_REQUIRED")?;
            if n > max_file_size {
                return Err("FILE_TOO_LARGE");
            }
            Some(n)
        }
        _ => None,
    };
    Ok((kind, paths, length))
}

fn scope_texts(list: &[Scope]) -> Vec<String> {
    if list.is_empty() {
        vec!["/*".into()]
    } else {
        list.iter().take(6).map(Scope::text).collect()
    }
}

/// A header value a client library would send as is: visible ASCII,
/// spaces and tabs.
fn header_safe(v: &str) -> bool {
    v.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
}

/// One request to decide, however it was given.
struct Case {
    method: String,
    url: String,
    to: Option<String>,
    length: Option<u64>,
    upload: Vec<String>,
    listing: Vec<String>,
    held: Vec<&'static str>,
    max_file_size: u64,
    /// Stored files, relative to a listed folder.
    stored: Vec<String>,
}

impl Case {
    fn generated(input: &Input) -> Case {
        let (method, url) = request(input);
        Case {
            method,
            url,
            to: input.to.as_ref().map(RawPath::text),
            length: match input.length {
                Length::Absent => None,
                Length::Small(n) => Some(u64::from(n)),
                Length::Any(n) => Some(n),
            },
            upload: scope_texts(&input.upload_scopes),
            listing: scope_texts(&input.listing_scopes),
            held: if input.permissions & 0x80 == 0 {
                KEY_PERMISSIONS.to_vec()
            } else {
                KEY_PERMISSIONS
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| input.permissions & (1 << i) != 0)
                    .map(|(_, p)| *p)
                    .collect()
            },
            max_file_size: u64::from(input.max_file_size).max(1),
            stored: input.stored.iter().take(8).map(RawPath::text).collect(),
        }
    }

    /// Lines: `METHOD URL` (a path is on https://edge.example), the upload
    /// scopes, the listing scopes (space-separated; none is `/*`), the move
    /// destination, the Content-Length, then stored files. Every
    /// permission, and a max_file_size of 1 MB.
    fn text(text: &str) -> Option<Case> {
        let mut lines = text.split('\n');
        let (method, target) = lines.next()?.split_once(' ')?;
        let url = if target.starts_with('/') {
            format!("https://edge.example{target}")
        } else {
            target.to_string()
        };
        let scopes = |line: Option<&str>| -> Vec<String> {
            let list: Vec<String> = line
                .unwrap_or_default()
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
            if list.is_empty() {
                vec!["/*".into()]
            } else {
                list
            }
        };
        let upload = scopes(lines.next());
        let listing = scopes(lines.next());
        let to = lines.next().filter(|l| !l.is_empty()).map(String::from);
        let length = lines.next().and_then(|l| l.parse().ok());
        Some(Case {
            method: method.to_string(),
            url,
            to,
            length,
            upload,
            listing,
            held: KEY_PERMISSIONS.to_vec(),
            max_file_size: 1_000_000,
            stored: lines.map(String::from).collect(),
        })
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let case = if mode == b'!' {
        match Case::text(&String::from_utf8_lossy(rest)) {
            Some(case) => case,
            None => return,
        }
    } else {
        match Input::arbitrary(&mut Unstructured::new(rest)) {
            Ok(input) => Case::generated(&input),
            Err(_) => return,
        }
    };
    check(&case);
});

fn check(case: &Case) {
    let Case {
        method,
        url,
        upload,
        listing,
        held,
        max_file_size,
        ..
    } = case;
    let data = json!({
        "permissions": held,
        "upload": {"dir_scope": upload, "max_file_size": max_file_size},
        "listing": {"dir_scope": listing},
    });
    let spec = match KeySpec::from_key_request(json!({ "data": data })) {
        Ok(spec) => spec,
        Err(e) => {
            // Only a raw scope can be malformed.
            assert_eq!(e.code(), "INVALID_FIELD", "{e:?}");
            return;
        }
    };
    // The scopes read as written (`//*` is read, and written, as `/*`).
    let same = |read: Vec<String>, given: &[String]| {
        let meaning = |l: &[String]| l.iter().map(|s| ScopeText::read(s)).collect::<Vec<_>>();
        assert_eq!(
            meaning(&read),
            meaning(given),
            "{read:?} read from {given:?}"
        );
    };
    same(spec.policy.upload.dir_scope.to_texts(), upload);
    same(spec.policy.listing.dir_scope.to_texts(), listing);
    let key = verified(
        &Claims {
            project: demo(),
            template: None,
            key_id: key_id(NOW + 1200, 1),
            generation: 0,
            issued_at: NOW,
            expires_at: NOW + 1200,
            lineage: Vec::new(),
            policy: spec.policy,
        },
        NOW,
    );
    let state = KeyState {
        revoked: false,
        template: TemplateState::None,
    };
    let Some(Read {
        call,
        v4,
        ask,
        list,
        page,
    }) = ask_of(method, url, case.to.clone(), case.length)
    else {
        return;
    };
    let got = gateway::admit(&key, state, &ask, &Client::default());
    let expected = model(&ask, held, upload, listing, *max_file_size);
    assert_eq!(
        got.as_ref()
            .map(|a| plain(&a.operation))
            .map_err(|e| e.code()),
        expected,
        "the gateway and the README disagree on {method} {url} (to {:?})",
        ask.to
    );
    stat(&format!(
        "{:?} {}",
        ask.verb,
        got.as_ref().map_or_else(|e| e.code(), |_| "admitted")
    ));
    let Ok(admission) = got else {
        return;
    };
    let op = admission.operation;
    admitted_is_inside(&op, upload, listing);
    forwarded_is_the_same(method, call, v4, &op, list.as_ref(), page, &key);
    if let (Operation::List { folder }, Some(lq)) = (&op, &list) {
        listing_is_inside(folder, lq, &case.stored, listing);
    }
}

fn admitted_is_inside(op: &Operation, upload: &[String], listing: &[String]) {
    let scopes = if op.is_upload() { upload } else { listing };
    for (action, dir) in op.directories() {
        let d = dir.as_str();
        assert!(
            any_allows(scopes, d),
            "{action} {d} admitted outside {scopes:?}"
        );
        assert_eq!(not_normalised(d), None, "admitted directory {d:?}");
    }
    let (_, paths, _) = plain(op);
    for p in &paths {
        assert_eq!(not_normalised(p), None, "admitted path {p:?}");
    }
    if let Operation::Upload { path, .. } = op {
        assert!(
            !matches!(path.name(), "meta" | "move"),
            "an upload of {path} admitted: …/{} names another call",
            path.name()
        );
    }
    for p in files_of(op) {
        let encoded = origin::encode_path(p);
        assert_eq!(
            model::percent_decode_utf8(&encoded).as_deref(),
            Some(p.as_str()),
            "encode_path({p}) = {encoded} does not decode back"
        );
        assert!(
            encoded.bytes().all(|b| b.is_ascii_graphic())
                && !encoded.contains(['?', '#', ';', '\\']),
            "encode_path({p}) = {encoded:?} holds a character a server may read"
        );
        let segments: Vec<&str> = encoded.split('/').skip(1).collect();
        assert!(
            segments
                .iter()
                .all(|s| !s.is_empty() && *s != "." && *s != ".."),
            "encode_path({p}) = {encoded:?} has a dot or empty segment"
        );
    }
}

fn files_of(op: &Operation) -> Vec<&FilePath> {
    match op {
        Operation::Upload { path, .. }
        | Operation::Fetch { path }
        | Operation::Inspect { path }
        | Operation::Delete { path }
        | Operation::SetMeta { path } => vec![path],
        Operation::Move { from, to } => vec![from, to],
        Operation::UploadFiles { .. } | Operation::List { .. } => vec![],
    }
}

/// Origin mode: the request written for the origin, read again by
/// sass-edge itself, is the same operation; the signed facts name the same
/// paths.
fn forwarded_is_the_same(
    method: &str,
    call: Call,
    v4: bool,
    op: &Operation,
    list: Option<&ListQuery>,
    page: Option<u32>,
    key: &sass_edge::core::key::Verified,
) {
    let project = demo();
    let allowed = Allowed {
        project: &project,
        call,
        v4,
        file: None,
        operation: op,
        list,
        page: (None, page),
    };
    let forwarded = allowed.path_and_query();
    let url = format!("https://origin.example{forwarded}");
    let to = allowed.small_body(None).and_then(|body| {
        let value = serde_json::from_str(&body).expect("the rebuilt body is JSON");
        MoveBody::read(value).ok().map(|b| b.to)
    });
    let length = match op {
        Operation::Upload { length, .. } => Some(*length),
        _ => None,
    };
    let Some(Read {
        call: call2,
        ask: ask2,
        list: list2,
        page: page2,
        ..
    }) = ask_of(method, &url, to, length)
    else {
        panic!("the forwarded request {method} {forwarded} is not a storage call");
    };
    assert_eq!(call2, call, "{forwarded}");
    assert_eq!(page2, page, "{forwarded}");
    let state = KeyState {
        revoked: false,
        template: TemplateState::None,
    };
    let again = gateway::admit(key, state, &ask2, &Client::default())
        .unwrap_or_else(|e| panic!("the forwarded {method} {forwarded} is refused: {e:?}"));
    assert_eq!(
        &again.operation, op,
        "the origin reads {forwarded} otherwise"
    );
    if let (Some(lq), Some(lq2)) = (list, list2) {
        let folder = if lq.folder.is_empty() {
            "/"
        } else {
            &lq.folder
        };
        assert_eq!(lq2.folder, folder, "{forwarded}");
        assert_eq!(lq2.recursive, lq.recursive, "{forwarded}");
        // Stats read no page, order or filter, and none is forwarded.
        if call != Call::Stats {
            assert_eq!(
                (lq2.offset, lq2.limit, lq2.sort, &lq2.q),
                (lq.offset, lq.limit, lq.sort, &lq.q),
                "{forwarded}"
            );
        }
    }
    let (path, folder, to) = allowed.places();
    let facts = origin::Verified {
        method,
        path_and_query: &forwarded,
        project: "demo",
        key_id: key.key_id.as_str(),
        permission: op.permission().name(),
        client_ip: "",
        timestamp: NOW,
        path,
        folder,
        to,
    };
    let headers = facts.headers(ring().signer());
    for (name, value) in &headers {
        assert!(
            header_safe(value),
            "{name}: {value:?} is not a header value"
        );
    }
    let header = |n: &str| {
        headers
            .iter()
            .find(|(h, _)| *h == n)
            .map(|(_, v)| model::percent_decode_utf8(v).expect("a header decodes"))
    };
    assert_eq!(header("X-Sass-Path").as_deref(), path.map(FilePath::as_str));
    assert_eq!(header("X-Sass-Folder").as_deref(), folder.map(Dir::as_str));
    assert_eq!(header("X-Sass-To").as_deref(), to.map(FilePath::as_str));
}

/// A listing of stored files below `folder` shows only what the scopes
/// allow, and only what is in (or, recursive, below) the folder.
fn listing_is_inside(folder: &Dir, lq: &ListQuery, stored: &[String], scopes: &[String]) {
    let base = if folder.is_root() {
        ""
    } else {
        folder.as_str()
    };
    let records: Vec<FileRecord> = stored
        .iter()
        .take(8)
        .enumerate()
        .filter_map(|(i, p)| {
            let path = FilePath::parse(format!("{base}{p}")).ok()?;
            Some(FileRecord {
                uuid: FileId::new([i as u8; 16]),
                path,
                content_type: "text/plain".into(),
                size: 1,
                sha1: String::new(),
                meta: Default::default(),
                tags: Default::default(),
                info: Default::default(),
                created_at: i as u64,
                modified_at: i as u64,
            })
        })
        .collect();
    let under = |d: &str| {
        folder.is_root() || d == folder.as_str() || d.starts_with(&format!("{}/", folder.as_str()))
    };
    let dirs: Vec<Dir> = records.iter().map(|r| r.path.parent()).collect();
    let parsed = scope_list(scopes);
    let (files, _) = listing::files(records, folder, lq, Some(&parsed));
    for f in &files {
        let p = parent(f.path.as_str());
        assert!(
            any_allows(scopes, &p),
            "listed {} outside {scopes:?}",
            f.path
        );
        assert!(
            if lq.recursive {
                under(&p)
            } else {
                p == folder.as_str()
            },
            "listed {} for {folder}",
            f.path
        );
    }
    let (found, _) = listing::folders(dirs, folder, lq, Some(&parsed));
    for d in &found {
        assert!(
            any_allows(scopes, d.as_str()),
            "listed folder {d} outside {scopes:?}"
        );
        assert!(
            under(d.as_str()) && d != folder,
            "listed folder {d} for {folder}"
        );
        if !lq.recursive {
            assert_eq!(parent(d.as_str()), folder.as_str(), "listed folder {d}");
        }
    }
}

fn scope_list(texts: &[String]) -> sass_edge::core::scope::Scopes {
    serde_json::from_value(json!(texts)).expect("scopes that parsed before")
}

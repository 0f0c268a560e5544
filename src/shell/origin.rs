//! Origin mode: a request that passed the gateway goes to `ORIGIN_URL` as a
//! canonical request (see `core::origin`), with the operator's credential
//! (`ORIGIN_KEY`) in `X-Filerobot-Key`, the headers of the allow-list, and the
//! signed `X-Sass-*` facts, through the platform's `fetch`.

use std::cell::RefCell;

use serde_json::Value;
use wasm_bindgen::JsValue;
use worker::{
    Fetch, Headers, Method, Request, RequestInit, RequestRedirect, Response, console_error,
};

use crate::core::cache::Cache;
use crate::core::id::{FileId, Project};
use crate::core::origin::{Origin, Verified, forwards_header};
use crate::core::path::{Dir, FilePath};
use crate::core::refusal::Refusal;
use crate::core::scope::Scopes;
use crate::shell::incoming::Incoming;
use crate::shell::{fetched, response};

pub fn down(context: &str, e: impl std::fmt::Display) -> Refusal {
    console_error!("origin {context} failed: {e}");
    Refusal::OriginDown
}

/// The body of a forwarded request.
pub enum Outgoing {
    Empty,
    /// A body the gateway rebuilt from what it read.
    Text {
        content_type: String,
        text: String,
    },
    /// A stream: the request's own body (an upload of the object API, its
    /// length checked), or a multipart body the gateway writes as it reads.
    Stream {
        content_type: String,
        body: JsValue,
    },
}

/// Sends a canonical request to the origin and returns its answer as is.
pub async fn send(
    req: Option<&Incoming>,
    origin: &Origin,
    verified: &Verified<'_>,
    body: Outgoing,
) -> Result<Response, Refusal> {
    let headers = Headers::new();
    if let Some(req) = req {
        for (name, value) in Headers(req.raw().headers()).entries() {
            if forwards_header(&name) {
                let _ = headers.append(&name, &value);
            }
        }
    }
    let _ = headers.set("X-Filerobot-Key", origin.credential());
    for (name, value) in verified.headers(&origin.key) {
        let _ = headers.set(name, &value);
    }
    let body = match body {
        Outgoing::Empty => None,
        Outgoing::Text { content_type, text } => {
            let _ = headers.set("Content-Type", &content_type);
            Some(JsValue::from_str(&text))
        }
        Outgoing::Stream { content_type, body } => {
            let _ = headers.set("Content-Type", &content_type);
            Some(body)
        }
    };
    let mut init = RequestInit::new();
    init.with_method(Method::from(verified.method.to_string()))
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual)
        .with_body(body);
    let url = format!("{}{}", origin.url, verified.path_and_query);
    let outgoing = Request::new_with_init(&url, &init).map_err(|e| down("request", e))?;
    Fetch::Request(outgoing)
        .send()
        .await
        .map_err(|e| down("fetch", e))
}

thread_local! {
    /// By project and file id: where the origin said the file is.
    static PLACES: RefCell<Cache<FilePath>> = RefCell::new(Cache::default());
}

/// Where the origin keeps the file `id`: `GET {ORIGIN_URL}/{project}/v4/files/{id}`
/// with the origin's credential, its answer's `file.folder` and `file.name`.
/// `None` when the origin does not know it (404). Kept for `cache::TTL_MS`
/// (20 s) by each isolate.
pub async fn lookup(
    origin: &Origin,
    project: &Project,
    id: &FileId,
    caller: &str,
    client_ip: &str,
    now_ms: u64,
) -> Result<Option<FilePath>, Refusal> {
    let cache_key = format!("{project}/{id}");
    if let Some(path) = PLACES.with_borrow(|c| c.get(&cache_key, now_ms)) {
        return Ok(Some(path));
    }
    let path_and_query = format!("/{project}/v4/files/{id}");
    let verified = Verified {
        method: "GET",
        path_and_query: &path_and_query,
        project: project.as_str(),
        key_id: caller,
        permission: "OBJECTS_LIST",
        client_ip,
        timestamp: now_ms / 1000,
        path: None,
        folder: None,
        to: None,
    };
    let answer = send(None, origin, &verified, Outgoing::Empty).await?;
    match answer.status_code() {
        404 => return Ok(None),
        200 => {}
        status => return Err(down("lookup", format!("it answered {status}"))),
    }
    let text = fetched::text(answer).await.map_err(|e| down("lookup", e))?;
    let body: Value = serde_json::from_str(&text).map_err(|e| down("lookup", e))?;
    let file = &body["file"];
    let place = file["folder"]
        .as_str()
        .zip(file["name"].as_str())
        .and_then(|(folder, name)| {
            Dir::parse(folder.to_string())
                .and_then(|d| d.file(name))
                .ok()
        })
        .ok_or_else(|| {
            down(
                "lookup",
                "the answer has no valid file.folder and file.name",
            )
        })?;
    PLACES.with_borrow_mut(|c| c.put(cache_key, place.clone(), now_ms));
    Ok(Some(place))
}

/// Forgets where a file is (after this isolate moved, renamed or deleted it).
pub fn forget(project: &Project, id: &FileId) {
    PLACES.with_borrow_mut(|c| c.forget(&format!("{project}/{id}")));
}

/// A listing's answer with every file and folder outside `scopes` taken out,
/// whatever the origin returned; `info.total_files_count` and `total` lose
/// what was taken out of this page.
pub async fn filtered_listing(answer: Response, scopes: &Scopes) -> Result<Response, Refusal> {
    if answer.status_code() != 200 {
        return Ok(response::rebuild(answer));
    }
    let text = fetched::text(answer)
        .await
        .map_err(|e| down("listing", e))?;
    let mut body: Value = serde_json::from_str(&text).map_err(|e| down("listing", e))?;
    let allowed = |folder: Option<&str>| {
        folder
            .and_then(|f| Dir::parse(f.to_string()).ok())
            .is_some_and(|d| scopes.allows(&d))
    };
    let mut removed = 0u64;
    if let Some(files) = body.get_mut("files").and_then(Value::as_array_mut) {
        let before = files.len();
        // A Filerobot file names its folder; an object of the own API, its path.
        files.retain(|f| match f.get("folder").and_then(Value::as_str) {
            Some(folder) => allowed(Some(folder)),
            None => allowed(
                f.get("path")
                    .and_then(Value::as_str)
                    .and_then(|p| FilePath::parse(p.to_string()).ok())
                    .map(|p| p.parent().to_string())
                    .as_deref(),
            ),
        });
        removed = (before - files.len()) as u64;
        if let Some(total) = body
            .get_mut("info")
            .and_then(|i| i.get_mut("total_files_count"))
            && let Some(n) = total.as_u64()
        {
            *total = n.saturating_sub(removed).into();
        }
    }
    if let Some(folders) = body.get_mut("folders").and_then(Value::as_array_mut) {
        let before = folders.len();
        folders.retain(|f| allowed(f.get("path").and_then(Value::as_str).or(f.as_str())));
        let gone = (before - folders.len()) as u64;
        if let Some(total) = body.get_mut("total")
            && let Some(n) = total.as_u64()
        {
            *total = n.saturating_sub(gone).into();
        }
    }
    let _ = removed;
    Ok(response::json(200, &body))
}

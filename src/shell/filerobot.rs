//! The Filerobot API on the embedded backend (R2): uploads (multipart, base64
//! and by URL), listings of files and folders, statistics, and the calls on
//! files by id. The gateway has checked everything before these run; an
//! upload takes its counts here, one per file, once it knows how many files
//! it holds.

use std::num::NonZeroU32;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::future::{Either, select};
use serde_json::{Value, json};
use web_sys::Url;
use worker::{
    AbortController, Delay, Env, Fetch, Method, Request, RequestInit, RequestRedirect, Response,
};

use crate::core::config::Config;
use crate::core::file_record::{FileRecord, folder_object};
use crate::core::id::Project;
use crate::core::limiter::{GiveBack, LimiterName, Take};
use crate::core::listing::{self, ListQuery};
use crate::core::path::Dir;
use crate::core::refusal::Refusal;
use crate::core::scope::Scopes;
use crate::core::upload::{self, JsonUpload, Received, Remote, Sink};
use crate::core::url_policy::{self, MAX_REDIRECTS, TIMEOUT_SECS};
use crate::shell::body::{Shared, read_json};
use crate::shell::files::{Files, Staged, Staging, record_of};
use crate::shell::incoming::Incoming;
use crate::shell::{limiter, response};

/// One file, given whole, into the staging.
async fn stage_whole(
    staging: &mut Staging<'_>,
    inline: upload::Inline,
) -> Result<Received<Staged>, Refusal> {
    staging.open("", &inline.path, &inline.content_type).await?;
    let size = inline.bytes.len() as u64;
    staging.write(Bytes::from(inline.bytes)).await?;
    Ok(Received {
        path: inline.path,
        content_type: inline.content_type,
        size,
        sha1: inline.sha1,
        meta: inline.meta,
        tags: inline.tags,
        info: Default::default(),
        field: String::new(),
        renamed: false,
        staged: staging.close().await?,
    })
}

/// Fetches `remote` into the staging, following the URL rules of
/// `core::url_policy`, with `max_file_size` enforced while the body streams.
async fn fetch_remote(
    staging: &mut Staging<'_>,
    remote: &Remote,
    allow_local: bool,
    max_file_size: u64,
) -> Result<Received<Staged>, Refusal> {
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetched = async {
        let mut url = checked_url(&remote.url, None, allow_local)?;
        for _ in 0..=MAX_REDIRECTS {
            let mut init = RequestInit::new();
            init.with_method(Method::Get)
                .with_redirect(RequestRedirect::Manual);
            let request =
                Request::new_with_init(&url.href(), &init).map_err(|e| failed(e.to_string()))?;
            let mut answer = Fetch::Request(request)
                .send_with_signal(&signal)
                .await
                .map_err(|e| failed(format!("{} could not be fetched: {e}", url.href())))?;
            let status = answer.status_code();
            if matches!(status, 301 | 302 | 303 | 307 | 308) {
                let location = answer
                    .headers()
                    .get("Location")
                    .ok()
                    .flatten()
                    .ok_or_else(|| failed(format!("{} redirects nowhere", url.href())))?;
                url = checked_url(&location, Some(&url), allow_local)?;
                continue;
            }
            if !(200..300).contains(&status) {
                return Err(failed(format!("{} answered {status}", url.href())));
            }
            let declared = answer
                .headers()
                .get("Content-Length")
                .ok()
                .flatten()
                .and_then(|l| l.parse::<u64>().ok());
            if declared.is_some_and(|l| l > max_file_size) {
                return Err(Refusal::RejectFileSize {
                    limit: max_file_size,
                });
            }
            let content_type = answer
                .headers()
                .get("Content-Type")
                .ok()
                .flatten()
                .and_then(|t| t.split(';').next().map(|t| t.trim().to_string()))
                .filter(|t| t.contains('/'))
                .unwrap_or_else(|| "application/octet-stream".into());
            staging.open("", &remote.path, &content_type).await?;
            let mut hasher = sha1::Sha1::default();
            let mut size = 0u64;
            let mut body = answer.stream().map_err(|e| failed(e.to_string()))?;
            while let Some(chunk) = body.next().await {
                let chunk =
                    chunk.map_err(|e| failed(format!("{} could not be read: {e}", url.href())))?;
                size += chunk.len() as u64;
                if size > max_file_size {
                    return Err(Refusal::RejectFileSize {
                        limit: max_file_size,
                    });
                }
                sha1::Digest::update(&mut hasher, &chunk);
                staging.write(Bytes::from(chunk)).await?;
            }
            return Ok(Received {
                path: remote.path.clone(),
                content_type,
                size,
                sha1: crate::core::hex::lower(&sha1::Digest::finalize(hasher)),
                meta: remote.meta.clone(),
                tags: Default::default(),
                info: remote.info.clone(),
                field: String::new(),
                renamed: false,
                staged: staging.close().await?,
            });
        }
        Err(failed(format!(
            "{} redirects more than {MAX_REDIRECTS} times",
            remote.url
        )))
    };
    let timeout = Delay::from(Duration::from_secs(TIMEOUT_SECS));
    futures_util::pin_mut!(fetched, timeout);
    match select(fetched, timeout).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => {
            controller.abort();
            Err(failed(format!(
                "{} did not answer in {TIMEOUT_SECS} s",
                remote.url
            )))
        }
    }
}

/// Parses `text` (relative to `base`, for a redirect's `Location`) with the
/// platform's URL parser, the one `fetch` uses, and checks it may be fetched.
pub fn checked_url(text: &str, base: Option<&Url>, allow_local: bool) -> Result<Url, Refusal> {
    let parsed = match base {
        Some(base) => Url::new_with_base(text, &base.href()),
        None => Url::new(text),
    }
    .map_err(|_| Refusal::RejectUrl {
        reason: format!("{text:?} is not a URL"),
    })?;
    let (protocol, hostname) = (parsed.protocol(), parsed.hostname());
    let (username, password) = (parsed.username(), parsed.password());
    url_policy::check(
        &url_policy::Parsed {
            protocol: &protocol,
            hostname: &hostname,
            username: &username,
            password: &password,
        },
        allow_local,
    )?;
    Ok(parsed)
}

fn failed(reason: impl Into<String>) -> Refusal {
    Refusal::FailUrl {
        reason: reason.into(),
    }
}

/// The files of an upload body, staged.
async fn receive(
    req: &Incoming,
    config: &Config,
    folder: &Dir,
    max_file_size: u64,
    staging: &mut Staging<'_>,
) -> Result<Vec<Received<Staged>>, Refusal> {
    let content_type = req.header("Content-Type").unwrap_or_default();
    if content_type
        .trim()
        .to_ascii_lowercase()
        .starts_with("multipart/")
    {
        let boundary = upload::boundary(&content_type)?;
        let stream = req.stream().ok_or_else(|| Refusal::RejectMultipart {
            reason: "the body is empty".into(),
        })?;
        let body = Shared::new(stream);
        let read =
            upload::read_multipart(body.reader(), &boundary, folder, max_file_size, staging).await;
        if read.is_err() {
            body.drain().await;
        }
        return read;
    }
    // Any other body is JSON (the widget sends its URL uploads as text/plain).
    let body = read_json(req, upload::MAX_JSON_UPLOAD).await?;
    match upload::read_json(body, folder, max_file_size)? {
        JsonUpload::Inline(inline) => Ok(vec![stage_whole(staging, inline).await?]),
        JsonUpload::Urls(remotes) => {
            let mut received = Vec::with_capacity(remotes.len());
            for remote in &remotes {
                received.push(
                    fetch_remote(staging, remote, config.allow_local_urls, max_file_size).await?,
                );
            }
            Ok(received)
        }
    }
}

/// `POST /{project}/v4/files?folder=`: receives the files, takes one count
/// per file (all or none), then makes them visible; or leaves nothing.
#[allow(clippy::too_many_arguments)]
pub async fn upload(
    req: &Incoming,
    env: &Env,
    config: &Config,
    files: &Files,
    project: &Project,
    folder: &Dir,
    max_file_size: u64,
    counted: Option<(LimiterName, Take)>,
) -> Result<Response, Refusal> {
    let mut staging = files.staging();
    let received = match receive(req, config, folder, max_file_size, &mut staging).await {
        Ok(received) => received,
        Err(e) => {
            staging.abort_all().await;
            return Err(e);
        }
    };
    let hits = NonZeroU32::new(received.len() as u32).unwrap_or(NonZeroU32::MIN);
    let mut taken: Option<(LimiterName, GiveBack)> = None;
    if let Some((name, take)) = counted {
        let take = Take { hits, ..take };
        match limiter::take(env, &name, take.clone()).await {
            Ok(at) => taken = Some((name, GiveBack::of(&take, at))),
            Err(e) => {
                staging.abort_all().await;
                return Err(e);
            }
        }
    }
    let mut committed: Vec<FileRecord> = Vec::with_capacity(received.len());
    for file in received {
        let record = record_of(&file, req.now_secs());
        if let Err(e) = files.commit(file.staged, &record).await {
            for done in &committed {
                let _ = files.delete(done).await;
            }
            staging.abort_all().await;
            if let Some((name, give_back)) = taken {
                limiter::give_back(env, &name, give_back).await;
            }
            return Err(e);
        }
        committed.push(record);
    }
    let shown: Vec<Value> = committed
        .iter()
        .map(|r| r.to_filerobot(project, req.base()))
        .collect();
    Ok(match <[Value; 1]>::try_from(shown) {
        Ok([one]) => response::success(200, [("file", one)]),
        Err(many) => response::success(200, [("files", many.into())]),
    })
}

/// The listings: files, folders, or how many files.
pub enum Listing {
    Files,
    Folders,
    Stats,
}

/// A listing of `folder` (already in scope); `scopes` is the key's
/// `listing.dir_scope` (`None` for API keys): nothing outside it is shown.
pub async fn list(
    req: &Incoming,
    files: &Files,
    project: &Project,
    folder: &Dir,
    query: &ListQuery,
    scopes: Option<&Scopes>,
    what: Listing,
) -> Result<Response, Refusal> {
    let (records, dirs, _more) = files.scan(folder, query.recursive).await?;
    Ok(match what {
        Listing::Files => {
            let (page, total) = listing::files(records, folder, query, scopes);
            let shown: Vec<Value> = page
                .iter()
                .map(|r| r.to_filerobot(project, req.base()))
                .collect();
            response::success(
                200,
                [
                    ("files", shown.into()),
                    ("info", json!({"total_files_count": total})),
                ],
            )
        }
        Listing::Folders => {
            let all_dirs = dirs
                .into_iter()
                .chain(records.iter().map(|r| r.path.parent()));
            let (page, total) = listing::folders(all_dirs, folder, query, scopes);
            let shown: Vec<Value> = page.iter().map(|d| folder_object(project, d)).collect();
            response::success(200, [("folders", shown.into()), ("total", total.into())])
        }
        Listing::Stats => {
            let everything = ListQuery {
                offset: 0,
                limit: usize::MAX,
                ..query.clone()
            };
            let (_, total) = listing::files(records, folder, &everything, scopes);
            response::success(200, [("stats", json!({"approx_files_count": total}))])
        }
    })
}

/// `GET /{project}/v4/files/{uuid}`: the file object.
pub fn inspect(req: &Incoming, project: &Project, record: &FileRecord) -> Response {
    response::success(200, [("file", record.to_filerobot(project, req.base()))])
}

/// `PATCH /{project}/v4/files/{uuid}` (`{"name"}`), and `PUT …/meta`
/// (`{"meta"}`): `changed` is the record as it must now be.
pub async fn change(
    req: &Incoming,
    files: &Files,
    project: &Project,
    record: &FileRecord,
    changed: FileRecord,
) -> Result<Response, Refusal> {
    if changed != *record {
        let changed = FileRecord {
            modified_at: req.now_secs(),
            ..changed
        };
        files.rewrite(record, &changed).await?;
        return Ok(inspect(req, project, &changed));
    }
    Ok(inspect(req, project, record))
}

/// `DELETE /{project}/v4/files/{uuid}`.
pub async fn delete(files: &Files, record: &FileRecord) -> Result<Response, Refusal> {
    files.delete(record).await?;
    Ok(response::success(
        200,
        [
            ("hint", "File deleted".into()),
            ("uuid", record.uuid.as_str().into()),
        ],
    ))
}

//! sass-edge's own path-addressed API on the embedded backend (R2):
//! `/{project}/v5/objects/{path}` and `/{project}/v5/list`. Files keep an id
//! and a record (`shell::files`), as those uploaded through the Filerobot
//! API do. Bodies stream in and out.

use futures_util::StreamExt;
use serde_json::{Value, json};
use worker::{Headers, Object, Response, ResponseBuilder};

use crate::core::file_record::FileRecord;
use crate::core::id::Project;
use crate::core::listing;
use crate::core::path::Dir;
use crate::core::refusal::Refusal;
use crate::core::request::{FileMeta, Operation};
use crate::core::scope::Scopes;
use crate::core::serving;
use crate::core::time;
use crate::core::upload::{Received, Sink};
use crate::shell::files::{Files, down, meta_value, record_of};
use crate::shell::incoming::Incoming;
use crate::shell::{cors, response};

/// Default and largest page of a listing.
pub const PAGE: u32 = 100;
pub const MAX_PAGE: u32 = 1000;

/// What the own API says about a file.
fn info(record: &FileRecord, object: &Object) -> Value {
    json!({
        "name": record.name(),
        "path": record.path.as_str(),
        "size": object.size(),
        "content_type": object.http_metadata().content_type,
        "uploaded": time::rfc3339(object.uploaded().as_millis() / 1000),
        "etag": object.etag(),
        "meta": meta_value(record),
        "uuid": record.uuid,
    })
}

async fn existing(
    files: &Files,
    path: &crate::core::path::FilePath,
) -> Result<FileRecord, Refusal> {
    files.record_at(path).await?.ok_or(Refusal::MissFile)
}

pub async fn perform(
    files: &Files,
    req: &Incoming,
    project: &Project,
    op: &Operation,
    meta: Option<FileMeta>,
    page: (Option<String>, Option<u32>),
    scopes: Option<&Scopes>,
) -> Result<Response, Refusal> {
    let bucket = files.bucket();
    match op {
        Operation::Upload { path, length } => {
            // The body, staged as one file while its SHA-1 is computed.
            let mut staging = files.staging();
            let content_type = req
                .header("Content-Type")
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "application/octet-stream".into());
            let mut hasher = sha1::Sha1::default();
            let mut size = 0u64;
            let received: Result<_, Refusal> = async {
                staging.open("", path, &content_type).await?;
                if let Some(mut body) = req.stream() {
                    while let Some(chunk) = body.next().await {
                        let chunk = chunk.map_err(|_| Refusal::RejectLengthMismatch)?;
                        size += chunk.len() as u64;
                        if size > *length {
                            return Err(Refusal::RejectLengthMismatch);
                        }
                        sha1::Digest::update(&mut hasher, &chunk);
                        staging.write(chunk.into()).await?;
                    }
                }
                if size != *length {
                    return Err(Refusal::RejectLengthMismatch);
                }
                staging.close().await
            }
            .await;
            let staged = match received {
                Ok(staged) => staged,
                Err(e) => {
                    staging.abort_all().await;
                    return Err(e);
                }
            };
            let file = Received {
                path: path.clone(),
                content_type,
                size,
                sha1: crate::core::hex::lower(&sha1::Digest::finalize(hasher)),
                meta: Default::default(),
                tags: Default::default(),
                info: Default::default(),
                field: String::new(),
                renamed: false,
                staged,
            };
            let record = record_of(&file, req.now_secs());
            let object = match files.commit(file.staged, &record).await {
                Ok(object) => object,
                Err(e) => {
                    staging.abort_all().await;
                    return Err(e);
                }
            };
            Ok(response::success(201, [("file", info(&record, &object))]))
        }
        Operation::Fetch { path } => {
            let key = files.key(path);
            let head = req.method() == "HEAD";
            let object = if head {
                bucket.head(&key).await.map_err(|e| down("head", e))?
            } else {
                bucket
                    .get(&key)
                    .execute()
                    .await
                    .map_err(|e| down("get", e))?
            }
            .ok_or(Refusal::MissFile)?;
            // R2 writes the stored HTTP metadata (content type, language,
            // disposition, encoding, cache control and expiry) in one call.
            // `write_http_metadata` takes its Headers by value: give it a
            // second handle to the same JS object (worker's `clone` copies).
            let headers = cors::headers();
            object
                .write_http_metadata(Headers(headers.0.clone()))
                .map_err(|e| down("metadata", e))?;
            if !headers.has("Content-Type").unwrap_or(false) {
                let _ = headers.set("Content-Type", "application/octet-stream");
            }
            let _ = headers.set("Content-Length", &object.size().to_string());
            let _ = headers.set("ETag", &object.http_etag());
            let content_type = headers
                .get("Content-Type")
                .ok()
                .flatten()
                .unwrap_or_default();
            for (name, value) in serving::headers(&content_type, path.name()) {
                let _ = headers.set(name, &value);
            }
            let builder = ResponseBuilder::new()
                .with_status(200)
                .with_headers(headers);
            Ok(match object.body() {
                Some(body) if !head => {
                    builder.body(body.response_body().map_err(|e| down("body", e))?)
                }
                _ => builder.empty(),
            })
        }
        Operation::Delete { path } => {
            let record = existing(files, path).await?;
            files.delete(&record).await?;
            Ok(response::success(200, [("path", path.as_str().into())]))
        }
        Operation::Move { from, to } => {
            let record = existing(files, from).await?;
            let moved = FileRecord {
                path: to.clone(),
                ..record.clone()
            };
            let object = files.rewrite(&record, &moved).await?;
            Ok(response::success(200, [("file", info(&moved, &object))]))
        }
        Operation::SetMeta { path } => {
            let record = existing(files, path).await?;
            let meta = meta
                .as_ref()
                .and_then(|m| serde_json::from_str(m.as_str()).ok())
                .unwrap_or_default();
            let changed = FileRecord {
                meta,
                ..record.clone()
            };
            let object = files.rewrite(&record, &changed).await?;
            Ok(response::success(200, [("file", info(&changed, &object))]))
        }
        Operation::List { folder } => {
            let prefix = if folder.is_root() {
                format!("{project}/")
            } else {
                format!("{project}{folder}/")
            };
            let (cursor, limit) = page;
            let mut list = bucket
                .list()
                .prefix(prefix)
                .delimiter("/")
                .limit(limit.unwrap_or(PAGE).clamp(1, MAX_PAGE))
                .include(vec![
                    worker::Include::HttpMetadata,
                    worker::Include::CustomMetadata,
                ]);
            if let Some(cursor) = cursor {
                list = list.cursor(cursor);
            }
            let listed = list.execute().await.map_err(|e| down("list", e))?;
            let mut shown = Vec::new();
            for object in listed.objects() {
                let record = files.record_of(&object).await?;
                shown.push(info(&record, &object));
            }
            let folders: Vec<String> = listed
                .delimited_prefixes()
                .iter()
                .filter_map(|p| {
                    let dir = p
                        .strip_prefix(project.as_str())
                        .unwrap_or(p)
                        .trim_end_matches('/')
                        .to_string();
                    Dir::parse(dir).ok()
                })
                .filter(|d| listing::visible(d, scopes))
                .map(String::from)
                .collect();
            let cursor = if listed.truncated() {
                listed.cursor()
            } else {
                None
            };
            Ok(response::success(
                200,
                [
                    ("folder", folder.as_str().into()),
                    ("files", shown.into()),
                    ("folders", folders.into()),
                    ("cursor", cursor.into()),
                ],
            ))
        }
        Operation::UploadFiles { .. } | Operation::Inspect { .. } => Err(response::internal(
            "storage",
            "a Filerobot call reached the own API",
        )),
    }
}

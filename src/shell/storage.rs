//! The embedded backend: files in an R2 bucket under `{project}{path}`, their
//! metadata in R2 custom metadata. Bodies stream in and out; none is held
//! whole in memory.

use std::collections::HashMap;

use worker::{
    Bucket, Data, Env, Headers, HttpMetadata, Include, Object, Response, ResponseBody,
    ResponseBuilder, console_error,
};

use serde_json::{Value, json};

use crate::core::id::Project;
use crate::core::refusal::Refusal;
use crate::core::request::{FileMeta, Operation};
use crate::core::time;
use crate::shell::incoming::Incoming;
use crate::shell::{cors, response};

pub const BINDING: &str = "FILES";
/// Default and largest page of a listing.
pub const PAGE: u32 = 100;
pub const MAX_PAGE: u32 = 1000;
const META: &str = "meta";

fn down(context: &str, e: impl std::fmt::Display) -> Refusal {
    console_error!("R2 {context} failed: {e}");
    Refusal::StorageDown
}

fn object_key(project: &Project, path: &str) -> String {
    format!("{project}{path}")
}

/// What the API says about a file.
fn info(project: &Project, object: &Object) -> Value {
    let key = object.key();
    let path = key
        .strip_prefix(project.as_str())
        .unwrap_or(&key)
        .to_string();
    let meta: Option<Value> = object
        .custom_metadata()
        .ok()
        .and_then(|m| m.get(META).and_then(|t| serde_json::from_str(t).ok()));
    json!({
        "name": path.rsplit('/').next().unwrap_or_default(),
        "path": path,
        "size": object.size(),
        "content_type": object.http_metadata().content_type,
        "uploaded": time::rfc3339(object.uploaded().as_millis() / 1000),
        "etag": object.etag(),
        "meta": meta,
    })
}

/// A readable object's body as data to put elsewhere, streamed.
fn body_data(object: &Object) -> Result<Data, Refusal> {
    let body = object.body().ok_or_else(|| down("body", "no body"))?;
    Ok(match body.response_body().map_err(|e| down("body", e))? {
        ResponseBody::Stream(stream) => Data::ReadableStream(stream),
        ResponseBody::Body(bytes) => Data::Bytes(bytes),
        ResponseBody::Empty => Data::Empty,
    })
}

async fn existing(bucket: &Bucket, key: &str) -> Result<Object, Refusal> {
    bucket
        .get(key)
        .execute()
        .await
        .map_err(|e| down("get", e))?
        .ok_or(Refusal::MissFile)
}

/// Rewrites `key` from `source` (streamed), with new custom metadata.
async fn rewrite(
    bucket: &Bucket,
    key: &str,
    source: &Object,
    custom: HashMap<String, String>,
) -> Result<Object, Refusal> {
    bucket
        .put(key, body_data(source)?)
        .http_metadata(source.http_metadata())
        .custom_metadata(custom)
        .execute()
        .await
        .map_err(|e| down("put", e))?
        .ok_or_else(|| down("put", "no object"))
}

pub async fn perform(
    env: &Env,
    req: &Incoming,
    project: &Project,
    op: &Operation,
    meta: Option<FileMeta>,
    page: (Option<String>, Option<u32>),
) -> Result<Response, Refusal> {
    let bucket = env.bucket(BINDING).map_err(|e| down("binding", e))?;
    match op {
        Operation::Upload { path, length } => {
            let key = object_key(project, path.as_str());
            let body = match req.raw().body() {
                Some(stream) if *length > 0 => Data::ReadableStream(stream),
                _ => Data::Empty,
            };
            let content_type = req.header("Content-Type");
            let stored = bucket
                .put(&key, body)
                .http_metadata(HttpMetadata {
                    content_type,
                    ..HttpMetadata::default()
                })
                .execute()
                .await
                .map_err(|e| {
                    // A body cut short (or too long) fails the put: nothing is stored.
                    console_error!("R2 put of an upload failed: {e}");
                    Refusal::RejectLengthMismatch
                })?
                .ok_or_else(|| down("put", "no object"))?;
            if stored.size() != *length {
                bucket.delete(&key).await.map_err(|e| down("delete", e))?;
                return Err(Refusal::RejectLengthMismatch);
            }
            Ok(response::success(201, [("file", info(project, &stored))]))
        }
        Operation::Fetch { path } => {
            let key = object_key(project, path.as_str());
            let head = req.method() == "HEAD";
            let object = if head {
                bucket
                    .head(&key)
                    .await
                    .map_err(|e| down("head", e))?
                    .ok_or(Refusal::MissFile)?
            } else {
                existing(&bucket, &key).await?
            };
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
            let key = object_key(project, path.as_str());
            bucket
                .head(&key)
                .await
                .map_err(|e| down("head", e))?
                .ok_or(Refusal::MissFile)?;
            bucket.delete(&key).await.map_err(|e| down("delete", e))?;
            Ok(response::success(200, [("path", path.as_str().into())]))
        }
        Operation::Move { from, to } => {
            let from_key = object_key(project, from.as_str());
            let source = existing(&bucket, &from_key).await?;
            let custom = source.custom_metadata().unwrap_or_default();
            let moved =
                rewrite(&bucket, &object_key(project, to.as_str()), &source, custom).await?;
            if from != to {
                bucket
                    .delete(&from_key)
                    .await
                    .map_err(|e| down("delete", e))?;
            }
            Ok(response::success(200, [("file", info(project, &moved))]))
        }
        Operation::SetMeta { path } => {
            let key = object_key(project, path.as_str());
            let source = existing(&bucket, &key).await?;
            let mut custom = source.custom_metadata().unwrap_or_default();
            let meta = meta.as_ref().map_or("{}", FileMeta::as_str);
            custom.insert(META.into(), meta.to_string());
            let changed = rewrite(&bucket, &key, &source, custom).await?;
            Ok(response::success(200, [("file", info(project, &changed))]))
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
                .include(vec![Include::HttpMetadata, Include::CustomMetadata]);
            if let Some(cursor) = cursor {
                list = list.cursor(cursor);
            }
            let listed = list.execute().await.map_err(|e| down("list", e))?;
            let files: Vec<Value> = listed.objects().iter().map(|o| info(project, o)).collect();
            let folders: Vec<String> = listed
                .delimited_prefixes()
                .iter()
                .map(|p| {
                    p.strip_prefix(project.as_str())
                        .unwrap_or(p)
                        .trim_end_matches('/')
                        .to_string()
                })
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
                    ("files", files.into()),
                    ("folders", folders.into()),
                    ("cursor", cursor.into()),
                ],
            ))
        }
    }
}

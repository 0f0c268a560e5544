//! The embedded backend: files in an R2 bucket, with their ids.
//!
//! - A file's bytes are the object `{project}{path}` (so a folder is a key
//!   prefix, listed with R2's delimiter). Its custom metadata holds its id
//!   (`uuid`) and, when small enough, its whole record (`record`).
//! - Its record (`core::file_record::FileRecord`) is also the object
//!   `_uuid/{project}/{uuid}`: a file id resolves to its path in one read,
//!   and a head of that path confirms the file there still has that id.
//!   `_` never starts a project, so no file key can collide with it. An
//!   upload over a file does not look for the file it replaces (one head
//!   and one delete fewer on every upload): the replaced file's index entry
//!   is left behind, resolves to nothing, and is deleted when it is found.
//! - Uploads are staged first (`Staging`): a file stays in memory up to
//!   `PART` bytes, and the request keeps at most `MEMORY` bytes in memory in
//!   all; a larger file goes through an R2 multipart upload, in parts of
//!   `PART` bytes, which only becomes an object when it is completed. Nothing
//!   is visible until `commit`; `abort` leaves nothing behind.

use std::collections::HashMap;

use bytes::Bytes;
use serde_json::{Map, Value};
use worker::{
    Bucket, Data, Env, HttpMetadata, Include, MultipartUpload, Object, UploadedPart, console_error,
};

use crate::core::file_record::{FileRecord, r2_metadata_len};
use crate::core::id::{FileId, Project};
use crate::core::path::{Dir, FilePath};
use crate::core::refusal::Refusal;
use crate::core::upload::{Received, Sink};
use crate::shell::random;

pub const BINDING: &str = "FILES";
/// The size of a multipart upload's parts, and the most of one file held in
/// memory.
pub const PART: usize = 10 * 1024 * 1024;
/// The most bytes of staged files one request keeps in memory.
pub const MEMORY: usize = 10 * 1024 * 1024;
/// Most objects a listing reads to sort, filter and page.
pub const SCAN_LIMIT: usize = 10_000;
/// A record longer than this, as JSON and as R2 measures it
/// (`r2_metadata_len`), is kept only in the index: R2 allows 2048 for an
/// object's custom metadata, the `uuid` and the names included.
const RECORD_IN_METADATA: usize = 1800;
/// The custom metadata of objects stored before files had ids.
const LEGACY_META: &str = "meta";

pub fn down(context: &str, e: impl std::fmt::Display) -> Refusal {
    console_error!("R2 {context} failed: {e}");
    Refusal::StorageDown
}

pub struct Files {
    bucket: Bucket,
    project: Project,
}

/// A file whose bytes are staged, not yet visible.
pub enum Staged {
    /// Held in memory; stored in one put.
    Memory { id: FileId, bytes: Vec<u8> },
    /// An R2 multipart upload to `key`, its parts uploaded.
    Parts {
        id: FileId,
        key: String,
        upload: MultipartUpload,
        parts: Vec<UploadedPart>,
    },
}

impl Staged {
    pub fn id(&self) -> &FileId {
        match self {
            Staged::Memory { id, .. } | Staged::Parts { id, .. } => id,
        }
    }
}

fn index_key(project: &Project, id: &FileId) -> String {
    format!("_uuid/{project}/{id}")
}

impl Files {
    pub fn open(env: &Env, project: &Project) -> Result<Files, Refusal> {
        Ok(Files {
            bucket: env.bucket(BINDING).map_err(|e| down("binding", e))?,
            project: project.clone(),
        })
    }

    pub fn bucket(&self) -> &Bucket {
        &self.bucket
    }

    pub fn key(&self, path: &FilePath) -> String {
        format!("{}{path}", self.project)
    }

    /// Stages files for this project.
    pub fn staging(&self) -> Staging<'_> {
        Staging {
            files: self,
            in_memory: 0,
            current: None,
            created: Vec::new(),
        }
    }

    /// The record of the file with this id, if there is one: its index
    /// entry, if the file at the entry's path still has this id.
    pub async fn resolve(&self, id: &FileId) -> Result<Option<FileRecord>, Refusal> {
        let Some(record) = self.index_record(id).await? else {
            return Ok(None);
        };
        let current = self
            .bucket
            .head(self.key(&record.path))
            .await
            .map_err(|e| down("head", e))?
            .and_then(|object| object.custom_metadata().ok())
            .is_some_and(|custom| {
                custom.get("uuid").and_then(|u| FileId::parse(u)).as_ref() == Some(id)
            });
        if current {
            return Ok(Some(record));
        }
        // The file was replaced (or deleted without its entry): the entry is
        // stale. Removing it is tidying only; a failure changes no answer.
        let _ = self.delete_key(index_key(&self.project, id)).await;
        Ok(None)
    }

    /// The index entry of this id, current or not.
    async fn index_record(&self, id: &FileId) -> Result<Option<FileRecord>, Refusal> {
        let Some(object) = self
            .bucket
            .get(index_key(&self.project, id))
            .execute()
            .await
            .map_err(|e| down("get", e))?
        else {
            return Ok(None);
        };
        let text = object
            .body()
            .ok_or_else(|| down("get", "no body"))?
            .text()
            .await
            .map_err(|e| down("read", e))?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| down("index record", e))
    }

    /// The record of the file at `path`, if there is one (from its object's
    /// custom metadata, else from the index; a file stored before files had
    /// ids gets a record made from its object).
    pub async fn record_at(&self, path: &FilePath) -> Result<Option<FileRecord>, Refusal> {
        match self
            .bucket
            .head(self.key(path))
            .await
            .map_err(|e| down("head", e))?
        {
            Some(object) => self.record_of(&object).await.map(Some),
            None => Ok(None),
        }
    }

    /// The record of a listed or read object.
    pub async fn record_of(&self, object: &Object) -> Result<FileRecord, Refusal> {
        let custom = object.custom_metadata().unwrap_or_default();
        if let Some(record) = custom
            .get("record")
            .and_then(|r| serde_json::from_str(r).ok())
        {
            return Ok(record);
        }
        // The object names its id, so that id's entry is current.
        if let Some(id) = custom.get("uuid").and_then(|u| FileId::parse(u))
            && let Some(record) = self.index_record(&id).await?
        {
            return Ok(record);
        }
        Ok(self.legacy_record(object, &custom))
    }

    /// A record for an object stored before files had ids: its id is made
    /// from its key (it cannot be found by it).
    fn legacy_record(&self, object: &Object, custom: &HashMap<String, String>) -> FileRecord {
        let key = object.key();
        let path = key.strip_prefix(self.project.as_str()).unwrap_or(&key);
        let digest = crate::core::upload::sha1_hex(key.as_bytes());
        let mut id_bytes = [0u8; 16];
        for (i, b) in id_bytes.iter_mut().enumerate() {
            *b = u8::from_str_radix(&digest[2 * i..2 * i + 2], 16).unwrap_or(0);
        }
        let uploaded = object.uploaded().as_millis() / 1000;
        FileRecord {
            uuid: FileId::new(id_bytes),
            path: FilePath::parse(path.to_string())
                .unwrap_or_else(|_| FilePath::parse("/unnamed".into()).expect("a valid path")),
            content_type: object
                .http_metadata()
                .content_type
                .unwrap_or_else(|| "application/octet-stream".into()),
            size: object.size(),
            sha1: String::new(),
            meta: custom
                .get(LEGACY_META)
                .and_then(|m| serde_json::from_str(m).ok())
                .unwrap_or_default(),
            tags: Default::default(),
            info: Map::new(),
            created_at: uploaded,
            modified_at: uploaded,
        }
    }

    fn custom_metadata(record: &FileRecord) -> HashMap<String, String> {
        let mut custom = HashMap::from([("uuid".to_string(), record.uuid.to_string())]);
        if let Ok(text) = serde_json::to_string(record)
            && r2_metadata_len(&text) <= RECORD_IN_METADATA
        {
            custom.insert("record".into(), text);
        }
        custom
    }

    async fn put_index(&self, record: &FileRecord) -> Result<(), Refusal> {
        let text = serde_json::to_string(record).map_err(|e| down("encode", e))?;
        self.bucket
            .put(index_key(&self.project, &record.uuid), text)
            .execute()
            .await
            .map_err(|e| down("put", e))?;
        Ok(())
    }

    async fn delete_key(&self, key: String) -> Result<(), Refusal> {
        self.bucket.delete(key).await.map_err(|e| down("delete", e))
    }

    /// Makes a staged file visible at its path, with `record`, replacing
    /// whatever file was there; the stored object, as R2 answered the write.
    pub async fn commit(&self, staged: Staged, record: &FileRecord) -> Result<Object, Refusal> {
        let key = self.key(&record.path);
        let http = HttpMetadata {
            content_type: Some(record.content_type.clone()),
            ..HttpMetadata::default()
        };
        let stored = match staged {
            Staged::Memory { bytes, .. } => self
                .bucket
                .put(&key, bytes)
                .http_metadata(http)
                .custom_metadata(Self::custom_metadata(record))
                .execute()
                .await
                .map_err(|e| down("put", e))?
                // Without a condition, R2 always answers the stored object.
                .ok_or_else(|| down("put", "R2 answered no object"))?,
            Staged::Parts {
                key: staged_key,
                upload,
                parts,
                ..
            } => {
                if staged_key != key {
                    let _ = upload.abort().await;
                    return Err(Refusal::RejectMultipart {
                        reason: format!(
                            "info[…] must come before a file larger than {PART} bytes to rename it"
                        ),
                    });
                }
                upload
                    .complete(parts)
                    .await
                    .map_err(|e| down("complete", e))?
            }
        };
        if let Err(e) = self.put_index(record).await {
            let _ = self.delete_key(key).await;
            return Err(e);
        }
        Ok(stored)
    }

    /// Deletes a file and its index entry.
    pub async fn delete(&self, record: &FileRecord) -> Result<(), Refusal> {
        self.delete_key(self.key(&record.path)).await?;
        self.delete_key(index_key(&self.project, &record.uuid))
            .await
    }

    /// Writes `record` over the file's stored record (its bytes unchanged,
    /// and at its path). Moves the bytes when the path changed.
    pub async fn rewrite(&self, old: &FileRecord, record: &FileRecord) -> Result<Object, Refusal> {
        let from = self.key(&old.path);
        let to = self.key(&record.path);
        let source = self
            .bucket
            .get(&from)
            .execute()
            .await
            .map_err(|e| down("get", e))?
            .ok_or(Refusal::MissFile)?;
        let body = source.body().ok_or_else(|| down("get", "no body"))?;
        let data = match body.response_body().map_err(|e| down("body", e))? {
            worker::ResponseBody::Stream(stream) => Data::ReadableStream(stream),
            worker::ResponseBody::Body(bytes) => Data::Bytes(bytes),
            worker::ResponseBody::Empty => Data::Empty,
        };
        let written = self
            .bucket
            .put(&to, data)
            .http_metadata(source.http_metadata())
            .custom_metadata(Self::custom_metadata(record))
            .execute()
            .await
            .map_err(|e| down("put", e))?
            .ok_or_else(|| down("put", "no object"))?;
        self.put_index(record).await?;
        if from != to {
            self.delete_key(from).await?;
        }
        Ok(written)
    }

    /// The records of the files in `folder` (or below it), at most
    /// `SCAN_LIMIT`, and the subfolders R2 names (their paths). Also whether
    /// there were more than `SCAN_LIMIT` objects.
    pub async fn scan(
        &self,
        folder: &Dir,
        recursive: bool,
    ) -> Result<(Vec<FileRecord>, Vec<Dir>, bool), Refusal> {
        let prefix = if folder.is_root() {
            format!("{}/", self.project)
        } else {
            format!("{}{folder}/", self.project)
        };
        let mut records = Vec::new();
        let mut dirs = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut list = self
                .bucket
                .list()
                .prefix(prefix.clone())
                .limit(1000)
                .include(vec![Include::HttpMetadata, Include::CustomMetadata]);
            if !recursive {
                list = list.delimiter("/");
            }
            if let Some(c) = cursor.take() {
                list = list.cursor(c);
            }
            let listed = list.execute().await.map_err(|e| down("list", e))?;
            for object in listed.objects() {
                records.push(self.record_of(&object).await?);
            }
            for p in listed.delimited_prefixes() {
                let path = p.strip_prefix(self.project.as_str()).unwrap_or(&p);
                if let Ok(dir) = Dir::parse(path.trim_end_matches('/').to_string()) {
                    dirs.push(dir);
                }
            }
            if records.len() >= SCAN_LIMIT {
                return Ok((records, dirs, listed.truncated()));
            }
            match listed.cursor().filter(|_| listed.truncated()) {
                Some(c) => cursor = Some(c),
                None => return Ok((records, dirs, false)),
            }
        }
    }
}

/// Receives the files of one request into R2 (see the module's notes).
pub struct Staging<'a> {
    files: &'a Files,
    /// Bytes of finished files of this request held in memory.
    in_memory: usize,
    current: Option<Current>,
    /// Every multipart upload started, as (key, upload id), so that all can
    /// be aborted, whatever state the request was left in.
    created: Vec<(String, String)>,
}

struct Current {
    key: String,
    content_type: String,
    id: FileId,
    buffer: Vec<u8>,
    upload: Option<(MultipartUpload, Vec<UploadedPart>)>,
}

impl Staging<'_> {
    async fn start_upload(&mut self, current: &Current) -> Result<MultipartUpload, Refusal> {
        let upload = self
            .files
            .bucket
            .create_multipart_upload(&current.key)
            .http_metadata(HttpMetadata {
                content_type: Some(current.content_type.clone()),
                ..HttpMetadata::default()
            })
            .custom_metadata(HashMap::from([(
                "uuid".to_string(),
                current.id.to_string(),
            )]))
            .execute()
            .await
            .map_err(|e| down("create multipart upload", e))?;
        self.created
            .push((current.key.clone(), upload.upload_id().await));
        Ok(upload)
    }

    async fn upload_part(&mut self, current: &mut Current, bytes: Vec<u8>) -> Result<(), Refusal> {
        if current.upload.is_none() {
            current.upload = Some((self.start_upload(current).await?, Vec::new()));
        }
        if let Some((upload, parts)) = current.upload.as_mut() {
            let number = u16::try_from(parts.len() + 1)
                .map_err(|_| down("upload part", "too many parts"))?;
            let part = upload
                .upload_part(number, bytes)
                .await
                .map_err(|e| down("upload part", e))?;
            parts.push(part);
        }
        Ok(())
    }

    /// Leaves nothing behind of what was staged, after a refusal: every
    /// multipart upload this request started is aborted (one completed
    /// already is not touched), and what was in memory is dropped.
    pub async fn abort_all(&mut self) {
        self.current = None;
        for (key, id) in std::mem::take(&mut self.created) {
            let aborted = match self.files.bucket.resume_multipart_upload(key, id) {
                Ok(upload) => upload.abort().await,
                Err(e) => Err(e),
            };
            if let Err(e) = aborted {
                console_error!("R2 abort of a multipart upload failed: {e}");
            }
        }
    }
}

impl Sink for Staging<'_> {
    type Staged = Staged;

    async fn open(&mut self, _: &str, path: &FilePath, content_type: &str) -> Result<(), Refusal> {
        self.current = Some(Current {
            key: self.files.key(path),
            content_type: content_type.to_string(),
            id: FileId::new(random::bytes()?),
            buffer: Vec::new(),
            upload: None,
        });
        Ok(())
    }

    async fn write(&mut self, chunk: Bytes) -> Result<(), Refusal> {
        let Some(mut current) = self.current.take() else {
            return Err(down("stage", "no file open"));
        };
        current.buffer.extend_from_slice(&chunk);
        while current.buffer.len() >= PART {
            let rest = current.buffer.split_off(PART);
            let part = std::mem::replace(&mut current.buffer, rest);
            self.upload_part(&mut current, part).await?;
        }
        self.current = Some(current);
        Ok(())
    }

    async fn close(&mut self) -> Result<Staged, Refusal> {
        let Some(mut current) = self.current.take() else {
            return Err(down("stage", "no file open"));
        };
        if current.upload.is_none() && self.in_memory + current.buffer.len() <= MEMORY {
            self.in_memory += current.buffer.len();
            return Ok(Staged::Memory {
                id: current.id,
                bytes: current.buffer,
            });
        }
        let last = std::mem::take(&mut current.buffer);
        if !last.is_empty() || current.upload.is_none() {
            self.upload_part(&mut current, last).await?;
        }
        let (upload, parts) = current
            .upload
            .ok_or_else(|| down("stage", "no multipart upload"))?;
        Ok(Staged::Parts {
            id: current.id,
            key: current.key,
            upload,
            parts,
        })
    }
}

/// A record for a received file, as of `now` (Unix seconds).
pub fn record_of(file: &Received<Staged>, now: u64) -> FileRecord {
    FileRecord {
        uuid: file.staged.id().clone(),
        path: file.path.clone(),
        content_type: file.content_type.clone(),
        size: file.size,
        sha1: file.sha1.clone(),
        meta: file.meta.clone(),
        tags: file.tags.clone(),
        info: file.info.clone(),
        created_at: now,
        modified_at: now,
    }
}

/// The stored meta object of a record, as the own path API shows it.
pub fn meta_value(record: &FileRecord) -> Value {
    if record.meta.is_empty() {
        Value::Null
    } else {
        Value::Object(record.meta.clone())
    }
}

//! Workers KV through the platform's `KvStore`: the `TEMPLATES` namespace
//! holds templates, API keys and revocations as JSON entries.

use futures_util::future::join_all;
use serde_json::Value;
use worker::{Env, KvStore, console_error};

use crate::core::body;
use crate::core::cache::KV_CACHE_TTL;
use crate::core::refusal::Refusal;

/// The KV binding.
pub const BINDING: &str = "TEMPLATES";
/// Most entries in one page of a listing.
pub const PAGE: u64 = 100;

pub fn down(context: &str, e: impl std::fmt::Display) -> Refusal {
    console_error!("KV {context} failed: {e}");
    Refusal::StorageDown
}

/// The namespace; a missing binding is a configuration error that names it.
pub fn open(env: &Env) -> Result<KvStore, Refusal> {
    env.kv(BINDING).map_err(|_| Refusal::MisconfiguredSetting {
        setting: BINDING,
        reason: "the KV namespace binding is missing".into(),
    })
}

/// The text of `key`. With `cached`, KV may answer from its edge cache
/// (`KV_CACHE_TTL`): only for the hot path's reads.
pub async fn get_text(kv: &KvStore, key: &str, cached: bool) -> Result<Option<String>, Refusal> {
    let mut get = kv.get(key);
    if cached {
        get = get.cache_ttl(KV_CACHE_TTL);
    }
    get.text().await.map_err(|e| down("get", e))
}

/// A stored JSON entry; one that does not parse is a corrupt record.
pub async fn get_json(kv: &KvStore, key: &str, cached: bool) -> Result<Option<Value>, Refusal> {
    match get_text(kv, key, cached).await? {
        Some(text) => parse(key, &text).map(Some),
        None => Ok(None),
    }
}

fn parse(name: &str, text: &str) -> Result<Value, Refusal> {
    body::parse(text.as_bytes()).map_err(|e| {
        console_error!("corrupt JSON in KV entry {name}: {}", e.message());
        Refusal::Internal
    })
}

/// Writes `key`; with `expiration` (Unix seconds, at least 60 s ahead), KV
/// deletes it then.
pub async fn put(
    kv: &KvStore,
    key: &str,
    value: &str,
    expiration: Option<u64>,
) -> Result<(), Refusal> {
    let mut put = kv.put(key, value).map_err(|e| down("put", e))?;
    if let Some(at) = expiration {
        put = put.expiration(at);
    }
    put.execute().await.map_err(|e| down("put", e))
}

pub async fn delete(kv: &KvStore, key: &str) -> Result<(), Refusal> {
    kv.delete(key).await.map_err(|e| down("delete", e))
}

/// One page (`PAGE` entries) of the JSON values under `prefix`, in key
/// order, and the cursor of the next page. The entries are read at once; one
/// deleted between listing and reading is left out. (Admin listings only.)
pub async fn page(
    kv: &KvStore,
    prefix: &str,
    cursor: Option<String>,
) -> Result<(Vec<Value>, Option<String>), Refusal> {
    let mut list = kv.list().prefix(prefix.to_string()).limit(PAGE);
    if let Some(cursor) = cursor {
        list = list.cursor(cursor);
    }
    let listed = list.execute().await.map_err(|e| down("list", e))?;
    let reads = listed.keys.iter().map(|k| get_json(kv, &k.name, false));
    let values = join_all(reads)
        .await
        .into_iter()
        .filter_map(Result::transpose)
        .collect::<Result<Vec<_>, _>>()?;
    let next = if listed.list_complete {
        None
    } else {
        listed.cursor
    };
    Ok((values, next))
}

//! API secret keys in Workers KV. Each key is stored twice: under the hash of
//! its secret (`apikey/hash/{sha256}`), which is how a request is
//! authenticated with one read and no scan, and under its id
//! (`apikey/id/{id}`), which is how the admin API finds and lists it.

use std::cell::RefCell;

use serde_json::Value;
use worker::{Env, KvStore, console_error};

use crate::core::api_key::ApiKey;
use crate::core::cache::Cache;
use crate::core::ct;
use crate::core::id::ApiKeyId;
use crate::core::refusal::Refusal;
use crate::shell::kv;

thread_local! {
    /// By secret hash: the key, or `None` for a hash that matched nothing.
    static BY_HASH: RefCell<Cache<Option<ApiKey>>> = RefCell::new(Cache::default());
}

fn parse(value: Value) -> Result<ApiKey, Refusal> {
    ApiKey::from_stored(value).map_err(|r| {
        console_error!("corrupt API key in KV: {}", r.message());
        Refusal::Internal
    })
}

pub struct ApiKeyStore {
    kv: KvStore,
}

impl ApiKeyStore {
    pub fn open(env: &Env) -> Result<ApiKeyStore, Refusal> {
        Ok(ApiKeyStore { kv: kv::open(env)? })
    }

    /// The key whose secret hashes to `hash`, active or not; cached per isolate.
    pub async fn by_hash(&self, hash: &str, now_ms: u64) -> Result<Option<ApiKey>, Refusal> {
        if let Some(found) = BY_HASH.with_borrow(|c| c.get(hash, now_ms)) {
            return Ok(found);
        }
        let value = kv::get_json(&self.kv, &format!("apikey/hash/{hash}"), true).await?;
        let key = value.map(parse).transpose()?;
        // The lookup was by hash; compare it again, in constant time.
        let key = key.filter(|k| ct::eq(k.hash.as_bytes(), hash.as_bytes()));
        BY_HASH.with_borrow_mut(|c| c.put(hash.to_string(), key.clone(), now_ms));
        Ok(key)
    }

    pub async fn by_id(&self, id: &ApiKeyId) -> Result<Option<ApiKey>, Refusal> {
        let value = kv::get_json(&self.kv, &format!("apikey/id/{id}"), false).await?;
        value.map(parse).transpose()
    }

    /// Writes both entries. The hash entry, which authenticates, is written
    /// last when a key gains power and first when it loses it.
    pub async fn put(&self, key: &ApiKey, gaining: bool) -> Result<(), Refusal> {
        let text = key.to_stored().to_string();
        let by_id = format!("apikey/id/{}", key.id);
        let by_hash = format!("apikey/hash/{}", key.hash);
        let order = if gaining {
            [by_id, by_hash]
        } else {
            [by_hash, by_id]
        };
        for name in order {
            kv::put(&self.kv, &name, &text, None).await?;
        }
        BY_HASH.with_borrow_mut(|c| c.forget(&key.hash));
        Ok(())
    }

    pub async fn delete(&self, key: &ApiKey) -> Result<(), Refusal> {
        for name in [
            format!("apikey/hash/{}", key.hash),
            format!("apikey/id/{}", key.id),
        ] {
            kv::delete(&self.kv, &name).await?;
        }
        BY_HASH.with_borrow_mut(|c| c.forget(&key.hash));
        Ok(())
    }

    /// One page of keys, and the cursor of the next page.
    pub async fn list(
        &self,
        cursor: Option<String>,
    ) -> Result<(Vec<ApiKey>, Option<String>), Refusal> {
        let (values, next) = kv::page(&self.kv, "apikey/id/", cursor).await?;
        let keys = values.into_iter().map(parse).collect::<Result<_, _>>()?;
        Ok((keys, next))
    }
}

//! API secret keys in Workers KV. Each key is stored twice: under the hash of
//! its secret (`apikey/hash/{sha256}`), which is how a request is
//! authenticated with one read and no scan, and under its id
//! (`apikey/id/{id}`), which is how the admin API finds and lists it.

use std::cell::RefCell;

use worker::{Env, console_error};

use crate::core::api_key::ApiKey;
use crate::core::ct;
use crate::core::json::Value;
use crate::core::refusal::Refusal;
use crate::shell::cache::Cache;
use crate::shell::http;
use crate::shell::kv::Kv;

thread_local! {
    /// By secret hash: the key, or `None` for a hash that matched nothing.
    static BY_HASH: RefCell<Cache<Option<ApiKey>>> = RefCell::new(Cache::new());
}

fn parse(value: &Value) -> Result<ApiKey, Refusal> {
    ApiKey::from_stored(value).map_err(|r| {
        console_error!("corrupt API key in KV: {}", r.message());
        Refusal::Internal
    })
}

pub struct ApiKeyStore {
    kv: Kv,
}

impl ApiKeyStore {
    pub fn open(env: &Env) -> Result<ApiKeyStore, Refusal> {
        Ok(ApiKeyStore { kv: Kv::open(env)? })
    }

    /// The key whose secret hashes to `hash`, active or not; cached per isolate.
    pub async fn by_hash(&self, hash: &str) -> Result<Option<ApiKey>, Refusal> {
        let now = http::now_ms();
        if let Some(found) = BY_HASH.with_borrow(|c| c.get(hash, now)) {
            return Ok(found);
        }
        let value = self
            .kv
            .get_json(&format!("apikey/hash/{hash}"), true)
            .await?;
        let key = value.as_ref().map(parse).transpose()?;
        // The lookup was by hash; compare it again, in constant time.
        let key = key.filter(|k| ct::eq(k.hash.as_bytes(), hash.as_bytes()));
        BY_HASH.with_borrow_mut(|c| c.put(hash.to_string(), key.clone(), now));
        Ok(key)
    }

    pub async fn by_id(&self, id: &str) -> Result<Option<ApiKey>, Refusal> {
        let value = self.kv.get_json(&format!("apikey/id/{id}"), false).await?;
        value.as_ref().map(parse).transpose()
    }

    /// Writes both entries. The hash entry, which authenticates, is written
    /// last when a key gains power and first when it loses it.
    pub async fn put(&self, key: &ApiKey, gaining: bool) -> Result<(), Refusal> {
        let text = key.to_stored().text();
        let by_id = format!("apikey/id/{}", key.id);
        let by_hash = format!("apikey/hash/{}", key.hash);
        let order = if gaining {
            [by_id, by_hash]
        } else {
            [by_hash, by_id]
        };
        for name in order {
            self.kv.put(&name, &text, None).await?;
        }
        BY_HASH.with_borrow_mut(|c| c.forget(&key.hash));
        Ok(())
    }

    pub async fn delete(&self, key: &ApiKey) -> Result<(), Refusal> {
        for name in [
            format!("apikey/hash/{}", key.hash),
            format!("apikey/id/{}", key.id),
        ] {
            self.kv.delete(&name).await?;
        }
        BY_HASH.with_borrow_mut(|c| c.forget(&key.hash));
        Ok(())
    }

    /// One page of keys, and the cursor of the next page.
    pub async fn list(
        &self,
        cursor: Option<String>,
    ) -> Result<(Vec<ApiKey>, Option<String>), Refusal> {
        let (values, next) = self.kv.page("apikey/id/", cursor).await?;
        let keys = values.iter().map(parse).collect::<Result<_, _>>()?;
        Ok((keys, next))
    }
}

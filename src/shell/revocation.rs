//! Revoking issued SASS keys.
//!
//! Every issued key is registered (`issued/{project}/{key_id}`, holding its
//! expiry) so that a revocation knows when the key would have expired. A
//! revocation writes `revoked/{project}/{key_id}`, which expires with the
//! key. The gateway checks a key and every key it was attenuated from,
//! through a per-isolate cache (see `cache` for how fast this reaches every
//! location; the isolate that revokes sees it at once).

use std::cell::RefCell;

use serde_json::{Value, json};
use worker::{Env, KvStore, Request, Response, console_error};

use crate::core::key::{Claims, LEEWAY};
use crate::core::permission::Permission;
use crate::core::refusal::Refusal;
use crate::core::template::MAX_EXPIRATION;
use crate::shell::cache::{Cache, KV_CACHE_TTL};
use crate::shell::http;
use crate::shell::template_store::BINDING;
use crate::shell::{audit, auth, settings};

thread_local! {
    static REVOKED: RefCell<Cache<bool>> = RefCell::new(Cache::new());
}

fn down(context: &str, e: impl std::fmt::Display) -> Refusal {
    console_error!("KV {context} for revocation failed: {e}");
    Refusal::StorageDown
}

fn kv(env: &Env) -> Result<KvStore, Refusal> {
    env.kv(BINDING).map_err(|e| down("binding", e))
}

/// KV needs an expiry at least 60 s ahead.
fn expiry(expires_at: u64) -> u64 {
    (expires_at + LEEWAY).max(http::now_secs() + 60)
}

/// Registers an issued key, so that it can be revoked by id.
pub async fn register(env: &Env, claims: &Claims) -> Result<(), Refusal> {
    let value = json!({ "expires_at": claims.expires_at }).to_string();
    kv(env)?
        .put(
            &format!("issued/{}/{}", claims.project, claims.key_id),
            value,
        )
        .map_err(|e| down("put", e))?
        .expiration(expiry(claims.expires_at))
        .execute()
        .await
        .map_err(|e| down("put", e))
}

/// `DELETE /{project}/v5/keys/{key_id}`, with CONFIG_CHANGE on the project.
pub async fn handle(
    req: &Request,
    env: &Env,
    project: &str,
    key_id: &str,
) -> Result<Response, Refusal> {
    let config = settings::config(env)?;
    let actor = auth::require(req, env, &config, Some(project), Permission::ConfigChange).await?;
    let until = revoke(env, project, key_id).await?;
    audit::record(actor.id(), "key.revoke", Some(project), key_id);
    Ok(http::json(
        200,
        &json!({ "status": "success", "hint": "Key revoked", "key_id": key_id, "revoked_until": until }),
    ))
}

/// Revokes a key by id. A key never registered (unknown, or already expired)
/// is revoked for the longest validity a key can have.
pub async fn revoke(env: &Env, project: &str, key_id: &str) -> Result<u64, Refusal> {
    let kv = kv(env)?;
    let issued: Option<Value> = kv
        .get(&format!("issued/{project}/{key_id}"))
        .json()
        .await
        .map_err(|e| down("get", e))?;
    let expires_at = issued
        .as_ref()
        .and_then(|v| v["expires_at"].as_u64())
        .unwrap_or(http::now_secs() + MAX_EXPIRATION);
    kv.put(
        &format!("revoked/{project}/{key_id}"),
        json!({ "revoked_at": http::now_secs(), "expires_at": expires_at }).to_string(),
    )
    .map_err(|e| down("put", e))?
    .expiration(expiry(expires_at))
    .execute()
    .await
    .map_err(|e| down("put", e))?;
    REVOKED.with_borrow_mut(|c| c.put(format!("{project}/{key_id}"), true, http::now_ms()));
    Ok(expires_at)
}

/// Whether the key of `claims`, or any key it was attenuated from, is revoked.
pub async fn is_revoked(env: &Env, claims: &Claims) -> Result<bool, Refusal> {
    let now = http::now_ms();
    for id in claims.lineage.iter().chain([&claims.key_id]) {
        let name = format!("{}/{id}", claims.project);
        let revoked = match REVOKED.with_borrow(|c| c.get(&name, now)) {
            Some(revoked) => revoked,
            None => {
                let found = kv(env)?
                    .get(&format!("revoked/{name}"))
                    .cache_ttl(KV_CACHE_TTL)
                    .text()
                    .await
                    .map_err(|e| down("get", e))?;
                REVOKED.with_borrow_mut(|c| c.put(name, found.is_some(), now));
                found.is_some()
            }
        };
        if revoked {
            return Ok(true);
        }
    }
    Ok(false)
}

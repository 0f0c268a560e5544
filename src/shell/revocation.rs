//! Revoking issued SASS keys.
//!
//! Every issued key is registered (`issued/{project}/{key_id}`, holding its
//! expiry) so that a revocation knows when the key would have expired. A
//! revocation writes `revoked/{project}/{key_id}`, which expires with the
//! key. The gateway checks a key and every key it was attenuated from,
//! through a per-isolate cache (see `cache` for how fast this reaches every
//! location; the isolate that revokes sees it at once).

use std::cell::RefCell;

use worker::{Env, Response};

use crate::core::json::{self, Value};
use crate::core::key::{Claims, LEEWAY};
use crate::core::permission::Permission;
use crate::core::refusal::Refusal;
use crate::core::template::MAX_EXPIRATION;
use crate::shell::cache::Cache;
use crate::shell::http;
use crate::shell::incoming::Incoming;
use crate::shell::kv::Kv;
use crate::shell::{audit, auth, settings};

thread_local! {
    static REVOKED: RefCell<Cache<bool>> = RefCell::new(Cache::new());
}

/// KV needs an expiry at least 60 s ahead.
fn expiry(expires_at: u64) -> u64 {
    (expires_at + LEEWAY).max(http::now_secs() + 60)
}

/// Registers an issued key, so that it can be revoked by id.
pub async fn register(env: &Env, claims: &Claims) -> Result<(), Refusal> {
    let value = json::object([("expires_at", claims.expires_at.into())]).text();
    Kv::open(env)?
        .put(
            &format!("issued/{}/{}", claims.project, claims.key_id),
            &value,
            Some(expiry(claims.expires_at)),
        )
        .await
}

/// `DELETE /{project}/v5/keys/{key_id}`, with CONFIG_CHANGE on the project.
pub async fn handle(
    req: &Incoming,
    env: &Env,
    project: &str,
    key_id: &str,
) -> Result<Response, Refusal> {
    let config = settings::config(env)?;
    let actor = auth::require(req, env, &config, Some(project), Permission::ConfigChange).await?;
    let until = revoke(env, project, key_id).await?;
    audit::record(actor.id(), "key.revoke", Some(project), key_id);
    Ok(http::success(
        200,
        [
            ("hint", "Key revoked".into()),
            ("key_id", key_id.into()),
            ("revoked_until", until.into()),
        ],
    ))
}

/// Revokes a key by id. A key never registered (unknown, or already expired)
/// is revoked for the longest validity a key can have.
pub async fn revoke(env: &Env, project: &str, key_id: &str) -> Result<u64, Refusal> {
    let kv = Kv::open(env)?;
    let issued = kv
        .get_json(&format!("issued/{project}/{key_id}"), false)
        .await?;
    let expires_at = issued
        .as_ref()
        .and_then(|v| v.get("expires_at"))
        .and_then(Value::as_u64)
        .unwrap_or(http::now_secs() + MAX_EXPIRATION);
    let record = json::object([
        ("revoked_at", http::now_secs().into()),
        ("expires_at", expires_at.into()),
    ]);
    kv.put(
        &format!("revoked/{project}/{key_id}"),
        &record.text(),
        Some(expiry(expires_at)),
    )
    .await?;
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
                let found = Kv::open(env)?
                    .get_text(&format!("revoked/{name}"), true)
                    .await?;
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

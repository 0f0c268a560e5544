//! Revoking issued SASS keys.
//!
//! A key's id carries its expiry, so a revocation knows when the key would
//! have expired without any record of the keys issued: issuing writes
//! nothing. A revocation writes `revoked/{project}/{key_id}`, which expires
//! with the key. The gateway checks a key and every key it was attenuated from,
//! through a per-isolate cache (see `core::cache` for how fast this reaches
//! every location; the isolate that revokes sees it at once).

use std::cell::RefCell;

use serde::Serialize;
use worker::{Env, Response};

use crate::core::bounded::MAX_EXPIRATION;
use crate::core::cache::Cache;
use crate::core::id::{KeyId, Project};
use crate::core::key::{Claims, LEEWAY};
use crate::core::permission::Permission;
use crate::core::refusal::Refusal;
use crate::shell::incoming::Incoming;
use crate::shell::{audit, auth, kv, response, settings};

thread_local! {
    static REVOKED: RefCell<Cache<bool>> = RefCell::new(Cache::default());
}

/// KV needs an expiry at least 60 s ahead.
fn expiry(expires_at: u64, now: u64) -> u64 {
    (expires_at + LEEWAY).max(now + 60)
}

#[derive(Serialize)]
struct Revoked {
    revoked_at: u64,
    expires_at: u64,
}

/// `DELETE /{project}/v5/keys/{key_id}`, with CONFIG_CHANGE on the project.
pub async fn handle(
    req: &Incoming,
    env: &Env,
    project: &Project,
    key_id: &KeyId,
) -> Result<Response, Refusal> {
    let config = settings::config(env)?;
    let actor = auth::require(req, env, &config, Some(project), Permission::ConfigChange).await?;
    let until = revoke(env, project, key_id, req.now_ms()).await?;
    audit::record(
        req.now_secs(),
        actor.id().as_str(),
        "key.revoke",
        Some(project.as_str()),
        key_id.as_str(),
    );
    Ok(response::success(
        200,
        [
            ("hint", "Key revoked".into()),
            ("key_id", key_id.as_str().into()),
            ("revoked_until", until.into()),
        ],
    ))
}

/// Revokes a key by id, until the expiry the id carries (at most the
/// longest validity a key can have from now).
pub async fn revoke(
    env: &Env,
    project: &Project,
    key_id: &KeyId,
    now_ms: u64,
) -> Result<u64, Refusal> {
    let now = now_ms / 1000;
    let kv = kv::open(env)?;
    let expires_at = key_id.expires_at().min(now + MAX_EXPIRATION);
    let record = Revoked {
        revoked_at: now,
        expires_at,
    };
    kv::put(
        &kv,
        &format!("revoked/{project}/{key_id}"),
        &serde_json::to_string(&record).unwrap_or_default(),
        Some(expiry(expires_at, now)),
    )
    .await?;
    REVOKED.with_borrow_mut(|c| c.put(format!("{project}/{key_id}"), true, now_ms));
    Ok(expires_at)
}

/// Whether the key of `claims`, or any key it was attenuated from, is revoked.
pub async fn is_revoked(env: &Env, claims: &Claims, now_ms: u64) -> Result<bool, Refusal> {
    for id in claims
        .lineage
        .iter()
        .map(|a| &a.key_id)
        .chain([&claims.key_id])
    {
        let name = format!("{}/{id}", claims.project);
        let revoked = match REVOKED.with_borrow(|c| c.get(&name, now_ms)) {
            Some(revoked) => revoked,
            None => {
                let found = kv::get_text(&kv::open(env)?, &format!("revoked/{name}"), true).await?;
                REVOKED.with_borrow_mut(|c| c.put(name, found.is_some(), now_ms));
                found.is_some()
            }
        };
        if revoked {
            return Ok(true);
        }
    }
    Ok(false)
}

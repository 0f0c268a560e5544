//! Revoking issued SASS keys.
//!
//! Every issued key is registered (`issued/{project}/{key_id}`, holding its
//! expiry) so that a revocation knows when the key would have expired. A
//! revocation writes `revoked/{project}/{key_id}`, which expires with the
//! key. The gateway checks a key and every key it was attenuated from,
//! through a per-isolate cache (see `core::cache` for how fast this reaches
//! every location; the isolate that revokes sees it at once).

use std::cell::RefCell;

use serde::{Deserialize, Serialize};
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

#[derive(Serialize, Deserialize)]
struct Issued {
    expires_at: u64,
}

#[derive(Serialize)]
struct Revoked {
    revoked_at: u64,
    expires_at: u64,
}

/// Registers an issued key, so that it can be revoked by id.
pub async fn register(env: &Env, claims: &Claims, now: u64) -> Result<(), Refusal> {
    let value = serde_json::to_string(&Issued {
        expires_at: claims.expires_at,
    })
    .unwrap_or_default();
    kv::put(
        &kv::open(env)?,
        &format!("issued/{}/{}", claims.project, claims.key_id),
        &value,
        Some(expiry(claims.expires_at, now)),
    )
    .await
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

/// Revokes a key by id. A key never registered (unknown, or already expired)
/// is revoked for the longest validity a key can have.
pub async fn revoke(
    env: &Env,
    project: &Project,
    key_id: &KeyId,
    now_ms: u64,
) -> Result<u64, Refusal> {
    let now = now_ms / 1000;
    let kv = kv::open(env)?;
    let issued = kv::get_json(&kv, &format!("issued/{project}/{key_id}"), false).await?;
    let expires_at = issued
        .and_then(|v| serde_json::from_value::<Issued>(v).ok())
        .map_or(now + MAX_EXPIRATION, |i| i.expires_at);
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

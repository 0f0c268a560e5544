//! The API secret key admin API: `/v5/api-keys[/{id}]`.

use worker::{Env, Response};

use crate::core::api_key::{self, ApiKey, ROOT_ID, root_json};
use crate::core::permission::Permission;
use crate::core::refusal::Refusal;
use crate::shell::api_key_store::ApiKeyStore;
use crate::shell::http::{self, MAX_JSON_BODY};
use crate::shell::incoming::Incoming;
use crate::shell::{audit, auth, settings};

fn one(status: u16, key: &ApiKey) -> Response {
    http::success(status, [("api_key", key.public_json())])
}

async fn existing(store: &ApiKeyStore, id: &str) -> Result<ApiKey, Refusal> {
    store.by_id(id).await?.ok_or(Refusal::MissApiKey)
}

pub async fn create(req: &Incoming, env: &Env) -> Result<Response, Refusal> {
    let config = settings::config(env)?;
    let actor = auth::require(req, env, &config, None, Permission::AccessManage).await?;
    let body = http::read_json(req, MAX_JSON_BODY).await?;
    let mut random = [0u8; 32];
    random[..16].copy_from_slice(&http::random16()?);
    random[16..].copy_from_slice(&http::random16()?);
    let secret = api_key::new_secret(random);
    let id = api_key::new_api_key_id(http::random16()?);
    let key = ApiKey::create(&body, &actor, id, &secret, http::now_secs())?;
    ApiKeyStore::open(env)?.put(&key, true).await?;
    audit::record(actor.id(), "api_key.create", None, &key.id);
    Ok(http::success(
        201,
        [
            ("api_key", key.public_json()),
            ("secret", secret.into()),
            (
                "hint",
                "Store the secret now: it is never shown again".into(),
            ),
        ],
    ))
}

pub async fn list(req: &Incoming, env: &Env) -> Result<Response, Refusal> {
    let config = settings::config(env)?;
    let actor = auth::require(req, env, &config, None, Permission::AccessRead).await?;
    let (keys, next) = ApiKeyStore::open(env)?
        .list(http::query(req, "cursor"))
        .await?;
    let grant = actor.grant();
    // A caller sees the keys it covers; the root key heads the root's list.
    let mut shown: Vec<_> = keys
        .iter()
        .filter(|k| grant.covers(&k.grant).is_ok())
        .map(ApiKey::public_json)
        .collect();
    if actor.id() == ROOT_ID && http::query(req, "cursor").is_none() {
        shown.insert(0, root_json());
    }
    Ok(http::success(
        200,
        [("api_keys", shown.into()), ("cursor", next.into())],
    ))
}

pub async fn read(req: &Incoming, env: &Env, id: &str) -> Result<Response, Refusal> {
    let config = settings::config(env)?;
    let actor = auth::require(req, env, &config, None, Permission::AccessRead).await?;
    if id == ROOT_ID {
        actor.grant().covers(&api_key::Grant::everything())?;
        return Ok(http::success(200, [("api_key", root_json())]));
    }
    let key = existing(&ApiKeyStore::open(env)?, id).await?;
    actor.grant().covers(&key.grant)?;
    Ok(one(200, &key))
}

pub async fn patch(req: &Incoming, env: &Env, id: &str) -> Result<Response, Refusal> {
    let config = settings::config(env)?;
    let actor = auth::require(req, env, &config, None, Permission::AccessManage).await?;
    if id == ROOT_ID {
        return Err(Refusal::DenyRootChange);
    }
    let body = http::read_json(req, MAX_JSON_BODY).await?;
    let store = ApiKeyStore::open(env)?;
    let key = existing(&store, id).await?;
    let changed = key.patch(&body, &actor, http::now_secs())?;
    // Whether the change grants anything the key could not do before.
    let gaining = changed.active && (!key.active || key.grant.covers(&changed.grant).is_err());
    store.put(&changed, gaining).await?;
    audit::record(actor.id(), "api_key.update", None, id);
    Ok(one(200, &changed))
}

pub async fn delete(req: &Incoming, env: &Env, id: &str) -> Result<Response, Refusal> {
    let config = settings::config(env)?;
    let actor = auth::require(req, env, &config, None, Permission::AccessManage).await?;
    if id == ROOT_ID {
        return Err(Refusal::DenyRootChange);
    }
    let store = ApiKeyStore::open(env)?;
    let key = existing(&store, id).await?;
    actor.grant().covers(&key.grant)?;
    store.delete(&key).await?;
    audit::record(actor.id(), "api_key.delete", None, id);
    Ok(http::success(
        200,
        [("hint", "API secret key deleted".into()), ("id", id.into())],
    ))
}

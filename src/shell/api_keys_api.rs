//! The API secret key admin API: `/v5/api-keys[/{id}]`.

use worker::{Env, Response};

use crate::core::api_key::{self, ApiKey, Grant, Principal, root_json};
use crate::core::id::ApiKeyId;
use crate::core::permission::Permission;
use crate::core::refusal::Refusal;
use crate::shell::api_key_store::ApiKeyStore;
use crate::shell::body::{MAX_JSON_BODY, read_json};
use crate::shell::incoming::Incoming;
use crate::shell::{audit, auth, random, response, settings};

fn one(status: u16, key: &ApiKey) -> Response {
    response::success(status, [("api_key", key.public_json())])
}

async fn existing(store: &ApiKeyStore, id: &ApiKeyId) -> Result<ApiKey, Refusal> {
    store.by_id(id).await?.ok_or(Refusal::MissApiKey)
}

async fn authorize(
    req: &Incoming,
    env: &Env,
    permission: Permission,
) -> Result<Principal, Refusal> {
    let config = settings::config(env)?;
    auth::require(req, env, &config, None, permission).await
}

fn record(req: &Incoming, actor: &Principal, action: &str, id: &ApiKeyId) {
    audit::record(
        req.now_secs(),
        actor.id().as_str(),
        action,
        None,
        id.as_str(),
    );
}

pub async fn create(req: &Incoming, env: &Env) -> Result<Response, Refusal> {
    let actor = authorize(req, env, Permission::AccessManage).await?;
    let body = read_json(req, MAX_JSON_BODY).await?;
    let secret = api_key::new_secret(random::bytes()?);
    let id = ApiKeyId::new(random::bytes()?);
    let key = ApiKey::create(body, &actor, id, &secret, req.now_secs())?;
    ApiKeyStore::open(env)?.put(&key, true).await?;
    record(req, &actor, "api_key.create", &key.id);
    Ok(response::success(
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
    let actor = authorize(req, env, Permission::AccessRead).await?;
    let cursor = req.query("cursor");
    let first_page = cursor.is_none();
    let (keys, next) = ApiKeyStore::open(env)?.list(cursor).await?;
    let grant = actor.grant();
    // A caller sees the keys it covers; the root key heads the root's list.
    let mut shown: Vec<_> = keys
        .iter()
        .filter(|k| grant.covers(&k.grant).is_ok())
        .map(ApiKey::public_json)
        .collect();
    if actor == Principal::Root && first_page {
        shown.insert(0, root_json());
    }
    Ok(response::success(
        200,
        [("api_keys", shown.into()), ("cursor", next.into())],
    ))
}

pub async fn read(req: &Incoming, env: &Env, id: &ApiKeyId) -> Result<Response, Refusal> {
    let actor = authorize(req, env, Permission::AccessRead).await?;
    if id.is_root() {
        actor.grant().covers(&Grant::everything())?;
        return Ok(response::success(200, [("api_key", root_json())]));
    }
    let key = existing(&ApiKeyStore::open(env)?, id).await?;
    actor.grant().covers(&key.grant)?;
    Ok(one(200, &key))
}

pub async fn patch(req: &Incoming, env: &Env, id: &ApiKeyId) -> Result<Response, Refusal> {
    let actor = authorize(req, env, Permission::AccessManage).await?;
    if id.is_root() {
        return Err(Refusal::DenyRootChange);
    }
    let body = read_json(req, MAX_JSON_BODY).await?;
    let store = ApiKeyStore::open(env)?;
    let key = existing(&store, id).await?;
    let changed = key.patch(&body, &actor, req.now_secs())?;
    // Whether the change grants anything the key could not do before.
    let gaining = changed.active && (!key.active || key.grant.covers(&changed.grant).is_err());
    store.put(&changed, gaining).await?;
    record(req, &actor, "api_key.update", id);
    Ok(one(200, &changed))
}

pub async fn delete(req: &Incoming, env: &Env, id: &ApiKeyId) -> Result<Response, Refusal> {
    let actor = authorize(req, env, Permission::AccessManage).await?;
    if id.is_root() {
        return Err(Refusal::DenyRootChange);
    }
    let store = ApiKeyStore::open(env)?;
    let key = existing(&store, id).await?;
    actor.grant().covers(&key.grant)?;
    store.delete(&key).await?;
    record(req, &actor, "api_key.delete", id);
    Ok(response::success(
        200,
        [
            ("hint", "API secret key deleted".into()),
            ("id", id.as_str().into()),
        ],
    ))
}

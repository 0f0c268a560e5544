//! Key issuance and introspection:
//! - `GET /{project}/key/{template}`: no credential, rate-limited per
//!   template and source IP;
//! - `POST /{project}/key`: with an API secret key holding CONFIG_CHANGE, or
//!   attenuating a SASS key holding CONFIG_CHANGE;
//! - `GET /{project}/v5/key/introspect`: what the presented key is and has left.

use serde_json::{Value, json};
use worker::{Env, Response};

use crate::core::attenuate::{attenuate, check_parent, mint_take};
use crate::core::config::Config;
use crate::core::credential::Credential;
use crate::core::credential::{HEADER, Presented};
use crate::core::gateway::check_use;
use crate::core::id::{Project, TemplateId};
use crate::core::introspection::KeyInfo;
use crate::core::key::Verified;
use crate::core::key::{self, Claims};
use crate::core::lineage;
use crate::core::permission::Permission;
use crate::core::query::Query;
use crate::core::refusal::Refusal;
use crate::core::template::KeySpec;
use crate::core::{introspection, issuance};
use crate::shell::body::{MAX_JSON_BODY, read_json};
use crate::shell::gateway::key_state;
use crate::shell::incoming::Incoming;
use crate::shell::{audit, auth, cors, limiter, random, response, settings, template_state};

/// Signs `claims` and answers the key. Nothing is stored: the key's id
/// carries its expiry, which is all a revocation needs.
fn issue(config: &Config, claims: Claims) -> Result<Response, Refusal> {
    let key = key::sign(&claims, config.keyring.signer());
    // The Filerobot widget asks for a new key `expire_duration` ms later.
    let refresh = issuance::refresh_after_ms(claims.expires_at.saturating_sub(claims.issued_at));
    Ok(response::success(
        200,
        [
            ("key", key.into()),
            ("hint", "New key created and ready to use".into()),
            ("debug", Value::Null),
            ("expires_at", claims.expires_at.into()),
            ("key_validity", json!({"expire_duration": refresh})),
        ],
    ))
}

pub async fn from_template(
    req: &Incoming,
    env: &Env,
    project: &Project,
    id: &TemplateId,
) -> Result<Response, Refusal> {
    let config = settings::config(env)?;
    let template = template_state::get(env, project, id, req.now_ms())
        .await?
        .ok_or(Refusal::MissTemplate)?;
    let client = req.client();
    let (limiter_name, take) = issuance::plan(project, &template, &client, req.now_ms())?;
    limiter::take(env, &limiter_name, take).await?;
    let random = random::bytes()?;
    let claims = issuance::claims(
        project,
        Some(&template),
        &template.body.spec,
        random,
        req.now_secs(),
    );
    let answer = issue(&config, claims)?;
    let named = template.body.spec.policy.allowed_origins.is_some();
    Ok(cors::name_origin(
        answer,
        client.origin.as_deref().filter(|_| named),
    ))
}

pub async fn from_body(req: &Incoming, env: &Env, project: &Project) -> Result<Response, Refusal> {
    let config = settings::config(env)?;
    let header = req.header(HEADER);
    let key = match Presented::read(header.as_deref())? {
        Presented::Secret(_) => {
            let actor =
                auth::require(req, env, &config, Some(project), Permission::ConfigChange).await?;
            let spec = KeySpec::from_key_request(read_json(req, MAX_JSON_BODY).await?)?;
            actor.may_give(spec.policy.permissions.set())?;
            let random = random::bytes()?;
            let claims = issuance::claims(project, None, &spec, random, req.now_secs());
            audit::record(
                req.now_secs(),
                actor.id().as_str(),
                "key.mint",
                Some(project.as_str()),
                claims.key_id.as_str(),
            );
            return issue(&config, claims);
        }
        Presented::Sass(key) => key,
    };
    // Attenuation: the presented SASS key must pass the gateway's key checks.
    let parent = auth::check_sass(key, &config, project, req.now_secs())?;
    let state = key_state(env, &parent, req.now_ms()).await?;
    check_parent(&parent, state, &req.client())?;
    let body = read_json(req, MAX_JSON_BODY).await?;
    let claims = attenuate(&parent, body, req.now_secs(), random::bytes()?)?;
    let (name, take) = mint_take(&parent, &req.client(), req.now_ms());
    limiter::take(env, &name, take).await?;
    issue(&config, claims)
}

pub async fn introspect(req: &Incoming, env: &Env, project: &Project) -> Result<Response, Refusal> {
    let config = settings::config(env)?;
    let header = req.header(HEADER);
    let Presented::Sass(presented) = Presented::read(header.as_deref())? else {
        return Err(Refusal::RejectKey {
            reason: "introspection needs the SASS key itself",
        });
    };
    let key = auth::check_sass(presented, &config, project, req.now_secs())?;
    check_use(
        &key,
        key_state(env, &key, req.now_ms()).await?,
        &req.client(),
    )?;
    let counters = introspection::counters(&key, &req.client());
    let states = if counters.is_empty() {
        Vec::new()
    } else {
        let names = counters.iter().map(|(c, _)| c.clone()).collect();
        limiter::peek(env, &lineage::limiter(&key.lineage, &key.key_id), names).await?
    };
    let report = introspection::report(&key, &counters, &states, req.now_ms());
    Ok(response::success_of(200, &report))
}

/// The SASS key a Filerobot call presents outside its headers (in `?key=`),
/// checked as any call made with it: steps 1 to 6.
async fn key_in_query(req: &Incoming, env: &Env, project: &Project) -> Result<Verified, Refusal> {
    let config = settings::config(env)?;
    let query = Query::parse(req.query_string())?;
    let presented = query.one(&["key"])?.ok_or(Refusal::RejectKey {
        reason: "no key was sent in the key query parameter",
    })?;
    if !presented.starts_with("SASS__") {
        return Err(Refusal::RejectKey {
            reason: "the key query parameter must hold a SASS key",
        });
    }
    let key = auth::check_sass(presented, &config, project, req.now_secs())?;
    check_use(
        &key,
        key_state(env, &key, req.now_ms()).await?,
        &req.client(),
    )?;
    Ok(key)
}

/// `GET /{project}/v4/key/info?key=`: Filerobot's key check, which the
/// widget reads its permissions from.
pub async fn key_info(req: &Incoming, env: &Env, project: &Project) -> Result<Response, Refusal> {
    let key = key_in_query(req, env, project).await?;
    let named = key.policy.allowed_origins.is_some();
    let client = req.client();
    Ok(cors::name_origin(
        response::success_of(200, &KeyInfo::of(&key)),
        client.origin.as_deref().filter(|_| named),
    ))
}

/// `GET /{project}/v4/meta/model/fields`: the metadata model, which has no
/// fields here. Filerobot's Python SDK calls it to check its credentials, so
/// it answers 200 only to a credential any other call would accept.
pub async fn meta_fields(
    req: &Incoming,
    env: &Env,
    project: &Project,
) -> Result<Response, Refusal> {
    let config = settings::config(env)?;
    if let Credential::Sass(key) = auth::credential(req, env, &config, project).await? {
        check_use(
            &key,
            key_state(env, &key, req.now_ms()).await?,
            &req.client(),
        )?;
    }
    Ok(response::success(
        200,
        [("fields", Value::Array(Vec::new()))],
    ))
}

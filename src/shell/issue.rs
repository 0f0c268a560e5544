//! Key issuance and introspection:
//! - `GET /{project}/key/{template}`: no credential, rate-limited per
//!   template and source IP;
//! - `POST /{project}/key`: with an API secret key holding CONFIG_CHANGE, or
//!   attenuating a SASS key holding CONFIG_CHANGE;
//! - `GET /{project}/v5/key/introspect`: what the presented key is and has left.

use worker::{Context, Env, Response};

use crate::core::attenuate::attenuate;
use crate::core::config::Config;
use crate::core::counter::{Limit, Take};
use crate::core::gateway::{
    Client, check_key, check_origin, check_place, limiter_name, listing_counters, upload_counters,
};
use crate::core::json::{self, Map, Value};
use crate::core::key::{self, Claims, new_key_id};
use crate::core::permission::Permission;
use crate::core::refusal::Refusal;
use crate::core::restriction::counting_name;
use crate::core::template::KeySpec;
use crate::shell::auth::NO_KEY;
use crate::shell::gateway::{client, key_state};
use crate::shell::http::{self, KEY_HEADER, MAX_JSON_BODY};
use crate::shell::incoming::Incoming;
use crate::shell::{auth, limiter, revocation, settings, template_state};

const MINUTE_MS: u64 = 60_000;

/// Signs `claims`, registers the key (after answering) so that it can be
/// revoked by id, and answers it.
fn issue(env: &Env, ctx: &Context, config: &Config, claims: Claims) -> Result<Response, Refusal> {
    let key = key::sign(&claims, config.keyring.signer());
    let (env, registered) = (env.clone(), claims.clone());
    ctx.wait_until(async move {
        if let Err(e) = revocation::register(&env, &registered).await {
            worker::console_error!(
                "could not register key {}: {}",
                registered.key_id,
                e.message()
            );
        }
    });
    Ok(http::success(
        200,
        [
            ("key", key.into()),
            ("hint", "New key created and ready to use".into()),
            ("debug", Value::Null),
            ("expires_at", claims.expires_at.into()),
        ],
    ))
}

fn claims_from(project: &str, template: Option<String>, spec: KeySpec) -> Result<Claims, Refusal> {
    let now = http::now_secs();
    Ok(Claims {
        project: project.to_string(),
        template,
        key_id: new_key_id(http::random16()?),
        issued_at: now,
        expires_at: now + spec.expiration,
        policy: spec.policy,
        lineage: Vec::new(),
    })
}

pub async fn from_template(
    req: &Incoming,
    env: &Env,
    ctx: &Context,
    project: &str,
    id: &str,
) -> Result<Response, Refusal> {
    let config = settings::config(env)?;
    let template = template_state::get(env, project, id)
        .await?
        .ok_or(Refusal::MissTemplate)?;
    if !template.body.active {
        return Err(Refusal::DenyInactiveTemplate);
    }
    let client = client(req);
    check_origin(&template.body.spec.policy, &client)?;
    let take = Take {
        counters: vec![(
            "issue".into(),
            Limit::Window {
                limit: template.body.issue_limit_per_min,
                window_ms: MINUTE_MS,
            },
        )],
        keep_until: http::now_ms() + MINUTE_MS,
    };
    let object = format!("issue/{project}/{id}/{}", counting_name(client.ip));
    limiter::take(env, &object, &take).await?;
    let named = template.body.spec.policy.allowed_origins.is_some();
    let claims = claims_from(
        project,
        Some(template.id.clone()),
        template.body.spec.clone(),
    )?;
    let response = issue(env, ctx, &config, claims)?;
    Ok(http::name_origin(
        response,
        client.origin.as_deref().filter(|_| named),
    ))
}

pub async fn from_body(
    req: &Incoming,
    env: &Env,
    ctx: &Context,
    project: &str,
) -> Result<Response, Refusal> {
    let config = settings::config(env)?;
    let presented = req.header(KEY_HEADER).ok_or(NO_KEY)?;
    if !presented.starts_with("SASS__") {
        let actor =
            auth::require(req, env, &config, Some(project), Permission::ConfigChange).await?;
        let spec = KeySpec::from_key_request(&http::read_json(req, MAX_JSON_BODY).await?)?;
        let claims = claims_from(project, None, spec)?;
        crate::shell::audit::record(actor.id(), "key.mint", Some(project), &claims.key_id);
        return issue(env, ctx, &config, claims);
    }
    // Attenuation: the presented SASS key must pass the gateway's key checks.
    let now = http::now_secs();
    let parent = check_key(&presented, &config.keyring, project, now)?;
    key_state(env, project, &parent).await?.check()?;
    check_place(&parent, &client(req))?;
    if !parent.policy.permissions.contains(Permission::ConfigChange) {
        return Err(Refusal::DenyPermission {
            permission: Permission::ConfigChange,
        });
    }
    let body = http::read_json(req, MAX_JSON_BODY).await?;
    let claims = attenuate(&parent, &body, now, new_key_id(http::random16()?))?;
    issue(env, ctx, &config, claims)
}

pub async fn introspect(req: &Incoming, env: &Env, project: &str) -> Result<Response, Refusal> {
    let config = settings::config(env)?;
    let presented = req.header(KEY_HEADER).ok_or(NO_KEY)?;
    let now_ms = http::now_ms();
    let claims = check_key(&presented, &config.keyring, project, now_ms / 1000)?;
    key_state(env, project, &claims).await?.check()?;
    let client: Client = client(req);
    let mut counters: Vec<(String, Limit)> = upload_counters(&claims, &client);
    counters.extend(listing_counters(&claims));
    let states = if counters.is_empty() {
        Vec::new()
    } else {
        let names = counters.iter().map(|(n, _)| n.clone()).collect();
        limiter::peek(env, &limiter_name(&claims), names).await?
    };
    let mut remaining = Map::new();
    for ((name, limit), state) in counters.iter().zip(&states) {
        let (field, limit_value) = match limit {
            Limit::Window { limit, .. } => (name.as_str(), u64::from(*limit)),
            Limit::Total { limit } => (name.split(' ').next().unwrap_or(name), *limit),
        };
        remaining.insert(
            field.to_string(),
            json::object([
                ("limit", limit_value.into()),
                ("remaining", limit.remaining(state, now_ms).into()),
            ]),
        );
    }
    Ok(http::success(
        200,
        [
            ("claims", claims.to_json()),
            ("expires_at", claims.expires_at.into()),
            ("seconds_left", claims.seconds_left(now_ms / 1000).into()),
            ("counters", remaining.into()),
        ],
    ))
}

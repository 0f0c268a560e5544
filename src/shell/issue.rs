//! Key issuance: `GET /{project}/key/{template}` (no credential, rate-limited
//! per template and source IP) and `POST /{project}/key` (API secret key).

use serde_json::json;
use worker::{Env, Request, Response};

use crate::core::config::Config;
use crate::core::counter::{Limit, Take};
use crate::core::key::{self, Claims, new_key_id};
use crate::core::permission::Permission;
use crate::core::refusal::Refusal;
use crate::core::restriction::{client_ip, counting_name};
use crate::core::template::KeySpec;
use crate::shell::http::{self, MAX_JSON_BODY};
use crate::shell::template_store::TemplateStore;
use crate::shell::{auth, limiter, settings};

const MINUTE_MS: u64 = 60_000;

fn signed(
    config: &Config,
    project: &str,
    template: Option<String>,
    spec: KeySpec,
) -> Result<Response, Refusal> {
    let now = http::now_secs();
    let claims = Claims {
        project: project.to_string(),
        template,
        key_id: new_key_id(http::random16()?),
        issued_at: now,
        expires_at: now + spec.expiration,
        policy: spec.policy,
    };
    Ok(http::json(
        200,
        &json!({
            "status": "success",
            "key": key::sign(&claims, config.keyring.signer()),
            "hint": "New key created and ready to use",
            "debug": null,
            "expires_at": claims.expires_at,
        }),
    ))
}

pub async fn from_template(
    req: &Request,
    env: &Env,
    project: &str,
    id: &str,
) -> Result<Response, Refusal> {
    let config = settings::config(env)?;
    let template = TemplateStore::open(env)?
        .get(project, id)
        .await?
        .ok_or(Refusal::MissTemplate)?;
    if !template.body.active {
        return Err(Refusal::DenyInactiveTemplate);
    }
    let ip = client_ip(http::header(req, "CF-Connecting-IP").as_deref());
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
    let object = format!("issue/{project}/{id}/{}", counting_name(ip));
    limiter::take(env, &object, &take).await?;
    signed(&config, project, Some(template.id), template.body.spec)
}

pub async fn from_body(mut req: Request, env: &Env, project: &str) -> Result<Response, Refusal> {
    let config = settings::config(env)?;
    auth::require(&req, &config, project, Permission::ConfigChange)?;
    let spec = KeySpec::from_key_request(&http::read_json(&mut req, MAX_JSON_BODY).await?)?;
    signed(&config, project, None, spec)
}

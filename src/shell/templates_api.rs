//! The security-template admin API: `/{project}/v5/security-templates[/{id}]`.

use worker::{Env, Response};

use crate::core::api_key::Principal;
use crate::core::permission::Permission;
use crate::core::refusal::Refusal;
use crate::core::template::{Template, TemplateBody, new_template_id};
use crate::shell::http::{self, MAX_JSON_BODY};
use crate::shell::incoming::Incoming;
use crate::shell::template_store::TemplateStore;
use crate::shell::{audit, auth, settings, template_state};

async fn authorize(
    req: &Incoming,
    env: &Env,
    project: &str,
    permission: Permission,
) -> Result<Principal, Refusal> {
    let config = settings::config(env)?;
    auth::require(req, env, &config, Some(project), permission).await
}

fn one(status: u16, template: &Template) -> Response {
    http::success(status, [("template", template.to_json())])
}

async fn existing(store: &TemplateStore, project: &str, id: &str) -> Result<Template, Refusal> {
    store.get(project, id).await?.ok_or(Refusal::MissTemplate)
}

pub async fn create(req: &Incoming, env: &Env, project: &str) -> Result<Response, Refusal> {
    let actor = authorize(req, env, project, Permission::ConfigChange).await?;
    let body = TemplateBody::from_json(&http::read_json(req, MAX_JSON_BODY).await?)?;
    let template = Template::create(new_template_id(http::random16()?), body, http::now_secs());
    TemplateStore::open(env)?.put(project, &template).await?;
    audit::record(actor.id(), "template.create", Some(project), &template.id);
    Ok(one(201, &template))
}

pub async fn list(req: &Incoming, env: &Env, project: &str) -> Result<Response, Refusal> {
    authorize(req, env, project, Permission::ConfigList).await?;
    let cursor = http::query(req, "cursor");
    let (templates, next) = TemplateStore::open(env)?.list(project, cursor).await?;
    let templates: Vec<_> = templates.iter().map(Template::to_json).collect();
    Ok(http::success(
        200,
        [("templates", templates.into()), ("cursor", next.into())],
    ))
}

pub async fn read(req: &Incoming, env: &Env, project: &str, id: &str) -> Result<Response, Refusal> {
    authorize(req, env, project, Permission::ConfigList).await?;
    let template = existing(&TemplateStore::open(env)?, project, id).await?;
    Ok(one(200, &template))
}

pub async fn patch(
    req: &Incoming,
    env: &Env,
    project: &str,
    id: &str,
) -> Result<Response, Refusal> {
    let actor = authorize(req, env, project, Permission::ConfigChange).await?;
    let patch = http::read_json(req, MAX_JSON_BODY).await?;
    let store = TemplateStore::open(env)?;
    let updated = existing(&store, project, id)
        .await?
        .patch(&patch, http::now_secs())?;
    store.put(project, &updated).await?;
    template_state::forget(project, id);
    audit::record(actor.id(), "template.update", Some(project), id);
    Ok(one(200, &updated))
}

pub async fn delete(
    req: &Incoming,
    env: &Env,
    project: &str,
    id: &str,
) -> Result<Response, Refusal> {
    let actor = authorize(req, env, project, Permission::ConfigChange).await?;
    let store = TemplateStore::open(env)?;
    existing(&store, project, id).await?;
    store.delete(project, id).await?;
    template_state::forget(project, id);
    audit::record(actor.id(), "template.delete", Some(project), id);
    Ok(http::success(
        200,
        [
            ("hint", "Security template deleted".into()),
            ("id", id.into()),
        ],
    ))
}

//! The security-template admin API: `/{project}/v5/security-templates[/{id}]`.

use worker::{Env, Response};

use crate::core::api_key::Principal;
use crate::core::id::{Project, TemplateId};
use crate::core::permission::Permission;
use crate::core::refusal::Refusal;
use crate::core::template::{BulkStatus, Template, TemplateBody};
use crate::shell::body::{MAX_JSON_BODY, read_json};
use crate::shell::incoming::Incoming;
use crate::shell::template_store::TemplateStore;
use crate::shell::{audit, auth, random, response, settings, template_state};

async fn authorize(
    req: &Incoming,
    env: &Env,
    project: &Project,
    permission: Permission,
) -> Result<Principal, Refusal> {
    let config = settings::config(env)?;
    auth::require(req, env, &config, Some(project), permission).await
}

fn one(status: u16, template: &Template) -> Response {
    response::success(status, [("template", template.to_json())])
}

async fn existing(
    store: &TemplateStore,
    project: &Project,
    id: &TemplateId,
) -> Result<Template, Refusal> {
    store
        .get(project, id, false)
        .await?
        .ok_or(Refusal::MissTemplate)
}

fn record(req: &Incoming, actor: &Principal, action: &str, project: &Project, id: &TemplateId) {
    audit::record(
        req.now_secs(),
        actor.id().as_str(),
        action,
        Some(project.as_str()),
        id.as_str(),
    );
}

pub async fn create(req: &Incoming, env: &Env, project: &Project) -> Result<Response, Refusal> {
    let actor = authorize(req, env, project, Permission::ConfigChange).await?;
    let body = TemplateBody::from_json(read_json(req, MAX_JSON_BODY).await?)?;
    actor.may_give(body.spec.policy.permissions.set())?;
    let template = Template::create(TemplateId::new(random::bytes()?), body, req.now_secs());
    TemplateStore::open(env)?.put(project, &template).await?;
    record(req, &actor, "template.create", project, &template.id);
    Ok(one(201, &template))
}

pub async fn list(req: &Incoming, env: &Env, project: &Project) -> Result<Response, Refusal> {
    authorize(req, env, project, Permission::ConfigList).await?;
    let (templates, next) = TemplateStore::open(env)?
        .list(project, req.query("cursor"))
        .await?;
    let templates: Vec<_> = templates.iter().map(Template::to_json).collect();
    Ok(response::success(
        200,
        [("templates", templates.into()), ("cursor", next.into())],
    ))
}

pub async fn read(
    req: &Incoming,
    env: &Env,
    project: &Project,
    id: &TemplateId,
) -> Result<Response, Refusal> {
    authorize(req, env, project, Permission::ConfigList).await?;
    let template = existing(&TemplateStore::open(env)?, project, id).await?;
    Ok(one(200, &template))
}

pub async fn patch(
    req: &Incoming,
    env: &Env,
    project: &Project,
    id: &TemplateId,
) -> Result<Response, Refusal> {
    let actor = authorize(req, env, project, Permission::ConfigChange).await?;
    let patch = read_json(req, MAX_JSON_BODY).await?;
    let store = TemplateStore::open(env)?;
    let updated = existing(&store, project, id)
        .await?
        .patch(&patch, req.now_secs())?;
    actor.may_give(updated.body.spec.policy.permissions.set())?;
    store.put(project, &updated).await?;
    template_state::forget(project, id);
    record(req, &actor, "template.update", project, id);
    Ok(one(200, &updated))
}

pub async fn delete(
    req: &Incoming,
    env: &Env,
    project: &Project,
    id: &TemplateId,
) -> Result<Response, Refusal> {
    let actor = authorize(req, env, project, Permission::ConfigChange).await?;
    let store = TemplateStore::open(env)?;
    existing(&store, project, id).await?;
    store.delete(project, id).await?;
    template_state::forget(project, id);
    record(req, &actor, "template.delete", project, id);
    Ok(response::success(
        200,
        [
            ("hint", "Security template deleted".into()),
            ("id", id.as_str().into()),
        ],
    ))
}

/// `PATCH /{project}/v5/security-templates` with `{"ids": [...], "active"}`:
/// every template changes, or none (an unknown id changes nothing).
pub async fn patch_many(req: &Incoming, env: &Env, project: &Project) -> Result<Response, Refusal> {
    let actor = authorize(req, env, project, Permission::ConfigChange).await?;
    let bulk = BulkStatus::read(read_json(req, MAX_JSON_BODY).await?)?;
    let store = TemplateStore::open(env)?;
    let mut before = Vec::with_capacity(bulk.ids.len());
    for id in &bulk.ids {
        let template = existing(&store, project, id).await?;
        // Deactivating only takes away; activating gives keys back their
        // permissions, which the caller must hold.
        if bulk.active {
            actor.may_give(template.body.spec.policy.permissions.set())?;
        }
        before.push(template);
    }
    let mut written: Vec<&Template> = Vec::new();
    let mut after = Vec::with_capacity(before.len());
    for template in &before {
        let changed =
            template.patch(&serde_json::json!({"active": bulk.active}), req.now_secs())?;
        if let Err(e) = store.put(project, &changed).await {
            // All or none: put back what was already written.
            for old in written {
                let _ = store.put(project, old).await;
                template_state::forget(project, &old.id);
            }
            return Err(e);
        }
        template_state::forget(project, &template.id);
        written.push(template);
        after.push(changed);
    }
    for template in &after {
        record(req, &actor, "template.update", project, &template.id);
    }
    let shown: Vec<_> = after.iter().map(Template::to_json).collect();
    Ok(response::success(200, [("templates", shown.into())]))
}

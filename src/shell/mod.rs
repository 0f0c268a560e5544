//! The Workers shell: routing, KV, Durable Objects, R2, origin fetch, and
//! refusals mapped to HTTP. Every decision is made by `crate::core`; this
//! only does the I/O.

mod api_key_store;
mod api_keys_api;
mod assets;
mod audit;
mod auth;
mod body;
mod clock;
mod cors;
mod fetched;
mod filerobot;
mod files;
mod gateway;
mod incoming;
mod issue;
mod kv;
mod limiter;
mod origin;
mod random;
mod relay;
mod response;
mod revocation;
mod settings;
mod storage;
mod template_state;
mod template_store;
mod templates_api;

use worker::{Context, Env, Response, Result, event, web_sys};

use crate::core::refusal::Refusal;
use crate::core::route::{Route, route};
use crate::shell::incoming::Incoming;

#[event(fetch)]
pub async fn fetch(req: web_sys::Request, env: Env, _ctx: Context) -> Result<Response> {
    Ok(response::finish(dispatch(&Incoming::new(req), &env).await))
}

async fn dispatch(req: &Incoming, env: &Env) -> std::result::Result<Response, Refusal> {
    match route(req.method(), req.path())? {
        Route::Preflight => cors::preflight(),
        Route::OpenApi => assets::openapi(env).await,
        Route::ListApiKeys => api_keys_api::list(req, env).await,
        Route::CreateApiKey => api_keys_api::create(req, env).await,
        Route::ReadApiKey { id } => api_keys_api::read(req, env, &id).await,
        Route::PatchApiKey { id } => api_keys_api::patch(req, env, &id).await,
        Route::DeleteApiKey { id } => api_keys_api::delete(req, env, &id).await,
        Route::RevokeKey { project, key_id } => {
            revocation::handle(req, env, &project, &key_id).await
        }
        Route::Introspect { project } => issue::introspect(req, env, &project).await,
        Route::Demo { .. } => assets::page(env).await,
        Route::IssueKey { project, template } => {
            issue::from_template(req, env, &project, &template).await
        }
        Route::MintKey { project } => issue::from_body(req, env, &project).await,
        Route::ListTemplates { project } => templates_api::list(req, env, &project).await,
        Route::CreateTemplate { project } => templates_api::create(req, env, &project).await,
        Route::ReadTemplate { project, id } => templates_api::read(req, env, &project, &id).await,
        Route::PatchTemplate { project, id } => templates_api::patch(req, env, &project, &id).await,
        Route::DeleteTemplate { project, id } => {
            templates_api::delete(req, env, &project, &id).await
        }
        Route::Storage { project, call, at } => gateway::handle(req, env, &project, call, at).await,
        Route::KeyInfo { project } => issue::key_info(req, env, &project).await,
        Route::MetaFields { project } => issue::meta_fields(req, env, &project).await,
        Route::PatchTemplates { project } => templates_api::patch_many(req, env, &project).await,
    }
}

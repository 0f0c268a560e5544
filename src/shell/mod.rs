//! The Workers shell: routing, KV, Durable Objects, and refusals mapped to
//! HTTP. Every decision is made by `crate::core`; this only does the I/O.

mod auth;
mod gateway;
mod http;
mod issue;
mod limiter;
mod origin;
mod settings;
mod storage;
mod template_state;
mod template_store;
mod templates_api;

use worker::{Context, Env, Request, Response, Result, event};

use crate::core::refusal::Refusal;
use crate::core::route::{Route, route};

#[event(fetch)]
pub async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    Ok(http::finish(dispatch(req, &env).await))
}

async fn dispatch(req: Request, env: &Env) -> std::result::Result<Response, Refusal> {
    let method = req.method();
    match route(method.as_ref(), &req.path())? {
        Route::Preflight => http::preflight(),
        Route::IssueKey { project, template } => {
            issue::from_template(&req, env, &project, &template).await
        }
        Route::MintKey { project } => issue::from_body(req, env, &project).await,
        Route::ListTemplates { project } => templates_api::list(&req, env, &project).await,
        Route::CreateTemplate { project } => templates_api::create(req, env, &project).await,
        Route::ReadTemplate { project, id } => templates_api::read(&req, env, &project, &id).await,
        Route::PatchTemplate { project, id } => templates_api::patch(req, env, &project, &id).await,
        Route::DeleteTemplate { project, id } => {
            templates_api::delete(&req, env, &project, &id).await
        }
        Route::Storage {
            project,
            verb,
            path,
        } => gateway::handle(req, env, &project, verb, path).await,
    }
}

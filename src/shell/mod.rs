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
        Route::OpenApi => boxed(assets::openapi(env)).await,
        Route::ListApiKeys => boxed(api_keys_api::list(req, env)).await,
        Route::CreateApiKey => boxed(api_keys_api::create(req, env)).await,
        Route::ReadApiKey { id } => boxed(api_keys_api::read(req, env, &id)).await,
        Route::PatchApiKey { id } => boxed(api_keys_api::patch(req, env, &id)).await,
        Route::DeleteApiKey { id } => boxed(api_keys_api::delete(req, env, &id)).await,
        Route::RevokeKey { project, key_id } => {
            boxed(revocation::handle(req, env, &project, &key_id)).await
        }
        Route::Introspect { project } => boxed(issue::introspect(req, env, &project)).await,
        Route::Demo { .. } => boxed(assets::page(env)).await,
        Route::IssueKey { project, template } => {
            boxed(issue::from_template(req, env, &project, &template)).await
        }
        Route::MintKey { project } => boxed(issue::from_body(req, env, &project)).await,
        Route::ListTemplates { project } => boxed(templates_api::list(req, env, &project)).await,
        Route::CreateTemplate { project } => boxed(templates_api::create(req, env, &project)).await,
        Route::ReadTemplate { project, id } => {
            boxed(templates_api::read(req, env, &project, &id)).await
        }
        Route::PatchTemplate { project, id } => {
            boxed(templates_api::patch(req, env, &project, &id)).await
        }
        Route::DeleteTemplate { project, id } => {
            boxed(templates_api::delete(req, env, &project, &id)).await
        }
        Route::Storage { project, call, at } => {
            boxed(gateway::handle(req, env, &project, call, at)).await
        }
        Route::KeyInfo { project } => boxed(issue::key_info(req, env, &project)).await,
        Route::MetaFields { project } => boxed(issue::meta_fields(req, env, &project)).await,
        Route::PatchTemplates { project } => {
            boxed(templates_api::patch_many(req, env, &project)).await
        }
    }
}

/// A route's handler as a future of its own: its state machine gets its own
/// poll function instead of being inlined into `dispatch`'s. workerd compiles
/// a wasm function the first time it runs, and inlined, `dispatch` was one
/// 39 KB function that an isolate's first request compiled whatever its
/// route. Measured (`node bench/cold.mjs`, workerd's own trace spans, median
/// of 25): the first request of a fresh isolate took 11.3 ms before, 7.2 ms
/// after (the no-op's: 5.4 ms), for 2.6 KB more gzip and one allocation.
fn boxed<'a, T>(
    f: impl std::future::Future<Output = T> + 'a,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = T> + 'a>> {
    Box::pin(f)
}

//! Documents served from the Workers static assets in `public/` (kept out of
//! the wasm bundle): the OpenAPI description, and the demo upload page,
//! `GET /{project}/demo/{template}`, served only when the `DEMO` variable is
//! set (it is in `.dev.vars`, not in production). The page reads the project
//! and template from its own path.

use worker::{Env, Response, console_error};

use crate::core::refusal::Refusal;
use crate::shell::response;

/// The static assets binding.
pub const BINDING: &str = "ASSETS";

fn enabled(env: &Env) -> bool {
    env.var("DEMO")
        .map(|v| v.to_string())
        .or_else(|_| env.secret("DEMO").map(|v| v.to_string()))
        .is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes"))
}

async fn asset(env: &Env, path: &str) -> Result<Response, Refusal> {
    let assets = env
        .assets(BINDING)
        .map_err(|e| response::internal("assets binding", e))?;
    let response = assets
        .fetch(format!("https://assets{path}"), None)
        .await
        .map_err(|e| response::internal("assets fetch", e))?;
    if response.status_code() != 200 {
        console_error!("asset {path} answered {}", response.status_code());
        return Err(Refusal::Internal);
    }
    Ok(response::rebuild(response))
}

/// `GET /openapi.json`.
pub async fn openapi(env: &Env) -> Result<Response, Refusal> {
    let mut response = asset(env, "/openapi.json").await?;
    let _ = response
        .headers_mut()
        .set("Content-Type", "application/json; charset=utf-8");
    Ok(response)
}

/// `GET /{project}/demo/{template}`.
pub async fn page(env: &Env) -> Result<Response, Refusal> {
    if !enabled(env) {
        return Err(Refusal::MissRoute);
    }
    let mut response = asset(env, "/demo.html").await?;
    let headers = response.headers_mut();
    let _ = headers.set("Content-Type", "text/html; charset=utf-8");
    let _ = headers.set(
        "Content-Security-Policy",
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
    );
    Ok(response)
}

//! The demo upload page, `GET /{project}/demo/{template}`: served only when
//! the `DEMO` variable is set (it is in `.dev.vars`, not in production).
//! The page reads the project and template from its own path.

use worker::{Env, Headers, Response, ResponseBuilder};

use crate::core::refusal::Refusal;

const PAGE: &str = include_str!("demo.html");

fn enabled(env: &Env) -> bool {
    env.var("DEMO")
        .map(|v| v.to_string())
        .or_else(|_| env.secret("DEMO").map(|v| v.to_string()))
        .is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes"))
}

pub fn page(env: &Env) -> Result<Response, Refusal> {
    if !enabled(env) {
        return Err(Refusal::MissRoute);
    }
    let headers = Headers::new();
    let _ = headers.set("Content-Type", "text/html; charset=utf-8");
    let _ = headers.set(
        "Content-Security-Policy",
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
    );
    Ok(ResponseBuilder::new()
        .with_headers(headers)
        .fixed(PAGE.as_bytes().to_vec()))
}

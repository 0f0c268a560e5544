//! Origin mode: a request that passed the gateway is forwarded to
//! `ORIGIN_URL`, path, query and body unchanged, with `X-Filerobot-Key`
//! removed and the signed `X-Sass-*` headers of `core::origin` added.

use wasm_bindgen::JsValue;
use worker::{Fetch, Headers, Request, RequestInit, Response, console_error};

use crate::core::origin::{Origin, Verified};
use crate::core::refusal::Refusal;
use crate::shell::http;
use crate::shell::incoming::Incoming;

/// Request headers never forwarded: the credential, the platform's own, and
/// hop-by-hop ones.
fn forwarded(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    !(name == "x-filerobot-key"
        || name == "host"
        || name == "content-length"
        || name == "connection"
        || name == "x-forwarded-for"
        || name == "x-real-ip"
        || name.starts_with("cf-")
        || name.starts_with("x-sass-"))
}

/// Forwards `req` to `origin`. `body` replaces the request's body when the
/// gateway had to read it (move and meta calls).
pub async fn forward(
    req: &Incoming,
    origin: &Origin,
    verified: &Verified<'_>,
    body: Option<String>,
) -> Result<Response, Refusal> {
    let headers = Headers::new();
    for (name, value) in req.headers().entries() {
        if forwarded(&name) {
            let _ = headers.set(&name, &value);
        }
    }
    for (name, value) in verified.headers(&origin.key) {
        let _ = headers.set(name, &value);
    }
    let mut init = RequestInit::new();
    init.with_method(req.method()).with_headers(headers);
    match body {
        Some(text) => {
            init.with_body(Some(JsValue::from_str(&text)));
        }
        None => {
            init.with_body(req.raw().body().map(JsValue::from));
        }
    }
    let url = format!("{}{}", origin.url, verified.path_and_query);
    let outgoing = Request::new_with_init(&url, &init).map_err(|e| {
        console_error!("origin request could not be built: {e}");
        Refusal::OriginDown
    })?;
    let answer = Fetch::Request(outgoing).send().await.map_err(|e| {
        console_error!("origin fetch failed: {e}");
        Refusal::OriginDown
    })?;
    Ok(http::rebuild(answer))
}

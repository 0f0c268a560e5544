//! Origin mode: a request that passed the gateway is forwarded to
//! `ORIGIN_URL`, with `X-Filerobot-Key` removed and the signed `X-Sass-*`
//! headers of `core::origin` added, through the platform's `fetch`.

use wasm_bindgen::JsValue;
use worker::{
    Fetch, Headers, Method, Request, RequestInit, RequestRedirect, Response, console_error,
};

use crate::core::origin::{Origin, Verified, forwards_header};
use crate::core::refusal::Refusal;
use crate::shell::incoming::Incoming;
use crate::shell::response;

fn down(context: &str, e: impl std::fmt::Display) -> Refusal {
    console_error!("origin {context} failed: {e}");
    Refusal::OriginDown
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
    for (name, value) in Headers(req.raw().headers()).entries() {
        if forwards_header(&name) {
            let _ = headers.append(&name, &value);
        }
    }
    for (name, value) in verified.headers(&origin.key) {
        let _ = headers.set(name, &value);
    }
    let body = match body {
        Some(text) => Some(JsValue::from_str(&text)),
        None => req.raw().body().map(JsValue::from),
    };
    let mut init = RequestInit::new();
    init.with_method(Method::from(req.method().to_string()))
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual)
        .with_body(body);
    let url = format!("{}{}", origin.url, verified.path_and_query);
    let outgoing = Request::new_with_init(&url, &init).map_err(|e| down("request", e))?;
    let answer = Fetch::Request(outgoing)
        .send()
        .await
        .map_err(|e| down("fetch", e))?;
    Ok(response::rebuild(answer))
}

//! Origin mode: a request that passed the gateway is forwarded to
//! `ORIGIN_URL`, path, query and body unchanged, with `X-Filerobot-Key`
//! removed and the signed `X-Sass-*` headers of `core::origin` added.
//!
//! Built with the platform's own `Request`, `Headers` and `fetch`: the
//! request's headers are copied in one call and the few that must not go
//! are deleted, rather than copied one by one.

use wasm_bindgen::prelude::*;
use worker::js_sys::Promise;
use worker::{Response, console_error, web_sys};

use crate::core::origin::{Origin, Verified, forwards_header};
use crate::core::refusal::Refusal;
use crate::shell::http;
use crate::shell::incoming::Incoming;
use crate::shell::js;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch, catch)]
    fn global_fetch(request: &web_sys::Request) -> Result<Promise, JsValue>;
}

fn down(context: &str, e: &JsValue) -> Refusal {
    console_error!("origin {context} failed: {e:?}");
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
    let headers = web_sys::Headers::new_with_headers(&req.raw().headers())
        .map_err(|e| down("headers", &e))?;
    let dropped: Vec<String> = headers
        .keys()
        .into_iter()
        .filter_map(|name| name.ok()?.as_string())
        .filter(|name| !forwards_header(name))
        .collect();
    for name in dropped {
        let _ = headers.delete(&name);
    }
    for (name, value) in verified.headers(&origin.key) {
        let _ = headers.set(name, &value);
    }
    let init = web_sys::RequestInit::new();
    init.set_method(req.method());
    init.set_headers(&headers);
    match body {
        Some(text) => init.set_body(&JsValue::from_str(&text)),
        None => {
            if let Some(stream) = req.raw().body() {
                init.set_body(&stream);
            }
        }
    }
    let url = format!("{}{}", origin.url, verified.path_and_query);
    let outgoing =
        web_sys::Request::new_with_str_and_init(&url, &init).map_err(|e| down("request", &e))?;
    let answer: web_sys::Response = js::settle(global_fetch(&outgoing))
        .await
        .map_err(|e| down("fetch", &e))?
        .unchecked_into();
    Ok(http::rebuild(answer.into()))
}

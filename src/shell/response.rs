//! Answers: JSON successes, refusals as `{"status":"error","code","msg","hint"}`
//! with their status and headers, and answers from elsewhere (an origin, the
//! assets) passed through with the CORS headers.

use serde::Serialize;
use serde_json::{Map, Value};
use worker::{Headers, Response, ResponseBuilder, console_error, web_sys};

use crate::core::refusal::Refusal;
use crate::shell::cors;

/// Logs `detail` and returns the opaque refusal sent to the client.
pub fn internal(context: &str, detail: impl std::fmt::Display) -> Refusal {
    console_error!("internal error in {context}: {detail}");
    Refusal::Internal
}

/// A success answer: `{"status":"success", …fields}`.
pub fn success<const N: usize>(status: u16, fields: [(&str, Value); N]) -> Response {
    let mut body = Map::new();
    body.insert("status".into(), "success".into());
    for (name, value) in fields {
        body.insert(name.into(), value);
    }
    json(status, &body)
}

/// A success answer with the fields of `fields` (a struct or a map):
/// `{"status":"success", …}`.
pub fn success_of(status: u16, fields: &impl Serialize) -> Response {
    #[derive(Serialize)]
    struct Success<'a, T> {
        status: &'static str,
        #[serde(flatten)]
        fields: &'a T,
    }
    json(
        status,
        &Success {
            status: "success",
            fields,
        },
    )
}

fn json_with(status: u16, value: &impl Serialize, headers: Headers) -> Response {
    let _ = headers.set("Content-Type", "application/json; charset=utf-8");
    // Our answers hold only strings, numbers, lists and maps: writing them
    // cannot fail.
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    ResponseBuilder::new()
        .with_status(status)
        .with_headers(headers)
        .fixed(bytes)
}

pub fn json(status: u16, value: &impl Serialize) -> Response {
    json_with(status, value, cors::headers())
}

fn refusal(r: &Refusal) -> Response {
    let headers = cors::headers();
    if let Some(secs) = r.retry_after() {
        let _ = headers.set("Retry-After", &secs.to_string());
    }
    if let Some(allow) = r.allow() {
        let _ = headers.set("Allow", allow);
    }
    json_with(r.status(), &r.body(), headers)
}

/// The response sent for `result`: a refusal becomes its JSON error.
pub fn finish(result: Result<Response, Refusal>) -> Response {
    result.unwrap_or_else(|r| refusal(&r))
}

/// A mutable copy of a response from elsewhere (an origin, the assets), with
/// the CORS headers (an origin's own `Access-Control-Allow-Origin` is kept);
/// the body streams through.
pub fn rebuild(response: Response) -> Response {
    rebuild_with(response, &[])
}

/// `rebuild`, with `extra` headers set over the response's own.
pub fn rebuild_with(response: Response, extra: &[(&str, String)]) -> Response {
    let headers = match web_sys::Headers::new_with_headers(&response.headers().0) {
        Ok(copy) => Headers(copy),
        Err(_) => Headers::new(),
    };
    for (name, value) in extra {
        let _ = headers.set(name, value);
    }
    if !headers.has("Access-Control-Allow-Origin").unwrap_or(false) {
        let _ = headers.set("Access-Control-Allow-Origin", "*");
    }
    let _ = headers.set("Access-Control-Expose-Headers", "Retry-After, Allow");
    let status = response.status_code();
    let (_, body) = response.into_parts();
    ResponseBuilder::new()
        .with_status(status)
        .with_headers(headers)
        .body(body)
}

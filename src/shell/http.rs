//! HTTP plumbing: JSON responses, refusals as responses, CORS, bounded body
//! reading, the platform's client headers, the clock and randomness.

use crate::core::json::{self, Value};
use crate::shell::incoming::Incoming;
use futures_util::StreamExt;
use worker::{Headers, Response, ResponseBuilder, console_error, web_sys};

use crate::core::refusal::Refusal;

/// Where clients send their key, as in Filerobot.
pub const KEY_HEADER: &str = "X-Filerobot-Key";
/// Largest JSON body accepted by the admin and key endpoints.
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// The platform's clock, in ms (`Date.now()`: no `Date` object made).
pub fn now_ms() -> u64 {
    worker::js_sys::Date::now() as u64
}

pub fn now_secs() -> u64 {
    now_ms() / 1000
}

/// 16 random bytes from the platform's CSPRNG.
pub fn random16() -> Result<[u8; 16], Refusal> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| internal("getrandom", e))?;
    Ok(bytes)
}

/// Logs `detail` and returns the opaque refusal sent to the client.
pub fn internal(context: &str, detail: impl std::fmt::Display) -> Refusal {
    console_error!("internal error in {context}: {detail}");
    Refusal::Internal
}

/// A query parameter of the request, decoded.
pub fn query(req: &Incoming, name: &str) -> Option<String> {
    crate::core::query::param(crate::core::query::of_url(req.url()), name)
}

/// The path and query as received, percent-encoding intact.
pub fn path_and_query(req: &Incoming) -> String {
    match crate::core::query::of_url(req.url()) {
        Some(q) => format!("{}?{q}", req.path()),
        None => req.path().to_string(),
    }
}

/// A success answer: `{"status":"success", …fields}`.
pub fn success<const N: usize>(status: u16, fields: [(&str, Value); N]) -> Response {
    let mut body = json::Map::new();
    body.insert("status".into(), "success".into());
    for (name, value) in fields {
        body.insert(name.into(), value);
    }
    self::json(status, &Value::Object(body))
}

/// New response headers with the CORS headers every answer carries, errors
/// included: any page may read it, and its `Retry-After` and `Allow`.
/// (`name_origin` narrows the first for keys bound to origins.)
pub fn cors_headers() -> Headers {
    let headers = Headers::new();
    let _ = headers.set("Access-Control-Allow-Origin", "*");
    let _ = headers.set("Access-Control-Expose-Headers", "Retry-After, Allow");
    headers
}

fn json_with(status: u16, value: &Value, headers: Headers) -> Response {
    let _ = headers.set("Content-Type", "application/json; charset=utf-8");
    ResponseBuilder::new()
        .with_status(status)
        .with_headers(headers)
        .fixed(value.text().into_bytes())
}

pub fn json(status: u16, value: &Value) -> Response {
    json_with(status, value, cors_headers())
}

fn refusal(r: &Refusal) -> Response {
    let headers = cors_headers();
    if let Some(secs) = r.retry_after() {
        let _ = headers.set("Retry-After", &secs.to_string());
    }
    if let Some(allow) = r.allow() {
        let _ = headers.set("Allow", allow);
    }
    json_with(r.status(), &r.to_json(), headers)
}

/// The answer to a CORS preflight: which methods and headers a page may use.
pub fn preflight() -> Result<Response, Refusal> {
    let headers = cors_headers();
    for (name, value) in [
        (
            "Access-Control-Allow-Methods",
            "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
        ),
        (
            "Access-Control-Allow-Headers",
            "X-Filerobot-Key, Content-Type",
        ),
        ("Access-Control-Max-Age", "86400"),
    ] {
        let _ = headers.set(name, value);
    }
    Ok(ResponseBuilder::new()
        .with_status(204)
        .with_headers(headers)
        .fixed(Vec::new()))
}

/// A mutable copy of a response from elsewhere (an origin, the assets), with
/// the CORS headers (an origin's own `Access-Control-Allow-Origin` is kept);
/// the body streams through.
pub fn rebuild(response: Response) -> Response {
    let headers = match web_sys::Headers::new_with_headers(&response.headers().0) {
        Ok(copy) => Headers(copy),
        Err(_) => Headers::new(),
    };
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

/// Answers a browser page by its origin rather than `*` (for keys bound to
/// `allowed_origins`, which have already checked it).
pub fn name_origin(mut response: Response, origin: Option<&str>) -> Response {
    if let Some(origin) = origin {
        let headers = response.headers_mut();
        let _ = headers.set("Access-Control-Allow-Origin", origin);
        let _ = headers.set("Vary", "Origin");
    }
    response
}

/// The response sent for `result`: a refusal becomes its JSON error.
pub fn finish(result: Result<Response, Refusal>) -> Response {
    result.unwrap_or_else(|r| refusal(&r))
}

/// Reads a JSON body of at most `limit` bytes, refusing larger ones before
/// reading them whole.
pub async fn read_json(req: &Incoming, limit: usize) -> Result<Value, Refusal> {
    let declared = req
        .header("Content-Length")
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(Refusal::RejectBodySize { limit });
    }
    let mut body = Vec::new();
    if declared != Some(0)
        && let Some(mut stream) = req.stream()
    {
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|_| Refusal::RejectJson {
                detail: "the body could not be read".into(),
            })?;
            if body.len() + chunk.len() > limit {
                return Err(Refusal::RejectBodySize { limit });
            }
            body.extend_from_slice(&chunk);
        }
    }
    if body.is_empty() {
        return Err(Refusal::RejectJson {
            detail: "the body is empty".into(),
        });
    }
    json::parse(&body).map_err(|e| Refusal::RejectJson {
        detail: e.to_string(),
    })
}

//! CORS: every answer, errors included, may be read by any page (or, for
//! keys bound to `allowed_origins`, by the page of the named origin).

use worker::{Headers, Response, ResponseBuilder};

use crate::core::refusal::Refusal;

/// New response headers with the CORS headers every answer carries: any
/// page may read it, and its `Retry-After` and `Allow`.
pub fn headers() -> Headers {
    let headers = Headers::new();
    let _ = headers.set("Access-Control-Allow-Origin", "*");
    let _ = headers.set("Access-Control-Expose-Headers", "Retry-After, Allow");
    headers
}

/// The request headers a page may send: the Filerobot clients send the key,
/// the uploader its airbox id when it has one, and a JSON content type.
pub const ALLOWED_HEADERS: &str = "X-Filerobot-Key, X-Filerobot-Airbox-Puid, Content-Type";

/// The answer to a CORS preflight: which methods and headers a page may use.
pub fn preflight() -> Result<Response, Refusal> {
    let headers = headers();
    for (name, value) in [
        (
            "Access-Control-Allow-Methods",
            "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
        ),
        ("Access-Control-Allow-Headers", ALLOWED_HEADERS),
        ("Access-Control-Max-Age", "86400"),
    ] {
        let _ = headers.set(name, value);
    }
    Ok(ResponseBuilder::new()
        .with_status(204)
        .with_headers(headers)
        .fixed(Vec::new()))
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

//! The body of an answer to a fetch (a Durable Object's, an origin's), read
//! whole in one call across the JS boundary.
//!
//! `worker::Response::text` reads a fetched body through a stream reader:
//! a `read` per chunk, a `releaseLock` and a microtask each time. In the
//! V8 profile of `GET /key` under `scripts/bench.sh` those glue calls were
//! about 16 % of the isolate's samples, more than the worker's own wasm;
//! the platform's `Response.text()` is one promise.

use worker::wasm_bindgen_futures::JsFuture;
use worker::{Response, web_sys};

/// The whole body of `answer`, as text (bytes that are not UTF-8 become
/// U+FFFD, as the platform's `text()` decodes).
pub async fn text(answer: Response) -> Result<String, String> {
    let answer: web_sys::Response = answer.into();
    let promise = answer.text().map_err(|e| format!("{e:?}"))?;
    JsFuture::from(promise)
        .await
        .map_err(|e| format!("{e:?}"))?
        .as_string()
        .ok_or_else(|| "the body is not text".to_string())
}

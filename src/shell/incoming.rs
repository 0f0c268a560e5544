//! The request the worker received, read straight from the platform's
//! `Request`, and the time it arrived.
//!
//! `worker::Request` reads the platform's `cf` object for every request,
//! which the runtime builds anew on each read. sass-edge never needs it (the
//! client's IP and country come from `CF-Connecting-IP` and `CF-IPCountry`),
//! and on a request refused for a bad key that read was the largest single
//! cost. This reads only what is asked for.

use worker::wasm_bindgen_futures::JsFuture;
use worker::{ByteStream, js_sys, web_sys};

use crate::core::query;
use crate::core::restriction::{Client, client_ip};
use crate::shell::clock;

pub struct Incoming {
    raw: web_sys::Request,
    method: String,
    url: String,
    now_ms: u64,
}

impl Incoming {
    pub fn new(raw: web_sys::Request) -> Incoming {
        Incoming {
            method: raw.method(),
            url: raw.url(),
            raw,
            now_ms: clock::now_ms(),
        }
    }

    /// When the request arrived, in ms: the one clock reading every decision
    /// about it uses.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    pub fn now_secs(&self) -> u64 {
        self.now_ms / 1000
    }

    /// The method as the runtime gives it: `GET`, `PUT`, … (workerd answers
    /// 501 itself to a method in another case, such as `patch`).
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The worker's own origin, as the client reached it
    /// (`https://edge.example`): what precedes the path.
    pub fn base(&self) -> &str {
        let path = self.path();
        match self.url.find("://").map(|i| i + 3) {
            Some(start) => match self.url[start..].find('/') {
                Some(end) => &self.url[..start + end],
                None => &self.url,
            },
            None => self.url.strip_suffix(path).unwrap_or(&self.url),
        }
    }

    /// The path, percent-encoding intact: what follows the host, up to `?`.
    pub fn path(&self) -> &str {
        query::path_of_url(&self.url)
    }

    /// The query string, as received.
    pub fn query_string(&self) -> Option<&str> {
        query::of_url(&self.url)
    }

    /// A query parameter, decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        query::param(self.query_string(), name)
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.raw.headers().get(name).ok().flatten()
    }

    /// Where the request comes from, from the platform's headers only
    /// (`X-Forwarded-For` is never read).
    pub fn client(&self) -> Client {
        Client {
            ip: client_ip(self.header("CF-Connecting-IP").as_deref()),
            country: self.header("CF-IPCountry"),
            origin: self.header("Origin"),
        }
    }

    /// The body as a stream of chunks, if there is a body.
    pub fn stream(&self) -> Option<ByteStream> {
        self.raw.body().map(ByteStream::from)
    }

    /// The whole body, read by the platform in one call (`arrayBuffer()`),
    /// for a body whose declared length the caller has already bounded.
    /// Reading a small body through `stream` costs a `read`, a
    /// `releaseLock` and a microtask per chunk across the JS boundary: in
    /// the V8 profile of `POST /key` under `scripts/bench.sh`, about 19 %
    /// of the isolate's samples.
    pub async fn whole_body(&self) -> Result<Vec<u8>, String> {
        let promise = self.raw.array_buffer().map_err(|e| format!("{e:?}"))?;
        let buffer = JsFuture::from(promise)
            .await
            .map_err(|e| format!("{e:?}"))?;
        Ok(js_sys::Uint8Array::new(&buffer).to_vec())
    }

    pub fn raw(&self) -> &web_sys::Request {
        &self.raw
    }
}

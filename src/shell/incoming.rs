//! The request the worker received, read straight from the platform's
//! `Request`.
//!
//! `worker::Request` reads the platform's `cf` object for every request,
//! which the runtime builds anew on each read. sass-edge never needs it (the
//! client's IP and country come from `CF-Connecting-IP` and `CF-IPCountry`),
//! and on a request refused for a bad key that read was the largest single
//! cost. This reads only what is asked for.

use worker::ByteStream;
use worker::web_sys;

pub struct Incoming {
    raw: web_sys::Request,
    method: String,
    url: String,
}

impl Incoming {
    pub fn new(raw: web_sys::Request) -> Incoming {
        Incoming {
            method: raw.method(),
            url: raw.url(),
            raw,
        }
    }

    /// The method as the runtime gives it: `GET`, `PUT`, … (workerd answers
    /// 501 itself to a method in another case, such as `patch`).
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The full URL, as received.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The path, percent-encoding intact: what follows the host, up to `?`.
    pub fn path(&self) -> &str {
        crate::core::query::path_of_url(&self.url)
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.raw.headers().get(name).ok().flatten()
    }

    /// The body as a stream of chunks, if there is a body.
    pub fn stream(&self) -> Option<ByteStream> {
        self.raw.body().map(ByteStream::from)
    }

    pub fn raw(&self) -> &web_sys::Request {
        &self.raw
    }
}

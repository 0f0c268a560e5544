//! sass-edge: issues short-lived, restricted access keys (SASS keys) from
//! security templates, at the edge, as a Cloudflare Worker.
//!
//! - [`core`]: the pure core (key format, templates, permissions, scopes,
//!   IP and country checks, counter math, routing), tested natively.
//! - `shell`: the thin Workers shell (HTTP, KV, Durable Objects), wasm only.

pub mod core;

#[cfg(target_arch = "wasm32")]
mod shell;

//! sass-edge: issues short-lived, restricted access keys (SASS keys) from
//! security templates, at the edge, as a Cloudflare Worker.
//!
//! - [`core`]: the pure core (key format, templates, permissions, scopes,
//!   IP and country checks, counter math, routing), tested natively: the
//!   crate `sass-edge-core` in `src/core`, which does not depend on `worker`.
//! - `shell`: the thin Workers shell (HTTP, KV, Durable Objects), wasm only.

/// The pure core is its own crate (`src/core`, `sass-edge-core`), here
/// under its old name, so that `crate::core::…` reads as before.
pub use sass_edge_core as core;

#[cfg(target_arch = "wasm32")]
mod shell;

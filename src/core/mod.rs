//! The pure core: no I/O, no `worker` types, no clock. Everything here is
//! deterministic, takes `now` and randomness as arguments, and is tested
//! natively with `cargo test`.

pub mod api_key;
pub mod attenuate;
pub mod config;
pub mod counter;
pub mod ct;
pub mod fields;
pub mod gateway;
pub mod hex;
pub mod json;
pub mod key;
pub mod origin;
pub mod path;
pub mod permission;
pub mod query;
pub mod refusal;
pub mod restriction;
pub mod route;
pub mod scope;
pub mod signing;
pub mod template;
pub mod time;

//! The pure core: no I/O, no `worker` types, no clock. Everything here is
//! deterministic, takes `now` and randomness as arguments, and is tested
//! natively with `cargo test`.

pub mod api_key;
pub mod attenuate;
pub mod body;
pub mod bounded;
pub mod cache;
pub mod config;
pub mod counter;
pub mod credential;
pub mod ct;
pub mod file_record;
pub mod gateway;
pub mod hex;
pub mod id;
pub mod introspection;
pub mod issuance;
pub mod key;
pub mod limiter;
pub mod lineage;
pub mod listing;
pub mod origin;
pub mod path;
pub mod permission;
pub mod policy;
pub mod query;
pub mod refusal;
pub mod request;
pub mod restriction;
pub mod route;
pub mod scope;
pub mod serving;
pub mod signing;
pub mod template;
pub mod text;
pub mod time;
pub mod upload;
pub mod url_policy;

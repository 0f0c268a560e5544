//! The worker's settings, read from its secrets and variables and parsed
//! once per isolate: a change of secret or variable deploys a new version,
//! which starts new isolates. A malformed setting is not cached, so every
//! request reports it until it is fixed.

use std::cell::RefCell;
use std::rc::Rc;

use worker::Env;

use crate::core::config::{Config, RawSettings};
use crate::core::refusal::Refusal;

thread_local! {
    static PARSED: RefCell<Option<Rc<Config>>> = const { RefCell::new(None) };
}

fn read(env: &Env, name: &str) -> Option<String> {
    env.secret(name)
        .map(|s| s.to_string())
        .or_else(|_| env.var(name).map(|v| v.to_string()))
        .ok()
}

pub fn config(env: &Env) -> Result<Rc<Config>, Refusal> {
    if let Some(config) = PARSED.with_borrow(Clone::clone) {
        return Ok(config);
    }
    let raw = RawSettings {
        root_api_key: read(env, "ROOT_API_KEY"),
        signing_keys: read(env, "SIGNING_KEYS"),
        origin_url: read(env, "ORIGIN_URL"),
        origin_secret: read(env, "ORIGIN_SECRET"),
        origin_key: read(env, "ORIGIN_KEY"),
        allow_local_urls: read(env, "ALLOW_LOCAL_URLS"),
    };
    let config = Rc::new(Config::parse(&raw)?);
    PARSED.set(Some(config.clone()));
    Ok(config)
}

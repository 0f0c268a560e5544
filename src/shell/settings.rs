//! The worker's settings, read from its secrets and parsed once per isolate.

use std::cell::RefCell;
use std::rc::Rc;

use worker::Env;

use crate::core::config::{Config, RawSettings};
use crate::core::refusal::Refusal;

thread_local! {
    static PARSED: RefCell<Option<(RawSettings, Rc<Config>)>> = const { RefCell::new(None) };
}

fn read(env: &Env, name: &str) -> Option<String> {
    env.secret(name)
        .map(|s| s.to_string())
        .or_else(|_| env.var(name).map(|v| v.to_string()))
        .ok()
}

/// The parsed settings. They are parsed again only if the raw values change.
pub fn config(env: &Env) -> Result<Rc<Config>, Refusal> {
    let raw = RawSettings {
        root_api_key: read(env, "ROOT_API_KEY"),
        signing_keys: read(env, "SIGNING_KEYS"),
        origin_url: read(env, "ORIGIN_URL"),
        origin_secret: read(env, "ORIGIN_SECRET"),
    };
    if let Some(config) = PARSED.with_borrow(|p| {
        p.as_ref()
            .filter(|(r, _)| *r == raw)
            .map(|(_, c)| c.clone())
    }) {
        return Ok(config);
    }
    let config = Rc::new(Config::parse(&raw)?);
    PARSED.set(Some((raw, config.clone())));
    Ok(config)
}

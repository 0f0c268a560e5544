//! The worker's settings, read from its secrets and parsed once per isolate.

use std::cell::RefCell;
use std::rc::Rc;

use worker::Env;

use crate::core::config::Config;
use crate::core::refusal::Refusal;

type Raw = (Option<String>, Option<String>);

thread_local! {
    static PARSED: RefCell<Option<(Raw, Rc<Config>)>> = const { RefCell::new(None) };
}

fn read(env: &Env, name: &str) -> Option<String> {
    env.secret(name)
        .map(|s| s.to_string())
        .or_else(|_| env.var(name).map(|v| v.to_string()))
        .ok()
}

/// The parsed settings. They are parsed again only if the raw values change.
pub fn config(env: &Env) -> Result<Rc<Config>, Refusal> {
    let raw: Raw = (read(env, "ROOT_API_KEY"), read(env, "SIGNING_KEYS"));
    if let Some(config) = PARSED.with_borrow(|p| {
        p.as_ref()
            .filter(|(r, _)| *r == raw)
            .map(|(_, c)| c.clone())
    }) {
        return Ok(config);
    }
    let config = Rc::new(Config::parse(raw.0.as_deref(), raw.1.as_deref())?);
    PARSED.set(Some((raw, config.clone())));
    Ok(config)
}

//! Whether a template is active, cached in the isolate so that most gateway
//! requests cost no KV read. An entry lives `TTL_MS`; a change made through
//! this isolate takes effect at once, one made elsewhere within `TTL_MS` plus
//! KV's own propagation.

use std::cell::RefCell;
use std::collections::HashMap;

use worker::Env;

use crate::core::gateway::TemplateState;
use crate::core::refusal::Refusal;
use crate::shell::http;
use crate::shell::template_store::TemplateStore;

pub const TTL_MS: u64 = 30_000;
/// Entries kept at most; the cache is emptied when it would grow past this.
const MAX_ENTRIES: usize = 10_000;

thread_local! {
    static CACHE: RefCell<HashMap<String, (TemplateState, u64)>> = RefCell::new(HashMap::new());
}

fn cache_key(project: &str, id: &str) -> String {
    format!("{project}/{id}")
}

pub async fn get(env: &Env, project: &str, id: &str) -> Result<TemplateState, Refusal> {
    let key = cache_key(project, id);
    let now = http::now_ms();
    let cached = CACHE.with_borrow(|c| {
        c.get(&key)
            .filter(|(_, at)| now < at + TTL_MS)
            .map(|(s, _)| *s)
    });
    if let Some(state) = cached {
        return Ok(state);
    }
    let state = match TemplateStore::open(env)?.get(project, id).await? {
        Some(t) if t.body.active => TemplateState::Active,
        _ => TemplateState::Inactive,
    };
    CACHE.with_borrow_mut(|c| {
        if c.len() >= MAX_ENTRIES {
            c.clear();
        }
        c.insert(key, (state, now));
    });
    Ok(state)
}

/// Drops the cached state of a template this isolate just changed.
pub fn forget(project: &str, id: &str) {
    CACHE.with_borrow_mut(|c| c.remove(&cache_key(project, id)));
}

//! Whether a template is active, cached in the isolate so that most gateway
//! requests cost no KV read (see `cache` for how stale it can be). A change
//! made through this isolate takes effect here at once.

use std::cell::RefCell;

use worker::Env;

use crate::core::gateway::TemplateState;
use crate::core::refusal::Refusal;
use crate::shell::cache::Cache;
use crate::shell::http;
use crate::shell::template_store::TemplateStore;

thread_local! {
    static CACHE: RefCell<Cache<TemplateState>> = RefCell::new(Cache::new());
}

fn cache_key(project: &str, id: &str) -> String {
    format!("{project}/{id}")
}

pub async fn get(env: &Env, project: &str, id: &str) -> Result<TemplateState, Refusal> {
    let key = cache_key(project, id);
    let now = http::now_ms();
    if let Some(state) = CACHE.with_borrow(|c| c.get(&key, now)) {
        return Ok(state);
    }
    let state = match TemplateStore::open(env)?.get_cached(project, id).await? {
        Some(t) if t.body.active => TemplateState::Active,
        _ => TemplateState::Inactive,
    };
    CACHE.with_borrow_mut(|c| c.put(key, state, now));
    Ok(state)
}

/// Drops the cached state of a template this isolate just changed.
pub fn forget(project: &str, id: &str) {
    CACHE.with_borrow_mut(|c| c.forget(&cache_key(project, id)));
}

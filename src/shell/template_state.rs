//! Templates as the hot path sees them: cached in the isolate, so that most
//! issuances and gateway requests cost no KV read (see `cache` for how stale
//! an entry can be). A change made through this isolate takes effect here at
//! once.

use std::cell::RefCell;
use std::rc::Rc;

use worker::Env;

use crate::core::gateway::TemplateState;
use crate::core::refusal::Refusal;
use crate::core::template::Template;
use crate::shell::cache::Cache;
use crate::shell::http;
use crate::shell::template_store::TemplateStore;

thread_local! {
    /// `None` remembers that there is no such template.
    static CACHE: RefCell<Cache<Option<Rc<Template>>>> = RefCell::new(Cache::new());
}

fn cache_key(project: &str, id: &str) -> String {
    format!("{project}/{id}")
}

/// The template, through the cache.
pub async fn get(env: &Env, project: &str, id: &str) -> Result<Option<Rc<Template>>, Refusal> {
    let key = cache_key(project, id);
    let now = http::now_ms();
    if let Some(found) = CACHE.with_borrow(|c| c.get(&key, now)) {
        return Ok(found);
    }
    let found = TemplateStore::open(env)?
        .get_cached(project, id)
        .await?
        .map(Rc::new);
    CACHE.with_borrow_mut(|c| c.put(key, found.clone(), now));
    Ok(found)
}

/// Whether keys issued from the template may be used.
pub async fn state(env: &Env, project: &str, id: &str) -> Result<TemplateState, Refusal> {
    Ok(match get(env, project, id).await? {
        Some(t) if t.body.active => TemplateState::Active,
        _ => TemplateState::Inactive,
    })
}

/// Drops the cached template this isolate just changed.
pub fn forget(project: &str, id: &str) {
    CACHE.with_borrow_mut(|c| c.forget(&cache_key(project, id)));
}

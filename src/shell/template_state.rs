//! Templates as the hot path sees them: cached in the isolate, so that most
//! issuances and gateway requests cost no KV read (see `core::cache` for how
//! stale an entry can be). A change made through this isolate takes effect
//! here at once.

use std::cell::RefCell;
use std::rc::Rc;

use worker::Env;

use crate::core::cache::Cache;
use crate::core::id::{Project, TemplateId};
use crate::core::refusal::Refusal;
use crate::core::template::Template;
use crate::shell::template_store::TemplateStore;

thread_local! {
    /// `None` remembers that there is no such template.
    static CACHE: RefCell<Cache<Option<Rc<Template>>>> = RefCell::new(Cache::default());
}

fn cache_key(project: &Project, id: &TemplateId) -> String {
    format!("{project}/{id}")
}

/// The template, through the cache.
pub async fn get(
    env: &Env,
    project: &Project,
    id: &TemplateId,
    now_ms: u64,
) -> Result<Option<Rc<Template>>, Refusal> {
    let key = cache_key(project, id);
    if let Some(found) = CACHE.with_borrow(|c| c.get(&key, now_ms)) {
        return Ok(found);
    }
    let found = TemplateStore::open(env)?
        .get(project, id, true)
        .await?
        .map(Rc::new);
    CACHE.with_borrow_mut(|c| c.put(key, found.clone(), now_ms));
    Ok(found)
}

/// Drops the cached template this isolate just changed.
pub fn forget(project: &Project, id: &TemplateId) {
    CACHE.with_borrow_mut(|c| c.forget(&cache_key(project, id)));
}

//! Security templates in Workers KV, one entry per template under
//! `tpl/{project}/{id}`, holding the template's canonical JSON.

use serde_json::Value;
use worker::{Env, KvStore, console_error};

use crate::core::refusal::Refusal;
use crate::core::template::Template;
use crate::shell::cache::KV_CACHE_TTL;

/// The KV binding.
pub const BINDING: &str = "TEMPLATES";
/// Most templates in one page of a listing.
pub const PAGE: u64 = 100;

pub struct TemplateStore {
    kv: KvStore,
}

fn down(context: &str, e: impl std::fmt::Display) -> Refusal {
    console_error!("KV {context} failed: {e}");
    Refusal::StorageDown
}

fn key(project: &str, id: &str) -> String {
    format!("tpl/{project}/{id}")
}

fn parse(value: &Value) -> Result<Template, Refusal> {
    Template::from_stored(value).map_err(|r| {
        console_error!("corrupt template in KV: {}", r.message());
        Refusal::Internal
    })
}

impl TemplateStore {
    pub fn open(env: &Env) -> Result<TemplateStore, Refusal> {
        Ok(TemplateStore {
            kv: env.kv(BINDING).map_err(|e| down("binding", e))?,
        })
    }

    pub async fn get(&self, project: &str, id: &str) -> Result<Option<Template>, Refusal> {
        let value: Option<Value> = self
            .kv
            .get(&key(project, id))
            .json()
            .await
            .map_err(|e| down("get", e))?;
        value.as_ref().map(parse).transpose()
    }

    /// Like `get`, but KV may answer from its edge cache (hot path only).
    pub async fn get_cached(&self, project: &str, id: &str) -> Result<Option<Template>, Refusal> {
        let value: Option<Value> = self
            .kv
            .get(&key(project, id))
            .cache_ttl(KV_CACHE_TTL)
            .json()
            .await
            .map_err(|e| down("get", e))?;
        value.as_ref().map(parse).transpose()
    }

    pub async fn put(&self, project: &str, template: &Template) -> Result<(), Refusal> {
        self.kv
            .put(&key(project, &template.id), template.to_json().to_string())
            .map_err(|e| down("put", e))?
            .execute()
            .await
            .map_err(|e| down("put", e))
    }

    pub async fn delete(&self, project: &str, id: &str) -> Result<(), Refusal> {
        self.kv
            .delete(&key(project, id))
            .await
            .map_err(|e| down("delete", e))
    }

    /// One page of a project's templates, and the cursor of the next page.
    pub async fn list(
        &self,
        project: &str,
        cursor: Option<String>,
    ) -> Result<(Vec<Template>, Option<String>), Refusal> {
        let (values, next) = page(&self.kv, format!("tpl/{project}/"), cursor).await?;
        let templates = values.iter().map(parse).collect::<Result<_, _>>()?;
        Ok((templates, next))
    }
}

/// One page (`PAGE` entries) of the JSON values under `prefix`, in key order,
/// and the cursor of the next page. An entry deleted between listing and
/// reading is left out.
pub async fn page(
    kv: &KvStore,
    prefix: String,
    cursor: Option<String>,
) -> Result<(Vec<Value>, Option<String>), Refusal> {
    let mut request = kv.list().prefix(prefix).limit(PAGE);
    if let Some(cursor) = cursor {
        request = request.cursor(cursor);
    }
    let listed = request.execute().await.map_err(|e| down("list", e))?;
    let names: Vec<String> = listed.keys.into_iter().map(|k| k.name).collect();
    let mut values = Vec::with_capacity(names.len());
    if !names.is_empty() {
        let mut found = kv
            .get_bulk(&names)
            .json::<Value>()
            .await
            .map_err(|e| down("get_bulk", e))?;
        values.extend(names.iter().filter_map(|n| found.remove(n).flatten()));
    }
    let next = if listed.list_complete {
        None
    } else {
        listed.cursor
    };
    Ok((values, next))
}

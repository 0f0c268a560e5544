//! Security templates in Workers KV, one entry per template under
//! `tpl/{project}/{id}`, holding the template's canonical JSON.

use worker::{Env, console_error};

use crate::core::json::Value;
use crate::core::refusal::Refusal;
use crate::core::template::Template;
use crate::shell::kv::Kv;

pub struct TemplateStore {
    kv: Kv,
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
        Ok(TemplateStore { kv: Kv::open(env)? })
    }

    pub async fn get(&self, project: &str, id: &str) -> Result<Option<Template>, Refusal> {
        let value = self.kv.get_json(&key(project, id), false).await?;
        value.as_ref().map(parse).transpose()
    }

    /// Like `get`, but KV may answer from its edge cache (hot path only).
    pub async fn get_cached(&self, project: &str, id: &str) -> Result<Option<Template>, Refusal> {
        let value = self.kv.get_json(&key(project, id), true).await?;
        value.as_ref().map(parse).transpose()
    }

    pub async fn put(&self, project: &str, template: &Template) -> Result<(), Refusal> {
        let text = template.to_json().text();
        self.kv.put(&key(project, &template.id), &text, None).await
    }

    pub async fn delete(&self, project: &str, id: &str) -> Result<(), Refusal> {
        self.kv.delete(&key(project, id)).await
    }

    /// One page of a project's templates, and the cursor of the next page.
    pub async fn list(
        &self,
        project: &str,
        cursor: Option<String>,
    ) -> Result<(Vec<Template>, Option<String>), Refusal> {
        let (values, next) = self.kv.page(&format!("tpl/{project}/"), cursor).await?;
        let templates = values.iter().map(parse).collect::<Result<_, _>>()?;
        Ok((templates, next))
    }
}

//! Security templates in Workers KV, one entry per template under
//! `tpl/{project}/{id}`, holding the template's canonical JSON.

use serde_json::Value;
use worker::{Env, KvStore, console_error};

use crate::core::id::{Project, TemplateId};
use crate::core::refusal::Refusal;
use crate::core::template::Template;
use crate::shell::kv;

pub struct TemplateStore {
    kv: KvStore,
}

fn key(project: &Project, id: &TemplateId) -> String {
    format!("tpl/{project}/{id}")
}

fn parse(value: Value) -> Result<Template, Refusal> {
    Template::from_stored(value).map_err(|r| {
        console_error!("corrupt template in KV: {}", r.message());
        Refusal::Internal
    })
}

impl TemplateStore {
    pub fn open(env: &Env) -> Result<TemplateStore, Refusal> {
        Ok(TemplateStore { kv: kv::open(env)? })
    }

    /// The template; with `cached`, KV may answer from its edge cache (the
    /// hot path only).
    pub async fn get(
        &self,
        project: &Project,
        id: &TemplateId,
        cached: bool,
    ) -> Result<Option<Template>, Refusal> {
        let value = kv::get_json(&self.kv, &key(project, id), cached).await?;
        value.map(parse).transpose()
    }

    pub async fn put(&self, project: &Project, template: &Template) -> Result<(), Refusal> {
        let text = template.to_json().to_string();
        kv::put(&self.kv, &key(project, &template.id), &text, None).await
    }

    pub async fn delete(&self, project: &Project, id: &TemplateId) -> Result<(), Refusal> {
        kv::delete(&self.kv, &key(project, id)).await
    }

    /// One page of a project's templates, and the cursor of the next page.
    pub async fn list(
        &self,
        project: &Project,
        cursor: Option<String>,
    ) -> Result<(Vec<Template>, Option<String>), Refusal> {
        let (values, next) = kv::page(&self.kv, &format!("tpl/{project}/"), cursor).await?;
        let templates = values.into_iter().map(parse).collect::<Result<_, _>>()?;
        Ok((templates, next))
    }
}

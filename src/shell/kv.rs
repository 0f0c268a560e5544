//! Workers KV, bound directly: get, put, delete and paged listing of JSON
//! entries in the `TEMPLATES` namespace (templates, API keys, the issued-key
//! registry, revocations).
//!
//! The namespace's JS methods are called as they are, with option objects
//! built by hand: no serialisation framework in between (bundle size).

use wasm_bindgen::prelude::*;
use worker::js_sys::{self, Array, Object, Promise};
use worker::{Env, console_error};

use crate::core::json::{self, Value};
use crate::core::refusal::Refusal;
use crate::shell::cache::KV_CACHE_TTL;
use crate::shell::js::{object as options, prop, settle};

/// The KV binding.
pub const BINDING: &str = "TEMPLATES";
/// Most entries in one page of a listing.
pub const PAGE: u32 = 100;

#[wasm_bindgen]
extern "C" {
    type KvNamespace;

    #[wasm_bindgen(method, catch, js_name = get)]
    fn get_one(this: &KvNamespace, key: &str, options: &Object) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = get)]
    fn get_many(this: &KvNamespace, keys: &Array, options: &Object) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn put(
        this: &KvNamespace,
        key: &str,
        value: &str,
        options: &Object,
    ) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn delete(this: &KvNamespace, key: &str) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn list(this: &KvNamespace, options: &Object) -> Result<Promise, JsValue>;
}

fn down(context: &str, e: &JsValue) -> Refusal {
    console_error!("KV {context} failed: {e:?}");
    Refusal::StorageDown
}

async fn wait(context: &str, promise: Result<Promise, JsValue>) -> Result<JsValue, Refusal> {
    settle(promise).await.map_err(|e| down(context, &e))
}

/// Reads a stored JSON entry; one that does not parse is a corrupt record.
fn parse(name: &str, text: &str) -> Result<Value, Refusal> {
    json::parse_str(text).map_err(|e| {
        console_error!("corrupt JSON in KV entry {name}: {e}");
        Refusal::Internal
    })
}

pub struct Kv {
    ns: KvNamespace,
}

impl Kv {
    pub fn open(env: &Env) -> Result<Kv, Refusal> {
        let ns = prop(env, BINDING);
        if ns.is_undefined() {
            return Err(Refusal::MisconfiguredSetting {
                setting: BINDING,
                reason: "the KV namespace binding is missing".into(),
            });
        }
        Ok(Kv {
            ns: ns.unchecked_into(),
        })
    }

    /// The text of `key`. With `cached`, KV may answer from its edge cache
    /// (`KV_CACHE_TTL`): only for the hot path's reads.
    pub async fn get_text(&self, key: &str, cached: bool) -> Result<Option<String>, Refusal> {
        let mut props = vec![("type", JsValue::from_str("text"))];
        if cached {
            props.push(("cacheTtl", JsValue::from_f64(KV_CACHE_TTL as f64)));
        }
        let found = wait("get", self.ns.get_one(key, &options(&props))).await?;
        Ok(found.as_string())
    }

    pub async fn get_json(&self, key: &str, cached: bool) -> Result<Option<Value>, Refusal> {
        match self.get_text(key, cached).await? {
            Some(text) => parse(key, &text).map(Some),
            None => Ok(None),
        }
    }

    /// Writes `key`; with `expiration` (Unix seconds, at least 60 s ahead),
    /// KV deletes it then.
    pub async fn put(
        &self,
        key: &str,
        value: &str,
        expiration: Option<u64>,
    ) -> Result<(), Refusal> {
        let props: &[(&str, JsValue)] = match expiration {
            Some(at) => &[("expiration", JsValue::from_f64(at as f64))],
            None => &[],
        };
        wait("put", self.ns.put(key, value, &options(props))).await?;
        Ok(())
    }

    pub async fn delete(&self, key: &str) -> Result<(), Refusal> {
        wait("delete", self.ns.delete(key)).await?;
        Ok(())
    }

    /// One page (`PAGE` entries) of the JSON values under `prefix`, in key
    /// order, and the cursor of the next page. An entry deleted between
    /// listing and reading is left out.
    pub async fn page(
        &self,
        prefix: &str,
        cursor: Option<String>,
    ) -> Result<(Vec<Value>, Option<String>), Refusal> {
        let mut props = vec![
            ("prefix", JsValue::from_str(prefix)),
            ("limit", JsValue::from_f64(f64::from(PAGE))),
        ];
        if let Some(cursor) = &cursor {
            props.push(("cursor", JsValue::from_str(cursor)));
        }
        let listed = wait("list", self.ns.list(&options(&props))).await?;
        let names = Array::from(&prop(&listed, "keys"))
            .iter()
            .filter_map(|k| prop(&k, "name").as_string())
            .collect::<Vec<_>>();
        let mut values = Vec::with_capacity(names.len());
        if !names.is_empty() {
            let keys: Array = names.iter().map(|n| JsValue::from_str(n)).collect();
            let type_text = options(&[("type", JsValue::from_str("text"))]);
            let found = wait("get", self.ns.get_many(&keys, &type_text)).await?;
            let found: js_sys::Map = found
                .dyn_into()
                .map_err(|other| down("bulk get (not a Map)", &other))?;
            for name in &names {
                if let Some(text) = found.get(&JsValue::from_str(name)).as_string() {
                    values.push(parse(name, &text)?);
                }
            }
        }
        let next = match prop(&listed, "list_complete").as_bool() {
            Some(false) => prop(&listed, "cursor").as_string(),
            _ => None,
        };
        Ok((values, next))
    }
}

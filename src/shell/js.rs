//! Small helpers for plain JS values, for the bindings this shell calls
//! directly (KV, the Limiter's Durable Object stubs): option objects built by
//! hand, properties read by name, and promises awaited.

use wasm_bindgen::JsValue;
use worker::js_sys::{Object, Promise, Reflect};
use worker::wasm_bindgen_futures::JsFuture;

/// A JS object with the given properties.
pub fn object(props: &[(&str, JsValue)]) -> Object {
    let o = Object::new();
    for (name, value) in props {
        let _ = Reflect::set(&o, &JsValue::from_str(name), value);
    }
    o
}

/// A property of a JS value, `undefined` if absent or unreadable.
pub fn prop(target: &JsValue, name: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// The value a promise settles with; its rejection, or a call that threw
/// before returning one, as `Err`.
pub async fn settle(promise: Result<Promise, JsValue>) -> Result<JsValue, JsValue> {
    JsFuture::from(promise?).await
}

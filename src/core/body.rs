//! JSON request bodies: parsed strictly (a key given twice is refused, not
//! silently overwritten), then read into typed structs with serde, so that a
//! refusal names the exact field (`upload.dir_scope[1]: …`).
//!
//! Also here: JSON merge patch (RFC 7386) on `serde_json::Value`, and the
//! `object` adapter that keeps serde from reading a struct out of a JSON list.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, DeserializeOwned, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::refusal::Refusal;

/// Parses a JSON document, refusing a key that appears twice in an object
/// (serde_json's `Value` would keep the last one silently).
pub fn parse(bytes: &[u8]) -> Result<Value, Refusal> {
    // Checked as UTF-8 once, then read as a `str`: every JSON text here is
    // read as a `str` (serde_json's reader of bytes would check each string
    // again, and its code would be in the wasm twice).
    let text = std::str::from_utf8(bytes).map_err(|e| Refusal::RejectJson {
        detail: format!("the body is not UTF-8 (at byte {})", e.valid_up_to()),
    })?;
    serde_json::from_str::<Strict>(text)
        .map(|s| s.0)
        .map_err(|e| Refusal::RejectJson {
            detail: e.to_string(),
        })
}

/// A JSON value read with duplicate keys refused.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Strict(value) = map.next_value()?;
            if out.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "the key {key:?} appears twice"
                )));
            }
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

/// Reads `value` (a JSON object) as a `T`. `at` is the dotted path of
/// `value` itself in the request ("" for the body), so that a refusal names
/// the field as the client wrote it.
pub fn typed<T: DeserializeOwned>(value: Value, at: &str) -> Result<T, Refusal> {
    if !value.is_object() {
        return Err(if at.is_empty() {
            Refusal::RejectJson {
                detail: "expected a JSON object".into(),
            }
        } else {
            Refusal::field(at, "must be an object")
        });
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        field_refusal(at, &path, &e.into_inner().to_string())
    })
}

/// The refusal for serde's `message` about the field at `path`, in words a
/// client can act on.
fn field_refusal(at: &str, path: &str, message: &str) -> Refusal {
    let join = |a: &str, b: &str| match (a, b) {
        ("", b) => b.to_string(),
        (a, "") => a.to_string(),
        (a, b) => format!("{a}.{b}"),
    };
    let mut field = join(at, if path == "." { "" } else { path });
    let named = |m: &str, prefix: &str| {
        m.strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_string)
    };
    let reason = if message.starts_with("unknown field `") {
        "unknown field".to_string()
    } else if let Some(name) = named(message, "duplicate field `") {
        field = join(&field, &name);
        match ALIASES.iter().find(|(n, _)| *n == name) {
            Some((n, alias)) => format!("give either {n} or {alias}, not both"),
            None => "is given twice".to_string(),
        }
    } else if let Some(name) = named(message, "missing field `") {
        field = join(&field, &name);
        "is missing".to_string()
    } else if let Some((_, expected)) = message.split_once(", expected ") {
        format!("must be {}", expected.replace("a sequence", "a list"))
    } else {
        message.to_string()
    };
    if field.is_empty() {
        Refusal::RejectJson { detail: reason }
    } else {
        Refusal::field(field, reason)
    }
}

/// The fields that also have a Filerobot spelling, as (name, alias).
pub const ALIASES: [(&str, &str); 3] = [
    ("limit_per_source_ip", "limit_per_ip_source"),
    ("expiration_duration", "expire_duration"),
    ("dir_scope", "directory_scope"),
];

/// `null` counts as absent: drops every member whose value is `null`, in
/// every nested object, so that defaults apply.
pub fn drop_nulls(value: &mut Value) {
    if let Value::Object(map) = value {
        map.retain(|_, v| !v.is_null());
        map.values_mut().for_each(drop_nulls);
    }
}

/// Applies a JSON merge patch (RFC 7386): members given replace, `null`
/// removes, nested objects merge.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(target) = target {
        for (k, v) in patch {
            if v.is_null() {
                target.remove(k);
            } else {
                merge_patch(target.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// Removes the members `names` from `object` and returns them as an object.
pub fn split_off(object: &mut Map<String, Value>, names: &[&str]) -> Value {
    let mut out = Map::new();
    for name in names {
        if let Some(v) = object.remove(*name) {
            out.insert((*name).to_string(), v);
        }
    }
    Value::Object(out)
}

/// For `#[serde(deserialize_with = "object")]` on struct-typed fields: a
/// derived struct would also read a JSON list of its fields in order; this
/// accepts only an object.
pub fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    struct ObjectVisitor<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::deserialize(MapAccessDeserializer::new(map))
        }
    }
    d.deserialize_map(ObjectVisitor(PhantomData))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Deserialize, Debug, Default)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        #[serde(default)]
        max: Option<crate::bounded::Bounded<10>>,
        #[serde(default, alias = "limit_per_ip_source")]
        limit_per_source_ip: Option<u32>,
        #[serde(default)]
        list: Vec<String>,
    }

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        #[serde(default, deserialize_with = "object")]
        upload: Inner,
        name: String,
    }

    fn refusal(v: Value) -> String {
        typed::<Outer>(v, "").unwrap_err().message()
    }

    #[test]
    fn refusals_name_the_field() {
        assert_eq!(refusal(json!({"name": "a", "x": 1})), "x: unknown field");
        assert_eq!(
            refusal(json!({"name": "a", "upload": {"x": 1}})),
            "upload.x: unknown field"
        );
        assert_eq!(refusal(json!({})), "name: is missing");
        assert_eq!(
            refusal(json!({"name": "a", "upload": {"max": 0}})),
            "upload.max: must be a whole number from 1 to 10"
        );
        assert_eq!(
            refusal(json!({"name": "a", "upload": {"list": ["a", 3]}})),
            "upload.list[1]: must be a string"
        );
        assert_eq!(
            refusal(json!({"name": "a", "upload": {"list": "a"}})),
            "upload.list: must be a list"
        );
        assert_eq!(
            refusal(json!({"name": "a", "upload": [5]})),
            "upload: must be an object"
        );
        assert_eq!(
            refusal(
                json!({"name": "a", "upload": {"limit_per_source_ip": 1, "limit_per_ip_source": 2}})
            ),
            "upload.limit_per_source_ip: give either limit_per_source_ip or limit_per_ip_source, not both"
        );
        assert_eq!(
            typed::<Outer>(json!({"name": "a"}), "data")
                .map(|o| o.name)
                .unwrap(),
            "a"
        );
        assert_eq!(
            typed::<Outer>(json!({"name": 1}), "data")
                .unwrap_err()
                .message(),
            "data.name: must be a string"
        );
        assert_eq!(
            typed::<Outer>(json!([]), "").unwrap_err().code(),
            "INVALID_JSON"
        );
        assert_eq!(
            typed::<Outer>(json!([]), "data").unwrap_err().message(),
            "data: must be an object"
        );
    }

    #[test]
    fn duplicate_keys_are_refused() {
        assert_eq!(
            parse(br#"{"a":1,"b":{"c":[1,{"d":null}]}}"#).unwrap(),
            json!({"a":1,"b":{"c":[1,{"d":null}]}})
        );
        for dup in [
            r#"{"a":1,"a":2}"#,
            r#"{"x":{"a":1,"a":1}}"#,
            r#"[{"a":1,"a":2}]"#,
        ] {
            let e = parse(dup.as_bytes()).unwrap_err();
            assert_eq!(e.code(), "INVALID_JSON");
            assert!(e.message().contains("appears twice"), "{}", e.message());
        }
        assert_eq!(parse(b"{").unwrap_err().code(), "INVALID_JSON");
        assert_eq!(parse(b"").unwrap_err().code(), "INVALID_JSON");
    }

    #[test]
    fn a_body_that_is_not_utf8_is_refused_where_it_stops_being_utf8() {
        let e = parse(b"{\"a\":\"\xff\"}").unwrap_err();
        assert_eq!(e.code(), "INVALID_JSON");
        assert!(
            e.message().contains("not UTF-8 (at byte 6)"),
            "{}",
            e.message()
        );
        // Escaped, the same character is text like any other.
        assert_eq!(parse(br#"{"a":"\u00ff"}"#).unwrap(), json!({"a": "\u{ff}"}));
    }

    #[test]
    fn merge_patches() {
        let mut doc = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1]});
        merge_patch(
            &mut doc,
            &json!({"a": null, "b": {"c": 5, "x": {"y": 1}}, "e": {"f": 1}}),
        );
        assert_eq!(
            doc,
            json!({"b": {"c": 5, "d": 3, "x": {"y": 1}}, "e": {"f": 1}})
        );
        let mut doc = json!({"a": 1});
        merge_patch(&mut doc, &json!([1]));
        assert_eq!(doc, json!([1]));
    }

    #[test]
    fn nulls_and_splits() {
        let mut v = json!({"a": null, "b": {"c": null, "d": 1}, "e": [null]});
        drop_nulls(&mut v);
        assert_eq!(v, json!({"b": {"d": 1}, "e": [null]}));
        let Value::Object(mut m) = json!({"a": 1, "b": 2, "c": 3}) else {
            unreachable!()
        };
        assert_eq!(split_off(&mut m, &["a", "c", "z"]), json!({"a": 1, "c": 3}));
        assert_eq!(Value::Object(m), json!({"b": 2}));
    }
}

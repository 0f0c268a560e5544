//! Reading a JSON object field by field, so that every refusal names the
//! exact field (`upload.dir_scope[2]`) and unknown fields are refused.
//!
//! `null` counts as absent: the default applies. Paths are only written out
//! when a refusal needs one: reading a valid object allocates nothing here
//! (this runs for every key checked).

use std::fmt;

use crate::core::json::{Map, Value};
use crate::core::refusal::Refusal;

pub struct Fields<'a> {
    map: &'a Map,
    /// The object's own dotted path and a dot, or "" for the body.
    prefix: String,
    /// Which of the object's first 64 fields (in key order) were read.
    read: u64,
    /// Beyond 64 fields, the names read (no object has that many).
    read_beyond: Vec<&'static str>,
}

/// The dotted path of a field, written out only when displayed.
pub struct Path<'p> {
    prefix: &'p str,
    name: &'p str,
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.prefix)?;
        f.write_str(self.name)
    }
}

impl<'a> Fields<'a> {
    /// `path` is the dotted path of `value` itself ("" for the body).
    pub fn of(value: &'a Value, path: &dyn fmt::Display) -> Result<Self, Refusal> {
        let mut prefix = path.to_string();
        let map = value.as_object().ok_or_else(|| {
            if prefix.is_empty() {
                Refusal::RejectJson {
                    detail: "expected a JSON object".into(),
                }
            } else {
                Refusal::field(&prefix, "must be an object")
            }
        })?;
        if !prefix.is_empty() {
            prefix.push('.');
        }
        Ok(Fields {
            map,
            prefix,
            read: 0,
            read_beyond: Vec::new(),
        })
    }

    /// The dotted path of one of this object's fields.
    pub fn path<'p>(&'p self, name: &'p str) -> Path<'p> {
        Path {
            prefix: &self.prefix,
            name,
        }
    }

    pub fn get(&mut self, name: &'static str) -> Option<&'a Value> {
        let (i, value) = self.map.position(name)?;
        match 1u64.checked_shl(i as u32) {
            Some(bit) => self.read |= bit,
            None => self.read_beyond.push(name),
        }
        Some(value).filter(|v| !v.is_null())
    }

    /// A field that may also be spelled `alias`; giving both is refused.
    pub fn get_aliased(
        &mut self,
        name: &'static str,
        alias: &'static str,
    ) -> Result<Option<&'a Value>, Refusal> {
        match (self.get(name), self.get(alias)) {
            (Some(_), Some(_)) => Err(Refusal::field(
                self.path(name),
                format!("give either {name} or {alias}, not both"),
            )),
            (a, b) => Ok(a.or(b)),
        }
    }

    /// A nested object, read by its own `Fields`.
    pub fn object(&mut self, name: &'static str) -> Result<Option<Fields<'a>>, Refusal> {
        match self.get(name) {
            Some(v) => Fields::of(v, &self.path(name)).map(Some),
            None => Ok(None),
        }
    }

    /// Refuses any field that was not asked for.
    pub fn finish(self) -> Result<(), Refusal> {
        let unknown =
            self.map
                .keys()
                .enumerate()
                .find(|(i, k)| match 1u64.checked_shl(*i as u32) {
                    Some(bit) => self.read & bit == 0,
                    None => !self.read_beyond.contains(&k.as_str()),
                });
        match unknown {
            Some((_, name)) => Err(Refusal::field(self.path(name), "unknown field")),
            None => Ok(()),
        }
    }
}

fn out_of_range(field: &dyn fmt::Display, max: u64) -> Refusal {
    Refusal::field(field, format!("must be a whole number from 1 to {max}"))
}

/// A whole number from 1 to `max`.
pub fn positive(value: &Value, field: &dyn fmt::Display, max: u64) -> Result<u64, Refusal> {
    match value.as_u64() {
        Some(v) if (1..=max).contains(&v) => Ok(v),
        _ => Err(out_of_range(field, max)),
    }
}

pub fn boolean(value: &Value, field: &dyn fmt::Display) -> Result<bool, Refusal> {
    value
        .as_bool()
        .ok_or_else(|| Refusal::field(field, "must be true or false"))
}

pub fn string<'v>(
    value: &'v Value,
    field: &dyn fmt::Display,
    max_len: usize,
) -> Result<&'v str, Refusal> {
    let s = value
        .as_str()
        .ok_or_else(|| Refusal::field(field, "must be a string"))?;
    if s.chars().count() > max_len {
        return Err(Refusal::field(
            field,
            format!("must be at most {max_len} characters"),
        ));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::json::json;

    #[test]
    fn unknown_and_aliases() {
        let v = json!({"a": 1, "b": null, "c": 2});
        let mut f = Fields::of(&v, &"upload").unwrap();
        assert_eq!(f.get("a"), Some(&json!(1)));
        assert_eq!(f.get("b"), None);
        let e = f.finish().unwrap_err();
        assert_eq!(e.message(), "upload.c: unknown field");

        let v = json!({"x": 1, "y": 2});
        let mut f = Fields::of(&v, &"").unwrap();
        assert!(f.get_aliased("x", "y").is_err());
        let v = json!({"y": 2});
        let mut f = Fields::of(&v, &"").unwrap();
        assert_eq!(f.get_aliased("x", "y").unwrap(), Some(&json!(2)));
        f.finish().unwrap();
    }

    #[test]
    fn objects_of_more_than_64_fields() {
        let mut m = crate::core::json::Map::new();
        for i in 0..70 {
            m.insert(format!("f{i:02}"), Value::from(1u64));
        }
        let v = Value::Object(m);
        // `get` takes static names, as the parsers have.
        let names: Vec<&'static str> = (0..70)
            .map(|i| &*Box::leak(format!("f{i:02}").into_boxed_str()))
            .collect();
        // Every field read but one, on either side of the 64th.
        for skipped in ["f10", "f66"] {
            let mut f = Fields::of(&v, &"").unwrap();
            for name in names.iter().filter(|n| **n != skipped) {
                assert!(f.get(name).is_some());
            }
            let e = f.finish().unwrap_err();
            assert_eq!(e.message(), format!("{skipped}: unknown field"));
        }
        let mut f = Fields::of(&v, &"").unwrap();
        for name in &names {
            f.get(name);
        }
        f.finish().unwrap();
    }

    #[test]
    fn positives() {
        assert_eq!(positive(&json!(5), &"f", 10).unwrap(), 5);
        for bad in [
            json!(0),
            json!(-1),
            json!(11),
            json!(1.5),
            json!("5"),
            json!(1e300),
            json!(u64::MAX),
        ] {
            let e = positive(&bad, &"f", 10).unwrap_err();
            assert_eq!(
                e.message(),
                "f: must be a whole number from 1 to 10",
                "{bad}"
            );
        }
    }

    #[test]
    fn non_objects() {
        assert_eq!(
            Fields::of(&json!([]), &"").err().unwrap().code(),
            "INVALID_JSON"
        );
        assert_eq!(
            Fields::of(&json!(3), &"upload").err().unwrap().message(),
            "upload: must be an object"
        );
    }
}

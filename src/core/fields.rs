//! Reading a JSON object field by field, so that every refusal names the
//! exact field (`upload.dir_scope[2]`) and unknown fields are refused.
//!
//! `null` counts as absent: the default applies.

use crate::core::json::{Map, Value};

use crate::core::refusal::Refusal;

pub struct Fields<'a> {
    map: &'a Map,
    prefix: String,
    known: Vec<&'static str>,
}

impl<'a> Fields<'a> {
    /// `path` is the dotted path of `value` itself ("" for the body).
    pub fn of(value: &'a Value, path: &str) -> Result<Self, Refusal> {
        let map = value.as_object().ok_or_else(|| {
            if path.is_empty() {
                Refusal::RejectJson {
                    detail: "expected a JSON object".into(),
                }
            } else {
                Refusal::field(path, "must be an object")
            }
        })?;
        Ok(Fields {
            map,
            prefix: if path.is_empty() {
                String::new()
            } else {
                format!("{path}.")
            },
            known: Vec::new(),
        })
    }

    /// The dotted path of one of this object's fields.
    pub fn path(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    pub fn get(&mut self, name: &'static str) -> Option<&'a Value> {
        self.known.push(name);
        self.map.get(name).filter(|v| !v.is_null())
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
        let path = self.path(name);
        self.get(name).map(|v| Fields::of(v, &path)).transpose()
    }

    /// Refuses any field that was not asked for.
    pub fn finish(self) -> Result<(), Refusal> {
        match self.map.keys().find(|k| !self.known.contains(&k.as_str())) {
            Some(unknown) => Err(Refusal::field(self.path(unknown), "unknown field")),
            None => Ok(()),
        }
    }
}

/// A whole number from 1 to `max`.
pub fn positive(value: &Value, field: &str, max: u64) -> Result<u64, Refusal> {
    let out_of_range = || Refusal::field(field, format!("must be a whole number from 1 to {max}"));
    match value.as_u64() {
        Some(v) if (1..=max).contains(&v) => Ok(v),
        _ => Err(out_of_range()),
    }
}

pub fn boolean(value: &Value, field: &str) -> Result<bool, Refusal> {
    value
        .as_bool()
        .ok_or_else(|| Refusal::field(field, "must be true or false"))
}

pub fn string<'v>(value: &'v Value, field: &str, max_len: usize) -> Result<&'v str, Refusal> {
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
        let mut f = Fields::of(&v, "upload").unwrap();
        assert_eq!(f.get("a"), Some(&json!(1)));
        assert_eq!(f.get("b"), None);
        let e = f.finish().unwrap_err();
        assert_eq!(e.message(), "upload.c: unknown field");

        let v = json!({"x": 1, "y": 2});
        let mut f = Fields::of(&v, "").unwrap();
        assert!(f.get_aliased("x", "y").is_err());
        let v = json!({"y": 2});
        let mut f = Fields::of(&v, "").unwrap();
        assert_eq!(f.get_aliased("x", "y").unwrap(), Some(&json!(2)));
        f.finish().unwrap();
    }

    #[test]
    fn positives() {
        assert_eq!(positive(&json!(5), "f", 10).unwrap(), 5);
        for bad in [
            json!(0),
            json!(-1),
            json!(11),
            json!(1.5),
            json!("5"),
            json!(1e300),
            json!(u64::MAX),
        ] {
            let e = positive(&bad, "f", 10).unwrap_err();
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
            Fields::of(&json!([]), "").err().unwrap().code(),
            "INVALID_JSON"
        );
        assert_eq!(
            Fields::of(&json!(3), "upload").err().unwrap().message(),
            "upload: must be an object"
        );
    }
}

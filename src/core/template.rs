//! Security templates: what an operator writes (`TemplateBody`), what is
//! stored (`Template`), and the part a key request may give (`KeySpec`).
//!
//! Parse, don't validate: a body only becomes a `TemplateBody` once every
//! field has been read by serde, and every refusal names its field. The
//! policy fields (`policy::FIELDS`) and the template's own fields sit side by
//! side at the top of the JSON, as in Filerobot; each part is read by its own
//! struct.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::body::{self, ALIASES, drop_nulls, merge_patch, split_off, typed};
use crate::bounded::{PerMinute, Validity};
use crate::id::TemplateId;
use crate::policy::Policy;
use crate::refusal::Refusal;
use crate::time;

/// Default key validity, in seconds (20 minutes).
pub const DEFAULT_EXPIRATION: u64 = 1200;
/// Default calls of GET /key per source IP per minute.
pub const DEFAULT_ISSUE_LIMIT_PER_MIN: u64 = 5;
/// Longest description, in characters.
pub const MAX_DESCRIPTION: usize = 1024;
/// Fields the server sets; a body that names one is refused.
const READ_ONLY: [&str; 6] = [
    "id",
    "created_at",
    "updated_at",
    "created_at_unix",
    "updated_at_unix",
    "generation",
];

fn default_expiration() -> Validity {
    const { Validity::must(DEFAULT_EXPIRATION) }
}

/// `key_validity`: how long keys live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyValidity {
    #[serde(default = "default_expiration", alias = "expire_duration")]
    pub expiration_duration: Validity,
}

impl Default for KeyValidity {
    fn default() -> Self {
        KeyValidity {
            expiration_duration: default_expiration(),
        }
    }
}

/// The body of `POST /{project}/key`'s `data`, and the key part of a template.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeySpec {
    pub policy: Policy,
    pub validity: KeyValidity,
}

/// The fields a key request has beside the policy.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyHead {
    #[serde(default, deserialize_with = "body::object")]
    key_validity: KeyValidity,
}

/// `{"data": {…}}`, all optional.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyRequest {
    #[serde(default)]
    data: Value,
}

/// An object member list, or the refusal for a value that is not one.
fn members(value: &mut Value, at: &str) -> Result<Map<String, Value>, Refusal> {
    match value {
        Value::Object(map) => Ok(std::mem::take(map)),
        _ if at.is_empty() => Err(Refusal::RejectJson {
            detail: "expected a JSON object".into(),
        }),
        _ => Err(Refusal::field(at, "must be an object")),
    }
}

impl KeySpec {
    /// Whether `new` takes away something this spec allowed: a permission,
    /// part of a scope, a higher limit, a whitelisted range, country or
    /// origin, or validity.
    pub fn narrowed_by(&self, new: &KeySpec) -> bool {
        self.policy.broader_than(&new.policy).is_some() || new.expiration() < self.expiration()
    }

    /// The seconds from issue to expiry.
    pub fn expiration(&self) -> u64 {
        self.validity.expiration_duration.get()
    }

    /// Reads a key spec from `value`, the object at path `at`.
    pub fn from_value(mut value: Value, at: &str) -> Result<KeySpec, Refusal> {
        drop_nulls(&mut value);
        let mut rest = members(&mut value, at)?;
        let head: KeyHead = typed(split_off(&mut rest, &["key_validity"]), at)?;
        Ok(KeySpec {
            policy: typed(Value::Object(rest), at)?,
            validity: head.key_validity,
        })
    }

    /// Parses the body of `POST /{project}/key`: `{"data": {…}}`, all optional.
    pub fn from_key_request(body: Value) -> Result<KeySpec, Refusal> {
        let request: KeyRequest = typed(body, "")?;
        match request.data {
            Value::Null => Ok(KeySpec::default()),
            data => KeySpec::from_value(data, "data"),
        }
    }
}

/// A template's description: at most `MAX_DESCRIPTION` characters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Description(String);

impl TryFrom<String> for Description {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if s.chars().count() > MAX_DESCRIPTION {
            return Err(format!("must be at most {MAX_DESCRIPTION} characters"));
        }
        Ok(Description(s))
    }
}

impl From<Description> for String {
    fn from(d: Description) -> String {
        d.0
    }
}

fn yes() -> bool {
    true
}

fn default_issue_limit() -> PerMinute {
    const { PerMinute::must(DEFAULT_ISSUE_LIMIT_PER_MIN) }
}

/// The fields a template has beside the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateHead {
    #[serde(default)]
    description: Description,
    #[serde(default = "yes")]
    active: bool,
    #[serde(default, deserialize_with = "body::object")]
    key_validity: KeyValidity,
    #[serde(default = "default_issue_limit")]
    issue_limit_per_min: PerMinute,
}

const HEAD_FIELDS: [&str; 4] = [
    "description",
    "active",
    "key_validity",
    "issue_limit_per_min",
];

/// What an operator writes: every field of a template but its identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateBody {
    pub description: String,
    pub active: bool,
    pub spec: KeySpec,
    pub issue_limit_per_min: PerMinute,
}

impl TemplateBody {
    /// Parses a template as sent to `POST …/security-templates`.
    pub fn from_json(mut body: Value) -> Result<TemplateBody, Refusal> {
        if let Value::Object(map) = &body
            && let Some(name) = READ_ONLY.iter().find(|n| map.contains_key(**n))
        {
            return Err(Refusal::field(
                *name,
                "is set by the server and cannot be written",
            ));
        }
        drop_nulls(&mut body);
        let mut rest = members(&mut body, "")?;
        let head: TemplateHead = typed(split_off(&mut rest, &HEAD_FIELDS), "")?;
        Ok(TemplateBody {
            description: head.description.0,
            active: head.active,
            spec: KeySpec {
                policy: typed(Value::Object(rest), "")?,
                validity: head.key_validity,
            },
            issue_limit_per_min: head.issue_limit_per_min,
        })
    }

    /// Every field, defaults filled in.
    fn filled(&self) -> Map<String, Value> {
        let Value::Object(mut out) = self.spec.policy.filled() else {
            return Map::new();
        };
        let head = TemplateHead {
            description: Description(self.description.clone()),
            active: self.active,
            key_validity: self.spec.validity,
            issue_limit_per_min: self.issue_limit_per_min,
        };
        if let Ok(Value::Object(head)) = serde_json::to_value(head) {
            out.extend(head);
        }
        out
    }
}

/// A stored template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub id: TemplateId,
    pub created_at: u64,
    pub updated_at: u64,
    /// Counts the changes that narrowed the template; a key issued at an
    /// earlier generation is refused (`TEMPLATE_CHANGED`).
    pub generation: u64,
    pub body: TemplateBody,
}

/// The server's fields of a stored template.
#[derive(Deserialize)]
struct StoredHead {
    id: TemplateId,
    created_at_unix: u64,
    updated_at_unix: u64,
    #[serde(default)]
    generation: u64,
}

impl Template {
    pub fn create(id: TemplateId, body: TemplateBody, now: u64) -> Template {
        Template {
            id,
            created_at: now,
            updated_at: now,
            generation: 0,
            body,
        }
    }

    /// The canonical JSON, as stored and returned by the API.
    pub fn to_json(&self) -> Value {
        let mut out = self.body.filled();
        out.insert("id".into(), self.id.as_str().into());
        out.insert("created_at".into(), time::rfc3339(self.created_at).into());
        out.insert("updated_at".into(), time::rfc3339(self.updated_at).into());
        out.insert("created_at_unix".into(), self.created_at.into());
        out.insert("updated_at_unix".into(), self.updated_at.into());
        out.insert("generation".into(), self.generation.into());
        Value::Object(out)
    }

    /// Reads back what `to_json` wrote.
    pub fn from_stored(mut value: Value) -> Result<Template, Refusal> {
        let mut rest = members(&mut value, "")?;
        let head: StoredHead = typed(split_off(&mut rest, &READ_ONLY), "")?;
        Ok(Template {
            id: head.id,
            created_at: head.created_at_unix,
            updated_at: head.updated_at_unix,
            generation: head.generation,
            body: TemplateBody::from_json(Value::Object(rest))?,
        })
    }

    /// Applies a JSON merge patch (RFC 7386): fields given replace, `null`
    /// resets a field to its default, nested objects merge.
    pub fn patch(&self, patch: &Value, now: u64) -> Result<Template, Refusal> {
        if !patch.is_object() {
            return Err(Refusal::RejectJson {
                detail: "expected a JSON object".into(),
            });
        }
        let mut merged = Value::Object(self.body.filled());
        merge_patch(&mut merged, &canonical_names(patch));
        let body = TemplateBody::from_json(merged)?;
        let narrowed = self.body.spec.narrowed_by(&body.spec);
        Ok(Template {
            id: self.id.clone(),
            created_at: self.created_at,
            updated_at: now,
            generation: self.generation + u64::from(narrowed),
            body,
        })
    }
}

/// Most templates one bulk change names.
pub const MAX_BULK: usize = 100;

/// `PATCH /{project}/v5/security-templates`: `{"ids": [...], "active": bool}`,
/// every template or none.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkStatus {
    pub ids: Vec<TemplateId>,
    pub active: bool,
}

impl BulkStatus {
    pub fn read(body: Value) -> Result<BulkStatus, Refusal> {
        let bulk: BulkStatus = typed(body, "")?;
        if bulk.ids.is_empty() || bulk.ids.len() > MAX_BULK {
            return Err(Refusal::field(
                "ids",
                format!("must name 1 to {MAX_BULK} templates"),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(dup) = bulk.ids.iter().find(|id| !seen.insert(*id)) {
            return Err(Refusal::field("ids", format!("names {dup} twice")));
        }
        Ok(bulk)
    }
}

/// A patch with aliases renamed to the canonical names the stored JSON uses,
/// so that merging replaces the stored field. Giving both names is left for
/// the parser to refuse.
pub fn canonical_names(patch: &Value) -> Value {
    let mut patch = patch.clone();
    if let Value::Object(top) = &mut patch {
        for object in top.values_mut().filter_map(Value::as_object_mut) {
            for (name, alias) in ALIASES {
                if !object.contains_key(name)
                    && let Some(v) = object.remove(alias)
                {
                    object.insert(name.to_string(), v);
                }
            }
        }
    }
    patch
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::Dir;
    use crate::permission::Permission;
    use serde_json::json;

    fn doc_example() -> Value {
        json!({
            "upload": {
                "limit_per_min": 5, "max": 6, "limit_per_source_ip": 12,
                "dir_scope": ["/hello", "/test/*"], "max_file_size": 1048576
            },
            "restrictions": {
                "whitelist_ip_ranges": ["80.12.95.227"], "whitelist_countries": ["FR"]
            },
            "key_validity": { "expire_duration": 600 },
            "listing": { "dir_scope": ["/hello"], "max": 3 },
            "permissions": ["FILE_UPLOAD"]
        })
    }

    fn dir(s: &str) -> Dir {
        Dir::parse(s.into()).unwrap()
    }

    fn n(v: Option<crate::bounded::Lifetime>) -> Option<u64> {
        v.map(|b| b.get())
    }

    #[test]
    fn the_documents_example_parses() {
        let spec = KeySpec::from_key_request(json!({ "data": doc_example() })).unwrap();
        let p = &spec.policy;
        assert_eq!(spec.expiration(), 600);
        assert_eq!(p.upload.limit_per_min.map(|b| b.get()), Some(5));
        assert_eq!(n(p.upload.max), Some(6));
        assert_eq!(n(p.upload.limit_per_source_ip), Some(12));
        assert_eq!(p.upload.max_file_size.get(), 1_048_576);
        assert!(p.upload.dir_scope.allows(&dir("/test/x")));
        assert!(!p.upload.dir_scope.allows(&dir("/hello/x")));
        assert_eq!(n(p.listing.max), Some(3));
        assert!(p.permissions.contains(Permission::FileUpload));
        assert_eq!(
            serde_json::to_value(p.restrictions.whitelist_countries.as_ref().unwrap()).unwrap(),
            json!(["FR"])
        );
    }

    #[test]
    fn defaults() {
        let t = TemplateBody::from_json(json!({})).unwrap();
        assert!(t.active);
        assert_eq!(t.issue_limit_per_min.get(), 5);
        assert_eq!(t.spec.expiration(), 1200);
        assert_eq!(t.spec.policy.upload.max_file_size.get(), 524_288_000);
        assert_eq!(t.spec.policy.upload.max, None);
        assert_eq!(t.spec.policy.listing.dir_scope.to_texts(), vec!["/*"]);
        assert!(t.spec.policy.restrictions.whitelist_ip_ranges.is_none());
        assert_eq!(
            KeySpec::from_key_request(json!({})).unwrap(),
            KeySpec::default()
        );
        assert_eq!(
            KeySpec::from_key_request(json!({"data": null})).unwrap(),
            KeySpec::default()
        );
    }

    #[test]
    fn aliases() {
        let t = TemplateBody::from_json(json!({
            "upload": {"limit_per_ip_source": 3},
            "key_validity": {"expiration_duration": 60},
            "listing": {"directory_scope": ["/a/*"]},
            "permissions": ["DIR_MOV"]
        }))
        .unwrap();
        assert_eq!(n(t.spec.policy.upload.limit_per_source_ip), Some(3));
        assert_eq!(t.spec.expiration(), 60);
        assert!(t.spec.policy.listing.dir_scope.allows(&dir("/a/b")));
        assert!(t.spec.policy.permissions.contains(Permission::DirMove));
    }

    fn refusal(body: Value) -> String {
        TemplateBody::from_json(body).unwrap_err().message()
    }

    #[test]
    fn refusals_name_the_field() {
        let cases = [
            (json!({"nope": 1}), "nope: unknown field"),
            (json!({"upload": {"nope": 1}}), "upload.nope: unknown field"),
            (
                json!({"permissions": ["FLY"]}),
                "permissions[0]: unknown permission \"FLY\"",
            ),
            (
                json!({"upload": {"max": 0}}),
                "upload.max: must be a whole number from 1 to 1000000000",
            ),
            (
                json!({"upload": {"max": -3}}),
                "upload.max: must be a whole number",
            ),
            (
                json!({"upload": {"max": 1e40}}),
                "upload.max: must be a whole number",
            ),
            (
                json!({"upload": {"limit_per_min": 10001}}),
                "upload.limit_per_min:",
            ),
            (
                json!({"upload": {"max_file_size": 6_000_000_000u64}}),
                "upload.max_file_size:",
            ),
            (
                json!({"upload": {"dir_scope": ["/a/../b"]}}),
                "upload.dir_scope[0]: \"/a/../b\" is not an absolute normalised directory: it must not have . or .. segments",
            ),
            (
                json!({"listing": {"dir_scope": ["x"]}}),
                "listing.dir_scope[0]:",
            ),
            (
                json!({"restrictions": {"whitelist_ip_ranges": ["1.2.3.4/40"]}}),
                "restrictions.whitelist_ip_ranges[0]:",
            ),
            (
                json!({"restrictions": {"whitelist_countries": ["FRA"]}}),
                "restrictions.whitelist_countries[0]:",
            ),
            (
                json!({"key_validity": {"expiration_duration": 604801}}),
                "key_validity.expiration_duration:",
            ),
            (
                json!({"key_validity": {"expire_duration": 1, "expiration_duration": 2}}),
                "key_validity.expiration_duration: give either",
            ),
            (
                json!({"upload": {"limit_per_source_ip": 1, "limit_per_ip_source": 2}}),
                "upload.limit_per_source_ip: give either",
            ),
            (json!({"issue_limit_per_min": 0}), "issue_limit_per_min:"),
            (
                json!({"issue_limit_per_min": "5"}),
                "issue_limit_per_min: must be a whole number",
            ),
            (json!({"active": "yes"}), "active: must be a boolean"),
            (json!({"description": 5}), "description: must be a string"),
            (
                json!({"description": "x".repeat(1025)}),
                "description: must be at most 1024 characters",
            ),
            (json!({"id": "SECU_X"}), "id: is set by the server"),
            (json!({"upload": []}), "upload: must be an object"),
            (
                json!({"key_validity": [1]}),
                "key_validity: must be an object",
            ),
        ];
        for (body, expected) in cases {
            let msg = refusal(body.clone());
            assert!(msg.starts_with(expected), "{body}: {msg}");
        }
        assert_eq!(
            TemplateBody::from_json(json!([1])).unwrap_err().code(),
            "INVALID_JSON"
        );
    }

    #[test]
    fn key_request_refuses_template_only_fields() {
        let e = KeySpec::from_key_request(json!({"data": {"issue_limit_per_min": 3}})).unwrap_err();
        assert_eq!(e.message(), "data.issue_limit_per_min: unknown field");
        let e = KeySpec::from_key_request(json!({"permissions": []})).unwrap_err();
        assert_eq!(e.message(), "permissions: unknown field");
        let e = KeySpec::from_key_request(json!({"data": []})).unwrap_err();
        assert_eq!(e.message(), "data: must be an object");
        let e = KeySpec::from_key_request(json!({"data": {"permissions": ["NOPE"]}})).unwrap_err();
        assert!(
            e.message().starts_with("data.permissions[0]"),
            "{}",
            e.message()
        );
    }

    #[test]
    fn stored_round_trip() {
        let mut body = doc_example();
        body["description"] = json!("widget");
        body["issue_limit_per_min"] = json!(9);
        let t = Template::create(
            TemplateId::new([0xab; 16]),
            TemplateBody::from_json(body).unwrap(),
            1_795_323_661,
        );
        let stored = t.to_json();
        assert_eq!(stored["id"], "SECU_ABABABABABABABABABABABABABABABAB");
        assert_eq!(stored["created_at"], "2026-11-22T05:01:01Z");
        assert_eq!(stored["upload"]["limit_per_source_ip"].as_u64(), Some(12));
        assert_eq!(stored["upload"]["limit_per_min"].as_u64(), Some(5));
        assert_eq!(stored["allowed_origins"], Value::Null);
        assert_eq!(
            stored["key_validity"]["expiration_duration"].as_u64(),
            Some(600)
        );
        assert_eq!(Template::from_stored(stored).unwrap(), t);
    }

    #[test]
    fn a_narrowing_patch_moves_the_generation_and_nothing_else_does() {
        let t = Template::create(
            TemplateId::new([2; 16]),
            TemplateBody::from_json(json!({
                "description": "x",
                "permissions": ["FILE_UPLOAD", "OBJECTS_LIST"],
                "upload": {"dir_scope": ["/up/*"], "max": 10, "limit_per_min": 5, "max_file_size": 1000},
                "listing": {"dir_scope": ["/up/*"]},
                "restrictions": {"whitelist_ip_ranges": ["10.0.0.0/8"], "whitelist_countries": ["FR", "DE"]},
                "allowed_origins": ["https://a.example", "https://b.example"],
                "key_validity": {"expiration_duration": 600}
            }))
            .unwrap(),
            1,
        );
        assert_eq!(t.generation, 0);
        let narrowing = [
            json!({"permissions": ["FILE_UPLOAD"]}),
            json!({"upload": {"dir_scope": ["/up/a/*"]}}),
            json!({"upload": {"max": 9}}),
            json!({"upload": {"limit_per_min": 4}}),
            json!({"upload": {"limit_per_source_ip": 3}}),
            json!({"upload": {"max_file_size": 999}}),
            json!({"listing": {"dir_scope": ["/up"]}}),
            json!({"listing": {"max": 100}}),
            json!({"restrictions": {"whitelist_ip_ranges": ["10.1.0.0/16"]}}),
            json!({"restrictions": {"whitelist_countries": ["FR"]}}),
            json!({"allowed_origins": ["https://a.example"]}),
            json!({"key_validity": {"expiration_duration": 599}}),
        ];
        for patch in narrowing {
            assert_eq!(t.patch(&patch, 2).unwrap().generation, 1, "{patch}");
        }
        let widening = [
            json!({"description": "renamed"}),
            json!({"permissions": ["FILE_UPLOAD", "OBJECTS_LIST", "FILE_DELETE"]}),
            json!({"upload": {"dir_scope": ["/up/*", "/more/*"], "max": 11, "max_file_size": null}}),
            json!({"restrictions": {"whitelist_ip_ranges": null}}),
            json!({"allowed_origins": null}),
            json!({"key_validity": {"expiration_duration": 601}}),
            json!({"issue_limit_per_min": 1}),
            json!({"active": false}),
        ];
        for patch in widening {
            assert_eq!(t.patch(&patch, 2).unwrap().generation, 0, "{patch}");
        }
        let twice = t.patch(&json!({"upload": {"max": 5}}), 2).unwrap();
        let twice = twice.patch(&json!({"upload": {"max": 4}}), 3).unwrap();
        assert_eq!(twice.generation, 2);
        let stored = Template::from_stored(twice.to_json()).unwrap();
        assert_eq!(stored.generation, 2, "kept in storage");
        assert!(
            TemplateBody::from_json(json!({"generation": 0})).is_err(),
            "set by the server only"
        );
    }

    #[test]
    fn patch_merges_and_resets() {
        let t = Template::create(
            TemplateId::new([1; 16]),
            TemplateBody::from_json(doc_example()).unwrap(),
            100,
        );
        let p = t
            .patch(
                &json!({"active": false, "upload": {"max": null, "limit_per_min": 9}}),
                200,
            )
            .unwrap();
        let up = &p.body.spec.policy.upload;
        assert!(!p.body.active);
        assert_eq!(up.max, None);
        assert_eq!(up.limit_per_min.map(|b| b.get()), Some(9));
        assert_eq!(n(up.limit_per_source_ip), Some(12));
        assert_eq!((p.created_at, p.updated_at), (100, 200));
        let aliased = p
            .patch(&json!({"upload": {"limit_per_ip_source": 4}, "listing": {"directory_scope": ["/z"]}}), 250)
            .unwrap();
        assert_eq!(
            n(aliased.body.spec.policy.upload.limit_per_source_ip),
            Some(4)
        );
        assert!(
            aliased
                .body
                .spec
                .policy
                .listing
                .dir_scope
                .allows(&dir("/z"))
        );
        let back = p.patch(&json!({"active": true}), 300).unwrap();
        assert!(back.body.active);
        assert!(t.patch(&json!({"upload": {"max": 0}}), 300).is_err());
        assert!(t.patch(&json!({"created_at": "x"}), 300).is_err());
        assert!(t.patch(&json!([]), 300).is_err());
    }

    #[test]
    fn bulk_status() {
        let a = TemplateId::new([1; 16]);
        let b = BulkStatus::read(json!({"ids": [a], "active": false})).unwrap();
        assert_eq!((b.ids, b.active), (vec![a.clone()], false));
        let bad = |v: Value| BulkStatus::read(v).unwrap_err().message();
        assert_eq!(
            bad(json!({"ids": [], "active": true})),
            "ids: must name 1 to 100 templates"
        );
        assert!(bad(json!({"ids": [a, a], "active": true})).contains("twice"));
        assert!(bad(json!({"ids": ["x"], "active": true})).starts_with("ids[0]:"));
        assert_eq!(bad(json!({"ids": [a]})), "active: is missing");
    }

    #[test]
    fn the_demo_template_is_a_stored_template() {
        let demo: Value = serde_json::from_str(include_str!("../../demo/template.json")).unwrap();
        let t = Template::from_stored(demo.clone()).unwrap();
        assert!(t.body.active);
        assert_eq!(t.to_json(), demo, "demo/template.json is in canonical form");
    }
}

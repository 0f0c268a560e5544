//! Security templates and the policy they give the keys issued from them.
//!
//! Parse, don't validate: a `Policy` or `Template` only exists once every
//! field has been checked, and every refusal names its field. The canonical
//! JSON written by `to_json` is what is stored in KV and returned by the API;
//! reading it back goes through the same parser.

use crate::core::json::{self, Map, Value};

use crate::core::fields::{self, Fields};
use crate::core::hex;
use crate::core::permission::{Holder, Permissions};
use crate::core::refusal::Refusal;
use crate::core::restriction::{Countries, IpRanges, Origins};
use crate::core::scope::Scopes;
use crate::core::time;

/// Default key validity, in seconds (20 minutes).
pub const DEFAULT_EXPIRATION: u64 = 1200;
/// Longest key validity, in seconds (7 days).
pub const MAX_EXPIRATION: u64 = 604_800;
/// Default `upload.max_file_size`: 500 MB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 524_288_000;
/// Largest `upload.max_file_size`: 5 GiB, R2's largest single upload.
pub const MAX_FILE_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// Default calls of GET /key per source IP per minute.
pub const DEFAULT_ISSUE_LIMIT_PER_MIN: u64 = 5;
/// Largest per-minute limit: the sliding window keeps one timestamp per call.
pub const MAX_PER_MIN: u64 = 10_000;
/// Largest lifetime counter.
pub const MAX_COUNT: u64 = 1_000_000_000;
/// Longest description, in characters.
pub const MAX_DESCRIPTION: usize = 1024;

/// Upload limits; `None` is unlimited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadLimits {
    pub limit_per_min: Option<u32>,
    pub limit_per_source_ip: Option<u32>,
    pub max: Option<u32>,
    pub dir_scope: Scopes,
    pub max_file_size: u64,
}

impl Default for UploadLimits {
    fn default() -> Self {
        UploadLimits {
            limit_per_min: None,
            limit_per_source_ip: None,
            max: None,
            dir_scope: Scopes::default(),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
        }
    }
}

/// Limits on every call but uploads; `None` is unlimited.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListingLimits {
    pub dir_scope: Scopes,
    pub max: Option<u32>,
}

/// Where a key may be used from; `None` is anywhere.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Restrictions {
    pub ip_ranges: Option<IpRanges>,
    pub countries: Option<Countries>,
}

/// What a key may do: the part of a template that a key carries.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Policy {
    pub permissions: Permissions,
    pub upload: UploadLimits,
    pub listing: ListingLimits,
    pub restrictions: Restrictions,
    /// Browser origins whose pages may use the key; `None` is any.
    pub allowed_origins: Option<Origins>,
}

/// The body of `POST /{project}/key`'s `data`, and the key part of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpec {
    pub policy: Policy,
    /// Seconds from issue to expiry.
    pub expiration: u64,
}

impl Default for KeySpec {
    fn default() -> Self {
        KeySpec {
            policy: Policy::default(),
            expiration: DEFAULT_EXPIRATION,
        }
    }
}

fn count(value: &Value, field: &dyn std::fmt::Display, max: u64) -> Result<u32, Refusal> {
    // Every max used here fits in u32.
    fields::positive(value, field, max).map(|n| n as u32)
}

impl Policy {
    /// Reads the policy fields of `f`: permissions, upload, restrictions, listing.
    pub fn read(f: &mut Fields) -> Result<Policy, Refusal> {
        let mut policy = Policy::default();
        if let Some(v) = f.get("permissions") {
            policy.permissions =
                Permissions::from_json(v, &f.path("permissions"), Holder::Template)?;
        }
        if let Some(mut u) = f.object("upload")? {
            let up = &mut policy.upload;
            if let Some(v) = u.get("limit_per_min") {
                up.limit_per_min = Some(count(v, &u.path("limit_per_min"), MAX_PER_MIN)?);
            }
            if let Some(v) = u.get_aliased("limit_per_source_ip", "limit_per_ip_source")? {
                up.limit_per_source_ip = Some(count(v, &u.path("limit_per_source_ip"), MAX_COUNT)?);
            }
            if let Some(v) = u.get("max") {
                up.max = Some(count(v, &u.path("max"), MAX_COUNT)?);
            }
            if let Some(v) = u.get("dir_scope") {
                up.dir_scope = Scopes::from_json(v, &u.path("dir_scope"))?;
            }
            if let Some(v) = u.get("max_file_size") {
                up.max_file_size = fields::positive(v, &u.path("max_file_size"), MAX_FILE_SIZE)?;
            }
            u.finish()?;
        }
        if let Some(mut r) = f.object("restrictions")? {
            if let Some(v) = r.get("whitelist_ip_ranges") {
                policy.restrictions.ip_ranges =
                    Some(IpRanges::from_json(v, &r.path("whitelist_ip_ranges"))?);
            }
            if let Some(v) = r.get("whitelist_countries") {
                policy.restrictions.countries =
                    Some(Countries::from_json(v, &r.path("whitelist_countries"))?);
            }
            r.finish()?;
        }
        if let Some(v) = f.get("allowed_origins") {
            policy.allowed_origins = Some(Origins::from_json(v, &f.path("allowed_origins"))?);
        }
        if let Some(mut l) = f.object("listing")? {
            if let Some(v) = l.get_aliased("dir_scope", "directory_scope")? {
                policy.listing.dir_scope = Scopes::from_json(v, &l.path("dir_scope"))?;
            }
            if let Some(v) = l.get("max") {
                policy.listing.max = Some(count(v, &l.path("max"), MAX_COUNT)?);
            }
            l.finish()?;
        }
        Ok(policy)
    }

    /// The canonical JSON of the policy, defaults filled in, written into `out`.
    pub fn write(&self, out: &mut Map) {
        out.insert("permissions".into(), Value::from(self.permissions.names()));
        out.insert(
            "upload".into(),
            json::object([
                ("limit_per_min", self.upload.limit_per_min.into()),
                (
                    "limit_per_source_ip",
                    self.upload.limit_per_source_ip.into(),
                ),
                ("max", self.upload.max.into()),
                ("dir_scope", self.upload.dir_scope.to_texts().into()),
                ("max_file_size", self.upload.max_file_size.into()),
            ]),
        );
        let r = &self.restrictions;
        out.insert(
            "restrictions".into(),
            json::object([
                (
                    "whitelist_ip_ranges",
                    r.ip_ranges.as_ref().map(IpRanges::to_texts).into(),
                ),
                (
                    "whitelist_countries",
                    r.countries.as_ref().map(Countries::to_texts).into(),
                ),
            ]),
        );
        out.insert(
            "listing".into(),
            json::object([
                ("dir_scope", self.listing.dir_scope.to_texts().into()),
                ("max", self.listing.max.into()),
            ]),
        );
        out.insert(
            "allowed_origins".into(),
            Value::from(self.allowed_origins.as_ref().map(Origins::to_texts)),
        );
    }

    /// Like `write`, but only what differs from the defaults: the compact
    /// form carried inside keys. `read` restores the defaults.
    pub fn write_compact(&self, out: &mut Map) {
        let mut full = Map::new();
        self.write(&mut full);
        let mut defaults = Map::new();
        Policy::default().write(&mut defaults);
        for (name, value) in full {
            let default = defaults.get(&name).unwrap_or(&Value::Null);
            if let Some(v) = without_defaults(value, default) {
                out.insert(name, v);
            }
        }
    }
}

/// `value` with every field that is null or equal to `default` left out;
/// `None` when nothing is left.
fn without_defaults(value: Value, default: &Value) -> Option<Value> {
    match value {
        Value::Null => None,
        v if &v == default => None,
        Value::Object(map) => {
            let kept: Map = map
                .into_iter()
                .filter_map(|(k, v)| {
                    let d = default.get(&k).unwrap_or(&Value::Null);
                    without_defaults(v, d).map(|v| (k, v))
                })
                .collect();
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        v => Some(v),
    }
}

impl KeySpec {
    /// Reads the key fields of `f`: the policy and key_validity.
    fn read(f: &mut Fields) -> Result<KeySpec, Refusal> {
        let policy = Policy::read(f)?;
        let mut expiration = DEFAULT_EXPIRATION;
        if let Some(mut k) = f.object("key_validity")? {
            if let Some(v) = k.get_aliased("expiration_duration", "expire_duration")? {
                expiration = fields::positive(v, &k.path("expiration_duration"), MAX_EXPIRATION)?;
            }
            k.finish()?;
        }
        Ok(KeySpec { policy, expiration })
    }

    /// Parses the body of `POST /{project}/key`: `{"data": {…}}`, all optional.
    pub fn from_key_request(body: &Value) -> Result<KeySpec, Refusal> {
        let mut root = Fields::of(body, &"")?;
        let spec = match root.object("data")? {
            Some(mut data) => {
                let spec = KeySpec::read(&mut data)?;
                data.finish()?;
                spec
            }
            None => KeySpec::default(),
        };
        root.finish()?;
        Ok(spec)
    }

    /// The canonical JSON of these fields, defaults filled in, written into `out`.
    fn write(&self, out: &mut Map) {
        self.policy.write(out);
        out.insert(
            "key_validity".into(),
            json::object([("expiration_duration", self.expiration.into())]),
        );
    }
}

/// What an operator writes: every field of a template but its identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateBody {
    pub description: String,
    pub active: bool,
    pub spec: KeySpec,
    pub issue_limit_per_min: u32,
}

impl TemplateBody {
    /// Parses a template as sent to `POST …/security-templates`.
    pub fn from_json(body: &Value) -> Result<TemplateBody, Refusal> {
        let mut f = Fields::of(body, &"")?;
        for read_only in ["id", "created_at", "updated_at"] {
            if body.get(read_only).is_some() {
                return Err(Refusal::field(
                    read_only,
                    "is set by the server and cannot be written",
                ));
            }
        }
        let t = TemplateBody::read(&mut f)?;
        f.finish()?;
        Ok(t)
    }

    fn read(f: &mut Fields) -> Result<TemplateBody, Refusal> {
        let description = match f.get("description") {
            Some(v) => fields::string(v, &"description", MAX_DESCRIPTION)?.to_string(),
            None => String::new(),
        };
        let active = match f.get("active") {
            Some(v) => fields::boolean(v, &"active")?,
            None => true,
        };
        let issue_limit_per_min = match f.get("issue_limit_per_min") {
            Some(v) => count(v, &"issue_limit_per_min", MAX_PER_MIN)?,
            None => DEFAULT_ISSUE_LIMIT_PER_MIN as u32,
        };
        let spec = KeySpec::read(f)?;
        Ok(TemplateBody {
            description,
            active,
            spec,
            issue_limit_per_min,
        })
    }

    fn write(&self, out: &mut Map) {
        out.insert("description".into(), Value::from(&self.description));
        out.insert("active".into(), Value::from(self.active));
        self.spec.write(out);
        out.insert(
            "issue_limit_per_min".into(),
            Value::from(self.issue_limit_per_min),
        );
    }
}

/// A stored template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub id: String,
    pub created_at: u64,
    pub updated_at: u64,
    pub body: TemplateBody,
}

/// `SECU_` and 32 upper-case hex digits, from 16 random bytes.
pub fn new_template_id(random: [u8; 16]) -> String {
    format!("SECU_{}", hex::upper(&random))
}

pub fn is_template_id(s: &str) -> bool {
    s.strip_prefix("SECU_").is_some_and(|h| {
        h.len() == 32
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
    })
}

impl Template {
    pub fn create(id: String, body: TemplateBody, now: u64) -> Template {
        Template {
            id,
            created_at: now,
            updated_at: now,
            body,
        }
    }

    /// The canonical JSON, as stored and returned by the API.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("id".into(), Value::from(&self.id));
        self.body.write(&mut out);
        out.insert(
            "created_at".into(),
            Value::from(time::rfc3339(self.created_at)),
        );
        out.insert(
            "updated_at".into(),
            Value::from(time::rfc3339(self.updated_at)),
        );
        out.insert("created_at_unix".into(), Value::from(self.created_at));
        out.insert("updated_at_unix".into(), Value::from(self.updated_at));
        Value::Object(out)
    }

    /// Reads back what `to_json` wrote.
    pub fn from_stored(value: &Value) -> Result<Template, Refusal> {
        let mut f = Fields::of(value, &"")?;
        let id = f
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| is_template_id(s))
            .ok_or_else(|| Refusal::field("id", "is not a template id"))?
            .to_string();
        let created_at = f.get("created_at_unix").and_then(Value::as_u64);
        let updated_at = f.get("updated_at_unix").and_then(Value::as_u64);
        // The RFC 3339 forms are derived from the Unix ones.
        f.get("created_at");
        f.get("updated_at");
        let body = TemplateBody::read(&mut f)?;
        f.finish()?;
        match (created_at, updated_at) {
            (Some(created_at), Some(updated_at)) => Ok(Template {
                id,
                created_at,
                updated_at,
                body,
            }),
            _ => Err(Refusal::field("created_at_unix", "is missing")),
        }
    }

    /// Applies a JSON merge patch (RFC 7386): fields given replace, `null`
    /// resets a field to its default, nested objects merge.
    pub fn patch(&self, patch: &Value, now: u64) -> Result<Template, Refusal> {
        if !patch.is_object() {
            return Err(Refusal::RejectJson {
                detail: "expected a JSON object".into(),
            });
        }
        let mut current = Map::new();
        self.body.write(&mut current);
        let mut merged = Value::Object(current);
        merge_patch(&mut merged, &canonical_names(patch));
        let body = TemplateBody::from_json(&merged)?;
        Ok(Template {
            id: self.id.clone(),
            created_at: self.created_at,
            updated_at: now,
            body,
        })
    }
}

/// Field aliases, as (object, alias, canonical name).
const ALIASES: [(&str, &str, &str); 3] = [
    ("upload", "limit_per_ip_source", "limit_per_source_ip"),
    ("key_validity", "expire_duration", "expiration_duration"),
    ("listing", "directory_scope", "dir_scope"),
];

/// A patch with aliases renamed to the canonical names the stored JSON uses,
/// so that merging replaces the stored field. Giving both names is left for
/// the parser to refuse.
pub(crate) fn canonical_names(patch: &Value) -> Value {
    let mut patch = patch.clone();
    for (object, alias, name) in ALIASES {
        if let Some(Value::Object(o)) = patch.get_mut(object)
            && !o.contains_key(name)
            && let Some(v) = o.remove(alias)
        {
            o.insert(name.to_string(), v);
        }
    }
    patch
}

pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k), v);
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::json::json;
    use crate::core::permission::Permission;

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

    #[test]
    fn the_documents_example_parses() {
        let spec = KeySpec::from_key_request(&json!({ "data": doc_example() })).unwrap();
        let p = &spec.policy;
        assert_eq!(spec.expiration, 600);
        assert_eq!(p.upload.limit_per_min, Some(5));
        assert_eq!(p.upload.max, Some(6));
        assert_eq!(p.upload.limit_per_source_ip, Some(12));
        assert_eq!(p.upload.max_file_size, 1_048_576);
        assert!(p.upload.dir_scope.allows("/test/x"));
        assert!(!p.upload.dir_scope.allows("/hello/x"));
        assert_eq!(p.listing.max, Some(3));
        assert!(p.permissions.contains(Permission::FileUpload));
        assert_eq!(
            p.restrictions.countries.as_ref().unwrap().to_texts(),
            vec!["FR"]
        );
    }

    #[test]
    fn defaults() {
        let t = TemplateBody::from_json(&json!({})).unwrap();
        assert!(t.active);
        assert_eq!(t.issue_limit_per_min, 5);
        assert_eq!(t.spec.expiration, 1200);
        assert_eq!(t.spec.policy.upload.max_file_size, 524_288_000);
        assert_eq!(t.spec.policy.upload.max, None);
        assert_eq!(t.spec.policy.listing.dir_scope.to_texts(), vec!["/*"]);
        assert!(t.spec.policy.restrictions.ip_ranges.is_none());
        assert_eq!(
            KeySpec::from_key_request(&json!({})).unwrap(),
            KeySpec::default()
        );
    }

    #[test]
    fn aliases() {
        let t = TemplateBody::from_json(&json!({
            "upload": {"limit_per_ip_source": 3},
            "key_validity": {"expiration_duration": 60},
            "listing": {"directory_scope": ["/a/*"]},
            "permissions": ["DIR_MOV"]
        }))
        .unwrap();
        assert_eq!(t.spec.policy.upload.limit_per_source_ip, Some(3));
        assert_eq!(t.spec.expiration, 60);
        assert!(t.spec.policy.listing.dir_scope.allows("/a/b"));
        assert!(t.spec.policy.permissions.contains(Permission::DirMove));
    }

    fn refusal(body: Value) -> String {
        TemplateBody::from_json(&body).unwrap_err().message()
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
                "upload.dir_scope[0]:",
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
            (json!({"issue_limit_per_min": 0}), "issue_limit_per_min:"),
            (json!({"active": "yes"}), "active: must be true or false"),
            (json!({"description": 5}), "description: must be a string"),
            (json!({"id": "SECU_X"}), "id: is set by the server"),
            (json!({"upload": []}), "upload: must be an object"),
        ];
        for (body, expected) in cases {
            let msg = refusal(body.clone());
            assert!(msg.starts_with(expected), "{body}: {msg}");
        }
        assert_eq!(
            TemplateBody::from_json(&json!([1])).unwrap_err().code(),
            "INVALID_JSON"
        );
    }

    #[test]
    fn key_request_refuses_template_only_fields() {
        let e =
            KeySpec::from_key_request(&json!({"data": {"issue_limit_per_min": 3}})).unwrap_err();
        assert_eq!(e.message(), "data.issue_limit_per_min: unknown field");
        let e = KeySpec::from_key_request(&json!({"permissions": []})).unwrap_err();
        assert_eq!(e.message(), "permissions: unknown field");
    }

    #[test]
    fn stored_round_trip() {
        let mut body = doc_example();
        body["description"] = json!("widget");
        body["issue_limit_per_min"] = json!(9);
        let t = Template::create(
            new_template_id([0xab; 16]),
            TemplateBody::from_json(&body).unwrap(),
            1_795_323_661,
        );
        let stored = t.to_json();
        assert_eq!(stored["id"], "SECU_ABABABABABABABABABABABABABABABAB");
        assert_eq!(stored["created_at"], "2026-11-22T05:01:01Z");
        assert_eq!(stored["upload"]["limit_per_source_ip"].as_u64(), Some(12));
        assert_eq!(
            stored["key_validity"]["expiration_duration"].as_u64(),
            Some(600)
        );
        assert_eq!(Template::from_stored(&stored).unwrap(), t);
    }

    #[test]
    fn patch_merges_and_resets() {
        let t = Template::create(
            new_template_id([1; 16]),
            TemplateBody::from_json(&doc_example()).unwrap(),
            100,
        );
        let p = t
            .patch(
                &json!({"active": false, "upload": {"max": null, "limit_per_min": 9}}),
                200,
            )
            .unwrap();
        assert!(!p.body.active);
        assert_eq!(p.body.spec.policy.upload.max, None);
        assert_eq!(p.body.spec.policy.upload.limit_per_min, Some(9));
        assert_eq!(p.body.spec.policy.upload.limit_per_source_ip, Some(12));
        assert_eq!((p.created_at, p.updated_at), (100, 200));
        let aliased = p.patch(&json!({"upload": {"limit_per_ip_source": 4}, "listing": {"directory_scope": ["/z"]}}), 250).unwrap();
        assert_eq!(aliased.body.spec.policy.upload.limit_per_source_ip, Some(4));
        assert!(aliased.body.spec.policy.listing.dir_scope.allows("/z"));
        let back = p.patch(&json!({"active": true}), 300).unwrap();
        assert!(back.body.active);
        assert!(t.patch(&json!({"upload": {"max": 0}}), 300).is_err());
        assert!(t.patch(&json!({"created_at": "x"}), 300).is_err());
        assert!(t.patch(&json!([]), 300).is_err());
    }

    #[test]
    fn compact_policy_round_trips() {
        let spec = KeySpec::from_key_request(&json!({ "data": doc_example() })).unwrap();
        for policy in [Policy::default(), spec.policy] {
            let mut out = Map::new();
            policy.write_compact(&mut out);
            let v = Value::Object(out);
            let mut f = Fields::of(&v, &"").unwrap();
            assert_eq!(Policy::read(&mut f).unwrap(), policy);
            f.finish().unwrap();
        }
        let mut out = Map::new();
        Policy::default().write_compact(&mut out);
        assert_eq!(Value::Object(out), json!({}));
    }

    #[test]
    fn the_demo_template_is_a_stored_template() {
        let demo = crate::core::json::parse_str(include_str!("../../demo/template.json")).unwrap();
        let t = Template::from_stored(&demo).unwrap();
        assert!(is_template_id(&t.id));
        assert!(t.body.active);
        assert_eq!(t.to_json(), demo, "demo/template.json is in canonical form");
    }

    #[test]
    fn template_ids() {
        assert!(is_template_id("SECU_3268740E1C82464B9BC350D868F966CB"));
        assert!(!is_template_id("SECU_3268740e1c82464b9bc350d868f966cb"));
        assert!(!is_template_id("SECU_3268740E1C82464B9BC350D868F966C"));
        assert!(!is_template_id("3268740E1C82464B9BC350D868F966CB"));
    }
}

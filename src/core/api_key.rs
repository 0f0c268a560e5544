//! Permanent API secret keys, managed as data, and the principal a request
//! authenticates as.
//!
//! A secret is `sek_{64 hex}_{8 hex}`: 256 random bits, then a checksum (the
//! first 4 bytes of SHA-256 over everything before it), so a leaked secret
//! can be recognised by a scanner and a mistyped one refused without a
//! lookup. Only the SHA-256 of a secret is stored, and keys are looked up by
//! that hash: no scan.

use crate::core::json::{self, Map, Value};
use sha2::{Digest, Sha256};

use crate::core::fields::{self, Fields};
use crate::core::hex;
use crate::core::permission::{Holder, Permission, Permissions};
use crate::core::refusal::Refusal;
use crate::core::route::is_project;
use crate::core::template::merge_patch;
use crate::core::time;

pub const SECRET_PREFIX: &str = "sek_";
/// Most projects one key names.
pub const MAX_PROJECTS: usize = 100;
/// The id under which the root key (`ROOT_API_KEY`) is shown.
pub const ROOT_ID: &str = "root";

fn checksum(body: &str) -> String {
    hex::lower(&Sha256::digest(body.as_bytes())[..4])
}

/// A new secret from 32 random bytes.
pub fn new_secret(random: [u8; 32]) -> String {
    let body = format!("{SECRET_PREFIX}{}", hex::lower(&random));
    let sum = checksum(&body);
    format!("{body}_{sum}")
}

/// Whether `secret` has the shape and checksum of a secret this worker made.
pub fn is_well_formed(secret: &str) -> bool {
    let Some((body, sum)) = secret.rsplit_once('_') else {
        return false;
    };
    let hexes = |s: &str, n: usize| {
        s.len() == n
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    body.strip_prefix(SECRET_PREFIX)
        .is_some_and(|r| hexes(r, 64))
        && hexes(sum, 8)
        && checksum(body) == sum
}

/// The stored form of a secret: its SHA-256, in hex.
pub fn secret_hash(secret: &str) -> String {
    hex::lower(&Sha256::digest(secret.as_bytes()))
}

/// `APIK_` and 32 upper-case hex digits.
pub fn new_api_key_id(random: [u8; 16]) -> String {
    format!("APIK_{}", hex::upper(&random))
}

pub fn is_api_key_id(s: &str) -> bool {
    s == ROOT_ID
        || s.strip_prefix("APIK_").is_some_and(|h| {
            h.len() == 32
                && h.bytes()
                    .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
        })
}

/// The projects a key works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Projects {
    /// `["*"]`: a company-wide key.
    All,
    Only(Vec<String>),
}

impl Projects {
    fn from_json(value: &Value) -> Result<Projects, Refusal> {
        let list = value
            .as_array()
            .ok_or_else(|| Refusal::field("projects", "must be a list of projects, or [\"*\"]"))?;
        if list.len() > MAX_PROJECTS {
            return Err(Refusal::field(
                "projects",
                format!("must have at most {MAX_PROJECTS} entries"),
            ));
        }
        if list.len() == 1 && list[0].as_str() == Some("*") {
            return Ok(Projects::All);
        }
        let mut projects = Vec::with_capacity(list.len());
        for (i, item) in list.iter().enumerate() {
            match item.as_str() {
                Some(p) if is_project(p) => projects.push(p.to_string()),
                _ => {
                    return Err(Refusal::field(
                        format!("projects[{i}]"),
                        "must be a project (1 to 32 of a-z, 0-9), or the list must be [\"*\"]",
                    ));
                }
            }
        }
        projects.sort();
        projects.dedup();
        Ok(Projects::Only(projects))
    }

    fn to_json(&self) -> Value {
        match self {
            Projects::All => Value::from(vec!["*"]),
            Projects::Only(list) => Value::from(list.clone()),
        }
    }

    pub fn allows(&self, project: &str) -> bool {
        match self {
            Projects::All => true,
            Projects::Only(list) => list.iter().any(|p| p == project),
        }
    }
}

/// What a key may do: permissions on projects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub permissions: Permissions,
    pub projects: Projects,
}

impl Grant {
    pub fn everything() -> Grant {
        Grant {
            permissions: Permissions::all(Holder::ApiKey),
            projects: Projects::All,
        }
    }

    pub fn allows(&self, project: &str, permission: Permission) -> bool {
        self.permissions.contains(permission) && self.projects.allows(project)
    }

    /// Checks that `other` grants nothing `self` lacks, naming what it would.
    pub fn covers(&self, other: &Grant) -> Result<(), Refusal> {
        if !other.permissions.is_subset(self.permissions) {
            let missing = other.permissions.missing_from(self.permissions).join(", ");
            return Err(Refusal::DenyBroader {
                field: "permissions".into(),
                reason: format!("{missing} not held by the calling key"),
            });
        }
        match (&self.projects, &other.projects) {
            (Projects::All, _) => Ok(()),
            (Projects::Only(_), Projects::All) => Err(Refusal::DenyBroader {
                field: "projects".into(),
                reason: "[\"*\"] needs a company-wide calling key".into(),
            }),
            (Projects::Only(mine), Projects::Only(theirs)) => {
                match theirs.iter().find(|p| !mine.contains(p)) {
                    Some(p) => Err(Refusal::DenyBroader {
                        field: "projects".into(),
                        reason: format!("{p} is not a project of the calling key"),
                    }),
                    None => Ok(()),
                }
            }
        }
    }
}

/// A stored API secret key. The secret itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub description: String,
    pub grant: Grant,
    pub active: bool,
    pub hash: String,
    pub created_by: String,
    pub created_at: u64,
    pub updated_at: u64,
}

/// The fields a caller writes.
fn read_body(body: &Value, partial_of: Option<&ApiKey>) -> Result<(String, Grant, bool), Refusal> {
    let mut merged = match partial_of {
        Some(key) => key.public_json(),
        None => Value::Object(Map::new()),
    };
    if let Some(o) = merged.as_object_mut() {
        for server_field in ["id", "created_at", "updated_at", "created_by"] {
            o.remove(server_field);
        }
    }
    if !body.is_object() {
        return Err(Refusal::RejectJson {
            detail: "expected a JSON object".into(),
        });
    }
    for read_only in ["id", "created_at", "updated_at", "created_by", "secret"] {
        if body.get(read_only).is_some() {
            return Err(Refusal::field(
                read_only,
                "is set by the server and cannot be written",
            ));
        }
    }
    merge_patch(&mut merged, body);
    let mut f = Fields::of(&merged, &"")?;
    let description = match f.get("description") {
        Some(v) => fields::string(v, &"description", 1024)?.to_string(),
        None => String::new(),
    };
    let permissions = match f.get("permissions") {
        Some(v) => Permissions::from_json(v, &"permissions", Holder::ApiKey)?,
        None => Permissions::default(),
    };
    let projects = Projects::from_json(f.get("projects").ok_or_else(|| {
        Refusal::field(
            "projects",
            "is missing; give a list of projects, or [\"*\"]",
        )
    })?)?;
    let active = match f.get("active") {
        Some(v) => fields::boolean(v, &"active")?,
        None => true,
    };
    f.finish()?;
    Ok((
        description,
        Grant {
            permissions,
            projects,
        },
        active,
    ))
}

impl ApiKey {
    /// A new key from a `POST /v5/api-keys` body, created by `creator`.
    pub fn create(
        body: &Value,
        creator: &Principal,
        id: String,
        secret: &str,
        now: u64,
    ) -> Result<ApiKey, Refusal> {
        let (description, grant, active) = read_body(body, None)?;
        creator.grant().covers(&grant)?;
        Ok(ApiKey {
            id,
            description,
            grant,
            active,
            hash: secret_hash(secret),
            created_by: creator.id().to_string(),
            created_at: now,
            updated_at: now,
        })
    }

    /// Applies a `PATCH` (a JSON merge patch of description, permissions,
    /// projects, active) made by `editor`, who must cover the key before and after.
    pub fn patch(&self, body: &Value, editor: &Principal, now: u64) -> Result<ApiKey, Refusal> {
        editor.grant().covers(&self.grant)?;
        let (description, grant, active) = read_body(body, Some(self))?;
        editor.grant().covers(&grant)?;
        Ok(ApiKey {
            description,
            grant,
            active,
            updated_at: now,
            ..self.clone()
        })
    }

    /// What the API shows: everything but the hash.
    pub fn public_json(&self) -> Value {
        json::object([
            ("id", Value::from(&self.id)),
            ("description", Value::from(&self.description)),
            ("permissions", Value::from(self.grant.permissions.names())),
            ("projects", self.grant.projects.to_json()),
            ("active", Value::from(self.active)),
            ("created_by", Value::from(self.created_by.clone())),
            ("created_at", Value::from(time::rfc3339(self.created_at))),
            ("updated_at", Value::from(time::rfc3339(self.updated_at))),
        ])
    }

    pub fn to_stored(&self) -> Value {
        let mut v = self.public_json();
        if let Some(o) = v.as_object_mut() {
            o.insert("hash".into(), Value::from(&self.hash));
            o.insert("created_at_unix".into(), Value::from(self.created_at));
            o.insert("updated_at_unix".into(), Value::from(self.updated_at));
        }
        v
    }

    pub fn from_stored(value: &Value) -> Result<ApiKey, Refusal> {
        let text = |name: &str| {
            value
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| Refusal::field(name, "is missing"))
        };
        let num = |name: &str| {
            value
                .get(name)
                .and_then(Value::as_u64)
                .ok_or_else(|| Refusal::field(name, "is missing"))
        };
        let mut body = Map::new();
        for name in ["description", "permissions", "projects", "active"] {
            if let Some(v) = value.get(name) {
                body.insert(name.into(), v.clone());
            }
        }
        let (description, grant, active) = read_body(&Value::Object(body), None)?;
        Ok(ApiKey {
            id: text("id")?,
            description,
            grant,
            active,
            hash: text("hash")?,
            created_by: text("created_by")?,
            created_at: num("created_at_unix")?,
            updated_at: num("updated_at_unix")?,
        })
    }
}

/// Who an API secret key authenticates as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// `ROOT_API_KEY`: every permission on every project.
    Root,
    /// A stored, active key.
    Key(ApiKey),
}

impl Principal {
    pub fn grant(&self) -> Grant {
        match self {
            Principal::Root => Grant::everything(),
            Principal::Key(k) => k.grant.clone(),
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Principal::Root => ROOT_ID,
            Principal::Key(k) => &k.id,
        }
    }

    pub fn allows(&self, project: &str, permission: Permission) -> bool {
        match self {
            Principal::Root => true,
            Principal::Key(k) => k.grant.allows(project, permission),
        }
    }

    /// Checks `permission` on `project` (or on no project, for company calls).
    pub fn require(&self, project: Option<&str>, permission: Permission) -> Result<(), Refusal> {
        let grant = self.grant();
        let ok = grant.permissions.contains(permission)
            && project.is_none_or(|p| grant.projects.allows(p));
        if ok {
            Ok(())
        } else {
            Err(Refusal::DenyPermission { permission })
        }
    }
}

/// How the root key is listed: it is not stored, and the API cannot change it.
pub fn root_json() -> Value {
    json::object([
        ("id", Value::from(ROOT_ID)),
        (
            "description",
            Value::from("ROOT_API_KEY: the bootstrap key, set as a worker secret"),
        ),
        (
            "permissions",
            Value::from(Permissions::all(Holder::ApiKey).names()),
        ),
        ("projects", Value::from(vec!["*"])),
        ("active", Value::from(true)),
        ("created_by", Value::Null),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::json::json;

    #[test]
    fn secrets() {
        let s = new_secret([0xab; 32]);
        assert!(s.starts_with("sek_abab"));
        assert_eq!(s.len(), 4 + 64 + 1 + 8);
        assert!(is_well_formed(&s));
        let mut typo = s.clone().into_bytes();
        typo[10] = b'c';
        assert!(!is_well_formed(std::str::from_utf8(&typo).unwrap()));
        assert!(!is_well_formed("sek_abc_12345678"));
        assert!(!is_well_formed(&s.to_uppercase()));
        assert_eq!(
            secret_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_ne!(new_secret([1; 32]), new_secret([2; 32]));
    }

    #[test]
    fn create_and_cover() {
        let root = Principal::Root;
        let k = ApiKey::create(
            &json!({"description": "ci", "permissions": ["FILE_UPLOAD", "ACCESS_MANAGE"], "projects": ["b", "a"]}),
            &root,
            new_api_key_id([1; 16]),
            &new_secret([3; 32]),
            100,
        )
        .unwrap();
        assert_eq!(
            k.grant.projects,
            Projects::Only(vec!["a".into(), "b".into()])
        );
        assert!(k.grant.allows("a", Permission::FileUpload));
        assert!(!k.grant.allows("c", Permission::FileUpload));
        assert!(!k.grant.allows("a", Permission::FileDelete));
        assert_eq!(k.created_by, "root");
        assert_eq!(ApiKey::from_stored(&k.to_stored()).unwrap(), k);
        assert!(k.public_json().get("hash").is_none());

        let creator = Principal::Key(k.clone());
        let make = |v: Value| {
            ApiKey::create(
                &v,
                &creator,
                new_api_key_id([2; 16]),
                &new_secret([4; 32]),
                100,
            )
        };
        assert!(make(json!({"permissions": ["FILE_UPLOAD"], "projects": ["a"]})).is_ok());
        let e = make(json!({"permissions": ["FILE_DELETE"], "projects": ["a"]})).unwrap_err();
        assert_eq!(
            (e.code(), e.message().as_str()),
            (
                "KEY_TOO_BROAD",
                "permissions: FILE_DELETE not held by the calling key"
            )
        );
        assert_eq!(
            make(json!({"permissions": [], "projects": ["c"]}))
                .unwrap_err()
                .code(),
            "KEY_TOO_BROAD"
        );
        assert_eq!(
            make(json!({"permissions": [], "projects": ["*"]}))
                .unwrap_err()
                .code(),
            "KEY_TOO_BROAD"
        );
        assert_eq!(
            make(json!({"permissions": []})).unwrap_err().code(),
            "INVALID_FIELD"
        );
        assert_eq!(
            make(json!({"projects": ["a"], "x": 1}))
                .unwrap_err()
                .message(),
            "x: unknown field"
        );
        assert_eq!(
            make(json!({"projects": ["A"]})).unwrap_err().code(),
            "INVALID_FIELD"
        );
        assert_eq!(
            make(json!({"projects": ["a"], "permissions": ["NOPE"]}))
                .unwrap_err()
                .code(),
            "INVALID_FIELD"
        );
        assert_eq!(
            make(json!({"projects": ["a"], "secret": "x"}))
                .unwrap_err()
                .code(),
            "INVALID_FIELD"
        );
    }

    #[test]
    fn patches() {
        let root = Principal::Root;
        let k = ApiKey::create(
            &json!({"permissions": ["FILE_UPLOAD"], "projects": ["a"]}),
            &root,
            new_api_key_id([1; 16]),
            &new_secret([3; 32]),
            100,
        )
        .unwrap();
        let off = k
            .patch(&json!({"active": false, "description": "off"}), &root, 200)
            .unwrap();
        assert!(!off.active);
        assert_eq!(off.description, "off");
        assert_eq!(off.grant, k.grant);
        assert_eq!((off.created_at, off.updated_at), (100, 200));
        assert_eq!(off.hash, k.hash);
        let narrow = Principal::Key(
            ApiKey::create(
                &json!({"permissions": ["ACCESS_MANAGE", "FILE_UPLOAD"], "projects": ["b"]}),
                &root,
                new_api_key_id([2; 16]),
                &new_secret([5; 32]),
                1,
            )
            .unwrap(),
        );
        assert_eq!(
            k.patch(&json!({"active": false}), &narrow, 300)
                .unwrap_err()
                .code(),
            "KEY_TOO_BROAD",
            "cannot touch a key on another project"
        );
        assert_eq!(
            k.patch(&json!({"projects": ["*"]}), &root, 300)
                .unwrap()
                .grant
                .projects,
            Projects::All
        );
        assert_eq!(
            k.patch(&json!({"id": "x"}), &root, 300).unwrap_err().code(),
            "INVALID_FIELD"
        );
    }

    #[test]
    fn principals() {
        assert!(Principal::Root.allows("any", Permission::AccessManage));
        assert!(
            Principal::Root
                .require(None, Permission::AccessManage)
                .is_ok()
        );
        let k = ApiKey::create(
            &json!({"permissions": ["ACCESS_READ"], "projects": ["a"]}),
            &Principal::Root,
            new_api_key_id([1; 16]),
            &new_secret([3; 32]),
            1,
        )
        .unwrap();
        let p = Principal::Key(k);
        assert!(p.require(None, Permission::AccessRead).is_ok());
        assert!(p.require(Some("a"), Permission::AccessRead).is_ok());
        assert_eq!(
            p.require(Some("b"), Permission::AccessRead)
                .unwrap_err()
                .code(),
            "PERMISSION_DENIED"
        );
        assert_eq!(
            p.require(None, Permission::AccessManage)
                .unwrap_err()
                .code(),
            "PERMISSION_DENIED"
        );
        assert!(is_api_key_id("root"));
        assert!(is_api_key_id(&new_api_key_id([7; 16])));
        assert!(!is_api_key_id("APIK_x"));
    }
}

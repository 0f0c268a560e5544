//! Permanent API secret keys, managed as data, and the principal a request
//! authenticates as.
//!
//! A secret is `sek_{64 hex}_{8 hex}`: 256 random bits, then a checksum (the
//! first 4 bytes of SHA-256 over everything before it), so a leaked secret
//! can be recognised by a scanner and a mistyped one refused without a
//! lookup. Only the SHA-256 of a secret is stored, and keys are looked up by
//! that hash: no scan.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::body::{drop_nulls, merge_patch, typed};
use crate::hex;
use crate::id::{ApiKeyId, Project, ROOT_API_KEY_ID};
use crate::permission::{Permission, Permissions};
use crate::refusal::Refusal;
use crate::template::Description;
use crate::time;

pub const SECRET_PREFIX: &str = "sek_";
/// Most projects one key names.
pub const MAX_PROJECTS: usize = 100;

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

/// The projects a key works on: read and written as a list of projects, or
/// `["*"]` for every project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<ProjectEntry>", into = "Vec<String>")]
pub enum Projects {
    /// `["*"]`: a company-wide key.
    All,
    Only(Vec<Project>),
}

/// One entry of `projects`: a project, or `*`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum ProjectEntry {
    Every,
    One(Project),
}

impl TryFrom<String> for ProjectEntry {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if s == "*" {
            return Ok(ProjectEntry::Every);
        }
        Project::parse(&s).map(ProjectEntry::One).ok_or_else(|| {
            "must be a project (1 to 32 of a-z, 0-9), or the list must be [\"*\"]".to_string()
        })
    }
}

impl TryFrom<Vec<ProjectEntry>> for Projects {
    type Error = String;
    fn try_from(list: Vec<ProjectEntry>) -> Result<Self, String> {
        if list.len() > MAX_PROJECTS {
            return Err(format!("must have at most {MAX_PROJECTS} entries"));
        }
        if list == [ProjectEntry::Every] {
            return Ok(Projects::All);
        }
        let mut projects = Vec::with_capacity(list.len());
        for entry in list {
            match entry {
                ProjectEntry::One(p) => projects.push(p),
                ProjectEntry::Every => return Err("[\"*\"] must be the whole list".into()),
            }
        }
        projects.sort();
        projects.dedup();
        Ok(Projects::Only(projects))
    }
}

impl From<Projects> for Vec<String> {
    fn from(p: Projects) -> Vec<String> {
        match p {
            Projects::All => vec!["*".into()],
            Projects::Only(list) => list.into_iter().map(String::from).collect(),
        }
    }
}

impl Projects {
    pub fn allows(&self, project: &Project) -> bool {
        match self {
            Projects::All => true,
            Projects::Only(list) => list.contains(project),
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
            permissions: Permissions::all(),
            projects: Projects::All,
        }
    }

    pub fn allows(&self, project: &Project, permission: Permission) -> bool {
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

fn yes() -> bool {
    true
}

/// The fields a caller writes, as `POST` sends them and as `PATCH` merges
/// them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    #[serde(default)]
    description: Description,
    #[serde(default)]
    permissions: Permissions,
    projects: Projects,
    #[serde(default = "yes")]
    active: bool,
}

/// The fields the server sets; a body that names one is refused.
const READ_ONLY: [&str; 5] = ["id", "created_at", "updated_at", "created_by", "secret"];

/// A stored API secret key. The secret itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub description: String,
    pub grant: Grant,
    pub active: bool,
    pub hash: String,
    pub created_by: ApiKeyId,
    pub created_at: u64,
    pub updated_at: u64,
}

/// What the API shows of a key.
#[derive(Serialize)]
struct Shown<'a> {
    id: &'a ApiKeyId,
    description: &'a str,
    permissions: Permissions,
    projects: &'a Projects,
    active: bool,
    created_by: &'a ApiKeyId,
    created_at: String,
    updated_at: String,
}

/// What is stored of a key: what is shown, its secret's hash and its times.
#[derive(Serialize, Deserialize)]
struct Stored {
    id: ApiKeyId,
    #[serde(default)]
    description: Description,
    permissions: Permissions,
    projects: Projects,
    active: bool,
    created_by: ApiKeyId,
    hash: String,
    created_at_unix: u64,
    updated_at_unix: u64,
}

/// Reads a `POST` or merged `PATCH` body.
fn read_body(mut body: Value) -> Result<(String, Grant, bool), Refusal> {
    drop_nulls(&mut body);
    let b: Body = typed(body, "")?;
    Ok((
        b.description.into(),
        Grant {
            permissions: b.permissions,
            projects: b.projects,
        },
        b.active,
    ))
}

fn refuse_read_only(body: &Value) -> Result<(), Refusal> {
    match body
        .as_object()
        .and_then(|o| READ_ONLY.iter().find(|n| o.contains_key(**n)))
    {
        Some(name) => Err(Refusal::field(
            *name,
            "is set by the server and cannot be written",
        )),
        None => Ok(()),
    }
}

impl ApiKey {
    /// A new key from a `POST /v5/api-keys` body, created by `creator`.
    pub fn create(
        body: Value,
        creator: &Principal,
        id: ApiKeyId,
        secret: &str,
        now: u64,
    ) -> Result<ApiKey, Refusal> {
        refuse_read_only(&body)?;
        let (description, grant, active) = read_body(body)?;
        creator.grant().covers(&grant)?;
        Ok(ApiKey {
            id,
            description,
            grant,
            active,
            hash: secret_hash(secret),
            created_by: creator.id(),
            created_at: now,
            updated_at: now,
        })
    }

    /// Applies a `PATCH` (a JSON merge patch of description, permissions,
    /// projects, active) made by `editor`, who must cover the key before and after.
    pub fn patch(&self, body: &Value, editor: &Principal, now: u64) -> Result<ApiKey, Refusal> {
        editor.grant().covers(&self.grant)?;
        if !body.is_object() {
            return Err(Refusal::RejectJson {
                detail: "expected a JSON object".into(),
            });
        }
        refuse_read_only(body)?;
        let mut merged = json!({
            "description": self.description,
            "permissions": self.grant.permissions,
            "projects": self.grant.projects,
            "active": self.active,
        });
        merge_patch(&mut merged, body);
        let (description, grant, active) = read_body(merged)?;
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
        serde_json::to_value(Shown {
            id: &self.id,
            description: &self.description,
            permissions: self.grant.permissions,
            projects: &self.grant.projects,
            active: self.active,
            created_by: &self.created_by,
            created_at: time::rfc3339(self.created_at),
            updated_at: time::rfc3339(self.updated_at),
        })
        .unwrap_or_default()
    }

    /// The stored form: what the API shows, the hash and the Unix times.
    pub fn to_stored(&self) -> Value {
        let mut shown = self.public_json();
        let stored = serde_json::to_value(Stored {
            id: self.id.clone(),
            description: Description::try_from(self.description.clone()).unwrap_or_default(),
            permissions: self.grant.permissions,
            projects: self.grant.projects.clone(),
            active: self.active,
            created_by: self.created_by.clone(),
            hash: self.hash.clone(),
            created_at_unix: self.created_at,
            updated_at_unix: self.updated_at,
        })
        .unwrap_or_default();
        merge_patch(&mut shown, &stored);
        shown
    }

    pub fn from_stored(value: Value) -> Result<ApiKey, Refusal> {
        let s: Stored = serde_json::from_value(value).map_err(|e| Refusal::RejectJson {
            detail: e.to_string(),
        })?;
        Ok(ApiKey {
            id: s.id,
            description: s.description.into(),
            grant: Grant {
                permissions: s.permissions,
                projects: s.projects,
            },
            active: s.active,
            hash: s.hash,
            created_by: s.created_by,
            created_at: s.created_at_unix,
            updated_at: s.updated_at_unix,
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
    /// Whether this key may give `permissions` to what it makes: a SASS key
    /// it mints, or a template it creates, changes or activates. An API key
    /// gives nothing it does not hold itself.
    pub fn may_give(&self, permissions: Permissions) -> Result<(), Refusal> {
        let held = self.grant().permissions;
        if permissions.is_subset(held) {
            return Ok(());
        }
        Err(Refusal::DenyBroader {
            field: "permissions".into(),
            reason: format!(
                "{} not held by the calling API key",
                permissions.missing_from(held).join(", ")
            ),
        })
    }

    pub fn grant(&self) -> Grant {
        match self {
            Principal::Root => Grant::everything(),
            Principal::Key(k) => k.grant.clone(),
        }
    }

    pub fn id(&self) -> ApiKeyId {
        match self {
            Principal::Root => ApiKeyId::root(),
            Principal::Key(k) => k.id.clone(),
        }
    }

    pub fn allows(&self, project: &Project, permission: Permission) -> bool {
        match self {
            Principal::Root => true,
            Principal::Key(k) => k.grant.allows(project, permission),
        }
    }

    /// Checks `permission` on `project` (or on no project, for company calls).
    pub fn require(
        &self,
        project: Option<&Project>,
        permission: Permission,
    ) -> Result<(), Refusal> {
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
    json!({
        "id": ROOT_API_KEY_ID,
        "description": "ROOT_API_KEY: the bootstrap key, set as a worker secret",
        "permissions": Permissions::all(),
        "projects": ["*"],
        "active": true,
        "created_by": null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
    fn an_api_key_gives_only_what_it_holds() {
        let k = ApiKey::create(
            json!({"description": "cfg", "permissions": ["CONFIG_CHANGE", "FILE_UPLOAD"], "projects": ["a"]}),
            &Principal::Root,
            ApiKeyId::new([1; 16]),
            &new_secret([3; 32]),
            100,
        )
        .unwrap();
        let key = Principal::Key(k);
        let set = |p: &[Permission]| p.iter().fold(Permissions::default(), |s, p| s.with(*p));
        assert_eq!(key.may_give(set(&[Permission::FileUpload])), Ok(()));
        assert_eq!(key.may_give(set(&[])), Ok(()));
        let e = key
            .may_give(set(&[
                Permission::FileUpload,
                Permission::FileDelete,
                Permission::ObjectsFetch,
            ]))
            .unwrap_err();
        assert_eq!((e.status(), e.code()), (403, "KEY_TOO_BROAD"));
        assert!(
            e.message().contains("FILE_DELETE") && e.message().contains("OBJECTS_FETCH"),
            "{}",
            e.message()
        );
        assert_eq!(
            Principal::Root.may_give(set(&[Permission::FileDelete])),
            Ok(())
        );
    }

    #[test]
    fn create_and_cover() {
        let root = Principal::Root;
        let k = ApiKey::create(
            json!({"description": "ci", "permissions": ["FILE_UPLOAD", "ACCESS_MANAGE"], "projects": ["b", "a"]}),
            &root,
            ApiKeyId::new([1; 16]),
            &new_secret([3; 32]),
            100,
        )
        .unwrap();
        let p = |s: &str| Project::parse(s).unwrap();
        assert_eq!(k.grant.projects, Projects::Only(vec![p("a"), p("b")]));
        assert!(k.grant.allows(&p("a"), Permission::FileUpload));
        assert!(!k.grant.allows(&p("c"), Permission::FileUpload));
        assert!(!k.grant.allows(&p("a"), Permission::FileDelete));
        assert!(k.created_by.is_root());
        assert_eq!(ApiKey::from_stored(k.to_stored()).unwrap(), k);
        assert_eq!(k.to_stored()["created_at"], "1970-01-01T00:01:40Z");
        assert!(k.public_json().get("hash").is_none());

        let creator = Principal::Key(k.clone());
        let make = |v: Value| {
            ApiKey::create(
                v,
                &creator,
                ApiKeyId::new([2; 16]),
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
            json!({"permissions": ["FILE_UPLOAD"], "projects": ["a"]}),
            &root,
            ApiKeyId::new([1; 16]),
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
                json!({"permissions": ["ACCESS_MANAGE", "FILE_UPLOAD"], "projects": ["b"]}),
                &root,
                ApiKeyId::new([2; 16]),
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
        assert!(Principal::Root.allows(&Project::parse("any").unwrap(), Permission::AccessManage));
        assert!(
            Principal::Root
                .require(None, Permission::AccessManage)
                .is_ok()
        );
        let k = ApiKey::create(
            json!({"permissions": ["ACCESS_READ"], "projects": ["a"]}),
            &Principal::Root,
            ApiKeyId::new([1; 16]),
            &new_secret([3; 32]),
            1,
        )
        .unwrap();
        let p = Principal::Key(k);
        assert!(p.require(None, Permission::AccessRead).is_ok());
        assert!(
            p.require(Project::parse("a").as_ref(), Permission::AccessRead)
                .is_ok()
        );
        assert_eq!(
            p.require(Project::parse("b").as_ref(), Permission::AccessRead)
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
        assert_eq!(root_json()["permissions"].as_array().unwrap().len(), 25);
    }
}

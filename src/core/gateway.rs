//! The gateway's decision: may this request, made with this key, pass?
//!
//! The checks run in a fixed order and the first that fails decides the
//! refusal. A refused request touches no counter and no storage. Steps 1 to 3
//! (`check_key`) need only the key; revocation and step 4 need state the
//! shell looks up; steps 5 to 10 (`admit`) decide the rest and say which
//! counters to take.
//!
//! 1. the key is well formed and authentic (KEY_INVALID)
//! 2. it has not expired (KEY_EXPIRED)
//! 3. it is for this project (PROJECT_MISMATCH)
//!    and neither it nor a key it was attenuated from is revoked (KEY_REVOKED)
//! 4. its template is active (TEMPLATE_INACTIVE)
//! 5. the source IP is allowed (IP_NOT_ALLOWED)
//! 6. the country is allowed (COUNTRY_NOT_ALLOWED)
//! 7. it holds the permission (PERMISSION_DENIED)
//! 8. the path is valid (PATH_INVALID) and in scope (SCOPE_DENIED)
//! 9. the upload has a length (LENGTH_REQUIRED) within max_file_size (FILE_TOO_LARGE)
//! 10. the counters admit it (RATE_LIMITED, QUOTA_EXCEEDED): done by the limiter

use std::net::IpAddr;

use crate::core::counter::Limit;
use crate::core::key::{self, Claims, LEEWAY};
use crate::core::path;
use crate::core::permission::{Permission, Permissions};
use crate::core::refusal::Refusal;
use crate::core::restriction::counting_name;
use crate::core::signing::Keyring;

/// What a storage request asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Upload,
    Fetch,
    Delete,
    Move,
    SetMeta,
    List,
}

/// A storage request as it arrived, before any check.
#[derive(Debug, Clone)]
pub struct Ask {
    pub verb: Verb,
    /// The file's path as sent in the URL (percent-encoded), or for `List`
    /// the `folder` query parameter (already decoded).
    pub path: String,
    /// For `Move`: the destination from the JSON body (not percent-encoded).
    pub to: Option<String>,
    /// For `Upload`: the declared `Content-Length`.
    pub length: Option<u64>,
}

/// A storage request once its paths are parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    Upload { path: String, length: u64 },
    Fetch { path: String },
    Delete { path: String },
    Move { from: String, to: String },
    SetMeta { path: String },
    List { folder: String },
}

impl Operation {
    pub fn permission(&self) -> Permission {
        match self {
            Operation::Upload { .. } => Permission::FileUpload,
            Operation::Fetch { .. } => Permission::ObjectsFetch,
            Operation::Delete { .. } => Permission::FileDelete,
            Operation::Move { from, to } if path::parent(from) == path::parent(to) => {
                Permission::FileRename
            }
            Operation::Move { .. } => Permission::FileMove,
            Operation::SetMeta { .. } => Permission::FileMetaChange,
            Operation::List { .. } => Permission::ObjectsList,
        }
    }

    /// The directories checked against a scope, with the action named in a refusal.
    fn directories(&self) -> Vec<(&'static str, &str)> {
        match self {
            Operation::Upload { path, .. } => vec![("upload into", path::parent(path))],
            Operation::Fetch { path } => vec![("fetch from", path::parent(path))],
            Operation::Delete { path } => vec![("delete in", path::parent(path))],
            Operation::SetMeta { path } => vec![("change files in", path::parent(path))],
            Operation::Move { from, to } => vec![
                ("move files out of", path::parent(from)),
                ("move files into", path::parent(to)),
            ],
            Operation::List { folder } => vec![("list", folder.as_str())],
        }
    }
}

/// The permissions that can allow `verb`, before paths are parsed.
fn coarse_permissions(verb: Verb) -> &'static [Permission] {
    match verb {
        Verb::Upload => &[Permission::FileUpload],
        Verb::Fetch => &[Permission::ObjectsFetch],
        Verb::Delete => &[Permission::FileDelete],
        Verb::Move => &[Permission::FileRename, Permission::FileMove],
        Verb::SetMeta => &[Permission::FileMetaChange],
        Verb::List => &[Permission::ObjectsList],
    }
}

fn require(held: Permissions, permission: Permission) -> Result<(), Refusal> {
    if held.contains(permission) {
        Ok(())
    } else {
        Err(Refusal::DenyPermission { permission })
    }
}

/// Parses the paths of `ask`: the validity half of step 8.
fn parse(ask: &Ask) -> Result<Operation, Refusal> {
    let file = |raw: &str| path::file(path::percent_decode(raw)?);
    let op = match ask.verb {
        Verb::Upload => Operation::Upload {
            path: file(&ask.path)?,
            length: 0,
        },
        Verb::Fetch => Operation::Fetch {
            path: file(&ask.path)?,
        },
        Verb::Delete => Operation::Delete {
            path: file(&ask.path)?,
        },
        Verb::SetMeta => Operation::SetMeta {
            path: file(&ask.path)?,
        },
        Verb::Move => {
            let to = ask
                .to
                .clone()
                .ok_or_else(|| Refusal::field("to", "is missing"))?;
            Operation::Move {
                from: file(&ask.path)?,
                to: path::file(to)?,
            }
        }
        Verb::List => Operation::List {
            folder: path::checked(ask.path.clone())?,
        },
    };
    Ok(op)
}

/// Step 9: an upload declares a length within `max_file_size`.
fn check_length(op: Operation, ask: &Ask, max_file_size: u64) -> Result<Operation, Refusal> {
    match op {
        Operation::Upload { path, .. } => {
            let length = ask.length.ok_or(Refusal::RequireLength)?;
            if length > max_file_size {
                return Err(Refusal::RejectFileSize {
                    limit: max_file_size,
                });
            }
            Ok(Operation::Upload { path, length })
        }
        other => Ok(other),
    }
}

/// Largest JSON body of a move or meta call.
pub const MAX_SMALL_BODY: usize = 8 * 1024;
/// Largest file metadata, serialised: R2 keeps it as custom metadata.
pub const MAX_META: usize = 2048;

/// The destination of `POST …/move`: `{"to": "/new/path"}`.
pub fn move_destination(body: &crate::core::json::Value) -> Result<String, Refusal> {
    let mut f = crate::core::fields::Fields::of(body, &"")?;
    let to = f
        .get("to")
        .ok_or_else(|| Refusal::field("to", "is missing"))?
        .as_str()
        .ok_or_else(|| Refusal::field("to", "must be a string"))?
        .to_string();
    f.finish()?;
    Ok(to)
}

/// The metadata of `PUT …/meta`: a JSON object, kept serialised.
pub fn file_meta(body: &crate::core::json::Value) -> Result<String, Refusal> {
    if !body.is_object() {
        return Err(Refusal::RejectJson {
            detail: "file metadata must be a JSON object".into(),
        });
    }
    let text = body.to_string();
    if text.len() > MAX_META {
        return Err(Refusal::field(
            "meta",
            format!("must be at most {MAX_META} bytes as JSON"),
        ));
    }
    Ok(text)
}

/// Where the request comes from, as the platform says.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// From `CF-Connecting-IP`, IPv4-mapped addresses as IPv4.
    pub ip: Option<IpAddr>,
    /// From `CF-IPCountry`.
    pub country: Option<String>,
    /// The `Origin` header a browser sends; servers send none.
    pub origin: Option<String>,
}

/// What the shell looked up about a key: whether it (or an ancestor) is
/// revoked, and its template's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyState {
    pub revoked: bool,
    pub template: TemplateState,
}

impl KeyState {
    /// Revocation and step 4.
    pub fn check(self) -> Result<(), Refusal> {
        if self.revoked {
            return Err(Refusal::RejectRevokedKey);
        }
        if self.template == TemplateState::Inactive {
            return Err(Refusal::DenyInactiveTemplate);
        }
        Ok(())
    }
}

/// Whether the template a key was issued from still allows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateState {
    Active,
    /// Deactivated or deleted.
    Inactive,
    /// The key was not issued from a template.
    None,
}

/// A request that passed every check but the counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    pub operation: Operation,
    /// The counters to take one hit from, in the key's limiter object.
    pub counters: Vec<(String, Limit)>,
    /// When the key's lifetime counters can be forgotten (ms).
    pub keep_until: u64,
}

/// The name of a key's limiter object.
pub fn limiter_name(claims: &Claims) -> String {
    format!("key/{}", claims.key_id)
}

/// Steps 1 to 3.
pub fn check_key(key: &str, keyring: &Keyring, project: &str, now: u64) -> Result<Claims, Refusal> {
    let claims = key::verify(key, keyring, now)?;
    if claims.project != project {
        return Err(Refusal::DenyProject);
    }
    Ok(claims)
}

/// Steps 5 and 6: the key may be used from where the request comes from,
/// and (before both) by a page of this origin, if a browser sent one.
pub fn check_place(claims: &Claims, client: &Client) -> Result<(), Refusal> {
    check_origin(&claims.policy, client)?;
    let restrictions = &claims.policy.restrictions;
    if let Some(ranges) = &restrictions.ip_ranges
        && !client.ip.is_some_and(|ip| ranges.contains(ip))
    {
        return Err(Refusal::DenyIp);
    }
    if let Some(countries) = &restrictions.countries
        && !countries.allows(client.country.as_deref())
    {
        return Err(Refusal::DenyCountry);
    }
    Ok(())
}

/// A browser's `Origin` must be in `allowed_origins`, when the policy has
/// them. A request without `Origin` (a server) passes.
pub fn check_origin(
    policy: &crate::core::template::Policy,
    client: &Client,
) -> Result<(), Refusal> {
    match (&policy.allowed_origins, &client.origin) {
        (Some(allowed), Some(origin)) if !allowed.allows(origin) => Err(Refusal::DenyOrigin),
        _ => Ok(()),
    }
}

/// Revocation, steps 4 to 9, and the plan for step 10.
pub fn admit(
    claims: &Claims,
    state: KeyState,
    ask: &Ask,
    client: &Client,
) -> Result<Admission, Refusal> {
    let policy = &claims.policy;
    state.check()?;
    check_place(claims, client)?;
    let candidates = coarse_permissions(ask.verb);
    if !candidates.iter().any(|p| policy.permissions.contains(*p)) {
        return Err(Refusal::DenyPermission {
            permission: *candidates.last().unwrap_or(&Permission::ObjectsFetch),
        });
    }
    let op = parse(ask)?;
    require(policy.permissions, op.permission())?;
    let scopes = match op {
        Operation::Upload { .. } => &policy.upload.dir_scope,
        _ => &policy.listing.dir_scope,
    };
    for (action, dir) in op.directories() {
        if !scopes.allows(dir) {
            return Err(Refusal::DenyScope {
                action,
                dir: dir.to_string(),
            });
        }
    }
    let op = check_length(op, ask, policy.upload.max_file_size)?;
    let counters = match op {
        Operation::Upload { .. } => upload_counters(claims, client),
        _ => listing_counters(claims),
    };
    Ok(Admission {
        operation: op,
        counters,
        keep_until: (claims.expires_at + LEEWAY) * 1000,
    })
}

/// The counters an upload from `client` takes a hit from; empty when the key
/// has none, so that no limiter is called.
pub fn upload_counters(claims: &Claims, client: &Client) -> Vec<(String, Limit)> {
    let up = &claims.policy.upload;
    let mut out = Vec::new();
    if let Some(limit) = up.limit_per_min {
        let window = Limit::Window {
            limit,
            window_ms: 60_000,
        };
        out.push(("upload.limit_per_min".into(), window));
    }
    if let Some(limit) = up.max {
        out.push((
            "upload.max".into(),
            Limit::Total {
                limit: limit.into(),
            },
        ));
    }
    if let Some(limit) = up.limit_per_source_ip {
        let name = format!("upload.limit_per_source_ip {}", counting_name(client.ip));
        out.push((
            name,
            Limit::Total {
                limit: limit.into(),
            },
        ));
    }
    out
}

/// The counters every other call takes a hit from.
pub fn listing_counters(claims: &Claims) -> Vec<(String, Limit)> {
    match claims.policy.listing.max {
        Some(limit) => vec![(
            "listing.max".into(),
            Limit::Total {
                limit: limit.into(),
            },
        )],
        None => Vec::new(),
    }
}

/// Steps 7 to 9 for a permanent API secret key: no template, IP, country,
/// scope or counter applies to it.
pub fn admit_api_key(held: impl Fn(Permission) -> bool, ask: &Ask) -> Result<Operation, Refusal> {
    let candidates = coarse_permissions(ask.verb);
    if !candidates.iter().any(|p| held(*p)) {
        return Err(Refusal::DenyPermission {
            permission: *candidates.last().unwrap_or(&Permission::ObjectsFetch),
        });
    }
    let op = parse(ask)?;
    if !held(op.permission()) {
        return Err(Refusal::DenyPermission {
            permission: op.permission(),
        });
    }
    check_length(op, ask, crate::core::template::MAX_FILE_SIZE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::json::json;
    use crate::core::key::{new_key_id, sign};
    use crate::core::template::KeySpec;

    const SECRET: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    const NOW: u64 = 1_795_323_661;
    const ACTIVE: KeyState = KeyState {
        revoked: false,
        template: TemplateState::Active,
    };
    const NONE: KeyState = KeyState {
        revoked: false,
        template: TemplateState::None,
    };
    const INACTIVE: KeyState = KeyState {
        revoked: false,
        template: TemplateState::Inactive,
    };
    const REVOKED: KeyState = KeyState {
        revoked: true,
        template: TemplateState::Inactive,
    };

    fn claims(data: crate::core::json::Value) -> Claims {
        let spec = KeySpec::from_key_request(&json!({ "data": data })).unwrap();
        Claims {
            project: "demo".into(),
            template: None,
            key_id: new_key_id([1; 16]),
            issued_at: NOW,
            expires_at: NOW + spec.expiration,
            policy: spec.policy,
            lineage: Vec::new(),
        }
    }

    fn ask(verb: Verb, path: &str) -> Ask {
        Ask {
            verb,
            path: path.into(),
            to: None,
            length: Some(10),
        }
    }

    fn client(ip: &str, country: &str) -> Client {
        Client {
            ip: Some(ip.parse().unwrap()),
            country: Some(country.into()),
            origin: None,
        }
    }

    fn code(r: Result<Admission, Refusal>) -> &'static str {
        match r {
            Ok(_) => "OK",
            Err(e) => e.code(),
        }
    }

    fn everything() -> crate::core::json::Value {
        json!({
            "permissions": ["FILE_UPLOAD", "OBJECTS_FETCH", "OBJECTS_LIST", "FILE_DELETE", "FILE_RENAME", "FILE_META_CHANGE"],
            "upload": {"dir_scope": ["/up/*"], "max_file_size": 100, "max": 5, "limit_per_min": 2, "limit_per_source_ip": 3},
            "listing": {"dir_scope": ["/up/*", "/pub"], "max": 9},
            "restrictions": {"whitelist_ip_ranges": ["192.0.2.0/24", "2001:db8::/32"], "whitelist_countries": ["FR"]}
        })
    }

    #[test]
    fn key_checks_come_first() {
        let ring = Keyring::parse(&format!("k1:{SECRET}")).unwrap();
        let c = claims(json!({}));
        let key = sign(&c, ring.signer());
        assert_eq!(check_key(&key, &ring, "demo", NOW).unwrap(), c);
        assert_eq!(
            check_key(&key, &ring, "other", NOW).unwrap_err().code(),
            "PROJECT_MISMATCH"
        );
        assert_eq!(
            check_key(&key, &ring, "demo", NOW + 1200 + 31)
                .unwrap_err()
                .code(),
            "KEY_EXPIRED"
        );
        assert_eq!(
            check_key("nope", &ring, "demo", NOW).unwrap_err().code(),
            "KEY_INVALID"
        );
    }

    #[test]
    fn each_check_in_order() {
        let c = claims(everything());
        let ok = client("192.0.2.1", "FR");
        let up = ask(Verb::Upload, "/up/a.jpg");
        assert_eq!(code(admit(&c, ACTIVE, &up, &ok)), "OK");
        assert_eq!(code(admit(&c, NONE, &up, &ok)), "OK");
        assert_eq!(code(admit(&c, INACTIVE, &up, &ok)), "TEMPLATE_INACTIVE");
        assert_eq!(
            code(admit(&c, ACTIVE, &up, &client("198.51.100.1", "FR"))),
            "IP_NOT_ALLOWED"
        );
        assert_eq!(
            code(admit(&c, ACTIVE, &up, &Client::default())),
            "IP_NOT_ALLOWED"
        );
        assert_eq!(
            code(admit(&c, ACTIVE, &up, &client("::ffff:192.0.2.1", "FR"))),
            "OK"
        );
        assert_eq!(
            code(admit(&c, ACTIVE, &up, &client("2001:db8::1", "FR"))),
            "OK"
        );
        for country in ["US", "XX", "T1", ""] {
            assert_eq!(
                code(admit(&c, ACTIVE, &up, &client("192.0.2.1", country))),
                "COUNTRY_NOT_ALLOWED"
            );
        }
        let no_country = Client {
            ip: ok.ip,
            country: None,
            origin: None,
        };
        assert_eq!(
            code(admit(&c, ACTIVE, &up, &no_country)),
            "COUNTRY_NOT_ALLOWED"
        );
        assert_eq!(
            code(admit(&c, REVOKED, &up, &ok)),
            "KEY_REVOKED",
            "revocation comes first"
        );
        // An inactive template wins over every later check.
        assert_eq!(
            code(admit(&c, INACTIVE, &up, &Client::default())),
            "TEMPLATE_INACTIVE"
        );
    }

    #[test]
    fn origins() {
        let c = claims(
            json!({"permissions": ["FILE_UPLOAD"], "allowed_origins": ["https://shop.example"],
            "restrictions": {"whitelist_countries": ["FR"]}}),
        );
        let from = |origin: Option<&str>, country: &str| Client {
            ip: None,
            country: Some(country.into()),
            origin: origin.map(String::from),
        };
        let up = ask(Verb::Upload, "/a.jpg");
        assert_eq!(
            code(admit(
                &c,
                NONE,
                &up,
                &from(Some("https://shop.example"), "FR")
            )),
            "OK"
        );
        assert_eq!(
            code(admit(&c, NONE, &up, &from(None, "FR"))),
            "OK",
            "servers send no Origin"
        );
        assert_eq!(
            code(admit(
                &c,
                NONE,
                &up,
                &from(Some("https://evil.example"), "FR")
            )),
            "ORIGIN_NOT_ALLOWED"
        );
        assert_eq!(
            code(admit(
                &c,
                NONE,
                &up,
                &from(Some("https://evil.example"), "US")
            )),
            "ORIGIN_NOT_ALLOWED",
            "before the country"
        );
        assert_eq!(
            code(admit(&c, NONE, &up, &from(None, "US"))),
            "COUNTRY_NOT_ALLOWED"
        );
        let open = claims(json!({"permissions": ["FILE_UPLOAD"]}));
        assert_eq!(
            code(admit(
                &open,
                NONE,
                &up,
                &from(Some("https://any.example"), "US")
            )),
            "OK"
        );
    }

    #[test]
    fn permissions_scopes_and_sizes() {
        let c = claims(everything());
        let ok = client("192.0.2.1", "FR");
        let run = |a: Ask| code(admit(&c, ACTIVE, &a, &ok));
        assert_eq!(run(ask(Verb::Upload, "/elsewhere/a.jpg")), "SCOPE_DENIED");
        assert_eq!(run(ask(Verb::Upload, "/up/deep/er/a.jpg")), "OK");
        assert_eq!(run(ask(Verb::Upload, "/upper/a.jpg")), "SCOPE_DENIED");
        assert_eq!(run(ask(Verb::Upload, "/up/a%2Fb.jpg")), "PATH_INVALID");
        assert_eq!(run(ask(Verb::Upload, "/up//a.jpg")), "PATH_INVALID");
        assert_eq!(run(ask(Verb::Upload, "/up/%2E%2E/x.jpg")), "PATH_INVALID");
        assert_eq!(
            run(Ask {
                length: None,
                ..ask(Verb::Upload, "/up/a.jpg")
            }),
            "LENGTH_REQUIRED"
        );
        assert_eq!(
            run(Ask {
                length: Some(101),
                ..ask(Verb::Upload, "/up/a.jpg")
            }),
            "FILE_TOO_LARGE"
        );
        assert_eq!(
            run(Ask {
                length: Some(100),
                ..ask(Verb::Upload, "/up/a.jpg")
            }),
            "OK"
        );
        assert_eq!(run(ask(Verb::Fetch, "/pub/a.jpg")), "OK");
        assert_eq!(run(ask(Verb::Fetch, "/pub/sub/a.jpg")), "SCOPE_DENIED");
        assert_eq!(run(ask(Verb::List, "/pub")), "OK");
        assert_eq!(run(ask(Verb::List, "/")), "SCOPE_DENIED");
        assert_eq!(run(ask(Verb::List, "/pub/")), "PATH_INVALID");
        let mv = |from: &str, to: &str| Ask {
            to: Some(to.into()),
            ..ask(Verb::Move, from)
        };
        assert_eq!(run(mv("/up/a.jpg", "/up/b.jpg")), "OK");
        assert_eq!(
            run(mv("/up/a.jpg", "/pub/a.jpg")),
            "PERMISSION_DENIED",
            "a move needs FILE_MOVE"
        );
        assert_eq!(run(mv("/up/a.jpg", "/up/../b.jpg")), "PATH_INVALID");
        assert_eq!(
            run(Ask {
                to: None,
                ..ask(Verb::Move, "/up/a.jpg")
            }),
            "INVALID_FIELD"
        );
        let mover =
            claims(json!({"permissions": ["FILE_MOVE"], "listing": {"dir_scope": ["/a/*"]}}));
        let run_mover = |a: Ask| code(admit(&mover, NONE, &a, &Client::default()));
        assert_eq!(run_mover(mv("/a/x", "/a/b/x")), "OK");
        assert_eq!(
            run_mover(mv("/a/x", "/a/y")),
            "PERMISSION_DENIED",
            "a rename needs FILE_RENAME"
        );
        assert_eq!(run_mover(mv("/a/x", "/b/x")), "SCOPE_DENIED");
        assert_eq!(run_mover(mv("/b/x", "/a/x")), "SCOPE_DENIED");
        let reader = claims(json!({"permissions": ["OBJECTS_FETCH"]}));
        let denied = admit(&reader, NONE, &ask(Verb::Upload, "/a"), &Client::default());
        assert_eq!(
            denied.unwrap_err().message(),
            "the key lacks the FILE_UPLOAD permission"
        );
        let scope = admit(&c, NONE, &ask(Verb::Upload, "/private/a"), &ok);
        assert_eq!(
            scope.unwrap_err().message(),
            "this key may not upload into /private"
        );
    }

    #[test]
    fn counters_planned() {
        let c = claims(everything());
        let ok = client("192.0.2.1", "FR");
        let up = admit(&c, NONE, &ask(Verb::Upload, "/up/a"), &ok).unwrap();
        let names: Vec<_> = up.counters.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "upload.limit_per_min",
                "upload.max",
                "upload.limit_per_source_ip 192.0.2.1"
            ]
        );
        assert_eq!(up.keep_until, (NOW + 1200 + 30) * 1000);
        let list = admit(&c, NONE, &ask(Verb::List, "/pub"), &ok).unwrap();
        assert_eq!(
            list.counters,
            vec![("listing.max".to_string(), Limit::Total { limit: 9 })]
        );
        let free = claims(json!({"permissions": ["FILE_UPLOAD", "OBJECTS_LIST"]}));
        for verb in [Verb::Upload, Verb::List] {
            let a = admit(&free, NONE, &ask(verb, "/x"), &Client::default()).unwrap();
            assert!(a.counters.is_empty(), "no counters, no limiter call");
        }
    }

    #[test]
    fn small_bodies() {
        assert_eq!(move_destination(&json!({"to": "/a/b"})).unwrap(), "/a/b");
        assert_eq!(
            move_destination(&json!({})).unwrap_err().message(),
            "to: is missing"
        );
        assert_eq!(
            move_destination(&json!({"to": 5})).unwrap_err().message(),
            "to: must be a string"
        );
        assert_eq!(
            move_destination(&json!({"to": "/a", "x": 1}))
                .unwrap_err()
                .message(),
            "x: unknown field"
        );
        assert_eq!(
            file_meta(&json!({"alt": "cat"})).unwrap(),
            r#"{"alt":"cat"}"#
        );
        assert_eq!(file_meta(&json!([1])).unwrap_err().code(), "INVALID_JSON");
        assert_eq!(
            file_meta(&json!({"a": "x".repeat(3000)}))
                .unwrap_err()
                .code(),
            "INVALID_FIELD"
        );
    }

    proptest::proptest! {
        /// Whatever raw path is sent, an admitted upload lands strictly inside
        /// the scope, with no dot segment, empty segment or backslash.
        #[test]
        fn admitted_paths_stay_in_scope(raw in "/(up|upper|%2e%2e|\\.\\.|\\.|%2F|%5C|a|%00|%41|/){0,6}(/[a-z.%0-9]{0,4}){0,3}") {
            let c = claims(json!({"permissions": ["FILE_UPLOAD"], "upload": {"dir_scope": ["/up/*"]}}));
            if let Ok(a) = admit(&c, NONE, &ask(Verb::Upload, &raw), &Client::default()) {
                let Operation::Upload { path, .. } = a.operation else { panic!("not an upload") };
                proptest::prop_assert!(path.starts_with("/up/"), "{path}");
                proptest::prop_assert!(path::normalised_error(&path).is_none(), "{path}");
                proptest::prop_assert!(!path.split('/').any(|s| s == ".." || s == "."));
            }
        }
    }

    #[test]
    fn api_keys_skip_restrictions() {
        let all = |_: Permission| true;
        let op = admit_api_key(all, &ask(Verb::Upload, "/any/where.jpg")).unwrap();
        assert_eq!(
            op,
            Operation::Upload {
                path: "/any/where.jpg".into(),
                length: 10
            }
        );
        assert_eq!(
            admit_api_key(|p| p == Permission::ObjectsFetch, &ask(Verb::Upload, "/a"))
                .unwrap_err()
                .code(),
            "PERMISSION_DENIED"
        );
        assert_eq!(
            admit_api_key(all, &ask(Verb::Fetch, "/a%2f"))
                .unwrap_err()
                .code(),
            "PATH_INVALID"
        );
        assert_eq!(
            admit_api_key(
                all,
                &Ask {
                    length: None,
                    ..ask(Verb::Upload, "/a")
                }
            )
            .unwrap_err()
            .code(),
            "LENGTH_REQUIRED"
        );
    }
}

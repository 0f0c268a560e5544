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

use std::num::NonZeroU32;

use crate::counter::Limit;
use crate::id::KeyId;
use crate::id::Project;
use crate::key::{self, Claims, KeyCache, Verified};
use crate::limiter::{Counter, LimiterName, Take};
use crate::lineage::{self, Counted};
use crate::permission::Permission;
use crate::refusal::Refusal;
use crate::request::{Ask, Operation, Verb};
use crate::restriction::Client;
use crate::signing::Keyring;
use crate::template::Template;

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
        match self.template {
            TemplateState::Inactive => Err(Refusal::DenyInactiveTemplate),
            TemplateState::Changed => Err(Refusal::DenyChangedTemplate),
            TemplateState::Active | TemplateState::None => Ok(()),
        }
    }
}

/// Whether the template a key was issued from still allows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateState {
    Active,
    /// Deactivated or deleted.
    Inactive,
    /// Narrowed since the key was issued.
    Changed,
    /// The key was not issued from a template.
    None,
}

impl TemplateState {
    /// What `template` (as stored now, `None` when deleted) says of `key`.
    pub fn of(key: &Claims, template: Option<&Template>) -> TemplateState {
        match (&key.template, template) {
            (None, _) => TemplateState::None,
            (Some(_), None) => TemplateState::Inactive,
            (Some(_), Some(t)) if !t.body.active => TemplateState::Inactive,
            (Some(_), Some(t)) if t.generation > key.generation => TemplateState::Changed,
            (Some(_), Some(_)) => TemplateState::Active,
        }
    }
}

/// A request that passed every check but the counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    pub operation: Operation,
    /// The counters to take a hit from, and where; `None` when the key has
    /// none, so that no limiter is called.
    pub counted: Option<(LimiterName, Take)>,
}

/// Steps 1 to 3.
pub fn check_key(
    key: &str,
    keyring: &Keyring,
    project: &Project,
    now: u64,
) -> Result<Verified, Refusal> {
    for_project(key::verify(key, keyring, now)?, project)
}

/// Steps 1 to 3, through a cache of keys verified before.
pub fn check_key_cached(
    cache: &mut KeyCache,
    key: &str,
    keyring: &Keyring,
    project: &Project,
    now: u64,
) -> Result<Verified, Refusal> {
    for_project(cache.verify(key, keyring, now)?, project)
}

fn for_project(verified: Verified, project: &Project) -> Result<Verified, Refusal> {
    if verified.project != *project {
        return Err(Refusal::DenyProject);
    }
    Ok(verified)
}

/// Step 7's first half: the key holds a permission that can allow the
/// verb, before its paths are read.
fn require_any(held: impl Fn(Permission) -> bool, verb: Verb) -> Result<(), Refusal> {
    let candidates = verb.permissions();
    if candidates.iter().any(|p| held(*p)) {
        return Ok(());
    }
    Err(Refusal::DenyPermission {
        permission: *candidates.last().unwrap_or(&Permission::ObjectsFetch),
    })
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

/// Revocation, the template, and where the key may be used (its IP ranges,
/// countries and origins): what every use of a key passes, the calls that
/// only read about the key (introspection, the key check) included.
pub fn check_use(key: &Verified, state: KeyState, client: &Client) -> Result<(), Refusal> {
    state.check()?;
    key.policy.check_place(client)
}

/// Revocation, steps 4 to 7 as far as they need no path: what can be
/// checked before the target of a call addressed by file id is looked up.
pub fn precheck(
    key: &Verified,
    state: KeyState,
    verb: Verb,
    client: &Client,
) -> Result<(), Refusal> {
    check_use(key, state, client)?;
    require_any(|p| key.policy.permissions.contains(p), verb)
}

/// Revocation, steps 4 to 9, and the plan for step 10.
/// How far the limiter's clock may be ahead of the gateway's (ms): a key's
/// lifetime totals are kept this long after the gateway stops accepting it.
pub const CLOCK_SKEW_MS: u64 = 60_000;

pub fn admit(
    key: &Verified,
    state: KeyState,
    ask: &Ask,
    client: &Client,
) -> Result<Admission, Refusal> {
    let policy = &key.policy;
    precheck(key, state, ask.verb, client)?;
    let op = ask.operation()?;
    let permission = op.permission();
    if !policy.permissions.contains(permission) {
        return Err(Refusal::DenyPermission { permission });
    }
    let scopes = if op.is_upload() {
        &policy.upload.dir_scope
    } else {
        &policy.listing.dir_scope
    };
    for (action, dir) in op.directories() {
        if !scopes.allows(&dir) {
            return Err(Refusal::DenyScope {
                action,
                dir: dir.to_string(),
            });
        }
    }
    let op = check_length(op, ask, policy.upload.max_file_size.get())?;
    let counters = if op.is_upload() {
        upload_counters(key, client)
    } else {
        listing_counters(key)
    };
    let counted = (!counters.is_empty()).then(|| {
        (
            lineage::limiter(&key.lineage, &key.key_id),
            Take {
                counters,
                keep_until: key::refused_from_ms(key.expires_at).saturating_add(CLOCK_SKEW_MS),
                hits: NonZeroU32::MIN,
            },
        )
    });
    Ok(Admission {
        operation: op,
        counted,
    })
}

/// Whose counters a key's calls take, in its lineage root's limiter: each
/// ancestor's, oldest first, then its own.
fn counting(key: &Verified) -> impl Iterator<Item = (&KeyId, Counted)> {
    key.lineage
        .iter()
        .map(|a| (&a.key_id, a.limits))
        .chain([(&key.key_id, Counted::of(&key.policy))])
}

fn counters_of(
    key: &Verified,
    each: impl Fn(&Counted) -> Vec<(Counter, Limit)>,
    own_only: bool,
) -> Vec<(Counter, Limit)> {
    let root = lineage::root(&key.lineage, &key.key_id);
    counting(key)
        .filter(|(owner, _)| !own_only || *owner == &key.key_id)
        .flat_map(|(owner, counted)| {
            each(&counted)
                .into_iter()
                .map(move |(c, l)| (lineage::named(owner, root, c), l))
        })
        .collect()
}

/// The counters an upload from `client` takes a hit from (its ancestors'
/// and its own); empty when none of them counts.
pub fn upload_counters(key: &Verified, client: &Client) -> Vec<(Counter, Limit)> {
    counters_of(key, |c| c.upload(client), false)
}

/// The counters every other call takes a hit from.
pub fn listing_counters(key: &Verified) -> Vec<(Counter, Limit)> {
    counters_of(key, Counted::listing, false)
}

/// The key's own counters (an upload's from `client`, then the listing's),
/// as named in its lineage root's limiter.
pub fn own_counters(key: &Verified, client: &Client) -> Vec<(Counter, Limit)> {
    let mut own = counters_of(key, |c| c.upload(client), true);
    own.extend(counters_of(key, Counted::listing, true));
    own
}

/// Steps 7 to 9 for a permanent API secret key: no template, IP, country,
/// scope or counter applies to it.
pub fn admit_api_key(held: impl Fn(Permission) -> bool, ask: &Ask) -> Result<Operation, Refusal> {
    require_any(&held, ask.verb)?;
    let op = ask.operation()?;
    if !held(op.permission()) {
        return Err(Refusal::DenyPermission {
            permission: op.permission(),
        });
    }
    check_length(op, ask, crate::bounded::MAX_FILE_SIZE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::KeyId;
    use crate::key::{Claims, sign};
    use crate::path::{Dir, FilePath, normalised_error};
    use crate::request::Target;
    use crate::template::KeySpec;
    use serde_json::{Value, json};

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

    fn ring() -> Keyring {
        Keyring::parse(&format!("k1:{SECRET}")).unwrap()
    }

    fn demo() -> Project {
        Project::parse("demo").unwrap()
    }

    fn raw_claims(data: Value) -> Claims {
        let spec = KeySpec::from_key_request(json!({ "data": data })).unwrap();
        Claims {
            project: demo(),
            template: None,
            key_id: KeyId::issued(NOW + spec.expiration(), [1; 12]),
            generation: 0,
            issued_at: NOW,
            expires_at: NOW + spec.expiration(),
            lineage: Vec::new(),
            policy: spec.policy,
        }
    }

    /// A verified key with the policy `data`: signed, then verified.
    fn claims(data: Value) -> Verified {
        check_key(
            &sign(&raw_claims(data), ring().signer()),
            &ring(),
            &demo(),
            NOW,
        )
        .unwrap()
    }

    fn ask(verb: Verb, path: &str) -> Ask {
        let target = match verb {
            Verb::List | Verb::UploadFiles => Target::Plain(path.into()),
            _ => Target::Url(path.into()),
        };
        Ask {
            verb,
            target,
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

    fn everything() -> Value {
        json!({
            "permissions": ["FILE_UPLOAD", "OBJECTS_FETCH", "OBJECTS_LIST", "FILE_DELETE", "FILE_RENAME", "FILE_META_CHANGE"],
            "upload": {"dir_scope": ["/up/*"], "max_file_size": 100, "max": 5, "limit_per_min": 2, "limit_per_source_ip": 3},
            "listing": {"dir_scope": ["/up/*", "/pub"], "max": 9},
            "restrictions": {"whitelist_ip_ranges": ["192.0.2.0/24", "2001:db8::/32"], "whitelist_countries": ["FR"]}
        })
    }

    #[test]
    fn key_checks_come_first() {
        let c = raw_claims(json!({}));
        let key = sign(&c, ring().signer());
        assert_eq!(*check_key(&key, &ring(), &demo(), NOW).unwrap(), c);
        let other = Project::parse("other").unwrap();
        assert_eq!(
            check_key(&key, &ring(), &other, NOW).unwrap_err().code(),
            "PROJECT_MISMATCH"
        );
        assert_eq!(
            check_key(&key, &ring(), &demo(), NOW + 1200 + 31)
                .unwrap_err()
                .code(),
            "KEY_EXPIRED"
        );
        assert_eq!(
            check_key("nope", &ring(), &demo(), NOW).unwrap_err().code(),
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

    fn counter_names(a: &Admission) -> Vec<String> {
        a.counted
            .iter()
            .flat_map(|(_, t)| t.counters.iter().map(|(c, _)| c.to_string()))
            .collect()
    }

    #[test]
    fn a_key_from_before_a_narrowing_is_refused() {
        use crate::id::TemplateId;
        use crate::template::TemplateBody;
        let body = TemplateBody::from_json(json!({"permissions": ["OBJECTS_LIST"]})).unwrap();
        let mut t = Template::create(TemplateId::new([3; 16]), body, NOW);
        let mut key = raw_claims(json!({}));
        assert_eq!(
            TemplateState::of(&key, Some(&t)),
            TemplateState::None,
            "no template"
        );
        key.template = Some(t.id.clone());
        assert_eq!(TemplateState::of(&key, Some(&t)), TemplateState::Active);
        t.generation = 1;
        assert_eq!(TemplateState::of(&key, Some(&t)), TemplateState::Changed);
        let state = KeyState {
            revoked: false,
            template: TemplateState::Changed,
        };
        let e = state.check().unwrap_err();
        assert_eq!((e.status(), e.code()), (403, "TEMPLATE_CHANGED"));
        key.generation = 1;
        assert_eq!(
            TemplateState::of(&key, Some(&t)),
            TemplateState::Active,
            "a key issued after it"
        );
        t.body.active = false;
        assert_eq!(TemplateState::of(&key, Some(&t)), TemplateState::Inactive);
        assert_eq!(
            TemplateState::of(&key, None),
            TemplateState::Inactive,
            "deleted"
        );
    }

    #[test]
    fn children_count_against_their_ancestors_in_one_take() {
        use crate::attenuate::attenuate;
        // A parent with upload.max 3 mints three children with max 3 each:
        // together they store 3 files, not 9.
        let parent = claims(json!({
            "permissions": ["FILE_UPLOAD", "CONFIG_CHANGE"],
            "upload": {"max": 3, "limit_per_min": 10}
        }));
        let ok = client("192.0.2.1", "FR");
        let mut store = Store::default();
        let mut stored = 0;
        for n in 0..3u8 {
            let child = attenuate(
                &parent,
                json!({"data": {"upload": {"max": 3}}}),
                NOW,
                [10 + n; 12],
            )
            .unwrap();
            let child = check_key(&sign(&child, ring().signer()), &ring(), &demo(), NOW).unwrap();
            for _ in 0..3 {
                let (name, take) = admit(&child, NONE, &ask(Verb::Upload, "/a"), &ok)
                    .unwrap()
                    .counted
                    .unwrap();
                assert_eq!(
                    name,
                    LimiterName::Key(parent.key_id.clone()),
                    "the root's limiter"
                );
                let names: Vec<String> = take.counters.iter().map(|(c, _)| c.to_string()).collect();
                assert_eq!(
                    names,
                    [
                        "upload.limit_per_min".to_string(),
                        "upload.max".into(),
                        format!("{}/upload.limit_per_min", child.key_id),
                        format!("{}/upload.max", child.key_id),
                    ]
                );
                stored += u32::from(store.take(&take, NOW * 1000));
            }
        }
        assert_eq!(stored, 3);
        // A grandchild counts against both.
        let child = attenuate(&parent, json!({"data": {}}), NOW, [20; 12]).unwrap();
        let child = check_key(&sign(&child, ring().signer()), &ring(), &demo(), NOW).unwrap();
        let grandchild = attenuate(
            &child,
            json!({"data": {"upload": {"max": 1}}}),
            NOW,
            [21; 12],
        )
        .unwrap();
        let grandchild =
            check_key(&sign(&grandchild, ring().signer()), &ring(), &demo(), NOW).unwrap();
        let (name, take) = admit(&grandchild, NONE, &ask(Verb::Upload, "/a"), &ok)
            .unwrap()
            .counted
            .unwrap();
        assert_eq!(name, LimiterName::Key(parent.key_id.clone()));
        assert_eq!(take.counters.len(), 2 + 2 + 2);
        assert!(!store.take(&take, NOW * 1000), "the root's quota is spent");
        // Introspection shows the key's own counters only.
        let own: Vec<String> = own_counters(&grandchild, &ok)
            .iter()
            .map(|(c, _)| c.to_string())
            .collect();
        assert_eq!(
            own,
            [
                format!("{}/upload.limit_per_min", grandchild.key_id),
                format!("{}/upload.max", grandchild.key_id)
            ]
        );
    }

    #[test]
    fn every_use_checks_the_place() {
        let c = claims(json!({
            "permissions": ["OBJECTS_LIST"],
            "restrictions": {"whitelist_ip_ranges": ["10.0.0.0/8"], "whitelist_countries": ["FR"]},
            "allowed_origins": ["https://app.example"]
        }));
        let mut inside = client("10.1.2.3", "FR");
        inside.origin = Some("https://app.example".into());
        assert_eq!(check_use(&c, NONE, &inside), Ok(()));
        let code = |client: &Client| check_use(&c, NONE, client).unwrap_err().code();
        assert_eq!(
            code(&Client {
                ip: Some("192.0.2.1".parse().unwrap()),
                ..inside.clone()
            }),
            "IP_NOT_ALLOWED"
        );
        assert_eq!(
            code(&Client {
                country: Some("DE".into()),
                ..inside.clone()
            }),
            "COUNTRY_NOT_ALLOWED"
        );
        assert_eq!(
            code(&Client {
                origin: Some("https://evil.example".into()),
                ..inside.clone()
            }),
            "ORIGIN_NOT_ALLOWED"
        );
        assert_eq!(
            check_use(&c, REVOKED, &inside).unwrap_err().code(),
            "KEY_REVOKED"
        );
    }

    #[test]
    fn counters_planned() {
        let c = claims(everything());
        let ok = client("192.0.2.1", "FR");
        let up = admit(&c, NONE, &ask(Verb::Upload, "/up/a"), &ok).unwrap();
        assert_eq!(
            counter_names(&up),
            [
                "upload.limit_per_min",
                "upload.max",
                "upload.limit_per_source_ip 192.0.2.1"
            ]
        );
        let (name, take) = up.counted.unwrap();
        assert_eq!(name, LimiterName::Key(c.key_id.clone()));
        assert_eq!(
            take.keep_until,
            (NOW + 1200 + 30 + 1) * 1000 + CLOCK_SKEW_MS
        );
        let list = admit(&c, NONE, &ask(Verb::List, "/pub"), &ok).unwrap();
        assert_eq!(counter_names(&list), ["listing.max"]);
        assert_eq!(list.counted.unwrap().1.counters[0].1.value(), 9);
        let free = claims(json!({"permissions": ["FILE_UPLOAD", "OBJECTS_LIST"]}));
        for verb in [Verb::Upload, Verb::List] {
            let a = admit(&free, NONE, &ask(verb, "/x"), &Client::default()).unwrap();
            assert!(a.counted.is_none(), "no counters, no limiter call");
        }
    }

    /// The limiter's store, as the Durable Object keeps it: a row per
    /// counter with its forget time, and an alarm that deletes every row due.
    #[derive(Default)]
    struct Store(std::collections::HashMap<String, (crate::counter::CounterState, u64)>);

    impl Store {
        /// The worst case: the alarm runs right before each take.
        fn take(&mut self, take: &Take, now_ms: u64) -> bool {
            use crate::counter::{forget_at, take_all};
            self.0.retain(|_, (_, forget)| *forget > now_ms);
            let loaded: Vec<_> = take
                .counters
                .iter()
                .map(|(c, l)| {
                    (
                        *l,
                        self.0
                            .get(&c.to_string())
                            .map(|r| r.0.clone())
                            .unwrap_or_default(),
                    )
                })
                .collect();
            let Ok(next) = take_all(&loaded, now_ms, take.hits) else {
                return false;
            };
            for ((c, l), state) in take.counters.iter().zip(next) {
                let forget = forget_at(l, &state, take.keep_until, now_ms);
                assert!(
                    forget > now_ms,
                    "a take never schedules its row's deletion at or before now"
                );
                self.0.insert(c.to_string(), (state, forget));
            }
            true
        }
    }

    #[test]
    fn lifetime_totals_hold_to_the_last_accepted_millisecond() {
        // A key with upload.max 1 and listing.max 1, tried every 50 ms from
        // one second before its expiry to after the last accepted instant.
        let raw = raw_claims(json!({
            "permissions": ["FILE_UPLOAD", "OBJECTS_LIST"],
            "upload": {"max": 1}, "listing": {"max": 1},
            "key_validity": {"expiration_duration": 60}
        }));
        let signed = sign(&raw, ring().signer());
        let ok = client("192.0.2.1", "FR");
        for verb in [Verb::Upload, Verb::List] {
            let mut store = Store::default();
            let mut admitted = 0;
            let mut last_accepted = 0;
            let start = (raw.expires_at - 1) * 1000;
            for now_ms in (start..key::refused_from_ms(raw.expires_at) + 2000).step_by(50) {
                let Ok(key) = check_key(&signed, &ring(), &demo(), now_ms / 1000) else {
                    continue;
                };
                last_accepted = now_ms;
                let a = admit(&key, NONE, &ask(verb, "/up/a"), &ok).unwrap();
                let (_, take) = a.counted.unwrap();
                assert!(take.keep_until > now_ms + CLOCK_SKEW_MS - 1000);
                if store.take(&take, now_ms) {
                    admitted += 1;
                }
            }
            assert_eq!(
                admitted, 1,
                "{verb:?}: one in all, up to the last accepted instant"
            );
            assert!(last_accepted >= key::refused_from_ms(raw.expires_at) - 50);
        }
    }

    /// Raw URL paths for the scope property: segments that are mostly
    /// ordinary names, sometimes a traversal or encoding trick, under the
    /// scope's directory or beside it.
    fn raw_paths() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let segment = prop_oneof![
            30 => "[a-z]{1,4}",
            1 => Just("..".to_string()),
            1 => Just(".".to_string()),
            1 => Just("%2e%2e".to_string()),
            1 => Just("%2E".to_string()),
            1 => Just("%2F".to_string()),
            1 => Just("%5C".to_string()),
            1 => Just("%00".to_string()),
            1 => Just(String::new()),
            1 => Just("%41b".to_string()),
        ];
        let start = prop_oneof![4 => Just("up"), 1 => Just("upper"), 1 => Just("down")];
        (start, proptest::collection::vec(segment, 1..5))
            .prop_map(|(start, segs)| format!("/{start}/{}", segs.join("/")))
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        /// Whatever raw path is sent, an admitted upload lands strictly inside
        /// the scope, with no dot segment, empty segment or backslash.
        #[test]
        fn admitted_paths_stay_in_scope(raw in raw_paths()) {
            let c = claims(json!({"permissions": ["FILE_UPLOAD"], "upload": {"dir_scope": ["/up/*"]}}));
            let scope = Dir::parse("/up".into()).unwrap();
            match admit(&c, NONE, &ask(Verb::Upload, &raw), &Client::default()) {
                Ok(a) => {
                    let Operation::Upload { path, .. } = a.operation else { panic!("not an upload") };
                    proptest::prop_assert!(scope.contains(&path.parent()), "{path}");
                    proptest::prop_assert!(normalised_error(path.as_str()).is_none(), "{path}");
                    proptest::prop_assert!(!path.as_str().split('/').any(|s| s == ".." || s == "."));
                }
                Err(e) => proptest::prop_assert!(
                    matches!(e.code(), "PATH_INVALID" | "SCOPE_DENIED"),
                    "{raw}: {}", e.code()
                ),
            }
        }
    }

    /// The premise of `admitted_paths_stay_in_scope` (the path is admitted)
    /// holds often enough for the property to mean something.
    #[test]
    fn the_scope_property_admits_a_good_share() {
        use proptest::strategy::{Strategy, ValueTree};
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let c = claims(json!({"permissions": ["FILE_UPLOAD"], "upload": {"dir_scope": ["/up/*"]}}));
        let admitted = (0..512)
            .filter(|_| {
                let raw = raw_paths().new_tree(&mut runner).unwrap().current();
                admit(&c, NONE, &ask(Verb::Upload, &raw), &Client::default()).is_ok()
            })
            .count();
        println!("the scope property: {admitted} of 512 generated paths admitted");
        assert!(
            admitted >= 100,
            "only {admitted} of 512 generated paths were admitted"
        );
        assert!(
            admitted <= 448,
            "{admitted} of 512 admitted: too few refusals to test"
        );
    }

    #[test]
    fn api_keys_skip_restrictions() {
        let all = |_: Permission| true;
        let op = admit_api_key(all, &ask(Verb::Upload, "/any/where.jpg")).unwrap();
        assert_eq!(
            op,
            Operation::Upload {
                path: FilePath::parse("/any/where.jpg".into()).unwrap(),
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

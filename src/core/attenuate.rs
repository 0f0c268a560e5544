//! Attenuation: a SASS key holding CONFIG_CHANGE mints a new key that is never
//! broader than itself.
//!
//! The request is `POST /{project}/key` with `{"data": {…}}`, as for API keys.
//! A field left out inherits the presented key's value; a field given must be
//! at most as broad. The new key keeps the presented key's project and
//! template, and its lineage names every key it descends from, so revoking
//! any ancestor (or deactivating the template) refuses it too.

use serde::Deserialize;
use serde_json::Value;

use crate::body::{drop_nulls, merge_patch, split_off, typed};
use crate::counter::Limit;
use crate::gateway::{KeyState, check_use};
use crate::id::KeyId;
use crate::key::{Claims, Verified};
use crate::limiter::{Counter, LimiterName, Take};
use crate::lineage::{self, Ancestor, Counted};
use crate::permission::Permission;
use crate::policy::Policy;
use crate::refusal::Refusal;
use crate::restriction::Client;
use crate::restriction::counting_name;
use crate::template::{KeySpec, canonical_names};
use std::num::NonZeroU32;

/// How many times a key can be attenuated in a chain.
pub const MAX_LINEAGE: usize = 4;

/// Keys one key may mint per minute for one client (IPv4, or IPv6 /64), as
/// `GET /key` issues at most `issue_limit_per_min` (5 by default).
pub const MINT_LIMIT_PER_MIN: u32 = 5;

/// The count a mint from `parent` by `client` takes, in the limiter of the
/// parent's lineage.
pub fn mint_take(parent: &Verified, client: &Client, now_ms: u64) -> (LimiterName, Take) {
    let root = lineage::root(&parent.lineage, &parent.key_id);
    let counter = lineage::named(
        &parent.key_id,
        root,
        Counter::Mint(counting_name(client.ip)),
    );
    let limit = Limit::Window {
        limit: NonZeroU32::new(MINT_LIMIT_PER_MIN).unwrap_or(NonZeroU32::MIN),
        window_ms: 60_000,
    };
    let take = Take {
        counters: vec![(counter, limit)],
        keep_until: now_ms + 60_000,
        hits: NonZeroU32::MIN,
    };
    (lineage::limiter(&parent.lineage, &parent.key_id), take)
}

fn broader(field: &str, reason: impl Into<String>) -> Refusal {
    Refusal::DenyBroader {
        field: format!("data.{field}"),
        reason: reason.into(),
    }
}

/// The presented key may mint: it passes the gateway's checks (not revoked,
/// template active, used from an allowed place) and holds CONFIG_CHANGE.
pub fn check_parent(parent: &Verified, state: KeyState, client: &Client) -> Result<(), Refusal> {
    check_use(parent, state, client)?;
    if !parent.policy.permissions.contains(Permission::ConfigChange) {
        return Err(Refusal::DenyPermission {
            permission: Permission::ConfigChange,
        });
    }
    Ok(())
}

/// `{"data": {…}}`, all optional.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    #[serde(default)]
    data: Value,
}

/// The claims of a key attenuated from `parent` by `request` at `now` (Unix
/// seconds).
pub fn attenuate(
    parent: &Verified,
    request: Value,
    now: u64,
    random: [u8; 12],
) -> Result<Claims, Refusal> {
    let request: Request = typed(request, "")?;
    let data = match request.data {
        Value::Null => Value::Object(Default::default()),
        Value::Object(data) => Value::Object(data),
        _ => return Err(Refusal::field("data", "must be an object")),
    };
    if parent.lineage.len() >= MAX_LINEAGE {
        return Err(broader(
            "",
            format!("a key can be attenuated at most {MAX_LINEAGE} times in a chain"),
        ));
    }
    let Value::Object(mut data) = canonical_names(&data) else {
        return Err(Refusal::field("data", "must be an object"));
    };
    let validity = split_off(&mut data, &["key_validity"]);
    // Absent fields inherit the parent's value; `null` resets to the default.
    let mut merged = parent.policy.filled();
    merge_patch(&mut merged, &Value::Object(data));
    drop_nulls(&mut merged);
    let policy: Policy = typed(merged, "data")?;
    if let Some((field, reason)) = policy.broader_than(&parent.policy) {
        return Err(broader(field, reason));
    }
    let expires_at = match validity.as_object().is_some_and(|v| !v.is_empty()) {
        false => parent.expires_at,
        true => now + KeySpec::from_value(validity, "data")?.expiration(),
    };
    if expires_at > parent.expires_at {
        return Err(broader(
            "key_validity.expiration_duration",
            format!(
                "must end by the presented key's expiry ({} s from now)",
                parent.expires_at.saturating_sub(now)
            ),
        ));
    }
    let mut lineage = parent.lineage.clone();
    lineage.push(Ancestor {
        key_id: parent.key_id.clone(),
        limits: Counted::of(&parent.policy),
    });
    Ok(Claims {
        project: parent.project.clone(),
        template: parent.template.clone(),
        key_id: KeyId::issued(expires_at, random),
        generation: parent.generation,
        issued_at: now,
        expires_at,
        lineage,
        policy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::{TemplateState, check_key};
    use crate::id::{Project, TemplateId};
    use crate::key::sign;
    use crate::signing::Keyring;
    use serde_json::json;

    const NOW: u64 = 1_795_323_661;
    const SECRET: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

    fn verified(c: &Claims) -> Verified {
        let ring = Keyring::parse(&format!("k1:{SECRET}")).unwrap();
        check_key(&sign(c, ring.signer()), &ring, &c.project, NOW).unwrap()
    }

    fn parent() -> Verified {
        let spec = KeySpec::from_key_request(json!({"data": {
            "permissions": ["FILE_UPLOAD", "OBJECTS_LIST", "CONFIG_CHANGE"],
            "upload": {"dir_scope": ["/up/*"], "limit_per_min": 10, "limit_per_source_ip": 5, "max": 20, "max_file_size": 1000},
            "restrictions": {"whitelist_ip_ranges": ["10.0.0.0/8"], "whitelist_countries": ["FR", "DE"]},
            "listing": {"dir_scope": ["/up/*"], "max": 30},
            "allowed_origins": ["https://a.example", "https://b.example"],
            "key_validity": {"expiration_duration": 600}
        }}))
        .unwrap();
        verified(&Claims {
            project: Project::parse("demo").unwrap(),
            template: TemplateId::parse("SECU_3268740E1C82464B9BC350D868F966CB"),
            key_id: KeyId::issued(NOW + 600, [9; 12]),
            generation: 0,
            issued_at: NOW,
            expires_at: NOW + 600,
            lineage: Vec::new(),
            policy: spec.policy,
        })
    }

    fn child(data: Value) -> Result<Claims, Refusal> {
        attenuate(&parent(), json!({ "data": data }), NOW + 100, [1; 12])
    }

    #[test]
    fn the_parent_must_be_usable_and_hold_config_change() {
        let active = KeyState {
            revoked: false,
            template: TemplateState::Active,
        };
        let from = |ip: &str, country: &str| Client {
            ip: ip.parse().ok(),
            country: Some(country.into()),
            origin: None,
        };
        assert!(check_parent(&parent(), active, &from("10.1.1.1", "FR")).is_ok());
        let code = |state, client| check_parent(&parent(), state, &client).unwrap_err().code();
        assert_eq!(code(active, from("11.1.1.1", "FR")), "IP_NOT_ALLOWED");
        assert_eq!(
            code(
                KeyState {
                    revoked: true,
                    ..active
                },
                from("10.1.1.1", "FR")
            ),
            "KEY_REVOKED"
        );
        assert_eq!(
            code(
                KeyState {
                    revoked: false,
                    template: TemplateState::Inactive
                },
                from("10.1.1.1", "FR")
            ),
            "TEMPLATE_INACTIVE"
        );
        let weak = attenuate(
            &parent(),
            json!({"data": {"permissions": ["FILE_UPLOAD"]}}),
            NOW,
            [3; 12],
        )
        .unwrap();
        assert_eq!(
            check_parent(&verified(&weak), active, &from("10.1.1.1", "FR"))
                .unwrap_err()
                .code(),
            "PERMISSION_DENIED"
        );
    }

    #[test]
    fn minting_is_counted_per_key_and_client() {
        let from = |ip: &str| Client {
            ip: ip.parse().ok(),
            country: Some("FR".into()),
            origin: None,
        };
        let p = parent();
        let (name, take) = mint_take(&p, &from("10.1.1.1"), 5_000);
        assert_eq!(name, LimiterName::Key(p.key_id.clone()));
        assert_eq!(take.counters.len(), 1);
        assert_eq!(take.counters[0].0.to_string(), "mint 10.1.1.1");
        assert_eq!(
            take.counters[0].1,
            Limit::Window {
                limit: NonZeroU32::new(MINT_LIMIT_PER_MIN).unwrap(),
                window_ms: 60_000
            }
        );
        let c = verified(&child(json!({})).unwrap());
        let (name, take) = mint_take(&c, &from("10.1.1.1"), 5_000);
        assert_eq!(
            name,
            LimiterName::Key(p.key_id.clone()),
            "in the root's limiter"
        );
        assert_eq!(
            take.counters[0].0.to_string(),
            format!("{}/mint 10.1.1.1", c.key_id)
        );
    }

    #[test]
    fn absent_fields_inherit() {
        let c = child(json!({})).unwrap();
        let p = parent();
        assert_eq!(c.policy, p.policy);
        let ids = |c: &Claims| {
            c.lineage
                .iter()
                .map(|a| a.key_id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&c), vec![p.key_id.clone()]);
        assert_eq!(
            c.lineage[0].limits,
            Counted::of(&p.policy),
            "with its counted limits"
        );
        assert_eq!(c.expires_at, p.expires_at);
        assert_eq!(c.template, p.template);
        let grandchild = attenuate(&verified(&c), json!({}), NOW + 100, [2; 12]).unwrap();
        assert_eq!(ids(&grandchild), vec![p.key_id.clone(), c.key_id]);
    }

    #[test]
    fn narrower_is_fine() {
        let c = child(json!({
            "permissions": ["FILE_UPLOAD"],
            "upload": {"dir_scope": ["/up/a"], "max": 3, "limit_per_min": 1, "limit_per_source_ip": 1, "max_file_size": 10},
            "restrictions": {"whitelist_ip_ranges": ["10.1.0.0/16"], "whitelist_countries": ["FR"]},
            "listing": {"directory_scope": ["/up/a/*"], "max": 1},
            "key_validity": {"expire_duration": 60}
        }))
        .unwrap();
        assert_eq!(c.policy.upload.max.map(|m| m.get()), Some(3));
        assert_eq!(c.expires_at, NOW + 160);
    }

    #[test]
    fn one_broader_request_per_field() {
        let cases = [
            (json!({"permissions": ["FILE_DELETE"]}), "data.permissions"),
            (
                json!({"upload": {"dir_scope": ["/other"]}}),
                "data.upload.dir_scope",
            ),
            (
                json!({"upload": {"dir_scope": ["/*"]}}),
                "data.upload.dir_scope",
            ),
            (
                json!({"upload": {"limit_per_min": 11}}),
                "data.upload.limit_per_min",
            ),
            (
                json!({"upload": {"limit_per_min": null}}),
                "data.upload.limit_per_min",
            ),
            (
                json!({"upload": {"limit_per_source_ip": 6}}),
                "data.upload.limit_per_source_ip",
            ),
            (json!({"upload": {"max": 21}}), "data.upload.max"),
            (
                json!({"upload": {"max_file_size": 1001}}),
                "data.upload.max_file_size",
            ),
            (
                json!({"restrictions": {"whitelist_ip_ranges": ["11.0.0.0/8"]}}),
                "data.restrictions.whitelist_ip_ranges",
            ),
            (
                json!({"restrictions": {"whitelist_ip_ranges": null}}),
                "data.restrictions.whitelist_ip_ranges",
            ),
            (
                json!({"restrictions": {"whitelist_countries": ["US"]}}),
                "data.restrictions.whitelist_countries",
            ),
            (
                json!({"listing": {"dir_scope": ["/"]}}),
                "data.listing.dir_scope",
            ),
            (json!({"listing": {"max": 31}}), "data.listing.max"),
            (
                json!({"allowed_origins": ["https://c.example"]}),
                "data.allowed_origins",
            ),
            (json!({"allowed_origins": null}), "data.allowed_origins"),
            (
                json!({"key_validity": {"expiration_duration": 501}}),
                "data.key_validity.expiration_duration",
            ),
        ];
        for (data, field) in cases {
            let e = child(data.clone()).unwrap_err();
            assert_eq!(e.code(), "KEY_TOO_BROAD", "{data}");
            assert_eq!(e.status(), 403);
            assert!(
                e.message().starts_with(&format!("{field}: ")),
                "{data}: {}",
                e.message()
            );
        }
        assert_eq!(
            child(json!({"upload": {"max": 0}})).unwrap_err().code(),
            "INVALID_FIELD"
        );
        assert_eq!(
            child(json!({"nope": 1})).unwrap_err().code(),
            "INVALID_FIELD"
        );
        assert_eq!(child(json!([])).unwrap_err().code(), "INVALID_FIELD");
    }

    #[test]
    fn chains_are_bounded() {
        let mut key = parent();
        for i in 0..MAX_LINEAGE {
            key = verified(&attenuate(&key, json!({}), NOW, [i as u8; 12]).unwrap());
        }
        assert_eq!(
            attenuate(&key, json!({}), NOW, [7; 12]).unwrap_err().code(),
            "KEY_TOO_BROAD"
        );
    }
}

//! Attenuation: a SASS key holding CONFIG_CHANGE mints a new key that is never
//! broader than itself.
//!
//! The request is `POST /{project}/key` with `{"data": {…}}`, as for API keys.
//! A field left out inherits the presented key's value; a field given must be
//! at most as broad. The new key keeps the presented key's project and
//! template, and its lineage names every key it descends from, so revoking
//! any ancestor (or deactivating the template) refuses it too.

use crate::core::json::{self, Map, Value};

use crate::core::fields::Fields;
use crate::core::key::Claims;
use crate::core::refusal::Refusal;
use crate::core::restriction::{Countries, IpRanges, Origins};
use crate::core::template::{KeySpec, Policy, canonical_names, merge_patch};

/// How many times a key can be attenuated in a chain.
pub const MAX_LINEAGE: usize = 4;

fn broader(field: &str, reason: impl Into<String>) -> Refusal {
    Refusal::DenyBroader {
        field: format!("data.{field}"),
        reason: reason.into(),
    }
}

/// `Some(c)` with `c <= p` when the parent has limit `p`; anything when it has none.
fn limit_within(field: &str, child: Option<u32>, parent: Option<u32>) -> Result<(), Refusal> {
    match (child, parent) {
        (_, None) => Ok(()),
        (Some(c), Some(p)) if c <= p => Ok(()),
        (Some(_), Some(p)) => Err(broader(
            field,
            format!("must be at most {p}, the presented key's limit"),
        )),
        (None, Some(p)) => Err(broader(
            field,
            format!("cannot be unlimited: the presented key allows {p}"),
        )),
    }
}

/// A whitelist of the child must exist where the parent has one, and name
/// nothing the parent's does not (`outside` finds the first such entry).
fn list_within<T>(
    field: &str,
    child: Option<&T>,
    parent: Option<&T>,
    outside: impl Fn(&T, &T) -> Option<String>,
) -> Result<(), Refusal> {
    match (child, parent) {
        (_, None) => Ok(()),
        (None, Some(_)) => Err(broader(
            field,
            "cannot be left open: the presented key has a list",
        )),
        (Some(c), Some(p)) => match outside(c, p) {
            Some(entry) => Err(broader(
                field,
                format!("{entry} is outside the presented key's list"),
            )),
            None => Ok(()),
        },
    }
}

/// Checks that `child` is within `parent`, naming the first field that is not.
pub fn check_within(child: &Policy, parent: &Policy) -> Result<(), Refusal> {
    if !child.permissions.is_subset(parent.permissions) {
        let missing = child
            .permissions
            .missing_from(parent.permissions)
            .join(", ");
        return Err(broader(
            "permissions",
            format!("{missing} not held by the presented key"),
        ));
    }
    let (cu, pu) = (&child.upload, &parent.upload);
    if let Some(s) = cu.dir_scope.first_outside(&pu.dir_scope) {
        return Err(broader(
            "upload.dir_scope",
            format!("{s} is outside the presented key's scope"),
        ));
    }
    limit_within("upload.limit_per_min", cu.limit_per_min, pu.limit_per_min)?;
    limit_within(
        "upload.limit_per_source_ip",
        cu.limit_per_source_ip,
        pu.limit_per_source_ip,
    )?;
    limit_within("upload.max", cu.max, pu.max)?;
    if cu.max_file_size > pu.max_file_size {
        return Err(broader(
            "upload.max_file_size",
            format!(
                "must be at most {}, the presented key's limit",
                pu.max_file_size
            ),
        ));
    }
    let (cr, pr) = (&child.restrictions, &parent.restrictions);
    let ips = IpRanges::first_outside;
    list_within(
        "restrictions.whitelist_ip_ranges",
        cr.ip_ranges.as_ref(),
        pr.ip_ranges.as_ref(),
        ips,
    )?;
    let countries = Countries::first_outside;
    list_within(
        "restrictions.whitelist_countries",
        cr.countries.as_ref(),
        pr.countries.as_ref(),
        countries,
    )?;
    if let Some(s) = child
        .listing
        .dir_scope
        .first_outside(&parent.listing.dir_scope)
    {
        return Err(broader(
            "listing.dir_scope",
            format!("{s} is outside the presented key's scope"),
        ));
    }
    limit_within("listing.max", child.listing.max, parent.listing.max)?;
    let origins = Origins::first_outside;
    list_within(
        "allowed_origins",
        child.allowed_origins.as_ref(),
        parent.allowed_origins.as_ref(),
        origins,
    )
}

/// The claims of a key attenuated from `parent` by `request` at `now`.
pub fn attenuate(
    parent: &Claims,
    request: &Value,
    now: u64,
    key_id: String,
) -> Result<Claims, Refusal> {
    let mut root = Fields::of(request, &"")?;
    let data = root.get("data").cloned().unwrap_or_default();
    root.finish()?;
    let data = if data.is_null() {
        Value::Object(Map::new())
    } else {
        data
    };
    if !data.is_object() {
        return Err(Refusal::field("data", "must be an object"));
    }
    if parent.lineage.len() >= MAX_LINEAGE {
        return Err(broader(
            "",
            format!("a key can be attenuated at most {MAX_LINEAGE} times in a chain"),
        ));
    }
    let mut data = canonical_names(&data);
    let validity = data.as_object_mut().and_then(|d| d.remove("key_validity"));
    let mut base = Map::new();
    parent.policy.write(&mut base);
    let mut merged = Value::Object(base);
    merge_patch(&mut merged, &data);
    let mut f = Fields::of(&merged, &"data")?;
    let policy = Policy::read(&mut f)?;
    f.finish()?;
    check_within(&policy, &parent.policy)?;
    let expires_at = match validity {
        None => parent.expires_at,
        Some(v) => {
            let spec = KeySpec::from_key_request(&json::object([(
                "data",
                json::object([("key_validity", v)]),
            )]))?;
            now + spec.expiration
        }
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
    lineage.push(parent.key_id.clone());
    Ok(Claims {
        project: parent.project.clone(),
        template: parent.template.clone(),
        key_id,
        issued_at: now,
        expires_at,
        policy,
        lineage,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::json::json;
    use crate::core::key::new_key_id;

    const NOW: u64 = 1_795_323_661;

    fn parent() -> Claims {
        let spec = KeySpec::from_key_request(&json!({"data": {
            "permissions": ["FILE_UPLOAD", "OBJECTS_LIST", "CONFIG_CHANGE"],
            "upload": {"dir_scope": ["/up/*"], "limit_per_min": 10, "limit_per_source_ip": 5, "max": 20, "max_file_size": 1000},
            "restrictions": {"whitelist_ip_ranges": ["10.0.0.0/8"], "whitelist_countries": ["FR", "DE"]},
            "listing": {"dir_scope": ["/up/*"], "max": 30},
            "allowed_origins": ["https://a.example", "https://b.example"],
            "key_validity": {"expiration_duration": 600}
        }}))
        .unwrap();
        Claims {
            project: "demo".into(),
            template: Some("SECU_3268740E1C82464B9BC350D868F966CB".into()),
            key_id: new_key_id([9; 16]),
            issued_at: NOW,
            expires_at: NOW + 600,
            policy: spec.policy,
            lineage: Vec::new(),
        }
    }

    fn child(data: Value) -> Result<Claims, Refusal> {
        attenuate(
            &parent(),
            &json!({ "data": data }),
            NOW + 100,
            new_key_id([1; 16]),
        )
    }

    #[test]
    fn absent_fields_inherit() {
        let c = child(json!({})).unwrap();
        let p = parent();
        assert_eq!(c.policy, p.policy);
        assert_eq!(c.expires_at, p.expires_at);
        assert_eq!(c.template, p.template);
        assert_eq!(c.lineage, vec![p.key_id.clone()]);
        let grandchild = attenuate(&c, &json!({}), NOW + 100, new_key_id([2; 16])).unwrap();
        assert_eq!(grandchild.lineage, vec![p.key_id, c.key_id]);
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
        assert_eq!(c.policy.upload.max, Some(3));
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
            key = attenuate(&key, &json!({}), NOW, new_key_id([i as u8; 16])).unwrap();
        }
        assert_eq!(
            attenuate(&key, &json!({}), NOW, new_key_id([7; 16]))
                .unwrap_err()
                .code(),
            "KEY_TOO_BROAD"
        );
    }
}

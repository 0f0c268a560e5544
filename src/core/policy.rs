//! What a key may do: the part of a security template that every key issued
//! from it carries. Read with serde, in the Filerobot field names; written
//! compactly (only what differs from the defaults), as keys carry it, or
//! filled in with every default, as the template API shows it.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::body::{merge_patch, object};
use crate::bounded::{FileSize, Lifetime, PerMinute};
use crate::permission::KeyPermissions;
use crate::refusal::Refusal;
use crate::restriction::{Client, Countries, IpRanges, Origins};
use crate::scope::Scopes;

/// Default `upload.max_file_size`: 500 MB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 524_288_000;

fn default_max_file_size() -> FileSize {
    const { FileSize::must(DEFAULT_MAX_FILE_SIZE) }
}

fn is_default_max_file_size(size: &FileSize) -> bool {
    size.get() == DEFAULT_MAX_FILE_SIZE
}

/// Upload limits; `None` is unlimited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadLimits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_per_min: Option<PerMinute>,
    #[serde(
        default,
        alias = "limit_per_ip_source",
        skip_serializing_if = "Option::is_none"
    )]
    pub limit_per_source_ip: Option<Lifetime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Lifetime>,
    #[serde(default, skip_serializing_if = "Scopes::is_everything")]
    pub dir_scope: Scopes,
    #[serde(
        default = "default_max_file_size",
        skip_serializing_if = "is_default_max_file_size"
    )]
    pub max_file_size: FileSize,
}

impl Default for UploadLimits {
    fn default() -> Self {
        UploadLimits {
            limit_per_min: None,
            limit_per_source_ip: None,
            max: None,
            dir_scope: Scopes::default(),
            max_file_size: default_max_file_size(),
        }
    }
}

/// Limits on every call but uploads; `None` is unlimited.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListingLimits {
    #[serde(
        default,
        alias = "directory_scope",
        skip_serializing_if = "Scopes::is_everything"
    )]
    pub dir_scope: Scopes,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Lifetime>,
}

/// Where a key may be used from; `None` is anywhere.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Restrictions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whitelist_ip_ranges: Option<IpRanges>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whitelist_countries: Option<Countries>,
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// What a key may do.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default, skip_serializing_if = "KeyPermissions::is_empty")]
    pub permissions: KeyPermissions,
    #[serde(
        default,
        skip_serializing_if = "is_default",
        deserialize_with = "object"
    )]
    pub upload: UploadLimits,
    #[serde(
        default,
        skip_serializing_if = "is_default",
        deserialize_with = "object"
    )]
    pub restrictions: Restrictions,
    #[serde(
        default,
        skip_serializing_if = "is_default",
        deserialize_with = "object"
    )]
    pub listing: ListingLimits,
    /// Browser origins whose pages may use the key; `None` is any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_origins: Option<Origins>,
}

/// The names of the policy's fields, as they appear at the top of a
/// template or a key request.
pub const FIELDS: [&str; 5] = [
    "permissions",
    "upload",
    "restrictions",
    "listing",
    "allowed_origins",
];

impl Policy {
    /// Every field, defaults filled in (`null` for unlimited or anywhere):
    /// what the template API shows.
    pub fn filled(&self) -> Value {
        let mut doc = json!({
            "permissions": [],
            "upload": {
                "limit_per_min": null,
                "limit_per_source_ip": null,
                "max": null,
                "dir_scope": ["/*"],
                "max_file_size": DEFAULT_MAX_FILE_SIZE,
            },
            "restrictions": {"whitelist_ip_ranges": null, "whitelist_countries": null},
            "listing": {"dir_scope": ["/*"], "max": null},
            "allowed_origins": null,
        });
        // The compact form has no nulls, so merging it replaces exactly the
        // fields that differ from the defaults.
        merge_patch(&mut doc, &serde_json::to_value(self).unwrap_or_default());
        doc
    }

    /// A browser's `Origin` must be in `allowed_origins`, when the policy
    /// has them. A request without `Origin` (a server) passes.
    pub fn check_origin(&self, client: &Client) -> Result<(), Refusal> {
        match (&self.allowed_origins, &client.origin) {
            (Some(allowed), Some(origin)) if !allowed.allows(origin) => Err(Refusal::DenyOrigin),
            _ => Ok(()),
        }
    }

    /// The key may be used by this page (if a browser sent an `Origin`),
    /// from this IP and from this country, in that order.
    pub fn check_place(&self, client: &Client) -> Result<(), Refusal> {
        self.check_origin(client)?;
        let r = &self.restrictions;
        if let Some(ranges) = &r.whitelist_ip_ranges
            && !client.ip.is_some_and(|ip| ranges.contains(ip))
        {
            return Err(Refusal::DenyIp);
        }
        if let Some(countries) = &r.whitelist_countries
            && !countries.allows(client.country.as_deref())
        {
            return Err(Refusal::DenyCountry);
        }
        Ok(())
    }

    /// The first field in which `self` allows something `other` does not,
    /// as (field, reason), if any: `self` is within `other` when this is
    /// `None`.
    pub fn broader_than(&self, other: &Policy) -> Option<(&'static str, String)> {
        let (me, them) = (self.permissions.set(), other.permissions.set());
        if !me.is_subset(them) {
            let missing = me.missing_from(them).join(", ");
            return Some((
                "permissions",
                format!("{missing} not held by the presented key"),
            ));
        }
        let (cu, pu) = (&self.upload, &other.upload);
        if let Some(s) = cu.dir_scope.first_outside(&pu.dir_scope) {
            return Some((
                "upload.dir_scope",
                format!("{s} is outside the presented key's scope"),
            ));
        }
        limit_broader("upload.limit_per_min", cu.limit_per_min, pu.limit_per_min)
            .or_else(|| {
                limit_broader(
                    "upload.limit_per_source_ip",
                    cu.limit_per_source_ip,
                    pu.limit_per_source_ip,
                )
            })
            .or_else(|| limit_broader("upload.max", cu.max, pu.max))
            .or_else(|| {
                (cu.max_file_size > pu.max_file_size).then(|| {
                    (
                        "upload.max_file_size",
                        format!(
                            "must be at most {}, the presented key's limit",
                            pu.max_file_size
                        ),
                    )
                })
            })
            .or_else(|| {
                let (cr, pr) = (&self.restrictions, &other.restrictions);
                list_broader(
                    "restrictions.whitelist_ip_ranges",
                    cr.whitelist_ip_ranges.as_ref(),
                    pr.whitelist_ip_ranges.as_ref(),
                    IpRanges::outside,
                )
                .or_else(|| {
                    list_broader(
                        "restrictions.whitelist_countries",
                        cr.whitelist_countries.as_ref(),
                        pr.whitelist_countries.as_ref(),
                        Countries::outside,
                    )
                })
            })
            .or_else(|| {
                self.listing
                    .dir_scope
                    .first_outside(&other.listing.dir_scope)
                    .map(|s| {
                        (
                            "listing.dir_scope",
                            format!("{s} is outside the presented key's scope"),
                        )
                    })
            })
            .or_else(|| limit_broader("listing.max", self.listing.max, other.listing.max))
            .or_else(|| {
                list_broader(
                    "allowed_origins",
                    self.allowed_origins.as_ref(),
                    other.allowed_origins.as_ref(),
                    Origins::outside,
                )
            })
    }
}

/// A limit is broader when it exceeds the other's, or is unlimited where the
/// other is not.
fn limit_broader<const MAX: u64>(
    field: &'static str,
    mine: Option<crate::bounded::Bounded<MAX>>,
    theirs: Option<crate::bounded::Bounded<MAX>>,
) -> Option<(&'static str, String)> {
    match (mine, theirs) {
        (_, None) => None,
        (Some(c), Some(p)) if c <= p => None,
        (Some(_), Some(p)) => Some((
            field,
            format!("must be at most {p}, the presented key's limit"),
        )),
        (None, Some(p)) => Some((
            field,
            format!("cannot be unlimited: the presented key allows {p}"),
        )),
    }
}

/// A whitelist is broader when it is open where the other has a list, or
/// names an entry the other's does not (`outside` finds the first).
fn list_broader<T>(
    field: &'static str,
    mine: Option<&T>,
    theirs: Option<&T>,
    outside: impl Fn(&T, &T) -> Option<String>,
) -> Option<(&'static str, String)> {
    match (mine, theirs) {
        (_, None) => None,
        (None, Some(_)) => Some((
            field,
            "cannot be left open: the presented key has a list".into(),
        )),
        (Some(c), Some(p)) => outside(c, p).map(|entry| {
            (
                field,
                format!("{entry} is outside the presented key's list"),
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::typed;
    use crate::permission::Permission;
    use crate::restriction::Client;

    fn policy(v: Value) -> Policy {
        typed(v, "").unwrap()
    }

    #[test]
    fn compact_and_filled_forms() {
        let p = policy(json!({
            "permissions": ["FILE_UPLOAD"],
            "upload": {"max": 3, "dir_scope": ["/a/*"]},
            "listing": {"directory_scope": ["/a"]}
        }));
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"permissions": ["FILE_UPLOAD"], "upload": {"max": 3, "dir_scope": ["/a/*"]}, "listing": {"dir_scope": ["/a"]}})
        );
        assert_eq!(serde_json::to_value(Policy::default()).unwrap(), json!({}));
        let filled = p.filled();
        assert_eq!(filled["upload"]["max_file_size"], 524_288_000);
        assert_eq!(filled["upload"]["max"], 3);
        assert_eq!(filled["upload"]["limit_per_min"], Value::Null);
        assert_eq!(filled["restrictions"]["whitelist_countries"], Value::Null);
        assert_eq!(filled["allowed_origins"], Value::Null);
        let mut back = filled.clone();
        crate::body::drop_nulls(&mut back);
        assert_eq!(policy(back), p, "the filled form reads back");
        assert!(p.permissions.contains(Permission::FileUpload));
    }

    #[test]
    fn place_checks_in_order() {
        let p = policy(json!({
            "allowed_origins": ["https://shop.example"],
            "restrictions": {"whitelist_ip_ranges": ["192.0.2.0/24"], "whitelist_countries": ["FR"]}
        }));
        let client = |ip: &str, country: &str, origin: Option<&str>| Client {
            ip: ip.parse().ok(),
            country: Some(country.into()),
            origin: origin.map(String::from),
        };
        let code = |c: Client| p.check_place(&c).err().map(|r| r.code());
        assert_eq!(code(client("192.0.2.1", "FR", None)), None);
        assert_eq!(
            code(client("192.0.2.1", "FR", Some("https://shop.example"))),
            None
        );
        assert_eq!(
            code(client("10.0.0.1", "US", Some("https://evil.example"))),
            Some("ORIGIN_NOT_ALLOWED")
        );
        assert_eq!(code(client("10.0.0.1", "US", None)), Some("IP_NOT_ALLOWED"));
        assert_eq!(
            code(client("192.0.2.1", "US", None)),
            Some("COUNTRY_NOT_ALLOWED")
        );
        assert_eq!(code(client("-", "FR", None)), Some("IP_NOT_ALLOWED"));
    }

    #[test]
    fn broader_names_the_first_field() {
        let parent = policy(json!({
            "permissions": ["FILE_UPLOAD", "OBJECTS_LIST"],
            "upload": {"dir_scope": ["/up/*"], "max": 5},
            "restrictions": {"whitelist_countries": ["FR"]}
        }));
        assert_eq!(parent.broader_than(&parent), None);
        let field = |v: Value| policy(v).broader_than(&parent).map(|(f, _)| f);
        assert_eq!(
            field(
                json!({"permissions": ["FILE_DELETE"], "upload": {"dir_scope": ["/up"], "max": 1}, "restrictions": {"whitelist_countries": ["FR"]}})
            ),
            Some("permissions")
        );
        assert_eq!(
            field(
                json!({"upload": {"dir_scope": ["/up/a"]}, "restrictions": {"whitelist_countries": ["FR"]}})
            ),
            Some("upload.max")
        );
        assert_eq!(
            field(json!({"upload": {"dir_scope": ["/up/a"], "max": 5}})),
            Some("restrictions.whitelist_countries")
        );
        assert_eq!(
            field(
                json!({"upload": {"dir_scope": ["/up/a"], "max": 5}, "restrictions": {"whitelist_countries": ["FR"]}})
            ),
            None
        );
    }
}

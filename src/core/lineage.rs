//! A key's lineage: the keys it was attenuated from, oldest first, each with
//! the limits its counters enforce.
//!
//! A child is never broader than its parent, but a parent can mint many
//! children. So every count a key takes is also taken from each ancestor's
//! counters, in one atomic take in the limiter of the lineage's root: three
//! children of a key with `upload.max: 3` share those 3 uploads. The root's
//! counters keep their plain names (`upload.max`); a descendant's are
//! prefixed with its key id (`{key_id}/upload.max`).

use serde::{Deserialize, Serialize};

use crate::bounded::{Lifetime, PerMinute};
use crate::counter::Limit;
use crate::id::KeyId;
use crate::limiter::{Counter, LimiterName};
use crate::policy::Policy;
use crate::restriction::{Client, counting_name};

/// The counted limits of a policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counted {
    pub upload_limit_per_min: Option<PerMinute>,
    pub upload_limit_per_source_ip: Option<Lifetime>,
    pub upload_max: Option<Lifetime>,
    pub listing_max: Option<Lifetime>,
}

impl Counted {
    pub fn of(policy: &Policy) -> Counted {
        Counted {
            upload_limit_per_min: policy.upload.limit_per_min,
            upload_limit_per_source_ip: policy.upload.limit_per_source_ip,
            upload_max: policy.upload.max,
            listing_max: policy.listing.max,
        }
    }

    /// The counters an upload from `client` takes a hit from.
    pub fn upload(&self, client: &Client) -> Vec<(Counter, Limit)> {
        let mut out = Vec::new();
        if let Some(limit) = self.upload_limit_per_min {
            let window = Limit::Window {
                limit: limit.count(),
                window_ms: 60_000,
            };
            out.push((Counter::UploadPerMinute, window));
        }
        if let Some(limit) = self.upload_max {
            out.push((
                Counter::UploadMax,
                Limit::Total {
                    limit: limit.count(),
                },
            ));
        }
        if let Some(limit) = self.upload_limit_per_source_ip {
            out.push((
                Counter::UploadPerSourceIp(counting_name(client.ip)),
                Limit::Total {
                    limit: limit.count(),
                },
            ));
        }
        out
    }

    /// The counters every other call takes a hit from.
    pub fn listing(&self) -> Vec<(Counter, Limit)> {
        match self.listing_max {
            Some(limit) => vec![(
                Counter::ListingMax,
                Limit::Total {
                    limit: limit.count(),
                },
            )],
            None => Vec::new(),
        }
    }
}

/// A key this one descends from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "AncestorWire", into = "AncestorWire")]
pub struct Ancestor {
    pub key_id: KeyId,
    pub limits: Counted,
}

/// In a key: the id alone when the ancestor counts nothing (and as keys
/// minted before ancestors carried their limits), else an object.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum AncestorWire {
    Id(KeyId),
    Counted(CountedAncestor),
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CountedAncestor {
    key_id: KeyId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    upload_limit_per_min: Option<PerMinute>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    upload_limit_per_source_ip: Option<Lifetime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    upload_max: Option<Lifetime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    listing_max: Option<Lifetime>,
}

impl From<AncestorWire> for Ancestor {
    fn from(w: AncestorWire) -> Ancestor {
        match w {
            AncestorWire::Id(key_id) => Ancestor {
                key_id,
                limits: Counted::default(),
            },
            AncestorWire::Counted(c) => Ancestor {
                key_id: c.key_id,
                limits: Counted {
                    upload_limit_per_min: c.upload_limit_per_min,
                    upload_limit_per_source_ip: c.upload_limit_per_source_ip,
                    upload_max: c.upload_max,
                    listing_max: c.listing_max,
                },
            },
        }
    }
}

impl From<Ancestor> for AncestorWire {
    fn from(a: Ancestor) -> AncestorWire {
        if a.limits == Counted::default() {
            AncestorWire::Id(a.key_id)
        } else {
            AncestorWire::Counted(CountedAncestor {
                key_id: a.key_id,
                upload_limit_per_min: a.limits.upload_limit_per_min,
                upload_limit_per_source_ip: a.limits.upload_limit_per_source_ip,
                upload_max: a.limits.upload_max,
                listing_max: a.limits.listing_max,
            })
        }
    }
}

/// The lineage's root: the first ancestor, or the key itself.
pub fn root<'a>(lineage: &'a [Ancestor], key_id: &'a KeyId) -> &'a KeyId {
    lineage.first().map_or(key_id, |a| &a.key_id)
}

/// The limiter that counts for every key of a lineage.
pub fn limiter(lineage: &[Ancestor], key_id: &KeyId) -> LimiterName {
    LimiterName::Key(root(lineage, key_id).clone())
}

/// `counter` of key `owner`, named in the root's limiter.
pub fn named(owner: &KeyId, root: &KeyId, counter: Counter) -> Counter {
    if owner == root {
        counter
    } else {
        Counter::Of(owner.clone(), Box::new(counter))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ancestor_reads_and_writes_in_both_forms() {
        let id = "07070707070707070707070707070707";
        let plain: Ancestor = serde_json::from_str(&format!("{id:?}")).unwrap();
        assert_eq!(plain.limits, Counted::default());
        assert_eq!(serde_json::to_string(&plain).unwrap(), format!("{id:?}"));
        let counted: Ancestor = serde_json::from_str(&format!(
            r#"{{"key_id":{id:?},"upload_max":3,"listing_max":9}}"#
        ))
        .unwrap();
        assert_eq!(counted.limits.upload_max.map(|m| m.get()), Some(3));
        assert_eq!(
            serde_json::to_string(&counted).unwrap(),
            format!(r#"{{"key_id":{id:?},"upload_max":3,"listing_max":9}}"#)
        );
        for bad in [
            format!(r#"{{"key_id":{id:?},"upload_max":0}}"#),
            format!(r#"{{"key_id":{id:?},"other":1}}"#),
            r#""not-a-key-id""#.to_string(),
            format!(r#"{{"key_id":{id:?},"upload_max":3,"upload_max":1}}"#),
        ] {
            assert!(serde_json::from_str::<Ancestor>(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn counters_are_named_in_the_roots_limiter() {
        let (a, b) = (KeyId::new([1; 16]), KeyId::new([2; 16]));
        assert_eq!(named(&a, &a, Counter::UploadMax).to_string(), "upload.max");
        let of_b = named(&b, &a, Counter::UploadMax);
        assert_eq!(of_b.to_string(), format!("{b}/upload.max"));
        assert_eq!(of_b.field(), "upload.max");
        let lineage = [Ancestor {
            key_id: a.clone(),
            limits: Counted::default(),
        }];
        assert_eq!(limiter(&lineage, &b), LimiterName::Key(a.clone()));
        assert_eq!(limiter(&[], &b), LimiterName::Key(b));
    }
}

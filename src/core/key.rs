//! SASS keys: the format, signing and verification.
//!
//! ```text
//! SASS__v2__{kid}__{claims}__{tag}
//! ```
//!
//! - `v2` is the version. It names one algorithm: HMAC-SHA256. There is no
//!   algorithm field and no agility.
//! - `kid` is the id of the signing key, `[A-Za-z0-9-]{1,32}`: never `_`.
//! - `claims` is the base64url (no padding) of a JSON object: project,
//!   template, key id, issue and expiry times, lineage and the policy in the
//!   template's field names (only what differs from the defaults). It is
//!   readable, not secret. Its members may come in any order: keys minted
//!   before serde wrote them (keys sorted) still verify.
//! - `tag` is the base64url (no padding) of the full 32-byte HMAC-SHA256 of
//!   every byte before `__{tag}`, under the secret of `kid`: always 43 characters.
//!
//! base64url can yield `_` and `__`, so the claims are not found by splitting:
//! the version prefix is fixed, the kid ends at the first `_`, and the tag is
//! the last 43 characters. The tag is checked, in constant time, before any
//! claim is read.

use std::collections::HashMap;
use std::ops::Deref;
use std::rc::Rc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::id::{KeyId, Project, TemplateId};
use crate::lineage::Ancestor;
use crate::permission::KeyPermissions;
use crate::policy::{ListingLimits, Policy, Restrictions, UploadLimits};
use crate::refusal::Refusal;
use crate::restriction::Origins;
use crate::signing::{Keyring, SigningKey, is_kid};

pub const PREFIX: &str = "SASS__v2__";
/// Length of the encoded tag.
pub const TAG_CHARS: usize = 43;
/// Longest key accepted; anything longer is refused before any work.
pub const MAX_KEY_LEN: usize = 16 * 1024;
/// Clock leeway when checking expiry, in seconds.
pub const LEEWAY: u64 = 30;

/// What a key says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "ClaimsWire", from = "ClaimsWire")]
pub struct Claims {
    pub project: Project,
    /// The template the key was issued from; `None` for keys from `POST /key`.
    pub template: Option<TemplateId>,
    pub key_id: KeyId,
    /// The template's generation when the key was issued (0 without one).
    pub generation: u64,
    pub issued_at: u64,
    pub expires_at: u64,
    /// The keys this one was attenuated from, oldest first: revoking any of
    /// them revokes this key, and its counts are also counted against theirs.
    pub lineage: Vec<Ancestor>,
    pub policy: Policy,
}

/// Claims as carried in a key: one flat JSON object, the policy's fields
/// beside the key's own, in this order, with what equals its default left
/// out. The policy's fields read and write exactly as `Policy`'s (a unit
/// test holds the two together).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimsWire {
    project: Project,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    template: Option<TemplateId>,
    key_id: KeyId,
    #[serde(default, skip_serializing_if = "is_default")]
    generation: u64,
    issued_at: u64,
    expires_at: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    lineage: Vec<Ancestor>,
    #[serde(default, skip_serializing_if = "KeyPermissions::is_empty")]
    permissions: KeyPermissions,
    #[serde(default, skip_serializing_if = "is_default")]
    upload: UploadLimits,
    #[serde(default, skip_serializing_if = "is_default")]
    restrictions: Restrictions,
    #[serde(default, skip_serializing_if = "is_default")]
    listing: ListingLimits,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    allowed_origins: Option<Origins>,
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

impl From<ClaimsWire> for Claims {
    fn from(w: ClaimsWire) -> Claims {
        Claims {
            project: w.project,
            template: w.template,
            key_id: w.key_id,
            generation: w.generation,
            issued_at: w.issued_at,
            expires_at: w.expires_at,
            lineage: w.lineage,
            policy: Policy {
                permissions: w.permissions,
                upload: w.upload,
                restrictions: w.restrictions,
                listing: w.listing,
                allowed_origins: w.allowed_origins,
            },
        }
    }
}

impl From<Claims> for ClaimsWire {
    fn from(c: Claims) -> ClaimsWire {
        let p = c.policy;
        ClaimsWire {
            project: c.project,
            template: c.template,
            key_id: c.key_id,
            generation: c.generation,
            issued_at: c.issued_at,
            expires_at: c.expires_at,
            lineage: c.lineage,
            permissions: p.permissions,
            upload: p.upload,
            restrictions: p.restrictions,
            listing: p.listing,
            allowed_origins: p.allowed_origins,
        }
    }
}

impl Claims {
    /// Seconds left before expiry (without leeway).
    pub fn seconds_left(&self, now: u64) -> u64 {
        self.expires_at.saturating_sub(now)
    }
}

/// Claims of a key whose tag checked out and which had not expired: only
/// `verify` makes one, and the gateway admits only these. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified(Rc<Claims>);

impl Deref for Verified {
    type Target = Claims;
    fn deref(&self) -> &Claims {
        &self.0
    }
}

/// Keys verified before, by their exact text, so that a key used again (a
/// widget makes many calls with one key) is not decoded again: its claims
/// cannot change, because its tag covers them. Only the expiry is checked
/// again. Bounded: emptied when full.
#[derive(Debug, Default)]
pub struct KeyCache {
    entries: HashMap<String, Verified>,
}

/// Most keys a cache holds.
const CACHED_KEYS: usize = 1024;

impl KeyCache {
    /// `verify`, through the cache. The keyring must be the one the cached
    /// keys were verified with: a cache lives as long as its settings.
    pub fn verify(&mut self, key: &str, keyring: &Keyring, now: u64) -> Result<Verified, Refusal> {
        if let Some(verified) = self.entries.get(key) {
            return not_expired(verified.clone(), now);
        }
        let verified = verify(key, keyring, now)?;
        if self.entries.len() >= CACHED_KEYS {
            self.entries.clear();
        }
        self.entries.insert(key.to_string(), verified.clone());
        Ok(verified)
    }
}

/// The first millisecond at which a key that expires at `expires_at` (Unix
/// seconds) is refused: acceptance runs to the end of the second
/// `expires_at + LEEWAY`, at whole-second resolution.
pub fn refused_from_ms(expires_at: u64) -> u64 {
    expires_at
        .saturating_add(LEEWAY)
        .saturating_add(1)
        .saturating_mul(1000)
}

fn not_expired(verified: Verified, now: u64) -> Result<Verified, Refusal> {
    if now > verified.expires_at.saturating_add(LEEWAY) {
        return Err(Refusal::RejectExpiredKey);
    }
    Ok(verified)
}

/// Signs `claims` with `signer` into a key.
pub fn sign(claims: &Claims, signer: &SigningKey) -> String {
    // Claims hold only strings, numbers and lists: writing them cannot fail.
    let json = serde_json::to_vec(claims).unwrap_or_default();
    let payload = URL_SAFE_NO_PAD.encode(json);
    let mut key = format!("{PREFIX}{}__{payload}", signer.kid());
    let tag = URL_SAFE_NO_PAD.encode(signer.tag(key.as_bytes()));
    key.push_str("__");
    key.push_str(&tag);
    key
}

const MALFORMED: Refusal = Refusal::RejectKey {
    reason: "the key is malformed",
};

/// Checks that `key` is well formed, authentic and not expired at `now`
/// (Unix seconds), in that order, and returns its claims.
pub fn verify(key: &str, keyring: &Keyring, now: u64) -> Result<Verified, Refusal> {
    if key.len() > MAX_KEY_LEN {
        return Err(MALFORMED);
    }
    let rest = key
        .strip_prefix(PREFIX)
        .ok_or(if key.starts_with("SASS__") {
            Refusal::RejectKey {
                reason: "the key's version is not supported",
            }
        } else {
            MALFORMED
        })?;
    let (kid, rest) = rest.split_once("__").ok_or(MALFORMED)?;
    if !is_kid(kid) || rest.len() < TAG_CHARS + 3 || !rest.is_char_boundary(rest.len() - TAG_CHARS)
    {
        return Err(MALFORMED);
    }
    let (body, tag) = rest.split_at(rest.len() - TAG_CHARS);
    let payload = body.strip_suffix("__").ok_or(MALFORMED)?;
    let signer = keyring.find(kid).ok_or(Refusal::RejectKey {
        reason: "the key was signed with an unknown signing key",
    })?;
    // A non-canonical last character (stray low bits) fails to decode.
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| MALFORMED)?;
    let signed = &key[..key.len() - TAG_CHARS - 2];
    if !signer.verify(signed.as_bytes(), &tag) {
        return Err(Refusal::RejectKey {
            reason: "the key's signature does not match",
        });
    }
    // Authentic from here on: a decoding failure is our own bug, still refused.
    let json = URL_SAFE_NO_PAD.decode(payload).map_err(|_| MALFORMED)?;
    // UTF-8 checked once for the whole text, then read as a `str`: read from
    // bytes, serde_json checks each string again (`from_utf8` and `as_str`
    // were 9 % of `check_key_only` in a perf profile).
    let text = std::str::from_utf8(&json).map_err(|_| MALFORMED)?;
    let claims: Claims = serde_json::from_str(text).map_err(|_| MALFORMED)?;
    if claims.key_id.expires_at() != claims.expires_at {
        return Err(Refusal::RejectKey {
            reason: "the key's id does not carry its expiry (a key of an earlier version)",
        });
    }
    not_expired(Verified(Rc::new(claims)), now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::KeySpec;
    use proptest::prelude::*;
    use serde_json::json;

    const SECRET_A: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    const SECRET_B: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8";

    fn ring(spec: &str) -> Keyring {
        Keyring::parse(spec).unwrap()
    }

    fn claims() -> Claims {
        let spec = KeySpec::from_key_request(json!({"data": {
            "permissions": ["FILE_UPLOAD", "OBJECTS_LIST"],
            "upload": {"dir_scope": ["/uploads/*"], "max": 10},
            "restrictions": {"whitelist_countries": ["FR"]}
        }}))
        .unwrap();
        Claims {
            project: Project::parse("demo").unwrap(),
            template: TemplateId::parse("SECU_3268740E1C82464B9BC350D868F966CB"),
            key_id: KeyId::issued(1_795_323_661 + 1200, [7; 12]),
            generation: 0,
            issued_at: 1_795_323_661,
            expires_at: 1_795_323_661 + 1200,
            lineage: Vec::new(),
            policy: spec.policy,
        }
    }

    /// A committed test vector: the exact key these claims and secret give,
    /// computed independently by tests/vectors/key_vector.py. If this
    /// changes, keys minted from now on change shape: keep the old vector
    /// as a compatibility test, as `key_vector_sorted.txt` is.
    #[test]
    fn signed_claims_with_duplicate_members_are_refused() {
        // Correctly signed, so only the claims' decoding can refuse them.
        let ring = Keyring::parse("k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8").unwrap();
        let good = serde_json::to_string(&claims()).unwrap();
        let sign_json = |json: &[u8]| {
            let signed = format!("{PREFIX}k1__{}", URL_SAFE_NO_PAD.encode(json));
            let tag = URL_SAFE_NO_PAD.encode(ring.signer().tag(signed.as_bytes()));
            format!("{signed}__{tag}")
        };
        assert!(verify(&sign_json(good.as_bytes()), &ring, 1_795_323_661).is_ok());
        let dupes = [
            good.replacen("{", r#"{"project":"other","#, 1),
            good.replacen(r#""upload":{"#, r#""upload":{"max":99,"#, 1),
            good.replacen(
                r#""expires_at":"#,
                r#""expires_at":99999999999,"expires_at":"#,
                1,
            ),
        ];
        for json in dupes {
            assert_ne!(json, good);
            assert_eq!(
                verify(&sign_json(json.as_bytes()), &ring, 1_795_323_661).unwrap_err(),
                MALFORMED,
                "{json}"
            );
        }
        // Claims that are not UTF-8 (a string with a byte 0xFF), signed.
        let mut bytes = good.into_bytes();
        let at = bytes.iter().position(|&b| b == b'"').unwrap() + 1;
        bytes[at] = 0xFF;
        assert_eq!(
            verify(&sign_json(&bytes), &ring, 1_795_323_661).unwrap_err(),
            MALFORMED
        );
    }

    #[test]
    fn test_vector() {
        let key = sign(&claims(), ring(&format!("k1:{SECRET_A}")).signer());
        assert_eq!(key, include_str!("key_vector.txt").trim());
        let verified = verify(&key, &ring(&format!("k1:{SECRET_A}")), 1_795_323_661).unwrap();
        assert_eq!(*verified, claims());
    }

    /// A key minted before key ids carried their expiry (also the first,
    /// sorted encoding) is authentic but refused, with the reason: its
    /// revocation could not know how long to last. Such keys lived at most 7
    /// days.
    #[test]
    fn keys_whose_id_lacks_the_expiry_are_refused() {
        let old = include_str!("key_vector_sorted.txt").trim();
        assert_eq!(
            verify(old, &ring(&format!("k1:{SECRET_A}")), 1_795_323_661),
            Err(Refusal::RejectKey {
                reason: "the key's id does not carry its expiry (a key of an earlier version)"
            })
        );
        let mut c = claims();
        c.expires_at += 1;
        let signed = sign(&c, ring(&format!("k1:{SECRET_A}")).signer());
        assert_eq!(
            verify(&signed, &ring(&format!("k1:{SECRET_A}")), 1_795_323_661)
                .unwrap_err()
                .code(),
            "KEY_INVALID",
            "an id whose expiry is not the key's"
        );
    }

    /// The claims' policy fields read and write as `Policy`'s own.
    #[test]
    fn the_wire_policy_is_the_policy() {
        let c = claims();
        let wire = serde_json::to_value(&c).unwrap();
        let mut policy = serde_json::to_value(&c.policy).unwrap();
        let mut rest = wire.as_object().unwrap().clone();
        for name in crate::policy::FIELDS {
            assert_eq!(
                rest.remove(name),
                policy.as_object_mut().unwrap().remove(name),
                "{name}"
            );
        }
        assert_eq!(
            rest.keys().collect::<Vec<_>>(),
            ["expires_at", "issued_at", "key_id", "project", "template"]
        );
        assert_eq!(serde_json::from_value::<Claims>(wire).unwrap(), c);
    }

    #[test]
    fn the_cache_answers_as_verify_does() {
        let r = ring(&format!("k1:{SECRET_A}"));
        let c = claims();
        let key = sign(&c, r.signer());
        let mut cache = KeyCache::default();
        for _ in 0..2 {
            assert_eq!(*cache.verify(&key, &r, c.issued_at).unwrap(), c);
        }
        assert_eq!(cache.entries.len(), 1);
        assert_eq!(
            cache.verify(&key, &r, c.expires_at + LEEWAY + 1),
            Err(Refusal::RejectExpiredKey),
            "a cached key still expires"
        );
        let i = key.len() - 10;
        let flipped = if &key[i..=i] == "A" { "B" } else { "A" };
        let forged = format!("{}{flipped}{}", &key[..i], &key[i + 1..]);
        assert_eq!(
            cache.verify(&forged, &r, c.issued_at).unwrap_err().code(),
            "KEY_INVALID"
        );
        assert_eq!(cache.entries.len(), 1, "refused keys are not kept");
        for i in 0..CACHED_KEYS + 1 {
            let other = Claims {
                issued_at: i as u64,
                ..c.clone()
            };
            cache
                .verify(&sign(&other, r.signer()), &r, c.issued_at)
                .unwrap();
        }
        assert!(cache.entries.len() <= CACHED_KEYS);
    }

    #[test]
    fn round_trip_and_expiry() {
        let r = ring(&format!("k1:{SECRET_A}"));
        let c = claims();
        let key = sign(&c, r.signer());
        assert!(key.starts_with("SASS__v2__k1__"));
        assert_eq!(*verify(&key, &r, c.expires_at).unwrap(), c);
        assert_eq!(*verify(&key, &r, c.expires_at + LEEWAY).unwrap(), c);
        assert_eq!(
            verify(&key, &r, c.expires_at + LEEWAY + 1),
            Err(Refusal::RejectExpiredKey)
        );
        // Claims that decode to nothing known are refused even when signed.
        let signer = r.signer();
        let payload = URL_SAFE_NO_PAD.encode(br#"{"project":"demo","x":1}"#);
        let signed = format!("{PREFIX}k1__{payload}");
        let forged = format!(
            "{signed}__{}",
            URL_SAFE_NO_PAD.encode(signer.tag(signed.as_bytes()))
        );
        assert_eq!(verify(&forged, &r, 0).unwrap_err().code(), "KEY_INVALID");
    }

    #[test]
    fn rotation() {
        let old = ring(&format!("old:{SECRET_A}"));
        let both = ring(&format!("new:{SECRET_B},old:{SECRET_A}"));
        let new_only = ring(&format!("new:{SECRET_B}"));
        let c = claims();
        let old_key = sign(&c, old.signer());
        let new_key = sign(&c, both.signer());
        assert!(new_key.starts_with("SASS__v2__new__"));
        assert!(verify(&old_key, &both, c.issued_at).is_ok());
        assert!(verify(&new_key, &new_only, c.issued_at).is_ok());
        assert_eq!(
            verify(&old_key, &new_only, c.issued_at).unwrap_err().code(),
            "KEY_INVALID"
        );
    }

    #[test]
    fn forged_and_malformed_keys() {
        let r = ring(&format!("k1:{SECRET_A}"));
        let c = claims();
        let key = sign(&c, r.signer());
        let other = sign(&c, ring(&format!("k1:{SECRET_B}")).signer());
        let bad = [
            String::new(),
            "SASS__".into(),
            "SASS__v1.05__abc__def".into(),
            key.replace("SASS__v2", "SASS__v3"),
            key[..key.len() - 1].to_string(),
            format!("{key}A"),
            format!("{key}__"),
            key.replace("__k1__", "__k9__"),
            key.replace("__k1__", "__k_1__"),
            other,
            format!("{}{}", &key[..key.len() - TAG_CHARS], "A".repeat(TAG_CHARS)),
            "x".repeat(MAX_KEY_LEN + 1),
        ];
        for k in bad {
            assert_eq!(
                verify(&k, &r, c.issued_at).unwrap_err().code(),
                "KEY_INVALID",
                "{k}"
            );
        }
    }

    proptest! {
        /// Any single changed character makes the key invalid.
        #[test]
        fn any_changed_character_is_refused(pos in 0usize..1000, replacement in "[A-Za-z0-9_.=-]") {
            let r = ring(&format!("k1:{SECRET_A}"));
            let c = claims();
            let key = sign(&c, r.signer());
            let pos = pos % key.len();
            let mut bytes = key.clone().into_bytes();
            let new = replacement.as_bytes()[0];
            prop_assume!(bytes[pos] != new);
            bytes[pos] = new;
            let forged = String::from_utf8(bytes).unwrap();
            prop_assert_eq!(verify(&forged, &r, c.issued_at).unwrap_err().code(), "KEY_INVALID");
        }

        /// Garbage never panics and is never accepted.
        #[test]
        fn garbage_is_refused(s in "\\PC{0,300}") {
            let r = ring(&format!("k1:{SECRET_A}"));
            prop_assert!(verify(&s, &r, 0).is_err());
            let prefixed = format!("SASS__v2__k1__{s}");
            prop_assert!(verify(&prefixed, &r, 0).is_err());
        }
    }
}

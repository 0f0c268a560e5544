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
//!   template, key id, issue and expiry times and the policy (only what differs
//!   from the defaults). It is readable, not secret.
//! - `tag` is the base64url (no padding) of the full 32-byte HMAC-SHA256 of
//!   every byte before `__{tag}`, under the secret of `kid`: always 43 characters.
//!
//! base64url can yield `_` and `__`, so the claims are not found by splitting:
//! the version prefix is fixed, the kid ends at the first `_`, and the tag is
//! the last 43 characters. The tag is checked, in constant time, before any
//! claim is read.

use crate::core::json::{self, Map, Value};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::core::fields::Fields;
use crate::core::hex;
use crate::core::refusal::Refusal;
use crate::core::signing::{Keyring, SigningKey, is_kid};
use crate::core::template::{Policy, is_template_id};

pub const PREFIX: &str = "SASS__v2__";
/// Length of the encoded tag.
pub const TAG_CHARS: usize = 43;
/// Longest key accepted; anything longer is refused before any work.
pub const MAX_KEY_LEN: usize = 16 * 1024;
/// Clock leeway when checking expiry, in seconds.
pub const LEEWAY: u64 = 30;

/// What a key says. Only ever built by the issuer or by `verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub project: String,
    /// The template the key was issued from; `None` for keys from `POST /key`.
    pub template: Option<String>,
    /// 128 random bits, as 32 lower-case hex digits.
    pub key_id: String,
    pub issued_at: u64,
    pub expires_at: u64,
    pub policy: Policy,
    /// The ids of the keys this one was attenuated from, oldest first;
    /// revoking any of them revokes this key.
    pub lineage: Vec<String>,
}

pub fn new_key_id(random: [u8; 16]) -> String {
    hex::lower(&random)
}

pub fn is_key_id(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Claims {
    /// The claims as JSON, as carried in the key.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("project".into(), Value::from(&self.project));
        if let Some(t) = &self.template {
            out.insert("template".into(), Value::from(t));
        }
        out.insert("key_id".into(), Value::from(&self.key_id));
        out.insert("issued_at".into(), Value::from(self.issued_at));
        out.insert("expires_at".into(), Value::from(self.expires_at));
        if !self.lineage.is_empty() {
            out.insert("lineage".into(), Value::from(self.lineage.clone()));
        }
        self.policy.write_compact(&mut out);
        Value::Object(out)
    }

    fn from_json(value: &Value) -> Result<Claims, Refusal> {
        let mut f = Fields::of(value, &"")?;
        let text = |v: Option<&Value>, name: &str| {
            v.and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| Refusal::field(name, "is missing"))
        };
        let project = text(f.get("project"), "project")?;
        let template = f
            .get("template")
            .map(|v| text(Some(v), "template"))
            .transpose()?;
        let key_id = text(f.get("key_id"), "key_id")?;
        let time = |v: Option<&Value>, name: &str| {
            v.and_then(Value::as_u64)
                .ok_or_else(|| Refusal::field(name, "is missing"))
        };
        let issued_at = time(f.get("issued_at"), "issued_at")?;
        let expires_at = time(f.get("expires_at"), "expires_at")?;
        let lineage: Vec<String> = match f.get("lineage") {
            Some(v) => v
                .as_array()
                .and_then(|ids| {
                    ids.iter()
                        .map(|id| id.as_str().map(str::to_string))
                        .collect()
                })
                .ok_or_else(|| Refusal::field("lineage", "is malformed"))?,
            None => Vec::new(),
        };
        let policy = Policy::read(&mut f)?;
        f.finish()?;
        if !is_key_id(&key_id)
            || template.as_deref().is_some_and(|t| !is_template_id(t))
            || !lineage.iter().all(|id| is_key_id(id))
        {
            return Err(Refusal::field("key_id", "is malformed"));
        }
        Ok(Claims {
            project,
            template,
            key_id,
            issued_at,
            expires_at,
            policy,
            lineage,
        })
    }

    /// Seconds left before expiry (without leeway).
    pub fn seconds_left(&self, now: u64) -> u64 {
        self.expires_at.saturating_sub(now)
    }
}

/// Signs `claims` with `signer` into a key.
pub fn sign(claims: &Claims, signer: &SigningKey) -> String {
    let payload = URL_SAFE_NO_PAD.encode(claims.to_json().text());
    let mut key = format!("{PREFIX}{}__{payload}", signer.kid());
    let tag = URL_SAFE_NO_PAD.encode(signer.tag(key.as_bytes()));
    key.push_str("__");
    key.push_str(&tag);
    key
}

const MALFORMED: Refusal = Refusal::RejectKey {
    reason: "the key is malformed",
};

/// Checks that `key` is well formed, authentic and not expired at `now`,
/// in that order, and returns its claims.
pub fn verify(key: &str, keyring: &Keyring, now: u64) -> Result<Claims, Refusal> {
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
    // Authentic from here on: a parse failure is our own bug, still refused.
    let json = URL_SAFE_NO_PAD.decode(payload).map_err(|_| MALFORMED)?;
    let value = json::parse(&json).map_err(|_| MALFORMED)?;
    let claims = Claims::from_json(&value).map_err(|_| MALFORMED)?;
    if now > claims.expires_at.saturating_add(LEEWAY) {
        return Err(Refusal::RejectExpiredKey);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::json::json;
    use crate::core::template::KeySpec;
    use proptest::prelude::*;

    const SECRET_A: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    const SECRET_B: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8";

    fn ring(spec: &str) -> Keyring {
        Keyring::parse(spec).unwrap()
    }

    fn claims() -> Claims {
        let spec = KeySpec::from_key_request(&json!({"data": {
            "permissions": ["FILE_UPLOAD", "OBJECTS_LIST"],
            "upload": {"dir_scope": ["/uploads/*"], "max": 10},
            "restrictions": {"whitelist_countries": ["FR"]}
        }}))
        .unwrap();
        Claims {
            project: "demo".into(),
            template: Some("SECU_3268740E1C82464B9BC350D868F966CB".into()),
            key_id: new_key_id([7; 16]),
            issued_at: 1_795_323_661,
            expires_at: 1_795_323_661 + 1200,
            policy: spec.policy,
            lineage: Vec::new(),
        }
    }

    /// A committed test vector: the exact key these claims and secret give.
    /// If this changes, every key in the field stops verifying.
    #[test]
    fn test_vector() {
        let key = sign(&claims(), ring(&format!("k1:{SECRET_A}")).signer());
        assert_eq!(key, include_str!("key_vector.txt").trim());
        assert_eq!(
            verify(&key, &ring(&format!("k1:{SECRET_A}")), 1_795_323_661).unwrap(),
            claims()
        );
    }

    #[test]
    fn round_trip_and_expiry() {
        let r = ring(&format!("k1:{SECRET_A}"));
        let c = claims();
        let key = sign(&c, r.signer());
        assert!(key.starts_with("SASS__v2__k1__"));
        assert_eq!(verify(&key, &r, c.expires_at).unwrap(), c);
        assert_eq!(verify(&key, &r, c.expires_at + LEEWAY).unwrap(), c);
        assert_eq!(
            verify(&key, &r, c.expires_at + LEEWAY + 1),
            Err(Refusal::RejectExpiredKey)
        );
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

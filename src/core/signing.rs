//! The signing keys: `SIGNING_KEYS` is `kid:secret,kid:secret,…`, each secret
//! the base64url of at least 32 random bytes. The first pair signs new keys;
//! every pair verifies, which is what makes rotation possible.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Shortest secret, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;
/// Longest key id; a key id is made of `A-Z a-z 0-9 -`.
pub const MAX_KID_LEN: usize = 32;

pub fn is_kid(kid: &str) -> bool {
    !kid.is_empty()
        && kid.len() <= MAX_KID_LEN
        && kid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    /// The HMAC with the secret already absorbed; cloned for each use.
    mac: Hmac<Sha256>,
}

impl SigningKey {
    pub fn new(kid: &str, secret: &[u8]) -> Result<SigningKey, String> {
        if !is_kid(kid) {
            return Err(format!(
                "key id {kid:?} must be 1 to {MAX_KID_LEN} characters of A-Z, a-z, 0-9 and -"
            ));
        }
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "the secret of {kid:?} has {} bytes; at least {MIN_SECRET_BYTES} are needed",
                secret.len()
            ));
        }
        let mac =
            Hmac::<Sha256>::new_from_slice(secret).map_err(|_| "unusable secret".to_string())?;
        Ok(SigningKey {
            kid: kid.to_string(),
            mac,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// HMAC-SHA256 of `message`.
    pub fn tag(&self, message: &[u8]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(message);
        mac.finalize().into_bytes().into()
    }

    /// Checks `tag` against `message` in constant time.
    pub fn verify(&self, message: &[u8], tag: &[u8]) -> bool {
        let mut mac = self.mac.clone();
        mac.update(message);
        tag.len() == 32 && mac.verify_slice(tag).is_ok()
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.kid)
    }
}

#[derive(Clone, Debug)]
pub struct Keyring {
    keys: Vec<SigningKey>,
}

impl Keyring {
    /// Parses `SIGNING_KEYS`; the error says what is wrong, never a secret.
    pub fn parse(raw: &str) -> Result<Keyring, String> {
        let mut keys: Vec<SigningKey> = Vec::new();
        for (i, pair) in raw.split(',').map(str::trim).enumerate() {
            let (kid, secret) = pair
                .split_once(':')
                .ok_or_else(|| format!("entry {} is not kid:secret", i + 1))?;
            let secret = URL_SAFE_NO_PAD
                .decode(secret.trim().trim_end_matches('='))
                .map_err(|_| format!("the secret of {kid:?} is not base64url"))?;
            let key = SigningKey::new(kid.trim(), &secret)?;
            if keys.iter().any(|k| k.kid == key.kid) {
                return Err(format!("key id {kid:?} appears twice"));
            }
            keys.push(key);
        }
        Ok(Keyring { keys })
    }

    /// The key that signs new keys: the first.
    pub fn signer(&self) -> &SigningKey {
        // `parse` never returns an empty ring: split always yields one entry.
        &self.keys[0]
    }

    pub fn find(&self, kid: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S32: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

    #[test]
    fn parses_rings() {
        let ring = Keyring::parse(&format!("k2:{S32}, k1:{S32}=")).unwrap();
        assert_eq!(ring.signer().kid(), "k2");
        assert!(ring.find("k1").is_some());
        assert!(ring.find("k3").is_none());
    }

    #[test]
    fn refuses_bad_rings() {
        for (raw, why) in [
            ("", "is not kid:secret"),
            ("k1", "is not kid:secret"),
            ("k1:AAEC", "at least 32"),
            ("k1:not base64!", "not base64url"),
            (&format!("k_1:{S32}"), "must be 1 to 32"),
            (&format!(":{S32}"), "must be 1 to 32"),
            (&format!("k1:{S32},k1:{S32}"), "appears twice"),
            (&format!("k1:{S32},"), "entry 2"),
        ] {
            let e = Keyring::parse(raw).unwrap_err();
            assert!(e.contains(why), "{raw:?}: {e}");
            assert!(!e.contains(S32));
        }
    }

    #[test]
    fn hmac_sha256_vector() {
        // A 32-byte key of 0x00..0x1f over "abc"; the expected value was
        // computed independently with Python's hmac module.
        let key = SigningKey::new("k", &(0u8..32).collect::<Vec<_>>()).unwrap();
        let tag = key.tag(b"abc");
        assert_eq!(
            crate::hex::lower(&tag),
            "f0133729c4163dede81e21cd47839256da58171238c8a0d874397c73b14e1e47"
        );
        assert!(key.verify(b"abc", &tag));
        assert!(!key.verify(b"abd", &tag));
        assert!(!key.verify(b"abc", &tag[..16]));
    }
}

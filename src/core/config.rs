//! The worker's settings, parsed once: `ROOT_API_KEY` and `SIGNING_KEYS`.

use sha2::{Digest, Sha256};

use crate::ct;
use crate::origin::Origin;
use crate::refusal::Refusal;
use crate::signing::Keyring;

/// Shortest root key accepted.
pub const MIN_ROOT_KEY_LEN: usize = 32;

/// The bootstrap API secret key: every permission on every project. Only its
/// hash is kept.
#[derive(Clone, Debug)]
pub struct RootKey {
    hash: [u8; 32],
}

impl RootKey {
    pub fn parse(raw: &str) -> Result<RootKey, String> {
        if raw.len() < MIN_ROOT_KEY_LEN {
            return Err(format!("shorter than {MIN_ROOT_KEY_LEN} characters"));
        }
        if !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("made of characters other than printable ASCII".into());
        }
        Ok(RootKey {
            hash: Sha256::digest(raw.as_bytes()).into(),
        })
    }

    /// Whether `presented` is this key, compared in constant time.
    pub fn matches(&self, presented: &str) -> bool {
        let hash: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        ct::eq(&hash, &self.hash)
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub root_key: RootKey,
    pub keyring: Keyring,
    /// Set when `ORIGIN_URL` is: forward to it instead of storing in R2.
    pub origin: Option<Origin>,
    /// `ALLOW_LOCAL_URLS`: uploads by URL may fetch from local addresses
    /// (for local development and the tests; off unless set).
    pub allow_local_urls: bool,
}

/// The raw settings, as the worker's environment gives them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawSettings {
    pub root_api_key: Option<String>,
    pub signing_keys: Option<String>,
    pub origin_url: Option<String>,
    pub origin_secret: Option<String>,
    pub origin_key: Option<String>,
    pub allow_local_urls: Option<String>,
}

fn setting<'a>(name: &'static str, raw: Option<&'a str>) -> Result<&'a str, Refusal> {
    match raw.map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(Refusal::MisconfiguredSetting {
            setting: name,
            reason: "missing".into(),
        }),
    }
}

impl Config {
    /// Parses the raw settings; a refusal names the setting that is wrong.
    pub fn parse(raw: &RawSettings) -> Result<Config, Refusal> {
        let signing_keys = raw.signing_keys.as_deref();
        let root_api_key = raw.root_api_key.as_deref();
        let keyring = Keyring::parse(setting("SIGNING_KEYS", signing_keys)?).map_err(|why| {
            Refusal::MisconfiguredSetting {
                setting: "SIGNING_KEYS",
                reason: format!("malformed: {why}"),
            }
        })?;
        let root_key = RootKey::parse(setting("ROOT_API_KEY", root_api_key)?).map_err(|why| {
            Refusal::MisconfiguredSetting {
                setting: "ROOT_API_KEY",
                reason: format!("malformed: {why}"),
            }
        })?;
        let origin = match raw.origin_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(url) => {
                let secret = setting("ORIGIN_SECRET", raw.origin_secret.as_deref())?;
                let credential = setting("ORIGIN_KEY", raw.origin_key.as_deref())?;
                Some(
                    Origin::parse(url, secret, credential).map_err(|(setting, reason)| {
                        Refusal::MisconfiguredSetting { setting, reason }
                    })?,
                )
            }
        };
        let allow_local_urls = match raw.allow_local_urls.as_deref().map(str::trim) {
            None | Some("") | Some("0") | Some("false") => false,
            Some("1") | Some("true") => true,
            Some(_) => {
                return Err(Refusal::MisconfiguredSetting {
                    setting: "ALLOW_LOCAL_URLS",
                    reason: "malformed: it must be 1, true, 0 or false".into(),
                });
            }
        };
        Ok(Config {
            root_key,
            keyring,
            origin,
            allow_local_urls,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = "local-root-key-0123456789abcdefghijkl";
    const SIGNING: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

    fn raw(root: Option<&str>, signing: Option<&str>) -> RawSettings {
        RawSettings {
            root_api_key: root.map(String::from),
            signing_keys: signing.map(String::from),
            ..RawSettings::default()
        }
    }

    #[test]
    fn parses() {
        let c = Config::parse(&raw(Some(ROOT), Some(SIGNING))).unwrap();
        assert!(c.origin.is_none());
        assert!(c.root_key.matches(ROOT));
        assert!(!c.root_key.matches("local-root-key-0123456789abcdefghijkm"));
        assert!(!c.root_key.matches(""));
    }

    #[test]
    fn names_the_setting() {
        let cases = [
            (None, Some(SIGNING), "ROOT_API_KEY", "missing"),
            (Some(" "), Some(SIGNING), "ROOT_API_KEY", "missing"),
            (Some("short"), Some(SIGNING), "ROOT_API_KEY", "malformed"),
            (Some(ROOT), None, "SIGNING_KEYS", "missing"),
            (Some(ROOT), Some("k1:abc"), "SIGNING_KEYS", "malformed"),
        ];
        for (root, signing, name, why) in cases {
            let e = Config::parse(&raw(root, signing)).unwrap_err();
            assert_eq!(e.status(), 500);
            assert_eq!(e.code(), "CONFIG_INVALID");
            let msg = e.message();
            assert!(msg.contains(name) && msg.contains(why), "{msg}");
        }
    }

    #[test]
    fn origin_settings() {
        let mut r = raw(Some(ROOT), Some(SIGNING));
        r.origin_url = Some("http://127.0.0.1:9000".into());
        let e = Config::parse(&r).unwrap_err();
        assert!(e.message().contains("ORIGIN_SECRET"), "{}", e.message());
        r.origin_secret = Some(SIGNING[3..].into());
        let e = Config::parse(&r).unwrap_err();
        assert!(
            e.message().contains("ORIGIN_KEY") && e.message().contains("missing"),
            "{}",
            e.message()
        );
        r.origin_key = Some("bad key".into());
        let e = Config::parse(&r).unwrap_err();
        assert!(
            e.message().contains("ORIGIN_KEY") && e.message().contains("malformed"),
            "{}",
            e.message()
        );
        r.origin_key = Some("origin-api-key".into());
        assert_eq!(
            Config::parse(&r).unwrap().origin.unwrap().url,
            "http://127.0.0.1:9000"
        );
        r.origin_url = Some("".into());
        assert!(Config::parse(&r).unwrap().origin.is_none());
    }
}

//! Origin mode: with `ORIGIN_URL` set, a request that passed the gateway is
//! forwarded to that origin. The origin learns what the gateway verified from
//! `X-Sass-*` headers, authenticated by an HMAC under `ORIGIN_SECRET`.
//!
//! The origin recomputes HMAC-SHA256 over these lines, joined by `\n`:
//!
//! ```text
//! sass-edge-origin-v1
//! {method}            e.g. PUT
//! {path and query}    as forwarded, e.g. /demo/v5/files/a.jpg
//! {X-Sass-Project}
//! {X-Sass-Key-Id}     the SASS key's id, or "api:{id}" for an API key ("api:root")
//! {X-Sass-Permission} e.g. FILE_UPLOAD
//! {X-Sass-Client-Ip}  empty when unknown
//! {X-Sass-Timestamp}  Unix seconds
//! ```
//!
//! and compares its base64url (no padding) with `X-Sass-Signature` in
//! constant time, refusing timestamps more than 60 s away from its clock.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::core::signing::SigningKey;

/// Whether a request header is forwarded to the origin. Never: the
/// credential, the platform's own (`CF-*`), client-supplied forwarding claims
/// (`X-Forwarded-For`, `X-Real-IP`), anything posing as the gateway's own
/// `X-Sass-*`, and hop-by-hop ones.
pub fn forwards_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    !(name == "x-filerobot-key"
        || name == "host"
        || name == "content-length"
        || name == "connection"
        || name == "x-forwarded-for"
        || name == "x-real-ip"
        || name.starts_with("cf-")
        || name.starts_with("x-sass-"))
}

/// The origin: its base URL (no trailing slash) and the signing secret.
#[derive(Clone, Debug)]
pub struct Origin {
    pub url: String,
    pub key: SigningKey,
}

impl Origin {
    pub fn parse(url: &str, secret: &str) -> Result<Origin, (&'static str, String)> {
        let url = url.trim().trim_end_matches('/');
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.contains(['?', '#'])
        {
            return Err((
                "ORIGIN_URL",
                "malformed: it must be an http(s) URL without query".into(),
            ));
        }
        let secret = URL_SAFE_NO_PAD
            .decode(secret.trim().trim_end_matches('='))
            .map_err(|_| {
                (
                    "ORIGIN_SECRET",
                    "malformed: it is not base64url".to_string(),
                )
            })?;
        let key = SigningKey::new("origin", &secret)
            .map_err(|why| ("ORIGIN_SECRET", format!("malformed: {why}")))?;
        Ok(Origin {
            url: url.to_string(),
            key,
        })
    }
}

/// What the gateway verified about a forwarded request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified<'a> {
    pub method: &'a str,
    pub path_and_query: &'a str,
    pub project: &'a str,
    pub key_id: &'a str,
    pub permission: &'a str,
    pub client_ip: &'a str,
    pub timestamp: u64,
}

impl Verified<'_> {
    fn canonical(&self) -> String {
        format!(
            "sass-edge-origin-v1\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
            self.method,
            self.path_and_query,
            self.project,
            self.key_id,
            self.permission,
            self.client_ip,
            self.timestamp
        )
    }

    /// The headers added to the forwarded request.
    pub fn headers(&self, key: &SigningKey) -> [(&'static str, String); 6] {
        let signature = URL_SAFE_NO_PAD.encode(key.tag(self.canonical().as_bytes()));
        [
            ("X-Sass-Project", self.project.to_string()),
            ("X-Sass-Key-Id", self.key_id.to_string()),
            ("X-Sass-Permission", self.permission.to_string()),
            ("X-Sass-Client-Ip", self.client_ip.to_string()),
            ("X-Sass-Timestamp", self.timestamp.to_string()),
            ("X-Sass-Signature", signature),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_headers() {
        for kept in [
            "Content-Type",
            "accept",
            "X-Custom",
            "If-None-Match",
            "Origin",
        ] {
            assert!(forwards_header(kept), "{kept}");
        }
        for dropped in [
            "X-Filerobot-Key",
            "x-filerobot-key",
            "Host",
            "Content-Length",
            "Connection",
            "X-Forwarded-For",
            "X-Real-IP",
            "CF-Connecting-IP",
            "cf-ipcountry",
            "X-Sass-Signature",
            "x-sass-project",
        ] {
            assert!(!forwards_header(dropped), "{dropped}");
        }
    }

    #[test]
    fn signature_vector() {
        // Computed independently with Python:
        // hmac.new(bytes(range(32)), canonical, sha256), base64url without padding.
        let origin = Origin::parse(
            "http://127.0.0.1:9000/",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
        )
        .unwrap();
        assert_eq!(origin.url, "http://127.0.0.1:9000");
        let v = Verified {
            method: "PUT",
            path_and_query: "/demo/v5/files/a.jpg",
            project: "demo",
            key_id: "07070707070707070707070707070707",
            permission: "FILE_UPLOAD",
            client_ip: "192.0.2.1",
            timestamp: 1_795_323_661,
        };
        let headers = v.headers(&origin.key);
        assert_eq!(headers[5].1, include_str!("origin_vector.txt").trim());
        assert_eq!(headers[0], ("X-Sass-Project", "demo".to_string()));
    }

    #[test]
    fn settings_are_checked() {
        let s = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
        assert_eq!(Origin::parse("ftp://x", s).unwrap_err().0, "ORIGIN_URL");
        assert_eq!(
            Origin::parse("https://x/?a", s).unwrap_err().0,
            "ORIGIN_URL"
        );
        assert_eq!(
            Origin::parse("https://x", "short").unwrap_err().0,
            "ORIGIN_SECRET"
        );
        assert_eq!(
            Origin::parse("https://x", "!!").unwrap_err().0,
            "ORIGIN_SECRET"
        );
    }
}

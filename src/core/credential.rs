//! The credential a request presents in `X-Filerobot-Key`: a SASS key, or an
//! API secret key (the root key or a stored `sek_…` key).

use crate::api_key::Principal;
use crate::key::Verified;
use crate::refusal::Refusal;

/// Where clients send their key, as in Filerobot.
pub const HEADER: &str = "X-Filerobot-Key";

pub const NO_KEY: Refusal = Refusal::RejectKey {
    reason: "no key was sent in the X-Filerobot-Key header",
};

/// What the header holds, before anything is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presented<'a> {
    /// `SASS__…`: checked by its signature, no lookup.
    Sass(&'a str),
    /// Anything else is an API secret key: looked up.
    Secret(&'a str),
}

impl<'a> Presented<'a> {
    pub fn read(header: Option<&'a str>) -> Result<Presented<'a>, Refusal> {
        match header {
            None => Err(NO_KEY),
            Some(key) if key.starts_with("SASS__") => Ok(Presented::Sass(key)),
            Some(key) => Ok(Presented::Secret(key)),
        }
    }
}

/// A caller once its credential checked out.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A SASS key: its claims, verified.
    Sass(Verified),
    /// An API secret key: who it is.
    Api(Principal),
}

impl Credential {
    /// How the origin and the audit log name the caller: the SASS key's id,
    /// or `api:` and the API key's id.
    pub fn identity(&self) -> String {
        match self {
            Credential::Sass(key) => key.key_id.to_string(),
            Credential::Api(p) => format!("api:{}", p.id()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_header() {
        assert_eq!(Presented::read(None), Err(NO_KEY));
        assert_eq!(
            Presented::read(Some("SASS__v2__x")),
            Ok(Presented::Sass("SASS__v2__x"))
        );
        assert_eq!(
            Presented::read(Some("sek_1")),
            Ok(Presented::Secret("sek_1"))
        );
        assert_eq!(Credential::Api(Principal::Root).identity(), "api:root");
    }
}

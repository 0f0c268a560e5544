//! Who is calling an admin endpoint: the API secret key in `X-Filerobot-Key`.

use worker::Request;

use crate::core::config::Config;
use crate::core::key;
use crate::core::permission::Permission;
use crate::core::refusal::Refusal;
use crate::shell::http::{KEY_HEADER, header};

/// An authenticated caller.
pub enum Principal {
    /// The bootstrap key from `ROOT_API_KEY`: every permission on every project.
    Root,
}

impl Principal {
    pub fn allows(&self, _project: &str, _permission: Permission) -> bool {
        match self {
            Principal::Root => true,
        }
    }

    /// How the principal is named to an origin and in logs.
    pub fn id(&self) -> &'static str {
        match self {
            Principal::Root => "api:root",
        }
    }
}

pub const NO_KEY: Refusal = Refusal::RejectKey {
    reason: "no key was sent in the X-Filerobot-Key header",
};

/// Authenticates the API secret key and checks it holds `permission` on `project`.
pub fn require(
    req: &Request,
    config: &Config,
    project: &str,
    permission: Permission,
) -> Result<Principal, Refusal> {
    let presented = header(req, KEY_HEADER).ok_or(NO_KEY)?;
    let principal = authenticate(&presented, config)?;
    if !principal.allows(project, permission) {
        return Err(Refusal::DenyPermission { permission });
    }
    Ok(principal)
}

/// The principal of an API secret key.
pub fn authenticate(presented: &str, config: &Config) -> Result<Principal, Refusal> {
    if presented.starts_with(key::PREFIX) || presented.starts_with("SASS__") {
        return Err(Refusal::RejectKey {
            reason: "this endpoint needs an API secret key, not a SASS key",
        });
    }
    if config.root_key.matches(presented) {
        Ok(Principal::Root)
    } else {
        Err(Refusal::RejectKey {
            reason: "the API secret key is not valid",
        })
    }
}

//! Who is calling: the API secret key in `X-Filerobot-Key`, as a principal.

use worker::Env;

use crate::core::api_key::{self, Principal};
use crate::core::config::Config;
use crate::core::permission::Permission;
use crate::core::refusal::Refusal;
use crate::shell::api_key_store::ApiKeyStore;
use crate::shell::http::KEY_HEADER;
use crate::shell::incoming::Incoming;

pub const NO_KEY: Refusal = Refusal::RejectKey {
    reason: "no key was sent in the X-Filerobot-Key header",
};

const INVALID: Refusal = Refusal::RejectKey {
    reason: "the API secret key is not valid",
};

/// Authenticates the API secret key in the request and checks it holds
/// `permission` on `project` (or company-wide, for `None`).
pub async fn require(
    req: &Incoming,
    env: &Env,
    config: &Config,
    project: Option<&str>,
    permission: Permission,
) -> Result<Principal, Refusal> {
    let presented = req.header(KEY_HEADER).ok_or(NO_KEY)?;
    let principal = authenticate(&presented, env, config).await?;
    principal.require(project, permission)?;
    Ok(principal)
}

/// The principal of an API secret key: the root key, or an active stored key.
pub async fn authenticate(
    presented: &str,
    env: &Env,
    config: &Config,
) -> Result<Principal, Refusal> {
    if presented.starts_with("SASS__") {
        return Err(Refusal::RejectKey {
            reason: "this endpoint needs an API secret key, not a SASS key",
        });
    }
    if config.root_key.matches(presented) {
        return Ok(Principal::Root);
    }
    // A mistyped or made-up secret fails its checksum: no lookup needed.
    if !api_key::is_well_formed(presented) {
        return Err(INVALID);
    }
    match ApiKeyStore::open(env)?
        .by_hash(&api_key::secret_hash(presented))
        .await?
    {
        Some(key) if key.active => Ok(Principal::Key(key)),
        Some(_) => Err(Refusal::RejectKey {
            reason: "the API secret key is deactivated",
        }),
        None => Err(INVALID),
    }
}

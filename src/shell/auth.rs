//! Who is calling: the credential in `X-Filerobot-Key`, checked.

use std::cell::RefCell;

use worker::Env;

use crate::core::api_key::{self, Principal};
use crate::core::config::Config;
use crate::core::credential::{Credential, HEADER, Presented};
use crate::core::gateway::check_key_cached;
use crate::core::id::Project;
use crate::core::key::{KeyCache, Verified};
use crate::core::permission::Permission;
use crate::core::refusal::Refusal;
use crate::shell::api_key_store::ApiKeyStore;
use crate::shell::incoming::Incoming;

thread_local! {
    /// SASS keys this isolate has verified (see `KeyCache`); it lives as
    /// long as the isolate's settings.
    static KEYS: RefCell<KeyCache> = RefCell::new(KeyCache::default());
}

/// Steps 1 to 3 for a SASS key, through the isolate's cache of verified keys.
pub fn check_sass(
    key: &str,
    config: &Config,
    project: &Project,
    now: u64,
) -> Result<Verified, Refusal> {
    KEYS.with_borrow_mut(|cache| check_key_cached(cache, key, &config.keyring, project, now))
}

const INVALID: Refusal = Refusal::RejectKey {
    reason: "the API secret key is not valid",
};

/// Authenticates the API secret key in the request and checks it holds
/// `permission` on `project` (or company-wide, for `None`).
pub async fn require(
    req: &Incoming,
    env: &Env,
    config: &Config,
    project: Option<&Project>,
    permission: Permission,
) -> Result<Principal, Refusal> {
    let header = req.header(HEADER);
    let principal = match Presented::read(header.as_deref())? {
        Presented::Sass(_) => {
            return Err(Refusal::RejectKey {
                reason: "this endpoint needs an API secret key, not a SASS key",
            });
        }
        Presented::Secret(secret) => principal(secret, env, config, req.now_ms()).await?,
    };
    principal.require(project, permission)?;
    Ok(principal)
}

/// The credential of the request on `project`: a SASS key that passes the
/// gateway's steps 1 to 3, or an API secret key (the root key, or an active
/// stored key).
pub async fn credential(
    req: &Incoming,
    env: &Env,
    config: &Config,
    project: &Project,
) -> Result<Credential, Refusal> {
    let header = req.header(HEADER);
    Ok(match Presented::read(header.as_deref())? {
        Presented::Sass(key) => Credential::Sass(check_sass(key, config, project, req.now_secs())?),
        Presented::Secret(secret) => {
            Credential::Api(principal(secret, env, config, req.now_ms()).await?)
        }
    })
}

/// The principal of an API secret key.
async fn principal(
    presented: &str,
    env: &Env,
    config: &Config,
    now_ms: u64,
) -> Result<Principal, Refusal> {
    if config.root_key.matches(presented) {
        return Ok(Principal::Root);
    }
    // A mistyped or made-up secret fails its checksum: no lookup needed.
    if !api_key::is_well_formed(presented) {
        return Err(INVALID);
    }
    match ApiKeyStore::open(env)?
        .by_hash(&api_key::secret_hash(presented), now_ms)
        .await?
    {
        Some(key) if key.active => Ok(Principal::Key(key)),
        Some(_) => Err(Refusal::RejectKey {
            reason: "the API secret key is deactivated",
        }),
        None => Err(INVALID),
    }
}

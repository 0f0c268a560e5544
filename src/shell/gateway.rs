//! The storage gateway: a file request passes the checks of `core::gateway`,
//! takes its counters in the key's limiter, and only then reaches storage (R2,
//! or the origin in origin mode). A request the backend does not complete
//! gives its counts back.

use worker::{Env, Response};

use crate::core::counter::{GiveBack, Take};
use crate::core::gateway::{
    self, Ask, Client, KeyState, MAX_SMALL_BODY, Operation, TemplateState, Verb, admit,
    admit_api_key, check_key, limiter_name,
};
use crate::core::key::Claims;
use crate::core::origin::Verified;
use crate::core::refusal::Refusal;
use crate::core::restriction::client_ip;
use crate::shell::auth::{self, NO_KEY};
use crate::shell::http::{self, KEY_HEADER};
use crate::shell::incoming::Incoming;
use crate::shell::{limiter, origin, revocation, settings, storage, template_state};

/// Where the request comes from, from the platform's headers only.
pub fn client(req: &Incoming) -> Client {
    Client {
        ip: client_ip(req.header("CF-Connecting-IP").as_deref()),
        country: req.header("CF-IPCountry"),
        origin: req.header("Origin"),
    }
}

/// What the gateway must know about a verified key beyond its claims:
/// whether it is revoked, and whether its template is active.
pub async fn key_state(env: &Env, project: &str, claims: &Claims) -> Result<KeyState, Refusal> {
    let revoked = revocation::is_revoked(env, claims).await?;
    let template = match (&claims.template, revoked) {
        (_, true) | (None, _) => TemplateState::None,
        (Some(id), false) => template_state::state(env, project, id).await?,
    };
    Ok(KeyState { revoked, template })
}

pub async fn handle(
    req: &Incoming,
    env: &Env,
    project: &str,
    verb: Verb,
    raw_path: String,
) -> Result<Response, Refusal> {
    let config = settings::config(env)?;
    let presented = req.header(KEY_HEADER).ok_or(NO_KEY)?;
    // Steps 1 to 3 (or the API key) before anything else is read.
    let claims = if presented.starts_with("SASS__") {
        Some(check_key(
            &presented,
            &config.keyring,
            project,
            http::now_secs(),
        )?)
    } else {
        None
    };
    let principal = match claims {
        Some(_) => None,
        None => Some(auth::authenticate(&presented, env, &config).await?),
    };
    let client = client(req);
    // Move and meta calls carry a small JSON body the checks need.
    let mut small_body = None;
    let mut to = None;
    let mut meta = None;
    if matches!(verb, Verb::Move | Verb::SetMeta) {
        let body = http::read_json(req, MAX_SMALL_BODY).await?;
        match verb {
            Verb::Move => to = Some(gateway::move_destination(&body)?),
            _ => meta = Some(gateway::file_meta(&body)?),
        }
        small_body = Some(body.to_string());
    }
    let ask = Ask {
        verb,
        path: match verb {
            Verb::List => http::query(req, "folder").unwrap_or_else(|| "/".into()),
            _ => raw_path,
        },
        to,
        length: req
            .header("Content-Length")
            .and_then(|v| v.trim().parse().ok()),
    };
    // A key bound to origins answers its browser page by name, not `*`.
    let named_origin = claims
        .as_ref()
        .filter(|c| c.policy.allowed_origins.is_some())
        .and(client.origin.clone());
    let (operation, identity, counted) = match (&claims, &principal) {
        (Some(claims), _) => {
            let state = key_state(env, project, claims).await?;
            let admission = admit(claims, state, &ask, &client)?;
            let mut counted = None;
            if !admission.counters.is_empty() {
                let name = limiter_name(claims);
                let take = Take {
                    counters: admission.counters.clone(),
                    keep_until: admission.keep_until,
                };
                let at = limiter::take(env, &name, &take).await?;
                counted = Some((
                    name,
                    GiveBack {
                        counters: admission.counters,
                        at,
                        keep_until: admission.keep_until,
                    },
                ));
            }
            (admission.operation, claims.key_id.clone(), counted)
        }
        (None, Some(p)) => (
            admit_api_key(|perm| p.allows(project, perm), &ask)?,
            format!("api:{}", p.id()),
            None,
        ),
        (None, None) => return Err(NO_KEY),
    };
    let result = perform(
        req, env, &config, project, &operation, &identity, &client, small_body, meta,
    )
    .await;
    let completed = matches!(&result, Ok(r) if r.status_code() < 400);
    if let (false, Some((name, give_back))) = (completed, counted) {
        limiter::give_back(env, &name, &give_back).await;
    }
    result.map(|r| http::name_origin(r, named_origin.as_deref()))
}

#[allow(clippy::too_many_arguments)]
async fn perform(
    req: &Incoming,
    env: &Env,
    config: &crate::core::config::Config,
    project: &str,
    operation: &Operation,
    identity: &str,
    client: &Client,
    small_body: Option<String>,
    meta: Option<String>,
) -> Result<Response, Refusal> {
    match &config.origin {
        Some(origin) => {
            let path_and_query = http::path_and_query(req);
            let client_ip = client.ip.map(|ip| ip.to_string()).unwrap_or_default();
            let verified = Verified {
                method: req.method(),
                path_and_query: &path_and_query,
                project,
                key_id: identity,
                permission: operation.permission().name(),
                client_ip: &client_ip,
                timestamp: http::now_secs(),
            };
            origin::forward(req, origin, &verified, small_body).await
        }
        None => {
            let page = (
                http::query(req, "cursor"),
                http::query(req, "limit").and_then(|l| l.parse().ok()),
            );
            storage::perform(env, req, project, operation, meta, page).await
        }
    }
}

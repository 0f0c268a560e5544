//! The storage gateway: a file request passes the checks of `core::gateway`,
//! takes its counters in the key's limiter, and only then reaches storage (R2,
//! or the origin in origin mode). A request the backend does not complete
//! gives its counts back.

use worker::{Env, Response};

use crate::core::config::Config;
use crate::core::credential::Credential;
use crate::core::gateway::{KeyState, TemplateState, admit, admit_api_key};
use crate::core::id::Project;
use crate::core::key::Verified;
use crate::core::limiter::GiveBack;
use crate::core::origin::Verified as Forwarded;
use crate::core::refusal::Refusal;
use crate::core::request::{Ask, FileMeta, MAX_SMALL_BODY, MoveBody, Operation, Verb};
use crate::shell::body::read_json;
use crate::shell::incoming::Incoming;
use crate::shell::{auth, cors, limiter, origin, revocation, settings, storage, template_state};

/// What the gateway must know about a verified key beyond its claims:
/// whether it is revoked, and whether its template is active.
pub async fn key_state(env: &Env, key: &Verified, now_ms: u64) -> Result<KeyState, Refusal> {
    let revoked = revocation::is_revoked(env, key, now_ms).await?;
    let template = match (&key.template, revoked) {
        (_, true) | (None, _) => TemplateState::None,
        (Some(id), false) => template_state::state(env, &key.project, id, now_ms).await?,
    };
    Ok(KeyState { revoked, template })
}

/// The small JSON body of a move or meta call, read before the checks that
/// need it.
struct SmallBody {
    /// As the gateway read it, re-sent to an origin.
    text: String,
    to: Option<String>,
    meta: Option<FileMeta>,
}

async fn small_body(req: &Incoming, verb: Verb) -> Result<Option<SmallBody>, Refusal> {
    if !matches!(verb, Verb::Move | Verb::SetMeta) {
        return Ok(None);
    }
    let body = read_json(req, MAX_SMALL_BODY).await?;
    let text = body.to_string();
    Ok(Some(match verb {
        Verb::Move => SmallBody {
            text,
            to: Some(MoveBody::read(body)?.to),
            meta: None,
        },
        _ => SmallBody {
            text,
            to: None,
            meta: Some(FileMeta::read(&body)?),
        },
    }))
}

pub async fn handle(
    req: &Incoming,
    env: &Env,
    project: &Project,
    verb: Verb,
    raw_path: String,
) -> Result<Response, Refusal> {
    let config = settings::config(env)?;
    // Steps 1 to 3 (or the API key) before anything else is read.
    let credential = auth::credential(req, env, &config, project).await?;
    let client = req.client();
    let small = small_body(req, verb).await?;
    let ask = Ask {
        verb,
        path: match verb {
            Verb::List => req.query("folder").unwrap_or_else(|| "/".into()),
            _ => raw_path,
        },
        to: small.as_ref().and_then(|s| s.to.clone()),
        length: req
            .header("Content-Length")
            .and_then(|v| v.trim().parse().ok()),
    };
    let (operation, counted, named_origin) = match &credential {
        Credential::Sass(key) => {
            let state = key_state(env, key, req.now_ms()).await?;
            let admission = admit(key, state, &ask, &client)?;
            let counted = match admission.counted {
                Some((name, take)) => {
                    let at = limiter::take(env, &name, take.clone()).await?;
                    Some((name, GiveBack::of(&take, at)))
                }
                None => None,
            };
            // A key bound to origins answers its browser page by name, not `*`.
            let named = key
                .policy
                .allowed_origins
                .as_ref()
                .and(client.origin.clone());
            (admission.operation, counted, named)
        }
        Credential::Api(p) => (
            admit_api_key(|perm| p.allows(project, perm), &ask)?,
            None,
            None,
        ),
    };
    let result = perform(req, env, &config, project, &operation, &credential, small).await;
    let completed = matches!(&result, Ok(r) if r.status_code() < 400);
    if let (false, Some((name, give_back))) = (completed, counted) {
        limiter::give_back(env, &name, give_back).await;
    }
    result.map(|r| cors::name_origin(r, named_origin.as_deref()))
}

async fn perform(
    req: &Incoming,
    env: &Env,
    config: &Config,
    project: &Project,
    operation: &Operation,
    credential: &Credential,
    small: Option<SmallBody>,
) -> Result<Response, Refusal> {
    match &config.origin {
        Some(origin) => {
            let path_and_query = req.path_and_query();
            let client_ip = req.client().ip.map(|ip| ip.to_string()).unwrap_or_default();
            let identity = credential.identity();
            let forwarded = Forwarded {
                method: req.method(),
                path_and_query: &path_and_query,
                project: project.as_str(),
                key_id: &identity,
                permission: operation.permission().name(),
                client_ip: &client_ip,
                timestamp: req.now_secs(),
            };
            origin::forward(req, origin, &forwarded, small.map(|s| s.text)).await
        }
        None => {
            let page = (
                req.query("cursor"),
                req.query("limit").and_then(|l| l.parse().ok()),
            );
            storage::perform(
                env,
                req,
                project,
                operation,
                small.and_then(|s| s.meta),
                page,
            )
            .await
        }
    }
}

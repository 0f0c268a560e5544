//! The storage gateway: every storage call (sass-edge's own path API and the
//! Filerobot API) passes the checks of `core::gateway`, takes its counters in
//! the key's limiter, and only then reaches storage (R2, or the origin in
//! origin mode). A call the backend does not complete gives its counts back.
//! An upload of several files takes one count per file, once the files are
//! received and before any is stored.

use worker::{Env, Response};

use crate::core::api_key::Principal;
use crate::core::body::typed;
use crate::core::bounded::MAX_FILE_SIZE;
use crate::core::config::Config;
use crate::core::credential::Credential;
use crate::core::file_record::FileRecord;
use crate::core::gateway::{KeyState, TemplateState, admit, admit_api_key, precheck};
use crate::core::id::Project;
use crate::core::key::Verified;
use crate::core::limiter::{GiveBack, LimiterName, Take};
use crate::core::listing::{ListQuery, page_limit};
use crate::core::origin::{Allowed as CanonicalCall, Origin, Verified as Forwarded};
use crate::core::path::Dir;
use crate::core::query::Query;
use crate::core::refusal::Refusal;
use crate::core::request::{
    Ask, FileMeta, MAX_SMALL_BODY, MetaBody, MoveBody, Operation, RenameBody, Target,
    check_encoding,
};
use crate::core::route::{At, Call};
use crate::core::scope::Scopes;
use crate::core::serving;
use crate::core::upload::media_type;
use crate::shell::body::read_json;
use crate::shell::filerobot::{self, Listing};
use crate::shell::files::Files;
use crate::shell::incoming::Incoming;
use crate::shell::origin::Outgoing;
use crate::shell::{
    auth, cors, limiter, origin, relay, response, revocation, settings, storage, template_state,
};

/// What the gateway must know about a verified key beyond its claims:
/// whether it is revoked, and whether its template is active.
pub async fn key_state(env: &Env, key: &Verified, now_ms: u64) -> Result<KeyState, Refusal> {
    let revoked = revocation::is_revoked(env, key, now_ms).await?;
    let template = match (&key.template, revoked) {
        (_, true) | (None, _) => TemplateState::None,
        (Some(id), false) => {
            let template = template_state::get(env, &key.project, id, now_ms).await?;
            TemplateState::of(key, template.as_deref())
        }
    };
    Ok(KeyState { revoked, template })
}

/// The small JSON body of a move, rename or meta call, read before the
/// checks that need it.
#[derive(Default)]
struct SmallBody {
    /// `{"to"}` of a move.
    to: Option<String>,
    /// `{"name"}` of a rename.
    name: Option<String>,
    /// The meta object of a meta call.
    meta: Option<FileMeta>,
}

async fn small_body(req: &Incoming, call: Call) -> Result<SmallBody, Refusal> {
    if !matches!(call, Call::Move | Call::SetMeta | Call::Rename | Call::Meta) {
        return Ok(SmallBody::default());
    }
    let body = read_json(req, MAX_SMALL_BODY).await?;
    Ok(match call {
        Call::Move => SmallBody {
            to: Some(MoveBody::read(body)?.to),
            ..SmallBody::default()
        },
        Call::Rename => SmallBody {
            name: Some(typed::<RenameBody>(body, "")?.name),
            ..SmallBody::default()
        },
        Call::Meta => {
            let meta: MetaBody = typed(body, "")?;
            SmallBody {
                meta: Some(FileMeta::read(&serde_json::Value::Object(meta.meta))?),
                ..SmallBody::default()
            }
        }
        _ => SmallBody {
            meta: Some(FileMeta::read(&body)?),
            ..SmallBody::default()
        },
    })
}

/// The folder of a call addressed by folder: `folder` (or `dir`) in the
/// query; the root when it is absent or empty.
fn folder_of(query: &Query) -> Result<String, Refusal> {
    Ok(match query.one(&["folder", "dir"])? {
        None | Some("") => "/".to_string(),
        Some(folder) => folder.to_string(),
    })
}

/// Who calls, as far as the checks go.
enum Caller<'a> {
    /// A SASS key, and what was looked up about it.
    Key(&'a Verified, KeyState),
    Api(&'a Principal),
}

/// What the checks allowed, and how to count it.
struct Allowed {
    operation: Operation,
    /// The counters to take, where; `None` for keys without counters and
    /// for API keys.
    counted: Option<(LimiterName, Take)>,
    /// The key's `listing.dir_scope`, which listings are filtered by.
    scopes: Option<Scopes>,
    max_file_size: u64,
    /// The browser origin to answer by name (keys bound to origins).
    named_origin: Option<String>,
}

pub async fn handle(
    req: &Incoming,
    env: &Env,
    project: &Project,
    call: Call,
    at: At,
) -> Result<Response, Refusal> {
    let config = settings::config(env)?;
    // Steps 1 to 3 (or the API key) before anything else is read.
    let credential = auth::credential(req, env, &config, project).await?;
    let client = req.client();
    check_encoding(req.header("Content-Encoding").as_deref())?;
    let query = Query::parse(req.query_string())?;
    let small = small_body(req, call).await?;
    let caller = match &credential {
        Credential::Sass(key) => {
            let state = key_state(env, key, req.now_ms()).await?;
            precheck(key, state, call.verb(), &client)?;
            Caller::Key(key, state)
        }
        Credential::Api(principal) => Caller::Api(principal),
    };
    let files = match &config.origin {
        None => Some(Files::open(env, project)?),
        Some(_) => None,
    };
    // Where the call points. A file id is looked up first (one read, or in
    // origin mode one call to the origin, cached briefly), so that its path
    // is checked like any other.
    let (target, record, place) = match &at {
        At::Path(raw) => (Target::Url(raw.clone()), None, None),
        At::Folder => {
            let folder = match call {
                Call::Files | Call::Folders | Call::Stats => ListQuery::read(&query)?.folder,
                // Its page is read now too, so that a bad one counts nothing.
                Call::ListFolder => page_limit(&query).and_then(|_| folder_of(&query))?,
                _ => folder_of(&query)?,
            };
            let folder = if folder.is_empty() {
                "/".to_string()
            } else {
                folder
            };
            (Target::Plain(folder), None, None)
        }
        At::File(id) => match (&files, &config.origin) {
            (Some(files), _) => {
                let record = files.resolve(id).await?.ok_or(Refusal::MissFile)?;
                let place = record.path.clone();
                (Target::Plain(place.to_string()), Some(record), Some(place))
            }
            (None, Some(origin)) => {
                let ip = client.ip.map(|ip| ip.to_string()).unwrap_or_default();
                let place = origin::lookup(
                    origin,
                    project,
                    id,
                    &credential.identity(),
                    &ip,
                    req.now_ms(),
                )
                .await?
                .ok_or(Refusal::MissFile)?;
                (Target::Plain(place.to_string()), None, Some(place))
            }
            (None, None) => return Err(Refusal::Internal),
        },
    };
    let to = match (call, &place) {
        (Call::Rename, Some(place)) => {
            let name = small.name.clone().unwrap_or_default();
            Some(crate::core::upload::target(&place.parent(), &name)?.to_string())
        }
        _ => small.to.clone(),
    };
    let ask = Ask {
        verb: call.verb(),
        target,
        to,
        length: req
            .header("Content-Length")
            .and_then(|v| v.trim().parse().ok()),
    };
    let allowed = match caller {
        Caller::Key(key, state) => {
            let admission = admit(key, state, &ask, &client)?;
            Allowed {
                operation: admission.operation,
                counted: admission.counted,
                scopes: Some(key.policy.listing.dir_scope.clone()),
                max_file_size: key.policy.upload.max_file_size.get(),
                // A key bound to origins answers its browser page by name.
                named_origin: key
                    .policy
                    .allowed_origins
                    .as_ref()
                    .and(client.origin.clone()),
            }
        }
        Caller::Api(principal) => Allowed {
            operation: admit_api_key(|perm| principal.allows(project, perm), &ask)?,
            counted: None,
            scopes: None,
            max_file_size: MAX_FILE_SIZE,
            named_origin: None,
        },
    };
    // An upload of files counts them once they are received; every other
    // call is counted now.
    let (counted_now, upload_plan) = match (call, allowed.counted.clone()) {
        (Call::Upload, plan) => (None, plan),
        (_, Some((name, take))) => {
            let at = limiter::take(env, &name, take.clone()).await?;
            (Some((name, GiveBack::of(&take, at))), None)
        }
        (_, None) => (None, None),
    };
    let result = match (&config.origin, &files) {
        (Some(origin), _) => {
            let forwarding = Forwarding {
                project,
                call,
                at: &at,
                query: &query,
                allowed: &allowed,
                credential: &credential,
                small: &small,
            };
            forward(req, env, &config, origin, forwarding, upload_plan).await
        }
        (None, Some(files)) => {
            perform(
                req,
                env,
                &config,
                files,
                project,
                call,
                &query,
                &allowed,
                record.as_ref(),
                small,
                upload_plan,
            )
            .await
        }
        (None, None) => Err(Refusal::Internal),
    };
    let completed = matches!(&result, Ok(r) if r.status_code() < 400);
    if let (false, Some((name, give_back))) = (completed, counted_now) {
        limiter::give_back(env, &name, give_back).await;
    }
    result.map(|r| cors::name_origin(r, allowed.named_origin.as_deref()))
}

/// What the gateway read and allowed of a call it forwards to the origin.
struct Forwarding<'a> {
    project: &'a Project,
    call: Call,
    at: &'a At,
    query: &'a Query,
    allowed: &'a Allowed,
    credential: &'a Credential,
    small: &'a SmallBody,
}

/// Origin mode: the call as the origin receives it (canonical: see
/// `core::origin`), its answer (a listing filtered to the key's scope).
async fn forward(
    req: &Incoming,
    env: &Env,
    config: &Config,
    origin: &Origin,
    f: Forwarding<'_>,
    upload_plan: Option<(LimiterName, Take)>,
) -> Result<Response, Refusal> {
    let list = match f.call {
        Call::Files | Call::Folders | Call::Stats => Some(ListQuery::read(f.query)?),
        _ => None,
    };
    let cursor = f.query.one(&["cursor"])?;
    let limit = match f.call {
        Call::ListFolder => page_limit(f.query)?,
        _ => None,
    };
    let file = match f.at {
        At::File(id) => Some(id),
        _ => None,
    };
    let canonical = CanonicalCall {
        project: f.project,
        call: f.call,
        v4: req.path().split('/').nth(2) == Some("v4"),
        file,
        operation: &f.allowed.operation,
        list: list.as_ref(),
        page: (
            cursor.filter(|_| f.call == Call::ListFolder),
            limit.filter(|_| f.call == Call::ListFolder),
        ),
    };
    let path_and_query = canonical.path_and_query();
    let client_ip = req.client().ip.map(|ip| ip.to_string()).unwrap_or_default();
    let identity = f.credential.identity();
    let (path, folder, to) = canonical.places();
    let verified = Forwarded {
        method: req.method(),
        path_and_query: &path_and_query,
        project: f.project.as_str(),
        key_id: &identity,
        permission: f.allowed.operation.permission().name(),
        client_ip: &client_ip,
        timestamp: req.now_secs(),
        path,
        folder,
        to,
    };
    if let (Call::Upload, Some(folder)) = (f.call, folder) {
        return relay::upload(
            req,
            env,
            config,
            origin,
            &verified,
            folder,
            f.allowed.max_file_size,
            upload_plan,
        )
        .await;
    }
    let body = match (f.call, canonical.small_body(f.small.meta.as_ref())) {
        (_, Some(text)) => Outgoing::Text {
            content_type: "application/json".into(),
            text,
        },
        // The object API's upload: the file's bytes, whose length the
        // platform holds to the declared one, checked by the gateway.
        (Call::Put, None) => match req.raw().body() {
            Some(body) => Outgoing::Stream {
                content_type: media_type(req.header("Content-Type").as_deref())?,
                body: body.into(),
            },
            None => Outgoing::Empty,
        },
        _ => Outgoing::Empty,
    };
    let answer = origin::send(Some(req), origin, &verified, body).await?;
    if answer.status_code() < 400
        && let (Call::Delete | Call::Rename, Some(id)) = (f.call, file)
    {
        origin::forget(f.project, id);
    }
    match (f.call, &f.allowed.scopes, &f.allowed.operation) {
        (Call::Files | Call::Folders | Call::ListFolder, Some(scopes), _) => {
            origin::filtered_listing(answer, scopes).await
        }
        // A stored file, served by the origin: as hardened as from R2.
        (Call::Get, _, Operation::Fetch { path }) => {
            let content_type = answer
                .headers()
                .get("Content-Type")
                .ok()
                .flatten()
                .unwrap_or_default();
            let extra = serving::headers(&content_type, path.name());
            Ok(response::rebuild_with(answer, &extra))
        }
        _ => Ok(response::rebuild(answer)),
    }
}

#[allow(clippy::too_many_arguments)]
async fn perform(
    req: &Incoming,
    env: &Env,
    config: &Config,
    files: &Files,
    project: &Project,
    call: Call,
    query: &Query,
    allowed: &Allowed,
    record: Option<&FileRecord>,
    small: SmallBody,
    upload_plan: Option<(LimiterName, Take)>,
) -> Result<Response, Refusal> {
    let folder = |op: &Operation| match op {
        Operation::List { folder } | Operation::UploadFiles { folder } => Ok(folder.clone()),
        _ => Err(Refusal::Internal),
    };
    let scopes = allowed.scopes.as_ref();
    match (call, record) {
        (Call::Upload, _) => {
            let folder: Dir = folder(&allowed.operation)?;
            filerobot::upload(
                req,
                env,
                config,
                files,
                project,
                &folder,
                allowed.max_file_size,
                upload_plan,
            )
            .await
        }
        (Call::Files | Call::Folders | Call::Stats, _) => {
            let what = match call {
                Call::Files => Listing::Files,
                Call::Folders => Listing::Folders,
                _ => Listing::Stats,
            };
            let list = ListQuery::read(query)?;
            filerobot::list(
                req,
                files,
                project,
                &folder(&allowed.operation)?,
                &list,
                scopes,
                what,
            )
            .await
        }
        (Call::Inspect, Some(record)) => Ok(filerobot::inspect(req, project, record)),
        (Call::Delete, Some(record)) => filerobot::delete(files, record).await,
        (Call::Rename, Some(record)) => {
            let Operation::Move { to, .. } = &allowed.operation else {
                return Err(Refusal::Internal);
            };
            let changed = FileRecord {
                path: to.clone(),
                ..record.clone()
            };
            filerobot::change(req, files, project, record, changed).await
        }
        (Call::Meta, Some(record)) => {
            let meta = small
                .meta
                .as_ref()
                .and_then(|m| serde_json::from_str(m.as_str()).ok())
                .unwrap_or_default();
            let changed = FileRecord {
                meta,
                ..record.clone()
            };
            filerobot::change(req, files, project, record, changed).await
        }
        (Call::Inspect | Call::Delete | Call::Rename | Call::Meta, None) => Err(Refusal::Internal),
        (
            Call::Put | Call::Get | Call::Remove | Call::Move | Call::SetMeta | Call::ListFolder,
            _,
        ) => {
            let page = match call {
                Call::ListFolder => (
                    query.one(&["cursor"])?.map(str::to_string),
                    page_limit(query)?,
                ),
                _ => (None, None),
            };
            storage::perform(
                files,
                req,
                project,
                &allowed.operation,
                small.meta,
                page,
                scopes,
            )
            .await
        }
    }
}

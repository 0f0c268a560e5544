//! The routing table: method and path to a `Route`, or the refusal (404, 405,
//! 400 for a malformed project) the shell sends instead.
//!
//! No route is ambiguous: the Filerobot calls (`/v4/files`, `/v5/files/{uuid}`,
//! `/v5/files/stats`, …) and sass-edge's own path-addressed API
//! (`/v5/objects/{path}`) live under different prefixes, so neither a file id
//! nor `stats` is ever read as a file path.

use crate::id::{ApiKeyId, FileId, KeyId, Project, TemplateId};
use crate::refusal::Refusal;
use crate::request::Verb;

/// A storage call: what it does and which API asked it (the answers differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    // sass-edge's own path-addressed API, under /v5/objects and /v5/list.
    /// `PUT /v5/objects/{path}`: the body is the file.
    Put,
    /// `GET` or `HEAD /v5/objects/{path}`: the file's bytes.
    Get,
    /// `DELETE /v5/objects/{path}`.
    Remove,
    /// `POST /v5/objects/{path}/move` with `{"to"}`.
    Move,
    /// `PUT /v5/objects/{path}/meta` with the meta object.
    SetMeta,
    /// `GET /v5/list?folder=`.
    ListFolder,
    // The Filerobot API, as its clients call it.
    /// `POST /v4/files?folder=` (or `/v4/upload`): multipart or JSON.
    Upload,
    /// `GET /v5/files?folder=` (or v4).
    Files,
    /// `GET /v5/folders?folder=` (or v4).
    Folders,
    /// `GET /v5/files/stats?folder=` (or v4).
    Stats,
    /// `GET /v5/files/{uuid}` (or v4): the file object.
    Inspect,
    /// `PATCH /v5/files/{uuid}` (or v4) with `{"name"}`.
    Rename,
    /// `DELETE /v5/files/{uuid}` (or v4).
    Delete,
    /// `PUT /v5/files/{uuid}/meta` (or v4) with `{"meta"}`.
    Meta,
}

impl Call {
    pub fn verb(self) -> Verb {
        match self {
            Call::Put => Verb::Upload,
            Call::Upload => Verb::UploadFiles,
            Call::Get => Verb::Fetch,
            Call::Inspect => Verb::Inspect,
            Call::Remove | Call::Delete => Verb::Delete,
            Call::Move | Call::Rename => Verb::Move,
            Call::SetMeta | Call::Meta => Verb::SetMeta,
            Call::ListFolder | Call::Files | Call::Folders | Call::Stats => Verb::List,
        }
    }

    /// Whether the answer is Filerobot's shape (else sass-edge's own).
    pub fn is_filerobot(self) -> bool {
        !matches!(
            self,
            Call::Put | Call::Get | Call::Remove | Call::Move | Call::SetMeta | Call::ListFolder
        )
    }
}

/// What a storage call points at, before it is parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum At {
    /// A file path from the URL, percent-encoded.
    Path(String),
    /// The folder in the query (`folder=`, or `dir=`).
    Folder,
    /// A stored file, by its id.
    File(FileId),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// A CORS preflight, answered without a credential.
    Preflight,
    /// `GET /openapi.json`: the API's description.
    OpenApi,
    ListApiKeys,
    CreateApiKey,
    ReadApiKey {
        id: ApiKeyId,
    },
    PatchApiKey {
        id: ApiKeyId,
    },
    DeleteApiKey {
        id: ApiKeyId,
    },
    /// `DELETE /{project}/v5/keys/{key_id}`: revoke one issued SASS key.
    RevokeKey {
        project: Project,
        key_id: KeyId,
    },
    /// `GET /{project}/v5/key/introspect`: what the presented key is and has left.
    Introspect {
        project: Project,
    },
    /// `GET /{project}/v4/key/info?key=`: Filerobot's key check.
    KeyInfo {
        project: Project,
    },
    /// `GET /{project}/v4/meta/model/fields`: the metadata model (none), which
    /// Filerobot's Python SDK calls to check its credentials.
    MetaFields {
        project: Project,
    },
    /// `GET /{project}/demo/{template}`: the demo upload page (when `DEMO` is set).
    Demo {
        project: Project,
        template: TemplateId,
    },
    /// `GET /{project}/key/{template}`: issue a key from a template.
    IssueKey {
        project: Project,
        template: TemplateId,
    },
    /// `POST /{project}/key`: mint a key from the body.
    MintKey {
        project: Project,
    },
    ListTemplates {
        project: Project,
    },
    CreateTemplate {
        project: Project,
    },
    /// `PATCH /{project}/v5/security-templates`: activate or deactivate
    /// several templates, all or none.
    PatchTemplates {
        project: Project,
    },
    ReadTemplate {
        project: Project,
        id: TemplateId,
    },
    PatchTemplate {
        project: Project,
        id: TemplateId,
    },
    DeleteTemplate {
        project: Project,
        id: TemplateId,
    },
    /// A storage call through the gateway.
    Storage {
        project: Project,
        call: Call,
        at: At,
    },
}

/// Every route, as (method, path) in the OpenAPI document's notation. A unit
/// test checks `route` against it and it against `public/openapi.json`.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/openapi.json"),
    ("GET", "/v5/api-keys"),
    ("POST", "/v5/api-keys"),
    ("GET", "/v5/api-keys/{id}"),
    ("PATCH", "/v5/api-keys/{id}"),
    ("DELETE", "/v5/api-keys/{id}"),
    ("GET", "/{project}/key/{template_id}"),
    ("GET", "/{project}/v5/key/{template_id}"),
    ("POST", "/{project}/key"),
    ("POST", "/{project}/v5/key"),
    ("GET", "/{project}/v5/key/introspect"),
    ("GET", "/{project}/v4/key/info"),
    ("GET", "/{project}/v4/meta/model/fields"),
    ("GET", "/{project}/demo/{template_id}"),
    ("DELETE", "/{project}/v5/keys/{key_id}"),
    ("GET", "/{project}/v5/security-templates"),
    ("POST", "/{project}/v5/security-templates"),
    ("PATCH", "/{project}/v5/security-templates"),
    ("GET", "/{project}/v5/security-templates/{id}"),
    ("PATCH", "/{project}/v5/security-templates/{id}"),
    ("DELETE", "/{project}/v5/security-templates/{id}"),
    ("PUT", "/{project}/v5/objects/{path}"),
    ("GET", "/{project}/v5/objects/{path}"),
    ("HEAD", "/{project}/v5/objects/{path}"),
    ("DELETE", "/{project}/v5/objects/{path}"),
    ("POST", "/{project}/v5/objects/{path}/move"),
    ("PUT", "/{project}/v5/objects/{path}/meta"),
    ("GET", "/{project}/v5/list"),
    ("POST", "/{project}/v4/files"),
    ("POST", "/{project}/v4/upload"),
    ("GET", "/{project}/v4/files"),
    ("GET", "/{project}/v5/files"),
    ("GET", "/{project}/v4/files/stats"),
    ("GET", "/{project}/v5/files/stats"),
    ("GET", "/{project}/v4/folders"),
    ("GET", "/{project}/v5/folders"),
    ("GET", "/{project}/v4/files/{uuid}"),
    ("PATCH", "/{project}/v4/files/{uuid}"),
    ("DELETE", "/{project}/v4/files/{uuid}"),
    ("GET", "/{project}/v5/files/{uuid}"),
    ("PATCH", "/{project}/v5/files/{uuid}"),
    ("DELETE", "/{project}/v5/files/{uuid}"),
    ("PUT", "/{project}/v4/files/{uuid}/meta"),
    ("PUT", "/{project}/v5/files/{uuid}/meta"),
];

/// `route` or, when the method is not one of `allow`, a 405 naming them.
fn pick(
    method: &str,
    allow: &'static str,
    choose: impl FnOnce(&str) -> Option<Route>,
) -> Result<Route, Refusal> {
    choose(method).ok_or(Refusal::RejectMethod { allow })
}

/// The routes that name no project.
fn company(method: &str, segments: &[&str]) -> Option<Result<Route, Refusal>> {
    Some(match segments {
        ["openapi.json"] => pick(method, "GET, OPTIONS", |m| {
            (m == "GET").then_some(Route::OpenApi)
        }),
        ["v5", "api-keys"] => pick(method, "GET, POST, OPTIONS", |m| match m {
            "GET" => Some(Route::ListApiKeys),
            "POST" => Some(Route::CreateApiKey),
            _ => None,
        }),
        ["v5", "api-keys", id] => {
            let Some(id) = ApiKeyId::parse(id) else {
                return Some(Err(Refusal::MissApiKey));
            };
            pick(method, "GET, PATCH, DELETE, OPTIONS", |m| match m {
                "GET" => Some(Route::ReadApiKey { id }),
                "PATCH" => Some(Route::PatchApiKey { id }),
                "DELETE" => Some(Route::DeleteApiKey { id }),
                _ => None,
            })
        }
        _ => return None,
    })
}

/// The shapes of the project's routes, before the method is checked.
enum Shape<'a> {
    Key(&'a str),
    Keys,
    Introspect,
    KeyInfo,
    MetaFields,
    Demo(&'a str),
    Revoke(&'a str),
    Templates,
    Template(&'a str),
    Object(&'a str),
    List,
    Upload,
    Files,
    Stats,
    Folders,
    File(&'a str),
    FileMeta(&'a str),
}

/// The methods of the object API on `file` (what follows `/v5/objects/`):
/// `…/move` is moved with `POST` and never uploaded with `PUT`, `…/meta` is
/// written with `PUT`, and any other path is only a file.
fn object_methods(file: &str) -> &'static str {
    if file.ends_with("/move") {
        "GET, HEAD, POST, DELETE, OPTIONS"
    } else {
        "GET, HEAD, PUT, DELETE, OPTIONS"
    }
}

pub fn route(method: &str, path: &str) -> Result<Route, Refusal> {
    if method == "OPTIONS" {
        return Ok(Route::Preflight);
    }
    let rest = path.strip_prefix('/').unwrap_or(path);
    let segments: Vec<&str> = rest.split('/').collect();
    if let Some(route) = company(method, &segments) {
        return route;
    }
    let Some((project, tail)) = rest.split_once('/') else {
        return Err(Refusal::MissRoute);
    };
    let shape = if let Some(file) = tail.strip_prefix("v5/objects/") {
        Shape::Object(file)
    } else {
        match &segments[1..] {
            ["v5", "key", "introspect"] => Shape::Introspect,
            ["key", t] | ["v5", "key", t] => Shape::Key(t),
            ["key"] | ["v5", "key"] => Shape::Keys,
            ["v4", "key", "info"] => Shape::KeyInfo,
            ["v4", "meta", "model", "fields"] => Shape::MetaFields,
            ["demo", t] => Shape::Demo(t),
            ["v5", "keys", k] => Shape::Revoke(k),
            ["v5", "security-templates"] => Shape::Templates,
            ["v5", "security-templates", t] => Shape::Template(t),
            ["v5", "list"] => Shape::List,
            ["v4", "upload"] => Shape::Upload,
            ["v4" | "v5", "files"] => Shape::Files,
            ["v4" | "v5", "files", "stats"] => Shape::Stats,
            ["v4" | "v5", "folders"] => Shape::Folders,
            ["v4" | "v5", "files", id] => Shape::File(id),
            ["v4" | "v5", "files", id, "meta"] => Shape::FileMeta(id),
            _ => return Err(Refusal::MissRoute),
        }
    };
    let v4 = segments.get(1) == Some(&"v4");
    let allow = match &shape {
        Shape::Key(_) | Shape::Introspect | Shape::KeyInfo | Shape::MetaFields | Shape::Demo(_) => {
            "GET, OPTIONS"
        }
        Shape::Keys => "POST, OPTIONS",
        Shape::Revoke(_) => "DELETE, OPTIONS",
        Shape::Templates => "GET, POST, PATCH, OPTIONS",
        Shape::Template(_) | Shape::File(_) => "GET, PATCH, DELETE, OPTIONS",
        Shape::Object(file) => object_methods(file),
        Shape::List | Shape::Stats | Shape::Folders => "GET, OPTIONS",
        Shape::Upload => "POST, OPTIONS",
        Shape::Files if v4 => "GET, POST, OPTIONS",
        Shape::Files => "GET, OPTIONS",
        Shape::FileMeta(_) => "PUT, OPTIONS",
    };
    let allowed = match &shape {
        Shape::Object(file) => object_call(method, file).is_some(),
        _ => allow.split(", ").any(|m| m == method),
    };
    if !allowed {
        return Err(Refusal::RejectMethod { allow });
    }
    let project = Project::parse(project).ok_or(Refusal::RejectProject)?;
    let template = |t: &str| TemplateId::parse(t).ok_or(Refusal::MissTemplate);
    // A file id that is not one names no file: never a path.
    let file = |id: &str| FileId::parse(id).ok_or(Refusal::MissFile);
    let storage = |call: Call, at: At| Route::Storage {
        project: project.clone(),
        call,
        at,
    };
    Ok(match shape {
        Shape::Key(t) => Route::IssueKey {
            template: template(t)?,
            project,
        },
        Shape::Demo(t) => Route::Demo {
            template: template(t)?,
            project,
        },
        Shape::Keys => Route::MintKey { project },
        Shape::Introspect => Route::Introspect { project },
        Shape::KeyInfo => Route::KeyInfo { project },
        Shape::MetaFields => Route::MetaFields { project },
        Shape::Revoke(k) => Route::RevokeKey {
            key_id: KeyId::parse(k)
                .ok_or_else(|| Refusal::field("key_id", "must be the 32 hex digits of a key id"))?,
            project,
        },
        Shape::Templates => match method {
            "GET" => Route::ListTemplates { project },
            "POST" => Route::CreateTemplate { project },
            _ => Route::PatchTemplates { project },
        },
        Shape::Template(t) => {
            let id = template(t)?;
            match method {
                "GET" => Route::ReadTemplate { project, id },
                "PATCH" => Route::PatchTemplate { project, id },
                _ => Route::DeleteTemplate { project, id },
            }
        }
        Shape::Object(file) => {
            let (call, path) = object_call(method, file).ok_or(Refusal::RejectMethod {
                allow: object_methods(file),
            })?;
            storage(call, At::Path(path))
        }
        Shape::List => storage(Call::ListFolder, At::Folder),
        Shape::Upload => storage(Call::Upload, At::Folder),
        Shape::Files => match method {
            "POST" => storage(Call::Upload, At::Folder),
            _ => storage(Call::Files, At::Folder),
        },
        Shape::Stats => storage(Call::Stats, At::Folder),
        Shape::Folders => storage(Call::Folders, At::Folder),
        Shape::File(id) => {
            let call = match method {
                "GET" => Call::Inspect,
                "PATCH" => Call::Rename,
                _ => Call::Delete,
            };
            storage(call, At::File(file(id)?))
        }
        Shape::FileMeta(id) => storage(Call::Meta, At::File(file(id)?)),
    })
}

/// A call of the object API on `file` (what follows `/v5/objects/`), with
/// the file's path, percent-encoding intact.
fn object_call(method: &str, file: &str) -> Option<(Call, String)> {
    let file = format!("/{file}");
    Some(match method {
        "PUT" => match file.strip_suffix("/meta") {
            Some(owner) => (Call::SetMeta, owner.to_string()),
            // `…/move` names the move (`POST`), as `…/meta` names the meta
            // call: `PUT` there would store a file named `move`.
            None if file.ends_with("/move") => return None,
            None => (Call::Put, file),
        },
        "POST" => (Call::Move, file.strip_suffix("/move")?.to_string()),
        "GET" | "HEAD" => (Call::Get, file),
        "DELETE" => (Call::Remove, file),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Project {
        Project::parse("demo").unwrap()
    }

    const T: &str = "SECU_3268740E1C82464B9BC350D868F966CB";

    #[test]
    fn routes() {
        let p = demo;
        let t = || TemplateId::parse(T).unwrap();
        assert_eq!(
            route("GET", &format!("/demo/key/{T}")),
            Ok(Route::IssueKey {
                project: p(),
                template: t()
            })
        );
        assert_eq!(
            route("GET", &format!("/demo/v5/key/{T}")),
            Ok(Route::IssueKey {
                project: p(),
                template: t()
            })
        );
        assert_eq!(
            route("POST", "/demo/key"),
            Ok(Route::MintKey { project: p() })
        );
        assert_eq!(
            route("POST", "/demo/v5/key"),
            Ok(Route::MintKey { project: p() })
        );
        assert_eq!(
            route("GET", "/demo/v5/security-templates"),
            Ok(Route::ListTemplates { project: p() })
        );
        assert_eq!(
            route("POST", "/demo/v5/security-templates"),
            Ok(Route::CreateTemplate { project: p() })
        );
        let one = format!("/demo/v5/security-templates/{T}");
        assert_eq!(
            route("GET", &one),
            Ok(Route::ReadTemplate {
                project: p(),
                id: t()
            })
        );
        assert_eq!(
            route("PATCH", &one),
            Ok(Route::PatchTemplate {
                project: p(),
                id: t()
            })
        );
        assert_eq!(
            route("DELETE", &one),
            Ok(Route::DeleteTemplate {
                project: p(),
                id: t()
            })
        );
        assert_eq!(route("OPTIONS", "/anything"), Ok(Route::Preflight));
    }

    const U: &str = "0b6e0c4e-5d52-4f0b-9a3e-4c1de0e8a8f1";

    /// A concrete path for each `{…}` of a route.
    fn sample(path: &str) -> String {
        path.replace("{project}", "demo")
            .replace("{template_id}", T)
            .replace("{key_id}", "0123456789abcdef0123456789abcdef")
            .replace(
                "/v5/api-keys/{id}",
                "/v5/api-keys/APIK_0123456789ABCDEF0123456789ABCDEF",
            )
            .replace("{id}", T)
            .replace("{uuid}", U)
            .replace("{path}", "a/b.jpg")
    }

    #[test]
    fn every_listed_route_routes_and_nothing_else_does() {
        const METHODS: [&str; 6] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];
        for (method, path) in ROUTES {
            assert!(route(method, &sample(path)).is_ok(), "{method} {path}");
        }
        // Every path built from the routes' own words, in every method: it
        // routes only if ROUTES lists it.
        let words = [
            "demo",
            "v4",
            "v5",
            "key",
            "keys",
            "introspect",
            "info",
            "meta",
            "model",
            "fields",
            "security-templates",
            "files",
            "folders",
            "stats",
            "upload",
            "objects",
            "list",
            "api-keys",
            "openapi.json",
            "move",
            T,
            U,
            "0123456789abcdef0123456789abcdef",
            "APIK_0123456789ABCDEF0123456789ABCDEF",
            "a",
        ];
        let listed: Vec<(String, String)> = ROUTES
            .iter()
            .map(|(m, p)| (m.to_string(), sample(p)))
            .collect();
        let mut paths = vec![String::new()];
        for _ in 0..4 {
            paths = paths
                .iter()
                .flat_map(|p| words.iter().map(move |w| format!("{p}/{w}")))
                .collect();
            for path in &paths {
                for method in METHODS {
                    if let Ok(r) = route(method, path) {
                        // Any project-shaped first segment is a {project}.
                        let (first, rest) = path[1..].split_once('/').unwrap_or((&path[1..], ""));
                        let as_demo = if Project::parse(first).is_some() {
                            format!("/demo/{rest}")
                        } else {
                            path.clone()
                        };
                        let objects = as_demo.starts_with("/demo/v5/objects/");
                        let known = listed
                            .iter()
                            .any(|(m, p)| m == method && (p == path || *p == as_demo));
                        assert!(
                            known || objects,
                            "{method} {path} routes to {r:?} but is not in ROUTES"
                        );
                    }
                }
            }
        }
    }

    /// The OpenAPI document lists exactly the routes served.
    #[test]
    fn openapi_matches_routes() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../public/openapi.json")).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let mut documented: Vec<(String, String)> = Vec::new();
        for (path, ops) in doc["paths"].as_object().unwrap() {
            for method in ops.as_object().unwrap().keys() {
                documented.push((method.to_uppercase(), path.clone()));
            }
        }
        let mut served: Vec<(String, String)> = ROUTES
            .iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        documented.sort();
        served.sort();
        assert_eq!(documented, served);
    }

    #[test]
    fn lifecycle_routes() {
        assert_eq!(route("GET", "/openapi.json"), Ok(Route::OpenApi));
        assert_eq!(route("GET", "/v5/api-keys"), Ok(Route::ListApiKeys));
        assert_eq!(
            route("PUT", "/v5/api-keys"),
            Err(Refusal::RejectMethod {
                allow: "GET, POST, OPTIONS"
            })
        );
        assert_eq!(
            route("DELETE", "/v5/api-keys/root"),
            Ok(Route::DeleteApiKey {
                id: ApiKeyId::root()
            })
        );
        assert_eq!(route("GET", "/v5/api-keys/nope"), Err(Refusal::MissApiKey));
        assert_eq!(
            route("GET", "/demo/v5/key/introspect"),
            Ok(Route::Introspect { project: demo() })
        );
        let k = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            route("DELETE", &format!("/demo/v5/keys/{k}")),
            Ok(Route::RevokeKey {
                project: demo(),
                key_id: KeyId::parse(k).unwrap()
            })
        );
        assert_eq!(
            route("DELETE", "/demo/v5/keys/nope").unwrap_err().code(),
            "INVALID_FIELD"
        );
        assert_eq!(
            route("GET", &format!("/demo/v5/keys/{k}")),
            Err(Refusal::RejectMethod {
                allow: "DELETE, OPTIONS"
            })
        );
    }

    #[test]
    fn storage_routes() {
        let r = |m: &str, p: &str| route(m, p);
        let s = |call: Call, at: At| {
            Ok(Route::Storage {
                project: demo(),
                call,
                at,
            })
        };
        let path = |p: &str| At::Path(p.into());
        assert_eq!(
            r("PUT", "/demo/v5/objects/a/b.jpg"),
            s(Call::Put, path("/a/b.jpg"))
        );
        assert_eq!(
            r("GET", "/demo/v5/objects/a/b.jpg"),
            s(Call::Get, path("/a/b.jpg"))
        );
        assert_eq!(
            r("HEAD", "/demo/v5/objects/a%20b.jpg"),
            s(Call::Get, path("/a%20b.jpg"))
        );
        assert_eq!(
            r("DELETE", "/demo/v5/objects/a/b.jpg"),
            s(Call::Remove, path("/a/b.jpg"))
        );
        assert_eq!(
            r("POST", "/demo/v5/objects/a/b.jpg/move"),
            s(Call::Move, path("/a/b.jpg"))
        );
        assert_eq!(
            r("PUT", "/demo/v5/objects/a/b.jpg/meta"),
            s(Call::SetMeta, path("/a/b.jpg"))
        );
        assert_eq!(r("GET", "/demo/v5/list"), s(Call::ListFolder, At::Folder));
        assert_eq!(
            r("POST", "/demo/v5/list"),
            Err(Refusal::RejectMethod {
                allow: "GET, OPTIONS"
            })
        );
        let file_only = "GET, HEAD, PUT, DELETE, OPTIONS";
        assert_eq!(
            r("POST", "/demo/v5/objects/a.jpg"),
            Err(Refusal::RejectMethod { allow: file_only })
        );
        assert_eq!(
            r("PATCH", "/demo/v5/objects/a.jpg"),
            Err(Refusal::RejectMethod { allow: file_only })
        );
        // `…/move` is the move: never the upload of a file named `move`.
        let at_move = "GET, HEAD, POST, DELETE, OPTIONS";
        for (method, path) in [
            ("PUT", "/demo/v5/objects/a/move"),
            ("PATCH", "/demo/v5/objects/a/move"),
        ] {
            assert_eq!(
                r(method, path),
                Err(Refusal::RejectMethod { allow: at_move }),
                "{method} {path}"
            );
        }
        assert_eq!(
            r("GET", "/demo/v5/objects/a/move"),
            s(Call::Get, path("/a/move"))
        );
        assert_eq!(
            r("PUT", "/demo/v5/objects/a/meta"),
            s(Call::SetMeta, path("/a"))
        );
        assert_eq!(
            r("POST", "/demo/v5/objects/a/meta"),
            Err(Refusal::RejectMethod { allow: file_only })
        );
        assert_eq!(
            r("GET", "/Demo/v5/objects/a.jpg"),
            Err(Refusal::RejectProject)
        );
        // Empty and odd paths reach the gateway, which refuses them as PATH_INVALID.
        assert_eq!(r("GET", "/demo/v5/objects/"), s(Call::Get, path("/")));
        assert_eq!(r("GET", "/demo/v5/objects//x"), s(Call::Get, path("//x")));
        assert_eq!(r("GET", "/demo/v5/objects"), Err(Refusal::MissRoute));
        // The Filerobot API.
        for p in ["/demo/v4/files", "/demo/v4/upload"] {
            assert_eq!(r("POST", p), s(Call::Upload, At::Folder));
        }
        for p in ["/demo/v4/files", "/demo/v5/files"] {
            assert_eq!(r("GET", p), s(Call::Files, At::Folder));
        }
        assert_eq!(
            r("POST", "/demo/v5/files"),
            Err(Refusal::RejectMethod {
                allow: "GET, OPTIONS"
            })
        );
        assert_eq!(r("GET", "/demo/v5/files/stats"), s(Call::Stats, At::Folder));
        assert_eq!(r("GET", "/demo/v4/folders"), s(Call::Folders, At::Folder));
        let id = || At::File(FileId::parse(U).unwrap());
        assert_eq!(
            r("GET", &format!("/demo/v5/files/{U}")),
            s(Call::Inspect, id())
        );
        assert_eq!(
            r("PATCH", &format!("/demo/v4/files/{U}")),
            s(Call::Rename, id())
        );
        assert_eq!(
            r("DELETE", &format!("/demo/v4/files/{U}")),
            s(Call::Delete, id())
        );
        assert_eq!(
            r("PUT", &format!("/demo/v4/files/{U}/meta")),
            s(Call::Meta, id())
        );
        // Neither a name nor a path is ever read as a file id.
        assert_eq!(r("GET", "/demo/v5/files/photo.jpg"), Err(Refusal::MissFile));
        assert_eq!(r("GET", "/demo/v5/files/a/b.jpg"), Err(Refusal::MissRoute));
        assert_eq!(
            r("PUT", "/demo/v5/files/stats"),
            Err(Refusal::RejectMethod {
                allow: "GET, OPTIONS"
            })
        );
        assert_eq!(
            r("GET", "/demo/v4/key/info"),
            Ok(Route::KeyInfo { project: demo() })
        );
        assert_eq!(
            r("GET", "/demo/v4/meta/model/fields"),
            Ok(Route::MetaFields { project: demo() })
        );
        assert_eq!(
            r("PATCH", "/demo/v5/security-templates"),
            Ok(Route::PatchTemplates { project: demo() })
        );
    }

    #[test]
    fn refusals() {
        assert_eq!(route("GET", "/"), Err(Refusal::MissRoute));
        assert_eq!(route("GET", "/demo"), Err(Refusal::MissRoute));
        assert_eq!(route("GET", "/demo/key/x/y"), Err(Refusal::MissRoute));
        assert_eq!(
            route("GET", &format!("/demo/key/{T}/")),
            Err(Refusal::MissRoute)
        );
        assert_eq!(
            route("DELETE", "/demo/key"),
            Err(Refusal::RejectMethod {
                allow: "POST, OPTIONS"
            })
        );
        assert_eq!(
            route("PUT", "/demo/v5/security-templates"),
            Err(Refusal::RejectMethod {
                allow: "GET, POST, PATCH, OPTIONS"
            })
        );
        assert_eq!(
            route("GET", "/Demo/key"),
            Err(Refusal::RejectMethod {
                allow: "POST, OPTIONS"
            })
        );
        assert_eq!(route("POST", "/Demo/key"), Err(Refusal::RejectProject));
        assert_eq!(
            route("POST", &format!("/{}/key", "a".repeat(33))),
            Err(Refusal::RejectProject)
        );
        assert_eq!(
            route("GET", "/demo/key/SECU_nope"),
            Err(Refusal::MissTemplate)
        );
        assert_eq!(
            route("GET", "/demo/v5/security-templates/x"),
            Err(Refusal::MissTemplate)
        );
    }
}

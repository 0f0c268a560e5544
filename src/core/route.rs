//! The routing table: method and path to a `Route`, or the refusal (404, 405,
//! 400 for a malformed project) the shell sends instead.

use crate::core::id::{ApiKeyId, KeyId, Project, TemplateId};
use crate::core::refusal::Refusal;
use crate::core::request::Verb;

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
    /// `/{project}/v5/files/{path}[/move|/meta]` and `/{project}/v5/list`:
    /// storage requests through the gateway. `path` is the file's path as
    /// sent (percent-encoded); for `List` it is empty (the folder is a query
    /// parameter).
    Storage {
        project: Project,
        verb: Verb,
        path: String,
    },
}

enum Shape {
    Demo,
    Key,
    Keys,
    Templates,
    Template,
    Revoke,
    Introspect,
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
    ("GET", "/{project}/demo/{template_id}"),
    ("DELETE", "/{project}/v5/keys/{key_id}"),
    ("GET", "/{project}/v5/security-templates"),
    ("POST", "/{project}/v5/security-templates"),
    ("GET", "/{project}/v5/security-templates/{id}"),
    ("PATCH", "/{project}/v5/security-templates/{id}"),
    ("DELETE", "/{project}/v5/security-templates/{id}"),
    ("PUT", "/{project}/v5/files/{path}"),
    ("GET", "/{project}/v5/files/{path}"),
    ("HEAD", "/{project}/v5/files/{path}"),
    ("DELETE", "/{project}/v5/files/{path}"),
    ("POST", "/{project}/v5/files/{path}/move"),
    ("PUT", "/{project}/v5/files/{path}/meta"),
    ("GET", "/{project}/v5/list"),
];

/// The routes that name no project.
fn company(method: &str, segments: &[&str]) -> Option<Result<Route, Refusal>> {
    let (allow, route) = match segments {
        ["openapi.json"] => ("GET, OPTIONS", (method == "GET").then_some(Route::OpenApi)),
        ["v5", "api-keys"] => (
            "GET, POST, OPTIONS",
            match method {
                "GET" => Some(Route::ListApiKeys),
                "POST" => Some(Route::CreateApiKey),
                _ => None,
            },
        ),
        ["v5", "api-keys", id] => {
            let Some(id) = ApiKeyId::parse(id) else {
                return Some(Err(Refusal::MissApiKey));
            };
            (
                "GET, PATCH, DELETE, OPTIONS",
                match method {
                    "GET" => Some(Route::ReadApiKey { id }),
                    "PATCH" => Some(Route::PatchApiKey { id }),
                    "DELETE" => Some(Route::DeleteApiKey { id }),
                    _ => None,
                },
            )
        }
        _ => return None,
    };
    Some(route.ok_or(Refusal::RejectMethod { allow }))
}

pub fn route(method: &str, path: &str) -> Result<Route, Refusal> {
    if method == "OPTIONS" {
        return Ok(Route::Preflight);
    }
    if let Some(route) = storage(method, path)? {
        return Ok(route);
    }
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    if let Some(route) = company(method, &segments) {
        return route;
    }
    let (shape, project, id) = match segments.as_slice() {
        [p, "v5", "key", "introspect"] => (Shape::Introspect, *p, ""),
        [p, "demo", t] => (Shape::Demo, *p, *t),
        [p, "v5", "keys", k] => (Shape::Revoke, *p, *k),
        [p, "key", t] | [p, "v5", "key", t] => (Shape::Key, *p, *t),
        [p, "key"] | [p, "v5", "key"] => (Shape::Keys, *p, ""),
        [p, "v5", "security-templates"] => (Shape::Templates, *p, ""),
        [p, "v5", "security-templates", t] => (Shape::Template, *p, *t),
        _ => return Err(Refusal::MissRoute),
    };
    let allow = match shape {
        Shape::Key | Shape::Demo => "GET, OPTIONS",
        Shape::Keys => "POST, OPTIONS",
        Shape::Templates => "GET, POST, OPTIONS",
        Shape::Template => "GET, PATCH, DELETE, OPTIONS",
        Shape::Revoke => "DELETE, OPTIONS",
        Shape::Introspect => "GET, OPTIONS",
    };
    if !allow.split(", ").any(|m| m == method) {
        return Err(Refusal::RejectMethod { allow });
    }
    let project = Project::parse(project).ok_or(Refusal::RejectProject)?;
    let template = || TemplateId::parse(id).ok_or(Refusal::MissTemplate);
    Ok(match (shape, method) {
        (Shape::Key, _) => Route::IssueKey {
            project,
            template: template()?,
        },
        (Shape::Demo, _) => Route::Demo {
            project,
            template: template()?,
        },
        (Shape::Keys, _) => Route::MintKey { project },
        (Shape::Templates, "GET") => Route::ListTemplates { project },
        (Shape::Templates, _) => Route::CreateTemplate { project },
        (Shape::Template, "GET") => Route::ReadTemplate {
            project,
            id: template()?,
        },
        (Shape::Template, "PATCH") => Route::PatchTemplate {
            project,
            id: template()?,
        },
        (Shape::Template, _) => Route::DeleteTemplate {
            project,
            id: template()?,
        },
        (Shape::Revoke, _) => Route::RevokeKey {
            project,
            key_id: KeyId::parse(id)
                .ok_or_else(|| Refusal::field("key_id", "must be the 32 hex digits of a key id"))?,
        },
        (Shape::Introspect, _) => Route::Introspect { project },
    })
}

/// The storage routes, or `None` when `path` is not one.
fn storage(method: &str, path: &str) -> Result<Option<Route>, Refusal> {
    let rest = path.strip_prefix('/').unwrap_or(path);
    let Some((project, rest)) = rest.split_once('/') else {
        return Ok(None);
    };
    let (verb, file) = if rest == "v5/list" {
        if method != "GET" {
            return Err(Refusal::RejectMethod {
                allow: "GET, OPTIONS",
            });
        }
        (Verb::List, String::new())
    } else if let Some(file) = rest.strip_prefix("v5/files/") {
        let file = format!("/{file}");
        match method {
            "PUT" => match file.strip_suffix("/meta") {
                Some(owner) => (Verb::SetMeta, owner.to_string()),
                None => (Verb::Upload, file),
            },
            "POST" => match file.strip_suffix("/move") {
                Some(owner) => (Verb::Move, owner.to_string()),
                None => {
                    return Err(Refusal::RejectMethod {
                        allow: FILE_METHODS,
                    });
                }
            },
            "GET" | "HEAD" => (Verb::Fetch, file),
            "DELETE" => (Verb::Delete, file),
            _ => {
                return Err(Refusal::RejectMethod {
                    allow: FILE_METHODS,
                });
            }
        }
    } else {
        return Ok(None);
    };
    let project = Project::parse(project).ok_or(Refusal::RejectProject)?;
    Ok(Some(Route::Storage {
        project,
        verb,
        path: file,
    }))
}

const FILE_METHODS: &str = "GET, HEAD, PUT, DELETE, POST (…/move), OPTIONS";

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
            "v5",
            "key",
            "keys",
            "introspect",
            "security-templates",
            "files",
            "list",
            "api-keys",
            "openapi.json",
            "move",
            "meta",
            T,
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
                        let files = as_demo.starts_with("/demo/v5/files/");
                        let known = listed
                            .iter()
                            .any(|(m, p)| m == method && (p == path || *p == as_demo));
                        assert!(
                            known || files,
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
        let s = |verb: Verb, path: &str| {
            Ok(Route::Storage {
                project: demo(),
                verb,
                path: path.into(),
            })
        };
        assert_eq!(
            r("PUT", "/demo/v5/files/a/b.jpg"),
            s(Verb::Upload, "/a/b.jpg")
        );
        assert_eq!(
            r("GET", "/demo/v5/files/a/b.jpg"),
            s(Verb::Fetch, "/a/b.jpg")
        );
        assert_eq!(
            r("HEAD", "/demo/v5/files/a%20b.jpg"),
            s(Verb::Fetch, "/a%20b.jpg")
        );
        assert_eq!(
            r("DELETE", "/demo/v5/files/a/b.jpg"),
            s(Verb::Delete, "/a/b.jpg")
        );
        assert_eq!(
            r("POST", "/demo/v5/files/a/b.jpg/move"),
            s(Verb::Move, "/a/b.jpg")
        );
        assert_eq!(
            r("PUT", "/demo/v5/files/a/b.jpg/meta"),
            s(Verb::SetMeta, "/a/b.jpg")
        );
        assert_eq!(r("GET", "/demo/v5/list"), s(Verb::List, ""));
        assert_eq!(
            r("POST", "/demo/v5/list"),
            Err(Refusal::RejectMethod {
                allow: "GET, OPTIONS"
            })
        );
        assert_eq!(
            r("POST", "/demo/v5/files/a.jpg"),
            Err(Refusal::RejectMethod {
                allow: FILE_METHODS
            })
        );
        assert_eq!(
            r("PATCH", "/demo/v5/files/a.jpg"),
            Err(Refusal::RejectMethod {
                allow: FILE_METHODS
            })
        );
        assert_eq!(
            r("GET", "/Demo/v5/files/a.jpg"),
            Err(Refusal::RejectProject)
        );
        // Empty and odd paths reach the gateway, which refuses them as PATH_INVALID.
        assert_eq!(r("GET", "/demo/v5/files/"), s(Verb::Fetch, "/"));
        assert_eq!(r("GET", "/demo/v5/files//x"), s(Verb::Fetch, "//x"));
        assert_eq!(r("GET", "/demo/v5/files"), Err(Refusal::MissRoute));
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
                allow: "GET, POST, OPTIONS"
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

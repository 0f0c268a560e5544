//! The routing table: method and path to a `Route`, or the refusal (404, 405,
//! 400 for a malformed project) the shell sends instead.

use crate::core::gateway::Verb;
use crate::core::refusal::Refusal;
use crate::core::template::is_template_id;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// A CORS preflight, answered without a credential.
    Preflight,
    /// `GET /{project}/key/{template}`: issue a key from a template.
    IssueKey {
        project: String,
        template: String,
    },
    /// `POST /{project}/key`: mint a key from the body, with an API key.
    MintKey {
        project: String,
    },
    ListTemplates {
        project: String,
    },
    CreateTemplate {
        project: String,
    },
    ReadTemplate {
        project: String,
        id: String,
    },
    PatchTemplate {
        project: String,
        id: String,
    },
    DeleteTemplate {
        project: String,
        id: String,
    },
    /// `/{project}/v5/files/{path}[/move|/meta]` and `/{project}/v5/list`:
    /// storage requests through the gateway. `path` is the file's path as
    /// sent (percent-encoded); for `List` it is empty (the folder is a query
    /// parameter).
    Storage {
        project: String,
        verb: Verb,
        path: String,
    },
}

/// A project: the first path segment, `[a-z0-9]{1,32}`.
pub fn is_project(s: &str) -> bool {
    (1..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

enum Shape {
    Key,
    Keys,
    Templates,
    Template,
}

pub fn route(method: &str, path: &str) -> Result<Route, Refusal> {
    if method == "OPTIONS" {
        return Ok(Route::Preflight);
    }
    if let Some(route) = storage(method, path)? {
        return Ok(route);
    }
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    let (shape, project, id) = match segments.as_slice() {
        [p, "key", t] | [p, "v5", "key", t] => (Shape::Key, *p, *t),
        [p, "key"] | [p, "v5", "key"] => (Shape::Keys, *p, ""),
        [p, "v5", "security-templates"] => (Shape::Templates, *p, ""),
        [p, "v5", "security-templates", t] => (Shape::Template, *p, *t),
        _ => return Err(Refusal::MissRoute),
    };
    let allow = match shape {
        Shape::Key => "GET, OPTIONS",
        Shape::Keys => "POST, OPTIONS",
        Shape::Templates => "GET, POST, OPTIONS",
        Shape::Template => "GET, PATCH, DELETE, OPTIONS",
    };
    if !allow.split(", ").any(|m| m == method) {
        return Err(Refusal::RejectMethod { allow });
    }
    if !is_project(project) {
        return Err(Refusal::RejectProject);
    }
    if matches!(shape, Shape::Key | Shape::Template) && !is_template_id(id) {
        return Err(Refusal::MissTemplate);
    }
    let (project, id) = (project.to_string(), id.to_string());
    Ok(match (shape, method) {
        (Shape::Key, _) => Route::IssueKey {
            project,
            template: id,
        },
        (Shape::Keys, _) => Route::MintKey { project },
        (Shape::Templates, "GET") => Route::ListTemplates { project },
        (Shape::Templates, _) => Route::CreateTemplate { project },
        (Shape::Template, "GET") => Route::ReadTemplate { project, id },
        (Shape::Template, "PATCH") => Route::PatchTemplate { project, id },
        (Shape::Template, _) => Route::DeleteTemplate { project, id },
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
    if !is_project(project) {
        return Err(Refusal::RejectProject);
    }
    Ok(Some(Route::Storage {
        project: project.to_string(),
        verb,
        path: file,
    }))
}

const FILE_METHODS: &str = "GET, HEAD, PUT, DELETE, POST (…/move), OPTIONS";

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "SECU_3268740E1C82464B9BC350D868F966CB";

    #[test]
    fn routes() {
        let p = || "demo".to_string();
        let t = || T.to_string();
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

    #[test]
    fn storage_routes() {
        let r = |m: &str, p: &str| route(m, p);
        let s = |verb: Verb, path: &str| {
            Ok(Route::Storage {
                project: "demo".into(),
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

//! The request model: what a storage request asks to do (`Verb`, `Ask`), the
//! operation it becomes once its paths are parsed (`Operation`), and the
//! small JSON bodies of move and meta calls.

use serde::Deserialize;
use serde_json::Value;

use crate::body::typed;
use crate::path::{self, Dir, FilePath};
use crate::permission::Permission;
use crate::refusal::Refusal;

/// What a storage request asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// Store the request's body as one file (`PUT …/objects/{path}`).
    Upload,
    /// Store the files of a multipart or JSON body in a folder (Filerobot's
    /// `POST …/v4/files?folder=`): each file is one upload.
    UploadFiles,
    Fetch,
    /// Read a file's description (Filerobot's `GET …/files/{uuid}`).
    Inspect,
    Delete,
    Move,
    SetMeta,
    /// List a folder: its files, its subfolders, or how many files it has.
    List,
}

/// Where a storage request points, before it is parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A path as sent in the URL, percent-encoded.
    Url(String),
    /// A path already decoded: a query parameter, or a stored file's path
    /// found by its id.
    Plain(String),
}

/// A storage request as it arrived, before any check.
#[derive(Debug, Clone)]
pub struct Ask {
    pub verb: Verb,
    /// The file, or for `List` and `UploadFiles` the folder.
    pub target: Target,
    /// For `Move`: the destination from the JSON body (not percent-encoded).
    pub to: Option<String>,
    /// For `Upload`: the declared `Content-Length`.
    pub length: Option<u64>,
}

/// A storage request once its paths are parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    Upload { path: FilePath, length: u64 },
    UploadFiles { folder: Dir },
    Fetch { path: FilePath },
    Inspect { path: FilePath },
    Delete { path: FilePath },
    Move { from: FilePath, to: FilePath },
    SetMeta { path: FilePath },
    List { folder: Dir },
}

impl Verb {
    /// The permissions that can allow this verb, before paths are parsed.
    pub fn permissions(self) -> &'static [Permission] {
        match self {
            Verb::Upload | Verb::UploadFiles => &[Permission::FileUpload],
            Verb::Fetch => &[Permission::ObjectsFetch],
            Verb::Delete => &[Permission::FileDelete],
            Verb::Move => &[Permission::FileRename, Permission::FileMove],
            Verb::SetMeta => &[Permission::FileMetaChange],
            Verb::List | Verb::Inspect => &[Permission::ObjectsList],
        }
    }
}

impl Operation {
    pub fn permission(&self) -> Permission {
        match self {
            Operation::Upload { .. } | Operation::UploadFiles { .. } => Permission::FileUpload,
            Operation::Fetch { .. } => Permission::ObjectsFetch,
            Operation::Inspect { .. } => Permission::ObjectsList,
            Operation::Delete { .. } => Permission::FileDelete,
            Operation::Move { from, to } if from.parent() == to.parent() => Permission::FileRename,
            Operation::Move { .. } => Permission::FileMove,
            Operation::SetMeta { .. } => Permission::FileMetaChange,
            Operation::List { .. } => Permission::ObjectsList,
        }
    }

    /// Whether this is an upload (checked against `upload.dir_scope`, and
    /// counted by the upload counters) rather than any other call.
    pub fn is_upload(&self) -> bool {
        matches!(
            self,
            Operation::Upload { .. } | Operation::UploadFiles { .. }
        )
    }

    /// The directories checked against a scope, with the action named in a refusal.
    pub fn directories(&self) -> Vec<(&'static str, Dir)> {
        match self {
            Operation::Upload { path, .. } => vec![("upload into", path.parent())],
            Operation::UploadFiles { folder } => vec![("upload into", folder.clone())],
            Operation::Fetch { path } => vec![("fetch from", path.parent())],
            Operation::Inspect { path } => vec![("read files in", path.parent())],
            Operation::Delete { path } => vec![("delete in", path.parent())],
            Operation::SetMeta { path } => vec![("change files in", path.parent())],
            Operation::Move { from, to } => vec![
                ("move files out of", from.parent()),
                ("move files into", to.parent()),
            ],
            Operation::List { folder } => vec![("list", folder.clone())],
        }
    }
}

impl Target {
    fn decoded(&self) -> Result<String, Refusal> {
        match self {
            Target::Url(raw) => path::percent_decode(raw),
            Target::Plain(plain) => Ok(plain.clone()),
        }
    }
}

impl Ask {
    /// Parses the paths: the validity half of the gateway's step 8.
    pub fn operation(&self) -> Result<Operation, Refusal> {
        let file = || FilePath::parse(self.target.decoded()?);
        let dir = || Dir::parse(self.target.decoded()?);
        Ok(match self.verb {
            Verb::Upload => {
                let path = file()?;
                // `PUT …/meta` changes a file's meta, and `…/move` names the
                // move: a file of either name, however its URL spells it, has
                // no single reading there.
                if let name @ ("meta" | "move") = path.name() {
                    return Err(Refusal::RejectPath {
                        reason: format!(
                            "a file named {name} is uploaded with the Filerobot upload: …/{name} names the {name} call"
                        ),
                    });
                }
                Operation::Upload {
                    path,
                    length: self.length.unwrap_or(0),
                }
            }
            Verb::UploadFiles => Operation::UploadFiles { folder: dir()? },
            Verb::Fetch => Operation::Fetch { path: file()? },
            Verb::Inspect => Operation::Inspect { path: file()? },
            Verb::Delete => Operation::Delete { path: file()? },
            Verb::SetMeta => Operation::SetMeta { path: file()? },
            Verb::Move => {
                let to = self
                    .to
                    .clone()
                    .ok_or_else(|| Refusal::field("to", "is missing"))?;
                Operation::Move {
                    from: file()?,
                    to: FilePath::parse(to)?,
                }
            }
            Verb::List => Operation::List { folder: dir()? },
        })
    }
}

/// A request body is read only as sent: its size is checked on the bytes
/// stored, so a body in a `Content-Encoding` other than identity (a small
/// gzip body that would inflate past `max_file_size`) is refused.
pub fn check_encoding(content_encoding: Option<&str>) -> Result<(), Refusal> {
    match content_encoding.map(str::trim) {
        None | Some("") => Ok(()),
        Some(e) if e.eq_ignore_ascii_case("identity") => Ok(()),
        Some(e) => Err(Refusal::RejectEncoding {
            encoding: e.chars().take(64).collect(),
        }),
    }
}

/// Largest JSON body of a move or meta call.
pub const MAX_SMALL_BODY: usize = 8 * 1024;
/// Largest file metadata, serialised: R2 keeps it as custom metadata.
pub const MAX_META: usize = 2048;

/// The body of `POST …/move`: `{"to": "/new/path"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    pub to: String,
}

impl MoveBody {
    /// `to` is given decoded, unlike the URL path: a `%` in it would have
    /// two readings. (A rename's destination is the file's own folder and
    /// the new name, not a path given here: a folder may hold a `%`.)
    pub fn read(body: Value) -> Result<MoveBody, Refusal> {
        let body: MoveBody = typed(body, "")?;
        if body.to.contains('%') {
            return Err(Refusal::RejectPath {
                reason: "`to` must not contain %: give the path decoded".into(),
            });
        }
        Ok(body)
    }
}

/// The body of Filerobot's rename, `PATCH …/files/{uuid}`: `{"name"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenameBody {
    pub name: String,
}

/// The body of Filerobot's `PUT …/files/{uuid}/meta`: `{"meta": {…}}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetaBody {
    pub meta: serde_json::Map<String, Value>,
}

/// The metadata of `PUT …/meta`: a JSON object, kept serialised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMeta(String);

impl FileMeta {
    pub fn read(body: &Value) -> Result<FileMeta, Refusal> {
        if !body.is_object() {
            return Err(Refusal::RejectJson {
                detail: "file metadata must be a JSON object".into(),
            });
        }
        let text = body.to_string();
        if text.len() > MAX_META {
            return Err(Refusal::field(
                "meta",
                format!("must be at most {MAX_META} bytes as JSON"),
            ));
        }
        Ok(FileMeta(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ask(verb: Verb, path: &str) -> Ask {
        let target = match verb {
            Verb::List | Verb::UploadFiles => Target::Plain(path.into()),
            _ => Target::Url(path.into()),
        };
        Ask {
            verb,
            target,
            to: None,
            length: Some(1),
        }
    }

    #[test]
    fn only_identity_bodies() {
        for ok in [None, Some(""), Some("identity"), Some(" Identity ")] {
            assert!(check_encoding(ok).is_ok(), "{ok:?}");
        }
        for bad in ["gzip", "br", "deflate", "identity, gzip", "x"] {
            let e = check_encoding(Some(bad)).unwrap_err();
            assert_eq!((e.status(), e.code()), (415, "ENCODING_UNSUPPORTED"));
        }
    }

    #[test]
    fn operations_and_permissions() {
        let mv = |from: &str, to: &str| Ask {
            to: Some(to.into()),
            ..ask(Verb::Move, from)
        };
        assert_eq!(
            mv("/a/x", "/a/y").operation().unwrap().permission(),
            Permission::FileRename
        );
        assert_eq!(
            mv("/a/x", "/b/x").operation().unwrap().permission(),
            Permission::FileMove
        );
        assert_eq!(
            mv("/a/x", "/b/../x").operation().unwrap_err().code(),
            "PATH_INVALID"
        );
        // A file named meta on the object API, however spelt (found by the
        // path fuzz target): in origin mode `PUT /up/meta` reads as a meta call.
        for raw in [
            "/up/meta",
            "/up/%6Deta",
            "/up/%6d%65%74%61",
            "/up/move",
            "/up/%6Dove",
        ] {
            assert_eq!(
                ask(Verb::Upload, raw).operation().unwrap_err().code(),
                "PATH_INVALID",
                "{raw}"
            );
        }
        assert!(ask(Verb::Fetch, "/up/%6Deta").operation().is_ok());
        assert!(ask(Verb::Fetch, "/up/%6Dove").operation().is_ok());
        for to in ["/b/%2e%2e/x", "/b/100%", "/b/a%20b"] {
            assert_eq!(
                MoveBody::read(json!({ "to": to })).unwrap_err().code(),
                "PATH_INVALID",
                "{to}"
            );
        }
        assert_eq!(
            mv("/a/x", "/b/%2e%2e/x").operation().unwrap_err().code(),
            "PATH_INVALID"
        );
        // A rename keeps the file's folder, which may hold a `%` (found by
        // schemathesis: a file uploaded into /100% could not be renamed).
        let rename = Ask {
            verb: Verb::Move,
            target: Target::Plain("/100% done/x".into()),
            to: Some("/100% done/y".into()),
            length: None,
        };
        assert!(rename.operation().is_ok());
        assert_eq!(
            ask(Verb::Move, "/a").operation().unwrap_err().message(),
            "to: is missing"
        );
        assert_eq!(
            ask(Verb::Upload, "/a%20b").operation().unwrap(),
            Operation::Upload {
                path: FilePath::parse("/a b".into()).unwrap(),
                length: 1,
            }
        );
        assert_eq!(
            ask(Verb::Fetch, "/").operation().unwrap_err().code(),
            "PATH_INVALID"
        );
        assert_eq!(
            ask(Verb::List, "/").operation().unwrap(),
            Operation::List {
                folder: Dir::root()
            }
        );
        assert_eq!(
            ask(Verb::List, "/a/").operation().unwrap_err().code(),
            "PATH_INVALID"
        );
        let stored = Ask {
            target: Target::Plain("/a%zb".into()),
            ..ask(Verb::Inspect, "")
        };
        assert_eq!(
            stored.operation().unwrap(),
            Operation::Inspect {
                path: FilePath::parse("/a%zb".into()).unwrap()
            },
            "a stored path is not decoded again"
        );
        assert_eq!(
            ask(Verb::UploadFiles, "/up")
                .operation()
                .unwrap()
                .permission(),
            Permission::FileUpload
        );
        let dirs = mv("/a/x", "/b/c/x").operation().unwrap().directories();
        assert_eq!(dirs[0].1.as_str(), "/a");
        assert_eq!(dirs[1].1.as_str(), "/b/c");
    }

    #[test]
    fn small_bodies() {
        assert_eq!(MoveBody::read(json!({"to": "/a/b"})).unwrap().to, "/a/b");
        assert_eq!(
            MoveBody::read(json!({})).unwrap_err().message(),
            "to: is missing"
        );
        assert_eq!(
            MoveBody::read(json!({"to": 5})).unwrap_err().message(),
            "to: must be a string"
        );
        assert_eq!(
            MoveBody::read(json!({"to": "/a", "x": 1}))
                .unwrap_err()
                .message(),
            "x: unknown field"
        );
        assert_eq!(
            FileMeta::read(&json!({"alt": "cat"})).unwrap().as_str(),
            r#"{"alt":"cat"}"#
        );
        assert_eq!(
            FileMeta::read(&json!([1])).unwrap_err().code(),
            "INVALID_JSON"
        );
        assert_eq!(
            FileMeta::read(&json!({"a": "x".repeat(3000)}))
                .unwrap_err()
                .code(),
            "INVALID_FIELD"
        );
    }
}

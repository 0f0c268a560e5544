//! Filerobot listings: `GET …/v5/files` (and v4), `…/folders` and
//! `…/files/stats`. What they ask (`ListQuery`), and the pure work on what
//! storage returned: keep what the key may see, filter by name, sort, page.

use std::collections::BTreeSet;

use crate::file_record::FileRecord;
use crate::path::Dir;
use crate::query::Query;
use crate::refusal::Refusal;
use crate::scope::Scopes;

/// Default and largest page.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;
/// Largest offset.
pub const MAX_OFFSET: usize = 100_000;
/// Longest name filter (`q`).
pub const MAX_Q: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Name,
    CreatedAt,
    UpdatedAt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Sort {
    /// As a `sort` parameter: `name:asc`, `created_at:desc`, …
    pub fn as_query(&self) -> String {
        let key = match self.key {
            SortKey::Name => "name",
            SortKey::CreatedAt => "created_at",
            SortKey::UpdatedAt => "updated_at",
        };
        format!("{key}:{}", if self.descending { "desc" } else { "asc" })
    }
}

/// What a listing asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// The folder, as given (parsed by the gateway).
    pub folder: String,
    /// With every folder below it.
    pub recursive: bool,
    pub offset: usize,
    pub limit: usize,
    pub sort: Sort,
    /// Keep only names holding this text (case-insensitive).
    pub q: Option<String>,
}

fn number(
    query: &Query,
    name: &str,
    min: usize,
    max: usize,
    default: usize,
) -> Result<usize, Refusal> {
    match query.one(&[name])? {
        None => Ok(default),
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (min..=max).contains(n) && !v.starts_with('+'))
            .ok_or_else(|| {
                Refusal::field(name, format!("must be a whole number from {min} to {max}"))
            }),
    }
}

/// `limit` of the object API's listing (`GET /v5/list`): 1 to 1000, or
/// `None` when absent (the storage's page of 100).
pub fn page_limit(query: &Query) -> Result<Option<u32>, Refusal> {
    if query.one(&["limit"])?.is_none() {
        return Ok(None);
    }
    let limit = number(query, "limit", 1, MAX_LIMIT, DEFAULT_LIMIT)?;
    Ok(u32::try_from(limit).ok())
}

fn sort(text: &str) -> Option<Sort> {
    let (key, order) = match text.split_once([':', ',']) {
        Some((k, o)) => (k, o),
        None => (text, "asc"),
    };
    let key = match key {
        "name" => SortKey::Name,
        "created_at" => SortKey::CreatedAt,
        "updated_at" | "modified_at" => SortKey::UpdatedAt,
        _ => return None,
    };
    let descending = match order.to_ascii_lowercase().as_str() {
        "asc" => false,
        "desc" => true,
        _ => return None,
    };
    Some(Sort { key, descending })
}

impl ListQuery {
    /// Reads `folder` (or `dir`), `recursive`, `offset`, `limit`, `sort` (or
    /// `order`: `name`, `created_at` or `updated_at`, then `:asc` or
    /// `:desc`) and `q`. Other parameters (display options the clients send)
    /// are left aside.
    pub fn read(query: &Query) -> Result<ListQuery, Refusal> {
        let recursive = match query.one(&["recursive"])? {
            None | Some("0") | Some("false") => false,
            Some("1") | Some("true") => true,
            Some(_) => return Err(Refusal::field("recursive", "must be 0, 1, true or false")),
        };
        let sort = match query.one(&["sort", "order"])? {
            None => Sort {
                key: SortKey::Name,
                descending: false,
            },
            Some(s) => sort(s).ok_or_else(|| {
                Refusal::field(
                    "sort",
                    "must be name, created_at or updated_at, with :asc or :desc",
                )
            })?,
        };
        let q = match query.one(&["q"])? {
            None | Some("") => None,
            Some(q) if q.chars().count() <= MAX_Q => Some(q.to_lowercase()),
            Some(_) => {
                return Err(Refusal::field(
                    "q",
                    format!("must be at most {MAX_Q} characters"),
                ));
            }
        };
        Ok(ListQuery {
            folder: query.one(&["folder", "dir"])?.unwrap_or("/").to_string(),
            recursive,
            offset: number(query, "offset", 0, MAX_OFFSET, 0)?,
            limit: number(query, "limit", 1, MAX_LIMIT, DEFAULT_LIMIT)?,
            sort,
            q,
        })
    }
}

/// Whether the key may see the folder `dir`: every folder, for API keys. A
/// folder the key may not list is not shown, not even by name.
pub fn visible(dir: &Dir, scopes: Option<&Scopes>) -> bool {
    scopes.is_none_or(|s| s.allows(dir))
}

/// The files of `folder` (or below it, if recursive) that the key may list
/// and that match `q`, sorted; then one page of them, and how many there are
/// in all.
pub fn files(
    records: Vec<FileRecord>,
    folder: &Dir,
    query: &ListQuery,
    scopes: Option<&Scopes>,
) -> (Vec<FileRecord>, usize) {
    let mut kept: Vec<FileRecord> = records
        .into_iter()
        .filter(|r| {
            let parent = r.path.parent();
            let placed = if query.recursive {
                folder.contains(&parent)
            } else {
                parent == *folder
            };
            placed
                && visible(&parent, scopes)
                && query
                    .q
                    .as_ref()
                    .is_none_or(|q| r.name().to_lowercase().contains(q))
        })
        .collect();
    kept.sort_by(|a, b| {
        let order = match query.sort.key {
            SortKey::Name => a.name().cmp(b.name()),
            SortKey::CreatedAt => a.created_at.cmp(&b.created_at),
            SortKey::UpdatedAt => a.modified_at.cmp(&b.modified_at),
        }
        .then_with(|| a.path.cmp(&b.path));
        if query.sort.descending {
            order.reverse()
        } else {
            order
        }
    });
    let total = kept.len();
    let page = kept
        .into_iter()
        .skip(query.offset)
        .take(query.limit)
        .collect();
    (page, total)
}

/// The folders below `folder` (its children, or every descendant if
/// recursive) that hold files at `paths`, and that the key may list, sorted
/// by path; then one page of them, and how many there are in all.
pub fn folders(
    dirs: impl IntoIterator<Item = Dir>,
    folder: &Dir,
    query: &ListQuery,
    scopes: Option<&Scopes>,
) -> (Vec<Dir>, usize) {
    let mut found = BTreeSet::new();
    for dir in dirs {
        // The chain of folders from `folder` down to `dir`.
        let mut current = dir;
        while current != *folder && folder.contains(&current) {
            let parent = parent_of(&current);
            let child_of_folder = parent == *folder;
            if query.recursive || child_of_folder {
                found.insert(current.clone());
            }
            current = parent;
        }
    }
    let kept: Vec<Dir> = found
        .into_iter()
        .filter(|d| visible(d, scopes))
        .filter(|d| {
            query.q.as_ref().is_none_or(|q| {
                d.as_str()
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_lowercase()
                    .contains(q)
            })
        })
        .collect();
    let total = kept.len();
    let page = kept
        .into_iter()
        .skip(query.offset)
        .take(query.limit)
        .collect();
    (page, total)
}

fn parent_of(dir: &Dir) -> Dir {
    match dir.as_str().rfind('/') {
        Some(0) | None => Dir::root(),
        Some(i) => Dir::parse(dir.as_str()[..i].to_string()).unwrap_or_else(|_| Dir::root()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file_record::Tags;
    use crate::id::FileId;
    use crate::path::FilePath;
    use serde_json::Map;

    fn record(path: &str, created_at: u64) -> FileRecord {
        FileRecord {
            uuid: FileId::new([created_at as u8; 16]),
            path: FilePath::parse(path.into()).unwrap(),
            content_type: "text/plain".into(),
            size: 1,
            sha1: String::new(),
            meta: Map::new(),
            tags: Tags::new(),
            info: Map::new(),
            created_at,
            modified_at: 1000 - created_at,
        }
    }

    fn query(q: &str) -> ListQuery {
        ListQuery::read(&Query::parse(Some(q)).unwrap()).unwrap()
    }

    fn dir(s: &str) -> Dir {
        Dir::parse(s.into()).unwrap()
    }

    fn scopes(list: &[&str]) -> Scopes {
        serde_json::from_value(serde_json::json!(list)).unwrap()
    }

    fn all() -> Vec<FileRecord> {
        vec![
            record("/a/b.txt", 3),
            record("/a/A.txt", 1),
            record("/a/sub/c.txt", 2),
            record("/a/sub/deep/d.txt", 4),
            record("/ab/e.txt", 5),
        ]
    }

    fn names(r: &(Vec<FileRecord>, usize)) -> Vec<&str> {
        r.0.iter().map(|f| f.path.as_str()).collect()
    }

    #[test]
    fn reads_the_clients_queries() {
        let q = query(
            "folder=%2Fa&offset=0&limit=100&format=json%2Cregvar%3Aapi&preview=2301&recursive=0&sort=created_at%3Adesc",
        );
        assert_eq!(
            (q.folder.as_str(), q.recursive, q.limit),
            ("/a", false, 100)
        );
        assert_eq!(
            q.sort,
            Sort {
                key: SortKey::CreatedAt,
                descending: true
            }
        );
        let sdk = query("folder=/pysdk&recursive=0&limit=1000&offset=0&order=updated_at,asc");
        assert_eq!(
            sdk.sort,
            Sort {
                key: SortKey::UpdatedAt,
                descending: false
            }
        );
        assert_eq!(query("").folder, "/");
        assert_eq!(query("dir=/x").folder, "/x");
        let bad = |q: &str| {
            ListQuery::read(&Query::parse(Some(q)).unwrap())
                .unwrap_err()
                .message()
        };
        assert_eq!(
            bad("limit=1001"),
            "limit: must be a whole number from 1 to 1000"
        );
        assert_eq!(
            bad("limit=0"),
            "limit: must be a whole number from 1 to 1000"
        );
        assert_eq!(
            bad("limit=+5"),
            "limit: must be a whole number from 1 to 1000"
        );
        assert_eq!(
            bad("offset=-1"),
            "offset: must be a whole number from 0 to 100000"
        );
        assert!(bad("sort=size").starts_with("sort: must be"));
        assert!(bad("recursive=yes").starts_with("recursive:"));
        assert!(bad("folder=/a&dir=/b").contains("given more than once"));
        assert!(bad("folder=/a&folder=/b").contains("given more than once"));
    }

    #[test]
    fn the_object_listings_page_is_1_to_1000() {
        let limit = |q: &str| page_limit(&Query::parse(Some(q)).unwrap());
        assert_eq!(limit(""), Ok(None));
        assert_eq!(limit("folder=/a"), Ok(None));
        assert_eq!(limit("limit=1"), Ok(Some(1)));
        assert_eq!(limit("limit=1000"), Ok(Some(1000)));
        for bad in [
            "limit=1001",
            "limit=0",
            "limit=-1",
            "limit=+5",
            "limit=abc",
            "limit=",
            "limit=1&limit=2",
        ] {
            assert_eq!(limit(bad).unwrap_err().code(), "INVALID_FIELD", "{bad}");
        }
    }

    #[test]
    fn one_folder_or_below_it() {
        let a = dir("/a");
        assert_eq!(
            names(&files(all(), &a, &query(""), None)),
            ["/a/A.txt", "/a/b.txt"]
        );
        assert_eq!(
            names(&files(all(), &a, &query("recursive=1"), None)),
            ["/a/A.txt", "/a/b.txt", "/a/sub/c.txt", "/a/sub/deep/d.txt"]
        );
        assert_eq!(files(all(), &Dir::root(), &query("recursive=1"), None).1, 5);
    }

    #[test]
    fn sorted_filtered_and_paged() {
        let a = dir("/a");
        let r = files(
            all(),
            &a,
            &query("recursive=1&sort=created_at:desc&offset=1&limit=2"),
            None,
        );
        assert_eq!(names(&r), ["/a/b.txt", "/a/sub/c.txt"]);
        assert_eq!(r.1, 4, "the total counts every match, not the page");
        assert_eq!(
            names(&files(
                all(),
                &a,
                &query("recursive=1&q=TXT&sort=updated_at:asc&limit=1"),
                None
            )),
            ["/a/sub/deep/d.txt"]
        );
        assert_eq!(
            names(&files(all(), &a, &query("recursive=1&q=a.t"), None)),
            ["/a/A.txt"]
        );
    }

    #[test]
    fn nothing_outside_the_scope_comes_back() {
        let a = dir("/a");
        let exact = scopes(&["/a"]);
        assert_eq!(
            names(&files(all(), &a, &query("recursive=1"), Some(&exact))),
            ["/a/A.txt", "/a/b.txt"],
            "an exact scope never shows what is below it"
        );
        let sub = scopes(&["/a", "/a/sub/*"]);
        assert_eq!(files(all(), &a, &query("recursive=1"), Some(&sub)).1, 4);
    }

    #[test]
    fn folders_below() {
        let dirs = || all().into_iter().map(|r| r.path.parent());
        let a = dir("/a");
        let (list, total) = folders(dirs(), &a, &query(""), None);
        assert_eq!((list, total), (vec![dir("/a/sub")], 1));
        let (list, _) = folders(dirs(), &a, &query("recursive=1"), None);
        assert_eq!(list, vec![dir("/a/sub"), dir("/a/sub/deep")]);
        let (list, _) = folders(dirs(), &Dir::root(), &query(""), None);
        assert_eq!(list, vec![dir("/a"), dir("/ab")]);
        let exact = scopes(&["/a"]);
        assert_eq!(
            folders(dirs(), &a, &query("recursive=1"), Some(&exact)).1,
            0,
            "subfolders an exact scope may not enter are not named"
        );
    }
}

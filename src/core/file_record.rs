//! What is known of a stored file (`FileRecord`), kept beside it, and the
//! Filerobot file object the API shows for it.

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::id::{FileId, Project};
use crate::path::{Dir, FilePath};
use crate::time;

/// Tags by language, e.g. `{"en": ["cat", "sofa"]}`.
pub type Tags = std::collections::BTreeMap<String, Vec<String>>;

/// A stored file: where it is, what it is, and what was said about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRecord {
    pub uuid: FileId,
    pub path: FilePath,
    /// The media type, e.g. `image/jpeg`.
    #[serde(rename = "type")]
    pub content_type: String,
    pub size: u64,
    /// The SHA-1 of the bytes, in hex.
    pub sha1: String,
    #[serde(default)]
    pub meta: Map<String, Value>,
    #[serde(default)]
    pub tags: Tags,
    /// What the client said about the file (`info[files[]]`), as given.
    #[serde(default)]
    pub info: Map<String, Value>,
    /// Unix seconds; kept through renames and moves.
    pub created_at: u64,
    pub modified_at: u64,
}

/// The size R2 counts for a custom metadata string (it allows 2048 bytes for
/// all keys and values together): its length in UTF-16 units, doubled when
/// any of them is above U+00FF (the runtime's two-byte strings), else as is.
pub fn r2_metadata_len(text: &str) -> usize {
    let units = text.encode_utf16().count();
    if text.chars().any(|c| u32::from(c) > 0xFF) {
        units * 2
    } else {
        units
    }
}

/// Characters escaped in a path segment of a URL.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b'\\')
    .add(b'^')
    .add(b'|')
    .add(b';')
    .add(b'[')
    .add(b']');

/// The URL path of a file's content through sass-edge's own path API,
/// percent-encoded: `/{project}/v5/objects/a%20b/c.jpg`.
pub fn content_path(project: &Project, path: &FilePath) -> String {
    let mut out = format!("/{project}/v5/objects");
    for segment in path.as_str()[1..].split('/') {
        out.push('/');
        out.extend(utf8_percent_encode(segment, SEGMENT));
    }
    out
}

/// `1234` -> `1.2 KB`: sizes in units of 1024, as Filerobot shows them.
pub fn pretty_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

impl FileRecord {
    pub fn name(&self) -> &str {
        self.path.name()
    }

    /// The extension of the name, lower-cased, without the dot ("" if none).
    pub fn extension(&self) -> String {
        match self.name().rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() => ext.to_ascii_lowercase(),
            _ => String::new(),
        }
    }

    /// The Filerobot file object. `base` is the worker's own origin
    /// (`https://edge.example`), for the file's URLs.
    pub fn to_filerobot(&self, project: &Project, base: &str) -> Value {
        let url = format!("{base}{}", content_path(project, &self.path));
        json!({
            "uuid": self.uuid,
            "name": self.name(),
            "extension": self.extension(),
            "type": self.content_type,
            "size": {"bytes": self.size, "pretty": pretty_size(self.size)},
            "url": {"public": url, "cdn": url, "permalink": url},
            "hash": {"sha1": self.sha1},
            "meta": self.meta,
            "tags": self.tags,
            "info": self.info,
            "folder": self.path.parent().as_str(),
            "created_at": time::rfc3339(self.created_at),
            "modified_at": time::rfc3339(self.modified_at),
        })
    }
}

/// A folder as Filerobot shows it: `{uuid, name, path}`. Folders are not
/// stored (they are the paths of files), so the id is derived from the
/// project and path: the same folder always has the same id.
pub fn folder_object(project: &Project, dir: &Dir) -> Value {
    let digest = Sha256::digest(format!("{project}{dir}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    // A name-based UUID: version 8 (custom), RFC 9562 variant.
    let mut id = FileId::new(bytes).as_str().to_string();
    id.replace_range(14..15, "8");
    let name = dir.as_str().rsplit('/').next().unwrap_or_default();
    json!({"uuid": id, "name": name, "path": dir.as_str()})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_measured_as_r2_measures_it() {
        assert_eq!(r2_metadata_len(""), 0);
        assert_eq!(r2_metadata_len("abc"), 3);
        // Latin-1 is one unit each, whatever its UTF-8 length.
        assert_eq!(r2_metadata_len("é"), 1);
        // One character above U+00FF doubles the whole string.
        assert_eq!(r2_metadata_len("ab\u{4e00}"), 6);
        // An astral character is two UTF-16 units.
        assert_eq!(r2_metadata_len("\u{1F600}"), 4);
        assert_eq!(r2_metadata_len(&"\u{1F600}".repeat(380)), 1520);
    }

    fn record(path: &str) -> FileRecord {
        FileRecord {
            uuid: FileId::new([1; 16]),
            path: FilePath::parse(path.into()).unwrap(),
            content_type: "image/jpeg".into(),
            size: 2048,
            sha1: "da39a3ee5e6b4b0d3255bfef95601890afd80709".into(),
            meta: Map::new(),
            tags: Tags::from([("en".to_string(), vec!["cat".to_string()])]),
            info: Map::new(),
            created_at: 1_795_323_661,
            modified_at: 1_795_323_662,
        }
    }

    #[test]
    fn the_filerobot_file_object() {
        let p = Project::parse("demo").unwrap();
        let f = record("/up/a b/Photo.JPG").to_filerobot(&p, "https://edge.example");
        assert_eq!(f["name"], "Photo.JPG");
        assert_eq!(f["extension"], "jpg");
        assert_eq!(f["type"], "image/jpeg");
        assert_eq!(f["size"], json!({"bytes": 2048, "pretty": "2.0 KB"}));
        assert_eq!(
            f["url"]["cdn"],
            "https://edge.example/demo/v5/objects/up/a%20b/Photo.JPG"
        );
        assert_eq!(
            f["hash"]["sha1"],
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        assert_eq!(f["folder"], "/up/a b");
        assert_eq!(f["tags"], json!({"en": ["cat"]}));
        assert_eq!(f["created_at"], "2026-11-22T05:01:01Z");
        assert_eq!(f["uuid"], "01010101-0101-4101-8101-010101010101");
        assert_eq!(record("/.hidden").extension(), "");
        assert_eq!(record("/noext").extension(), "");
    }

    #[test]
    fn urls_escape_what_a_path_segment_cannot_hold() {
        let p = Project::parse("demo").unwrap();
        let path = FilePath::parse("/a?b/c#d/e%f&g".into()).unwrap();
        assert_eq!(
            content_path(&p, &path),
            "/demo/v5/objects/a%3Fb/c%23d/e%25f&g"
        );
    }

    #[test]
    fn pretty_sizes() {
        assert_eq!(pretty_size(0), "0 B");
        assert_eq!(pretty_size(1023), "1023 B");
        assert_eq!(pretty_size(1536), "1.5 KB");
        assert_eq!(pretty_size(5 * 1024 * 1024), "5.0 MB");
        assert_eq!(pretty_size(3 * 1024 * 1024 * 1024), "3.0 GB");
    }

    #[test]
    fn folders_have_stable_ids() {
        let p = Project::parse("demo").unwrap();
        let d = Dir::parse("/a/b".into()).unwrap();
        let f = folder_object(&p, &d);
        assert_eq!(f, folder_object(&p, &d));
        assert_eq!(f["name"], "b");
        assert_eq!(f["path"], "/a/b");
        assert!(FileId::parse(f["uuid"].as_str().unwrap()).is_some());
        assert_ne!(f["uuid"], folder_object(&p, &Dir::root())["uuid"]);
    }

    #[test]
    fn records_round_trip() {
        let r = record("/a.jpg");
        let text = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<FileRecord>(&text).unwrap(), r);
    }
}

//! Directory scopes: `/a` allows exactly the directory /a, `/a/*` allows /a
//! and everything below it, `/*` allows everything.

use serde::{Deserialize, Serialize};

use crate::path::Dir;
use crate::text::{FromText, text};

/// Most entries in one `dir_scope` list.
pub const MAX_SCOPES: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub struct DirScope {
    /// The directory (`/` for the root).
    base: Dir,
    /// Whether directories below `base` are allowed too (`/*` suffix).
    recursive: bool,
}

impl DirScope {
    pub fn parse(text: &str) -> Result<DirScope, String> {
        let (base, recursive) = match text.strip_suffix("/*") {
            Some("") => ("/", true),
            Some(base) => (base, true),
            None => (text, false),
        };
        let bad = |why: &str| format!("{text:?} is not an absolute normalised directory: it {why}");
        if base.contains('*') {
            return Err(bad("may use * only as a final /*"));
        }
        let base = Dir::parse(base.to_string()).map_err(|r| match r {
            crate::refusal::Refusal::RejectPath { reason } => bad(&reason),
            other => other.message(),
        })?;
        Ok(DirScope { base, recursive })
    }

    /// Whether this scope allows the directory `dir`.
    pub fn allows(&self, dir: &Dir) -> bool {
        if self.recursive {
            self.base.contains(dir)
        } else {
            *dir == self.base
        }
    }

    /// Whether every directory this scope allows is allowed by `other`.
    pub fn within(&self, other: &DirScope) -> bool {
        if other.recursive {
            other.allows(&self.base)
        } else {
            !self.recursive && self.base == other.base
        }
    }

    pub fn to_text(&self) -> String {
        match (self.recursive, self.base.as_str()) {
            (true, "/") => "/*".into(),
            (true, base) => format!("{base}/*"),
            (false, base) => base.into(),
        }
    }
}

impl FromText for DirScope {
    fn from_text(s: &str) -> Result<Self, String> {
        DirScope::parse(s)
    }
}

impl<'de> Deserialize<'de> for DirScope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        text(d)
    }
}

impl From<DirScope> for String {
    fn from(s: DirScope) -> String {
        s.to_text()
    }
}

/// A `dir_scope` list; a directory is allowed when any entry allows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<DirScope>")]
pub struct Scopes(Vec<DirScope>);

impl Default for Scopes {
    /// Every directory.
    fn default() -> Self {
        Scopes(vec![DirScope {
            base: Dir::root(),
            recursive: true,
        }])
    }
}

impl TryFrom<Vec<DirScope>> for Scopes {
    type Error = String;
    fn try_from(list: Vec<DirScope>) -> Result<Self, String> {
        if list.is_empty() {
            return Err("must not be empty; leave it out to allow every directory".into());
        }
        if list.len() > MAX_SCOPES {
            return Err(format!("must have at most {MAX_SCOPES} entries"));
        }
        Ok(Scopes(list))
    }
}

impl Scopes {
    pub fn allows(&self, dir: &Dir) -> bool {
        self.0.iter().any(|s| s.allows(dir))
    }

    /// Whether this is the default, every directory.
    pub fn is_everything(&self) -> bool {
        *self == Scopes::default()
    }

    /// The first entry of `self` that `other` does not cover, if any.
    pub fn first_outside(&self, other: &Scopes) -> Option<String> {
        self.0
            .iter()
            .find(|s| !other.0.iter().any(|o| s.within(o)))
            .map(DirScope::to_text)
    }

    pub fn to_texts(&self) -> Vec<String> {
        self.0.iter().map(DirScope::to_text).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn scope(s: &str) -> DirScope {
        DirScope::parse(s).unwrap()
    }

    #[test]
    fn exact_and_recursive() {
        let a = scope("/a");
        assert!(a.allows(&dir("/a")));
        assert!(!a.allows(&dir("/a/b")));
        assert!(!a.allows(&dir("/")));
        let a_star = scope("/a/*");
        assert!(a_star.allows(&dir("/a")));
        assert!(a_star.allows(&dir("/a/b")));
        assert!(a_star.allows(&dir("/a/b/c")));
        assert!(!a_star.allows(&dir("/ab")));
        assert!(!a_star.allows(&dir("/")));
        let all = scope("/*");
        assert!(all.allows(&dir("/")));
        assert!(all.allows(&dir("/x/y")));
        let root = scope("/");
        assert!(root.allows(&dir("/")));
        assert!(!root.allows(&dir("/x")));
    }

    #[test]
    fn parse_refuses_malformed() {
        for s in [
            "a", "/a/", "/a*", "/*/a", "/a/**", "/a/../b", "/a//b", "", "*", "/a\\b",
        ] {
            assert!(DirScope::parse(s).is_err(), "{s:?}");
        }
        for s in ["/", "/*", "/a", "/a/*", "/a b/c-d_e/*"] {
            assert_eq!(DirScope::parse(s).unwrap().to_text(), s);
        }
    }

    #[test]
    fn list_names_the_entry() {
        let e = crate::body::typed::<Holder>(json!({"s": ["/ok", "bad"]}), "upload").unwrap_err();
        assert!(
            e.message()
                .starts_with("upload.s[1]: \"bad\" is not an absolute normalised directory"),
            "{}",
            e.message()
        );
        let e = crate::body::typed::<Holder>(json!({"s": []}), "").unwrap_err();
        assert_eq!(
            e.message(),
            "s: must not be empty; leave it out to allow every directory"
        );
        assert_eq!(Scopes::default().to_texts(), vec!["/*"]);
        assert!(Scopes::default().allows(&dir("/any/where")));
        assert!(Scopes::default().is_everything());
        assert_eq!(
            serde_json::to_value(scopes(&["/a/*", "/b"])).unwrap(),
            json!(["/a/*", "/b"])
        );
    }

    #[derive(Debug, serde::Deserialize)]
    struct Holder {
        #[allow(dead_code)]
        s: Scopes,
    }

    fn scopes(list: &[&str]) -> Scopes {
        serde_json::from_value(json!(list)).unwrap()
    }

    fn dir(s: &str) -> Dir {
        Dir::parse(s.into()).unwrap()
    }

    #[test]
    fn containment() {
        let within = |a: &str, b: &str| scope(a).within(&scope(b));
        assert!(within("/a", "/a"));
        assert!(within("/a", "/a/*"));
        assert!(within("/a/b", "/a/*"));
        assert!(within("/a/b/*", "/a/*"));
        assert!(within("/a/*", "/a/*"));
        assert!(within("/anything/*", "/*"));
        assert!(!within("/a/*", "/a"));
        assert!(!within("/ab", "/a/*"));
        assert!(!within("/a", "/a/b/*"));
        assert!(!within("/*", "/a/*"));
        let parent = scopes(&["/a/*", "/x"]);
        let child = scopes(&["/a/b", "/x", "/y"]);
        assert_eq!(child.first_outside(&parent), Some("/y".to_string()));
        assert_eq!(
            Scopes::default().first_outside(&parent),
            Some("/*".to_string())
        );
        assert_eq!(parent.first_outside(&Scopes::default()), None);
    }

    /// A directory of 0 to 3 segments from a small alphabet, so that
    /// generated directories often share prefixes.
    fn arb_dir() -> impl Strategy<Value = String> {
        proptest::collection::vec("[ab]{1,2}", 0..4).prop_map(|segs| {
            if segs.is_empty() {
                "/".to_string()
            } else {
                format!("/{}", segs.join("/"))
            }
        })
    }

    fn text(base: &str, recursive: bool) -> String {
        match (recursive, base) {
            (true, "/") => "/*".into(),
            (true, b) => format!("{b}/*"),
            (false, b) => b.into(),
        }
    }

    fn join(a: &str, b: &str) -> String {
        match (a, b) {
            ("/", b) => b.to_string(),
            (a, "/") => a.to_string(),
            (a, b) => format!("{a}{b}"),
        }
    }

    proptest! {
        /// A scope built inside another is `within` it, and every directory
        /// it allows, the other allows. Every generated case meets the
        /// premise: the inner scope is made from the outer one.
        #[test]
        fn within_implies_allows(
            outer_base in arb_dir(), outer_rec: bool,
            extra in arb_dir(), inner_rec: bool, below in arb_dir(),
        ) {
            let outer = scope(&text(&outer_base, outer_rec));
            // Inside a recursive scope: its base plus any extra segments, of
            // either kind. Inside an exact one: only the same exact scope.
            let (inner_base, inner_rec) = if outer_rec {
                (join(&outer_base, &extra), inner_rec)
            } else {
                (outer_base.clone(), false)
            };
            let inner = scope(&text(&inner_base, inner_rec));
            prop_assert!(inner.within(&outer), "{} within {}", inner.to_text(), outer.to_text());
            let allowed = if inner_rec { join(&inner_base, &below) } else { inner_base.clone() };
            prop_assert!(inner.allows(&dir(&allowed)));
            prop_assert!(outer.allows(&dir(&allowed)), "{} allows {allowed}", outer.to_text());
        }

        /// The converse: when a scope is not within another, some directory it
        /// allows is refused by the other (its base, or a child of its base).
        #[test]
        fn not_within_has_a_witness(a_base in arb_dir(), a_rec: bool, b_base in arb_dir(), b_rec: bool) {
            let a = scope(&text(&a_base, a_rec));
            let b = scope(&text(&b_base, b_rec));
            if !a.within(&b) {
                let child = dir(&join(&a_base, "/zz"));
                let witness = [dir(&a_base), child].into_iter().find(|d| a.allows(d) && !b.allows(d));
                prop_assert!(witness.is_some(), "{} vs {}", a.to_text(), b.to_text());
            }
        }

        /// `/a/*` allows exactly /a and the directories under /a, never a sibling
        /// that merely shares the prefix.
        #[test]
        fn recursive_scope_is_a_subtree(base in "(/[a-c]{1,3}){1,3}", d in "(/[a-c]{1,3}){0,4}") {
            let d = if d.is_empty() { "/".to_string() } else { d };
            let allowed = scope(&format!("{base}/*")).allows(&dir(&d));
            let expected = d == base || d.starts_with(&format!("{base}/"));
            prop_assert_eq!(allowed, expected);
            prop_assert_eq!(scope(&base).allows(&dir(&d)), d == base);
        }
    }
}

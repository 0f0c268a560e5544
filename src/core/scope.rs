//! Directory scopes: `/a` allows exactly the directory /a, `/a/*` allows /a
//! and everything below it, `/*` allows everything.

use crate::core::path;
use crate::core::refusal::Refusal;

/// Most entries in one `dir_scope` list.
pub const MAX_SCOPES: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirScope {
    /// The directory, normalised (`/` for the root).
    base: String,
    /// Whether directories below `base` are allowed too (`/*` suffix).
    recursive: bool,
}

impl DirScope {
    pub fn parse(text: &str) -> Result<DirScope, &'static str> {
        let (base, recursive) = match text.strip_suffix("/*") {
            Some("") => ("/", true),
            Some(base) => (base, true),
            None => (text, false),
        };
        if base.contains('*') {
            return Err("may use * only as a final /*");
        }
        if let Some(why) = path::normalised_error(base) {
            return Err(why);
        }
        Ok(DirScope {
            base: base.to_string(),
            recursive,
        })
    }

    /// Whether this scope allows the normalised directory `dir`.
    pub fn allows(&self, dir: &str) -> bool {
        if dir == self.base {
            return true;
        }
        if !self.recursive {
            return false;
        }
        self.base == "/"
            || (dir.starts_with(self.base.as_str())
                && dir.as_bytes().get(self.base.len()) == Some(&b'/'))
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

/// A `dir_scope` list; a directory is allowed when any entry allows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scopes(Vec<DirScope>);

impl Default for Scopes {
    /// Every directory.
    fn default() -> Self {
        Scopes(vec![DirScope {
            base: "/".into(),
            recursive: true,
        }])
    }
}

impl Scopes {
    pub fn allows(&self, dir: &str) -> bool {
        self.0.iter().any(|s| s.allows(dir))
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

    /// Parses a list of scope strings; `field` names it in refusals.
    pub fn from_json(
        value: &crate::core::json::Value,
        field: &dyn std::fmt::Display,
    ) -> Result<Scopes, Refusal> {
        let list = value
            .as_array()
            .ok_or_else(|| Refusal::field(field, "must be a list of directories"))?;
        if list.is_empty() {
            return Err(Refusal::field(
                field,
                "must not be empty; leave it out to allow every directory",
            ));
        }
        if list.len() > MAX_SCOPES {
            return Err(Refusal::field(
                field,
                format!("must have at most {MAX_SCOPES} entries"),
            ));
        }
        let mut scopes = Vec::with_capacity(list.len());
        for (i, item) in list.iter().enumerate() {
            let at = || format!("{field}[{i}]");
            let text = item
                .as_str()
                .ok_or_else(|| Refusal::field(at(), "must be a string"))?;
            let scope = DirScope::parse(text).map_err(|why| {
                Refusal::field(
                    at(),
                    format!("{text:?} is not an absolute normalised directory: it {why}"),
                )
            })?;
            scopes.push(scope);
        }
        Ok(Scopes(scopes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::json::json;
    use proptest::prelude::*;

    fn scope(s: &str) -> DirScope {
        DirScope::parse(s).unwrap()
    }

    #[test]
    fn exact_and_recursive() {
        let a = scope("/a");
        assert!(a.allows("/a"));
        assert!(!a.allows("/a/b"));
        assert!(!a.allows("/"));
        let a_star = scope("/a/*");
        assert!(a_star.allows("/a"));
        assert!(a_star.allows("/a/b"));
        assert!(a_star.allows("/a/b/c"));
        assert!(!a_star.allows("/ab"));
        assert!(!a_star.allows("/"));
        let all = scope("/*");
        assert!(all.allows("/"));
        assert!(all.allows("/x/y"));
        let root = scope("/");
        assert!(root.allows("/"));
        assert!(!root.allows("/x"));
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
        let e = Scopes::from_json(&json!(["/ok", "bad"]), &"upload.dir_scope").unwrap_err();
        assert!(
            e.message().starts_with("upload.dir_scope[1]: \"bad\""),
            "{}",
            e.message()
        );
        assert!(Scopes::from_json(&json!([]), &"upload.dir_scope").is_err());
        assert_eq!(Scopes::default().to_texts(), vec!["/*"]);
        assert!(Scopes::default().allows("/any/where"));
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
        let parent = Scopes::from_json(&json!(["/a/*", "/x"]), &"p").unwrap();
        let child = Scopes::from_json(&json!(["/a/b", "/x", "/y"]), &"c").unwrap();
        assert_eq!(child.first_outside(&parent), Some("/y".to_string()));
        assert_eq!(
            Scopes::default().first_outside(&parent),
            Some("/*".to_string())
        );
        assert_eq!(parent.first_outside(&Scopes::default()), None);
    }

    proptest! {
        /// If a scope is within another, every directory it allows, the other allows.
        #[test]
        fn within_implies_allows(a in "(/[ab]{1,2}){1,3}(/\\*)?", b in "(/[ab]{1,2}){0,2}/?\\*?", dir in "(/[ab]{1,2}){0,4}") {
            let (Ok(a), Ok(b)) = (DirScope::parse(&a), DirScope::parse(&b)) else { return Ok(()); };
            let dir = if dir.is_empty() { "/".to_string() } else { dir };
            if a.within(&b) && a.allows(&dir) {
                prop_assert!(b.allows(&dir));
            }
        }


        /// `/a/*` allows exactly /a and the directories under /a, never a sibling
        /// that merely shares the prefix.
        #[test]
        fn recursive_scope_is_a_subtree(base in "(/[a-c]{1,3}){1,3}", dir in "(/[a-c]{1,3}){0,4}") {
            let dir = if dir.is_empty() { "/".to_string() } else { dir };
            let allowed = scope(&format!("{base}/*")).allows(&dir);
            let expected = dir == base || dir.starts_with(&format!("{base}/"));
            prop_assert_eq!(allowed, expected);
            prop_assert_eq!(scope(&base).allows(&dir), dir == base);
        }
    }
}

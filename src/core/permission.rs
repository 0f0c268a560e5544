//! Permission names, as in the Filerobot documents, and sets of them.

use crate::core::refusal::Refusal;

macro_rules! permissions {
    ($($variant:ident => $name:literal,)*) => {
        /// One permission a key or template can grant.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Permission { $($variant,)* }

        impl Permission {
            /// Every permission, in the order of the documents.
            pub const ALL: &'static [Permission] = &[$(Permission::$variant,)*];

            pub fn name(self) -> &'static str {
                match self { $(Permission::$variant => $name,)* }
            }
        }
    };
}

permissions! {
    ObjectsList => "OBJECTS_LIST",
    ObjectsFetch => "OBJECTS_FETCH",
    FileUpload => "FILE_UPLOAD",
    FileMetaCreate => "FILE_META_CREATE",
    FileMetaChange => "FILE_META_CHANGE",
    FileRename => "FILE_RENAME",
    FileMove => "FILE_MOVE",
    FileDelete => "FILE_DELETE",
    FileSetVisibility => "FILE_SET_VISIBILITY",
    DirCreate => "DIR_CREATE",
    DirRename => "DIR_RENAME",
    DirMove => "DIR_MOVE",
    DirMetaChange => "DIR_META_CHANGE",
    DirDelete => "DIR_DELETE",
    DirSetVisibility => "DIR_SET_VISIBILITY",
    ConfigChange => "CONFIG_CHANGE",
    ConfigList => "CONFIG_LIST",
    FileProductChange => "FILE_PRODUCT_CHANGE",
    FileProcessAutotagging => "FILE_PROCESS_AUTOTAGGING",
    ObjectsShareManage => "OBJECTS_SHARE_MANAGE",
    ObjectsAirboxManage => "OBJECTS_AIRBOX_MANAGE",
    ObjectsApprovalManage => "OBJECTS_APPROVAL_MANAGE",
    ObjectsApprovalVote => "OBJECTS_APPROVAL_VOTE",
    AccessRead => "ACCESS_READ",
    AccessManage => "ACCESS_MANAGE",
}

/// Which permissions a list may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// Templates and SASS keys: every permission but ACCESS_*.
    Template,
    /// API secret keys: every permission.
    ApiKey,
}

impl Permission {
    /// Parses a name; `DIR_MOV` is the documents' older spelling of `DIR_MOVE`.
    pub fn parse(name: &str) -> Option<Permission> {
        if name == "DIR_MOV" {
            return Some(Permission::DirMove);
        }
        Permission::ALL.iter().copied().find(|p| p.name() == name)
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }

    /// Whether templates and SASS keys may hold it (ACCESS_* is for API keys).
    pub fn fits(self, holder: Holder) -> bool {
        holder == Holder::ApiKey
            || !matches!(self, Permission::AccessRead | Permission::AccessManage)
    }
}

/// A set of permissions, held as a bit mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Permissions(u32);

impl Permissions {
    /// Every permission `holder` may hold.
    pub fn all(holder: Holder) -> Self {
        Permissions(
            Permission::ALL
                .iter()
                .filter(|p| p.fits(holder))
                .fold(0, |m, p| m | p.bit()),
        )
    }

    /// Whether every permission of `self` is in `other`.
    pub fn is_subset(self, other: Permissions) -> bool {
        self.0 & !other.0 == 0
    }

    /// The permissions of `self` missing from `other`.
    pub fn missing_from(self, other: Permissions) -> Vec<&'static str> {
        Permissions(self.0 & !other.0).names()
    }

    pub fn contains(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }

    pub fn insert(&mut self, p: Permission) {
        self.0 |= p.bit();
    }

    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .iter()
            .copied()
            .filter(move |p| self.contains(*p))
    }

    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Permission::name).collect()
    }

    /// Parses a JSON list of names that `holder` may hold; `field` names the
    /// list in refusals.
    pub fn from_json(
        value: &crate::core::json::Value,
        field: &dyn std::fmt::Display,
        holder: Holder,
    ) -> Result<Self, Refusal> {
        let list = value
            .as_array()
            .ok_or_else(|| Refusal::field(field, "must be a list of permission names"))?;
        let mut set = Permissions::default();
        for (i, item) in list.iter().enumerate() {
            let name = item
                .as_str()
                .ok_or_else(|| Refusal::field(format!("{field}[{i}]"), "must be a string"))?;
            let p = Permission::parse(name)
                .filter(|p| p.fits(holder))
                .ok_or_else(|| {
                    Refusal::field(
                        format!("{field}[{i}]"),
                        format!("unknown permission {name:?}"),
                    )
                })?;
            set.insert(p);
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::json::json;

    #[test]
    fn names_round_trip() {
        assert_eq!(Permission::ALL.len(), 25);
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.name()), Some(*p));
        }
        assert_eq!(Permission::parse("DIR_MOV"), Some(Permission::DirMove));
        assert_eq!(Permission::parse("file_upload"), None);
    }

    #[test]
    fn set_from_json() {
        let t = Holder::Template;
        let s =
            Permissions::from_json(&json!(["FILE_UPLOAD", "DIR_MOV"]), &"permissions", t).unwrap();
        assert!(s.contains(Permission::FileUpload));
        assert!(s.contains(Permission::DirMove));
        assert!(!s.contains(Permission::FileDelete));
        assert_eq!(s.names(), vec!["FILE_UPLOAD", "DIR_MOVE"]);
        let e =
            Permissions::from_json(&json!(["FILE_UPLOAD", "NOPE"]), &"permissions", t).unwrap_err();
        assert_eq!(e.message(), "permissions[1]: unknown permission \"NOPE\"");
        assert!(Permissions::from_json(&json!("FILE_UPLOAD"), &"permissions", t).is_err());
        assert!(Permissions::from_json(&json!(["ACCESS_READ"]), &"permissions", t).is_err());
        let a = Permissions::from_json(&json!(["ACCESS_READ"]), &"p", Holder::ApiKey).unwrap();
        assert!(a.contains(Permission::AccessRead));
        assert_eq!(Permissions::all(t).iter().count(), 23);
        assert_eq!(Permissions::all(Holder::ApiKey).iter().count(), 25);
        assert!(s.is_subset(Permissions::all(t)));
        assert!(!a.is_subset(s));
        assert_eq!(a.missing_from(s), vec!["ACCESS_READ"]);
    }
}

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
}

/// A set of permissions, held as a bit mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Permissions(u32);

impl Permissions {
    pub fn all() -> Self {
        Permissions(Permission::ALL.iter().fold(0, |m, p| m | p.bit()))
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

    /// Parses a JSON list of names; `field` names the list in refusals.
    pub fn from_json(value: &serde_json::Value, field: &str) -> Result<Self, Refusal> {
        let list = value
            .as_array()
            .ok_or_else(|| Refusal::field(field, "must be a list of permission names"))?;
        let mut set = Permissions::default();
        for (i, item) in list.iter().enumerate() {
            let name = item
                .as_str()
                .ok_or_else(|| Refusal::field(format!("{field}[{i}]"), "must be a string"))?;
            let p = Permission::parse(name).ok_or_else(|| {
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
    use serde_json::json;

    #[test]
    fn names_round_trip() {
        assert_eq!(Permission::ALL.len(), 23);
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.name()), Some(*p));
        }
        assert_eq!(Permission::parse("DIR_MOV"), Some(Permission::DirMove));
        assert_eq!(Permission::parse("file_upload"), None);
    }

    #[test]
    fn set_from_json() {
        let s = Permissions::from_json(&json!(["FILE_UPLOAD", "DIR_MOV"]), "permissions").unwrap();
        assert!(s.contains(Permission::FileUpload));
        assert!(s.contains(Permission::DirMove));
        assert!(!s.contains(Permission::FileDelete));
        assert_eq!(s.names(), vec!["FILE_UPLOAD", "DIR_MOVE"]);
        let e = Permissions::from_json(&json!(["FILE_UPLOAD", "NOPE"]), "permissions").unwrap_err();
        assert_eq!(e.message(), "permissions[1]: unknown permission \"NOPE\"");
        assert!(Permissions::from_json(&json!("FILE_UPLOAD"), "permissions").is_err());
        assert_eq!(Permissions::all().iter().count(), 23);
    }
}

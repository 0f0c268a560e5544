//! Permission names, as in the Filerobot documents, and sets of them.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::text::{FromText, text};

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

            /// Parses a name; `DIR_MOV` is the documents' older spelling of
            /// `DIR_MOVE`.
            pub fn parse(name: &str) -> Option<Permission> {
                match name {
                    $($name => Some(Permission::$variant),)*
                    "DIR_MOV" => Some(Permission::DirMove),
                    _ => None,
                }
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

impl Permission {
    fn bit(self) -> u32 {
        1 << (self as u32)
    }

    /// Whether templates and SASS keys may hold it (ACCESS_* is for API keys).
    pub fn fits_keys(self) -> bool {
        !matches!(self, Permission::AccessRead | Permission::AccessManage)
    }
}

impl Serialize for Permission {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl FromText for Permission {
    fn from_text(name: &str) -> Result<Self, String> {
        Permission::parse(name).ok_or_else(|| format!("unknown permission {name:?}"))
    }
}

impl<'de> Deserialize<'de> for Permission {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        text(d)
    }
}

/// A permission a template or SASS key may hold: any but ACCESS_*.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPermission(pub Permission);

impl<'de> Deserialize<'de> for KeyPermission {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let p = Permission::deserialize(d)?;
        if !p.fits_keys() {
            return Err(de::Error::custom(format_args!(
                "{} is a permission of API secret keys only",
                p.name()
            )));
        }
        Ok(KeyPermission(p))
    }
}

/// A set of permissions, held as a bit mask; read and written as a JSON
/// list of names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Permissions(u32);

impl Permissions {
    /// Every permission, ACCESS_* included.
    pub fn all() -> Self {
        Permission::ALL
            .iter()
            .fold(Permissions(0), |s, p| s.with(*p))
    }

    /// Every permission a template or SASS key may hold.
    pub fn all_for_keys() -> Self {
        Permission::ALL
            .iter()
            .filter(|p| p.fits_keys())
            .fold(Permissions(0), |s, p| s.with(*p))
    }

    pub fn with(self, p: Permission) -> Self {
        Permissions(self.0 | p.bit())
    }

    pub fn is_empty(&self) -> bool {
        self.0 == 0
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

    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .iter()
            .copied()
            .filter(move |p| self.contains(*p))
    }

    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Permission::name).collect()
    }
}

impl FromIterator<Permission> for Permissions {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        iter.into_iter().fold(Permissions(0), Permissions::with)
    }
}

impl Serialize for Permissions {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// Reads a list of names, each as a `P`.
struct SetVisitor<P>(PhantomData<P>);

impl<'de, P: Deserialize<'de> + Into<Permission>> Visitor<'de> for SetVisitor<P> {
    type Value = Permissions;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of permission names")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Permissions, A::Error> {
        let mut set = Permissions::default();
        while let Some(p) = seq.next_element::<P>()? {
            set = set.with(p.into());
        }
        Ok(set)
    }
}

impl From<KeyPermission> for Permission {
    fn from(p: KeyPermission) -> Permission {
        p.0
    }
}

impl<'de> Deserialize<'de> for Permissions {
    /// Any permission (API secret keys); see `KeyPermissions` for keys.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(SetVisitor::<Permission>(PhantomData))
    }
}

/// The permissions of a template or SASS key: never ACCESS_*.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize)]
#[serde(transparent)]
pub struct KeyPermissions(Permissions);

impl KeyPermissions {
    pub fn new(set: Permissions) -> Option<KeyPermissions> {
        set.is_subset(Permissions::all_for_keys())
            .then_some(KeyPermissions(set))
    }

    pub fn set(self) -> Permissions {
        self.0
    }

    pub fn contains(self, p: Permission) -> bool {
        self.0.contains(p)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de> Deserialize<'de> for KeyPermissions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(SetVisitor::<KeyPermission>(PhantomData))
            .map(KeyPermissions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
    fn sets_read_and_write_names() {
        let s: KeyPermissions = serde_json::from_value(json!(["FILE_UPLOAD", "DIR_MOV"])).unwrap();
        assert!(s.contains(Permission::FileUpload));
        assert!(s.contains(Permission::DirMove));
        assert!(!s.contains(Permission::FileDelete));
        assert_eq!(s.set().names(), vec!["FILE_UPLOAD", "DIR_MOVE"]);
        assert_eq!(
            serde_json::to_value(s).unwrap(),
            json!(["FILE_UPLOAD", "DIR_MOVE"])
        );
        let e =
            serde_json::from_value::<KeyPermissions>(json!(["FILE_UPLOAD", "NOPE"])).unwrap_err();
        assert_eq!(e.to_string(), "unknown permission \"NOPE\"");
        assert!(serde_json::from_value::<KeyPermissions>(json!("FILE_UPLOAD")).is_err());
        assert!(serde_json::from_value::<KeyPermissions>(json!(["ACCESS_READ"])).is_err());
        let a: Permissions = serde_json::from_value(json!(["ACCESS_READ"])).unwrap();
        assert!(a.contains(Permission::AccessRead));
        assert!(KeyPermissions::new(a).is_none());
        assert_eq!(Permissions::all_for_keys().iter().count(), 23);
        assert_eq!(Permissions::all().iter().count(), 25);
        assert!(s.set().is_subset(Permissions::all_for_keys()));
        assert!(!a.is_subset(s.set()));
        assert_eq!(a.missing_from(s.set()), vec!["ACCESS_READ"]);
    }
}

//! Every identifier the API names, in one place: projects, template ids, API
//! key ids and SASS key ids. Each is a newtype that only a valid string
//! becomes (parse, don't validate), read and written by serde as its string.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::hex;

macro_rules! id {
    ($(#[$doc:meta])* $name:ident, $what:literal, $valid:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The id, if `s` is one.
            pub fn parse(s: &str) -> Option<$name> {
                let valid: fn(&str) -> bool = $valid;
                valid(s).then(|| $name(s.to_string()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                let valid: fn(&str) -> bool = $valid;
                if valid(&s) {
                    Ok($name(s))
                } else {
                    Err(format!("{s:?} is not {}", $what))
                }
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

fn hex_digits(s: &str, len: usize, upper: bool) -> bool {
    let letters = if upper { b'A'..=b'F' } else { b'a'..=b'f' };
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || letters.contains(&b))
}

id!(
    /// A project (a Filerobot container token): `[a-z0-9]{1,32}`, the first
    /// path segment of most endpoints.
    Project,
    "a project (1 to 32 characters of a-z and 0-9)",
    |s| (1..=32).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
);

id!(
    /// A security template's id: `SECU_` and 32 upper-case hex digits.
    TemplateId,
    "a template id (SECU_ and 32 upper-case hex digits)",
    |s| s.strip_prefix("SECU_").is_some_and(|h| hex_digits(h, 32, true))
);

id!(
    /// An API secret key's id: `APIK_` and 32 upper-case hex digits, or
    /// `root` for the key set by `ROOT_API_KEY`.
    ApiKeyId,
    "an API key id (APIK_ and 32 upper-case hex digits, or root)",
    |s| s == ROOT_API_KEY_ID || s.strip_prefix("APIK_").is_some_and(|h| hex_digits(h, 32, true))
);

id!(
    /// An issued SASS key's id: 128 random bits as 32 lower-case hex digits.
    KeyId,
    "a key id (32 lower-case hex digits)",
    |s| hex_digits(s, 32, false)
);

id!(
    /// A stored file's id: a UUID (8-4-4-4-12 lower-case hex digits),
    /// assigned at upload and kept through renames and moves.
    FileId,
    "a file id (a UUID such as 0b6e0c4e-5d52-4f0b-9a3e-4c1de0e8a8f1)",
    |s| s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
);

/// The id under which the root key (`ROOT_API_KEY`) is shown.
pub const ROOT_API_KEY_ID: &str = "root";

impl TemplateId {
    /// A new id from 16 random bytes.
    pub fn new(random: [u8; 16]) -> TemplateId {
        TemplateId(format!("SECU_{}", hex::upper(&random)))
    }
}

impl ApiKeyId {
    pub fn new(random: [u8; 16]) -> ApiKeyId {
        ApiKeyId(format!("APIK_{}", hex::upper(&random)))
    }

    pub fn root() -> ApiKeyId {
        ApiKeyId(ROOT_API_KEY_ID.to_string())
    }

    pub fn is_root(&self) -> bool {
        self.0 == ROOT_API_KEY_ID
    }
}

impl FileId {
    /// A version 4 (random) UUID from 16 random bytes.
    pub fn new(mut random: [u8; 16]) -> FileId {
        random[6] = (random[6] & 0x0f) | 0x40;
        random[8] = (random[8] & 0x3f) | 0x80;
        let h = hex::lower(&random);
        FileId(format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        ))
    }
}

impl KeyId {
    /// An id of 16 arbitrary bytes (for names and tests); an issued key's id
    /// is made by `issued`.
    pub fn new(random: [u8; 16]) -> KeyId {
        KeyId(hex::lower(&random))
    }

    /// The id of a key that expires at `expires_at` (Unix seconds): the
    /// expiry as 4 big-endian bytes, then 12 random bytes (96 bits). A
    /// revocation by id alone thus knows how long the key can live, without
    /// a record of each issued key.
    pub fn issued(expires_at: u64, random: [u8; 12]) -> KeyId {
        let mut bytes = [0u8; 16];
        bytes[..4].copy_from_slice(&(expires_at.min(u64::from(u32::MAX)) as u32).to_be_bytes());
        bytes[4..].copy_from_slice(&random);
        KeyId(hex::lower(&bytes))
    }

    /// The expiry the id carries (its first 4 bytes).
    pub fn expires_at(&self) -> u64 {
        u64::from_str_radix(&self.0[..8], 16).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projects() {
        for ok in ["demo", "a", "abc123", &"a".repeat(32)] {
            assert!(Project::parse(ok).is_some(), "{ok}");
        }
        for bad in ["", "Demo", "a-b", "a_b", &"a".repeat(33), "é"] {
            assert!(Project::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn template_ids() {
        assert!(TemplateId::parse("SECU_3268740E1C82464B9BC350D868F966CB").is_some());
        assert!(TemplateId::parse("SECU_3268740e1c82464b9bc350d868f966cb").is_none());
        assert!(TemplateId::parse("SECU_3268740E1C82464B9BC350D868F966C").is_none());
        assert!(TemplateId::parse("3268740E1C82464B9BC350D868F966CB").is_none());
        let new = TemplateId::new([0xab; 16]);
        assert_eq!(TemplateId::parse(new.as_str()), Some(new));
    }

    #[test]
    fn api_key_ids() {
        assert!(ApiKeyId::parse("root").unwrap().is_root());
        assert!(ApiKeyId::parse(ApiKeyId::new([7; 16]).as_str()).is_some());
        assert!(ApiKeyId::parse("APIK_x").is_none());
        assert!(!ApiKeyId::new([7; 16]).is_root());
    }

    #[test]
    fn key_ids() {
        let id = KeyId::new([7; 16]);
        assert_eq!(id.as_str(), "07070707070707070707070707070707");
        let issued = KeyId::issued(1_795_324_861, [0xab; 12]);
        assert_eq!(issued.as_str(), "6b027bbdabababababababababababab");
        assert_eq!(issued.expires_at(), 1_795_324_861);
        assert_eq!(KeyId::parse(issued.as_str()), Some(issued));
        assert!(KeyId::parse("0123456789abcdef0123456789abcdef").is_some());
        assert!(KeyId::parse("0123456789ABCDEF0123456789ABCDEF").is_none());
        assert!(KeyId::parse("nope").is_none());
    }

    #[test]
    fn file_ids() {
        let id = FileId::new([0xab; 16]);
        assert_eq!(id.as_str(), "abababab-abab-4bab-abab-abababababab");
        assert_eq!(FileId::parse(id.as_str()), Some(id));
        assert!(FileId::parse("stats").is_none());
        assert!(FileId::parse("ABABABAB-ABAB-4BAB-ABAB-ABABABABABAB").is_none());
        assert!(FileId::parse("abababab-abab-4bab-abab-ababababab").is_none());
        assert!(FileId::parse("abababababab-4bab-abab-abab-abababab").is_none());
    }

    #[test]
    fn serde_reads_only_valid_ids() {
        let id: TemplateId =
            serde_json::from_str("\"SECU_3268740E1C82464B9BC350D868F966CB\"").unwrap();
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"SECU_3268740E1C82464B9BC350D868F966CB\""
        );
        let e = serde_json::from_str::<Project>("\"Bad\"").unwrap_err();
        assert!(e.to_string().contains("is not a project"), "{e}");
    }
}

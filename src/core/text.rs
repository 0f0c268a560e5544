//! Values written as JSON strings and parsed from them (a country code, a
//! directory scope, a permission name), read by serde with no copy of the
//! string made first.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserializer;
use serde::de::{self, Visitor};

/// A value written as a JSON string and parsed from it, such as a country
/// code or a directory scope.
pub trait FromText: Sized {
    /// What a refusal says the string must be, e.g. "a string".
    const EXPECTING: &'static str = "a string";
    fn from_text(text: &str) -> Result<Self, String>;
}

/// Reads a `T` from a JSON string through `T::from_text`, with no copy of
/// the string made first: for `Deserialize` impls of `FromText` types.
pub fn text<'de, D: Deserializer<'de>, T: FromText>(d: D) -> Result<T, D::Error> {
    struct TextVisitor<T>(PhantomData<T>);
    impl<T: FromText> Visitor<'_> for TextVisitor<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(T::EXPECTING)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            T::from_text(v).map_err(E::custom)
        }
    }
    d.deserialize_str(TextVisitor(PhantomData))
}

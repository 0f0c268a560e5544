//! Whole numbers from 1 to a maximum: the limits, sizes and durations of a
//! template. Zero, negative, fractional and overflowing numbers never become
//! one, so a limit of 0 cannot exist.

use std::fmt;
use std::num::{NonZeroU32, NonZeroU64};

use serde::de::{self, Unexpected, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A whole number from 1 to `MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bounded<const MAX: u64>(NonZeroU64);

/// Largest per-minute limit: 10000.
pub const MAX_PER_MIN: u64 = 10_000;
/// Largest lifetime counter.
pub const MAX_COUNT: u64 = 1_000_000_000;
/// Largest `upload.max_file_size`: 5 GiB, R2's largest single upload.
pub const MAX_FILE_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// Longest key validity, in seconds (7 days).
pub const MAX_EXPIRATION: u64 = 604_800;

/// Calls per minute.
pub type PerMinute = Bounded<MAX_PER_MIN>;
/// A count over a key's life.
pub type Lifetime = Bounded<MAX_COUNT>;
/// A file size in bytes.
pub type FileSize = Bounded<MAX_FILE_SIZE>;
/// A key validity in seconds.
pub type Validity = Bounded<MAX_EXPIRATION>;

impl<const MAX: u64> Bounded<MAX> {
    /// `n` if it is from 1 to `MAX`.
    pub const fn new(n: u64) -> Option<Self> {
        match NonZeroU64::new(n) {
            Some(v) if n <= MAX => Some(Bounded(v)),
            _ => None,
        }
    }

    /// `n`, which must be in range: for constants, where an `n` out of
    /// range fails the build.
    pub const fn must(n: u64) -> Self {
        match Self::new(n) {
            Some(v) => v,
            None => panic!("a bounded number out of range"),
        }
    }

    pub const fn get(self) -> u64 {
        self.0.get()
    }
}

impl<const MAX: u64> Bounded<MAX> {
    /// As a 32-bit count; every bound used for counters fits.
    pub fn count(self) -> NonZeroU32 {
        const { assert!(MAX <= u32::MAX as u64) };
        NonZeroU32::new(self.0.get() as u32).unwrap_or(NonZeroU32::MIN)
    }
}

impl<const MAX: u64> fmt::Display for Bounded<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<const MAX: u64> Serialize for Bounded<MAX> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0.get())
    }
}

struct BoundedVisitor<const MAX: u64>;

impl<const MAX: u64> Visitor<'_> for BoundedVisitor<MAX> {
    type Value = Bounded<MAX>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a whole number from 1 to {MAX}")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Bounded::new(v).ok_or_else(|| E::invalid_value(Unexpected::Unsigned(v), &self))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        u64::try_from(v)
            .ok()
            .and_then(Bounded::new)
            .ok_or_else(|| E::invalid_value(Unexpected::Signed(v), &self))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Err(E::invalid_value(Unexpected::Float(v), &self))
    }
}

impl<'de, const MAX: u64> Deserialize<'de> for Bounded<MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_u64(BoundedVisitor::<MAX>)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_numbers_in_range() {
        assert_eq!(serde_json::from_str::<Bounded<10>>("5").unwrap().get(), 5);
        assert_eq!(serde_json::from_str::<Bounded<10>>("10").unwrap().get(), 10);
        for bad in [
            "0",
            "-1",
            "11",
            "1.5",
            "5.0",
            "\"5\"",
            "1e300",
            "18446744073709551615",
            "null",
        ] {
            let e = serde_json::from_str::<Bounded<10>>(bad).unwrap_err();
            assert!(
                e.to_string()
                    .contains("expected a whole number from 1 to 10"),
                "{bad}: {e}"
            );
        }
        assert_eq!(
            serde_json::to_string(&Bounded::<10>::new(3).unwrap()).unwrap(),
            "3"
        );
        assert_eq!(Bounded::<10>::new(0), None);
        assert_eq!(PerMinute::new(7).unwrap().count().get(), 7);
    }
}

//! Shared pieces of sass-edge's fuzz targets: the test keyring, independent
//! re-implementations of the rules the targets hold the core to (`model`),
//! and generators that render structured input as the JSON the core reads
//! (`generate`).
//!
//! The models are written from the README, not from the core's code, so that
//! a target compares two readings of the same rule instead of one reading
//! with itself.

pub mod generate;
pub mod model;

use std::sync::OnceLock;

use sass_edge::core::id::{KeyId, Project};
use sass_edge::core::key::{self, Claims, Verified};
use sass_edge::core::signing::Keyring;

/// The committed test vectors' secret: bytes 0 to 31
/// (`tests/vectors/key_vector.py`).
pub const SECRET_B64: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
/// The vectors' issue time.
pub const NOW: u64 = 1_795_323_661;
/// `src/core/key_vector.txt`: a key signed with `k1` and `SECRET_B64`.
pub const KEY_VECTOR: &str = include_str!("../../src/core/key_vector.txt");
/// `src/core/key_vector_sorted.txt`: the same claims, first encoding.
pub const KEY_VECTOR_SORTED: &str = include_str!("../../src/core/key_vector_sorted.txt");

/// The keyring `k1:SECRET_B64`, as the vectors use it.
pub fn ring() -> &'static Keyring {
    static RING: OnceLock<Keyring> = OnceLock::new();
    RING.get_or_init(|| Keyring::parse(&format!("k1:{SECRET_B64}")).expect("the test ring"))
}

/// The secret's bytes, for an HMAC computed apart from the core.
pub fn secret() -> Vec<u8> {
    (0u8..32).collect()
}

pub fn demo() -> Project {
    Project::parse("demo").expect("demo is a project")
}

/// Claims signed with the test ring, then verified at `now`: the only way
/// to get a `Verified`.
pub fn verified(claims: &Claims, now: u64) -> Verified {
    let key = key::sign(claims, ring().signer());
    match key::verify(&key, ring(), now) {
        Ok(v) => v,
        Err(e) => panic!("a key just signed does not verify: {e:?}\nkey: {key}"),
    }
}

/// The 12 random bytes of a key id (`KeyId::issued`), here fixed.
pub fn nonce(n: u8) -> [u8; 12] {
    [n; 12]
}

/// The id of a key that expires at `expires_at`, as sass-edge issues it:
/// verification refuses a key whose id does not carry its expiry.
pub fn key_id(expires_at: u64, n: u8) -> KeyId {
    KeyId::issued(expires_at, nonce(n))
}

/// With `SASS_FUZZ_STATS=1`, prints `stat: {what}` to stderr: run a
/// corpus with `-runs=0` and count the lines to see how deep inputs reach.
pub fn stat(what: &str) {
    static ON: OnceLock<bool> = OnceLock::new();
    if *ON.get_or_init(|| std::env::var_os("SASS_FUZZ_STATS").is_some_and(|v| v == "1")) {
        eprintln!("stat: {what}");
    }
}
